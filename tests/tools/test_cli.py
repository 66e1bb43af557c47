"""Every tool ends bad input with one `error:` line, a non-zero exit and nothing created.

Run as a user would: each case of CASES is a subprocess of a tool (tools/_cli.py
gives them all the same ending). The further train.py cases of TRAIN_CASES
run its main in this process (a subprocess would spend its time importing
TensorFlow): each must raise an error that tools/_cli.py turns into one
`error:` line, as the subprocess cases show it does, and create nothing.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from absl import app
from PIL import Image

import unit_tf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_tool(tool, *args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "tools", tool), *args],
                          capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Folders and files a user might pass by mistake, by name."""
    root = tmp_path_factory.mktemp("inputs")
    rng = np.random.RandomState(0)
    for name in ("empty_a", "empty_b", "good", "corrupt", "text", "squares"):
        (root / name).mkdir()
    for i in range(2):
        Image.fromarray(rng.randint(0, 255, (40, 40, 3)).astype(np.uint8)).save(
            root / "good" / f"{i}.jpg")
        Image.fromarray(rng.randint(0, 255, (32, 32, 3)).astype(np.uint8)).save(
            root / "squares" / f"{i}.png")
    Image.fromarray(rng.randint(0, 255, (40, 40, 3)).astype(np.uint8)).save(
        root / "corrupt" / "0.jpg")
    data = (root / "good" / "0.jpg").read_bytes()
    (root / "corrupt" / "1.jpg").write_bytes(data[:len(data) // 2])
    (root / "text" / "notes.txt").write_text("not an image\n")
    (root / "a_file").write_text("x")
    unit_tf.UNIT("tiny").save(root / "tiny.keras")
    unit_tf.UNIT("digits").save(root / "digits.keras")
    (root / "truncated.keras").write_bytes((root / "tiny.keras").read_bytes()[:20000])
    (root / "text.keras").write_text("hello\n")
    return root


TINY = ["--preset", "tiny", "--steps", "1"]
# (tool, arguments with {IN} for the inputs folder and {OUT} for a fresh path, message)
CASES = {
    "train_steps_zero": ("train.py", ["--steps", "0", "--out", "{OUT}"], "--steps=0"),
    "train_corrupt_jpeg": ("train.py", TINY + ["--data", "folders:{IN}/good,{IN}/corrupt",
                                               "--out", "{OUT}"],
                           "corrupt/1.jpg: truncated JPEG"),
    "export_size_for_digits": ("export.py", ["--checkpoint", "{IN}/digits.keras", "--format",
                                             "tflite", "--size", "7", "--out", "{OUT}/d.tflite"],
                               "takes only 32x32 images; got size 7x7"),
    "export_truncated_keras": ("export.py", ["--checkpoint", "{IN}/truncated.keras",
                                             "--out", "{OUT}"],
                               "truncated.keras is not a valid .keras archive (20,000 bytes"),
    "export_text_keras": ("export.py", ["--checkpoint", "{IN}/text.keras", "--out", "{OUT}"],
                          "text.keras is not a valid .keras archive (6 bytes"),
    "export_out_is_a_file": ("export.py", ["--checkpoint", "{IN}/tiny.keras",
                                           "--out", "{IN}/a_file"], "is a file"),
    "translate_truncated_keras": ("translate.py", ["--model", "{IN}/truncated.keras",
                                                   "--input", "{IN}/good", "--output", "{OUT}"],
                                  "is not a valid .keras archive"),
    "evaluate_square_pairs": ("evaluate.py", ["--task", "maps", "--model", "{IN}/tiny.keras",
                                              "--data", "pix2pix:{IN}/squares",
                                              "--out", "{OUT}/maps.json"],
                              "squares/0.png is 32x32 (width x height), not a side-by-side"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_gives_one_error_line_and_creates_nothing(inputs, tmp_path, case):
    tool, args, message = CASES[case]
    out = tmp_path / "out"
    args = [a.replace("{IN}", str(inputs)).replace("{OUT}", str(out)) for a in args]
    before = sorted(os.listdir(inputs))
    proc = run_tool(tool, *args)
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr[-3000:]
    assert message in errors[0]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not out.exists()
    assert sorted(os.listdir(inputs)) == before
    assert (inputs / "a_file").read_text() == "x"


# train.py cases run in-process: (arguments, message), as in CASES.
TRAIN_CASES = {
    "unknown_preset": (["--preset", "nosuch", "--out", "{OUT}"],
                       "Unknown preset 'nosuch'; valid presets: digits"),
    "empty_folders": (TINY + ["--data", "folders:{IN}/empty_a,{IN}/empty_b", "--out", "{OUT}"],
                      "is empty"),
    "text_files": (TINY + ["--data", "folders:{IN}/text,{IN}/good", "--out", "{OUT}"],
                   "but no images (e.g. notes.txt)"),
    "image_size": (["--image_size", "30", "--out", "{OUT}"],
                   "image_size 30 is not a multiple of 4"),
    "out_is_a_file": (TINY + ["--out", "{IN}/a_file"], "is a file"),
    "out_read_only": (TINY + ["--out", "/proc/unit_tf_run"], "is not writable"),
}
# What tools/_cli.py turns into one `error:` line (anything else keeps its traceback).
CLI_ERRORS = (ValueError, OSError, RuntimeError, app.UsageError, tf.errors.OpError)


@pytest.mark.parametrize("case", sorted(TRAIN_CASES))
def test_train_bad_input_raises_an_input_error_and_creates_nothing(inputs, tmp_path,
                                                                   train_main, case):
    args, message = TRAIN_CASES[case]
    out = tmp_path / "out"
    args = [a.replace("{IN}", str(inputs)).replace("{OUT}", str(out)) for a in args]
    before = sorted(os.listdir(inputs))
    with pytest.raises(CLI_ERRORS) as error:
        train_main(*args)
    assert message in str(error.value)
    assert not out.exists()
    assert sorted(os.listdir(inputs)) == before
    assert (inputs / "a_file").read_text() == "x"


def test_traceback_flag_shows_the_traceback(tmp_path):
    # evaluate.py refuses a missing model before importing TensorFlow: a quick run.
    proc = run_tool("evaluate.py", "--task", "digits", "--model",
                    str(tmp_path / "missing.keras"), "--out", str(tmp_path / "x.json"),
                    "--traceback")
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "missing.keras: no such file" in proc.stderr
