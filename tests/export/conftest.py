"""A tiny UNIT, real image crops and its exports, built once per session."""

import keras
import numpy as np
import pytest
from sklearn.datasets import load_sample_image

import unit_tf
from unit_tf.export import export_saved_model, export_tflite
from unit_tf.translator import Translator

SIZE = 32  # the tiny preset's image_size


def _crops(image, size, n, seed):
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    return np.stack([image[y:y + size, x:x + size]
                     for y, x in zip(rng.integers(0, h - size, n),
                                     rng.integers(0, w - size, n))])


@pytest.fixture(scope="session")
def translator():
    keras.utils.set_random_seed(0)
    return Translator(unit_tf.UNIT("tiny", domain_names=("x", "y")))


@pytest.fixture(scope="session")
def photos():
    """Real photos shipped with scikit-learn: (domain A image, domain B image)."""
    return load_sample_image("china.jpg"), load_sample_image("flower.jpg")


@pytest.fixture(scope="session")
def crops(photos):
    """{"a": 4 crops of A, "b": 4 crops of B}, uint8 [4, 32, 32, 3]."""
    return {"a": _crops(photos[0], SIZE, 4, 0), "b": _crops(photos[1], SIZE, 4, 1)}


@pytest.fixture(scope="session")
def saved_model_dir(tmp_path_factory, translator):
    """The tiny model exported to <tmp>/models/tiny/1."""
    base = tmp_path_factory.mktemp("models")
    return export_saved_model(translator, base, "tiny", version=1)


@pytest.fixture(scope="session")
def tflite_files(tmp_path_factory, translator):
    """{"none" | "float16" | "int8": path} exported at 32x32."""
    folder = tmp_path_factory.mktemp("tflite")
    return {q: export_tflite(translator, folder / f"tiny_{q}.tflite", quantize=q, size=SIZE)
            for q in ("none", "float16", "int8")}


@pytest.fixture(scope="session")
def half_scale_translator(half_scale_model):
    """tests/conftest.py's half-scale model behind a Translator."""
    return Translator(half_scale_model)
