"""The UNIT model and its objective."""

from unit_tf.models import losses
from unit_tf.models.classifier import SourceOnlyClassifier
from unit_tf.models.unit import UNIT

__all__ = ["SourceOnlyClassifier", "UNIT", "losses"]
