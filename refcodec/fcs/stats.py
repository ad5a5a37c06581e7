"""Rate statistics of a coded stream: the zero-order entropy bound of its residuals."""

from __future__ import annotations

import numpy as np

from .decoder import DecodeResult, FrameStatus


def coded_p_residuals(result: DecodeResult) -> np.ndarray:
    """[P-frames, dims] residuals the stream actually coded (from the decoded quantized vectors)."""
    rows = []
    prev = None
    for f in result.frames:
        if f.status is not FrameStatus.DECODED:
            prev = None
            continue
        if f.frame_type == "P" and prev is not None:
            rows.append(f.quantized - prev)
        prev = f.quantized
    dims = result.header.total_dims if result.header else 0
    return np.array(rows, dtype=np.int64).reshape(-1, dims)


def zero_order_entropy_bits(residuals: np.ndarray) -> float:
    """Sum over dimensions of n * H(empirical distribution of that dimension's residuals).

    This is the size an ideal memoryless per-dimension entropy coder would reach, the limit
    of the I/P + static-code design (brief 9).
    """
    total = 0.0
    for column in residuals.T:
        _, counts = np.unique(column, return_counts=True)
        p = counts / counts.sum()
        total += float(-(counts * np.log2(p)).sum())
    return total
