"""Fixture zoo entries built in temporary folders from the tiny preset."""

import json
import os
import shutil

import keras
import numpy as np
import pytest
from sklearn.datasets import load_sample_image

import unit_tf
import unit_tf.zoo as zoo

TRAINING = {"data": "none (untrained fixture)", "data_license": "n/a",
            "command": "python tools/train.py --preset=tiny --steps=10 --out=runs/tiny",
            "steps": 0, "wall_time_hours": 0.0}


def real_images():
    """Real photos (shipped with scikit-learn): domain A crops, domain B crops."""
    china = load_sample_image("china.jpg")
    flower = load_sample_image("flower.jpg")
    a = np.stack([china[100:228, 200:328], china[250:378, 400:528]])
    b = np.stack([flower[100:228, 150:278], flower[250:378, 300:428]])
    return a, b


def unpublished_manifest(name):
    return {"schema_version": zoo.SCHEMA_VERSION, "name": name, "status": "unpublished",
            "description": "Announced, not trained yet.", "preset": "tiny", "overrides": {},
            "domain_names": ["x", "y"], "image_size": 32, "weights": None,
            "weights_dtype": None, "sha256": None, "training": dict(TRAINING, steps=None,
                                                                      wall_time_hours=None),
            "metrics": {}, "files": {"readme": "README.md", "sample_grid": "samples.png",
                                     "reference": "reference.npz"}}


@pytest.fixture(scope="session")
def tiny_model():
    keras.utils.set_random_seed(0)
    return unit_tf.UNIT("tiny", domain_names=("x", "y"))


@pytest.fixture(scope="session")
def images():
    """(domain A uint8 crops, domain B uint8 crops) of real photos."""
    return real_images()


@pytest.fixture(scope="session")
def fixture_zoo(tmp_path_factory, tiny_model, images):
    """A zoo root with a published entry `tiny_x2y` and an unpublished `tiny_later`."""
    root = tmp_path_factory.mktemp("zoo")
    zoo.write_entry(tiny_model, root / "tiny_x2y", description="Tiny fixture entry.",
                    training=TRAINING,
                    metrics={"l1_cycle": {"value": 0.5,
                                          "command": "python tools/evaluate.py --zoo=tiny_x2y"}},
                    images_a=images[0], images_b=images[1])
    zoo.write_manifest(unpublished_manifest("tiny_later"), root / "tiny_later")
    return root


@pytest.fixture
def zoo_copy(fixture_zoo, tmp_path):
    """A private copy of the fixture zoo, for tests that damage it."""
    root = tmp_path / "zoo"
    shutil.copytree(fixture_zoo, root)
    return root


@pytest.fixture
def edit_manifest():
    """edit(entry_dir, **fields): rewrites fields of an entry's manifest.json."""
    def edit(entry, **changes):
        path = os.path.join(entry, "manifest.json")
        with open(path) as f:
            manifest = json.load(f)
        manifest.update(changes)
        with open(path, "w") as f:
            json.dump(manifest, f)
    return edit
