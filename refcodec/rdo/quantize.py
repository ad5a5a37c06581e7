"""Rate-distortion quantization: per-dimension steps, dead zone and hold (informative, SPEC 9.4).

The baseline syntax has one bit depth per group but a range per dimension, so the step of each
dimension, ``(max - min) / (2^b - 1)``, is the encoder's to choose: a wider range gives a
coarser step. The allocation gives every dimension the same share of an image-MSE budget:
with sensitivity ``s_d`` (image MSE per unit^2) a uniform step ``D_d`` costs ``s_d D_d^2 / 12``,
so ``D_d = sqrt(12 m / s_d)`` for a share ``m``; a dimension whose whole signal costs less than
its share is not sent (index map, SPEC 5.2.1; the avatar reads 0). The group's bit depth is
the smallest that covers the data at the finest step in the group (P-frame residuals do not
depend on it, only I-frames do).

Frame by frame the quantizer then spends bits only where the picture changes:

- **dead zone**: a dimension keeps its previous level while it lies less than ``deadzone``
  steps from it (0.5 = nearest level);
- **hold**: a group keeps all its levels while the image error of doing so,
  ``(x - x^)^T G (x - x^)``, stays below ``hold`` times the budget; the group's P-frame then
  costs one bit (the all-zero group flag).

The result is an ordinary baseline stream: the decoder's process is unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..fcs.binding import avatar_inputs, frame_to_layout
from ..fcs.decoder import decode_file
from ..fcs.encoder import build_header, encode_track, f32_ceil, f32_floor
from ..quant import dequant_step, dequantize
from ..spec_tables import arkit52_names, profiles
from ..track import Track, TrackGroup

PROFILES = {"baseline": 0, "main": 1}
"""Profiles this encoder can write (SPEC 4.3): the levels it chooses are coded by either profile's entropy coder."""


@dataclass(frozen=True)
class RdoSettings:
    """Encoder choices of one rate-distortion operating point.

    Attributes:
        mse: the float-image MSE budget the allocation shares out over the dimensions.
        deadzone: a level is kept while the value is within this many steps of it (>= 0.5).
        hold: a group holds its levels while the image error of holding is below ``hold * mse``.
        intra_interval: frames from one I-frame to the next.
        profile: "main" (SPEC 14, the smaller stream) or "baseline" (SPEC 5).
    """

    mse: float
    deadzone: float = 0.5
    hold: float = 0.0
    intra_interval: int = 30
    profile: str = "main"


@dataclass
class Allocation:
    """Per-dimension quantization of one layout: which dimensions are sent, their ranges and depths."""

    keep: np.ndarray  # [D] bool
    bit_depths: list[int]  # per layout group
    range_min: np.ndarray  # [D] binary32 values (meaningful where keep)
    range_max: np.ndarray

    def depth_per_dim(self, layout: list[tuple[str, int]]) -> np.ndarray:
        return np.repeat(np.array(self.bit_depths, np.int64), [d for _, d in layout])

    def steps(self, layout: list[tuple[str, int]]) -> np.ndarray:
        return dequant_step(self.range_min, self.range_max, self.depth_per_dim(layout)).astype(np.float64)


def group_bounds(layout: list[tuple[str, int]]) -> list[tuple[int, int]]:
    ends = np.cumsum([0] + [d for _, d in layout]).tolist()
    return list(zip(ends[:-1], ends[1:], strict=True))


def allocate(values: np.ndarray, layout: list[tuple[str, int]], weights: np.ndarray, mse: float) -> Allocation:
    """Equal-share allocation of the image-MSE budget ``mse`` over the dimensions (see module doc)."""
    v = np.asarray(values, np.float64)
    s = np.asarray(weights, np.float64)
    dims = v.shape[1]
    share = mse / dims
    lo, hi = v.min(axis=0), v.max(axis=0)
    width = hi - lo
    keep = (s * np.mean(v * v, axis=0) > share) & (s > 0)
    with np.errstate(divide="ignore"):
        step = np.where(s > 0, np.sqrt(12.0 * share / np.where(s > 0, s, 1.0)), np.inf)
    rmin, rmax = f32_floor(lo), f32_ceil(hi)
    depths = []
    for a, b in group_bounds(layout):
        sl = slice(a, b)
        if not keep[sl].any():
            # the stream must still carry the group (SPEC 11.4, R-61): one constant dimension at its mean
            d = a + int(np.argmax(s[sl] * np.mean(v[:, sl] ** 2, axis=0)))
            keep[d] = True
            rmin[d] = rmax[d] = np.float32(v[:, d].mean())
            depths.append(1)
            continue
        ratio = np.where(keep[sl] & (width[sl] > 0), width[sl] / step[sl], 0.0)
        depth = int(min(16, max(1, math.ceil(math.log2(float(ratio.max()) + 1.0)))))
        depths.append(depth)
        levels = (1 << depth) - 1
        for d in range(a, b):
            if keep[d] and width[d] > 0 and np.isfinite(step[d]):
                # widen upwards only: level 0 stays on the data's minimum (the rest pose of a weight)
                rmax[d] = max(rmax[d], f32_ceil(np.float64(rmin[d]) + step[d] * levels))
    return Allocation(keep, depths, rmin.astype(np.float32), rmax.astype(np.float32))


