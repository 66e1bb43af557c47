"""Deployment exports: SavedModel (TF Serving layout) and TFLite (LiteRT).

Both take uint8 images and return uint8 images, with the scaling, padding and
rounding inside the graph, so they run without unit_tf or Keras.

Examples:
    >>> import unit_tf
    >>> from unit_tf.export import export_saved_model, export_tflite
    >>> t = unit_tf.zoo.load("map_sat2map")
    >>> export_saved_model(t, "/srv/models", "map_sat2map", version=1)
    '/srv/models/map_sat2map/1'
    >>> export_tflite(t, "map_sat2map.tflite", quantize="float16")
    'map_sat2map.tflite'
"""

from unit_tf.export.saved_model import (SIGNATURES, SavedModelTranslator,
                                        export_saved_model, find_saved_model)
from unit_tf.export.tflite import (QUANTIZATIONS, TFLITE_SIGNATURES, TFLiteTranslator,
                                   export_tflite)

__all__ = ["QUANTIZATIONS", "SIGNATURES", "SavedModelTranslator", "TFLITE_SIGNATURES",
           "TFLiteTranslator", "export_saved_model", "export_tflite", "find_saved_model"]
