"""SavedModel export in the TF Serving layout, and a translator over it.

The exported graph needs only TensorFlow: uint8 in, uint8 out, with the
scaling to [-1, 1], the padding to the net's size divisor and the crop back
inside the graph. Signatures:

    serving_default      A -> B, the same as translate_a2b
    translate_a2b        {"images": uint8 [batch, H, W, C_a]}
                         -> {"images": uint8 [batch, H, W, C_b]}
    translate_b2a        {"images": uint8 [batch, H, W, C_b]}
                         -> {"images": uint8 [batch, H, W, C_a]}
    translate_a2b_bytes  {"images_bytes": string [batch]} -> {"images_bytes": string [batch]}
    translate_b2a_bytes  encoded JPEG/PNG/BMP/GIF in, PNG out, one image per string

The `_bytes` suffix is TF Serving's REST convention: inputs sent as
{"b64": ...} are decoded to bytes, and outputs whose name ends in `_bytes`
come back base64-encoded. Height and width are free for fully convolutional
presets (reflect-padded up to a multiple of the size divisor, cropped back);
fixed-size presets (digits: 32x32) take only their size.
"""

import os
import shutil

import numpy as np
import tensorflow as tf

from unit_tf.export import _graph
from unit_tf.fileio import make_temp_dir
from unit_tf.translator import BaseTranslator

SIGNATURES = ("serving_default", "translate_a2b", "translate_b2a",
              "translate_a2b_bytes", "translate_b2a_bytes")


class TranslationModule(tf.Module):
    """The exported object: the inference weights, metadata and tf.functions.

    Args:
        model: a built `unit_tf.UNIT`.
        domain_a, domain_b: domain names stored with the export.
        height, width: static input size, or None for any size.
        batch: static batch size, or None.
        checks: add run-time checks of the channel count and size (they cost
            nothing measurable; TFLite exports leave them out because its
            static shapes already pin the input).
        bytes_signatures: add the encoded-image signatures.
    """

    def __init__(self, model, domain_a, domain_b, height=None, width=None, batch=None,
                 checks=True, bytes_signatures=True):
        super().__init__(name="unit_translation")
        p = model.preset
        # The Keras model itself stays out of the tracked attributes (a
        # closure holds it), so only the variables below are saved.
        self._translate = lambda images, direction: _translate(model, images, direction,
                                                              checks)
        # Only the encoders and generators: the discriminators are not needed
        # to translate and would double the size of the export.
        self.inference_weights = _graph.inference_variables(model)
        self.domain_names = tf.Variable([domain_a, domain_b], trainable=False,
                                        name="domain_names")
        self.channels = tf.Variable([p.channels_a, p.channels_b], trainable=False,
                                    name="channels")
        self.size_divisor = tf.Variable(p.size_divisor, trainable=False, name="size_divisor")
        self.fixed_size = tf.Variable(p.image_size if p.fixed_size else 0, trainable=False,
                                      name="fixed_size")
        if p.fixed_size:
            height = width = p.image_size
        for direction in _graph.DIRECTIONS:
            spec = tf.TensorSpec(
                [batch, height, width, _graph.source_channels(p, direction)], tf.uint8,
                name="images")
            setattr(self, f"translate_{direction}",
                    tf.function(self._uint8_fn(direction), input_signature=[spec],
                                autograph=False))
            if not bytes_signatures:
                continue
            setattr(self, f"translate_{direction}_bytes",
                    tf.function(self._bytes_fn(direction,
                                               _graph.source_channels(p, direction)),
                                input_signature=[tf.TensorSpec([None], tf.string,
                                                               name="images_bytes")]))

    def _uint8_fn(self, direction):
        def fn(images):
            return {"images": self._translate(images, direction)}
        fn.__name__ = f"translate_{direction}"
        return fn

    def _bytes_fn(self, direction, channels):
        def one(data):
            # channels= converts grey/RGBA files to what the domain expects.
            image = tf.io.decode_image(data, channels=channels, dtype=tf.uint8,
                                       expand_animations=False)
            return tf.io.encode_png(self._translate(image[None], direction)[0])

        def fn(images_bytes):
            # One image at a time: the images of a request may differ in size.
            out = tf.map_fn(one, images_bytes,
                            fn_output_signature=tf.TensorSpec([], tf.string))
            return {"images_bytes": out}
        fn.__name__ = f"translate_{direction}_bytes"
        return fn

    def signatures(self):
        """The signature dict for `tf.saved_model.save`."""
        return {name: getattr(self, "translate_a2b" if name == "serving_default" else name)
                for name in SIGNATURES if hasattr(self, name) or name == "serving_default"}


def _translate(model, images, direction, checks):
    if checks:
        images = _graph.check_batch(images, model.preset, direction, f"translate_{direction}")
    return _graph.translate_uint8(model, images, direction)


