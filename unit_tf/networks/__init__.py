"""Networks built from presets: coupled encoders, generators and discriminators."""

from unit_tf.networks.coupled import CoupledNetwork, resolve_specs
from unit_tf.networks.presets import PRESETS, Preset, get_preset
from unit_tf.networks.style import StyleEncoder, style_encoder_specs

__all__ = ["CoupledNetwork", "PRESETS", "Preset", "StyleEncoder", "get_preset",
           "resolve_specs", "style_encoder_specs"]
