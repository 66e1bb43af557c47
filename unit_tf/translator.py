"""Translator: a trained UNIT model behind a uint8-in, uint8-out interface."""

import numpy as np
import tensorflow as tf


def scaled_size(height, width, scale):
    """The (height, width) an image is translated at under `translate_scale`.

    Python ints for int sizes, int32 tensors for tensor sizes; rounded half
    to even, at least 1.
    """
    if isinstance(height, int) and isinstance(width, int):
        return max(1, round(height * scale)), max(1, round(width * scale))
    def one(n):
        return tf.maximum(1, tf.cast(tf.round(tf.cast(n, tf.float32) * scale), tf.int32))
    return one(height), one(width)


def resize_matrix(size_in, size_out):
    """[size_out, size_in] matrix of the training pipeline's 1-D resize.

    `unit_tf.data.images.resize` (bilinear, antialiased when shrinking) is
    linear and separable, so resizing along one axis is this matrix times the
    image: read off by resizing the identity. A constant for int sizes (as
    TFLite needs: its builtins lack the antialiased resize op), computed in
    the graph for tensor sizes.
    """
    def matrix():
        eye = tf.eye(size_in, dtype=tf.float32)[None, :, :, None]
        return tf.image.resize(eye, tf.stack([size_out, size_in]), method="bilinear",
                               antialias=True)[0, :, :, 0]
    if isinstance(size_in, int) and isinstance(size_out, int):
        with tf.init_scope():
            return tf.constant(matrix().numpy())
    return matrix()


def resize_images(images, height, width):
    """Resizes float [B, H, W, C] images like the training pipeline, by matmuls."""
    in_h, in_w = images.shape[1], images.shape[2]
    if in_h is None or in_w is None:
        shape = tf.shape(images)
        in_h, in_w = shape[1], shape[2]
    images = tf.einsum("oh,bhwc->bowc", resize_matrix(in_h, height), images)
    return tf.einsum("pw,bowc->bopc", resize_matrix(in_w, width), images)


class BaseTranslator:
    """The uint8 interface shared by the Keras, SavedModel and TFLite translators.

    Subclasses set `name`, `domain_a`, `domain_b` and implement
    `_run(images, direction)` on a non-empty uint8 [batch, H, W, C] array,
    raising ValueError for shapes they cannot take.
    """

    @property
    def directions(self):
        return {"a2b": f"{self.domain_a} -> {self.domain_b}",
                "b2a": f"{self.domain_b} -> {self.domain_a}"}

    def translate_a2b(self, images):
        """Domain A -> B. uint8 [B, H, W, C] or [H, W, C] in, uint8 out."""
        return self._translate(images, "a2b")

    def translate_b2a(self, images):
        """Domain B -> A. uint8 [B, H, W, C] or [H, W, C] in, uint8 out."""
        return self._translate(images, "b2a")

    def _translate(self, images, direction):
        images = np.asarray(images)
        if images.dtype != np.uint8:
            raise TypeError(f"{self.name}: translate_{direction} takes uint8 images "
                            f"(0-255), got dtype {images.dtype}.")
        single = images.ndim == 3
        if single:
            images = images[None]
        if images.ndim != 4 or 0 in images.shape:
            raise ValueError(f"{self.name}: translate_{direction} takes a non-empty "
                             f"[batch, height, width, channels] uint8 array, got shape "
                             f"{images.shape}.")
        out = self._run(images, direction)
        return out[0] if single else out


