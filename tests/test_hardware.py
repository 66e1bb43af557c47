import pytest

from unit_tf import hardware

AVX2_FLAGS = "fpu sse4_1 sse4_2 fma avx avx2 f16c"
ZEN5_FLAGS = AVX2_FLAGS + " avx512f avx512bw avx512_bf16 avx512_vnni"


def write_cpuinfo(tmp_path, flags, family=23, mhz=2450.0, vendor="AuthenticAMD"):
    block = (f"processor\t: 0\nvendor_id\t: {vendor}\ncpu family\t: {family}\n"
             f"model name\t: AMD EPYC test\ncpu MHz\t\t: {mhz}\nflags\t\t: {flags}\n\n")
    path = tmp_path / "cpuinfo"
    path.write_text(block + block.replace("processor\t: 0", "processor\t: 1")
                    .replace(flags, "other flags"))
    return str(path)


@pytest.mark.parametrize("flags, expected", [
    ("sse4_2 fma avx avx2", "float32"),                      # AVX2 + FMA only
    ("fma avx avx2 avx512f avx512_bf16", "mixed_bfloat16"),  # AVX512_BF16
    ("fma avx avx2 amx_tile amx_bf16", "mixed_bfloat16"),    # AMX-BF16
    ("fma avx avx2 avx512f avx512bw", "float32"),            # AVX-512 without bf16
    ("", "float32"),                                         # nothing read
])
def test_precision_rule_over_flag_sets(flags, expected):
    policy, reason = hardware.choose_precision(frozenset(flags.split()))
    assert policy == expected
    assert ("no native bfloat16" in reason) == (expected == "float32")


def test_precision_rule_on_gpu_is_float32_whatever_the_cpu():
    assert hardware.choose_precision({"avx512_bf16"}, has_gpu=True)[0] == "float32"


def test_cpu_info_reads_the_first_processor(tmp_path):
    info = hardware.cpu_info(write_cpuinfo(tmp_path, ZEN5_FLAGS, family=26, mhz=2596.1))
    assert info.model == "AMD EPYC test"
    assert (info.vendor, info.family, info.mhz) == ("AuthenticAMD", 26, 2596.1)
    assert "avx512_bf16" in info.flags and "other" not in info.flags
    assert "avx512_bf16" in info.simd and "fpu" not in info.simd
    assert "avx512_bf16" in hardware.describe(info)


def test_cpu_info_env_override_and_missing_file(tmp_path, monkeypatch):
    monkeypatch.setenv("UNIT_TF_CPUINFO", write_cpuinfo(tmp_path, AVX2_FLAGS))
    assert hardware.choose_precision(hardware.cpu_info().flags)[0] == "float32"
    missing = hardware.cpu_info(str(tmp_path / "nope"))
    assert missing.flags == frozenset() and missing.model == "unknown"


def test_theoretical_peak_is_cores_times_clock_times_fma_width(tmp_path):
    avx2 = hardware.cpu_info(write_cpuinfo(tmp_path, AVX2_FLAGS, family=23, mhz=2450.0))
    peak = hardware.theoretical_peak(avx2)
    assert peak["fp32_gflops"] == pytest.approx(avx2.cores * 2.45 * 32, abs=0.1)
    assert peak["bf16_gflops"] is None and "AVX2 FMA" in peak["rule"]
    zen4 = hardware.CPUInfo(vendor="AuthenticAMD", family=25, mhz=2000.0, cores=2,
                            flags=frozenset(ZEN5_FLAGS.split()))
    zen5 = hardware.CPUInfo(vendor="AuthenticAMD", family=26, mhz=2000.0, cores=2,
                            flags=frozenset(ZEN5_FLAGS.split()))
    assert hardware.theoretical_peak(zen4)["fp32_gflops"] == 128.0   # 512-bit on 256-bit pipes
    assert hardware.theoretical_peak(zen5)["fp32_gflops"] == 256.0
    assert hardware.theoretical_peak(zen5)["bf16_gflops"] == 512.0


@pytest.mark.skipif(not hardware.is_glibc(), reason="mallopt is glibc's")
def test_tune_allocator_applies_the_glibc_settings():
    applied = hardware.tune_allocator(environ={})
    assert applied == {name: value for name, (_, value) in hardware.ALLOCATOR_SETTINGS.items()}
    assert applied["mmap_threshold"] == 32 << 20  # glibc's maximum on 64-bit
    assert hardware.tune_allocator(environ={}) == applied  # calling again is harmless


@pytest.mark.parametrize("environ, says", [
    ({"UNIT_TF_ALLOCATOR": "system"}, "UNIT_TF_ALLOCATOR=system"),
    ({"MALLOC_TOP_PAD_": "0"}, "MALLOC_TOP_PAD_"),
    ({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"}, "GLIBC_TUNABLES"),
])
def test_tune_allocator_leaves_a_chosen_allocator_alone(environ, says):
    result = hardware.tune_allocator(environ=environ)
    assert isinstance(result, str) and says in result
