"""Render-neutral simplifications an encoder may make before quantizing (informative, SPEC 11.10 guidance).

None of these changes what the reference renderer draws beyond rounding noise; each narrows a
quantization range or drops data nothing uses:

- **log-scale floor**: a Gaussian axis smaller than ``exp(floor)`` (45 um at -10) is far below a
  pixel, where the renderer's 0.3 px dilation (SPEC 13) dominates its footprint, so raising
  it to the floor leaves the image unchanged while the LOG_SCALE range shrinks (LAM: from
  [-29.6, -4.6] to [-10, -4.6]);
- **opacity floor**: a Gaussian whose opacity is below 1/255 is never composited (its alpha
  is below the cut-off), so logits below ``logit(1/255)`` are raised to just under it;
- **idle skeleton**: a skeleton no stream group drives and whose rest pose moves no vertex by
  more than ``tolerance`` only costs bytes;
- **Morton order**: the Gaussians of a static avatar (no binding: nothing refers to them by index)
  are sorted along a Z-order curve of their positions, so neighbours in the file are neighbours in
  space and delta-coded samples (R-153) stay small. The renderer sorts by depth, so the order only
  decides ties; a splat trained in arbitrary order packs 15 % smaller (LAM's Gaussians shuffled:
  314 -> 268 KB).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..avatar.deform import joint_world, skin
from ..avatar.model import Avatar

#: Just below logit(1/255): such Gaussians stay below the alpha cut-off.
INVISIBLE_LOGIT = float(np.log(1.0 / 254.0)) - 1e-3


def floor_log_scales(avatar: Avatar, floor: float) -> Avatar:
    """Raise every log-scale below ``floor`` to it."""
    g = avatar.gaussians
    return replace(avatar, gaussians=replace(g, log_scales=np.maximum(g.log_scales, np.float32(floor))))


def floor_opacity(avatar: Avatar) -> Avatar:
    """Raise opacity logits below ``INVISIBLE_LOGIT`` to it (they remain invisible)."""
    g = avatar.gaussians
    return replace(avatar, gaussians=replace(g, opacity_logits=np.maximum(g.opacity_logits, np.float32(INVISIBLE_LOGIT))))


def drop_idle_skeleton(avatar: Avatar, tolerance: float = 1e-6) -> Avatar:
    """Remove a skeleton that nothing drives and that is the identity at rest within ``tolerance`` metres."""
    d = avatar.deformation
    if d is None or d.skeleton is None or d.joint_drivers:
        return avatar
    skinned, _ = skin(d.skeleton, d.vertices, joint_world(d.skeleton))
    if float(np.abs(skinned - d.vertices).max(initial=0.0)) > tolerance:
        return avatar
    return replace(avatar, deformation=replace(d, skeleton=None))


MORTON_BITS = 21  # per axis: 63 bits of interleaved code in an int64


def _spread(v: np.ndarray) -> np.ndarray:
    """The bits of 21-bit integers moved to every third position (bit i to bit 3i)."""
    out = np.zeros_like(v)
    for i in range(MORTON_BITS):
        out |= ((v >> i) & 1) << (3 * i)
    return out


def morton_order(positions: np.ndarray) -> np.ndarray:
    """The permutation that sorts ``positions`` [N, 3] along a Z-order curve over their bounding box (stable;
    elementwise binary32/binary64 arithmetic and integer bit operations only, so every machine gives the same)."""
    p = np.asarray(positions, np.float64)
    if len(p) == 0:
        return np.zeros(0, np.int64)
    lo, hi = p.min(axis=0), p.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    cells = np.clip(np.floor((p - lo) / span * ((1 << MORTON_BITS) - 1)), 0, (1 << MORTON_BITS) - 1).astype(np.int64)
    code = _spread(cells[:, 0]) | (_spread(cells[:, 1]) << 1) | (_spread(cells[:, 2]) << 2)
    return np.argsort(code, kind="stable")


def sort_static_gaussians(avatar: Avatar) -> Avatar:
    """The avatar with its Gaussians in Morton order when nothing refers to them by index (binding mode none)."""
    if avatar.binding.mode != "none":
        return avatar
    order = morton_order(avatar.gaussians.positions)
    g = avatar.gaussians
    fields = ("positions", "rotations", "log_scales", "opacity_logits", "sh_dc", "sh_rest")
    return replace(avatar, gaussians=replace(g, **{name: np.ascontiguousarray(getattr(g, name)[order]) for name in fields}))