def export_saved_model(model_or_translator, out_dir, name, version=1, overwrite=False):
    """Writes a SavedModel for TF Serving to `<out_dir>/<name>/<version>/`.

    The version folder appears in one rename, so a server watching
    `<out_dir>/<name>` never sees a half-written version (TF Serving ignores
    the non-numeric temporary folder).

    Args:
        model_or_translator: a `unit_tf.UNIT` or a `Translator` (its domain
            names are stored in the export).
        out_dir: the model base folder (TF Serving's `--model_base_path` parent).
        name: the model name (TF Serving's MODEL_NAME).
        version: a positive integer.
        overwrite: replace an existing version folder instead of failing.

    Returns:
        The path of the version folder.

    Examples:
        >>> path = export_saved_model(unit_tf.zoo.load("map_sat2map"), "/srv/models",
        ...                           "map_sat2map", version=1)
        >>> loaded = tf.saved_model.load(path)
        >>> maps = loaded.signatures["translate_a2b"](images=uint8_batch)["images"]
    """
    model, domain_a, domain_b = _graph.unpack(model_or_translator)
    if not isinstance(name, str) or not name or os.sep in name or name.startswith("."):
        raise ValueError(f"name must be a plain folder name, got {name!r}.")
    if isinstance(version, bool) or not isinstance(version, (int, np.integer)) or version < 1:
        raise ValueError(f"version must be a positive integer, got {version!r}.")
    model_dir = os.path.join(os.fspath(out_dir), name)
    target = os.path.join(model_dir, str(int(version)))
    if os.path.exists(target) and not overwrite:
        raise FileExistsError(f"{target} exists; pass overwrite=True or a new version.")
    os.makedirs(model_dir, exist_ok=True)
    # Not tempfile.mkdtemp: its 0o700 would keep a server running as
    # another user out of the renamed version folder.
    tmp = make_temp_dir(model_dir, prefix=f".tmp-{version}-")
    try:
        module = TranslationModule(model, domain_a, domain_b)
        tf.saved_model.save(module, tmp, signatures=module.signatures())
        if os.path.exists(target):
            old = make_temp_dir(model_dir, prefix=f".old-{version}-")
            os.rename(target, os.path.join(old, "v"))
            os.rename(tmp, target)
            shutil.rmtree(old)
        else:
            os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def find_saved_model(path):
    """The SavedModel folder at `path`: itself, or its highest numeric version.

    Returns None when `path` holds neither.
    """
    path = os.fspath(path)
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    if not os.path.isdir(path):
        return None
    versions = [int(d) for d in os.listdir(path)
                if d.isdigit() and os.path.isfile(os.path.join(path, d, "saved_model.pb"))]
    return os.path.join(path, str(max(versions))) if versions else None


class SavedModelTranslator(BaseTranslator):
    """A `Translator`-like object over an exported SavedModel.

    Same interface as `unit_tf.translator.Translator` (`translate_a2b`,
    `translate_b2a`, `directions`), calling the exported signatures; the
    inputs are checked in Python first for clear errors.

    Args:
        path: a SavedModel version folder, or a `<out>/<name>` folder (its
            highest version is used).

    Examples:
        >>> t = SavedModelTranslator("/srv/models/map_sat2map")
        >>> t.translate_a2b(np.zeros((1, 256, 256, 3), np.uint8)).shape
        (1, 256, 256, 3)
    """

    def __init__(self, path):
        found = find_saved_model(path)
        if found is None:
            raise FileNotFoundError(f"no SavedModel (saved_model.pb) in {path} "
                                    "or its numeric version folders.")
        self.path = found
        self._loaded = tf.saved_model.load(found)
        missing = [s for s in SIGNATURES if s not in self._loaded.signatures]
        if missing:
            raise ValueError(f"{found} is not a unit_tf export: signatures {missing} are "
                             f"missing (found {sorted(self._loaded.signatures)}).")
        names = [n.decode() for n in self._loaded.domain_names.numpy()]
        self.domain_a, self.domain_b = names
        self.channels = dict(zip(("a", "b"), self._loaded.channels.numpy().tolist()))
        self.fixed_size = int(self._loaded.fixed_size.numpy())
        self.name = os.path.basename(os.path.dirname(os.path.abspath(found)))

    def translate_bytes(self, encoded, direction="a2b"):
        """Encoded images (JPEG/PNG bytes, a list) -> PNG bytes (a list)."""
        fn = self._loaded.signatures[f"translate_{direction}_bytes"]
        out = fn(images_bytes=tf.constant(list(encoded), tf.string))["images_bytes"]
        return [bytes(b) for b in out.numpy()]

    def _run(self, images, direction):
        channels = self.channels[direction[0]]
        if images.shape[-1] != channels:
            raise ValueError(f"{self.name}: translate_{direction} takes [batch, height, "
                             f"width, {channels}] uint8 images, got shape {images.shape}.")
        if self.fixed_size and images.shape[1:3] != (self.fixed_size, self.fixed_size):
            raise ValueError(f"{self.name}: takes only {self.fixed_size}x{self.fixed_size} "
                             f"images, got {images.shape[1]}x{images.shape[2]}.")
        fn = self._loaded.signatures[f"translate_{direction}"]
        return fn(images=tf.constant(images))["images"].numpy()
