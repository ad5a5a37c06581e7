"""Attribute-domain errors between an avatar and its decoded container (benchmark, fcpack)."""

from __future__ import annotations

import numpy as np

from ..avatar.model import Avatar

#: PackConfig's default log-scale floor (refcodec.fca.precondition): axes below e^-10 m (45 um) are raised to it.
VISIBLE_LOG_SCALE = -10.0
GAUSSIAN_FIELDS = ("positions", "rotations", "log_scales", "opacity_logits", "sh_dc", "sh_rest")


def _stats(a: np.ndarray, b: np.ndarray) -> dict:
    if a.size == 0:
        return {"max": 0.0, "mean": 0.0}
    err = np.abs(a.astype(np.float64) - b.astype(np.float64))
    return {"max": float(err.max()), "mean": float(err.mean())}


def _unit_aligned(q1: np.ndarray, q2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both quaternion arrays normalised (binary64), the second negated where that brings it closer to the first."""
    a = np.asarray(q1, np.float64).reshape(-1, 4)
    b = np.asarray(q2, np.float64).reshape(-1, 4)
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return a, b * np.where(np.einsum("ij,ij->i", a, b) < 0, -1.0, 1.0)[:, None]


def rotation_angle_error_deg(q1: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """Angle in degrees between the rotations of two quaternion arrays (normalised first; q ~ -q)."""
    a = np.asarray(q1, np.float64)  # binary64 throughout: arccos near 1 turns binary32 rounding into ~0.04 deg
    b = np.asarray(q2, np.float64)
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    dot = np.clip(np.abs(np.einsum("ij,ij->i", a, b)), 0.0, 1.0)
    return np.degrees(2.0 * np.arccos(dot))


def attribute_errors(reference: Avatar, decoded: Avatar) -> dict:
    """Max and mean absolute error per attribute, plus the rotation angle and opacity (sigmoid) errors,
    the base mesh and morph-target errors (metres) and skin-weight errors."""
    g, h = reference.gaussians, decoded.gaussians
    out = {name: _stats(getattr(g, name), getattr(h, name)) for name in GAUSSIAN_FIELDS}
    out["rotations"] = _stats(*_unit_aligned(g.rotations, h.rotations))  # q and -q are one rotation (SPEC 11.7.1 flips signs)
    visible = g.log_scales >= np.float32(VISIBLE_LOG_SCALE)  # the encoder's floor raises smaller axes (render-neutral)
    out["log_scales_above_floor"] = _stats(g.log_scales[visible], h.log_scales[visible])
    angle = rotation_angle_error_deg(g.rotations, h.rotations)
    out["rotation_angle_deg"] = {"max": float(angle.max(initial=0.0)), "mean": float(angle.mean()) if angle.size else 0.0}
    sig = lambda x: 1.0 / (1.0 + np.exp(-x.astype(np.float64)))  # noqa: E731
    out["opacity"] = _stats(sig(g.opacity_logits), sig(h.opacity_logits))
    d, e = reference.deformation, decoded.deformation
    if d is not None and e is not None:
        out["mesh_vertices_m"] = _stats(d.vertices, e.vertices)
        if d.morphs.count:  # dense: an encoder may drop vertices a target barely moves
            out["morph_deltas_m"] = _stats(d.morphs.dense(d.vertex_count), e.morphs.dense(e.vertex_count))
        if d.skeleton is not None and e.skeleton is not None:
            out["skin_weights"] = _stats(d.skeleton.vertex_weights, e.skeleton.vertex_weights)
    return out
