"""--data specs and the unpaired tf.data pipeline: shapes, determinism, checkpoints."""

import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from unit_tf.data import (domain_names, eval_parts, make_dataset, parse_spec,
                          tfds_source)


def save(path, array):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.asarray(array, np.uint8)).save(path)


@pytest.fixture
def mixed_folders(tmp_path):
    """Folder A: gray, RGB and RGBA images of various sizes; folder B: RGB JPEGs."""
    rng = np.random.RandomState(0)
    a, b = tmp_path / "a", tmp_path / "b"
    save(a / "gray.png", rng.randint(0, 255, (20, 30)))
    save(a / "rgb.png", rng.randint(0, 255, (40, 40, 3)))
    save(a / "deep" / "rgba.png", rng.randint(0, 255, (17, 23, 4)))
    for i in range(3):
        save(b / f"{i}.jpg", rng.randint(0, 255, (50 + i, 60, 3)))
    return str(a), str(b)


@pytest.fixture
def pix2pix_folder(tmp_path):
    """Six 8x16 pairs; file i has value 10*i on the left and 200+i on the right."""
    folder = tmp_path / "pairs"
    for i in range(6):
        pair = np.zeros((8, 16, 3), np.uint8)
        pair[:, :8] = 10 * i
        pair[:, 8:] = 200 + i
        save(folder / f"{i}.png", pair)
    return str(folder)


def batches(ds, n):
    return [tuple(t.numpy() for t in batch) for batch in ds.take(n)]


def test_names_and_forms():
    assert domain_names("maps:/x") == ("satellite", "map")
    assert domain_names("mnist_toy") == ("strokes", "edges")
    assert domain_names("mnist_uci") == ("mnist", "uci_digits")
    assert domain_names("folders:/d/photos,/d/paintings/") == ("photos", "paintings")
    assert domain_names("tfds:mnist+svhn_cropped") == ("mnist", "svhn_cropped")
    assert domain_names("tfds:cycle_gan/maps") == ("maps_a", "maps_b")
    assert domain_names("uci_digits+fashion_mnist") == ("uci_digits", "fashion_mnist")
    spec = parse_spec("maps:/data/maps")
    assert spec.a.path == os.path.join("/data/maps", "train") and spec.a.half == "left"
    assert spec.b.path == os.path.join("/data/maps", "val") and spec.b.half == "right"
    # CycleGAN's split: both domains from train/, val/ left unseen for evaluation.
    spec = parse_spec("maps_cyclegan:/data/maps")
    assert spec.names == ("satellite", "map")
    assert spec.a.path == spec.b.path == os.path.join("/data/maps", "train")
    assert (spec.a.half, spec.b.half) == ("left", "right")


@pytest.mark.parametrize("bad, problem", [
    ("", "empty spec"),
    ("nonsense", "unknown spec"),
    ("folders:/only_one", "exactly two folders"),
    ("zip:/x", "unknown prefix"),
    ("mnist", "single domain"),
    ("mnist+svhn", "unknown domain"),
])
def test_bad_specs_list_valid_forms(bad, problem):
    with pytest.raises(ValueError, match=problem) as info:
        parse_spec(bad)
    assert "maps:ROOT" in str(info.value) and "folders:DIR_A,DIR_B" in str(info.value)


def test_folders_of_mixed_images(mixed_folders):
    ds = make_dataset("folders:%s,%s" % mixed_folders, 16, 2, channels=(1, 3))
    assert len(ds.element_spec) == 2
    for x_a, x_b in batches(ds, 3):
        assert x_a.shape == (2, 16, 16, 1) and x_b.shape == (2, 16, 16, 3)
        assert x_a.dtype == np.float32
        assert -1.0 <= x_a.min() and x_a.max() <= 1.0 and -1.0 <= x_b.min() <= x_b.max() <= 1.0


