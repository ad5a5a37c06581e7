"""Quantization by largest error (an encoder choice, SPEC 11.1.3 and R-159 informative notes).

``PackConfig.max_errors`` names, per attribute, the largest error a decoded Gaussian may show, in
the units a viewer of the splat cares about; the encoder then picks the coarsest shared step
that keeps every Gaussian within it, checked on the values a decoder will produce (R-58, R-150,
R-151). Every check is elementwise binary64 arithmetic in a fixed order, so the choice is the same
on every CPU.
"""

from __future__ import annotations

import math

import numpy as np

from ..avatar.lam import SH_C0  # colour = 0.5 + SH_C0 * f_dc (degree-0 spherical harmonic)
from .codings import from_smallest_three
from .quantized import bounded_block

#: The names ``PackConfig.max_errors`` accepts, the attribute each bounds, and its unit.
ERROR_KINDS = {
    "position": ("positions", "metres, Euclidean distance"),
    "color": ("sh_dc", "colour units in [0, 1] per channel: SH_C0 x |f_dc error|"),
    "log_scale": ("log_scales", "natural-log units per axis"),
    "rotation_deg": ("rotations", "degrees of rotation angle (ROTATION_S3)"),
    "opacity": ("opacity_logits", "opacity after the sigmoid (OPACITY_ALPHA)"),
}


def _max_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)), initial=0.0))


def position_block(values: np.ndarray, max_error: float) -> dict:
    """Positions [3, N] within ``max_error`` metres (Euclidean): per-axis steps of about 2 e / sqrt(3)."""
    ref = np.asarray(values, np.float64)

    def error(decoded):
        d = np.asarray(decoded, np.float64) - ref
        return float(np.sqrt(np.max(d[0] * d[0] + d[1] * d[1] + d[2] * d[2], initial=0.0)))

    return bounded_block(values, max_error, error, 2 * max_error / math.sqrt(3))


def color_block(values: np.ndarray, max_error: float) -> dict:
    """SH DC coefficients [3, N] whose colour (SH_C0 x f_dc) errs by at most ``max_error`` per channel."""
    return bounded_block(values, max_error, lambda dec: SH_C0 * _max_abs(dec, values), 2 * max_error / SH_C0)


def log_scale_block(values: np.ndarray, max_error: float) -> dict:
    """Log-scales [3, N] within ``max_error`` per axis."""
    return bounded_block(values, max_error, lambda dec: _max_abs(dec, values), 2 * max_error)


def opacity_block(alpha: np.ndarray, max_error: float) -> dict:
    """Opacities [1, N] after the sigmoid within ``max_error``, every decoded one in [0, 1] (R-151)."""

    def error(decoded):
        d = np.asarray(decoded)
        return math.inf if d.size and (d.min() < 0 or d.max() > 1) else _max_abs(d, alpha)

    return bounded_block(alpha, max_error, error, 2 * max_error)


def rotation_block(largest: np.ndarray, rest: np.ndarray, max_error_deg: float) -> dict:
    """Smallest-three components [3, N] (R-150) whose decoded quaternions turn at most ``max_error_deg``
    from the unquantized ones: for unit quaternions of the same sign the rotation angle is
    4 asin(|q - q'| / 2), so the check is |q - q'|^2 <= (2 sin(e / 4))^2."""
    bound = (2 * math.sin(math.radians(max_error_deg) / 4)) ** 2
    ref = from_smallest_three(largest, rest).astype(np.float64)

    def error(decoded):
        q = from_smallest_three(largest, decoded).astype(np.float64)
        d = [q[:, k] - ref[:, k] for k in range(4)]
        worst = float(np.max(((d[0] * d[0] + d[1] * d[1]) + d[2] * d[2]) + d[3] * d[3], initial=0.0))
        return worst / bound * max_error_deg  # scaled so that the bound reads as max_error_deg

    # 10-bit components reach 0.198 deg at a step of 1.38e-3 (about 2.5 step radians): start a little above that
    return bounded_block(rest, max_error_deg, error, math.radians(max_error_deg) / 2.2)


def bounded_attribute(attr: str, values: np.ndarray, max_error: float, largest: np.ndarray | None = None) -> dict:
    """The block of Gaussians field ``attr`` (values [C, N] as the section stores them: opacities after
    the sigmoid, smallest-three components with ``largest``) within ``max_error`` of its kind (ERROR_KINDS)."""
    if attr == "positions":
        return position_block(values, max_error)
    if attr == "sh_dc":
        return color_block(values, max_error)
    if attr == "log_scales":
        return log_scale_block(values, max_error)
    if attr == "opacity_logits":
        return opacity_block(values, max_error)
    if attr == "rotations":
        return rotation_block(largest, values, max_error)
    raise ValueError(f"no error bound is defined for {attr}")
