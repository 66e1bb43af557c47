"""tools/export.py, run as a script (its flags are process-global)."""

import os
import subprocess
import sys

import pytest

import unit_tf.zoo as zoo

TOOL = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "export.py")


def run_tool(*args, env=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **(env or {}))
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.mark.parametrize("args, message", [
    ([], "exactly one of --zoo"),
    (["--zoo=a", "--checkpoint=b.keras", "--out=x"], "exactly one of --zoo"),
    (["--checkpoint=model.h5", "--out=x"], "must be a .keras file"),
    (["--checkpoint=missing.keras", "--out=x"], "does not exist"),
    (["--zoo=a"], "--out is required"),
    (["--zoo=a", "--out=x", "--quantize=int8"], "applies to --format=tflite only"),
    (["--zoo=a", "--out=x", "--size=64"], "applies to --format=tflite only"),
    (["--zoo=a", "--out=x", "--version=0"], "positive integer"),
    (["--zoo=a", "--format=tflite", "--out=x.tflite", "--version=2"], "saved_model only"),
    (["--zoo=a", "--format=tflite", "--out=x"], "must be a .tflite file"),
    (["--zoo=a", "--format=onnx", "--out=x"], "format"),
])
def test_bad_combinations(args, message):
    proc = run_tool(*args)
    assert proc.returncode != 0
    assert message in proc.stderr + proc.stdout


def test_checkpoint_to_saved_model_and_zoo_to_tflite(tmp_path, translator, crops):
    translator.model.save(tmp_path / "tiny.keras")
    proc = run_tool(f"--checkpoint={tmp_path / 'tiny.keras'}", f"--out={tmp_path / 'models'}",
                    "--version=3")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "wrote" in proc.stdout
    assert os.path.isfile(tmp_path / "models" / "tiny" / "3" / "saved_model.pb")
    proc = run_tool(f"--checkpoint={tmp_path / 'tiny.keras'}", f"--out={tmp_path / 'models'}",
                    "--version=3")
    assert proc.returncode != 0 and "exists; pass --overwrite" in proc.stderr

    zoo.write_entry(translator.model, tmp_path / "zoo" / "tiny_x2y", description="fixture",
                    training={"data": "none", "data_license": "n/a", "command": "none",
                              "steps": 0, "wall_time_hours": 0.0},
                    metrics={"m": {"value": 0.0, "command": "none"}},
                    images_a=crops["a"], images_b=crops["b"])
    out = tmp_path / "tiny.tflite"
    proc = run_tool("--zoo=tiny_x2y", "--format=tflite", "--quantize=float16", "--size=64",
                    f"--out={out}", env={zoo.ENV_ROOT: str(tmp_path / "zoo")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert os.path.getsize(out) > 0
    proc = run_tool("--zoo=tiny_x2y", "--format=tflite", f"--out={out}",
                    env={zoo.ENV_ROOT: str(tmp_path / "zoo")})
    assert proc.returncode != 0 and "--overwrite" in proc.stderr
