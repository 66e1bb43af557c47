import keras

from unit_tf.layers.conv_block import ConvBlock


@keras.saving.register_keras_serializable(package="unit_tf")
class ResidualBlock(keras.layers.Layer):
    """Basic residual block: conv3x3-norm-ReLU-conv3x3-norm plus identity.

    The RESBLK row of NIPS 2017 Table 3. No activation follows the sum.

    Args:
        filters: channels of both convolutions; must equal the input channels.
        kernel_size: kernel of both convolutions.
        norm: "none", "batch" or "instance".
        activation: activation between the two convolutions.
        leaky_slope: negative slope when `activation="lrelu"`.
    """

    def __init__(self, filters, kernel_size=3, norm="instance", activation="relu",
                 leaky_slope=0.2, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = kernel_size
        self.norm = norm
        self.activation = activation
        self.leaky_slope = leaky_slope
        self.conv1 = ConvBlock(filters, kernel_size, norm=norm, activation=activation,
                               leaky_slope=leaky_slope, name="conv1")
        self.conv2 = ConvBlock(filters, kernel_size, norm=norm, activation="none",
                               name="conv2")

    def build(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] != self.filters:
            raise ValueError(
                f"{self.name}: a residual block keeps the channel count; input has "
                f"{input_shape[-1]} channels but filters={self.filters}.")
        self.conv1.build(input_shape)
        self.conv2.build(self.conv1.compute_output_shape(input_shape))

    def call(self, x, training=None):
        return x + self.conv2(self.conv1(x, training=training), training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "norm": self.norm,
                "activation": self.activation, "leaky_slope": self.leaky_slope}
