"""Fashion-MNIST from the Debian package `dataset-fashion-mnist` (IDX files).

`apt-get install dataset-fashion-mnist` puts the four original gzipped IDX
files in /usr/share/datasets/fashion-mnist: 60,000 training and 10,000 test
28x28 gray clothing images with labels. They are padded to 32x32 with a
black border (as the MNIST digits are) to form a gray 32x32 domain.
"""

import gzip
import os

import numpy as np

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
# IDX type codes: 0x08 is unsigned byte, the only one these files use.
_IDX_UBYTE = 0x08


def fashion_mnist_dir():
    """$UNIT_TF_FASHION_MNIST_DIR, else the Debian package's folder."""
    return os.environ.get("UNIT_TF_FASHION_MNIST_DIR") or DEFAULT_DIR


def read_idx(path):
    """A (gzipped) IDX file of unsigned bytes as a numpy uint8 array.

    IDX: two zero bytes, a type code (0x08 = ubyte), the number of
    dimensions, then each dimension as a big-endian uint32, then the data.
    """
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] != _IDX_UBYTE:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes.")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    if len(data) - offset != int(np.prod(shape)):
        raise ValueError(f"{path} is truncated: header says {shape}, "
                         f"found {len(data) - offset} bytes of data.")
    return np.frombuffer(data, np.uint8, offset=offset).reshape(shape)


def fashion_mnist_uint8(split="train", directory=None):
    """(uint8 [N, 32, 32, 1], uint8 labels [N]) of one split ("train" or "test").

    Raises:
        FileNotFoundError: the files are absent; the message says how to
            install them.
    """
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    directory = directory or fashion_mnist_dir()
    paths = [os.path.join(directory, name) for name in FILES[split]]
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        raise FileNotFoundError(
            f"Fashion-MNIST not found ({missing[0]} is missing). Install the Debian "
            "package with `apt-get install dataset-fashion-mnist` (files land in "
            f"{DEFAULT_DIR}), or point $UNIT_TF_FASHION_MNIST_DIR at a folder with "
            f"{', '.join(FILES[split])}.")
    images, labels = (read_idx(p) for p in paths)
    if len(images) != len(labels) or images.shape[1:] != (28, 28):
        raise ValueError(f"{directory}: unexpected Fashion-MNIST shapes "
                         f"{images.shape} and {labels.shape}.")
    return np.pad(images, ((0, 0), (2, 2), (2, 2)))[..., None], labels


def fashion_mnist(split="train", directory=None):
    """Fashion-MNIST as ([N, 32, 32, 1] float32 in [-1, 1], uint8 labels)."""
    images, labels = fashion_mnist_uint8(split, directory)
    return images.astype(np.float32) / 127.5 - 1.0, labels
