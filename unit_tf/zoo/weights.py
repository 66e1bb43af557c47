"""Zoo weights files: a UNIT's weights as float16 arrays in an `.npz`.

Format (`weights.npz`, a zip of `.npy` arrays, readable with `np.load`):

* one array per model variable, keyed by its Keras path without the model
  name, e.g. `encoder/layer0_a/conv/kernel`, `generator/shared_layer0/...`;
  floating-point variables are stored in the file's dtype (float16 by
  default), others (none in the current presets) as they are;
* `__format__`: a JSON string `{"format": "unit_tf.weights", "version": 1,
  "dtype": "float16", "parts": ["encoder", "generator"]}`.

No optimizer state and, by default, no discriminators: the file holds what
translation needs, and the model is rebuilt from the manifest's preset and
overrides. Keyed by path rather than by position so a mismatch between the
file and the architecture names the variable at fault. The zip members carry
a fixed timestamp, so the same weights always give the same bytes and sha256.
"""

import hashlib
import io
import json
import os
import zipfile

import numpy as np

from unit_tf.fileio import atomic_write

FORMAT = "unit_tf.weights"
FORMAT_VERSION = 1
_META_KEY = "__format__"
_STORE_DTYPES = ("float16", "float32")
_INFERENCE_PARTS = ("encoder", "generator")


def sha256_file(path, chunk_size=1 << 20):
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _key(variable):
    # Drop the model's own name ("unit/encoder/..." -> "encoder/..."): the
    # model can be renamed without changing the stored keys.
    return variable.path.split("/", 1)[1]


def _variables(model, parts):
    if parts is None:
        return list(model.weights)
    return [v for v in model.weights if _key(v).split("/", 1)[0] in parts]


def write_weights(model, path, dtype="float16", include_discriminators=None):
    """Writes a UNIT's weights to a zoo `.npz` file and returns its sha256.

    Args:
        model: a built `unit_tf.UNIT` (or a `Translator`, whose model is used).
        path: the output file; written to a temporary file, then renamed.
        dtype: "float16" (the zoo's choice: half the size, translations
            change by at most a level or two of 255) or "float32".
        include_discriminators: also store D_a, D_b and a class head. Default:
            only when the preset has a class head (domain adaptation, where
            the classifier is the product); translation needs only E and G.

    Returns:
        The hex sha256 of the written file, for the manifest.

    Examples:
        >>> digest = write_weights(model, "zoo/map_sat2map/weights.npz")
    """
    model = getattr(model, "model", model)
    if dtype not in _STORE_DTYPES:
        raise ValueError(f"dtype must be one of {_STORE_DTYPES}, got {dtype!r}.")
    if include_discriminators is None:
        include_discriminators = bool(model.preset.num_classes)
    parts = None if include_discriminators else _INFERENCE_PARTS
    arrays = {}
    for v in _variables(model, parts):
        value = np.asarray(v.numpy())
        if np.issubdtype(value.dtype, np.floating):
            value = value.astype(dtype)
        arrays[_key(v)] = value
    meta = {"format": FORMAT, "version": FORMAT_VERSION, "dtype": dtype,
            "parts": sorted({k.split("/", 1)[0] for k in arrays})}
    arrays[_META_KEY] = np.array(json.dumps(meta, sort_keys=True))

    # A zip with fixed timestamps and sorted members: same weights, same bytes.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w") as f:
                np.lib.format.write_array(f, arrays[key], allow_pickle=False)
    atomic_write(os.fspath(path), buffer.getvalue())
    return sha256_file(path)


def read_weights(path):
    """(arrays, meta) of a zoo weights file; raises ValueError if it is not one."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise ValueError(f"{path} is not a readable unit_tf weights file: {e}") from e
    if _META_KEY not in arrays:
        raise ValueError(f"{path} has no {_META_KEY!r} record: not a unit_tf weights file.")
    meta = json.loads(str(arrays.pop(_META_KEY)))
    if meta.get("format") != FORMAT or meta.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path}: unsupported weights format {meta}; this unit_tf reads "
                         f"{FORMAT} version {FORMAT_VERSION}.")
    return arrays, meta


def has_discriminators(meta):
    """Whether a weights file (by its meta) holds more than E and G."""
    return any(part not in _INFERENCE_PARTS for part in meta["parts"])


def load_weights(model, path):
    """Assigns a zoo weights file to a built UNIT (cast to the model's dtypes).

    Every stored array must match a model variable by key and shape, and every
    variable of the stored parts must be present.

    Args:
        model: a `unit_tf.UNIT` built with the architecture the file was
            written from (same preset, overrides and switches).
        path: a file written by `write_weights`.

    Returns:
        The file's meta dict (dtype, parts).
    """
    arrays, meta = read_weights(path)
    parts = None if has_discriminators(meta) else _INFERENCE_PARTS
    variables = {_key(v): v for v in _variables(model, parts)}
    missing = sorted(set(variables) - set(arrays))
    unexpected = sorted(set(arrays) - set(variables))
    if missing or unexpected:
        raise ValueError(
            f"{path} does not fit this model (preset {model.preset.name!r}): "
            f"{len(missing)} variables missing from the file {missing[:5]}, "
            f"{len(unexpected)} unexpected arrays {unexpected[:5]}. Check the preset, "
            "overrides and model arguments the file was written with.")
    for key, v in variables.items():
        if tuple(arrays[key].shape) != tuple(v.shape):
            raise ValueError(f"{path}: {key} has shape {arrays[key].shape} in the file "
                             f"but {tuple(v.shape)} in the model.")
        v.assign(arrays[key].astype(v.dtype))
    return meta
