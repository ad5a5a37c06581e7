"""Quantized blocks (SPEC 11.1.3): per-channel uniform quantization, or raw binary32.

Dequantization is the stream's bit-exact binary32 formula (SPEC 6.5, R-30), so the exact tier
of a container is as reproducible as a stream's.
"""

from __future__ import annotations

import numpy as np

from ..quant import dequant_step, quantize
from .syntax import CHANNEL_REF_FLAG, DELTA_FLAG, RAW_F32_BITS, dequantized


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


def channel_ref_block(block: dict, refs) -> dict:
    """``block`` (quantized, not delta-coded) with channel references (SPEC 11.1.3, R-159): channel ``c``
    stores ``(q[c] - q[refs[c] - 1]) mod 2^b`` delta-coded when ``refs[c]`` is not 0 (``refs[c]`` <= c)."""
    bits = block["q_bits"]
    c = block["q_min"].shape[0]
    q = np.asarray(block["q_values"], np.int64).reshape(c, -1)
    diff = q.copy()
    for ch, k in enumerate(refs):
        if k:
            diff[ch] = (q[ch] - q[int(k) - 1]) % (1 << bits)
    coded = delta_block(block | {"q_values": diff.reshape(-1)})
    return coded | {"q_bits": bits | DELTA_FLAG | CHANNEL_REF_FLAG, "q_channel_ref": np.asarray(refs, np.uint8)}


def best_channel_refs(block: dict, size_of) -> list[int]:
    """Per channel, the reference (0: none, k: channel k - 1 < c) whose delta-coded differences
    ``size_of`` (one channel's block dict) finds smallest; ties keep the lower reference (an encoder choice)."""
    c = block["q_min"].shape[0]
    q = np.asarray(block["q_values"]).reshape(c, -1)
    refs = []
    for ch in range(c):
        sizes = []
        for k in range(ch + 1):
            one = {"q_bits": block["q_bits"], "q_min": block["q_min"][:1], "q_max": block["q_max"][:1],
                   "q_values": q[ch] if k == 0 else (q[ch].astype(np.int64) - q[k - 1]) % (1 << block["q_bits"])}
            sizes.append(size_of(delta_block(one)))
        refs.append(int(np.argmin(sizes)))
    return refs


def smaller_block(block: dict, size_of) -> dict:
    """Of ``block``, its delta-coded form and (with two or more channels) its form with channel
    references, the one ``size_of(block)`` finds smallest (an encoder choice; ties keep the simpler)."""
    if block["q_bits"] == RAW_F32_BITS or np.asarray(block["q_values"]).size == 0:
        return block
    candidates = [block, delta_block(block)]
    if block["q_min"].shape[0] > 1:
        refs = best_channel_refs(block, size_of)
        if any(refs):
            candidates.append(channel_ref_block(block, refs))
    sizes = [size_of(b) for b in candidates]
    return candidates[sizes.index(min(sizes))]


def stepped_block(values: np.ndarray, step: float) -> dict:
    """A quantized block of ``values`` [C, N] whose channels share one step (about ``step``): q_min is
    each channel's minimum, b the fewest bits (1..16) whose levels reach every maximum, and
    q_max = q_min + step (2^b - 1) in binary32. Channels that share a step can refer to each other (R-159)."""
    values = np.asarray(values, np.float32)
    c = values.shape[0]
    lo = values.min(axis=1) if values.shape[1] else np.zeros(c, np.float32)
    span = float(np.max(values.max(axis=1).astype(np.float64) - lo)) if values.shape[1] else 0.0
    levels = int(np.ceil(span / step - 1e-9)) if span > 0 else 0
    bits = max(1, levels.bit_length())
    if bits > 16:
        raise ValueError(f"a step of {step:.3g} needs {bits} bits over a span of {span:.3g} (at most 16)")
    hi = (lo.astype(np.float64) + step * ((1 << bits) - 1)).astype(np.float32)
    return encode_block_in(values, bits, lo, hi)


def bounded_block(values: np.ndarray, max_error: float, error_of, first_step: float, shrink: float = 0.99) -> dict:
    """The stepped block (:func:`stepped_block`) of the largest step ``first_step * shrink^k`` whose decoded
    values ``error_of(decoded [C, N])`` keeps within ``max_error`` (an encoder choice)."""
    step = first_step
    for _ in range(400):
        block = stepped_block(values, step)
        if error_of(decode_block_dict(block, values.shape[0])) <= max_error:
            return block
        step *= shrink
    raise ValueError(f"no step keeps the error within {max_error:g}")


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
        self.q_channel_ref = d.get("q_channel_ref")
