"""unit_tf.zoo: listing, loading, errors, weights storage and entry writing."""

import json
import os

import keras
import numpy as np
import pytest

import unit_tf
import unit_tf.zoo as zoo
from unit_tf.translator import Translator, load

# Measured on the tiny preset with the real crops below: float16 storage moves
# translations by at most 1 level of 255 (see also the nips_translation_lite
# figures in zoo/README.md); 2 leaves room for rounding on other CPUs.
FLOAT16_STORAGE_BOUND = 2


def test_list_with_root_and_environment(fixture_zoo, monkeypatch):
    assert zoo.list(root=fixture_zoo) == ["tiny_later", "tiny_x2y"]
    assert zoo.list(root=fixture_zoo, status="published") == ["tiny_x2y"]
    monkeypatch.setenv(zoo.ENV_ROOT, str(fixture_zoo))
    assert zoo.zoo_root() == str(fixture_zoo)
    assert zoo.list() == ["tiny_later", "tiny_x2y"]
    assert zoo.list(root=fixture_zoo / "missing") == []


def test_default_root_is_the_packaged_folder(monkeypatch):
    monkeypatch.delenv(zoo.ENV_ROOT, raising=False)
    import unit_tf.zoo_entries

    assert zoo.zoo_root() == os.path.dirname(os.path.abspath(unit_tf.zoo_entries.__file__))


def test_load_returns_a_translator(fixture_zoo, tiny_model, images):
    t = zoo.load("tiny_x2y", root=fixture_zoo)
    assert isinstance(t, Translator)
    assert t.name == "tiny_x2y" and t.manifest["preset"] == "tiny"
    assert t.directions == {"a2b": "x -> y", "b2a": "y -> x"}
    # Only E and G are stored, so the rebuilt model has no discriminators.
    assert not t.model.use_discriminators
    out = t.translate_b2a(images[1][0])
    assert out.shape == images[1][0].shape and out.dtype == np.uint8


def test_unknown_name_lists_the_valid_ones(fixture_zoo):
    with pytest.raises(zoo.UnknownEntryError, match="valid entries: tiny_later, tiny_x2y"):
        zoo.load("tiny_y2x", root=fixture_zoo)
    with pytest.raises(zoo.UnknownEntryError, match="the zoo is empty"):
        zoo.load("anything", root=fixture_zoo / "missing")


def test_tampered_weights_are_refused(zoo_copy):
    path = zoo_copy / "tiny_x2y" / "weights.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(zoo.ChecksumError, match="sha256 .* but the manifest says"):
        zoo.load("tiny_x2y", root=zoo_copy)


def test_missing_weights_are_refused(zoo_copy):
    os.remove(zoo_copy / "tiny_x2y" / "weights.npz")
    with pytest.raises(zoo.MissingWeightsError, match="weights file 'weights.npz' is missing"):
        zoo.load("tiny_x2y", root=zoo_copy)


def test_unpublished_entry_gives_its_training_command(fixture_zoo):
    with pytest.raises(zoo.UnpublishedEntryError) as info:
        zoo.load("tiny_later", root=fixture_zoo)
    message = str(info.value)
    assert "unpublished" in message
    assert os.path.join(fixture_zoo, "tiny_later", "README.md") in message  # its card
    assert "python tools/train.py --preset=tiny --steps=10 --out=runs/tiny" in message


def test_weights_of_another_architecture_are_refused(zoo_copy, edit_manifest):
    edit_manifest(zoo_copy / "tiny_x2y", overrides={"width": 16})
    with pytest.raises(ValueError, match="has shape"):
        zoo.load("tiny_x2y", root=zoo_copy)


@pytest.mark.parametrize("changes, message", [
    ({"status": "released"}, "status must be one of"),
    ({"sha256": "abc"}, "sha256 must be 64"),
    ({"name": "other"}, "differs from the folder name"),
    ({"metrics": {"fid": {"value": 3.0}}}, "exact evaluation command"),
    ({"weights": "../weights.npz"}, "weights must be a file name"),
    ({"colour": "blue"}, "unknown field 'colour'"),
    ({"domain_names": ["x"]}, "two non-empty strings"),
])
def test_manifest_errors_are_clear(zoo_copy, edit_manifest, changes, message):
    edit_manifest(zoo_copy / "tiny_x2y", **changes)
    with pytest.raises(zoo.ManifestError, match=message):
        zoo.load("tiny_x2y", root=zoo_copy)


def test_published_entry_needs_its_numbers(fixture_zoo):
    manifest = zoo.read_manifest(fixture_zoo / "tiny_x2y")
    training = dict(manifest["training"], steps=None)
    with pytest.raises(zoo.ManifestError, match="training.steps"):
        zoo.validate_manifest(dict(manifest, training=training, metrics={}))
    zoo.validate_manifest(dict(manifest, status="unpublished", training=training, metrics={}))


