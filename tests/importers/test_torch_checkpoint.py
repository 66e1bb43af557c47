"""Reading PyTorch state_dict files without PyTorch: both formats, and refusals."""

import io
import json
import os
import sys
import zipfile

import numpy as np
import pytest

from unit_tf.importers import (ALLOWED_GLOBALS, CheckpointError, RefusedGlobalError,
                               checkpoint_format, read_state_dict)

sys.path.insert(0, os.path.dirname(__file__))
from torch_files import Call, Raw, legacy_bytes, pickle_bytes, zip_bytes  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "unit_v02_generator")
FILES = {"legacy": "gen_legacy.pkl", "zip": "gen_zip.pt"}


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_both_fixture_formats_give_every_tensor_with_its_shape():
    with open(os.path.join(FIXTURE, "keys.json")) as f:
        keys = json.load(f)
    states = {}
    for kind, name in FILES.items():
        path = os.path.join(FIXTURE, name)
        assert checkpoint_format(path) == kind
        states[kind] = read_state_dict(path)
        assert list(states[kind]) == list(keys)  # the file's order
        assert {k: list(v.shape) for k, v in states[kind].items()} == keys
        assert all(v.dtype == np.float32 for v in states[kind].values())
    for name in keys:
        np.testing.assert_array_equal(states["legacy"][name], states["zip"][name])
    bias = states["legacy"]["encode_A.0.model.0.bias"]
    assert 0.01 < np.abs(bias).mean() < 0.5  # the fixture's N(0, 0.1) biases, not zeros


@pytest.mark.parametrize("writer", [legacy_bytes, zip_bytes])
def test_layouts_dtypes_and_the_2017_rebuild_function(tmp_path, writer):
    storage = np.arange(24, dtype=np.float32)
    state = {
        "plain": np.arange(6, dtype=np.float64).reshape(2, 3),
        "half": np.array([1.5, -2.0], np.float16),
        "count": np.array(7, np.int64),                        # 0-d
        "transposed": Raw(storage, 0, (4, 6), (1, 4)),         # non-contiguous view
        "offset": Raw(storage, 5, (2, 2), (3, 1)),
        "empty": Raw(storage, 0, (0, 3), (3, 1)),
    }
    for rebuild in ("_rebuild_tensor_v2", "_rebuild_tensor"):  # later torch; torch 0.2
        got = read_state_dict(write(tmp_path, "s.pt", writer(state, rebuild=rebuild)))
        np.testing.assert_array_equal(got["plain"], state["plain"])
        assert got["plain"].dtype == np.float64 and got["half"].dtype == np.float16
        np.testing.assert_array_equal(got["half"], state["half"])
        assert got["count"].shape == () and got["count"] == 7
        np.testing.assert_array_equal(got["transposed"], storage.reshape(6, 4).T)
        np.testing.assert_array_equal(got["offset"], [[5, 6], [8, 9]])
        assert got["empty"].shape == (0, 3)


def test_a_2017_style_file_python2_strings_and_the_old_rebuild_function(tmp_path):
    with open(os.path.join(FIXTURE, "keys.json")) as f:
        names = list(json.load(f))[:4]
    fixture = read_state_dict(os.path.join(FIXTURE, "gen_zip.pt"))
    state = {name: fixture[name] for name in names}
    data = legacy_bytes(state, rebuild="_rebuild_tensor", python2=True)
    assert b"U\x19encode_A.0.model.0.weight" in data  # SHORT_BINSTRING, not BINUNICODE
    got = read_state_dict(write(tmp_path, "x_gen_00500000.pkl", data))
    assert list(got) == names
    for name in names:
        np.testing.assert_array_equal(got[name], state[name])


@pytest.mark.parametrize("writer", [legacy_bytes, zip_bytes])
def test_a_pickle_that_calls_anything_else_is_refused_by_name(tmp_path, writer):
    marker = tmp_path / "ran"
    for call, name in ((Call("os", "system", f"touch {marker}"), "os.system"),
                       (Call("builtins", "eval", "print(1)"), "builtins.eval"),
                       (Call("numpy.core.multiarray", "_reconstruct"),
                        "numpy.core.multiarray._reconstruct")):
        state = {"encode_A.0.model.0.weight": np.zeros((2, 2), np.float32), "x": call}
        path = write(tmp_path, "evil.pt", writer(state))
        with pytest.raises(RefusedGlobalError, match=f"refusing to load the global {name}:"):
            read_state_dict(path)
    assert not marker.exists(), "the refused call must not have run"
    assert "torch._utils._rebuild_tensor_v2" in ALLOWED_GLOBALS


def test_a_malicious_header_record_is_refused(tmp_path):
    # The first record of a legacy file should be the magic number.
    path = write(tmp_path, "evil.pkl",
                 pickle_bytes(Call("subprocess", "Popen", ["true"])) + legacy_bytes({}))
    with pytest.raises(RefusedGlobalError, match="subprocess.Popen"):
        read_state_dict(path)


def test_not_a_state_dict(tmp_path):
    path = write(tmp_path, "list.pt", zip_bytes({"x": np.zeros(2, np.float32)}))
    assert read_state_dict(path)["x"].shape == (2,)
    with pytest.raises(CheckpointError, match="not a tensor"):
        read_state_dict(write(tmp_path, "v.pt", zip_bytes({"x": 3})))
    with pytest.raises(CheckpointError, match="not a PyTorch checkpoint"):
        read_state_dict(write(tmp_path, "t.txt", b"hello"))
    with pytest.raises(CheckpointError, match="no such file"):
        read_state_dict(tmp_path / "missing.pkl")
    with pytest.raises(CheckpointError, match="not a PyTorch checkpoint"):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr("notes.txt", "hi")
        read_state_dict(write(tmp_path, "other.zip", buffer.getvalue()))


@pytest.mark.parametrize("name", FILES.values())
@pytest.mark.parametrize("keep", [0.001, 0.3, 0.999])
def test_truncated_files_are_named(tmp_path, name, keep):
    with open(os.path.join(FIXTURE, name), "rb") as f:
        data = f.read()
    path = write(tmp_path, name, data[:max(5, int(len(data) * keep))])
    with pytest.raises(CheckpointError, match="truncated"):
        read_state_dict(path)


def test_tensors_must_lie_inside_their_storage(tmp_path):
    storage = np.zeros(4, np.float32)
    for writer in (legacy_bytes, zip_bytes):
        path = write(tmp_path, "oob.pt", writer({"w": Raw(storage, 1, (2, 2), (2, 1))}))
        with pytest.raises(CheckpointError, match="reaches element 4 of a storage of 4"):
            read_state_dict(path)


def test_zip_limits_and_member_sizes_are_checked_before_reading(tmp_path):
    state = {"w": np.zeros((64, 64), np.float32)}
    path = write(tmp_path, "big.pt", zip_bytes(state))
    with pytest.raises(CheckpointError, match="over the 1000-byte limit"):
        read_state_dict(path, max_bytes=1000)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["archive/data/0"] = members["archive/data/0"][:100]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    with pytest.raises(CheckpointError, match="has 100 bytes, but the state_dict says 4096"):
        read_state_dict(write(tmp_path, "short.pt", buffer.getvalue()))
