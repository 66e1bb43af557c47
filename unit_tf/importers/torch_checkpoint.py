"""Reading PyTorch `state_dict` checkpoints without PyTorch, and without running them.

`torch.load` unpickles the file, and a pickle can call any importable
function: loading an untrusted checkpoint with it can run arbitrary code.
`read_state_dict` reads both formats `torch.save` has written with a
restricted unpickler that resolves only the globals a tensor `state_dict`
needs, and refuses every other one by name before anything is called:

* `collections.OrderedDict` (the dict itself),
* `torch._utils._rebuild_tensor` (torch <= 0.3, the 2017 checkpoints) and
  `torch._utils._rebuild_tensor_v2` (later), here replaced by a function
  that only records (storage, offset, size, stride),
* the typed storage classes `torch.FloatStorage`, `torch.HalfStorage`, ...,
  here only names for a numpy dtype.

Formats:

* legacy (torch < 1.6, and `_use_new_zipfile_serialization=False`):
  consecutive pickles, the magic number, the protocol version (1001), a
  sys-info dict, the `state_dict` pickle whose persistent ids
  `('storage', type, key, location, numel, view)` name storages, the sorted
  list of storage keys, then each storage's raw bytes (little-endian) after
  an int64 element count;
* zip (torch >= 1.6): an archive with `<prefix>/data.pkl`, whose persistent
  ids are `('storage', type, key, location, numel)`, and each storage's raw
  bytes in `<prefix>/data/<key>`. Member sizes are checked against limits
  and against the pickle's element counts before anything is read.

Tensors are rebuilt with numpy from storage offset, size and stride, with
every index checked to lie inside its storage.
"""

import collections
import io
import os
import pickle
import zipfile

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
# The typed storages a state_dict's tensors may live in, as numpy dtypes
# (PyTorch writes storages little-endian).
STORAGE_DTYPES = {
    "FloatStorage": "<f4", "DoubleStorage": "<f8", "HalfStorage": "<f2",
    "LongStorage": "<i8", "IntStorage": "<i4", "ShortStorage": "<i2",
    "CharStorage": "i1", "ByteStorage": "u1", "BoolStorage": "?",
}
REBUILD_FUNCTIONS = ("_rebuild_tensor", "_rebuild_tensor_v2")
ALLOWED_GLOBALS = ("collections.OrderedDict",
                   *(f"torch._utils.{name}" for name in REBUILD_FUNCTIONS),
                   *(f"torch.{name}" for name in STORAGE_DTYPES))
MAX_BYTES = 4 << 30          # largest checkpoint accepted (all storages), 4 GiB
MAX_PICKLE_BYTES = 64 << 20  # largest data.pkl of a zip checkpoint
MAX_MEMBERS = 100_000        # most files in a zip checkpoint


class CheckpointError(ValueError):
    """A file that is not a readable PyTorch state_dict checkpoint."""


class RefusedGlobalError(CheckpointError):
    """The pickle names a global that a tensor state_dict does not need."""


# Stand-ins for what the pickle refers to. Tuples have no __dict__, so a
# pickle cannot set attributes on them.
StorageType = collections.namedtuple("StorageType", "name dtype")
_Storage = collections.namedtuple("_Storage", "key dtype offset numel")
_Tensor = collections.namedtuple("_Tensor", "storage offset size stride")


def _rebuild_tensor(storage, storage_offset, size, stride, *unused):
    # _rebuild_tensor_v2 adds requires_grad, backward hooks and metadata:
    # none of them changes the values.
    return _Tensor(storage, storage_offset, size, stride)


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, source, load_storage):
        super().__init__(file, encoding="utf-8")  # Python 2 str as torch.load reads it
        self.source = source
        self.load_storage = load_storage

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch._utils" and name in REBUILD_FUNCTIONS:
            return _rebuild_tensor
        if module == "torch" and name in STORAGE_DTYPES:
            return StorageType(name, STORAGE_DTYPES[name])
        raise RefusedGlobalError(
            f"{self.source}: refusing to load the global {module}.{name}: a tensor "
            f"state_dict needs only {', '.join(ALLOWED_GLOBALS)}. The file may be trying "
            "to run code; it was not loaded, and nothing was called.")

    def persistent_load(self, pid):
        if self.load_storage is None:
            raise CheckpointError(f"{self.source}: unexpected storage reference in a "
                                  "header record; the file is not a PyTorch checkpoint.")
        return self.load_storage(pid)


def _unpickle(data_or_file, source, load_storage=None):
    file = io.BytesIO(data_or_file) if isinstance(data_or_file, bytes) else data_or_file
    try:
        return _RestrictedUnpickler(file, source, load_storage).load()
    except CheckpointError:
        raise
    except EOFError:
        raise CheckpointError(f"{source}: the file ends inside a pickle: it is truncated "
                              "(download it again).") from None
    except Exception as e:  # a malformed pickle raises many kinds of errors
        raise CheckpointError(f"{source}: not a readable PyTorch checkpoint pickle "
                              f"({type(e).__name__}: {e}); it may be damaged or truncated."
                              ) from None