def quantize_sequence(values: np.ndarray, layout: list[tuple[str, int]], alloc: Allocation, gram: np.ndarray, settings: RdoSettings) -> np.ndarray:
    """Quantized levels [T, D] with dead zone and group hold (I-frames every ``intra_interval`` frames are nearest)."""
    v = np.asarray(values, np.float64)
    depth = alloc.depth_per_dim(layout)
    top = (np.left_shift(1, depth) - 1).astype(np.int64)
    rmin = alloc.range_min.astype(np.float64)
    step = alloc.steps(layout)
    safe = np.where(step > 0, step, 1.0)
    pos = np.where(step > 0, (v - rmin) / safe, 0.0)  # continuous level of every value
    bounds = group_bounds(layout)
    blocks = [np.asarray(gram, np.float64)[a:b, a:b] for a, b in bounds]
    budget = settings.hold * settings.mse
    step32 = alloc.steps(layout).astype(np.float32)
    q = np.zeros(v.shape, np.int64)
    prev = np.zeros(v.shape[1], np.int64)
    for t in range(len(v)):
        nearest = np.clip(np.rint(pos[t]), 0, top).astype(np.int64)
        if t % settings.intra_interval == 0:
            cur = nearest
        else:
            change = pos[t] - prev
            cur = np.where(np.abs(change) < settings.deadzone, prev, nearest)
            if budget > 0:
                held = dequantize(prev, alloc.range_min, step32).astype(np.float64)
                err = np.where(alloc.keep, v[t] - held, 0.0)
                for (a, b), g in zip(bounds, blocks, strict=True):
                    e = err[a:b]
                    if float(e @ g @ e) <= budget:
                        cur[a:b] = prev[a:b]
        q[t] = np.where(alloc.keep, cur, 0)
        prev = q[t]
    return q


def _track_of(levels_values: np.ndarray, layout: list[tuple[str, int]], keep: np.ndarray, rate: tuple[int, int]) -> Track:
    groups, cols = [], []
    for (name, dims), (a, _) in zip(layout, group_bounds(layout), strict=True):
        idx = [d for d in range(dims) if keep[a + d]]
        names = list(arkit52_names()) if name == "ARKIT52" else [f"{name.lower()}_{d}" for d in range(dims)]
        groups.append(TrackGroup(name, [names[d] for d in idx], None if len(idx) == dims else idx))
        cols.extend(a + d for d in idx)
    return Track(levels_values[:, cols], groups, rate)


@dataclass
class Coded:
    """One coded stream and what the decoder will output for it."""

    data: bytes
    decoded: np.ndarray  # [T, D] binary32 in the avatar's layout (unsent dimensions read 0)
    allocation: Allocation
    settings: RdoSettings
    frame_rate: tuple[int, int]

    @property
    def kbps(self) -> float:
        """Whole-file rate (header included) in kbit/s."""
        num, den = self.frame_rate
        return len(self.data) * 8 / (len(self.decoded) * den / num) / 1000.0


def encode(values: np.ndarray, layout: list[tuple[str, int]], gram: np.ndarray, settings: RdoSettings,
           frame_rate: tuple[int, int] = (30, 1), avatar_hash: int | None = None) -> Coded:
    """RDO-encode ``values`` [T, D] (the avatar's layout) into a ``.fcs`` of ``settings.profile`` (SPEC 9.4)."""
    if settings.profile not in PROFILES or PROFILES[settings.profile] not in profiles():
        raise ValueError(f"profile {settings.profile!r} is not available; this encoder writes {sorted(PROFILES)}")
    if not settings.mse > 0 or settings.deadzone < 0.5 or settings.hold < 0:
        raise ValueError(f"invalid settings {settings}")
    v = np.asarray(values, np.float64)
    g = np.asarray(gram, np.float64)
    alloc = allocate(v, layout, np.diag(g), settings.mse)
    q = quantize_sequence(v, layout, alloc, g, settings)
    recon = dequantize(q, alloc.range_min, alloc.steps(layout).astype(np.float32))
    track = _track_of(recon.astype(np.float64), layout, alloc.keep, frame_rate)
    kept = alloc.keep
    header = build_header(track, bit_depths=alloc.bit_depths,
                          intra_interval=settings.intra_interval, ranges=(alloc.range_min[kept], alloc.range_max[kept]),
                          avatar_hash=avatar_hash, profile_idc=PROFILES[settings.profile], xdim=True)  # SPEC 9.5: it never changes the levels
    data = encode_track(track, header)
    result = decode_file(data)
    decoded = frame_to_layout(result.matrix(), avatar_inputs(result.header, layout))
    expected = np.where(kept, recon, np.float32(0)).astype(np.float32)
    if not np.array_equal(decoded.view(np.uint32), expected.view(np.uint32)):
        raise RuntimeError("the reference encoder did not reproduce the chosen levels")  # a bug, never bad input
    return Coded(data, decoded, alloc, settings, frame_rate)
