"""unit_tf.fileio: every write lands whole or not at all."""

import json
import os

import numpy as np
import pytest

from unit_tf import fileio


def test_atomic_write_creates_folder_and_replaces(tmp_path):
    path = tmp_path / "sub" / "file.bin"
    fileio.atomic_write(str(path), b"first")
    fileio.atomic_write(str(path), b"second")
    assert path.read_bytes() == b"second"
    assert os.listdir(path.parent) == ["file.bin"]


def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "out.json"
    fileio.atomic_write_json(str(path), {"ok": 1})
    with pytest.raises(TypeError):
        fileio.atomic_write_json(str(path), {"bad": object()})
    with pytest.raises(TypeError):   # fails inside the temp-file write
        fileio.atomic_write(str(path), "text, not bytes")
    assert json.loads(path.read_text()) == {"ok": 1}
    assert os.listdir(tmp_path) == ["out.json"]


def test_atomic_write_json_sort_keys(tmp_path):
    path = tmp_path / "m.json"
    fileio.atomic_write_json(str(path), {"b": 1, "a": 2}, sort_keys=True)
    text = path.read_text()
    assert text.index('"a"') < text.index('"b"') and text.endswith("\n")


def test_atomic_save_npz_round_trip(tmp_path):
    path = tmp_path / "arrays.npz"
    x = np.arange(12, dtype=np.uint8).reshape(3, 4)
    fileio.atomic_save_npz(str(path), x=x, y=np.float32(2.5))
    with np.load(path) as data:
        np.testing.assert_array_equal(data["x"], x)
        assert data["y"] == np.float32(2.5)
    assert os.listdir(tmp_path) == ["arrays.npz"]


def test_atomic_write_png(tmp_path):
    from PIL import Image

    image = np.zeros((4, 5, 3), np.uint8)
    image[1, 2] = (255, 0, 7)
    path = fileio.atomic_write_png(str(tmp_path / "x.png"), image)
    np.testing.assert_array_equal(np.asarray(Image.open(path)), image)


def test_atomic_write_gives_the_mode_a_plain_open_would(tmp_path):
    old = os.umask(0o022)
    try:
        path = fileio.atomic_write(str(tmp_path / "x.bin"), b"x")
    finally:
        os.umask(old)
    assert os.stat(path).st_mode & 0o777 == 0o644


def test_check_writable_folder_creates_nothing(tmp_path):
    fileio.check_writable_folder(str(tmp_path / "new" / "deeper"))
    assert os.listdir(tmp_path) == []
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ValueError, match="--out .*file is a file, not a folder"):
        fileio.check_writable_folder(str(a_file))
    with pytest.raises(ValueError, match="--output .* is not writable: .*file is a file"):
        fileio.check_writable_folder(str(a_file / "run"), "--output")
    # Nothing can be created in /proc, not even by root.
    with pytest.raises(ValueError, match="is not writable"):
        fileio.check_writable_folder("/proc/unit_tf_test_run")
    assert os.listdir(tmp_path) == ["file"]


def test_temp_dir_has_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        path = fileio.make_temp_dir(str(tmp_path), prefix=".tmp-")
    finally:
        os.umask(umask)
    assert os.path.basename(path).startswith(".tmp-")
    assert os.stat(path).st_mode & 0o777 == 0o755
