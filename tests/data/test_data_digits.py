"""In-memory digit domains: UCI optical digits, Fashion-MNIST IDX files."""

import gzip
import os

import numpy as np
import pytest

from unit_tf.data import fashion_mnist, uci_digits
from unit_tf.data.fashion_mnist import fashion_mnist_uint8, read_idx
from unit_tf.data.uci_digits import DIGIT_BOX


def write_idx(path, array, compress=True):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    with (gzip.open if compress else open)(path, "wb") as f:
        f.write(data)


def test_read_idx_round_trip_and_truncation(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(str(tmp_path / "x.gz"), array)
    write_idx(str(tmp_path / "x.idx"), array, compress=False)
    np.testing.assert_array_equal(read_idx(str(tmp_path / "x.gz")), array)
    np.testing.assert_array_equal(read_idx(str(tmp_path / "x.idx")), array)
    data = open(tmp_path / "x.idx", "rb").read()
    open(tmp_path / "cut.idx", "wb").write(data[:-3])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(str(tmp_path / "cut.idx"))


def test_fashion_mnist_from_a_folder_of_idx_files(tmp_path):
    images = np.random.RandomState(0).randint(0, 255, (5, 28, 28))
    write_idx(str(tmp_path / "t10k-images-idx3-ubyte.gz"), images)
    write_idx(str(tmp_path / "t10k-labels-idx1-ubyte.gz"), np.arange(5))
    x, y = fashion_mnist_uint8("test", directory=str(tmp_path))
    assert x.shape == (5, 32, 32, 1) and list(y) == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(x[:, 2:30, 2:30, 0], images)
    with pytest.raises(FileNotFoundError, match="apt-get install"):
        fashion_mnist_uint8("train", directory=str(tmp_path))


def test_fashion_mnist_debian_package():
    if not os.path.isdir("/usr/share/datasets/fashion-mnist"):
        pytest.skip("apt-get install dataset-fashion-mnist to run this test")
    x, y = fashion_mnist("test")
    assert x.shape == (10000, 32, 32, 1) and y.shape == (10000,)
    assert x.min() == -1.0 and x.max() == 1.0 and set(np.unique(y)) == set(range(10))


def test_uci_digits_parts():
    x_train, y_train = uci_digits("train")
    x_test, y_test = uci_digits("test")
    assert x_train.shape == (1258, 32, 32, 1) and x_test.shape == (539, 32, 32, 1)
    assert -1.0 <= x_train.min() and x_train.max() <= 1.0
    assert set(np.unique(y_test)) == set(range(10))
    with pytest.raises(ValueError, match="part"):
        uci_digits("val")


def test_uci_digits_are_framed_like_mnist():
    # The digit fills a centred 20x20 box, as MNIST's does; the 6-pixel border is black.
    x, _ = uci_digits("train")
    border = (32 - DIGIT_BOX) // 2
    assert border == 6
    inside = x[:, border:-border, border:-border]
    assert (x[:, :border] == -1).all() and (x[:, -border:] == -1).all()
    assert (x[:, :, :border] == -1).all() and (x[:, :, -border:] == -1).all()
    assert inside.max() > 0.9 and (inside > -1).mean() > 0.3
