"""SavedModel export: layout, signatures, parity with Keras in a fresh process."""

import base64
import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

import unit_tf
from unit_tf.export import SIGNATURES, SavedModelTranslator, export_saved_model
from unit_tf.translator import Translator, load

# Run with only TensorFlow imported: the export must not need unit_tf or Keras
# code. Inputs come from an .npz; outputs and error messages go back the same way.
FRESH_PROCESS = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf

    export_dir, inputs_path, outputs_path = sys.argv[1:]
    loaded = tf.saved_model.load(export_dir)
    sig = loaded.signatures
    x = dict(np.load(inputs_path))
    out = {}
    for key in ("a", "b", "odd_a", "odd_b"):
        direction = "b2a" if key.endswith("b") else "a2b"
        out[key] = sig["translate_" + direction](images=tf.constant(x[key]))["images"].numpy()
    out["default"] = sig["serving_default"](images=tf.constant(x["a"]))["images"].numpy()
    encoded = [tf.io.encode_png(x["odd_a"][0]).numpy(), tf.io.encode_jpeg(x["a"][0]).numpy()]
    pngs = sig["translate_a2b_bytes"](images_bytes=tf.constant(encoded))["images_bytes"]
    out["png_odd"], out["png_jpeg"] = [tf.io.decode_png(p).numpy() for p in pngs.numpy()]
    pngs = sig["translate_b2a_bytes"](images_bytes=tf.constant(
        [tf.io.encode_png(x["odd_b"][0]).numpy()]))["images_bytes"]
    out["png_b2a"] = tf.io.decode_png(pngs.numpy()[0]).numpy()
    errors = {}
    for label, bad in (("channels", tf.zeros([1, 8, 8, 4], tf.uint8)),
                       ("dtype", tf.zeros([1, 8, 8, 3], tf.float32))):
        try:
            sig["translate_a2b"](images=bad)
            errors[label] = ""
        except Exception as e:  # the message is what the caller sees
            errors[label] = str(e)
    np.savez(outputs_path, **out)
    print(json.dumps({"signatures": sorted(sig), "errors": errors,
                      "domain_names": [n.decode() for n in loaded.domain_names.numpy()],
                      "unit_tf_imported": any(m.startswith("unit_tf") for m in sys.modules)}))
