"""Committed bytes do not depend on the machine (issue 8, part 4).

The conformance suite (and the LAM container and stream the encoders make) is regenerated in
subprocesses under other OpenBLAS kernels, BLAS/OpenMP/torch thread counts, numpy SIMD targets,
glibc libm variants and torch CPU capabilities; every vector file is compared with the committed
one, and the encoders' files between the two machines.
:mod:`refcodec.detmath`, which makes that possible, is checked against hand-computed sums, exact
integer products and Python's ``math`` (a second implementation of the elementary functions).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from conformance.paths import COVERAGE_REPORT, SUITE
from refcodec import detmath as dm

ROOT = Path(__file__).resolve().parents[1]

# Run in a subprocess: regenerate the suite into argv[1], then print the OpenBLAS kernel in use.
_GENERATE = """
import ctypes, glob, sys
from pathlib import Path
import numpy
from conformance.generate import generate
generate(Path(sys.argv[1]) / "vectors", Path(sys.argv[1]) / "coverage.md")
# the encoders' bytes on the bundled real data: fcpack's default container, fcenc's default stream tools
from refcodec.avatar.loading import load_avatar
from refcodec.fca import encode_avatar
from refcodec.fcs.encoder import EncoderConfig, build_header, encode_track
from refcodec.importers import load_track
lam = Path("samples/lam_p2-1")
encoded = Path(sys.argv[1]) / "encoded"
encoded.mkdir()
(encoded / "lam.fca").write_bytes(encode_avatar(load_avatar(lam / "p2-1.zip")))
track = load_track(lam / "test_expression_1s.json")
(encoded / "lam.fcs").write_bytes(encode_track(track, build_header(track, 8, 30, profile_idc=1, xdim=True), EncoderConfig(30)))
core = "unknown"
for lib in glob.glob(str(Path(numpy.__file__).parent.parent / "numpy.libs" / "*openblas*")):
    dll = ctypes.CDLL(lib)
    for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename"):
        if hasattr(dll, name):
            fn = getattr(dll, name)
            fn.restype = ctypes.c_char_p
            core = fn().decode()
print(core)
"""

def _numpy_simd_targets() -> str:
    """numpy's runtime-dispatched SIMD targets (e.g. "X86_V3 X86_V4 AVX512_ICL"): disabling them all leaves its baseline code."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__
    except ImportError:  # another numpy layout: keep its dispatch
        return ""
    return " ".join(__cpu_dispatch__)


def _glibc_tunables(extra: str) -> str:
    return ":".join(t for t in (os.environ.get("GLIBC_TUNABLES", ""), extra) if t)


# Two machines as different as one x86-64 CPU can pretend to be. "generic": OpenBLAS's most generic
# kernels (Prescott, reported as Katmai) on one thread, numpy without its SIMD dispatch (no SVML, no
# AVX-512 or AVX2 loops), glibc's libm without its FMA/AVX2 variants (they give other log/exp/sin
# results), torch's scalar code. "avx512": OpenBLAS's AVX-512 kernels (SkylakeX) on two threads and
# torch's widest vector code, numpy and libm as the machine offers.
VARIANTS = {
    "generic": {
        "OPENBLAS_CORETYPE": "Prescott",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "ATEN_CPU_CAPABILITY": "default",
        "NPY_DISABLE_CPU_FEATURES": _numpy_simd_targets(),
        "GLIBC_TUNABLES": _glibc_tunables("glibc.cpu.hwcaps=-AVX2,-FMA"),
    },
    "avx512": {"OPENBLAS_CORETYPE": "SkylakeX", "OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2", "ATEN_CPU_CAPABILITY": "avx512"},
}


def _committed() -> dict[str, bytes]:
    files = {f"vectors/{p.relative_to(SUITE)}": p.read_bytes() for p in SUITE.rglob("*") if p.is_file()}
    files["coverage.md"] = COVERAGE_REPORT.read_bytes()
    return files


