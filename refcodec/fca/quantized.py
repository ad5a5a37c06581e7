"""Quantized blocks (SPEC 11.1.3): per-channel uniform quantization, or raw binary32.

Dequantization is the stream's bit-exact binary32 formula (SPEC 6.5, R-30), so the exact tier
of a container is as reproducible as a stream's.
"""

from __future__ import annotations

import numpy as np

from ..quant import dequant_step, dequantize, quantize
from .syntax import RAW_F32_BITS


def encode_block(values: np.ndarray, bits: int) -> dict:
    """A ``quantized_block`` for ``values`` [C, N] (float32) at ``bits`` (1..16, or 32 = raw)."""
    values = np.asarray(values, np.float32)
    c = values.shape[0]
    if bits == RAW_F32_BITS:
        return {"q_bits": bits, "q_min": None, "q_max": None, "q_values": values.reshape(-1)}
    if values.shape[1] == 0:
        lo = hi = np.zeros(c, np.float32)
    else:
        lo, hi = values.min(axis=1), values.max(axis=1)
    step = dequant_step(lo, hi, np.full(c, bits))
    q = quantize(values, lo[:, None], step[:, None], np.full((c, 1), bits))
    return {"q_bits": bits, "q_min": lo, "q_max": hi, "q_values": q.reshape(-1).astype(np.uint16)}


def decode_block(block, channels: int) -> np.ndarray:
    """Values [C, N] float32 of a parsed ``quantized_block`` (SPEC 11.1.3, R-57)."""
    if block.q_bits == RAW_F32_BITS:
        return np.asarray(block.q_values, np.float32).reshape(channels, -1)
    lo = np.asarray(block.q_min, np.float32)[:, None]
    step = dequant_step(np.asarray(block.q_min, np.float32), np.asarray(block.q_max, np.float32), np.full(channels, block.q_bits))[:, None]
    return dequantize(np.asarray(block.q_values).reshape(channels, -1), lo, step).astype(np.float32)
