"""Image files and tensors: listing, checks, decoding, channel and size handling."""

import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from unit_tf.data import images as img


def save(path, array, fmt=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.asarray(array, np.uint8)).save(path, format=fmt)
    return str(path)


def test_gray_to_rgb_repeats_and_rgb_to_gray_uses_luminance():
    gray = np.full((2, 3, 1), 100, np.uint8)
    rgb = img.to_channels(gray, 3).numpy()
    assert rgb.shape == (2, 3, 3) and np.all(rgb == 100)
    colour = np.zeros((1, 1, 3), np.uint8)
    colour[..., 0] = 200
    assert img.to_channels(colour, 1).numpy()[0, 0, 0] == pytest.approx(0.299 * 200, abs=1e-3)
    assert np.all(img.to_channels(colour, 3).numpy() == colour)


def test_alpha_is_composited_on_white():
    rgba = np.zeros((1, 2, 4), np.uint8)
    rgba[0, 0] = (0, 0, 0, 0)        # fully transparent black -> white
    rgba[0, 1] = (0, 0, 0, 255)      # opaque black stays black
    out = img.to_channels(rgba, 3).numpy()
    assert np.allclose(out[0, 0], 255) and np.allclose(out[0, 1], 0)
    gray_alpha = np.array([[[0, 51]]], np.uint8)  # 20% opaque black
    assert img.to_channels(gray_alpha, 1).numpy()[0, 0, 0] == pytest.approx(204, abs=1e-3)


def test_channels_unknown_until_run_time():
    @tf.function(input_signature=[tf.TensorSpec([None, None, None], tf.uint8)])
    def convert(x):
        return img.to_channels(x, 3)
    for c in (1, 2, 3, 4):
        x = np.full((2, 2, c), 255, np.uint8)
        assert convert(x).numpy().shape == (2, 2, 3)
        assert np.allclose(convert(x).numpy(), 255)


def test_list_images_natural_order_recursive_ignores_other_files(tmp_path):
    for name in ("10.png", "2.png", "sub/1.jpg"):
        save(tmp_path / name, np.zeros((4, 4, 3)))
    (tmp_path / "notes.txt").write_text("not an image")
    paths = img.list_images(str(tmp_path))
    assert [os.path.relpath(p, tmp_path) for p in paths] == ["2.png", "10.png",
                                                             os.path.join("sub", "1.jpg")]


def test_list_images_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        img.list_images(str(tmp_path / "missing"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="is empty"):
        img.list_images(str(empty))
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "a.txt").write_text("x")
    (texts / "b.csv").write_text("1,2")
    with pytest.raises(ValueError, match="no images"):
        img.list_images(str(texts))
    a_file = save(tmp_path / "one.png", np.zeros((2, 2)))
    with pytest.raises(ValueError, match="is a file"):
        img.list_images(a_file)


@pytest.mark.parametrize("content, problem", [
    (b"", "empty"),
    (b"this is not an image at all", "unrecognised header"),
])
def test_corrupt_file_is_named(tmp_path, content, problem):
    save(tmp_path / "good.png", np.zeros((4, 4, 3)))
    bad = tmp_path / "bad.png"
    bad.write_bytes(content)
    with pytest.raises(ValueError, match=f"bad.png.*{problem}"):
        img.list_images(str(tmp_path))


def test_truncated_jpeg_and_png_are_caught(tmp_path):
    noise = np.random.RandomState(0).randint(0, 255, (32, 32, 3))
    for name in ("cut.jpg", "cut.png"):
        path = save(tmp_path / name, noise)
        data = open(path, "rb").read()
        open(path, "wb").write(data[:len(data) // 2])
        with pytest.raises(ValueError, match=f"{name}: truncated"):
            img.check_image_file(path)


def test_load_image_half_and_channels(tmp_path):
    pair = np.zeros((6, 10, 3), np.uint8)
    pair[:, 5:] = 255
    path = save(tmp_path / "pair.png", pair)
    left = img.load_image(path, 3, "left")
    right = img.load_image(path, 1, "right")
    assert left.shape == (6, 5, 3) and left.max() == 0
    assert right.shape == (6, 5, 1) and right.min() == 255
    with pytest.raises(ValueError, match="does not exist"):
        img.load_image(str(tmp_path / "nope.png"), 3)


def test_fit_to_size_modes_are_deterministic():
    image = tf.random.stateless_uniform((40, 60, 3), (1, 2), maxval=255.0)
    seed = tf.constant([3, 4], tf.int64)
    resized = img.fit_to_size(image, 32, seed)
    assert resized.shape == (32, 32, 3)
    crop1 = img.fit_to_size(image, 32, seed, random_crop=True, flip=True)
    crop2 = img.fit_to_size(image, 32, seed, random_crop=True, flip=True)
    assert np.array_equal(crop1.numpy(), crop2.numpy())
    jitter = img.fit_to_size(image, (16, 24), seed, random_crop=True, resize_to=48)
    assert jitter.shape == (16, 24, 3)
    small = tf.zeros((8, 8, 3))
    assert img.fit_to_size(small, 16, seed, random_crop=True).shape == (16, 16, 3)
    centre = img.fit_to_size(image, 20, seed, resize_to=(40, 60))
    assert np.allclose(centre.numpy(), image.numpy()[10:30, 20:40])


def test_resize_a_statically_shaped_image_to_another_size():
    @tf.function
    def shrink(image):  # the static shape is known while tracing
        return img.resize(image, 30)
    out = shrink(tf.zeros((32, 32, 3)))
    assert out.shape == (30, 30, 3)
    same = tf.ones((30, 30, 3))
    assert img.resize(same, 30) is same
