"""What the CPU offers, and the compute precision that follows from it.

Machines of one kind can come with different CPUs: AMD EPYCs with AVX-512
and AVX512_BF16 or with AVX2 + FMA only, Intel Xeons with AMX or with
AVX-512 but no bfloat16. bfloat16 is fast only where the CPU has bfloat16
instructions; elsewhere TensorFlow emulates it and a
`mixed_bfloat16` train step measured 14x slower than float32 (BUILD_NOTES.md,
"Precision by CPU"). `choose_precision` is the one rule every tool uses.
`tune_allocator` sets how glibc's malloc keeps freed tensor memory.
"""

import dataclasses
import os

# CPU flags (as /proc/cpuinfo spells them) of native bfloat16 arithmetic.
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@dataclasses.dataclass(frozen=True)
class CPUInfo:
    """The CPU as /proc/cpuinfo describes it.

    Attributes:
        model: the "model name" line, e.g. "AMD EPYC".
        vendor: "AuthenticAMD", "GenuineIntel", ... ("" if unknown).
        family: the CPU family number (AMD Zen 4: 25, Zen 5: 26), or None.
        flags: the feature flags of the first processor.
        mhz: the clock /proc/cpuinfo reports (in a VM often the nominal clock;
            boost clocks run higher), or None.
        cores: logical processors this process may use.
    """

    model: str = "unknown"
    vendor: str = ""
    family: int = None
    flags: frozenset = frozenset()
    mhz: float = None
    cores: int = 1

    @property
    def simd(self):
        """The SIMD and matrix flags that matter here, sorted."""
        return sorted(f for f in self.flags
                      if f.startswith(("avx", "amx", "fma", "sse4")) or f == "f16c")


def cpu_info(path=None):
    """Reads `CPUInfo` of the first processor (empty fields if unreadable).

    Args:
        path: a cpuinfo file; default `$UNIT_TF_CPUINFO` if set (tests use it to
            show the tools another CPU), else /proc/cpuinfo.
    """
    path = path or os.environ.get("UNIT_TF_CPUINFO") or "/proc/cpuinfo"
    fields = {}
    try:
        with open(path) as f:
            for line in f:
                if not line.strip():
                    break  # the first processor's block ends at the first blank line
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        pass

    def number(key, kind):
        try:
            return kind(fields[key])
        except (KeyError, ValueError):
            return None

    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return CPUInfo(model=fields.get("model name", "unknown"),
                   vendor=fields.get("vendor_id", ""), family=number("cpu family", int),
                   flags=frozenset(fields.get("flags", "").split()),
                   mhz=number("cpu MHz", float), cores=cores)


def native_bf16(flags):
    """True if the CPU flags include bfloat16 instructions (AVX512_BF16 or AMX-BF16)."""
    return any(f in flags for f in NATIVE_BF16_FLAGS)


def choose_precision(flags, has_gpu=False):
    """The Keras dtype policy of `--mixed_precision auto`, and why.

    Args:
        flags: the CPU's feature flags (`cpu_info().flags`).
        has_gpu: whether TensorFlow sees a GPU.

    Returns:
        (policy, reason): "float32" on a GPU (as before: no tested bf16 or
        fp16 path there) and on CPUs without native bfloat16;
        "mixed_bfloat16" on CPUs with AVX512_BF16 or AMX-BF16.
    """
    if has_gpu:
        return "float32", "a GPU is visible; float32 is the GPU default"
    found = [f for f in NATIVE_BF16_FLAGS if f in flags]
    if found:
        return "mixed_bfloat16", f"the CPU has native bfloat16 ({', '.join(found)})"
    return "float32", ("the CPU has no native bfloat16 (no avx512_bf16 or amx_bf16 flag), "
                       "where mixed_bfloat16 is emulated and many times slower")


def fp32_flops_per_cycle(info):
    """Peak float32 FLOP per cycle and core for the widest FMA the CPU has, and the rule.

    Two FMA pipes per core (x86 server cores since Haswell / Zen 2), each doing
    a multiply and an add on every lane: 2 x 2 x lanes. AMD family 25 (Zen 4)
    runs 512-bit instructions on 256-bit pipes, so AVX-512 gives it no more
    than AVX2.
    """
    flags = info.flags
    if "avx512f" in flags and not (info.vendor == "AuthenticAMD" and info.family == 25):
        return 64, "AVX-512 FMA: 2 pipes x 16 float32 lanes x 2 FLOP"
    if "avx512f" in flags:
        return 32, "AVX-512 on 256-bit pipes (AMD family 25): 2 x 8 lanes x 2 FLOP"
    if "fma" in flags and "avx2" in flags:
        return 32, "AVX2 FMA: 2 pipes x 8 float32 lanes x 2 FLOP"
    if "avx" in flags:
        return 16, "AVX without FMA: 1 add + 1 multiply pipe x 8 lanes"
    return 8, "SSE: 1 add + 1 multiply pipe x 4 lanes"


