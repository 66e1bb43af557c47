"""unit_tf: UNIT unsupervised image-to-image translation for Keras 3 / TensorFlow."""

from unit_tf.models import UNIT, SourceOnlyClassifier, losses
from unit_tf.networks import PRESETS, Preset, get_preset

__version__ = "0.1.0"
__all__ = ["PRESETS", "Preset", "SourceOnlyClassifier", "UNIT", "get_preset", "losses"]

from unit_tf import export, zoo  # noqa: E402  (unit_tf.zoo.load(...) after `import unit_tf`)