""")


def _clean_env():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("PYTHONPATH", None)
    return env


@pytest.fixture(scope="module")
def fresh_run(tmp_path_factory, saved_model_dir, crops):
    """Outputs of the SavedModel computed in a process that imports only TensorFlow."""
    tmp = tmp_path_factory.mktemp("fresh")
    rng = np.random.default_rng(2)
    inputs = {"a": crops["a"], "b": crops["b"],
              "odd_a": rng.integers(0, 256, (2, 30, 45, 3), dtype=np.uint8),
              "odd_b": rng.integers(0, 256, (1, 17, 5, 3), dtype=np.uint8)}
    np.savez(tmp / "in.npz", **inputs)
    (tmp / "run.py").write_text(FRESH_PROCESS)
    proc = subprocess.run([sys.executable, str(tmp / "run.py"), saved_model_dir,
                           str(tmp / "in.npz"), str(tmp / "out.npz")],
                          cwd=tmp, env=_clean_env(), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return inputs, dict(np.load(tmp / "out.npz")), report


def _max_diff(x, y):
    return int(np.abs(x.astype(np.int16) - y.astype(np.int16)).max())


def test_layout_is_tf_serving(saved_model_dir):
    model_dir = os.path.dirname(saved_model_dir)
    assert os.path.basename(saved_model_dir) == "1"
    assert os.listdir(model_dir) == ["1"], "no temporary folders left behind"
    assert os.path.isfile(os.path.join(saved_model_dir, "saved_model.pb"))
    assert os.path.isdir(os.path.join(saved_model_dir, "variables"))


def test_other_users_can_read_the_export(saved_model_dir):
    """A TF Serving container running as another user must read every file."""
    umask = os.umask(0)
    os.umask(umask)
    if umask & 0o005:
        pytest.skip(f"umask {umask:03o} hides files from other users anyway")
    for folder, dirs, files in os.walk(saved_model_dir):
        assert os.stat(folder).st_mode & 0o005 == 0o005, folder   # o+rx
        for name in files:
            assert os.stat(os.path.join(folder, name)).st_mode & 0o004, name  # o+r


def test_fresh_process_matches_keras(fresh_run, translator):
    inputs, out, report = fresh_run
    assert not report["unit_tf_imported"]
    assert report["signatures"] == sorted(SIGNATURES)
    assert report["domain_names"] == ["x", "y"]
    t = translator
    assert _max_diff(out["a"], t.translate_a2b(inputs["a"])) <= 1
    assert _max_diff(out["b"], t.translate_b2a(inputs["b"])) <= 1
    assert _max_diff(out["default"], out["a"]) == 0
    # Dynamic sizes: padded to the size divisor inside the graph, cropped back.
    assert out["odd_a"].shape == (2, 30, 45, 3) and out["odd_b"].shape == (1, 17, 5, 3)
    assert _max_diff(out["odd_a"], t.translate_a2b(inputs["odd_a"])) <= 1
    assert _max_diff(out["odd_b"], t.translate_b2a(inputs["odd_b"])) <= 1


def test_bytes_signatures(fresh_run, translator):
    inputs, out, _ = fresh_run
    assert _max_diff(out["png_odd"], translator.translate_a2b(inputs["odd_a"][0])) <= 1
    assert _max_diff(out["png_b2a"], translator.translate_b2a(inputs["odd_b"][0])) <= 1
    # A JPEG is decoded inside the graph; compare with the same decoder here.
    jpeg = tf.io.decode_jpeg(tf.io.encode_jpeg(inputs["a"][0])).numpy()
    assert _max_diff(out["png_jpeg"], translator.translate_a2b(jpeg)) <= 1


def test_wrong_inputs_fail_clearly(fresh_run):
    errors = fresh_run[2]["errors"]
    assert "takes uint8 images [batch, height, width, 3]" in errors["channels"]
    assert "uint8" in errors["dtype"]


def test_saved_model_cli_show(saved_model_dir):
    cli = shutil.which("saved_model_cli")
    command = ([cli] if cli else [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"])
    proc = subprocess.run(command + ["show", "--all", "--dir", saved_model_dir],
                          capture_output=True, text=True, env=_clean_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = proc.stdout
    for name in SIGNATURES:
        assert f"signature_def['{name}']" in text
    assert "dtype: DT_UINT8" in text and "shape: (-1, -1, -1, 3)" in text
    assert "dtype: DT_STRING" in text and "shape: (-1)" in text
    assert "outputs['images_bytes']" in text


def rest_request_body(png_bytes):
    """The TF Serving REST body for the bytes signature (as in the README)."""
    return json.dumps({
        "signature_name": "translate_a2b_bytes",
        "instances": [{"b64": base64.b64encode(png_bytes).decode("ascii")}],
    })


def test_rest_request_body(saved_model_dir, translator, crops):
    image = crops["a"][0]
    body = json.loads(rest_request_body(tf.io.encode_png(image).numpy()))
    # What TF Serving does with it: decode {"b64": ...} and call the signature
    # with the instances as the batch of its single input.
    signature = tf.saved_model.load(saved_model_dir).signatures[body["signature_name"]]
    batch = [base64.b64decode(instance["b64"]) for instance in body["instances"]]
    outputs = signature(images_bytes=tf.constant(batch))
    # An output named *_bytes comes back as {"b64": ...} in the REST response.
    response = {"predictions": [{"b64": base64.b64encode(p).decode("ascii")}
                                for p in outputs["images_bytes"].numpy()]}
    png = base64.b64decode(response["predictions"][0]["b64"])
    assert png.startswith(b"\x89PNG")
    decoded = tf.io.decode_png(png).numpy()
    assert _max_diff(decoded, translator.translate_a2b(image)) <= 1


def test_saved_model_translator_and_load(saved_model_dir, translator, crops):
    for source in (saved_model_dir, os.path.dirname(saved_model_dir)):
        t = load(source)
        assert isinstance(t, SavedModelTranslator)
        assert t.directions == {"a2b": "x -> y", "b2a": "y -> x"}
        x = crops["b"][0]
        assert _max_diff(t.translate_b2a(x), translator.translate_b2a(x)) <= 1
    with pytest.raises(TypeError, match="uint8"):
        t.translate_a2b(crops["a"].astype(np.float32))
    with pytest.raises(ValueError, match=r"\[batch, height, width, 3\]"):
        t.translate_a2b(crops["a"][..., :2])
    png = t.translate_bytes([tf.io.encode_png(crops["a"][0]).numpy()])[0]
    assert _max_diff(tf.io.decode_png(png).numpy(), translator.translate_a2b(crops["a"][0])) <= 1


def test_versions_and_overwrite(tmp_path, translator):
    first = export_saved_model(translator, tmp_path, "m", version=1)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        export_saved_model(translator, tmp_path, "m", version=1)
    stamp = os.path.getmtime(os.path.join(first, "saved_model.pb"))
    assert export_saved_model(translator.model, tmp_path, "m", version=1,
                              overwrite=True) == first
    assert os.path.getmtime(os.path.join(first, "saved_model.pb")) >= stamp
    export_saved_model(translator, tmp_path, "m", version=2)
    assert sorted(os.listdir(tmp_path / "m")) == ["1", "2"]
    assert load(tmp_path / "m").path.endswith(os.path.join("m", "2"))
    for bad in (0, -1, "1", 1.5):
        with pytest.raises(ValueError, match="version"):
            export_saved_model(translator, tmp_path, "m", version=bad)
    with pytest.raises(ValueError, match="name"):
        export_saved_model(translator, tmp_path, "a/b")
    with pytest.raises(TypeError, match="UNIT"):
        export_saved_model("not a model", tmp_path, "m")


def test_fixed_size_preset_takes_its_size_only(tmp_path):
    model = unit_tf.UNIT("digits", overrides={"width": 8}, discriminators=False)
    path = export_saved_model(model, tmp_path, "digits")
    signature = tf.saved_model.load(path).signatures["translate_a2b"]
    assert signature.structured_input_signature[1]["images"].shape.as_list() == [None, 32, 32, 3]
    x = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    out = signature(images=tf.constant(x))["images"].numpy()
    assert _max_diff(out, Translator(model).translate_a2b(x)) <= 1
    with pytest.raises(ValueError, match="32x32"):
        SavedModelTranslator(path).translate_a2b(np.zeros((1, 30, 30, 3), np.uint8))


def test_translate_scale_in_the_signature(tmp_path, half_scale_translator):
    path = export_saved_model(half_scale_translator, tmp_path, "half")
    t = SavedModelTranslator(path)
    for shape in ((1, 64, 48, 3), (2, 50, 38, 3)):  # one graph for every size
        x = np.random.default_rng(3).integers(0, 256, shape, dtype=np.uint8)
        got = t.translate_b2a(x)
        assert got.shape == x.shape
        assert _max_diff(got, half_scale_translator.translate_b2a(x)) <= 1
