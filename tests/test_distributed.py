import json
import os
import socket
import subprocess
import sys

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "distributed_script.py")
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONHASHSEED="0")


def last_json(stdout):
    return json.loads(stdout.strip().splitlines()[-1])


def mirrored_vs_one_device(tmp_path, steps):
    proc = subprocess.run([sys.executable, SCRIPT, "mirrored_vs_default", str(tmp_path),
                           str(steps)], capture_output=True, text=True, timeout=300, env=ENV)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = last_json(proc.stdout)
    assert result["replicas"] == 2
    assert result["moved"] > 1e-3          # training did change the weights
    return result


# With SGD the weight change is lr x the all-reduced gradient. Two replicas sum
# their halves of the batch in another order than one device: float32 rounding,
# a few ulps of the gradient (measured 1.5e-8 against 9.7e-3 moved: 1.5e-6).
# A wrong loss scale or a lost replica would move the weights by a share of
# `moved` itself; 1e-4 of it separates the two on any x86 CPU.
RELATIVE_TOLERANCE = 1e-4


def test_mirrored_on_two_cpu_devices_equals_one_device_first_step(tmp_path):
    result = mirrored_vs_one_device(tmp_path, steps=1)
    assert result["max_diff"] < RELATIVE_TOLERANCE * result["moved"], result


# Not strict: the difference appears on both AMD EPYC CPUs (AVX-512 and
# AVX2-only), but not with oneDNN capped at AVX2 on the AVX-512 one
# (ONEDNN_MAX_CPU_ISA=AVX2) nor on the Intel Xeon with AMX, where the test
# passes (BUILD_NOTES, Distributed training).
@pytest.mark.slow
@pytest.mark.xfail(strict=False, reason="from the second step on, with the discriminators "
                   "training, the E/G update on 2 replicas differs from one device by about "
                   "1% of the step on AVX-512 kernels (BUILD_NOTES, Distributed training): open")
def test_mirrored_on_two_cpu_devices_equals_one_device_second_step(tmp_path):
    result = mirrored_vs_one_device(tmp_path, steps=2)
    assert result["max_diff"] < RELATIVE_TOLERANCE * result["moved"], result


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.mark.slow
def test_multi_worker_custom_loop_two_local_workers(tmp_path):
    workers = [f"127.0.0.1:{p}" for p in free_ports(2)]
    procs = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        procs.append(subprocess.Popen(
            [sys.executable, SCRIPT, "multi_worker", str(tmp_path)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=dict(ENV, TF_CONFIG=json.dumps(tf_config))))
    outputs = []
    try:
        for proc in procs:
            outputs.append(proc.communicate(timeout=300))
    finally:
        for proc in procs:  # bounded: never leave a worker behind
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err[-3000:]
    results = [last_json(out) for out, _ in outputs]
    assert [r["replicas"] for r in results] == [2, 2]
    assert results[0]["digest"] == pytest.approx(results[1]["digest"], rel=1e-6)
    assert sorted(os.listdir(tmp_path / "checkpoints")) == ["ckpt-00000004", "latest"]
    assert not [d for d in os.listdir(tmp_path) if d.startswith(".worker_")]
