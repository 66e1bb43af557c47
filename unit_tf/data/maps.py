"""Paired evaluation data of the maps protocol (NIPS 2017 Sec. 4).

Training never sees a pair: domain A is the satellite (left) halves of the
pix2pix maps train split, domain B the map (right) halves of the val split
(`--data maps:ROOT`). Evaluation translates the val satellites and compares
them with their own map halves, both at 256x256.

Resizing: each half is resized to `size` x `size` with bilinear
interpolation, antialiased when shrinking (TensorFlow's
`tf.image.resize(..., "bilinear", antialias=True)`), then rounded to uint8.
Halves already at that size (the 512x256 files, whose halves are 256x256)
are used exactly as decoded. JPEGs are decoded with the accurate integer DCT.
"""

import os

import numpy as np
import tensorflow as tf

from unit_tf.data import images as img


def _pair_fn(size):
    def load(path):
        image = img.to_channels(img.decode(tf.io.read_file(path)), 3)
        halves = []
        for half in ("left", "right"):
            part = img.resize(img.take_half(image, half), size)
            halves.append(tf.cast(tf.round(tf.clip_by_value(part, 0.0, 255.0)), tf.uint8))
        return tuple(halves)
    return load


def iter_pairs(folder, size=256, limit=None, chunk_size=32):
    """Yields (left uint8 [n, size, size, 3], right uint8 [...], paths) chunks.

    Args:
        folder: a folder of side-by-side pairs (searched recursively, natural
            order: 1.jpg, 2.jpg, ..., 10.jpg); a file that is not twice as
            wide as tall is refused (named).
        size: side of the square each half is resized to (see module docstring).
        limit: only the first `limit` files.
        chunk_size: images per chunk; chunks keep memory flat on the full set.
    """
    paths = img.list_images(folder)
    if limit is not None:
        if limit < 1:
            raise ValueError(f"limit must be positive, got {limit}.")
        paths = paths[:limit]
    img.check_side_by_side(paths)
    ds = tf.data.Dataset.from_tensor_slices(paths).map(
        _pair_fn(size), num_parallel_calls=tf.data.AUTOTUNE).batch(chunk_size)
    start = 0
    for left, right in ds:
        n = left.shape[0]
        yield left.numpy(), right.numpy(), paths[start:start + n]
        start += n


def maps_val_folder(root):
    """ROOT/val of a maps root, with a clear error when it is missing."""
    folder = os.path.join(root, "val")
    if not os.path.isdir(folder):
        raise ValueError(f"maps root {root} has no val/ folder; give the folder that "
                         "holds the pix2pix maps train/ and val/ splits.")
    return folder


def iter_maps_eval_pairs(root, size=256, limit=None, chunk_size=32):
    """Chunks of (satellite, map, paths) from ROOT/val; see `iter_pairs`."""
    return iter_pairs(maps_val_folder(root), size, limit, chunk_size)


def maps_eval_pairs(root, size=256, limit=None):
    """All val pairs of the maps protocol in memory.

    Args:
        root: the maps root (with train/ and val/ of 1096 / 1098 files).
        size: side of the square both halves are resized to, bilinear (see
            module docstring).
        limit: only the first `limit` val files (natural order).

    Returns:
        (satellite uint8 [N, size, size, 3], map uint8 [N, size, size, 3]).
        The full set is ~430 MB at 256; `iter_maps_eval_pairs` streams it.
    """
    satellites, maps = [], []
    for sat, mp, _ in iter_maps_eval_pairs(root, size, limit):
        satellites.append(sat)
        maps.append(mp)
    return np.concatenate(satellites), np.concatenate(maps)
