"""The authors' COCOResGen2 imported into unit_tf: parity with their own outputs.

The fixture (tests/importers/fixtures/unit_v02_generator, see its README) was
made by running the authors' public code with random weights in eval mode.
"""

import copy
import os
import sys

import numpy as np
import pytest
import yaml

import unit_tf
from unit_tf.export import TFLiteTranslator, export_saved_model, export_tflite
from unit_tf.export.saved_model import SavedModelTranslator
from unit_tf.importers import (CheckpointError, CheckpointMismatchError, ImportConfigError,
                               gen_preset, import_generator, load_generator, parameter_map,
                               read_gen_config, read_state_dict, validate_gen)
from unit_tf.networks import get_preset
from unit_tf.networks.presets import UNIT_V02_GEN
from unit_tf.translator import Translator
from unit_tf.zoo import preset_overrides

sys.path.insert(0, os.path.dirname(__file__))
from torch_files import legacy_bytes  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "unit_v02_generator")
CONFIG = os.path.join(FIXTURE, "config.yaml")
CHECKPOINTS = ("gen_legacy.pkl", "gen_zip.pt")
# Max absolute difference on the [-1, 1] image scale, and relative to the
# shared code's largest magnitude (about 10).
IMAGE_BOUND = 1e-4
CODE_BOUND = 1e-4


def nhwc(x):
    return np.transpose(x, (0, 2, 3, 1))


@pytest.fixture(scope="module")
def expected():
    with np.load(os.path.join(FIXTURE, "expected.npz")) as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def state():
    return read_state_dict(os.path.join(FIXTURE, "gen_legacy.pkl"))


@pytest.fixture(scope="module")
def model():
    return import_generator(CONFIG, os.path.join(FIXTURE, "gen_legacy.pkl"),
                            domain_names=("x", "y"))


def worst(got, reference):
    return float(np.abs(np.asarray(got) - reference).max())


def test_preset_is_the_released_block_with_the_fixture_width():
    gen = read_gen_config(CONFIG)
    assert gen == dict(UNIT_V02_GEN, ch=8)  # the released models' keys, at base width 8
    preset = gen_preset(gen)
    assert preset_overrides(preset) == ("unit_v02", {"width": 8})
    p = get_preset("unit_v02")
    assert p.leaky_slope == 0.01 and (p.shared_encoder, p.shared_generator) == (1, 1)
    front, back = p.encoder[:3], p.generator[-3:]
    assert [(s["kernel"], s["stride"], s["padding"], s["norm"], s["act"]) for s in front] == [
        (7, 1, 3, "none", "lrelu"), (3, 2, 1, "none", "lrelu"), (3, 2, 1, "none", "lrelu")]
    assert [(s["kernel"], s["stride"], s["padding"], s.get("output_padding"), s["act"])
            for s in back] == [(3, 2, 1, 1, "lrelu"), (3, 2, 1, 1, "lrelu"),
                               (1, 1, 0, None, "tanh")]
    res = [s for s in p.encoder + p.generator if s["type"] == "res"]
    assert len(res) == 8 and all(s["dropout"] == 0.5 and s["norm"] == "instance" for s in res)


@pytest.mark.parametrize("checkpoint", CHECKPOINTS)
def test_translations_and_shared_code_match_the_authors(checkpoint, expected):
    m = import_generator(CONFIG, os.path.join(FIXTURE, checkpoint))
    assert m.discriminators == [] and m.preset.name == "unit_v02"
    assert worst(m.translate_a2b(nhwc(expected["x_a"])), nhwc(expected["a2b"])) <= IMAGE_BOUND
    assert worst(m.translate_b2a(nhwc(expected["x_b"])), nhwc(expected["b2a"])) <= IMAGE_BOUND
    odd = m.translate_a2b(nhwc(expected["x_odd"]))
    assert odd.shape == (1, 48, 80, 3)
    assert worst(odd, nhwc(expected["a2b_odd"])) <= IMAGE_BOUND
    for domain in ("a", "b"):
        code = nhwc(expected[f"shared_{domain}"])
        got = m.encode(nhwc(expected[f"x_{domain}"]), domain)["mu"]
        assert worst(got, code) <= CODE_BOUND * np.abs(code).max(), domain


def test_pytorch_padding_is_what_makes_the_parity(state, expected):
    """Keras "same" padding (a stride-2 layer pads (0, 1), PyTorch (1, 1)) misses it."""
    p = gen_preset(read_gen_config(CONFIG))
    same = lambda specs: tuple(dict(s, padding="same", **({"output_padding": 0}
                                                          if "output_padding" in s else {}))
                               if s["type"] in ("conv", "dconv") else s for s in specs)
    keras_padded = unit_tf.UNIT(get_preset(p, encoder=same(p.encoder),
                                           generator=same(p.generator)), discriminators=False)
    load_generator(keras_padded, state)
    assert worst(keras_padded.translate_a2b(nhwc(expected["x_a"])),
                 nhwc(expected["a2b"])) > 100 * IMAGE_BOUND


