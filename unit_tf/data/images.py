"""Image files and image tensors: listing, checking, decoding, channels and sizes.

Everything here is plain TensorFlow ops (no Python inside a tf.data map), so
pipelines built from it can be checkpointed with `tf.train.Checkpoint`.

Channel handling is explicit. Decoded files come as gray (1), gray+alpha (2),
RGB (3) or RGBA (4); `to_channels` turns any of them into what a domain
expects:

- alpha is dropped by compositing on white (a transparent PNG of a map tile
  or a digit on a clear background should not turn black);
- gray -> RGB repeats the channel;
- RGB -> gray uses ITU-R BT.601 luminance (0.299 R + 0.587 G + 0.114 B).
"""

import os
import re

import numpy as np
import tensorflow as tf

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
LUMINANCE = (0.299, 0.587, 0.114)
# How far from the end of a JPEG its end-of-image marker may sit: some cameras
# and editors append metadata after it.
_JPEG_TAIL = 4096


def natural_key(path):
    """Sort key that orders "2.jpg" before "10.jpg"."""
    return [int(part) if part.isdigit() else part.lower()
            for part in re.split(r"(\d+)", path)]


def _detect_format(head):
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head.startswith(b"BM"):
        return "bmp"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    return None


def check_image_file(path):
    """Raises ValueError naming `path` if it is not a complete image file.

    A structural check that reads only the first and last few bytes, so it is
    cheap enough to run on every file of a training folder: the signature
    must be JPEG, PNG, GIF, BMP or WebP, a JPEG must still hold its
    end-of-image marker and a PNG its IEND chunk (so truncated downloads are
    caught), and BMP/WebP files must be as long as their headers say. Damage
    inside the compressed data is only found by decoding.

    Returns:
        The format name ("jpeg", "png", "gif", "bmp" or "webp").
    """
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(16)
            f.seek(max(0, size - _JPEG_TAIL))
            tail = f.read()
    except OSError as e:
        raise ValueError(f"cannot read image file {path}: {e.strerror or e}.") from e
    if size == 0:
        raise ValueError(f"corrupt image file {path}: the file is empty (0 bytes); "
                         "delete or replace it.")
    kind = _detect_format(head)
    problem = None
    if kind is None:
        problem = ("not a JPEG, PNG, GIF, BMP or WebP image (unrecognised header "
                   f"{head[:8]!r})")
    elif kind == "jpeg" and b"\xff\xd9" not in tail:
        problem = "truncated JPEG (no end-of-image marker)"
    elif kind == "png" and b"IEND" not in tail[-64:]:
        problem = "truncated PNG (no IEND chunk)"
    elif kind == "bmp" and int.from_bytes(head[2:6], "little") > size:
        problem = "truncated BMP (shorter than its header says)"
    elif kind == "webp" and int.from_bytes(head[4:8], "little") + 8 > size:
        problem = "truncated WebP (shorter than its header says)"
    if problem:
        raise ValueError(f"corrupt image file {path}: {problem}; delete or replace it.")
    return kind


def list_images(folder, check=True):
    """All image files under `folder` (recursive), in natural order.

    Args:
        folder: a directory; files are matched by extension
            (`IMAGE_EXTENSIONS`, any case) and other files are ignored.
        check: run `check_image_file` on every file, so a corrupt file is
            named here rather than failing mid-training inside TensorFlow.

    Returns:
        A list of paths.

    Raises:
        ValueError: the folder is missing, empty, holds no image files, or
            holds a corrupt image file (named).
    """
    if not os.path.exists(folder):
        raise ValueError(f"image folder {folder} does not exist; check the path.")
    if not os.path.isdir(folder):
        raise ValueError(f"{folder} is a file, not a folder of images; give the folder "
                         "that holds the images.")
    paths, others = [], []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.startswith("."):
                continue
            full = os.path.join(dirpath, name)
            (paths if name.lower().endswith(IMAGE_EXTENSIONS) else others).append(full)
    if not paths:
        if not others:
            raise ValueError(f"image folder {folder} is empty; put JPEG or PNG images "
                             "in it (subfolders are searched too).")
        examples = ", ".join(os.path.basename(p) for p in sorted(others)[:3])
        raise ValueError(
            f"image folder {folder} holds {len(others)} file(s) but no images "
            f"(e.g. {examples}); image files must end in "
            f"{', '.join(IMAGE_EXTENSIONS)}.")
    paths.sort(key=natural_key)
    if check:
        for path in paths:
            check_image_file(path)
    return paths


