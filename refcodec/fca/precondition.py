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
  more than ``tolerance`` only costs bytes.
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
