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
        dropout: rate of a dropout at the end of the branch, before the sum
            (the authors' `INSResBlock`; active only while training).
    """

    def __init__(self, filters, kernel_size=3, norm="instance", activation="relu",
                 leaky_slope=0.2, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = kernel_size
        self.norm = norm
        self.activation = activation
        self.leaky_slope = leaky_slope
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{self.name}: dropout must be in [0, 1), got {dropout!r}.")
        self.dropout = dropout
        self.conv1 = ConvBlock(filters, kernel_size, norm=norm, activation=activation,
                               leaky_slope=leaky_slope, name="conv1")
        self.conv2 = ConvBlock(filters, kernel_size, norm=norm, activation="none",
                               name="conv2")
        self.drop = keras.layers.Dropout(dropout, name="dropout") if dropout else None

    def build(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] != self.filters:
            raise ValueError(
                f"{self.name}: a residual block keeps the channel count; input has "
                f"{input_shape[-1]} channels but filters={self.filters}.")
        self.conv1.build(input_shape)
        self.conv2.build(self.conv1.compute_output_shape(input_shape))

    def call(self, x, training=None):
        branch = self.conv2(self.conv1(x, training=training), training=training)
        if self.drop is not None:
            branch = self.drop(branch, training=training)
        return x + branch

    def compute_output_shape(self, input_shape):
        return input_shape

    # As in GaussianLatent: Keras does not save the dropout's SeedGenerator
    # state, so resumed training would draw other masks.
    def save_own_variables(self, store):
        super().save_own_variables(store)
        if self.drop is not None:
            store["dropout_seed_state"] = self.drop.seed_generator.state.numpy()

    def load_own_variables(self, store):
        keys = list(store.keys())
        if self.drop is not None and "dropout_seed_state" in keys:
            self.drop.seed_generator.state.assign(store["dropout_seed_state"])
        super().load_own_variables({k: store[k] for k in keys if k != "dropout_seed_state"})

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "norm": self.norm,
                "activation": self.activation, "leaky_slope": self.leaky_slope,
                "dropout": self.dropout}