def theoretical_peak(info):
    """Float32 peak GFLOP/s = cores x clock x FLOP/cycle, with how it was computed.

    The clock is the one /proc/cpuinfo reports; where the CPU boosts above it
    (in a VM it is often the nominal clock), a measured figure can exceed this.
    Native bfloat16 dot products (AVX512_BF16) do twice the float32 FLOP per
    instruction.
    """
    per_cycle, rule = fp32_flops_per_cycle(info)
    if not info.mhz:
        return {"fp32_gflops": None, "rule": rule + "; clock unknown"}
    gflops = info.cores * info.mhz / 1e3 * per_cycle
    return {"fp32_gflops": round(gflops, 1),
            "bf16_gflops": round(2 * gflops, 1) if native_bf16(info.flags) else None,
            "rule": (f"{info.cores} cores x {info.mhz / 1e3:.2f} GHz (as /proc/cpuinfo "
                     f"reports) x {per_cycle} FLOP/cycle ({rule})")}


def describe(info=None):
    """One line naming the CPU and its SIMD flags, for logs and reports."""
    info = info or cpu_info()
    return (f"{info.model} ({info.vendor or 'vendor unknown'}, family {info.family}), "
            f"{info.cores} cores, {' '.join(info.simd) or 'no SIMD flags read'}")


# ---- the memory allocator ----------------------------------------------------
# glibc's mallopt parameters (malloc.h) and the values `tune_allocator` sets.
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
ALLOCATOR_SETTINGS = {
    # Tensors up to 32 MiB (glibc's maximum) come from the heap, not from a
    # fresh mmap that is unmapped, and page-faulted again, on every free.
    "mmap_threshold": (_M_MMAP_THRESHOLD, 32 << 20),
    # Freed heap memory up to 1 GiB stays with the process for the next step.
    "trim_threshold": (_M_TRIM_THRESHOLD, 1 << 30),
    # The heap grows 256 MiB at a time.
    "top_pad": (_M_TOP_PAD, 256 << 20),
}
_GLIBC_ENV = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")


def is_glibc():
    """True on Linux with glibc, the only C library whose `mallopt` is set here."""
    import platform

    return platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def tune_allocator(environ=None):
    """Keeps freed tensor memory in the process instead of returning it to the OS.

    A train step allocates and frees the same large activations every
    iteration. glibc's defaults return much of that memory to the OS and
    take it back page by page: on an AVX2 EPYC, 9 iterations of the 256x256
    `nips_translation` step took 7.6-9.0 million page faults and ran
    1.2-1.3x slower than with these settings (BUILD_NOTES.md, "The memory
    allocator"). Costs at most about 1.3 GiB of memory kept for reuse.

    Applies only to glibc (Linux); does nothing when `UNIT_TF_ALLOCATOR` is
    "system" or when the process was started with glibc's own MALLOC_*
    variables, which then rule. Safe to call more than once, before or after
    TensorFlow is imported.

    Returns:
        The settings applied ({name: bytes}), or a string saying why none were.
    """
    environ = os.environ if environ is None else environ
    if environ.get("UNIT_TF_ALLOCATOR", "tuned") == "system":
        return "system allocator (UNIT_TF_ALLOCATOR=system)"
    preset = [name for name in _GLIBC_ENV if name in environ]
    if preset or "glibc.malloc" in environ.get("GLIBC_TUNABLES", ""):
        return f"glibc settings from the environment ({', '.join(preset) or 'GLIBC_TUNABLES'})"
    import ctypes
    import platform

    if not is_glibc():
        return f"system allocator ({platform.system()}, not glibc)"
    libc = ctypes.CDLL(None)
    if not hasattr(libc, "mallopt"):
        return "system allocator (no mallopt)"
    applied = {}
    for name, (param, value) in ALLOCATOR_SETTINGS.items():
        if libc.mallopt(ctypes.c_int(param), ctypes.c_int(value)) == 1:
            applied[name] = value
    return applied