def _is_int(value, minimum=0):
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _storage_from_pid(pid, source, legacy):
    """Checks a persistent id; returns (key, dtype, numel, view or None)."""
    length = 6 if legacy else 5
    if not (isinstance(pid, tuple) and len(pid) == length and pid[0] == "storage"):
        raise CheckpointError(f"{source}: unexpected persistent id {pid!r}; a PyTorch "
                              "state_dict refers only to ('storage', ...) records.")
    _, storage_type, key, location, numel = pid[:5]
    view = pid[5] if legacy else None
    if not isinstance(storage_type, StorageType):
        raise CheckpointError(f"{source}: storage type {storage_type!r} is not one of "
                              f"{sorted(STORAGE_DTYPES)}.")
    if not (isinstance(key, str) and isinstance(location, str) and _is_int(numel)):
        raise CheckpointError(f"{source}: malformed storage record {pid!r}.")
    if view is not None and not (isinstance(view, tuple) and len(view) == 3
                                 and _is_int(view[1]) and _is_int(view[2])
                                 and view[1] + view[2] <= numel):
        raise CheckpointError(f"{source}: malformed storage view {view!r} in {pid!r}.")
    return key, np.dtype(storage_type.dtype), numel, view


def _tensors(obj, source):
    """The state_dict's {name: _Tensor}, in order, after checking its shape."""
    if not isinstance(obj, dict):
        raise CheckpointError(f"{source} holds a {type(obj).__name__}, not a state_dict "
                              "(a dict of tensor names to tensors).")
    for name, value in obj.items():
        if not isinstance(name, str) or not isinstance(value, _Tensor):
            raise CheckpointError(f"{source}: entry {name!r} is a {type(value).__name__}, "
                                  "not a tensor; the file is not a plain state_dict.")
    return obj


def _materialise(name, tensor, buffers, source):
    """A numpy copy of `tensor`, after checking that it lies inside its storage."""
    storage, offset, size, stride = tensor
    if not (isinstance(storage, _Storage) and _is_int(offset)
            and isinstance(size, tuple) and isinstance(stride, tuple)
            and len(size) == len(stride)
            and all(_is_int(n) for n in size) and all(_is_int(s) for s in stride)):
        raise CheckpointError(f"{source}: tensor {name!r} has a malformed layout "
                              f"(offset {offset!r}, size {size!r}, stride {stride!r}).")
    base = buffers[storage.key][storage.offset:storage.offset + storage.numel]
    if 0 in size:
        return np.zeros(size, storage.dtype.newbyteorder("="))
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= base.size:
        raise CheckpointError(f"{source}: tensor {name!r} (size {list(size)}, stride "
                              f"{list(stride)}, offset {offset}) reaches element {last} of "
                              f"a storage of {base.size}; the file is damaged.")
    view = np.lib.stride_tricks.as_strided(
        base[offset:], shape=size, strides=[s * base.itemsize for s in stride],
        writeable=False)
    return view.astype(storage.dtype.newbyteorder("="))  # a native-endian copy


def _read_legacy(f, source, file_size):
    if _unpickle(f, source) != LEGACY_MAGIC:
        raise CheckpointError(f"{source} is not a PyTorch checkpoint (no torch.save magic "
                              "number).")
    protocol = _unpickle(f, source)
    if protocol != LEGACY_PROTOCOL:
        raise CheckpointError(f"{source}: torch.save protocol {protocol!r}; this reader "
                              f"knows {LEGACY_PROTOCOL}.")
    sys_info = _unpickle(f, source)
    if not isinstance(sys_info, dict) or sys_info.get("little_endian") is not True:
        raise CheckpointError(f"{source} was written on a big-endian machine (or has no "
                              "sys info); only little-endian checkpoints are read.")
    storages = {}  # key -> (dtype, numel)

    def load_storage(pid):
        key, dtype, numel, view = _storage_from_pid(pid, source, legacy=True)
        if storages.setdefault(key, (dtype, numel)) != (dtype, numel):
            raise CheckpointError(f"{source}: storage {key!r} is declared twice, "
                                  "differently.")
        if view is None:
            return _Storage(key, dtype, 0, numel)
        return _Storage(key, dtype, view[1], view[2])

    tensors = _tensors(_unpickle(f, source, load_storage), source)
    keys = _unpickle(f, source)
    if not isinstance(keys, list) or sorted(keys) != sorted(storages):
        raise CheckpointError(f"{source}: the storage list does not match the storages the "
                              "state_dict refers to; the file is damaged.")
    buffers = {}
    for key in keys:
        dtype, numel = storages[key]
        header = f.read(8)
        if len(header) < 8:
            raise CheckpointError(f"{source} ends before storage {key!r}: it is truncated "
                                  "(download it again).")
        count = int.from_bytes(header, "little", signed=True)
        nbytes = numel * dtype.itemsize
        if count != numel:
            raise CheckpointError(f"{source}: storage {key!r} holds {count} elements but the "
                                  f"state_dict says {numel}; the file is damaged.")
        if nbytes > file_size - f.tell():
            raise CheckpointError(f"{source} ends inside storage {key!r} ({nbytes} bytes "
                                  "expected): it is truncated (download it again).")
        buffers[key] = np.frombuffer(f.read(nbytes), dtype)
    return {name: _materialise(name, t, buffers, source) for name, t in tensors.items()}


