"""Rotation matrix -> axis-angle (the SO(3) log map), vectorised and careful near 0 and pi.

Used by the AD-NeRF importer and by ``fctrack`` (MediaPipe facial transformation matrices).
"""

from __future__ import annotations

import numpy as np

#: Below this sin(theta), theta/sin(theta) is taken from its series.
_SMALL = 1e-6


def nearest_rotation(m: np.ndarray) -> np.ndarray:
    """The rotation closest (Frobenius) to each 3x3 matrix: the orthogonal polar factor, det +1.

    Removes a uniform scale and small numerical drift; a reflection (det < 0) is folded into
    the nearest proper rotation, so callers that care should check the determinant first.
    """
    m = np.asarray(m, dtype=np.float64)
    u, _, vt = np.linalg.svd(m)
    d = np.sign(np.linalg.det(u @ vt))
    d = np.where(d == 0, 1.0, d)
    u = u.copy()
    u[..., :, 2] *= d[..., None]
    return u @ vt


def rotation_log(rot: np.ndarray, project: bool = True) -> np.ndarray:
    """Axis-angle vectors (radians, angle in [0, pi]) of rotation matrices [..., 3, 3].

    theta = atan2(|v|, (tr R - 1) / 2) with v the axial vector of the antisymmetric part
    (v = sin(theta) * axis), which is accurate over the whole range. Where cos(theta) >= 0
    the result is v * theta / sin(theta) (series near 0). Where cos(theta) < 0 the axis is taken
    from the symmetric part, (R + R^T) / 2 - cos(theta) I = (1 - cos(theta)) a a^T, using its
    largest diagonal entry, with the sign chosen to agree with v (either sign at exactly pi).

    Args:
        rot: rotation matrices; with ``project`` they are first replaced by the nearest rotation.
    """
    r = np.asarray(rot, dtype=np.float64)
    if r.shape[-2:] != (3, 3):
        raise ValueError(f"rotation matrices must be [..., 3, 3], got {r.shape}")
    if project:
        r = nearest_rotation(r)
    v = 0.5 * np.stack([r[..., 2, 1] - r[..., 1, 2], r[..., 0, 2] - r[..., 2, 0], r[..., 1, 0] - r[..., 0, 1]], axis=-1)
    s = np.linalg.norm(v, axis=-1)
    c = np.clip(0.5 * (np.trace(r, axis1=-2, axis2=-1) - 1.0), -1.0, 1.0)
    theta = np.arctan2(s, c)

    # Small and moderate angles: omega = v * theta / sin(theta).
    safe_s = np.where(s < _SMALL, 1.0, s)
    factor = np.where(s < _SMALL, 1.0 + theta * theta / 6.0, theta / safe_s)
    near_zero = v * factor[..., None]

    # Large angles: axis from the symmetric part.
    b = 0.5 * (r + np.swapaxes(r, -1, -2)) - c[..., None, None] * np.eye(3)
    diag = np.diagonal(b, axis1=-2, axis2=-1)
    k = np.argmax(diag, axis=-1)
    col = np.take_along_axis(b, k[..., None, None], axis=-1)[..., 0]  # B[:, k]
    bkk = np.take_along_axis(diag, k[..., None], axis=-1)[..., 0]
    one_minus_c = 1.0 - c
    denom = np.sqrt(np.maximum(bkk * one_minus_c, 1e-300))
    axis = col / denom[..., None]
    axis /= np.maximum(np.linalg.norm(axis, axis=-1, keepdims=True), 1e-300)
    sign = np.where(np.sum(axis * v, axis=-1) < 0, -1.0, 1.0)
    near_pi = axis * (sign * theta)[..., None]

    return np.where((c < 0)[..., None], near_pi, near_zero)


def is_rotation(rot: np.ndarray, tol: float = 1e-4) -> np.ndarray:
    """Whether each matrix is orthonormal with det +1 within ``tol``."""
    r = np.asarray(rot, dtype=np.float64)
    err = np.abs(np.swapaxes(r, -1, -2) @ r - np.eye(3)).max(axis=(-2, -1))
    return (err <= tol) & (np.abs(np.linalg.det(r) - 1.0) <= tol)
