"""Paired evaluation data: side-by-side halves, resizing, the maps val split."""

import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from unit_tf.data import iter_pairs, maps_eval_pairs


def test_iter_pairs_resizes_halves_in_natural_order(tmp_path):
    for i in (1, 2, 10):
        pair = np.zeros((30, 60, 3), np.uint8)
        pair[:, :30] = i
        pair[:, 30:] = 100 + i
        Image.fromarray(pair).save(tmp_path / f"{i}.png")
    chunks = list(iter_pairs(str(tmp_path), size=16, chunk_size=2))
    assert [len(c[0]) for c in chunks] == [2, 1]
    left = np.concatenate([c[0] for c in chunks])
    right = np.concatenate([c[1] for c in chunks])
    assert left.shape == right.shape == (3, 16, 16, 3) and left.dtype == np.uint8
    assert [int(v) for v in left[:, 0, 0, 0]] == [1, 2, 10]
    assert [int(v) for v in right[:, 0, 0, 0]] == [101, 102, 110]
    assert [os.path.basename(p) for p in chunks[0][2]] == ["1.png", "2.png"]
    limited = list(iter_pairs(str(tmp_path), size=16, limit=1))
    assert len(limited) == 1 and len(limited[0][0]) == 1


def test_missing_val_folder(tmp_path):
    with pytest.raises(ValueError, match="no val/ folder"):
        maps_eval_pairs(str(tmp_path))


def test_real_maps_val_pairs_unchanged_at_256(shared_maps):
    if not os.path.isdir(shared_maps):
        pytest.skip(f"{shared_maps} is not on this machine")
    satellite, maps = maps_eval_pairs(shared_maps, size=256, limit=2)
    assert satellite.shape == maps.shape == (2, 256, 256, 3)
    assert satellite.dtype == maps.dtype == np.uint8
    decoded = tf.io.decode_jpeg(tf.io.read_file(os.path.join(shared_maps, "val", "1.jpg")),
                                dct_method="INTEGER_ACCURATE").numpy()
    assert decoded.shape == (256, 512, 3)
    np.testing.assert_array_equal(satellite[0], decoded[:, :256])
    np.testing.assert_array_equal(maps[0], decoded[:, 256:])


def test_images_that_are_not_side_by_side_pairs_are_refused(tmp_path):
    Image.fromarray(np.zeros((30, 61, 3), np.uint8)).save(tmp_path / "1.png")  # odd width: ok
    Image.fromarray(np.zeros((30, 30, 3), np.uint8)).save(tmp_path / "2.png")
    with pytest.raises(ValueError, match=r"2.png is 30x30 .*not a side-by-side pair"):
        list(iter_pairs(str(tmp_path), size=16))
    assert len(list(iter_pairs(str(tmp_path), size=16, limit=1))) == 1