def test_regeneration_is_byte_identical_under_other_blas_kernels_and_thread_counts(tmp_path):
    committed = _committed()
    procs, cores = {}, {}
    for name, extra in VARIANTS.items():
        env = {**os.environ, **extra, "PYTHONPATH": str(ROOT)}
        procs[name] = subprocess.Popen(
            [sys.executable, "-c", _GENERATE, str(tmp_path / name)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{name}: {err[-2000:]}"
        cores[name] = out.strip().splitlines()[-1]
    if "unknown" not in cores.values():  # the variants really ran different BLAS kernels
        assert cores["generic"] != cores["avx512"], cores
    encoded = {name: {p.name: p.read_bytes() for p in (tmp_path / name / "encoded").iterdir()} for name in VARIANTS}
    assert sorted(encoded["generic"]) == ["lam.fca", "lam.fcs"] and encoded["generic"] == encoded["avx512"], "the encoders' bytes differ"
    for name in VARIANTS:
        base = tmp_path / name
        new = {str(p.relative_to(base)): p.read_bytes() for p in base.rglob("*") if p.is_file() and "encoded" not in p.parts}
        assert sorted(new) == sorted(committed), f"{name}: other files than the committed ones"
        changed = sorted(f for f in new if new[f] != committed[f])
        assert changed == [], f"{name} ({cores[name]}): {len(changed)} files differ from the committed ones: {changed[:12]}"


# ----------------------------------------------------------------------------- detmath
def test_sum_rows_is_the_documented_pairwise_tree():
    # rows padded to 4: (x0 + x2) + (x1 + x3). With x = [1, u, u, u], u = 2^-53:
    # 1 + u = 1 (a tie, to even), u + u = 2^-52, 1 + 2^-52 is representable.
    u = 2.0**-53
    assert dm.sum_rows(np.array([1.0, u, u, u])) == 1.0 + 2.0**-52
    assert float(np.float64(1.0) + u + u + u) == 1.0  # left to right would lose every u
    # 3 rows: (x0 + x2) + (x1 + 0)
    assert dm.sum_rows(np.array([1.0, u, u])) == 1.0
    assert dm.sum_rows(np.zeros((0, 3))).tolist() == [0.0, 0.0, 0.0]
    assert dm.sum_cols(np.array([[1.0, u, u, u]])).tolist() == [1.0]  # left to right


def test_products_are_exact_on_integers_and_independent_of_blocking(monkeypatch):
    rng = np.random.default_rng(3)
    a = rng.integers(-1000, 1000, (37, 9)).astype(np.float64)
    b = rng.integers(-1000, 1000, (9, 5)).astype(np.float64)
    exact = [[sum(int(a[i, k]) * int(b[k, j]) for k in range(9)) for j in range(5)] for i in range(37)]
    assert dm.matmul(a, b).tolist() == exact
    assert dm.gram(a, a[:, :4]).tolist() == [[sum(int(a[n, p]) * int(a[n, q]) for n in range(37)) for q in range(4)] for p in range(9)]
    x, y = rng.normal(size=(301, 7)), rng.normal(size=(301, 6))
    whole = dm.gram(x, y)
    monkeypatch.setattr(dm, "BLOCK", 301 * 7)  # one column of y at a time
    assert dm.gram(x, y).tobytes() == whole.tobytes()
    ref = np.array([[float(sum(Fraction(x[n, p]) * Fraction(y[n, q]) for n in range(301))) for q in range(6)] for p in range(7)])
    assert np.allclose(whole, ref, rtol=0, atol=1e-12)


def _ulps(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.spacing(np.maximum(np.abs(b), np.finfo(np.float64).tiny))))


def test_elementary_functions_match_libm_to_a_few_ulps():
    x = np.concatenate([np.linspace(-40, 40, 20001), [0.0, -0.0, 1e-300, -1e-12, 700.0, -740.0]])
    assert _ulps(dm.exp(x), np.array([math.exp(v) for v in x])) <= 4
    assert np.max(np.abs(dm.tanh(x) - np.array([math.tanh(v) for v in x]))) <= 4e-16
    s = x[:20001]
    assert np.max(np.abs(dm.sigmoid(s) - np.array([1 / (1 + math.exp(-v)) for v in s]))) <= 4e-16
    t = np.concatenate([np.linspace(-2000, 2000, 40001), [0.0, math.pi / 4, 1e5 + 0.25]])
    assert np.max(np.abs(dm.sin(t) - np.array([math.sin(v) for v in t]))) <= 1e-15 * 40
    assert np.max(np.abs(dm.cos(t) - np.array([math.cos(v) for v in t]))) <= 1e-15 * 40
    assert dm.exp(np.array([np.inf, -np.inf, 800.0, -800.0])).tolist() == [np.inf, 0.0, np.inf, 0.0]
    assert np.isnan(dm.exp(np.array([np.nan]))[0]) and np.isnan(dm.sin(np.array([np.inf]))[0])
    assert dm.tanh(np.array([np.inf, -np.inf, 30.0])).tolist() == [1.0, -1.0, 1.0]
    with pytest.raises(ValueError):
        dm.cos(np.array([2e6]))
