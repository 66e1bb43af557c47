"""tools/train.py: command-line overrides reach the preset that is trained and recorded."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_recipe_flags_reach_the_preset(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "tools/train.py", "--preset", "tiny", "--steps", "2",
         "--log_every", "1", "--sample_every", "0", "--checkpoint_every", "0",
         "--gan_loss", "lsgan", "--discriminator_scales", "2", "--lambda0", "1",
         "--mixed_precision", "float32", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    config = json.loads((out / "train_config.json").read_text())
    assert config["steps"] == 2
    assert config["preset"]["gan_loss"] == "lsgan"
    assert config["preset"]["discriminator_scales"] == 2
    assert config["preset"]["loss_weights"]["gan"] == 1.0
    assert (out / "model.keras").exists()


def test_bad_override_is_refused_with_the_reason(tmp_path):
    proc = subprocess.run(
        [sys.executable, "tools/train.py", "--preset", "tiny", "--steps", "1",
         "--gan_loss", "hinge", "--out", str(tmp_path / "run")],
        cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "gan_loss must be 'bce' or 'lsgan'" in proc.stderr
    assert not (tmp_path / "run" / "model.keras").exists()