def test_write_weights_float16_is_deterministic_and_small(tmp_path, tiny_model):
    f16 = zoo.write_weights(tiny_model, tmp_path / "a.npz")
    assert zoo.write_weights(tiny_model, tmp_path / "b.npz") == f16
    assert zoo.sha256_file(tmp_path / "a.npz") == f16
    f32 = zoo.write_weights(tiny_model, tmp_path / "c.npz", dtype="float32")
    assert f32 != f16
    arrays, meta = zoo.read_weights(tmp_path / "a.npz")
    assert meta["dtype"] == "float16" and meta["parts"] == ["encoder", "generator"]
    assert all(a.dtype == np.float16 for a in arrays.values())
    size16, size32 = os.path.getsize(tmp_path / "a.npz"), os.path.getsize(tmp_path / "c.npz")
    assert size16 < 0.6 * size32
    zoo.write_weights(tiny_model, tmp_path / "d.npz", include_discriminators=True)
    _, meta = zoo.read_weights(tmp_path / "d.npz")
    assert "discriminator" in meta["parts"]
    with pytest.raises(ValueError, match="dtype must be"):
        zoo.write_weights(tiny_model, tmp_path / "e.npz", dtype="int8")


def test_full_weights_round_trip_exactly_in_float32(tmp_path, tiny_model):
    zoo.write_weights(tiny_model, tmp_path / "w.npz", dtype="float32",
                      include_discriminators=True)
    clone = unit_tf.UNIT("tiny", domain_names=("x", "y"))
    zoo.load_weights(clone, tmp_path / "w.npz")
    for v, w in zip(tiny_model.weights, clone.weights):
        np.testing.assert_array_equal(v.numpy(), w.numpy())


def test_float16_storage_parity(tiny_model, images):
    diffs = zoo.storage_parity(tiny_model, images[0], images[1])
    assert max(diffs.values()) <= FLOAT16_STORAGE_BOUND, diffs


def test_not_a_weights_file(tmp_path):
    np.savez(tmp_path / "plain.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="not a unit_tf weights file"):
        zoo.read_weights(tmp_path / "plain.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable"):
        zoo.read_weights(tmp_path / "junk.npz")


def test_write_entry_overrides_and_model_card(tmp_path, images):
    keras.utils.set_random_seed(1)
    model = unit_tf.UNIT("tiny", overrides={"width": 4}, domain_names=("day", "night"))
    manifest = zoo.write_entry(
        model, tmp_path / "tiny_day2night", description="A narrower fixture.",
        training={"data": "d", "data_license": "l", "command": "python tools/train.py x",
                  "steps": 5, "wall_time_hours": 0.01},
        images_a=images[0][0], images_b=images[1][0], status="unpublished")
    assert manifest["overrides"] == {"width": 4}
    with open(tmp_path / "tiny_day2night" / "manifest.json") as f:
        assert json.load(f) == manifest
    card = (tmp_path / "tiny_day2night" / "README.md").read_text()
    assert "day -> night" in card and "python tools/train.py x" in card
    t = zoo.load_entry(tmp_path / "tiny_day2night", require_published=False)
    assert zoo.compare_reference(t, tmp_path / "tiny_day2night" / "reference.npz") == {
        "a2b": 0, "b2a": 0}
    with pytest.raises(zoo.UnpublishedEntryError):
        zoo.load("tiny_day2night", root=tmp_path)


def test_translator_load_sources(fixture_zoo, tmp_path, tiny_model, monkeypatch, images):
    monkeypatch.setenv(zoo.ENV_ROOT, str(fixture_zoo))
    assert load("tiny_x2y").name == "tiny_x2y"
    assert load(fixture_zoo / "tiny_x2y").name == "tiny_x2y"
    tiny_model.save(tmp_path / "tiny.keras")
    from_keras = load(tmp_path / "tiny.keras")
    assert isinstance(from_keras, Translator) and from_keras.directions["a2b"] == "x -> y"
    np.testing.assert_array_equal(from_keras.translate_a2b(images[0]),
                                  Translator(tiny_model).translate_a2b(images[0]))
    with pytest.raises(ValueError, match=r"available: tiny_later, tiny_x2y"):
        load("no_such_thing")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ValueError, match="cannot load"):
        load(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="cannot load"):
        load(tmp_path)


def test_imported_entry_needs_its_source_not_metrics(fixture_zoo):
    manifest = zoo.read_manifest(fixture_zoo / "tiny_x2y")
    training = dict(manifest["training"], steps=None, wall_time_hours=None)
    source = {"project": "mingyuliutw/UNIT", "checkpoint": "x_gen_00000001.pkl",
              "sha256": "0" * 64, "license": "CC BY-NC-SA 4.0"}
    imported = dict(manifest, training=training, metrics={}, source=source)
    assert zoo.validate_manifest(imported) == imported
    for changes, message in ((dict(sha256="abc"), "source.sha256 must be 64"),
                             (dict(license=""), "source.license must state"),
                             (dict(colour="red"), "unknown field source.'colour'")):
        with pytest.raises(zoo.ManifestError, match=message):
            zoo.validate_manifest(dict(imported, source=dict(source, **changes)))
    with pytest.raises(zoo.ManifestError, match="missing source.'license'"):
        zoo.validate_manifest(dict(imported, source={k: v for k, v in source.items()
                                                     if k != "license"}))


def test_sample_grid_shows_whole_images_for_fully_convolutional_presets(tmp_path):
    from PIL import Image

    from unit_tf.zoo.reference import write_sample_grid

    model = unit_tf.UNIT("nips_translation", overrides={"width": 4, "image_size": 16,
                                                        "translate_scale": 0.5},
                         discriminators=False)
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (2, 40, 48, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (2, 44, 44, 3), dtype=np.uint8)
    path = write_sample_grid(Translator(model), tmp_path / "grid.png", a, b)
    # Four rows of two 40x40 tiles (the smallest side), not 16x16 training crops.
    assert Image.open(path).size == (2 * 40, 4 * 40)