def test_dropout_only_while_training(model, expected):
    x = nhwc(expected["x_a"])
    z = model.encode(x, "a")["mu"]
    first, second = model.decode(z, "b"), model.decode(z, "b")
    np.testing.assert_array_equal(first, second)
    assert worst(model.decode(z, "b", training=True), np.asarray(first)) > 1e-3


def test_every_checkpoint_tensor_has_a_place_and_res_biases_are_the_cancelled_ones(state,
                                                                                   model):
    entries = parameter_map(model)
    assert [name for name, _, _ in entries] == list(state)
    cancelled = [name for name, variable, _ in entries if variable is None]
    assert cancelled and all(".model.0.bias" in n or ".model.3.bias" in n for n in cancelled)
    front_biases = ["encode_A.0.model.0.bias", "decode_B.3.model.0.bias", "decode_B.5.bias"]
    assert not set(front_biases) & set(cancelled)
    shared = {id(v) for n, v, _ in entries
              if n.startswith(("enc_shared", "dec_shared")) and v is not None}
    assert shared == {id(v) for v in model.encoder.shared[0].weights + model.generator.shared[0]
                      .weights}


def photos():
    """Real 64x64 photo crops (shipped with scikit-learn): two of each domain."""
    from sklearn.datasets import load_sample_image

    china, flower = load_sample_image("china.jpg"), load_sample_image("flower.jpg")
    return {"a2b": np.stack([china[100:164, 200:264], china[250:314, 400:464]]),
            "b2a": np.stack([flower[100:164, 150:214], flower[250:314, 300:364]])}


def level_diff(exported, model):
    """{direction: (max, mean)} uint8-level difference from the Keras translator."""
    keras_t, out = Translator(model), {}
    for direction, images in photos().items():
        got = getattr(exported, f"translate_{direction}")(images).astype(int)
        diff = np.abs(got - getattr(keras_t, f"translate_{direction}")(images).astype(int))
        out[direction] = (int(diff.max()), float(diff.mean()))
    return out


# The export tests' bounds (tests/export): SavedModel within 1 level of Keras;
# TFLite (max, mean) float32 (1, 0.01), float16 (2, 0.1), int8 (64, 5).
def test_saved_model_export_keeps_the_bound(model, tmp_path):
    saved = SavedModelTranslator(export_saved_model(model, tmp_path, "v02"))
    for direction, (most, _) in level_diff(saved, model).items():
        assert most <= 1, direction