def _read_zip(path, source, max_bytes):
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise CheckpointError(f"{source}: a damaged or truncated zip checkpoint ({e}); "
                              "download it again.") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise CheckpointError(f"{source}: {len(infos)} files in the archive; a "
                                  f"checkpoint has at most {MAX_MEMBERS}.")
        members = {i.filename: i for i in infos}
        pickles = [n for n in members if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise CheckpointError(f"{source} is a zip file but not a PyTorch checkpoint "
                                  "(no single <name>/data.pkl).")
        prefix = pickles[0][:-len("data.pkl")]
        total = sum(i.file_size for i in infos)
        if total > max_bytes or members[pickles[0]].file_size > MAX_PICKLE_BYTES:
            raise CheckpointError(f"{source}: {total} bytes uncompressed, over the "
                                  f"{max_bytes}-byte limit of this reader (max_bytes).")

        def read(name):
            try:
                return archive.read(name)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
                raise CheckpointError(f"{source}: cannot read {name} ({e}); the archive is "
                                      "damaged or truncated.") from None

        byteorder = prefix + "byteorder"
        if byteorder in members and read(byteorder).strip() != b"little":
            raise CheckpointError(f"{source} was written big-endian; only little-endian "
                                  "checkpoints are read.")
        buffers = {}

        def load_storage(pid):
            key, dtype, numel, _ = _storage_from_pid(pid, source, legacy=False)
            member = f"{prefix}data/{key}"
            if key not in buffers:
                info = members.get(member)
                if info is None:
                    raise CheckpointError(f"{source}: storage file {member} is missing.")
                if info.file_size != numel * dtype.itemsize:
                    raise CheckpointError(
                        f"{source}: {member} has {info.file_size} bytes, but the state_dict "
                        f"says {numel} elements of {dtype.itemsize} bytes; the file is "
                        "damaged.")
                buffers[key] = np.frombuffer(read(member), dtype)
            elif buffers[key].dtype != dtype or buffers[key].size != numel:
                raise CheckpointError(f"{source}: storage {key!r} is declared twice, "
                                      "differently.")
            return _Storage(key, dtype, 0, numel)

        tensors = _tensors(_unpickle(read(pickles[0]), source, load_storage), source)
        return {name: _materialise(name, t, buffers, source) for name, t in tensors.items()}


def checkpoint_format(path):
    """"zip" or "legacy" from a file's first bytes; CheckpointError for anything else."""
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head[:1] == b"\x80":  # a pickle's PROTO opcode: the legacy format's first record
        return "legacy"
    raise CheckpointError(f"{path} is not a PyTorch checkpoint: it starts with {head!r}, "
                          "neither a zip archive nor a pickle.")


def read_state_dict(path, max_bytes=MAX_BYTES):
    """Reads a PyTorch `state_dict` file into numpy arrays, without PyTorch.

    Args:
        path: a `torch.save(module.state_dict(), path)` file, in the legacy
            format (torch < 1.6; the 2017 `*.pkl` checkpoints) or the zip format.
        max_bytes: refuse files whose storages exceed this many bytes.

    Returns:
        {name: numpy array} in the file's order, each array a native-endian
        copy in its storage's dtype, with the PyTorch layout (e.g. conv
        weights [out, in, kH, kW]).

    Raises:
        RefusedGlobalError: the pickle names any other global than those a
            tensor state_dict needs (`ALLOWED_GLOBALS`); nothing is called.
        CheckpointError: not a checkpoint, truncated, damaged or too large.

    Examples:
        >>> state = read_state_dict("cat2tiger_gen_00500000.pkl")
        >>> state["encode_A.0.model.0.weight"].shape
        (64, 3, 7, 7)
    """
    path = os.fspath(path)
    source = os.path.basename(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: no such file.")
    file_size = os.path.getsize(path)
    if checkpoint_format(path) == "zip":
        return _read_zip(path, source, max_bytes)
    if file_size > max_bytes:
        raise CheckpointError(f"{source}: {file_size} bytes, over the {max_bytes}-byte limit "
                              "of this reader (max_bytes).")
    with open(path, "rb") as f:
        return _read_legacy(f, source, file_size)
