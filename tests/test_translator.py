"""unit_tf.translator: damaged .keras files are named as such; translate_scale."""

import numpy as np
import pytest
import tensorflow as tf

import unit_tf
from unit_tf.data import images as img
from unit_tf.translator import Translator, load, load_keras_model, resize_images, scaled_size


@pytest.fixture(scope="module")
def keras_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    unit_tf.UNIT("tiny").save(path)
    return path.read_bytes()


def test_truncated_and_text_files_are_not_valid_archives(tmp_path, keras_bytes):
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(keras_bytes[:20000])
    text = tmp_path / "text.keras"
    text.write_text("hello\n")
    with pytest.raises(ValueError, match=r"truncated.keras is not a valid .keras archive "
                                         r"\(20,000 bytes"):
        load_keras_model(str(truncated))
    with pytest.raises(ValueError, match=r"text.keras is not a valid .keras archive \(6 bytes"):
        load(str(text))


def test_valid_archive_loads(tmp_path, keras_bytes):
    path = tmp_path / "ok.keras"
    path.write_bytes(keras_bytes)
    assert load(str(path)).preset.name == "tiny"


# --- translate_scale: inputs resized like the training data, outputs back ----

@pytest.mark.parametrize("size_in,size_out", [((37, 29), (16, 12)), ((20, 30), (50, 41)),
                                              ((64, 64), (32, 32))])
def test_resize_images_is_the_training_pipelines_resize(size_in, size_out):
    x = np.random.default_rng(0).random((2, *size_in, 3), dtype=np.float32)
    want = np.stack([img.resize(tf.constant(i), size_out).numpy() for i in x])
    got = resize_images(tf.constant(x), *size_out).numpy()
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-5)
    # The same in a graph with unknown sizes (SavedModel signatures).
    fn = tf.function(lambda t, h, w: resize_images(t, h, w),
                     input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32),
                                      tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32)])
    np.testing.assert_allclose(fn(x, *size_out).numpy(), want, atol=1e-5)


def test_scaled_size():
    assert scaled_size(256, 200, 0.5) == (128, 100)
    assert scaled_size(3, 1, 0.1) == (1, 1)
    assert [int(v) for v in scaled_size(tf.constant(256), tf.constant(200), 0.5)] == [128, 100]


def test_translator_resizes_by_translate_scale(half_scale_model):
    x = np.random.default_rng(1).integers(0, 256, (2, 64, 48, 3), dtype=np.uint8)
    got = Translator(half_scale_model).translate_a2b(x)
    assert got.shape == x.shape and got.dtype == np.uint8
    # By hand: the training pipeline's resize to half, the net, bilinear back.
    small = np.stack([img.resize(tf.constant(i / 127.5 - 1, tf.float32), (32, 24)).numpy()
                      for i in x])
    y = half_scale_model.translate_a2b(small).numpy().astype(np.float32)
    back = tf.image.resize(y, (64, 48), method="bilinear").numpy()
    want = np.round(np.clip((back + 1) * 127.5, 0, 255))
    assert np.abs(got.astype(int) - want).max() <= 1
    # A size whose half is not a multiple of the size divisor is padded there.
    odd = Translator(half_scale_model).translate_b2a(x[0, :50, :38])
    assert odd.shape == (50, 38, 3)


def test_translate_scale_survives_save_and_load(tmp_path, half_scale_model):
    path = tmp_path / "half.keras"
    half_scale_model.save(path)
    assert load(str(path)).preset.translate_scale == 0.5
