"""Uniform scalar quantization with bit-exact binary32 dequantization (SPEC 6.5, R-30).

Dequantization (normative): every operation is one IEEE-754 binary32 operation with
round-to-nearest-even and no fused multiply-add:

    step = f32( f32(max - min) / f32(2^b - 1) )
    x    = f32( min + f32( f32(q) * step ) )

numpy float32 arithmetic performs exactly these rounded operations. Quantization is the
encoder's choice (informative); the reference encoder rounds to the nearest level.
"""

from __future__ import annotations

import numpy as np


def dequant_step(rmin: np.ndarray, rmax: np.ndarray, bit_depth: np.ndarray) -> np.ndarray:
    """Per-dimension binary32 step (SPEC 6.5, R-30)."""
    rmin = np.asarray(rmin, dtype=np.float32)
    rmax = np.asarray(rmax, dtype=np.float32)
    levels = (np.left_shift(1, np.asarray(bit_depth, dtype=np.int64)) - 1).astype(np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        return (rmax - rmin) / levels


def dequantize(q: np.ndarray, rmin: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Binary32 reconstruction ``min + q*step`` (SPEC 6.5, R-30); q is an int array."""
    qf = np.asarray(q).astype(np.float32)  # exact: q < 2^16
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(rmin, dtype=np.float32) + qf * np.asarray(step, dtype=np.float32)


def quantize(x: np.ndarray, rmin: np.ndarray, step: np.ndarray, bit_depth: np.ndarray) -> np.ndarray:
    """Nearest quantization level of ``x`` (informative encoder process, SPEC 9.1).

    Values outside the range are clamped. A zero step (min = max) maps everything to 0.
    """
    x = np.asarray(x, dtype=np.float64)
    rmin = np.asarray(rmin, dtype=np.float64)
    step = np.asarray(step, dtype=np.float64)
    top = np.left_shift(1, np.asarray(bit_depth, dtype=np.int64)) - 1
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        q = np.where(step > 0, np.rint((x - rmin) / np.where(step > 0, step, 1.0)), 0.0)
    q = np.nan_to_num(q, nan=0.0, posinf=float(1 << 16), neginf=0.0)
    return np.clip(q, 0, top).astype(np.int64)
