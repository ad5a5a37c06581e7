"""Peers of the FCS profiles on the same quantized integers (fcbench-stream, SPEC 14.8).

The residual array of a track: its first quantized vector, then the difference of each vector to
the previous one (no I-frames). The peers code exactly this array:

- ``zstd -19`` and ``xz -9`` of the array as little-endian int16, frame-major or dimension-major
  (whichever is smaller; not causal: bounds, not peers);
- an adaptive per-dimension arithmetic coder (the ``constriction`` package's range coder): the first
  vector with a uniform model over ``2^b`` levels, then each dimension's residuals with an adaptive
  frequency model over that dimension's residual alphabet (counts start at 1 and grow by
  :data:`COUNT_INCREMENT` per occurrence), coded frame by frame and decoded back the same way, causally;
  its size includes the alphabet bounds (two 16-bit numbers per dimension);
- the per-dimension zero-order entropy of the residuals of frames 1.. (the first vector excluded).
"""

from __future__ import annotations

import lzma

import numpy as np
import zstandard

COUNT_INCREMENT = 8  # the best measured on LAM at 8 bits: 1 -> 6.77, 8 -> 6.62, 24 -> 6.72, 64 -> 6.85 kbit/s


def residual_array(q: np.ndarray) -> np.ndarray:
    """First row q[0], then q[t] - q[t-1]."""
    q = np.asarray(q, dtype=np.int64)
    return np.concatenate([q[:1], np.diff(q, axis=0)]) if len(q) else q


def _layouts(res: np.ndarray) -> list[bytes]:
    """The int16 array frame-major and dimension-major (the compressors get the better of the two)."""
    return [res.astype("<i2").tobytes(), np.ascontiguousarray(res.T).astype("<i2").tobytes()]


def zstd_bytes(res: np.ndarray) -> int:
    """Size of ``zstd -19`` of the int16 array (the smaller of its two layouts)."""
    return min(len(zstandard.ZstdCompressor(level=19).compress(b)) for b in _layouts(res))


def xz_bytes(res: np.ndarray) -> int:
    """Size of ``xz -9`` of the int16 array (the smaller of its two layouts)."""
    return min(len(lzma.compress(b, preset=9)) for b in _layouts(res))


def entropy_bits(res: np.ndarray) -> float:
    """Sum over dimensions of the zero-order entropy of rows 1.. times their count."""
    total = 0.0
    for d in range(res.shape[1]):
        _, counts = np.unique(res[1:, d], return_counts=True)
        if counts.size:
            p = counts / counts.sum()
            total += float(-(counts * np.log2(p)).sum())
    return total


class _AdaptiveModels:
    """One adaptive frequency table per dimension over its alphabet [lo, hi]."""

    def __init__(self, lo: np.ndarray, hi: np.ndarray):
        self.lo = lo
        self.size = hi - lo + 1
        self.counts = np.zeros((len(lo), int(self.size.max())), dtype=np.float64)
        for d, n in enumerate(self.size):
            self.counts[d, :n] = 1.0

    def probabilities(self) -> np.ndarray:
        return self.counts / self.counts.sum(axis=1, keepdims=True)

    def update(self, symbols: np.ndarray) -> None:
        self.counts[np.arange(len(symbols)), symbols] += COUNT_INCREMENT


def constriction_code(res: np.ndarray, depths: np.ndarray) -> tuple[int, np.ndarray]:
    """Bits of the adaptive per-dimension range coder and the array it decodes back to."""
    import constriction

    family = constriction.stream.model.Categorical(perfect=False)
    body = res[1:] if len(res) > 1 else np.zeros((1, res.shape[1]), np.int64)
    lo, hi = body.min(axis=0), body.max(axis=0)
    enc = constriction.stream.queue.RangeEncoder()
    uniform = [constriction.stream.model.Categorical(np.ones(1 << int(b)), perfect=False) for b in depths]
    for d in range(res.shape[1]):  # the first vector: uniform over the levels
        enc.encode(np.array([res[0, d]], dtype=np.int32), uniform[d])
    models = _AdaptiveModels(lo, hi)
    for t in range(1, len(res)):
        symbols = (res[t] - lo).astype(np.int32)
        enc.encode(symbols, family, models.probabilities())
        models.update(symbols)
    words = enc.get_compressed()
    # decode back, causally, with the decoder's own models
    dec = constriction.stream.queue.RangeDecoder(words)
    out = np.zeros_like(res)
    for d in range(res.shape[1]):
        out[0, d] = dec.decode(uniform[d], 1)[0]
    models = _AdaptiveModels(lo, hi)
    for t in range(1, len(res)):
        symbols = dec.decode(family, models.probabilities())
        out[t] = symbols + lo
        models.update(np.asarray(symbols, dtype=np.int64))
    side_bits = 32 * res.shape[1]
    return 32 * len(words) + side_bits, out
