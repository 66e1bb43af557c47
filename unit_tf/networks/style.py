import itertools

import keras
from keras import ops

from unit_tf.networks.specs import build_layer


def style_encoder_specs(encoder_specs):
    """The encoder's leading convolutions (before its first residual block), no norms.

    Instance normalisation would erase the per-image statistics a style is
    made of (MUNIT's style encoder has none either).
    """
    front = itertools.takewhile(lambda s: s["type"] == "conv", encoder_specs)
    return [dict(s, norm="none") for s in front]


@keras.saving.register_keras_serializable(package="unit_tf")
class StyleEncoder(keras.layers.Layer):
    """Image -> style vector: convolutions, global average pooling, a dense layer.

    Not part of UNIT: the style code of content/style models (MUNIT, Huang
    et al. 2018; DRIT, Lee et al. 2018), which UNIT's generator reads through
    `unit_tf.layers.StyleModulation`. See BUILD_NOTES "A style code for
    domain B".

    Args:
        specs: resolved conv specs (`style_encoder_specs`).
        style_dim: length of the style vector.
    """

    def __init__(self, specs, style_dim, leaky_slope=0.2, **kwargs):
        super().__init__(**kwargs)
        self.specs = [dict(s) for s in specs]
        self.style_dim = style_dim
        self.leaky_slope = leaky_slope
        self.convs = [build_layer(s, f"layer{i}", leaky_slope) for i, s in enumerate(self.specs)]
        self.pool = keras.layers.GlobalAveragePooling2D(name="pool")
        self.out = keras.layers.Dense(style_dim, name="style")

    def call(self, x, training=None):
        for conv in self.convs:
            x = conv(x, training=training)
        return ops.cast(self.out(self.pool(x)), "float32")

    def get_config(self):
        return {**super().get_config(), "specs": self.specs, "style_dim": self.style_dim,
                "leaky_slope": self.leaky_slope}
