"""`--data` specs and the tf.data pipeline of unpaired (x_a, x_b) batches.

A spec names two domains. Each domain becomes a stream of images, shuffled
on its own (so A and B are never paired), brought to the training size,
batched, and zipped with the other domain's stream:

    make_dataset("maps:/data/maps", 256, 1)  ->  (x_a, x_b) float32 [-1, 1]

The pipeline is built only from checkpointable tf.data ops: images held in
memory are gathered by shuffled index (so a checkpoint stores indices, not a
buffer of images), files by shuffled path, and random crops and flips are
stateless ops keyed on the seed and the element's position in the stream.
Given the seed the order is the same on every run, and
`tf.train.Checkpoint(iterator=it)` saves and restores a pipeline mid-epoch.
"""

import dataclasses
import functools
import os

import numpy as np
import tensorflow as tf

from unit_tf.data import images as img
from unit_tf.data import mnist
from unit_tf.data.fashion_mnist import fashion_mnist_uint8
from unit_tf.data.mnist_m import mnist_m_uint8
from unit_tf.data.tfds_source import load_split
from unit_tf.data.uci_digits import uci_digits_uint8

SPEC_FORMS = {
    "mnist_toy": "arXiv v1 toy digits: coloured strokes -> coloured edges (npm MNIST)",
    "mnist_uci": "adaptation: labelled MNIST (A) -> UCI optical digits (B, 30% held out)",
    "mnist_m": "adaptation: labelled MNIST (A) -> MNIST-M over scikit-learn's sample photos",
    "mnist_m:PHOTO_DIR": "adaptation: MNIST -> MNIST-M over the photos in PHOTO_DIR "
                         "(BSDS500: canonical; PHOTO_DIR,left: left halves)",
    "fashion_mnist": "MNIST digits (A) -> Fashion-MNIST clothing (B), gray 32x32",
    "X+Y": "two in-memory domains, X and Y from mnist, uci_digits, fashion_mnist",
    "folders:DIR_A,DIR_B": "two folders of images of any size (searched recursively)",
    "pix2pix:DIR": "side-by-side pairs, left half = A, right half = B, unpaired",
    "maps:ROOT": "the maps protocol: A = left halves of ROOT/train, B = right of ROOT/val",
    "maps_cyclegan:ROOT": "CycleGAN's maps split: A = left, B = right halves of ROOT/train",
    "tfds:NAME": "a two-domain TFDS dataset with trainA/trainB splits (cycle_gan/...)",
    "tfds:NAME_A+NAME_B": "two TFDS datasets' train splits ('label' of A as labels)",
}
# In-memory domains that can be combined with "+".
LOCAL_DOMAINS = ("mnist", "uci_digits", "fashion_mnist")
# In-memory domains with held-out labelled test parts (`eval_parts`).
LABELLED_DOMAINS = LOCAL_DOMAINS + ("mnist_m",)


@dataclasses.dataclass(frozen=True)
class DomainSpec:
    """One domain of a spec.

    Attributes:
        kind: "mnist", "uci_digits", "fashion_mnist", "mnist_m", "toy_strokes",
            "toy_edges", "folder" or "tfds".
        name: the domain's name (kept in trained models).
        path: the folder ("folder"), the TFDS name ("tfds") or the photo
            folder ("mnist_m"; "" for scikit-learn's sample photos).
        half: "left"/"right" to take one half of side-by-side files.
        split: the TFDS split.
    """

    kind: str
    name: str
    path: str = ""
    half: str = ""
    split: str = ""


@dataclasses.dataclass(frozen=True)
class DataSpec:
    """A parsed `--data` spec: its form and its two domains."""

    text: str
    form: str
    a: DomainSpec
    b: DomainSpec

    @property
    def names(self):
        return self.a.name, self.b.name


def _valid_forms():
    return "\n".join(f"  {form:<22} {what}" for form, what in SPEC_FORMS.items())


def _fail(spec, problem):
    raise ValueError(f"--data {spec!r}: {problem}. Valid forms:\n{_valid_forms()}")


def _folder_name(path):
    return os.path.basename(os.path.normpath(path)) or "images"


def _local(name, spec):
    if name not in LOCAL_DOMAINS:
        _fail(spec, f"unknown domain {name!r} in an X+Y spec (known: "
                    f"{', '.join(LOCAL_DOMAINS)})")
    return DomainSpec(name, name)