class Translator(BaseTranslator):
    """Translates uint8 images between two named domains with a UNIT model.

    Any input size works for fully convolutional presets: images are padded
    (reflect) up to a multiple of the net's size divisor and the output is
    cropped back. Presets with a fixed input size (digits) take only that size.
    A preset's `translate_scale` other than 1 resizes each input by it first
    (as the training data was resized) and the translation back to the
    input's size.

    Args:
        model: a built `unit_tf.UNIT`.
        domain_a, domain_b: names of the two domains (e.g. "satellite", "map");
            default: the model's `domain_names`.
        name: what the translator is called (a zoo entry name, a file).

    Examples:
        >>> t = unit_tf.zoo.load("map_sat2map")
        >>> maps = t.translate_a2b(satellite_uint8)   # [B, H, W, 3] uint8
        >>> t.directions
        {'a2b': 'satellite -> map', 'b2a': 'map -> satellite'}
    """

    def __init__(self, model, domain_a=None, domain_b=None, name="unit"):
        self.model = model
        self.domain_a = domain_a or model.domain_names[0]
        self.domain_b = domain_b or model.domain_names[1]
        self.name = name
        self._fns = {}

    @property
    def preset(self):
        return self.model.preset

    def _run(self, images, direction):
        source = "a" if direction == "a2b" else "b"
        p = self.preset
        channels = p.channels_a if source == "a" else p.channels_b
        if images.shape[-1] != channels:
            raise ValueError(
                f"{self.name}: translate_{direction} takes [batch, height, width, "
                f"{channels}] uint8 images, got shape {images.shape}.")
        h, w = images.shape[1:3]
        if p.translate_scale != 1:
            return self._fn(direction)(tf.constant(images)).numpy()
        if p.fixed_size:
            if (h, w) != (p.image_size, p.image_size):
                raise ValueError(f"{self.name}: preset {p.name!r} takes only "
                                 f"{p.image_size}x{p.image_size} images, got {h}x{w}.")
            padded = images
        else:
            d = p.size_divisor
            ph, pw = -h % d, -w % d
            mode = "reflect" if ph < h and pw < w else "edge"
            padded = np.pad(images, ((0, 0), (0, ph), (0, pw), (0, 0)), mode=mode)
        return self._fn(direction)(tf.constant(padded)).numpy()[:, :h, :w]

    def _fn(self, direction):
        if direction not in self._fns:
            if self.preset.translate_scale != 1:
                from unit_tf.export._graph import translate_uint8

                @tf.function(reduce_retracing=True)
                def fn(x):  # resize, pad, translate, crop, resize back: the exports' graph
                    return translate_uint8(self.model, x, direction)
            else:
                translate = (self.model.translate_a2b if direction == "a2b"
                             else self.model.translate_b2a)

                @tf.function(reduce_retracing=True)
                def fn(x):
                    y = translate(tf.cast(x, tf.float32) / 127.5 - 1.0)
                    return tf.cast(tf.round(tf.clip_by_value((y + 1.0) * 127.5, 0.0, 255.0)),
                                   tf.uint8)
            self._fns[direction] = fn
        return self._fns[direction]


def load_keras_model(path):
    """`keras.models.load_model(path)` with unit_tf's classes registered.

    Raises:
        ValueError: `path` is not a valid .keras archive (a zip file), e.g. a
            truncated download or another file renamed to .keras; Keras
            itself would report "File not found".
    """
    import os
    import zipfile

    import keras

    import unit_tf  # noqa: F401  (registers the UNIT classes for deserialisation)

    def invalid(why):
        return ValueError(f"{path} is not a valid .keras archive ({os.path.getsize(path):,} "
                          f"bytes; {why}): it is truncated or not a saved Keras model. "
                          "Save or copy it again.")

    if not zipfile.is_zipfile(path):
        raise invalid("a .keras file is a zip archive, and this is not one")
    try:
        return keras.models.load_model(path)
    except (zipfile.BadZipFile, EOFError) as e:
        raise invalid(f"the archive is damaged: {e}") from None


def load(source):
    """A translator from a zoo entry name, a `.keras` file or an exported model.

    Args:
        source: one of
            - a zoo entry name (see `unit_tf.zoo.list()`), which takes
              precedence when `source` has no path separator;
            - a zoo entry folder (holding `manifest.json`);
            - a `.keras` file saved from a `unit_tf.UNIT`;
            - a SavedModel folder from `unit_tf.export.export_saved_model`
              (the version folder, or `<out>/<name>` for its highest version);
            - a `.tflite` file from `unit_tf.export.export_tflite`.

    Returns:
        An object with `translate_a2b`, `translate_b2a` (uint8 in and out)
        and `directions`: a `Translator`, or for exports a
        `unit_tf.export.SavedModelTranslator` / `TFLiteTranslator`.

    Raises:
        ValueError: `source` is none of the above (the message lists the
            zoo's entries).

    Examples:
        >>> load("map_sat2map").directions["a2b"]
        'satellite -> map'
        >>> load("runs/map/final.keras").translate_b2a(maps_uint8)
        >>> load("/srv/models/map_sat2map").translate_a2b(satellite_uint8)
    """
    import os

    from unit_tf import zoo

    source = os.fspath(source)
    if os.sep not in source and "/" not in source and source in zoo.list_entries():
        return zoo.load(source)
    if os.path.isfile(source) and source.endswith(".keras"):
        model = load_keras_model(source)
        if not (hasattr(model, "translate_a2b") and hasattr(model, "preset")):
            raise ValueError(f"{source} holds a {type(model).__name__}, not a unit_tf.UNIT.")
        return Translator(model, name=os.path.splitext(os.path.basename(source))[0])
    if os.path.isfile(source) and source.endswith(".tflite"):
        from unit_tf.export import TFLiteTranslator

        return TFLiteTranslator(source)
    if os.path.isdir(source):
        from unit_tf.export import SavedModelTranslator, find_saved_model

        if os.path.isfile(os.path.join(source, "manifest.json")):
            return zoo.load_entry(source)
        if find_saved_model(source) is not None:
            return SavedModelTranslator(source)
    entries = ", ".join(zoo.list_entries()) or "none"
    raise ValueError(
        f"cannot load {source!r}: expected a zoo entry name (available: {entries}), a "
        "zoo entry folder, a .keras file, a SavedModel folder or a .tflite file.")