def test_pix2pix_halves_unpaired(pix2pix_folder):
    ds = make_dataset(f"pix2pix:{pix2pix_folder}", 8, 1, shuffle=True)
    ids_a, ids_b = [], []
    for x_a, x_b in batches(ds, 12):
        ids_a.append(int(round((x_a[0, 0, 0, 0] + 1) * 127.5)) // 10)
        ids_b.append(int(round((x_b[0, 0, 0, 0] + 1) * 127.5)) - 200)
    assert sorted(ids_a[:6]) == list(range(6)) and sorted(ids_b[:6]) == list(range(6))
    assert ids_a != ids_b  # shuffled independently


def test_same_seed_same_batches(mixed_folders):
    def first(seed):
        return batches(make_dataset("folders:%s,%s" % mixed_folders, 16, 2, seed=seed,
                                    random_crop=True, flip=True, resize_to=24), 4)
    one, two, other = first(5), first(5), first(6)
    assert all(np.array_equal(p, q) for b1, b2 in zip(one, two) for p, q in zip(b1, b2))
    assert not all(np.array_equal(p, q) for b1, b2 in zip(one, other) for p, q in zip(b1, b2))


def test_iterator_checkpoint_restores_position(mixed_folders, tmp_path):
    def dataset():
        return make_dataset("folders:%s,%s" % mixed_folders, 16, 2, seed=1,
                            random_crop=True, flip=True)
    it = iter(dataset())
    for _ in range(3):
        next(it)
    path = tf.train.Checkpoint(iterator=it).save(str(tmp_path / "ckpt" / "data"))
    expected = [t.numpy() for t in next(it)]
    restored = iter(dataset())
    tf.train.Checkpoint(iterator=restored).restore(path).assert_consumed()
    got = [t.numpy() for t in next(restored)]
    assert all(np.array_equal(e, g) for e, g in zip(expected, got))


def test_in_memory_iterator_checkpoint_is_small_and_exact(tmp_path):
    def dataset():
        return make_dataset("mnist_uci", 32, 8, channels=(1, 1), seed=2, flip=True)
    it = iter(dataset())
    next(it)
    path = tf.train.Checkpoint(iterator=it).save(str(tmp_path / "ckpt" / "data"))
    expected = [t.numpy() for t in next(it)]
    restored = iter(dataset())
    tf.train.Checkpoint(iterator=restored).restore(path).assert_consumed()
    assert all(np.array_equal(e, g) for e, g in zip(expected, [t.numpy() for t in next(restored)]))
    # Indices, not the 4,000 MNIST images, are what the shuffle buffer holds.
    size = sum(os.path.getsize(os.path.join(tmp_path, "ckpt", f))
               for f in os.listdir(tmp_path / "ckpt"))
    assert size < 2_000_000


def test_corrupt_file_in_folder_is_named(mixed_folders):
    with open(os.path.join(mixed_folders[1], "broken.jpg"), "wb") as f:
        f.write(b"\xff\xd8\xff\xe0 truncated")
    with pytest.raises(ValueError, match="broken.jpg"):
        make_dataset("folders:%s,%s" % mixed_folders, 16, 2)


def test_empty_folder_error(tmp_path, mixed_folders):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="empty"):
        make_dataset(f"folders:{mixed_folders[0]},{tmp_path / 'empty'}", 16, 2)


def test_mnist_toy_smoke():
    (x_a, x_b), = batches(make_dataset("mnist_toy", 32, 8), 1)
    assert x_a.shape == x_b.shape == (8, 32, 32, 3)
    # Coloured strokes use one primary colour per digit: at most one channel lit.
    assert np.all((x_a > -1).sum(-1) <= 1)