def test_tflite_float32_export_keeps_the_bound_and_a_static_graph(model, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    path = export_tflite(model, tmp_path / "v02.tflite", size=64)
    for direction, (most, mean) in level_diff(TFLiteTranslator(path), model).items():
        assert most <= 1 and mean <= 0.01, (direction, most, mean)
    ops = {op["op_name"] for op in Interpreter(model_path=str(path))._get_ops_details()}
    assert {"PAD", "TRANSPOSE_CONV", "STRIDED_SLICE"} <= ops  # PyTorch's padding and crop
    assert not ops & {"SHAPE", "RESHAPE", "PACK"}, sorted(ops)


@pytest.mark.parametrize("quantize, max_bound, mean_bound", [("float16", 2, 0.1),
                                                              ("int8", 64, 5.0)])
def test_tflite_quantised_exports_keep_the_bounds(model, tmp_path, quantize, max_bound,
                                                  mean_bound):
    lite = TFLiteTranslator(export_tflite(model, tmp_path / "q.tflite", quantize=quantize,
                                          size=64))
    for direction, (most, mean) in level_diff(lite, model).items():
        assert most <= max_bound and mean <= mean_bound, (direction, most, mean)


def test_keras_file_round_trip(model, tmp_path, expected):
    path = tmp_path / "v02.keras"
    model.save(path)
    loaded = unit_tf.translator.load(str(path)).model
    x = nhwc(expected["x_b"])
    np.testing.assert_array_equal(loaded.translate_b2a(x), model.translate_b2a(x))


# ---- bad input ------------------------------------------------------------------
def gen_with(**changes):
    gen = dict(UNIT_V02_GEN, ch=8)
    gen.update(changes)
    return {k: v for k, v in gen.items() if v is not None}


@pytest.mark.parametrize("gen, message", [
    (gen_with(name="COCOResGen"), "generator class 'COCOResGen' is not supported"),
    (gen_with(name=None), "generator class None is not supported"),
    (gen_with(n_enc_res_blk=None), "lacks n_enc_res_blk"),
    (gen_with(norm="in"), "unknown gen: keys norm"),
    (gen_with(ch=0), "ch must be an integer >= 1"),
    (gen_with(n_gen_res_blk=2.5), "n_gen_res_blk must be an integer"),
    (gen_with(res_dropout_ratio=1.0), r"res_dropout_ratio must be in \[0, 1\)"),
    (gen_with(n_gen_front_blk=4), "would not have the input's size"),
])
def test_bad_gen_blocks_are_named(gen, message):
    with pytest.raises(ImportConfigError, match=message):
        validate_gen(gen)


def test_res_dropout_ratio_is_optional_as_in_their_code():
    assert validate_gen(gen_with(res_dropout_ratio=None))["res_dropout_ratio"] == 0.0


def test_bad_config_files(tmp_path):
    (tmp_path / "bad.yaml").write_text("gen: [unclosed")
    with pytest.raises(ImportConfigError, match="not valid YAML"):
        read_gen_config(tmp_path / "bad.yaml")
    (tmp_path / "dis.yaml").write_text(yaml.safe_dump({"dis": {"name": "COCODis"}}))
    with pytest.raises(ImportConfigError, match="has no gen: block"):
        read_gen_config(tmp_path / "dis.yaml")
    with pytest.raises(ImportConfigError, match="cannot read"):
        read_gen_config(tmp_path / "missing.yaml")


def test_checkpoint_of_another_config_lists_the_first_mismatches(tmp_path, state):
    weights = os.path.join(FIXTURE, "gen_zip.pt")
    with pytest.raises(CheckpointMismatchError,
                       match=r"shapes differ: encode_A.0.model.0.weight is \[8, 3, 7, 7\] in "
                             r"the file, \[16, 3, 7, 7\] for the config, .*\(\d+ in all\)"):
        import_generator(gen_with(ch=16), weights)
    with pytest.raises(CheckpointMismatchError,
                       match=r"8 tensors missing from the file: encode_A.6.model.0.weight"):
        import_generator(gen_with(n_enc_res_blk=4), weights)
    renamed = {k.replace("decode_B.5", "decode_B.6"): v for k, v in state.items()}
    path = tmp_path / "renamed.pkl"
    path.write_bytes(legacy_bytes(renamed))
    with pytest.raises(CheckpointMismatchError,
                       match="missing from the file: decode_B.5.weight, decode_B.5.bias; "
                             "2 unexpected tensors: decode_B.6.weight, decode_B.6.bias"):
        import_generator(CONFIG, path)


def test_discriminator_checkpoint_given_as_a_generator(tmp_path):
    # COCOSharedDis names: private fronts model_A / model_B and a shared model_S.
    rng = np.random.default_rng(0)
    dis = {f"model_{d}.{i}.model.0.{p}": rng.normal(size=shape).astype(np.float32)
           for d in "AB" for i, (p, shape) in enumerate([("weight", (8, 3, 7, 7)),
                                                         ("bias", (8,))])}
    dis["model_S.0.weight"] = rng.normal(size=(1, 8, 1, 1)).astype(np.float32)
    path = tmp_path / "cat2tiger_dis_00500000.pkl"
    path.write_bytes(legacy_bytes(dis))
    with pytest.raises(CheckpointMismatchError,
                       match=r"holds no generator tensors \(its names start with model_A, "
                             r"model_B, model_S.*discriminator checkpoint"):
        import_generator(CONFIG, path)


def test_truncated_checkpoint(tmp_path):
    with open(os.path.join(FIXTURE, "gen_legacy.pkl"), "rb") as f:
        data = f.read()
    (tmp_path / "cut.pkl").write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        import_generator(CONFIG, tmp_path / "cut.pkl")


def test_integer_tensors_are_refused(state, model):
    broken = copy.copy(state)
    broken["decode_A.5.bias"] = state["decode_A.5.bias"].astype(np.int64)
    with pytest.raises(CheckpointMismatchError, match="not floating point"):
        load_generator(model, broken)


def test_parameter_count_is_the_authors_less_the_cancelled_biases(model):
    import json

    with open(os.path.join(FIXTURE, "keys.json")) as f:
        theirs = sum(int(np.prod(shape)) for shape in json.load(f).values())
    cancelled = sum(int(np.prod(shape)) for _, v, shape in parameter_map(model) if v is None)
    assert model.count_params() + cancelled == theirs


def test_imported_weights_go_into_a_trainable_model_with_discriminators(model, tmp_path,
                                                                       expected):
    from unit_tf.zoo import load_weights, write_weights

    write_weights(model, tmp_path / "w.npz", dtype="float32")
    trainable = unit_tf.UNIT(model.preset)  # Table 3 discriminators, untrained
    load_weights(trainable, tmp_path / "w.npz")
    assert trainable.discriminators
    x = nhwc(expected["x_a"])
    np.testing.assert_array_equal(trainable.translate_a2b(x), model.translate_a2b(x))
