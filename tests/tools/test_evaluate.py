"""tools/evaluate.py on tiny untrained models: as a subprocess, and its run() in-process."""

import importlib.util
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from PIL import Image

import unit_tf
from unit_tf.data import sources

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def evaluate(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, os.path.join("tools", "evaluate.py"), *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    paths = {}
    for preset, names in (("tiny", ("satellite", "map")), ("digits", ("strokes", "edges")),
                          ("lenet", ("mnist", "uci_digits"))):
        paths[preset] = str(folder / f"{preset}.keras")
        unit_tf.UNIT(preset, domain_names=names).save(paths[preset])
    return paths


@pytest.fixture
def pairs_folder(tmp_path):
    """Three 64x32 side-by-side files: noise on the left, map-like colours on the right."""
    rng = np.random.RandomState(0)
    for i in range(3):
        pair = np.empty((32, 64, 3), np.uint8)
        pair[:, :32] = rng.randint(0, 255, (32, 32, 3))
        pair[:, 32:] = (242, 240, 235)
        pair[:8, 32:] = (253, 253, 250)
        Image.fromarray(pair).save(tmp_path / f"{i}.png")
    return str(tmp_path)


@pytest.fixture(scope="module")
def tool():
    """The tool module itself (its flags are defined only when run as a script)."""
    spec = importlib.util.spec_from_file_location(
        "evaluate_tool", os.path.join(REPO, "tools", "evaluate.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read(path):
    with open(path) as f:
        return json.load(f)


def test_maps_command_line(models, pairs_folder, tmp_path, shared_maps):
    # The real val files when present, else side-by-side files made here.
    data, size = ((f"maps:{shared_maps}", 256) if os.path.isdir(shared_maps)
                  else (f"pix2pix:{pairs_folder}", 32))
    out = tmp_path / "maps.json"
    proc = evaluate("--task", "maps", "--model", models["tiny"], "--data", data,
                    "--size", str(size), "--limit", "2", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = read(out)
    assert result["num_images"] == 2 and result["image_size"] == size
    assert "--limit 2" in result["command"] and result["model"] == models["tiny"]
    for name in ("rgb_distance_16", "max_channel_16", "max_channel_lt5", "rmse",
                 "map_class_miou"):
        metric = result["metrics"][name]
        assert metric["definition"] and metric["model"] is not None
        assert metric["constant_baseline"] is not None and len(metric["constant_colour"]) == 3
    assert set(result["class_iou"]["model"]) == {"land", "road", "park", "water", "highway"}
    for shares in result["class_flow"].values():
        assert shares is None or sum(shares.values()) == pytest.approx(1.0)
    assert "rgb_distance_16" in proc.stdout and "painted as" in proc.stdout
    contributions = [e["contribution"] for e in result["error_by_class"]["model"].values()]
    assert sum(contributions) > 0 and "squared error per pixel" in proc.stdout
    for e in result["error_by_class"]["model"].values():   # shade is part of the error
        for painted, shade in e["shade_by_painted_class"].items():
            assert 0 <= shade <= e["by_painted_class"][painted] + 1e-9
    assert "shade (each image's mean colour offset)" in proc.stdout


def test_maps_on_pix2pix_folder_and_baseline_only(tool, models, pairs_folder, tmp_path):
    out = str(tmp_path / "pairs.json")
    result = tool.run("maps", models["tiny"], f"pix2pix:{pairs_folder}", out, size=32,
                      command="evaluate pairs")
    assert read(out) == json.loads(json.dumps(result))
    metrics = result["metrics"]
    # The right halves are 3/4 land colour, 1/4 road colour.
    assert metrics["max_channel_16"]["constant_baseline"] == pytest.approx(1.0)
    assert metrics["map_class_miou"]["constant_class"] == "land"
    assert metrics["map_class_miou"]["constant_baseline"] == pytest.approx(0.75 / 2)
    assert 0.0 <= metrics["rgb_distance_16"]["model"] <= 1.0
    assert result["command"] == "evaluate pairs" and result["num_images"] == 3

    out = str(tmp_path / "baselines.json")
    result = tool.run("maps", None, f"pix2pix:{pairs_folder}", out, size=32,
                      baseline_only=True)
    assert result["model"] is None and result["metrics"]["rmse"]["model"] is None
    assert result["metrics"]["rmse"]["constant_baseline"] >= 0.0


def test_digits_both_directions(tool, models, tmp_path):
    # In-process: the command line is test_maps_command_line's part (a subprocess).
    out = tmp_path / "digits.json"
    tool.run("digits", models["digits"], None, str(out), limit=16)
    result = read(out)
    assert result["data"] == "mnist_toy" and "max over RGB" in result["definition"]
    for direction in ("a2b", "b2a"):
        metric = result["metrics"][direction]
        assert metric["num_digits"] == 16 and 0.0 <= metric["mean_distance"] <= 32.0


def test_adaptation_accuracies(tool, models, tmp_path):
    out = str(tmp_path / "adaptation.json")
    result = tool.run("adaptation", models["lenet"], None, out, limit=20)
    assert read(out)["target_domain"] == result["target_domain"] == "uci_digits"
    assert result["data"] == "mnist_uci"
    metrics = result["metrics"]
    assert metrics["num_target"] == metrics["num_source"] == 20
    assert 0.0 <= metrics["target_accuracy"] <= 1.0 and 0.0 <= metrics["source_accuracy"] <= 1.0


def test_adaptation_on_mnist_m(tool, tmp_path):
    path = str(tmp_path / "rgb_target.keras")
    unit_tf.UNIT("lenet", overrides={"channels_b": 3},
                 domain_names=("mnist", "mnist_m")).save(path)
    result = tool.run("adaptation", path, "mnist_m", str(tmp_path / "m.json"), limit=20)
    assert (result["source_domain"], result["target_domain"]) == ("mnist", "mnist_m")
    assert result["metrics"]["num_target"] == 20
    assert 0.0 <= result["metrics"]["target_accuracy"] <= 1.0
    # The second reading: target images translated into the source domain,
    # classified by the source branch (D_a).
    model = keras.models.load_model(path)
    x, labels = sources.eval_parts("mnist_m")["target"]
    logits = np.asarray(model.classify(model.translate_b2a(x[:20]), "a"))
    expected = float(np.mean(logits.argmax(axis=1) == labels[:20]))
    assert result["metrics"]["target_accuracy_via_source"] == pytest.approx(expected)


def test_adaptation_source_only_and_several_seeds(tool, models, tmp_path):
    classifiers = []
    for seed in range(2):
        keras.utils.set_random_seed(seed)
        classifiers.append(str(tmp_path / f"source_only_{seed}.keras"))
        unit_tf.SourceOnlyClassifier("lenet").save(classifiers[-1])
    out = str(tmp_path / "adaptation.json")
    result = tool.run("adaptation", ",".join(classifiers + [models["lenet"]]), None, out,
                      limit=30)
    runs = result["runs"]
    assert [r["model"] for r in runs] == classifiers + [models["lenet"]]
    # Source-only classifiers cannot translate: no via-source reading, no spread of it.
    assert "target_accuracy_via_source" not in runs[0] and "target_accuracy_via_source" in runs[2]
    assert "target_accuracy_via_source_std" not in result["spread"]
    targets = [r["target_accuracy"] for r in runs]
    assert result["metrics"]["target_accuracy"] == pytest.approx(np.mean(targets))
    assert result["spread"]["target_accuracy_std"] == pytest.approx(np.std(targets, ddof=1))
    assert result["spread"]["source_accuracy_max"] == max(r["source_accuracy"] for r in runs)
    assert read(out)["runs"] == runs
    with pytest.raises(ValueError, match="adaptation only"):
        tool.run("digits", ",".join(classifiers), None, out)


def test_missing_model_exits_nonzero_with_a_message(tmp_path):
    out = str(tmp_path / "x.json")
    proc = evaluate("--task", "digits", "--model", str(tmp_path / "none.keras"), "--out", out)
    assert proc.returncode != 0 and "none.keras" in proc.stderr
    assert not os.path.exists(out)


def test_bad_inputs_raise_clear_errors(tool, models, tmp_path):
    out = str(tmp_path / "x.json")
    with pytest.raises(ValueError, match="Valid forms"):
        tool.run("maps", models["tiny"], "maps_oops", out)
    with pytest.raises(ValueError, match="paired halves"):
        tool.run("maps", models["tiny"], "mnist_toy", out)
    with pytest.raises(ValueError, match="--model is required"):
        tool.run("digits", None, None, out)
    with pytest.raises(ValueError, match="no class head"):
        tool.run("adaptation", models["tiny"], None, out, limit=4)
    assert not os.path.exists(out)
