"""Networks built from presets: coupled encoders, generators and discriminators."""

from unit_tf.networks.coupled import CoupledNetwork, resolve_specs
from unit_tf.networks.presets import PRESETS, Preset, get_preset

__all__ = ["CoupledNetwork", "PRESETS", "Preset", "get_preset", "resolve_specs"]
