"""Atomic file writes: nothing half-written is ever left at the target path."""

import io
import json
import os
import tempfile


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path, data):
    """Writes `data` (bytes) to a temp file beside `path`, then renames it into place."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; use the usual mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def atomic_write_json(path, payload, default=None, sort_keys=False):
    """Writes `payload` as indented JSON, atomically; `default`, `sort_keys` as in `json.dumps`."""
    text = json.dumps(payload, indent=2, default=default, sort_keys=sort_keys) + "\n"
    return atomic_write(path, text.encode())


def atomic_save_npz(path, **arrays):
    """`np.savez_compressed(path, **arrays)`, atomically."""
    import numpy as np

    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return atomic_write(path, buffer.getvalue())


def atomic_save_keras(model, path):
    """`model.save` to a temporary `.keras` file beside `path`, then renames it."""
    tmp = path + ".tmp.keras"
    try:
        model.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def atomic_write_png(path, image):
    """Writes a uint8 [H, W, C] (C = 1 or 3) image as PNG, atomically."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(buffer, "PNG")
    return atomic_write(path, buffer.getvalue())
