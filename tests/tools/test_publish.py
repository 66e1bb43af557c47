import json
import os
import subprocess
import sys

import unit_tf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_publish_a_run_as_a_zoo_entry(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    unit_tf.UNIT("tiny", domain_names=("strokes", "edges")).save(str(run / "model.keras"))
    (run / "train_config.json").write_text(json.dumps({
        "command": "python tools/train.py --preset tiny --steps 3", "data": "mnist_toy",
        "steps": 3, "wall_time_s": 7.2, "precision": "float32"}))
    evaluation = tmp_path / "eval.json"
    evaluation.write_text(json.dumps({
        "task": "digits", "command": "python tools/evaluate.py --task digits --model m",
        "metrics": {"a2b": {"mean_distance": 5.5, "num_digits": 10}}}))
    seeds = tmp_path / "seeds.json"  # a several-model result, published under a prefix
    seeds.write_text(json.dumps({
        "task": "digits", "command": "python tools/evaluate.py --model m0,m1",
        "metrics": {"a2b": {"mean_distance": 5.0}}, "spread": {"a2b_mean_distance_std": 0.5}}))
    first64 = tmp_path / "first64.json"  # a --limit result: named maps_first64_* by itself
    first64.write_text(json.dumps({
        "task": "maps", "command": "python tools/evaluate.py --task maps --limit 64",
        "limit": 64, "num_images": 64,
        "metrics": {"rmse": {"model": 40.5, "constant_colour": [234, 233, 225],
                             "higher_is_better": False}},
        "class_iou": {"model": {"land": 0.5}}}))
    proc = subprocess.run(
        [sys.executable, "tools/publish.py", "--run", str(run), "--name", "toy_test",
         "--eval", str(evaluation), "--eval", f"seeds={seeds}", "--eval", str(first64),
         "--description", "A test entry.",
         "--data_license", "MIT", "--zoo", str(tmp_path / "zoo")],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    manifest = json.load(open(tmp_path / "zoo" / "toy_test" / "manifest.json"))
    assert manifest["metrics"]["digits_a2b_mean_distance"] == {
        "value": 5.5, "command": "python tools/evaluate.py --task digits --model m"}
    assert manifest["metrics"]["seeds_a2b_mean_distance"]["value"] == 5.0
    assert manifest["metrics"]["seeds_a2b_mean_distance_std"]["value"] == 0.5
    maps = {k: v["value"] for k, v in manifest["metrics"].items() if k.startswith("maps_")}
    assert maps == {"maps_first64_rmse_model": 40.5, "maps_first64_num_images": 64,
                    "maps_first64_class_iou_model_land": 0.5}
    assert manifest["training"]["steps"] == 3 and manifest["status"] == "published"
    translator = unit_tf.zoo.load("toy_test", root=str(tmp_path / "zoo"))
    assert translator.directions["a2b"] == "strokes -> edges"


def test_publish_needs_a_finished_run(tmp_path):
    proc = subprocess.run(
        [sys.executable, "tools/publish.py", "--run", str(tmp_path), "--name", "x",
         "--description", "d", "--data_license", "l"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert proc.returncode != 0 and "finished tools/train.py output folder" in proc.stderr
