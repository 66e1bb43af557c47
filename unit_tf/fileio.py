"""Atomic file writes: nothing half-written is ever left at the target path.

Also the checks a tool makes before it writes anything: `check_writable_folder`
proves an output folder can be made without making it, so a run that fails
on its inputs leaves no empty folder behind.
"""

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


def make_temp_dir(parent, prefix=".tmp-"):
    """A new, uniquely named folder in `parent` with the usual permissions.

    `tempfile.mkdtemp` makes private (0o700) folders; a folder renamed into
    place from one (a SavedModel, a checkpoint) would stay unreadable to
    other users, e.g. a TF Serving container. This one gets 0o777 less the
    umask, like `os.makedirs`.
    """
    path = os.path.join(parent, f"{prefix}{uuid.uuid4().hex}")
    os.makedirs(path)
    return path


def check_writable_folder(path, flag="--out"):
    """Raises ValueError unless `path` is, or can be made, a writable folder.

    Creates nothing that outlives the call: a probe file is written to the
    nearest existing folder on the way to `path` and removed again, so a tool
    can check its output before the slow part and create the folder only
    once its inputs have loaded.

    Args:
        path: the output folder.
        flag: how the tool's user named it, for the message ("--out").
    """
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"{flag} {path} is a file, not a folder; choose another {flag}.")
    existing = path
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ValueError(f"{flag} {path} is not writable: {existing} is a file; choose "
                         f"another {flag}.")
    probe = os.path.join(existing, f".write-test-{uuid.uuid4().hex}")
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.remove(probe)
    except OSError as e:
        raise ValueError(f"{flag} {path} is not writable ({e.strerror or e} in {existing}); "
                         f"choose another {flag}.") from None


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
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return _write_then_rename(model.save, path + ".tmp.keras", path)


def atomic_write_png(path, image):
    """Writes a uint8 [H, W, C] (C = 1 or 3) image as PNG, atomically."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(buffer, "PNG")
    return atomic_write(path, buffer.getvalue())
