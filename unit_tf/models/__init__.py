"""The UNIT model and its objective."""

from unit_tf.models import losses
from unit_tf.models.unit import UNIT

__all__ = ["UNIT", "losses"]
