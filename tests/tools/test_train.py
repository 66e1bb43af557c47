import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from absl import app

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRAIN = os.path.join(ROOT, "tools", "train.py")


def run(*args, env=None):
    return subprocess.run([sys.executable, TRAIN, *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **(env or {})))


@pytest.mark.slow
def test_train_tiny_on_mnist_toy_then_resume(tmp_path):
    out = str(tmp_path / "run")
    common = ["--preset", "tiny", "--batch_size", "8", "--log_every", "2",
              "--sample_every", "2", "--checkpoint_every", "2", "--out", out]
    proc = run(*common, "--steps", "4")
    assert proc.returncode == 0, proc.stderr[-2000:]
    config = json.load(open(os.path.join(out, "train_config.json")))
    assert config["steps"] == 4 and config["domains"] == ["strokes", "edges"]
    from unit_tf import hardware
    assert config["precision"] == hardware.choose_precision(hardware.cpu_info().flags)[0]
    assert {"model.keras", "checkpoints", "samples", "tensorboard"} <= set(os.listdir(out))
    assert "step_00000004.png" in os.listdir(os.path.join(out, "samples"))
    # mnist_toy runs end with the toy-digits metric, as tools/evaluate.py writes it.
    evaluation = json.load(open(os.path.join(out, "eval_digits.json")))
    assert evaluation["task"] == "digits" and evaluation["command"].startswith(
        "python tools/evaluate.py --task digits --model ")
    assert f"a2b: {evaluation['metrics']['a2b']['mean_distance']:.3f}" in proc.stdout
    proc = run(*common, "--steps", "6", "--noeval")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Resumed from step 4" in proc.stdout
    assert json.load(open(os.path.join(out, "train_config.json")))["steps"] == 6


def test_source_only_classifier(tmp_path, train_main):
    out = str(tmp_path / "source_only")
    proc = run("--preset", "lenet", "--source_only", "--steps", "3", "--batch_size", "8",
               "--out", out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    config = json.load(open(os.path.join(out, "train_config.json")))
    assert config["model"] == "SourceOnlyClassifier" and config["steps"] == 3
    assert config["data"] == "mnist_uci" and "loss" in config["final_losses"]
    assert sorted(os.listdir(out)) == ["model.keras", "train_config.json"]
    with pytest.raises(app.UsageError, match="needs an adaptation preset"):
        train_main("--preset", "tiny", "--source_only", "--steps", "1", "--out", out)


@pytest.mark.parametrize("args, message", [
    (["--data", "cifar:here"], "cifar:here"),
    (["--preset", "nips_translation"], "--data is required"),
    (["--preset", "unknown"], "valid presets"),
    (["--shared_encoder", "-1"], "shared_encoder must be a non-negative"),
    (["--lr_decay_start", "1"], "--lr_decay_start (1) must be at least 0 and below --steps (1)"),
    (["--preset", "tiny", "--gan_loss", "hinge"], "gan_loss must be 'bce' or 'lsgan'"),
    (["--preset", "lenet", "--recipe", "dann", "--source_only"],
     "valid recipes: authors, unit_tf"),
])
def test_bad_flags_fail_clearly(tmp_path, train_main, args, message):
    with pytest.raises((ValueError, app.UsageError), match=re.escape(message)):
        train_main("--steps", "1", "--out", str(tmp_path / "o"), *args)
    assert not (tmp_path / "o").exists()


def test_unwritable_out(tmp_path, train_main):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="not writable"):
        train_main("--preset", "tiny", "--steps", "1", "--out", str(blocker / "run"))
    assert not (tmp_path / "file" / "run").exists()


def test_npm_missing_is_explained(tmp_path, train_main, monkeypatch):
    from unit_tf.data import sources

    monkeypatch.setenv("PATH", os.path.dirname(sys.executable))
    monkeypatch.setenv("UNIT_TF_CACHE", str(tmp_path / "cache"))
    sources._toy_train.cache_clear()  # read the digits again, from the empty cache
    with pytest.raises(RuntimeError, match="`npm` is not installed"):
        train_main("--preset", "tiny", "--steps", "1", "--out", str(tmp_path / "o"))
    cache = tmp_path / "cache"
    assert not cache.exists() or not os.listdir(cache)  # nothing half-written
    assert not (tmp_path / "o").exists()