def parse_spec(spec):
    """Parses a `--data` string into a `DataSpec` (no data is read).

    Raises:
        ValueError: unknown or malformed spec; the message lists the valid forms.
    """
    if not isinstance(spec, str) or not spec.strip():
        _fail(spec, "empty spec")
    spec = spec.strip()
    prefix, sep, rest = spec.partition(":")
    if sep and prefix in ("folders", "pix2pix", "maps", "maps_cyclegan", "tfds", "mnist_m"):
        if not rest:
            _fail(spec, f"{prefix}: needs a value after the colon")
        if prefix == "mnist_m":
            folder, comma, half = rest.rpartition(",")
            if not comma or half not in ("left", "right"):
                folder, half = rest, ""
            if not folder:
                _fail(spec, "mnist_m:PHOTO_DIR,left|right needs the photo folder")
            return DataSpec(spec, prefix, DomainSpec("mnist", "mnist"),
                            DomainSpec("mnist_m", "mnist_m", path=folder, half=half))
        if prefix == "folders":
            dirs = rest.split(",")
            if len(dirs) != 2 or not all(dirs):
                _fail(spec, "folders: takes exactly two folders, DIR_A,DIR_B")
            a, b = (DomainSpec("folder", _folder_name(d), path=d) for d in dirs)
            if a.name == b.name:
                a, b = dataclasses.replace(a, name="a"), dataclasses.replace(b, name="b")
            return DataSpec(spec, prefix, a, b)
        if prefix == "pix2pix":
            return DataSpec(spec, prefix,
                            DomainSpec("folder", "left", path=rest, half="left"),
                            DomainSpec("folder", "right", path=rest, half="right"))
        if prefix == "maps":
            return DataSpec(spec, prefix,
                            DomainSpec("folder", "satellite", os.path.join(rest, "train"),
                                       half="left"),
                            DomainSpec("folder", "map", os.path.join(rest, "val"),
                                       half="right"))
        if prefix == "maps_cyclegan":
            # CycleGAN/GcGAN: both domains from ROOT/train, each shuffled on its own
            # (no pair is used); ROOT/val stays unseen for evaluation.
            train = os.path.join(rest, "train")
            return DataSpec(spec, prefix,
                            DomainSpec("folder", "satellite", train, half="left"),
                            DomainSpec("folder", "map", train, half="right"))
        if "+" in rest:
            names = rest.split("+")
            if len(names) != 2 or not all(names):
                _fail(spec, "tfds:NAME_A+NAME_B takes exactly two dataset names")
            a, b = (DomainSpec("tfds", n.split("/")[0], path=n, split="train")
                    for n in names)
            return DataSpec(spec, "tfds_pair", a, b)
        short = rest.split("/")[-1].split(":")[0]
        return DataSpec(spec, prefix,
                        DomainSpec("tfds", f"{short}_a", path=rest, split="trainA"),
                        DomainSpec("tfds", f"{short}_b", path=rest, split="trainB"))
    if sep:
        _fail(spec, f"unknown prefix {prefix + ':'!r}")
    if spec == "mnist_toy":
        return DataSpec(spec, spec, DomainSpec("toy_strokes", "strokes"),
                        DomainSpec("toy_edges", "edges"))
    if spec == "mnist_uci":
        return DataSpec(spec, spec, DomainSpec("mnist", "mnist"),
                        DomainSpec("uci_digits", "uci_digits"))
    if spec == "fashion_mnist":
        return DataSpec(spec, spec, DomainSpec("mnist", "mnist"),
                        DomainSpec("fashion_mnist", "fashion_mnist"))
    if spec == "mnist_m":
        return DataSpec(spec, spec, DomainSpec("mnist", "mnist"),
                        DomainSpec("mnist_m", "mnist_m"))
    if "+" in spec:
        names = spec.split("+")
        if len(names) != 2:
            _fail(spec, "X+Y takes exactly two domains")
        return DataSpec(spec, "local_pair", _local(names[0], spec), _local(names[1], spec))
    if spec in LOCAL_DOMAINS:
        _fail(spec, f"{spec!r} is a single domain; pair it with another, e.g. "
                    f"mnist+{spec if spec != 'mnist' else 'uci_digits'}")
    _fail(spec, "unknown spec")


def domain_names(spec):
    """(name_a, name_b) of a spec, e.g. ("satellite", "map") for maps:ROOT."""
    return parse_spec(spec).names


