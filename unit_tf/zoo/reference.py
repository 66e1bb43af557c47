"""Reference outputs, sample grids and the float16 storage parity check.

`reference.npz` in an entry folder holds a few real input crops of each
domain and their translations as the published weights produced them:

    a, b        uint8 [N, S, S, C] input crops (S = 64, or the fixed size)
    a2b, b2a    uint8 translations of `a` and `b`

The zoo tests translate `a` and `b` again and compare, so a change anywhere
(weights, preset, layers, TF version) that alters a published model shows up.
"""

import os
import tempfile

import numpy as np

from unit_tf.fileio import atomic_save_npz

REFERENCE_CROP = 64
# Largest difference, in levels of 255, tolerated between a stored reference
# and a fresh translation: rounding to uint8 can flip by one level when float
# sums are ordered differently (another CPU, another TF build).
REFERENCE_TOLERANCE = 2


def as_batch(images):
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"reference images must be uint8, got {images.dtype}.")
    return images[None] if images.ndim == 3 else images


def center_crop(images, size):
    """Centre crops of side `size` (or the whole image if it is smaller)."""
    images = as_batch(images)
    h, w = images.shape[1:3]
    sh, sw = min(size, h), min(size, w)
    top, left = (h - sh) // 2, (w - sw) // 2
    return images[:, top:top + sh, left:left + sw]


def _crop_size(translator, crop):
    p = translator.preset
    return p.image_size if p.fixed_size else crop


def write_reference(translator, path, images_a, images_b, crop=REFERENCE_CROP):
    """Writes `reference.npz`: input crops and their translations.

    Args:
        translator: the entry's `Translator`, loaded from its stored weights
            (e.g. `unit_tf.zoo.load_entry(folder, require_published=False)`),
            so the reference matches what users will load.
        path: the output `.npz` (usually `<entry>/reference.npz`).
        images_a, images_b: real uint8 images of each domain ([N, H, W, C] or
            one [H, W, C]); a few are enough, the file should stay small.
        crop: side of the centre crops (fixed-size presets use their size).

    Returns:
        The path written.

    Examples:
        >>> t = unit_tf.zoo.load_entry("zoo/map_sat2map", require_published=False)
        >>> write_reference(t, "zoo/map_sat2map/reference.npz", sat[:2], maps[:2])
    """
    size = _crop_size(translator, crop)
    a = center_crop(images_a, size)
    b = center_crop(images_b, size)
    arrays = {"a": a, "b": b, "a2b": translator.translate_a2b(a),
              "b2a": translator.translate_b2a(b)}
    return atomic_save_npz(path, **arrays)


def compare_reference(translator, path):
    """Max absolute difference (levels of 255) per direction against a reference.

    Returns:
        {"a2b": int, "b2a": int}; compare with `REFERENCE_TOLERANCE`.
    """
    with np.load(path, allow_pickle=False) as ref:
        return {d: int(np.abs(getattr(translator, f"translate_{d}")(ref[d[0]]).astype(np.int16)
                              - ref[d].astype(np.int16)).max())
                for d in ("a2b", "b2a")}


def write_sample_grid(translator, path, images_a, images_b, size=None):
    """Writes a PNG grid: row 1 A inputs, row 2 A->B, row 3 B inputs, row 4 B->A.

    Args:
        translator: a `Translator`.
        path: the PNG file.
        images_a, images_b: uint8 images of each domain, as many of each
            (centre-cropped to a common `size`).
        size: side of the tiles; default the preset's size for fixed-size
            presets, else the images' own (the smallest side among them), so
            a maps entry shows whole val tiles, not training-size crops.

    Returns:
        The path written.
    """
    from PIL import Image

    if size is None:
        p = translator.preset
        size = p.image_size if p.fixed_size else min(
            min(np.shape(x)[1:3]) for x in (images_a, images_b))
    a = center_crop(images_a, size)
    b = center_crop(images_b, size)
    rows = [a, translator.translate_a2b(a), b, translator.translate_b2a(b)]
    # Grey domains are shown as RGB so every row can share one image.
    rows = [np.repeat(r, 3, axis=-1) if r.shape[-1] == 1 else r for r in rows]
    n = max(len(r) for r in rows)
    h, w = rows[0].shape[1:3]
    grid = np.full((4 * h, n * w, 3), 255, np.uint8)
    for i, row in enumerate(rows):
        for j, tile in enumerate(row):
            grid[i * h:(i + 1) * h, j * w:(j + 1) * w] = tile[:h, :w]
    Image.fromarray(grid).save(path)
    return path


def storage_parity(model, images_a, images_b, dtype="float16"):
    """How much storing the weights as `dtype` changes the translations.

    Writes the weights with `write_weights`, loads them into a fresh model of
    the same architecture and translates the same uint8 images with both.

    Args:
        model: a `unit_tf.UNIT`.
        images_a, images_b: uint8 images of each domain.
        dtype: the storage dtype to check.

    Returns:
        {"a2b": max abs difference, "b2a": ...} in levels of 255.
    """
    from unit_tf.models import UNIT
    from unit_tf.translator import Translator
    from unit_tf.zoo.weights import (has_discriminators, load_weights, read_weights,
                                     write_weights)

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "weights.npz")
        write_weights(model, path, dtype=dtype)
        _, meta = read_weights(path)
        clone = UNIT(model.preset, share_weights=model.share_weights,
                     cycle_consistency=model.cycle_consistency,
                     discriminators=has_discriminators(meta),
                     domain_names=model.domain_names)
        load_weights(clone, path)
    original, stored = Translator(model), Translator(clone)
    return {d: int(np.abs(getattr(original, f"translate_{d}")(x).astype(np.int16)
                          - getattr(stored, f"translate_{d}")(x).astype(np.int16)).max())
            for d, x in (("a2b", as_batch(images_a)), ("b2a", as_batch(images_b)))}
