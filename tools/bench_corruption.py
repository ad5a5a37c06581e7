"""Silent corruption with and without CRCs (issue 12, item 2), used by ``fcbench-loss``.

One frame unit of the LAM stream (8 bits, one frame per unit) is corrupted at a time: a single
bit flip, one random byte, or a burst of 2 to 8 adjacent bits. The damaged file is decoded in
resilient mode and every output frame with status ``decoded`` that differs bitwise from the
lossless decode is a **silently wrong** frame. Reported: the share of corruptions that give at
least one silently wrong frame, the silently wrong frames per such corruption, and the share
whose ``unit_type`` became a reserved value (ignored by R-11, so the loss is not seen).
"""

from __future__ import annotations

import numpy as np

from refcodec.fcs.decoder import FrameStatus, decode_file_partial
from refcodec.fcs.fuzzing import join_units, split_units

KINDS = ("bit", "byte", "burst")


def corrupt(unit: bytes, kind: str, rng: np.random.Generator) -> bytes:
    """``unit`` with one corruption of ``kind`` (never a no-op)."""
    data = bytearray(unit)
    nbits = len(data) * 8
    if kind == "byte":
        i = int(rng.integers(len(data)))
        data[i] ^= int(rng.integers(1, 256))
        return bytes(data)
    width = 1 if kind == "bit" else int(rng.integers(2, 9))
    start = int(rng.integers(max(1, nbits - width + 1)))
    for b in range(start, min(nbits, start + width)):
        data[b >> 3] ^= 0x80 >> (b & 7)
    return bytes(data)


def silent_corruption(data: bytes, trials: int, seed: int = 0) -> dict[str, dict[str, float]]:
    """Per kind: % of corruptions with a silently wrong decoded frame, frames per such case, % reserved unit_type."""
    units = split_units(data)
    lossless = decode_file_partial(data)
    ref = lossless.matrix().view(np.uint32)
    rng = np.random.default_rng(seed)
    out = {}
    for kind in KINDS:
        silent_cases = silent_frames = reserved = 0
        for _ in range(trials):
            u = 2 + int(rng.integers(len(units) - 3))  # a frame unit (not the header, not the first I-frame, not the last)
            damaged = units[:u] + [corrupt(units[u], kind, rng)] + units[u + 1 :]
            res = decode_file_partial(join_units(damaged))
            reserved += any(e.kind == "reserved" for e in res.events)
            if len(res.frames) != len(ref):
                frames = [f for f in res.frames if f.status == FrameStatus.DECODED]  # misaligned: compare by unit
                bad = sum(1 for f in frames if f.unit_index is not None and f.unit_index - 1 < len(ref)
                          and (f.values.view(np.uint32) != ref[f.unit_index - 1]).any())
            else:
                bad = sum(1 for f, r in zip(res.frames, ref, strict=True)
                          if f.status == FrameStatus.DECODED and (f.values.view(np.uint32) != r).any())
            silent_cases += bad > 0
            silent_frames += bad
        out[kind] = {"silent_pct": 100.0 * silent_cases / trials,
                     "silent_frames_per_case": silent_frames / silent_cases if silent_cases else 0.0,
                     "reserved_unit_type_pct": 100.0 * reserved / trials}
    return out