def test_recipe_flags_and_auto_precision_on_an_avx2_cpu(tmp_path):
    # One short run checks two things: the recipe flags reach the preset, and
    # on a CPU without native bfloat16 `auto` picks float32 and says why.
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 23\n"
                       "model name\t: AMD EPYC (AVX2)\ncpu MHz\t\t: 2450.0\n"
                       "flags\t\t: fpu sse4_2 fma avx avx2 f16c\n\n")
    out = tmp_path / "run"
    proc = run("--preset", "tiny", "--steps", "2", "--batch_size", "4", "--log_every", "1",
               "--sample_every", "0", "--checkpoint_every", "0", "--gan_loss", "lsgan",
               "--discriminator_scales", "2", "--lambda0", "1", "--learning_rate", "3e-4",
               "--lr_decay_start", "1", "--noeval", "--out", str(out),
               env={"UNIT_TF_CPUINFO": str(cpuinfo)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    config = json.loads((out / "train_config.json").read_text())
    preset = config["preset"]
    assert preset["gan_loss"] == "lsgan" and preset["discriminator_scales"] == 2
    assert preset["loss_weights"]["gan"] == 1.0
    assert config["learning_rate"] == {"initial": 3e-4, "start": 1, "end": 2}
    assert "Precision float32: the CPU has no native bfloat16" in proc.stdout
    assert config["precision"] == "float32"
    assert "no native bfloat16" in config["precision_reason"]
    assert config["cpu"].startswith("AMD EPYC (AVX2)")
    # The allocator setting is printed and recorded too (a dict where it was applied).
    assert f"Allocator: {config['allocator']}" in proc.stdout


def test_source_only_on_mnist_m_with_the_authors_recipe_then_evaluate(tmp_path, capsys,
                                                                      evaluate_tool):
    out = tmp_path / "mnistm"
    proc = run("--preset", "lenet", "--recipe", "authors", "--weight_decay", "1e-3",
               "--channels_b", "3", "--data", "mnist_m", "--source_only", "--steps", "3",
               "--batch_size", "8", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    config = json.loads((out / "train_config.json").read_text())
    preset = config["preset"]
    assert config["data"] == "mnist_m" and preset["channels_b"] == 3
    assert preset["loss_reduction"] == "sum" and preset["weight_decay"] == 1e-3  # flag wins
    # tools/evaluate.py's run() on the trained file (its command line: test_evaluate.py).
    result = tmp_path / "eval.json"
    evaluate_tool.print_table(evaluate_tool.run(
        "adaptation", str(out / "model.keras"), "mnist_m", str(result), limit=50))
    metrics = json.loads(result.read_text())["metrics"]
    assert metrics["num_target"] == metrics["num_source"] == 50
    assert 0.0 <= metrics["target_accuracy"] <= 1.0
    assert "adaptation mnist -> mnist_m" in capsys.readouterr().out


def stop_while_training(out, signum, *extra):
    """Starts a long tiny run and sends `signum` once it reports its speed.

    Without the cap on a call's wall time the run would take hours to reach
    a step boundary: no sample or checkpoint step and --log_every 100000.

    Returns (stdout lines before the signal, stdout lines after it, stderr,
    exit code, seconds from the signal to the "stopped" line).
    """
    args = [sys.executable, TRAIN, "--preset", "tiny", "--batch_size", "8", "--steps",
            "100000", "--log_every", "100000", "--sample_every", "0", "--checkpoint_every",
            "0", "--noeval", "--out", str(out), *extra]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    try:
        before, after, took = [], [], None
        for line in proc.stdout:
            before.append(line)
            if " it/s " in line:
                break
        sent = time.monotonic()
        proc.send_signal(signum)
        for line in proc.stdout:
            after.append(line)
            if "stopped at step" in line:
                took = time.monotonic() - sent
        err = proc.stderr.read()
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:  # never leave a training process behind
            proc.kill()
            proc.wait()
    return before, after, err, proc.returncode, took


def test_signals_stop_with_a_checkpoint_and_the_rerun_resumes_from_it(tmp_path):
    from unit_tf.translator import load_keras_model

    out = tmp_path / "run"
    checkpoints = out / "checkpoints"
    stops = []
    for signum, name, code in ((signal.SIGINT, "SIGINT", 130), (signal.SIGTERM, "SIGTERM", 143)):
        before, after, err, returncode, took = stop_while_training(out, signum)
        assert returncode == code, err[-3000:]
        # A few seconds on an idle machine; the bound leaves room for a loaded one.
        assert took is not None and took < 30, f"{name}: took {took} s to stop"
        assert f"{name}: stopping at the next step boundary" in err
        stopped = re.search(rf"{name}: stopped at step (\d+) of 100000; checkpoint (\S+)\. ",
                            "".join(after))
        assert stopped, after
        step, path = int(stopped[1]), stopped[2]
        assert path == str(checkpoints / f"ckpt-{step:08d}")
        assert json.load(open(os.path.join(path, "state.json")))["step"] == step
        assert (checkpoints / "latest").read_text() == f"ckpt-{step:08d}"
        stops.append((before, step, path))
    (first, step_1, path_1), (rerun, step_2, _) = stops
    # The first lines name the precision and why, and the allocator (unit_tf.hardware),
    # then where it starts.
    assert first[0].startswith("Precision ") and rerun[0].startswith("Precision ")
    assert first[1].startswith("Allocator: ") and rerun[1].startswith("Allocator: ")
    assert first[2].startswith(f"No checkpoint in {checkpoints}, starting at step 0.")
    assert rerun[2].startswith(f"Resumed from step {step_1} ({path_1}).")
    assert step_2 > step_1
    assert sorted(os.listdir(checkpoints)) == [f"ckpt-{step_1:08d}", f"ckpt-{step_2:08d}",
                                               "latest"]
    model = load_keras_model(str(checkpoints / f"ckpt-{step_2:08d}" / "model.keras"))
    assert model.preset.name == "tiny"
    assert not (out / "model.keras").exists()     # only a finished run writes it
