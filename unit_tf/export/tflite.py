"""TFLite export: one file, two signature runners, uint8 in and out.

The file holds the signatures `translate_a2b` and `translate_b2a`, each
`{"images": uint8 [1, H, W, C]} -> {"images": uint8 [1, H, W, C']}`
for the one size chosen at export (default: the preset's training size).
Scaling to [-1, 1], padding to the size divisor (when the size is not a
multiple of it), the crop back and the rounding to uint8 are inside the
graph, as in the SavedModel export, so a phone app feeds camera pixels
directly. The shapes are static, batch included (default 1): with a free
batch dimension (`batch=None`) the converter keeps shape arithmetic in the
graph and LiteRT's XNNPACK delegate leaves the dynamic-range int8 kernels to
slow fallbacks (`tools/benchmark.py --experiment free_batch` measures it).
`TFLiteTranslator` feeds a file of static batch n in chunks of n.

Quantisation (`quantize=`):
    "none"     float32 weights and activations.
    "float16"  float16 weights, dequantised to float32 when the model loads.
    "int8"     dynamic-range quantisation: int8 weights; activations are
               quantised on the fly where a kernel supports it.

Run with LiteRT (`tf.lite.Interpreter` is deprecated):

    from ai_edge_litert.interpreter import Interpreter
    runner = Interpreter("model.tflite").get_signature_runner("translate_a2b")
    out = runner(images=uint8_image[None])["images"][0]
"""

import os
import tempfile

import numpy as np
import tensorflow as tf

from unit_tf.export import _graph
from unit_tf.fileio import atomic_write
from unit_tf.export.saved_model import TranslationModule
from unit_tf.translator import BaseTranslator

QUANTIZATIONS = ("none", "float16", "int8")
TFLITE_SIGNATURES = ("translate_a2b", "translate_b2a")


def _resolve_size(preset, size):
    if size is None:
        return preset.image_size, preset.image_size
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (int(size), int(size))
    try:
        h, w = (int(s) for s in size)
    except (TypeError, ValueError):
        raise ValueError(f"size must be an int or (height, width), got {size!r}.") from None
    if h < 1 or w < 1:
        raise ValueError(f"size must be positive, got {size!r}.")
    if preset.fixed_size and (h, w) != (preset.image_size, preset.image_size):
        raise ValueError(f"preset {preset.name!r} takes only {preset.image_size}x"
                         f"{preset.image_size} images; got size {h}x{w}.")
    return h, w


def export_tflite(model_or_translator, path, quantize="none", size=None, batch=1):
    """Writes a `.tflite` file with `translate_a2b` and `translate_b2a` runners.

    Args:
        model_or_translator: a `unit_tf.UNIT` or a `Translator`.
        path: the output file (written to a temporary file, then renamed).
        quantize: "none", "float16" or "int8" (dynamic range).
        size: the input size, an int (square) or (height, width); default the
            preset's `image_size`. Fixed-size presets take only theirs.
        batch: the static batch size, default 1 (one camera frame); None
            leaves it free, which LiteRT runs much slower.

    Returns:
        The path written.

    Examples:
        >>> export_tflite(unit_tf.UNIT("tiny"), "tiny.tflite", quantize="float16", size=64)
        'tiny.tflite'
        >>> from ai_edge_litert.interpreter import Interpreter
        >>> runner = Interpreter("tiny.tflite").get_signature_runner("translate_a2b")
        >>> runner(images=np.zeros((1, 64, 64, 3), np.uint8))["images"].shape
        (1, 64, 64, 3)
    """
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"quantize must be one of {QUANTIZATIONS}, got {quantize!r}.")
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, (int, np.integer))
                              or batch < 1):
        raise ValueError(f"batch must be a positive int or None (free), got {batch!r}.")
    model, domain_a, domain_b = _graph.unpack(model_or_translator)
    h, w = _resolve_size(model.preset, size)
    path = os.fspath(path)
    module = TranslationModule(model, domain_a, domain_b, height=h, width=w, batch=batch,
                               checks=False, bytes_signatures=False)
    with tempfile.TemporaryDirectory() as tmp:
        # Through a SavedModel: its signature keys become the runner names, and
        # the converter freezes the saved variables into constants.
        tf.saved_model.save(module, tmp, signatures={
            name: getattr(module, name) for name in TFLITE_SIGNATURES})
        converter = tf.lite.TFLiteConverter.from_saved_model(
            tmp, signature_keys=list(TFLITE_SIGNATURES))
        # Built-in ops only: LiteRT's Python wheel has no TF-ops delegate.
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if quantize != "none":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "float16":
            converter.target_spec.supported_types = [tf.float16]
        data = converter.convert()
    atomic_write(path, data)
    return path


class TFLiteTranslator(BaseTranslator):
    """A `Translator`-like object over an exported `.tflite` file (LiteRT).

    Args:
        path: the `.tflite` file.
        domain_names: names of domains A and B (a TFLite file does not carry
            them); default ("a", "b").
        num_threads: LiteRT threads.

    Examples:
        >>> t = TFLiteTranslator("tiny.tflite", domain_names=("x", "y"))
        >>> t.translate_a2b(np.zeros((2, 64, 64, 3), np.uint8)).shape
        (2, 64, 64, 3)
    """

    def __init__(self, path, domain_names=("a", "b"), num_threads=None):
        from ai_edge_litert.interpreter import Interpreter

        self.path = os.fspath(path)
        self.name = os.path.basename(self.path)
        self.domain_a, self.domain_b = domain_names
        self._interpreter = Interpreter(model_path=self.path, num_threads=num_threads)
        found = self._interpreter.get_signature_list()
        missing = [s for s in TFLITE_SIGNATURES if s not in found]
        if missing:
            raise ValueError(f"{self.path} is not a unit_tf export: signatures {missing} "
                             f"are missing (found {sorted(found)}).")
        self._runners = {d: self._interpreter.get_signature_runner(f"translate_{d}")
                         for d in _graph.DIRECTIONS}
        self.input_shapes = {
            d: tuple(int(s) for s in r.get_input_details()["images"]["shape_signature"])
            for d, r in self._runners.items()}

    def _run(self, images, direction):
        n, h, w, c = self.input_shapes[direction]
        if images.shape[1:] != (h, w, c):
            raise ValueError(f"{self.name}: translate_{direction} takes [batch, {h}, {w}, "
                             f"{c}] uint8 images (the size fixed at export), got shape "
                             f"{images.shape}.")
        runner = self._runners[direction]
        if n < 1:  # a free batch dimension: the whole batch at once
            return runner(images=np.ascontiguousarray(images))["images"]
        count = len(images)
        if count % n:  # the last chunk is filled up with copies of the last image
            images = np.concatenate([images, np.repeat(images[-1:], n - count % n, axis=0)])
        return np.concatenate([runner(images=np.ascontiguousarray(images[i:i + n]))["images"]
                               for i in range(0, len(images), n)])[:count]
