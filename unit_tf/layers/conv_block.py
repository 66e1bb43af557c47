import keras

from unit_tf.layers.norms import make_activation, make_norm


@keras.saving.register_keras_serializable(package="unit_tf")
class ConvBlock(keras.layers.Layer):
    """Convolution, optional batch/instance norm, activation.

    The `CONV-(N, K, S), norm, activation` row of the paper's tables.

    Args:
        filters: output channels (N).
        kernel_size: square kernel size (K).
        strides: stride (S).
        padding: "same" or "valid".
        norm: "none", "batch" or "instance".
        activation: "none", "relu", "lrelu", "tanh", "sigmoid" or "softplus".
        leaky_slope: negative slope of "lrelu".
        transpose: use a transposed convolution (the tables' DCONV).

    Examples:
        >>> block = ConvBlock(64, 7, norm="none", activation="lrelu")
        >>> block(keras.ops.zeros((1, 32, 32, 3))).shape
        (1, 32, 32, 64)
    """

    def __init__(self, filters, kernel_size, strides=1, padding="same",
                 norm="none", activation="none", leaky_slope=0.2,
                 transpose=False, **kwargs):
        super().__init__(**kwargs)
        if filters <= 0 or kernel_size <= 0 or strides <= 0:
            raise ValueError(
                f"{self.name}: filters, kernel_size and strides must be positive, "
                f"got {filters}, {kernel_size}, {strides}.")
        if padding not in ("same", "valid"):
            raise ValueError(f"{self.name}: padding must be 'same' or 'valid', got {padding!r}.")
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.padding = padding
        self.norm = norm
        self.activation = activation
        self.leaky_slope = leaky_slope
        self.transpose = transpose
        conv_cls = keras.layers.Conv2DTranspose if transpose else keras.layers.Conv2D
        # A norm right after the convolution makes its bias redundant.
        self.conv = conv_cls(filters, kernel_size, strides=strides, padding=padding,
                             use_bias=norm == "none", name="conv")
        self.norm_layer = make_norm(norm, "norm")
        self.act_layer = make_activation(activation, leaky_slope, "act")

    def build(self, input_shape):
        self.conv.build(input_shape)
        out_shape = self.conv.compute_output_shape(input_shape)
        if self.norm_layer is not None:
            self.norm_layer.build(out_shape)

    def call(self, x, training=None):
        x = self.conv(x)
        if self.norm_layer is not None:
            x = self.norm_layer(x, training=training)
        if self.act_layer is not None:
            x = self.act_layer(x)
        return x

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "norm": self.norm,
                "activation": self.activation, "leaky_slope": self.leaky_slope,
                "transpose": self.transpose}


@keras.saving.register_keras_serializable(package="unit_tf")
class ConvTransposeBlock(ConvBlock):
    """Transposed convolution, optional norm, activation: the tables' DCONV row.

    Same arguments as `ConvBlock` (without `transpose`). With "same" padding
    and stride S the output is S times the input size.
    """

    def __init__(self, filters, kernel_size, strides=1, **kwargs):
        kwargs.pop("transpose", None)
        super().__init__(filters, kernel_size, strides, transpose=True, **kwargs)
