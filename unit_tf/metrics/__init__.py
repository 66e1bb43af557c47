"""Evaluation metrics (numpy), each with its exact definition in its docstring.

- `maps`: pixel accuracies (a)-(c), RMSE and map-class mIoU (d) for
  satellite -> map, and the search for their best constant-colour baselines.
- `digits`: colour-free distance to the known translation of toy digits.
- `adaptation`: target-domain classification accuracy.
- `evaluation`: the tasks end to end (data, model, metrics, baselines), as
  used by tools/evaluate.py.
"""

from unit_tf.metrics.adaptation import classification_accuracy
from unit_tf.metrics.digits import toy_digit_distance, toy_digit_distances
from unit_tf.metrics.maps import (CLASS_NAMES, DEFINITIONS, PALETTE, ConstantSearch,
                                  MapScores, best_indicator_constant, best_rmse_constant,
                                  class_confusion, iou_from_confusion, map_classes,
                                  max_channel_accuracy, rgb_distance_accuracy,
                                  rmse_per_image)

__all__ = [
    "CLASS_NAMES", "DEFINITIONS", "PALETTE", "ConstantSearch", "MapScores",
    "best_indicator_constant", "best_rmse_constant", "class_confusion",
    "classification_accuracy", "iou_from_confusion", "map_classes",
    "max_channel_accuracy", "rgb_distance_accuracy", "rmse_per_image",
    "toy_digit_distance", "toy_digit_distances",
]