# ---- in-memory domains ---------------------------------------------------------
def unit_to_uint8(x):
    """[-1, 1] floats (exact multiples of 2/255, as the MNIST sources are) -> uint8."""
    return np.clip(np.rint((x + 1.0) * 127.5), 0, 255).astype(np.uint8)


@functools.lru_cache(maxsize=1)
def _toy_train():
    data = mnist.toy_digits("train")
    return unit_to_uint8(data["a"]), unit_to_uint8(data["b"])


def mnist_uint8(part="a"):
    """npm MNIST digits of one part ("a", "b", "test"), 32x32, as uint8 [N, 32, 32, 1]."""
    images, labels = mnist.load_mnist_npm()
    idx = mnist.split_indices(len(images))[part]
    return np.pad(images[idx], ((0, 0), (2, 2), (2, 2)))[..., None], labels[idx]


def local_domain(kind, part="train", path="", half=""):
    """(uint8 images [N, H, W, C], labels or None) of an in-memory domain.

    Args:
        kind: "mnist", "uci_digits", "fashion_mnist", "mnist_m", "toy_strokes"
            or "toy_edges".
        part: "train" (what training sees) or "test" (held out for evaluation;
            toy domains have their own test protocol in `mnist.toy_digits`).
        path, half: the photo folder and half of "mnist_m" (see `DomainSpec`).
    """
    if part not in ("train", "test"):
        raise ValueError(f"part must be 'train' or 'test', got {part!r}.")
    if kind == "mnist_m":
        return mnist_m_uint8(part, path or None, half)
    if kind == "mnist":
        return mnist_uint8("a" if part == "train" else "test")
    if kind == "uci_digits":
        return uci_digits_uint8(part)
    if kind == "fashion_mnist":
        return fashion_mnist_uint8(part)
    if kind in ("toy_strokes", "toy_edges") and part == "train":
        return _toy_train()[0 if kind == "toy_strokes" else 1], None
    raise ValueError(f"no {part} part for domain kind {kind!r}.")


def eval_parts(spec="mnist_uci"):
    """Held-out test images of both domains of an in-memory spec (e.g. mnist_uci).

    Returns:
        {"source": (x, labels), "target": (x, labels)} with x float32
        [N, 32, 32, C] in [-1, 1]: for mnist_uci the MNIST test part and the
        30% of UCI digits that training never sees; for mnist_m the MNIST
        test part and MNIST-M built from those 2,000 test digits.
    """
    parsed = parse_spec(spec)
    if parsed.a.kind not in LABELLED_DOMAINS or parsed.b.kind not in LABELLED_DOMAINS:
        raise ValueError(f"--data {spec!r}: held-out labelled test parts exist for "
                         "mnist_uci, mnist_m, fashion_mnist and X+Y of "
                         f"{', '.join(LOCAL_DOMAINS)}.")
    out = {}
    for role, domain in (("source", parsed.a), ("target", parsed.b)):
        images, labels = local_domain(domain.kind, "test", domain.path, domain.half)
        out[role] = (images.astype(np.float32) / 127.5 - 1.0, labels)
    return out


# ---- per-domain element streams ------------------------------------------------
def _array_stream(images, labels, seed, shuffle, repeat):
    """(image uint8, label) by shuffled index, gathered from in-memory arrays."""
    n = len(images)
    images_t = tf.constant(images)
    labels_t = tf.constant(np.zeros(n, np.int32) if labels is None
                           else np.asarray(labels, np.int32))
    ds = tf.data.Dataset.range(n)
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()

    def gather(i):
        return tf.gather(images_t, i), tf.gather(labels_t, i)
    return ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE)


def _file_stream(paths, half, seed, shuffle, repeat):
    """(image uint8, dummy label) decoded from shuffled file paths."""
    ds = tf.data.Dataset.from_tensor_slices(paths)
    if shuffle:
        ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()

    def read(path):
        return img.take_half(img.decode(tf.io.read_file(path)), half), tf.constant(0, tf.int32)
    return ds.map(read, num_parallel_calls=tf.data.AUTOTUNE)


# Elements a TFDS shuffle buffer holds (encoded bytes, so a checkpoint stays small).
TFDS_SHUFFLE_BUFFER = 2048


