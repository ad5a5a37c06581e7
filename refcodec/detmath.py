"""Binary64 arithmetic whose results do not depend on the machine.

numpy's elementwise ``+ - * /`` and ``sqrt`` are correctly rounded (IEEE 754) on every CPU
and SIMD path, and two separate ufunc calls are never fused into an FMA. Much else that
computes in floating point may differ between machines: BLAS (``@``, ``dot``, ``linalg``)
picks kernels, blocking and threads per CPU; ``einsum`` accumulates in orders that its SIMD
paths choose; ``np.exp``/``tanh``/``sin``/``cos`` are SVML or hand-written SIMD approximations
on some CPUs and libm on others; Python's ``**`` and ``math`` call libm, whose x86-64 variants
differ with FMA.

This module builds what the encoder's latent fitting and the conformance references need from
the correctly rounded operations only, in an order fixed here: sums over rows as a pairwise
tree of elementwise additions, matrix products as a fixed sequence of elementwise
multiply-adds, and ``exp``, ``tanh``, ``sigmoid``, ``sin``, ``cos`` by argument reduction and a
polynomial. Results are identical on every IEEE 754 machine (with subnormals not flushed); the
elementary functions are accurate to a few units in the last place.
"""

from __future__ import annotations

import numpy as np

F64 = np.float64

_LN2_HI = 6.93147180369123816490e-01  # ln 2 in two parts (fdlibm): n * _LN2_HI is exact for |n| < 2^11
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_PIO2_1 = 1.57079632673412561417e00  # pi/2 in three parts (fdlibm's Cody-Waite constants)
_PIO2_2 = 6.07710050650619224932e-11
_PIO2_3 = 2.02226624879595063154e-21
_INV_PIO2 = 6.36619772367581382433e-01
TRIG_MAX = 1e6
"""Largest |x| of :func:`sin` / :func:`cos`: the three-part reduction stays accurate below it."""
BLOCK = 1 << 21
"""Elements of one temporary product in :func:`gram` (16 MiB of binary64)."""


def sum_rows(x: np.ndarray) -> np.ndarray:
    """Sum over axis 0 as a pairwise tree of elementwise additions.

    The rows are padded with zeros to a power of two ``2^m``; then ``m`` times the first half is
    added to the second half. Each output element is summed in the same order whatever the
    other axes hold. ``[0, ...]`` gives zeros.
    """
    x = np.asarray(x, F64)
    rows = x.shape[0]
    if rows == 0:
        return np.zeros(x.shape[1:], F64)
    size = 1 << (rows - 1).bit_length()
    if size != rows:
        x = np.concatenate([x, np.zeros((size - rows, *x.shape[1:]), F64)])
    while size > 1:
        size //= 2
        x = x[:size] + x[size:]
    return x[0].copy()