def check_side_by_side(paths):
    """Raises ValueError naming the first file that is not a side-by-side pair.

    A pair (pix2pix, maps) is twice as wide as tall, A on the left and B on
    the right; one column of slack allows odd widths (`take_half` drops the
    middle column). Reads only the files' headers.
    """
    from PIL import Image

    for path in paths:
        try:
            with Image.open(path) as image:
                width, height = image.size
        except (OSError, ValueError) as e:
            raise ValueError(f"cannot read the size of image file {path}: {e}.") from e
        if abs(width - 2 * height) > 1:
            raise ValueError(
                f"{path} is {width}x{height} (width x height), not a side-by-side pair: "
                "pix2pix and maps data need images twice as wide as tall (A on the left, "
                "B on the right). For two folders of single images use folders:DIR_A,DIR_B.")


def decode(data):
    """Encoded image bytes -> uint8 [H, W, C] with C = 1, 2, 3 or 4 (as stored).

    JPEGs are decoded with the accurate integer DCT (TensorFlow's default is
    the fast, less accurate one) so pixels match other decoders closely; the
    first frame of an animation is kept.
    """
    return tf.cond(
        tf.io.is_jpeg(data),
        lambda: tf.io.decode_jpeg(data, dct_method="INTEGER_ACCURATE"),
        lambda: tf.io.decode_image(data, expand_animations=False))


def take_half(image, half):
    """The "left" or "right" half of a side-by-side pair [H, W, C] (None: all of it).

    For an odd width the middle column is dropped so both halves match.
    """
    if not half:
        return image
    if half not in ("left", "right"):
        raise ValueError(f"half must be 'left' or 'right', got {half!r}.")
    w = tf.shape(image)[1] // 2
    return image[:, :w] if half == "left" else image[:, w:2 * w]


def _composite_on_white(colour, alpha):
    a = alpha / 255.0
    return colour * a + 255.0 * (1.0 - a)


def _colour_to(colour, have, want):
    if have == want:
        return colour
    if want == 3:
        return tf.tile(colour, [1, 1, 3])
    weights = tf.constant(LUMINANCE, tf.float32)
    return tf.reduce_sum(colour * weights, axis=-1, keepdims=True)


def to_channels(image, channels):
    """uint8 or float [H, W, C] (C in 1..4) -> float32 [H, W, channels] in [0, 255].

    See the module docstring for the conversions. The channel count may be
    unknown until run time (files of mixed kinds in one folder).
    """
    if channels not in (1, 3):
        raise ValueError(f"a domain has 1 (gray) or 3 (RGB) channels, got {channels}.")
    image = tf.cast(image, tf.float32)

    def convert(have):
        colour_channels = 1 if have <= 2 else 3
        colour = image[..., :colour_channels]
        if have in (2, 4):
            colour = _composite_on_white(colour, image[..., colour_channels:colour_channels + 1])
        colour = tf.ensure_shape(colour, [None, None, colour_channels])
        return _colour_to(colour, colour_channels, channels)

    static = image.shape[-1]
    if static is not None:
        if static not in (1, 2, 3, 4):
            raise ValueError(f"images have 1-4 channels, got {static}.")
        out = convert(static)
    else:
        count = tf.clip_by_value(tf.shape(image)[-1], 1, 4)
        out = tf.switch_case(count - 1, [lambda have=h: convert(have) for h in (1, 2, 3, 4)])
    return tf.ensure_shape(out, [None, None, channels])