def _tfds_stream(domain, want_labels, seed, shuffle, repeat):
    ds, features = load_split(domain.path, domain.split)
    has_labels = want_labels and "label" in features

    def pick(example):
        label = tf.cast(example["label"], tf.int32) if has_labels else tf.constant(0, tf.int32)
        return example["image"], label
    ds = ds.map(pick)
    if shuffle:
        ds = ds.shuffle(TFDS_SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()

    def read(data, label):
        return img.decode(data), label
    return ds.map(read, num_parallel_calls=tf.data.AUTOTUNE), has_labels


def _domain_stream(domain, want_labels, seed, shuffle, repeat):
    """(dataset of (image uint8 [H, W, C], label int32), has_labels) of one domain."""
    if domain.kind == "folder":
        paths = img.list_images(domain.path)
        if domain.half:
            img.check_side_by_side(paths)
        return _file_stream(paths, domain.half, seed, shuffle, repeat), False
    if domain.kind == "tfds":
        return _tfds_stream(domain, want_labels, seed, shuffle, repeat)
    images, labels = local_domain(domain.kind, path=domain.path, half=domain.half)
    has_labels = want_labels and labels is not None
    return _array_stream(images, labels if has_labels else None, seed, shuffle, repeat), has_labels


def _domain_batches(domain, seed, channels, image_size, batch_size, shuffle, repeat,
                    random_crop, flip, resize_to, want_labels):
    stream, has_labels = _domain_stream(domain, want_labels, seed, shuffle, repeat)
    # Position in the stream keys the stateless crop/flip randomness: the
    # same element position gets the same augmentation on every run.
    counted = tf.data.Dataset.zip((stream, tf.data.Dataset.counter()))
    base = tf.constant(seed, tf.int64)

    def prepare(element, position):
        image, label = element
        image = img.to_channels(image, channels)
        image = img.fit_to_size(image, image_size, tf.stack([base, position]),
                                random_crop=random_crop, flip=flip, resize_to=resize_to)
        return img.to_unit_range(image), label
    ds = counted.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=True), has_labels


def make_dataset(spec, image_size, batch_size, channels=(3, 3), seed=0, shuffle=True,
                 repeat=True, random_crop=False, flip=False, resize_to=None,
                 with_labels=True):
    """Unpaired training batches of a `--data` spec.

    Args:
        spec: a spec string (see `SPEC_FORMS`) or a parsed `DataSpec`.
        image_size: output height and width (int or (height, width)).
        batch_size: images per batch of each domain (`drop_remainder=True`).
        channels: (channels of A, channels of B), each 1 or 3; images are
            converted as described in `unit_tf.data.images`.
        seed: fixes the shuffle order and the crop/flip draws.
        shuffle: shuffle each domain (independently of the other).
        repeat: repeat forever (else one pass; the shorter domain ends it).
        random_crop: crop `image_size` at random (see `images.fit_to_size`).
        flip: random left-right mirroring.
        resize_to: resize to this size before cropping (e.g. 286 for 256).
        with_labels: yield labels of domain A when it has them.

    Returns:
        A tf.data.Dataset of (x_a, x_b) float32 [batch, H, W, C] in [-1, 1],
        or (x_a, x_b, labels_a int32 [batch]) when domain A is labelled
        (mnist_uci, mnist_m, fashion_mnist, X+Y, tfds:A+B): the domain adaptation
        batches. Models without a class head ignore the labels.
    """
    parsed = spec if isinstance(spec, DataSpec) else parse_spec(spec)
    if len(channels) != 2:
        raise ValueError(f"channels takes (channels_a, channels_b), got {channels!r}.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}.")
    common = dict(image_size=img.pair_size(image_size), batch_size=batch_size,
                  shuffle=shuffle, repeat=repeat, random_crop=random_crop, flip=flip,
                  resize_to=resize_to)
    # Distinct seeds per domain keep A's and B's orders unrelated.
    # A two-domain TFDS dataset's "label" says which domain (A or B), not a class.
    want_labels = with_labels and parsed.form != "tfds"
    a, labelled = _domain_batches(parsed.a, 2 * seed + 1, channels[0],
                                  want_labels=want_labels, **common)
    b, _ = _domain_batches(parsed.b, 2 * seed + 2, channels[1], want_labels=False, **common)

    def unpaired(batch_a, batch_b):
        if labelled:
            return batch_a[0], batch_b[0], batch_a[1]
        return batch_a[0], batch_b[0]
    ds = tf.data.Dataset.zip((a, b)).map(unpaired)
    return ds.prefetch(tf.data.AUTOTUNE)
