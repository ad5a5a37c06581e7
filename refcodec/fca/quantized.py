"""Quantized blocks (SPEC 11.1.3): per-channel uniform quantization, or raw binary32.

Dequantization is the stream's bit-exact binary32 formula (SPEC 6.5, R-30), so the exact tier
of a container is as reproducible as a stream's.
"""

from __future__ import annotations

import numpy as np

from ..quant import dequant_step, quantize
from .syntax import DELTA_FLAG, RAW_F32_BITS, dequantized


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
    """Values [C, N] float32 of a parsed ``quantized_block`` (SPEC 11.1.3, R-57, R-58, R-153)."""
    return np.asarray(dequantized(block, channels), np.float32)


def decode_block_dict(block: dict, channels: int) -> np.ndarray:
    """Values [C, N] float32 of a block dict as an encoder made it (what a decoder will read)."""
    return decode_block(_Block(block), channels)


def delta_block(block: dict) -> dict:
    """``block`` (quantized, not raw) with its samples delta-coded (SPEC 11.1.3, R-153): per channel,
    the difference to the previous sample (0 before the first), wrapped to [-2^(b-1), 2^(b-1)) and zigzagged."""
    bits = block["q_bits"]
    c = block["q_min"].shape[0]
    q = np.asarray(block["q_values"], np.int64).reshape(c, -1)
    half = 1 << (bits - 1)
    d = (np.diff(q, axis=1, prepend=0) + half) % (1 << bits) - half
    r = np.where(d >= 0, 2 * d, -2 * d - 1)
    return block | {"q_bits": bits | DELTA_FLAG, "q_values": r.reshape(-1).astype(np.uint16)}


def smaller_block(block: dict, size_of) -> dict:
    """Of ``block`` and its delta-coded form, the one ``size_of(block)`` finds smaller (an encoder choice)."""
    if block["q_bits"] == RAW_F32_BITS or np.asarray(block["q_values"]).size == 0:
        return block
    delta = delta_block(block)
    return delta if size_of(delta) < size_of(block) else block


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