def pair_size(size):
    """An int or (height, width) -> (height, width)."""
    if isinstance(size, (int, np.integer)):
        return int(size), int(size)
    height, width = size
    return int(height), int(width)


def resize(image, size):
    """Bilinear resize of float [H, W, C] to `size`, antialiased when shrinking.

    Images already of that size are passed through untouched.
    """
    height, width = pair_size(size)
    static = tuple(image.shape[:2])
    if None not in static:  # known now: a tf.cond would trace a branch of the wrong shape
        if static == (height, width):
            return image
        return tf.image.resize(image, (height, width), method="bilinear", antialias=True)
    shape = tf.shape(image)
    same = tf.logical_and(tf.equal(shape[0], height), tf.equal(shape[1], width))
    return tf.cond(
        same,
        lambda: tf.ensure_shape(tf.identity(image), [height, width, image.shape[-1]]),
        lambda: tf.image.resize(image, (height, width), method="bilinear", antialias=True))


def _cover(image, size):
    """Upsizes (keeping the aspect ratio) until `size` fits inside the image."""
    height, width = pair_size(size)
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = tf.maximum(1.0, tf.reduce_max(tf.constant([height, width], tf.float32) / shape))
    target = tf.cast(tf.math.ceil(shape * scale), tf.int32)
    return tf.cond(scale > 1.0,
                   lambda: tf.image.resize(image, target, method="bilinear"),
                   lambda: image)


def fit_to_size(image, size, seed, random_crop=False, flip=False, resize_to=None):
    """Brings float [H, W, C] to `size` the way a training pipeline asks.

    - `resize_to` given: resize to it first (e.g. 286 before 256 crops, the
      pix2pix jitter), then crop `size` (random with `random_crop`, else the
      centre);
    - else `random_crop`: crop `size` from the image as it is (upsized first
      if it is smaller);
    - else: resize to `size` (the aspect ratio is not kept).
    `flip` then mirrors left-right with probability 1/2. Randomness is
    stateless, keyed on `seed` (an int64 [2] tensor), so a pipeline is the
    same on every run and checkpointable.
    """
    height, width = pair_size(size)
    channels = image.shape[-1]
    crop_seed = seed
    flip_seed = seed + tf.constant([0, 1 << 40], tf.int64)
    if resize_to is not None:
        image = resize(image, resize_to)
    if random_crop:
        image = _cover(image, size)
        image = tf.image.stateless_random_crop(image, [height, width, channels], crop_seed)
    elif resize_to is not None:
        image = _cover(image, size)
        shape = tf.shape(image)
        top, left = (shape[0] - height) // 2, (shape[1] - width) // 2
        image = image[top:top + height, left:left + width]
    else:
        image = resize(image, size)
    if flip:
        image = tf.image.stateless_random_flip_left_right(image, flip_seed)
    return tf.ensure_shape(image, [height, width, channels])


def to_unit_range(image):
    """Float [0, 255] -> float32 [-1, 1] (the model's range)."""
    return tf.clip_by_value(image, 0.0, 255.0) / 127.5 - 1.0


def load_image(path, channels, half=None):
    """One image file as a uint8 numpy array [H, W, channels] (eagerly).

    Args:
        path: an image file.
        channels: 1 or 3 (see `to_channels`).
        half: None, "left" or "right" (side-by-side pairs).

    Raises:
        ValueError: the file is missing, unreadable or corrupt (named).
    """
    if not os.path.isfile(path):
        raise ValueError(f"input image {path} does not exist.")
    check_image_file(path)
    try:
        image = decode(tf.io.read_file(path))
    except tf.errors.OpError as e:
        raise ValueError(f"corrupt image file {path}: cannot decode it "
                         f"({e.message.splitlines()[0]}).") from e
    if half and image.shape[1] < 2:
        raise ValueError(f"{path} is {image.shape[1]} pixel(s) wide: it has no "
                         f"{half} half.")
    image = to_channels(take_half(image, half), channels)
    return tf.cast(tf.round(tf.clip_by_value(image, 0.0, 255.0)), tf.uint8).numpy()