def sum_cols(x: np.ndarray) -> np.ndarray:
    """Sum over the last axis of ``[..., K]`` left to right: ``((x0 + x1) + x2) + ...``."""
    x = np.asarray(x, F64)
    if x.shape[-1] == 0:
        return np.zeros(x.shape[:-1], F64)
    acc = x[..., 0].copy()
    for k in range(1, x.shape[-1]):
        acc = acc + x[..., k]
    return acc


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for ``a`` [M, K] and ``b`` [K, N]: ``sum_k a[:, k] b[k, :]`` accumulated in k order."""
    a, b = np.asarray(a, F64), np.asarray(b, F64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"shapes {a.shape} and {b.shape} do not multiply")
    acc = np.zeros((a.shape[0], b.shape[1]), F64)
    for k in range(a.shape[1]):
        acc = acc + a[:, k : k + 1] * b[k : k + 1, :]
    return acc


def gram(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a.T @ b`` for ``a`` [N, P] and ``b`` [N, Q]: each entry summed over the N rows by :func:`sum_rows`.

    Columns of ``b`` are taken in blocks so that a temporary product holds at most
    :data:`BLOCK` values; the blocking does not change any entry's order of summation.
    """
    a, b = np.asarray(a, F64), np.asarray(b, F64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(f"shapes {a.shape} and {b.shape} have no common row count")
    n, p, q = a.shape[0], a.shape[1], b.shape[1]
    out = np.empty((p, q), F64)
    step = max(1, BLOCK // max(1, n * p))
    for q0 in range(0, q, step):
        out[:, q0 : q0 + step] = sum_rows(a[:, :, None] * b[:, None, q0 : q0 + step])
    return out


def _factorial(k: int) -> float:
    return float(np.prod(np.arange(1, k + 1, dtype=np.int64)))  # exact for k <= 20


def _poly(x: np.ndarray, coeffs: tuple[float, ...]) -> np.ndarray:
    """Horner: ``c0 + x (c1 + x (c2 + ...))``."""
    acc = np.full(x.shape, coeffs[-1], F64)
    for c in coeffs[-2::-1]:
        acc = acc * x + c
    return acc


_EXP_TAYLOR = tuple(1.0 / _factorial(k) for k in range(15))  # 1/k!, each a correctly rounded division
_SIN_TAYLOR = tuple((1.0 if k % 2 == 0 else -1.0) / _factorial(2 * k + 1) for k in range(9))
_COS_TAYLOR = tuple((1.0 if k % 2 == 0 else -1.0) / _factorial(2 * k) for k in range(10))


def exp(x) -> np.ndarray:
    """``e^x``: ``x = n ln2 + r`` with ``|r| <= ln2 / 2``, a degree-14 Taylor polynomial of ``e^r``, then ``2^n`` (exact)."""
    x = np.asarray(x, F64)
    nan = np.isnan(x)
    xc = np.clip(np.where(nan, 0.0, x), -760.0, 720.0)  # beyond these e^x is 0 or inf in binary64
    n = np.rint(xc * _INV_LN2)
    r = (xc - n * _LN2_HI) - n * _LN2_LO
    with np.errstate(over="ignore"):
        y = np.ldexp(_poly(r, _EXP_TAYLOR), n.astype(np.int32))  # scales exactly (or rounds once into subnormals)
    return np.where(nan, np.nan, y)


def tanh(x) -> np.ndarray:
    """``tanh x = sign(x) (1 - e) / (1 + e)`` with ``e = e^(-2|x|)``; absolute error ~1e-16."""
    x = np.asarray(x, F64)
    e = exp(-2.0 * np.abs(x))
    return np.copysign((1.0 - e) / (1.0 + e), x)


def sigmoid(x) -> np.ndarray:
    """``1 / (1 + e^(-x))``."""
    return 1.0 / (1.0 + exp(-np.asarray(x, F64)))


def _sincos_reduced(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    finite = np.isfinite(x)
    if np.any(np.abs(x[finite]) > TRIG_MAX):
        raise ValueError(f"sin/cos argument beyond {TRIG_MAX:g}")
    xf = np.where(finite, x, 0.0)
    n = np.rint(xf * _INV_PIO2)
    r = ((xf - n * _PIO2_1) - n * _PIO2_2) - n * _PIO2_3  # |r| <= pi/4 (plus rounding)
    r2 = r * r
    return r * _poly(r2, _SIN_TAYLOR), _poly(r2, _COS_TAYLOR), np.mod(n, 4.0).astype(np.int64)


def sin(x) -> np.ndarray:
    """``sin x`` for ``|x| <= TRIG_MAX`` (Cody-Waite reduction by pi/2, Taylor polynomials on [-pi/4, pi/4]); NaN for inf/NaN."""
    x = np.asarray(x, F64)
    s, c, q = _sincos_reduced(x)
    return np.where(np.isfinite(x), np.choose(q, [s, c, -s, -c]), np.nan)


def cos(x) -> np.ndarray:
    """``cos x`` for ``|x| <= TRIG_MAX`` (as :func:`sin`)."""
    x = np.asarray(x, F64)
    s, c, q = _sincos_reduced(x)
    return np.where(np.isfinite(x), np.choose(q, [c, -s, -c, s]), np.nan)


__all__ = ["cos", "exp", "gram", "matmul", "sigmoid", "sin", "sum_cols", "sum_rows", "tanh"]
