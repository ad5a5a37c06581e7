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


def unit_range_block(values: np.ndarray, bits: int) -> dict:
    """A one-channel block of ``values`` in [0, 1] whose every decoded value stays in [0, 1] (SPEC 11.7.1, R-151).

    R-58 rounds twice, so the top sample can decode an ulp above ``q_max``; ``q_max`` is lowered
    by ulps until it does not (at most a few steps).
    """
    block = encode_block(np.asarray(values, np.float32).reshape(1, -1), bits)
    if bits == RAW_F32_BITS or block["q_values"].size == 0:
        return block
    top = block["q_max"].copy()
    for _ in range(64):
        if decode_block(_Block(block), 1).max() <= 1.0:
            return block
        top = np.nextafter(top, np.float32(0)).astype(np.float32)
        block = encode_block_in(np.asarray(values, np.float32).reshape(1, -1), bits, block["q_min"], top)
    raise ValueError("no q_max keeps the decoded opacities in [0, 1]")


def encode_block_in(values: np.ndarray, bits: int, lo: np.ndarray, hi: np.ndarray) -> dict:
    """A quantized block of ``values`` [C, N] over the given range (values are clipped to it)."""
    lo, hi = np.asarray(lo, np.float32), np.asarray(hi, np.float32)
    c = values.shape[0]
    step = dequant_step(lo, hi, np.full(c, bits))
    clipped = np.clip(values, lo[:, None], hi[:, None])
    q = quantize(clipped, lo[:, None], step[:, None], np.full((c, 1), bits))
    return {"q_bits": bits, "q_min": lo, "q_max": hi, "q_values": q.reshape(-1).astype(np.uint16)}


class _Block:
    """Attribute access to a block dict, as :func:`decode_block` reads a parsed block."""

    def __init__(self, d: dict):
        self.q_bits, self.q_min, self.q_max, self.q_values = d["q_bits"], d["q_min"], d["q_max"], d["q_values"]
