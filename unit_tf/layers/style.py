"""How a generator reads a style code (`unit_tf.networks.StyleEncoder` makes it).

Not part of UNIT. UNIT's generator draws a translation from the shared code
alone, so everything the code does not hold (the photo behind an MNIST-M
digit, which an MNIST digit has no counterpart of) comes out the same for
every input. Content/style models (MUNIT, Huang et al. 2018; DRIT, Lee et
al. 2018) add a per-domain style vector: an encoder reads it from a real
image, and a translation draws it from the prior N(0, I). See BUILD_NOTES
"A style code for domain B".
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="unit_tf")
class StyleModulation(keras.layers.Layer):
    """FiLM: h * (1 + gamma(s)) + beta(s), per channel, from a style vector s.

    The dense layer giving gamma and beta starts at zero, so an untrained
    modulation is the identity and the generator starts as UNIT's.
    """

    def build(self, input_shape):
        self.channels = int(input_shape[-1])
        self.film = keras.layers.Dense(2 * self.channels, kernel_initializer="zeros",
                                       name="film")
        self.built = True

    def call(self, h, style):
        params = ops.cast(self.film(ops.cast(style, self.compute_dtype)), h.dtype)
        gamma, beta = params[:, None, None, :self.channels], params[:, None, None, self.channels:]
        return h * (1 + gamma) + beta
