"""tools/import_official.py on the authors' parity fixture, then tools/export.py on its output."""

import hashlib
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_sample_image

import unit_tf
from unit_tf.export import TFLiteTranslator, export_tflite
from unit_tf.translator import Translator

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = os.path.join(REPO, "tests", "importers", "fixtures", "unit_v02_generator")
CONFIG = os.path.join(FIXTURE, "config.yaml")
WEIGHTS = os.path.join(FIXTURE, "gen_legacy.pkl")


def run_script(name, *args, env=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **(env or {}))
    return subprocess.run([sys.executable, os.path.join("tools", name), *args], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location(
        "import_official_tool", os.path.join(REPO, "tools", "import_official.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Folders of real photo crops: A from china.jpg, B from flower.jpg."""
    root = tmp_path_factory.mktemp("photos")
    for domain, name in (("a", "china.jpg"), ("b", "flower.jpg")):
        os.makedirs(root / domain)
        image = load_sample_image(name)
        for i, (y, x) in enumerate(((60, 80), (200, 300))):
            Image.fromarray(image[y:y + 96, x:x + 80]).save(root / domain / f"{i}.png")
    return root


def check_entry(out, name):
    """The zoo entry's files, its source checkpoint's sha256 and licence, its card."""
    entry = out / name
    assert sorted(os.listdir(entry)) == ["README.md", "manifest.json", "reference.npz",
                                         "samples.png", "weights.npz"]
    with open(entry / "manifest.json") as f:
        manifest = json.load(f)
    with open(WEIGHTS, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    assert manifest["source"]["sha256"] == digest
    assert manifest["source"]["license"] == "CC BY-NC-SA 4.0"
    assert manifest["source"]["format"] == "legacy"
    assert manifest["source"]["config"]["name"] == "COCOResGen2"
    assert manifest["preset"] == "unit_v02" and manifest["overrides"] == {"width": 8}
    assert manifest["training"]["command"].startswith("python tools/import_official.py ")
    card = (entry / "README.md").read_text()
    assert "**Licence of these weights: CC BY-NC-SA 4.0**" in card and digest in card
    return manifest


def test_import_then_export_tflite(tool, tmp_path, photos):
    out = tmp_path / "models"
    written = tool.run(CONFIG, WEIGHTS, "fixture_x2y", str(out), domains=("x", "y"), zoo=True,
                       images_a=[str(photos / "a")], images_b=[str(photos / "b")])
    assert written == [str(out / "fixture_x2y.keras"), str(out / "fixture_x2y")]
    assert sorted(os.listdir(out)) == ["fixture_x2y", "fixture_x2y.keras"]
    manifest = check_entry(out, "fixture_x2y")
    assert f"--images_b={photos / 'b'}" in manifest["training"]["command"]

    keras_t = unit_tf.translator.load(str(out / "fixture_x2y.keras"))
    zoo_t = unit_tf.zoo.load("fixture_x2y", root=out)
    assert zoo_t.directions == keras_t.directions == {"a2b": "x -> y", "b2a": "y -> x"}
    entry = out / "fixture_x2y"
    assert max(unit_tf.zoo.compare_reference(zoo_t, entry / "reference.npz").values()) == 0
    with np.load(entry / "reference.npz") as ref:
        crops = ref["a"]
    assert crops.shape == (2, 64, 64, 3)  # 64x64 centre crops of the 80x80 examples
    float16_vs_32 = np.abs(zoo_t.translate_a2b(crops).astype(int)
                           - keras_t.translate_a2b(crops).astype(int)).max()
    assert float16_vs_32 <= unit_tf.zoo.REFERENCE_TOLERANCE

    # The usual TFLite export, on the imported .keras file (in-process: the
    # export tool's command line is tests/export/test_export_tool.py's part).
    lite = export_tflite(keras_t, tmp_path / "fixture.tflite", size=64)
    exported = TFLiteTranslator(str(lite))
    for direction in ("a2b", "b2a"):
        got = getattr(exported, f"translate_{direction}")(crops).astype(int)
        want = getattr(keras_t, f"translate_{direction}")(crops).astype(int)
        assert np.abs(got - want).max() <= 1, direction


@pytest.mark.slow
def test_command_line(tmp_path, photos):
    out = tmp_path / "models"
    proc = run_script("import_official.py", f"--config={CONFIG}", f"--weights={WEIGHTS}",
                      "--name=fixture_x2y", f"--out={out}", "--domains=x,y", "--zoo",
                      f"--images_a={photos / 'a'}", f"--images_b={photos / 'b'}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"wrote {out / 'fixture_x2y.keras'}" in proc.stdout
    assert "CC BY-NC-SA 4.0" in proc.stdout
    manifest = check_entry(out, "fixture_x2y")
    assert "--images_a=" in manifest["training"]["command"]


def test_command_line_errors_come_before_tensorflow(tmp_path):
    proc = run_script("import_official.py", f"--config={CONFIG}",
                      f"--weights={tmp_path / 'missing.pkl'}", "--name=x", f"--out={tmp_path}")
    assert proc.returncode != 0
    assert "error: --weights" in proc.stderr and "no such file" in proc.stderr


def bad_config(tmp_path, **gen_changes):
    import yaml

    with open(CONFIG) as f:
        config = yaml.safe_load(f)
    config["gen"].update(gen_changes)
    config["gen"] = {k: v for k, v in config["gen"].items() if v is not None}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def truncated(tmp_path):
    with open(WEIGHTS, "rb") as f:
        data = f.read()
    path = tmp_path / "cut_gen_00000001.pkl"
    path.write_bytes(data[:len(data) // 3])
    return str(path)


def discriminator(tmp_path):
    sys.path.insert(0, os.path.join(REPO, "tests", "importers"))
    from torch_files import legacy_bytes

    path = tmp_path / "x2y_dis_00000001.pkl"
    path.write_bytes(legacy_bytes({"model_A.0.model.0.weight": np.zeros((8, 3, 3, 3),
                                                                         np.float32)}))
    return str(path)


def evil(tmp_path):
    sys.path.insert(0, os.path.join(REPO, "tests", "importers"))
    from torch_files import Call, zip_bytes

    path = tmp_path / "evil_gen_00000001.pt"
    path.write_bytes(zip_bytes({"w": Call("os", "system", f"touch {tmp_path / 'ran'}")}))
    return str(path)


@pytest.mark.parametrize("make, message", [
    (lambda t: (bad_config(t, name="COCOResGen"), WEIGHTS), "'COCOResGen' is not supported"),
    (lambda t: (bad_config(t, n_gen_res_blk=None), WEIGHTS), "lacks n_gen_res_blk"),
    (lambda t: (bad_config(t, ch=16), WEIGHTS), "shapes differ"),
    (lambda t: (CONFIG, truncated(t)), "truncated"),
    (lambda t: (CONFIG, discriminator(t)), "discriminator checkpoint"),
    (lambda t: (CONFIG, evil(t)), "refusing to load the global os.system"),
])
def test_bad_input_is_named_and_nothing_is_written(tool, tmp_path, photos, make, message):
    config, weights = make(tmp_path)
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=message):
        tool.run(config, weights, "x2y", str(out), zoo=True, images_a=[str(photos / "a")],
                 images_b=[str(photos / "b")])
    assert not out.exists()
    assert not (tmp_path / "ran").exists()


def test_bad_images_and_arguments_write_nothing(tool, tmp_path, photos):
    out = tmp_path / "out"
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="is empty"):
        tool.run(CONFIG, WEIGHTS, "x2y", str(out), zoo=True, images_a=[str(photos / "a")],
                 images_b=[str(tmp_path / "empty")])
    assert not out.exists()
    with pytest.raises(ValueError, match="--zoo needs --images_a and --images_b"):
        tool.run(CONFIG, WEIGHTS, "x2y", str(out), zoo=True)
    with pytest.raises(ValueError, match="--name 'X Y' must be lower case"):
        tool.run(CONFIG, WEIGHTS, "X Y", str(out))
    with pytest.raises(ValueError, match="--weights .*: no such file"):
        tool.run(CONFIG, str(tmp_path / "missing.pkl"), "x2y", str(out))
    assert not out.exists()


def test_keras_only_import_and_overwrite(tool, tmp_path):
    out = tmp_path / "out"
    written = tool.run(CONFIG, os.path.join(FIXTURE, "gen_zip.pt"), "x2y", str(out))
    assert written == [str(out / "x2y.keras")] and os.listdir(out) == ["x2y.keras"]
    with pytest.raises(ValueError, match="exists; pass --overwrite"):
        tool.run(CONFIG, WEIGHTS, "x2y", str(out))
    tool.run(CONFIG, WEIGHTS, "x2y", str(out), overwrite=True)
    assert isinstance(unit_tf.translator.load(str(out / "x2y.keras")), Translator)
