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
        padding: "same", "valid", or an integer p: PyTorch's symmetric zero
            padding (the authors' code). Keras' "same" pads a stride-2 3x3
            convolution of an even size by (0, 1), PyTorch's p=1 by (1, 1),
            so the two are not the same network.
        output_padding: transposed convolutions with an integer `padding`
            only: PyTorch's `output_padding` (extra rows and columns at the
            end of the output), at most `padding`.
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
                 transpose=False, output_padding=0, **kwargs):
        super().__init__(**kwargs)
        if filters <= 0 or kernel_size <= 0 or strides <= 0:
            raise ValueError(
                f"{self.name}: filters, kernel_size and strides must be positive, "
                f"got {filters}, {kernel_size}, {strides}.")
        explicit = isinstance(padding, int) and not isinstance(padding, bool)
        if not (padding in ("same", "valid") or (explicit and padding >= 0)):
            raise ValueError(f"{self.name}: padding must be 'same', 'valid' or a "
                             f"non-negative integer, got {padding!r}.")
        if output_padding and not (transpose and explicit and 0 <= output_padding <= padding):
            raise ValueError(
                f"{self.name}: output_padding={output_padding!r} needs a transposed "
                f"convolution with an integer padding of at least that much (got "
                f"padding={padding!r}).")
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.padding = padding
        self.norm = norm
        self.activation = activation
        self.leaky_slope = leaky_slope
        self.transpose = transpose
        self.output_padding = output_padding
        conv_cls = keras.layers.Conv2DTranspose if transpose else keras.layers.Conv2D
        # A norm right after the convolution makes its bias redundant.
        self.conv = conv_cls(filters, kernel_size, strides=strides,
                             padding="valid" if explicit else padding,
                             use_bias=norm == "none", name="conv")
        # PyTorch's padding p: a convolution sees p zeros on every side; a
        # transposed one drops p rows and columns at the start of its full
        # output and p - output_padding at the end.
        self.pad = self.crop = None
        if explicit and padding and not transpose:
            self.pad = keras.layers.ZeroPadding2D(padding, name="pad")
        if explicit and padding and transpose:
            end = padding - output_padding
            self.crop = keras.layers.Cropping2D(((padding, end), (padding, end)), name="crop")
        self.norm_layer = make_norm(norm, "norm")
        self.act_layer = make_activation(activation, leaky_slope, "act")

    def build(self, input_shape):
        padded = input_shape if self.pad is None else self.pad.compute_output_shape(input_shape)
        self.conv.build(padded)
        if self.norm_layer is not None:
            self.norm_layer.build(self.compute_output_shape(input_shape))

    def call(self, x, training=None):
        if self.pad is not None:
            x = self.pad(x)
        x = self.conv(x)
        if self.crop is not None:
            x = self.crop(x)
        if self.norm_layer is not None:
            x = self.norm_layer(x, training=training)
        if self.act_layer is not None:
            x = self.act_layer(x)
        return x

    def compute_output_shape(self, input_shape):
        if self.pad is not None:
            input_shape = self.pad.compute_output_shape(input_shape)
        shape = self.conv.compute_output_shape(input_shape)
        return self.crop.compute_output_shape(shape) if self.crop is not None else shape

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "norm": self.norm,
                "activation": self.activation, "leaky_slope": self.leaky_slope,
                "transpose": self.transpose, "output_padding": self.output_padding}


@keras.saving.register_keras_serializable(package="unit_tf")
class ConvTransposeBlock(ConvBlock):
    """Transposed convolution, optional norm, activation: the tables' DCONV row.

    Same arguments as `ConvBlock` (without `transpose`). With "same" padding
    and stride S the output is S times the input size.
    """

    def __init__(self, filters, kernel_size, strides=1, **kwargs):
        kwargs.pop("transpose", None)
        super().__init__(filters, kernel_size, strides, transpose=True, **kwargs)
