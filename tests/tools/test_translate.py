"""tools/translate.py on a tiny untrained model: as a subprocess, and its run() in-process."""

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import unit_tf

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def translate(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, os.path.join("tools", "translate.py"), *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def tool():
    """The tool module itself (its flags are defined only when run as a script)."""
    spec = importlib.util.spec_from_file_location(
        "translate_tool", os.path.join(REPO, "tools", "translate.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    paths = {"tiny": str(folder / "tiny.keras"), "digits": str(folder / "digits.keras")}
    unit_tf.UNIT("tiny", domain_names=("satellite", "map")).save(paths["tiny"])
    unit_tf.UNIT("digits").save(paths["digits"])
    return paths


def save(path, array):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.asarray(array, np.uint8)).save(path)


@pytest.fixture
def inputs(tmp_path):
    """Gray, RGB and RGBA images of odd sizes, one in a subfolder."""
    rng = np.random.RandomState(0)
    folder = tmp_path / "in"
    save(folder / "gray.png", rng.randint(0, 255, (13, 21)))
    save(folder / "rgb.jpg", rng.randint(0, 255, (30, 17, 3)))
    save(folder / "sub" / "rgba.png", rng.randint(0, 255, (9, 40, 4)))
    return str(folder)


def test_folder_of_any_sizes_keeps_layout_and_size(models, inputs, tmp_path):
    out = tmp_path / "out"
    proc = translate("--model", models["tiny"], "--direction", "b2a", "--input", inputs,
                     "--output", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    expected = {"gray.png": (21, 13), "rgb.png": (17, 30), os.path.join("sub", "rgba.png"): (40, 9)}
    for name, size in expected.items():
        with Image.open(out / name) as image:
            assert image.size == size and image.mode == "RGB"
    assert not [f for f in os.listdir(out) if f.endswith(".tmp")]


def test_missing_input_exits_nonzero(models, tmp_path):
    proc = translate("--model", models["tiny"], "--input", str(tmp_path / "nope.png"),
                     "--output", str(tmp_path / "out"))
    assert proc.returncode != 0 and "nope.png: no such file or folder" in proc.stderr


def test_half_of_side_by_side_files(tool, models, tmp_path):
    save(tmp_path / "pair.png", np.zeros((12, 24, 3)))
    written = tool.run(models["tiny"], "a2b", [str(tmp_path / "pair.png")],
                       str(tmp_path / "out"), half="left", log=None)
    with Image.open(written[0]) as image:
        assert image.size == (12, 12)


def test_bad_inputs_and_outputs(tool, models, inputs, tmp_path):
    out = str(tmp_path / "out")
    with open(os.path.join(inputs, "broken.png"), "wb") as f:
        f.write(b"garbage, not a PNG")
    with pytest.raises(ValueError, match="broken.png"):
        tool.run(models["tiny"], "a2b", [inputs], out, log=None)
    os.remove(os.path.join(inputs, "broken.png"))
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        tool.run(models["tiny"], "a2b", [inputs], str(a_file), log=None)
    with pytest.raises(ValueError, match="both be written"):
        tool.run(models["tiny"], "a2b", [os.path.join(inputs, "gray.png"),
                                         os.path.join(inputs, "gray.png")], out, log=None)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="empty"):
        tool.run(models["tiny"], "a2b", [str(empty)], out, log=None)
    # A fixed-size preset says which size it takes, naming the file.
    with pytest.raises(ValueError, match="gray.png.*32x32"):
        tool.run(models["digits"], "a2b", [os.path.join(inputs, "gray.png")], out, log=None)


def test_skip_bad_translates_the_rest_and_lists_the_bad(tool, models, inputs, tmp_path):
    broken = os.path.join(inputs, "sub", "broken.jpg")
    with open(os.path.join(inputs, "rgb.jpg"), "rb") as f:
        data = f.read()
    with open(broken, "wb") as f:
        f.write(data[:len(data) // 2])            # a truncated download
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="broken.jpg: truncated JPEG"):
        tool.run(models["tiny"], "a2b", [inputs], str(out), log=None)
    assert not out.exists()                       # the default: nothing written
    lines = []
    written = tool.run(models["tiny"], "a2b", [inputs], str(out), skip_bad=True,
                       log=lines.append)
    assert sorted(os.path.relpath(p, out) for p in written) == [
        "gray.png", "rgb.png", os.path.join("sub", "rgba.png")]
    assert lines[-2:] == ["skipped 1 bad file(s):",
                          f"  corrupt image file {broken}: truncated JPEG (no end-of-image "
                          "marker); delete or replace it."]
    with pytest.raises(ValueError, match="no input image could be read"):
        tool.run(models["tiny"], "a2b", [broken], str(tmp_path / "none"), skip_bad=True,
                 log=None)
    assert not (tmp_path / "none").exists()


def test_a_failed_run_creates_no_output_folder(tool, models, inputs, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="32x32"):   # digits takes its size only
        tool.run(models["digits"], "a2b", [inputs], str(out), log=None)
    assert not out.exists()
