"""Writes PyTorch-format checkpoints without PyTorch, for the importer tests.

The pickles name the same globals `torch.save` writes (`torch._utils.
_rebuild_tensor_v2`, `torch.FloatStorage`, ...) through stand-in objects, so
tests can make 2017-style files, odd tensor layouts, damaged files and
malicious ones. A malicious object names any global, e.g.
`Call("os", "system", "touch x")`.
"""

import collections
import io
import pickle
import struct
import zipfile

import numpy as np

from unit_tf.importers.torch_checkpoint import LEGACY_MAGIC, LEGACY_PROTOCOL

_STORAGE_NAMES = {np.dtype("float32"): "FloatStorage", np.dtype("float64"): "DoubleStorage",
                  np.dtype("float16"): "HalfStorage", np.dtype("int64"): "LongStorage"}


class Global:
    """Pickled as the GLOBAL opcode `module name`."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle insists on a callable; never called here
        raise AssertionError(f"{self.module}.{self.name} must not be called")


class Call:
    """Pickled as a call of the global `module.name(*args)` (REDUCE)."""

    def __init__(self, module, name, *args):
        self.target, self.args = Global(module, name), args

    def __reduce__(self):
        return self.target, self.args


class Raw:
    """A tensor given by its storage (1-D array) and layout, in elements."""

    def __init__(self, storage, offset, size, stride):
        self.storage = np.ascontiguousarray(storage).ravel()
        self.offset, self.size, self.stride = offset, tuple(size), tuple(stride)


class _StorageRef:
    def __init__(self, key, array):
        self.key, self.array = key, array


class _Tensor:
    def __init__(self, ref, raw, rebuild):
        self.ref, self.raw, self.rebuild = ref, raw, rebuild

    def __reduce__(self):
        args = (self.ref, self.raw.offset, self.raw.size, self.raw.stride)
        if self.rebuild == "_rebuild_tensor_v2":
            args += (False, collections.OrderedDict())
        return Global("torch._utils", self.rebuild), args


def _as_raw(value):
    if isinstance(value, Raw):
        return value
    array = np.array(value, order="C")  # (ascontiguousarray would make a 0-d array 1-d)
    return Raw(array.ravel(), 0, array.shape, [s // array.itemsize for s in array.strides])


class _Pickler(pickle._Pickler):
    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, file, legacy):
        super().__init__(file, protocol=2)
        self.legacy = legacy

    def save_global_stand_in(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())

    dispatch[Global] = save_global_stand_in

    def persistent_id(self, obj):
        if not isinstance(obj, _StorageRef):
            return None
        storage_type = Global("torch", _STORAGE_NAMES[obj.array.dtype])
        pid = ("storage", storage_type, obj.key, self.location, obj.array.size)
        return pid + (None,) if self.legacy else pid

    location = "cpu"


class _Python2Pickler(_Pickler):
    """Strings as Python 2's `str` (BINSTRING), as the 2017 checkpoints hold them."""

    dispatch = _Pickler.dispatch.copy()
    location = "cuda:0"  # the released models were saved from a GPU

    def save_python2_str(self, obj):
        data = obj.encode("utf-8")
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[str] = save_python2_str


def pickle_bytes(obj, legacy=True, python2=False):
    """One protocol-2 pickle of `obj`, stand-ins included."""
    buffer = io.BytesIO()
    (_Python2Pickler if python2 else _Pickler)(buffer, legacy).dump(obj)
    return buffer.getvalue()


def _state_and_storages(state, rebuild):
    """(pickle-ready dict, {key: storage array}); other objects pass through."""
    storages, out = {}, collections.OrderedDict()
    for i, (name, value) in enumerate(state.items()):
        if isinstance(value, (np.ndarray, Raw)):
            raw = _as_raw(value)
            ref = _StorageRef(str(i), raw.storage)
            storages[ref.key] = raw.storage
            value = _Tensor(ref, raw, rebuild)
        out[name] = value
    return out, storages


def legacy_bytes(state, rebuild="_rebuild_tensor_v2", python2=False):
    """A legacy-format (torch < 1.6) file of `state` ({name: array, Raw or other}).

    `python2=True` writes every string as Python 2 did (the 2017 files).
    """
    pickled, storages = _state_and_storages(state, rebuild)
    header = b"".join(pickle_bytes(x, python2=python2) for x in (
        LEGACY_MAGIC, LEGACY_PROTOCOL,
        {"protocol_version": LEGACY_PROTOCOL, "little_endian": True,
         "type_sizes": {"short": 2, "int": 4, "long": 4}}))
    parts = [header, pickle_bytes(pickled, python2=python2),
             pickle_bytes(sorted(storages), python2=python2)]
    for key in sorted(storages):
        array = storages[key].astype(storages[key].dtype.newbyteorder("<"))
        parts += [np.int64(array.size).astype("<i8").tobytes(), array.tobytes()]
    return b"".join(parts)


def zip_bytes(state, prefix="archive", rebuild="_rebuild_tensor_v2"):
    """A zip-format (torch >= 1.6) file of `state`."""
    pickled, storages = _state_and_storages(state, rebuild)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{prefix}/data.pkl", pickle_bytes(pickled, legacy=False))
        zf.writestr(f"{prefix}/byteorder", "little")
        for key, array in storages.items():
            zf.writestr(f"{prefix}/data/{key}", array.astype(array.dtype.newbyteorder("<"))
                        .tobytes())
        zf.writestr(f"{prefix}/version", "3\n")
    return buffer.getvalue()
