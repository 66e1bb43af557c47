import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCHMARK = os.path.join(ROOT, "tools", "benchmark.py")


def test_benchmark_records_the_machine_and_its_rows(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, BENCHMARK, "--quick", "--only", "peak", "--out", str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("CPU: ")
    assert "Theoretical float32 peak" in proc.stdout
    result = json.loads(out.read_text())
    from unit_tf import hardware
    cpu = hardware.cpu_info()
    meta = result["meta"]
    assert meta["cpu"] == cpu.model and meta["simd_flags"] == cpu.simd
    assert meta["auto_precision"] == hardware.choose_precision(cpu.flags)[0]
    assert meta["theoretical_peak"] == hardware.theoretical_peak(cpu)
    assert {r["dtype"] for r in result["peak"]["rows"]} == {"float32", "bfloat16"}
    assert "rows_so_far" not in result  # a finished run keeps each row in its section


@pytest.mark.slow
def test_benchmark_times_a_card_recipe_as_trained(tmp_path):
    """tools/train.py's model flags reach the timed model (and the JSON says which)."""
    out = tmp_path / "bench.json"
    recipe = ["--width", "8", "--discriminator_scales", "3", "--gan_loss", "lsgan"]
    proc = subprocess.run(
        [sys.executable, BENCHMARK, "--quick", "--only", "train", "--nodigits",
         "--precisions", "float32", "--jit_compile", "false", *recipe, "--out", str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["settings"]["preset_overrides"] == {
        "width": 8, "discriminator_scales": 3, "gan_loss": "lsgan"}
    [row] = result["train"]
    import unit_tf
    from unit_tf import flops

    def gflop(**overrides):
        model = unit_tf.UNIT("nips_translation_lite",
                             overrides=dict(image_size=64, batch_size=1, **overrides))
        return flops.train_step_flops(model, 64, 1, reuse_translations=True).total / 1e9

    recipe_gflop = gflop(width=8, discriminator_scales=3, gan_loss="lsgan")
    assert row["gflop"] == recipe_gflop != gflop()


EXPERIMENT_CHECK = r"""
import importlib.util, json, sys
import numpy as np
spec = importlib.util.spec_from_file_location("benchmark_tool", "tools/benchmark.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
bench.FLAGS(["benchmark"])
import tensorflow as tf
rng = np.random.default_rng(0)
batch = [tf.constant(rng.uniform(-1, 1, (1, 32, 32, 3)).astype("float32")) for _ in range(2)]
out = {}
for experiments in [(), ("norm_grad",), ("batched_streams",), ("fused_instance_norm",)]:
    model = bench.build_model("nips_translation", 32, 1, "float32", seed=0,
                              experiments=experiments)
    step = tf.function(model.train_step_losses)
    out[",".join(experiments) or "plain"] = [
        {k: float(v) for k, v in step(tuple(batch)).items()} for _ in range(2)]
print(json.dumps(out))
"""


def test_train_experiments_compute_the_plain_step():
    """An A/B timing means something only if both sides compute the same step:
    each train experiment's losses match the plain model's, on the first step
    (the forward pass) and on the second (after the first step's gradients)."""
    proc = subprocess.run([sys.executable, "-c", EXPERIMENT_CHECK], capture_output=True,
                          text=True, timeout=300, cwd=ROOT,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    plain = result.pop("plain")
    assert set(plain[0]) >= {"d_gan", "g_gan", "recon", "cycle", "kl"}
    for name, steps in result.items():
        for got, want, rtol in zip(steps, plain, (1e-5, 1e-3)):
            assert got.keys() == want.keys(), name
            for key in want:
                assert got[key] == pytest.approx(want[key], rel=rtol, abs=1e-6), (name, key)
