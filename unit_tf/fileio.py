"""Atomic file writes: nothing half-written is ever left at the target path."""

import io
import json
import os
import uuid


def atomic_write(path, data):
    """Writes `data` (bytes) to a temp file beside `path`, then renames it into place."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    # Created like a plain open() would (mode 0o666 less the umask), unlike
    # mkstemp's private 0o600; O_EXCL never reuses an existing file.
    tmp = os.path.join(folder, f".tmp-{uuid.uuid4().hex}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666)

    def write(_):  # `tmp` is already open as `fd`
        with os.fdopen(fd, "wb") as f:
            f.write(data)

    return _write_then_rename(write, tmp, path)


def _write_then_rename(write, tmp, path):
    """Calls `write(tmp)`, renames `tmp` to `path`; removes `tmp` if anything fails."""
    try:
        write(tmp)
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
    return _write_then_rename(model.save, path + ".tmp.keras", path)


def atomic_write_png(path, image):
    """Writes a uint8 [H, W, C] (C = 1 or 3) image as PNG, atomically."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(buffer, "PNG")
    return atomic_write(path, buffer.getvalue())