def test_mnist_uci_labels_and_held_out_target():
    (x_a, x_b, labels), = batches(make_dataset("mnist_uci", 32, 16, channels=(1, 1)), 1)
    assert x_a.shape == x_b.shape == (16, 32, 32, 1)
    assert labels.shape == (16,) and labels.dtype == np.int32 and labels.max() <= 9
    parts = eval_parts("mnist_uci")
    x_t, y_t = parts["target"]
    assert x_t.shape == (539, 32, 32, 1) and len(y_t) == 539
    assert parts["source"][0].shape == (2000, 32, 32, 1)
    from unit_tf.data.uci_digits import split_indices
    split = split_indices(1797)
    assert not set(split["train"]) & set(split["test"])


@pytest.fixture
def maps_root(tmp_path, shared_maps):
    """A maps root of links to three real train and three real val files."""
    if not os.path.isdir(shared_maps):
        pytest.skip(f"{shared_maps} is not on this machine")
    for split in ("train", "val"):
        os.makedirs(tmp_path / split)
        for i in (1, 2, 3):
            os.symlink(os.path.join(shared_maps, split, f"{i}.jpg"), tmp_path / split / f"{i}.jpg")
    return str(tmp_path)


def test_real_maps_files(maps_root):
    ds = make_dataset(f"maps:{maps_root}", 256, 2, random_crop=True, resize_to=286)
    (x_sat, x_map), = batches(ds, 1)
    assert x_sat.shape == x_map.shape == (2, 256, 256, 3)
    # Map tiles are mostly light flat colours; satellite photos are darker.
    assert x_map.mean() > x_sat.mean() + 0.3


def test_real_maps_cyclegan_split_reads_train_only(maps_root):
    for name in os.listdir(os.path.join(maps_root, "val")):  # val must not be read
        os.remove(os.path.join(maps_root, "val", name))
    (x_sat, x_map), = batches(make_dataset(f"maps_cyclegan:{maps_root}", 256, 3), 1)
    assert x_sat.shape == x_map.shape == (3, 256, 256, 3)
    assert x_map.mean() > x_sat.mean() + 0.3


def test_fashion_mnist_from_debian_package():
    if not os.path.isdir("/usr/share/datasets/fashion-mnist"):
        pytest.skip("apt-get install dataset-fashion-mnist to run this test")
    (x_a, x_b, _), = batches(make_dataset("fashion_mnist", 32, 4, channels=(1, 1)), 1)
    assert x_b.shape == (4, 32, 32, 1)
    assert np.all(x_b[:, :2] == -1.0)  # the black border of the 28 -> 32 padding


def test_fashion_mnist_missing_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("UNIT_TF_FASHION_MNIST_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        make_dataset("fashion_mnist", 32, 4)


def test_tfds_two_domain_and_pair_with_mock_data():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=4):
        (x_a, x_b), = batches(make_dataset("tfds:cycle_gan/maps", 16, 2), 1)
        assert x_a.shape == x_b.shape == (2, 16, 16, 3)
        (x_a, x_b, labels), = batches(make_dataset("tfds:mnist+svhn_cropped", 32, 2,
                                                   channels=(1, 3)), 1)
        assert x_a.shape == (2, 32, 32, 1) and x_b.shape == (2, 32, 32, 3)
        assert labels.shape == (2,)


def test_tfds_offline_fails_fast_naming_alternatives(tmp_path, monkeypatch):
    pytest.importorskip("tensorflow_datasets")
    monkeypatch.setattr(tfds_source, "network_available", lambda timeout=3.0: False)
    with pytest.raises(RuntimeError, match="cannot reach the internet.*maps:ROOT"):
        tfds_source.load_split("cycle_gan/maps", "trainA", data_dir=str(tmp_path))
    with pytest.raises(ValueError, match="no TensorFlow Datasets dataset"):
        tfds_source.load_split("no_such_dataset_xyz", "train", data_dir=str(tmp_path))


def test_pix2pix_refuses_single_images(mixed_folders):
    with pytest.raises(ValueError, match="not a side-by-side pair.*folders:DIR_A,DIR_B"):
        make_dataset(f"pix2pix:{mixed_folders[1]}", 8, 1)
