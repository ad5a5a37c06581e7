"""Encoder range choices (informative, SPEC 9.1, 14.7): nominal ranges and near-constant noise dimensions."""

from __future__ import annotations

import math

import numpy as np

from ..track import Track

#: SPEC 14.7: nominal ranges of the semantics that have one (registry 4.2): weights in [0, 1],
#: joint rotations (axis-angle, radians) within a quarter turn either way of the rest pose.
NOMINAL_RANGES: dict[str, tuple[float, float]] = {
    "ARKIT52": (0.0, 1.0),
    "EYELIDS": (0.0, 1.0),
    "HEAD_ROTATION": (-math.pi / 2, math.pi / 2),
    "JAW": (-math.pi / 2, math.pi / 2),
    "NECK": (-math.pi / 2, math.pi / 2),
    "EYES": (-math.pi / 2, math.pi / 2),
}


def choose_ranges(track: Track, mode: str = "auto") -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per-column (min, max) and, per group, where they came from (``"nominal"`` or ``"data"``).

    ``mode``: ``"data"`` uses every column's own range; ``"nominal"`` the semantic's nominal range
    where it has one; ``"auto"`` the nominal range of a group whose data lie inside it, else the data.
    """
    lo = track.values.min(axis=0) if track.frames else np.zeros(track.values.shape[1])
    hi = track.values.max(axis=0) if track.frames else np.zeros(track.values.shape[1])
    rmin, rmax = lo.astype(np.float64).copy(), hi.astype(np.float64).copy()
    sources = []
    for grp, sl in zip(track.groups, track.group_slices(), strict=True):
        nominal = NOMINAL_RANGES.get(grp.semantic.upper())
        fits = nominal is not None and lo[sl].min() >= nominal[0] and hi[sl].max() <= nominal[1]
        if nominal is not None and (mode == "nominal" or (mode == "auto" and fits)):
            rmin[sl], rmax[sl] = nominal
            sources.append("nominal")
        else:
            sources.append("data")
    return rmin, rmax, sources


def noise_dimensions(track: Track, depths: list[int]) -> np.ndarray:
    """Columns that vary, but by less than one quantization step of their semantic's nominal range
    at the group's depth (SPEC 14.7): near-constant noise (MediaPipe's unused blendshapes vary by
    about 1e-6), which data ranges would code at full depth. Semantics without a nominal range
    have none."""
    noisy = np.zeros(track.values.shape[1], dtype=bool)
    if track.frames == 0:
        return noisy
    spread = track.values.max(axis=0) - track.values.min(axis=0)
    for grp, sl, depth in zip(track.groups, track.group_slices(), depths, strict=True):
        nominal = NOMINAL_RANGES.get(grp.semantic.upper())
        if nominal is not None:
            step = (nominal[1] - nominal[0]) / ((1 << depth) - 1)
            noisy[sl] = (spread[sl] > 0) & (spread[sl] < step)
    return noisy


def flatten_noise(rmin: np.ndarray, rmax: np.ndarray, values: np.ndarray, noisy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ranges with every noisy column collapsed to the point of its mean (coded as a constant)."""
    rmin, rmax = rmin.copy(), rmax.copy()
    mean = values.mean(axis=0) if values.shape[0] else np.zeros(values.shape[1])
    mean = mean.astype(np.float32).astype(np.float64)  # one binary32 value: min = max, step 0, every level decodes to it
    rmin[noisy] = mean[noisy]
    rmax[noisy] = mean[noisy]
    return rmin, rmax
