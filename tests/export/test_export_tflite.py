"""TFLite export run with LiteRT: parity per quantisation, sizes, signatures."""

import os

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

import unit_tf
from unit_tf.export import TFLiteTranslator, export_tflite
from unit_tf.translator import load

# Bounds on the difference from the Keras model, in levels of 255, for the
# tiny preset on real 32x32 crops (measured over init seeds 0-2; the largest
# seen is in the comment). int8 is dynamic-range quantisation, whose per-pixel
# error is large on narrow layers; its mean error is the meaningful figure.
BOUNDS = {             # (max, mean)
    "none": (1, 0.01),      # measured max 1, mean 0.000
    "float16": (2, 0.1),    # measured max 1, mean <= 0.05
    "int8": (64, 5.0),      # measured max 48, mean <= 3.3
}


def _diff(x, y):
    d = np.abs(x.astype(np.int16) - y.astype(np.int16))
    return int(d.max()), float(d.mean())


def test_signatures_and_io(tflite_files):
    interpreter = Interpreter(model_path=str(tflite_files["none"]))
    signatures = interpreter.get_signature_list()
    assert signatures == {"translate_a2b": {"inputs": ["images"], "outputs": ["images"]},
                          "translate_b2a": {"inputs": ["images"], "outputs": ["images"]}}
    runner = interpreter.get_signature_runner("translate_a2b")
    spec = runner.get_input_details()["images"]
    assert spec["dtype"] == np.uint8 and list(spec["shape_signature"]) == [1, 32, 32, 3]
    assert runner.get_output_details()["images"]["dtype"] == np.uint8


@pytest.mark.parametrize("quantize", ["none", "float16", "int8"])
def test_parity_with_keras(quantize, tflite_files, translator, crops):
    t = TFLiteTranslator(tflite_files[quantize], domain_names=("x", "y"))
    assert t.directions == translator.directions
    max_bound, mean_bound = BOUNDS[quantize]
    for direction, x in (("a2b", crops["a"]), ("b2a", crops["b"])):
        got = getattr(t, f"translate_{direction}")(x)
        assert got.shape == x.shape and got.dtype == np.uint8
        worst, mean = _diff(got, getattr(translator, f"translate_{direction}")(x))
        assert worst <= max_bound and mean <= mean_bound, (quantize, direction, worst, mean)


def test_graph_is_static_and_reshape_free(tflite_files):
    # XNNPACK takes the whole graph only without shape arithmetic: a free batch
    # dimension and the grouped form of instance norm (reshapes) made LiteRT
    # 2-7x slower than Keras at 256x256; now int8 is 3x faster.
    for quantize, path in tflite_files.items():
        ops = {op["op_name"] for op in Interpreter(model_path=str(path))._get_ops_details()}
        assert "MEAN" in ops and "CONV_2D" in ops, ops  # instance norm, convolutions
        assert not ops & {"SHAPE", "RESHAPE", "PACK"}, (quantize, sorted(ops))


def test_file_sizes_shrink_with_quantisation(tflite_files):
    sizes = {q: os.path.getsize(p) for q, p in tflite_files.items()}
    # tiny: none ~201 kB, float16 ~141 kB, int8 ~109 kB
    assert sizes["int8"] < sizes["float16"] < sizes["none"], sizes


def test_batches_and_single_images_work(tflite_files, translator, crops):
    t = load(tflite_files["none"])
    assert isinstance(t, TFLiteTranslator)
    x = np.concatenate([crops["a"], crops["a"][:1]])
    assert _diff(t.translate_a2b(x), translator.translate_a2b(x))[0] <= 1
    assert t.translate_a2b(crops["a"][0]).shape == (32, 32, 3)


def test_free_batch(tmp_path, translator, crops):
    path = export_tflite(translator, tmp_path / "b.tflite", size=32, batch=None)
    t = TFLiteTranslator(path)
    assert t.input_shapes["a2b"][0] == -1
    x = np.concatenate([crops["a"], crops["a"][:1]])  # an odd count
    assert _diff(t.translate_a2b(x), translator.translate_a2b(x))[0] <= 1


def test_larger_static_batch_at_a_size_not_a_multiple_of_the_divisor(tmp_path, translator):
    # One export for both: a static batch of 2 fed an odd count, and a size
    # the graph pads to the size divisor and crops back.
    path = export_tflite(translator, tmp_path / "odd.tflite", size=(30, 45), batch=2)
    t = TFLiteTranslator(path)
    assert t.input_shapes["a2b"][0] == 2
    x = np.random.default_rng(3).integers(0, 256, (3, 30, 45, 3), dtype=np.uint8)
    assert _diff(t.translate_a2b(x), translator.translate_a2b(x))[0] <= 1
    assert [f for f in os.listdir(tmp_path)] == ["odd.tflite"], "no temporary files left"


def test_wrong_inputs_and_arguments(tflite_files, translator, tmp_path):
    t = TFLiteTranslator(tflite_files["none"])
    with pytest.raises(TypeError, match="uint8"):
        t.translate_a2b(np.zeros((1, 32, 32, 3), np.float32))
    with pytest.raises(ValueError, match=r"\[batch, 32, 32, 3\]"):
        t.translate_a2b(np.zeros((1, 64, 64, 3), np.uint8))
    with pytest.raises(ValueError, match="quantize must be one of"):
        export_tflite(translator, tmp_path / "x.tflite", quantize="int4")
    with pytest.raises(ValueError, match="size must be"):
        export_tflite(translator, tmp_path / "x.tflite", size=(0, 32))
    with pytest.raises(ValueError, match="batch must be a positive int or None"):
        export_tflite(translator, tmp_path / "x.tflite", batch=0)
    digits = unit_tf.UNIT("digits", overrides={"width": 8}, discriminators=False)
    with pytest.raises(ValueError, match="takes only 32x32"):
        export_tflite(digits, tmp_path / "x.tflite", size=64)
    assert not os.path.exists(tmp_path / "x.tflite")


def test_translate_scale_runs_in_builtins(tmp_path, half_scale_translator):
    # The resize by translate_scale is matmuls, not the antialiased resize
    # op TFLite's builtins lack; LiteRT matches Keras at a size whose half
    # needs padding to the size divisor.
    path = export_tflite(half_scale_translator, tmp_path / "half.tflite", size=(50, 38))
    ops = {op["op_name"] for op in Interpreter(model_path=str(path))._get_ops_details()}
    assert not any(op.startswith("FLEX") or op == "CUSTOM" for op in ops), sorted(ops)
    x = np.random.default_rng(2).integers(0, 256, (1, 50, 38, 3), dtype=np.uint8)
    got = TFLiteTranslator(path).translate_a2b(x)
    assert got.shape == x.shape
    assert _diff(got, half_scale_translator.translate_a2b(x))[0] <= 1
