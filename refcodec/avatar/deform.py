"""Deformation reference (numpy, float32): morphs, then LBS, then rigid head pose, then binding.

Order of operations for one frame (normative for the reference decoder):

1. **Morph targets**: ``v = base + sum_t w_t * delta_t``.  The weights come from the stream by
   :func:`morph_weights`.
2. **Linear-blend skinning** (if the model has a skeleton): each joint gets a local rotation
   (axis-angle, from the stream groups named in ``joint_drivers``, zero otherwise);
   ``world_j = world_parent(j) @ rest_local_j @ Rot(aa_j)`` and
   ``v' = sum_k w_k * world_{j_k} @ inverse_bind_{j_k} @ v``.
3. **Rigid head pose**, applied last: ``v'' = R (v' - pivot) + pivot + t`` with ``R`` from the
   HEAD_ROTATION axis-angle and ``t`` = HEAD_TRANSLATION (zero when absent).
4. **Binding** (see :func:`bind`):

   - vertex mode: ``x = v''_i + A_i @ offset`` where ``A_i = R @ L_i`` and ``L_i`` is the
     3x3 linear part of the vertex's blended skinning matrix (identity without a skeleton).
     The offset therefore follows the rigid head pose and the skinning.  The Gaussian's
     rotation is left-multiplied by the rotation nearest to ``A_i`` (polar decomposition);
     its scale is unchanged.
   - triangle mode (GaussianAvatars): for the deformed triangle (v0, v1, v2)
     ``a0 = norm(v1 - v0)``, ``a1 = norm(a0 x (v2 - v0))`` (the face normal),
     ``a2 = -norm(a1 x a0)``; the frame is the matrix with **columns** (a0, a1, a2).  Since
     ``a1 x a0`` is the in-plane direction towards v2, ``a2`` points away from v2, and
     det(a0, a1, a2) = +1: it is a proper rotation (right-handed).  The scale is the mean of
     the edge lengths |v1 - v0| and |v2 - v0|; the origin is ``sum_k b_k v_k`` (barycentric;
     GaussianAvatars uses the centroid).  Then ``x = origin + scale * F @ offset``,
     ``q = quat(F) * q_local``, ``log_scale += log(scale)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import Avatar, DeformationModel, Gaussians, Skeleton

F32 = np.float32


class DeformationError(ValueError):
    """A frame the deformation cannot use: a rotation angle or a result that is not finite in binary32
    (SPEC 13.1, R-96). ``field`` names the parameter group or the deformed quantity."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def _require_finite(field: str, values: np.ndarray, what: str) -> None:
    if not np.all(np.isfinite(values)):
        raise DeformationError(field, f"{what} is not finite in binary32 for this parameter vector")


# ----------------------------------------------------------------------------------- rotations
def rotation_angle(aa: np.ndarray) -> np.ndarray:
    """``|a|`` of [...,3] axis-angle vectors in binary32 without intermediate overflow (SPEC 13.1, R-96):
    the components are divided by the largest magnitude first, so 1e38 gives 1.7e38, not infinity."""
    aa = np.asarray(aa, F32)
    big = np.max(np.abs(aa), axis=-1, keepdims=True)
    unit = aa / np.where(big > 0, big, F32(1.0))
    with np.errstate(over="ignore"):
        return (big * np.sqrt(np.sum(unit * unit, axis=-1, keepdims=True, dtype=F32))).astype(F32)


def axis_angle_to_matrix(aa: np.ndarray) -> np.ndarray:
    """Rodrigues: [...,3] axis-angle (radians, right-handed) -> [...,3,3] rotation matrices.

    An angle whose magnitude overflows binary32 has no rotation: the matrix is then NaN, which
    :func:`deform_mesh` refuses (R-96)."""
    aa = np.asarray(aa, F32)
    theta = rotation_angle(aa)
    small = theta < 1e-8
    axis = aa / np.where(small, F32(1.0), theta)
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    zero = np.zeros_like(x)
    k = np.stack([zero, -z, y, z, zero, -x, -y, x, zero], axis=-1).reshape(aa.shape[:-1] + (3, 3))
    s = np.sin(theta)[..., None]
    c = np.cos(theta)[..., None]
    eye = np.broadcast_to(np.eye(3, dtype=F32), k.shape)
    r = eye + s * k + (1 - c) * (k @ k)
    return np.where(small[..., None], eye, r).astype(F32)


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """[...,4] quaternion w,x,y,z (normalised here) -> [...,3,3] rotation matrix."""
    q = np.asarray(q, F32)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    m = np.stack(
        [
            1 - 2 * (y * y + z * z),
            2 * (x * y - w * z),
            2 * (x * z + w * y),
            2 * (x * y + w * z),
            1 - 2 * (x * x + z * z),
            2 * (y * z - w * x),
            2 * (x * z - w * y),
            2 * (y * z + w * x),
            1 - 2 * (x * x + y * y),
        ],
        axis=-1,
    )
    return m.reshape(q.shape[:-1] + (3, 3)).astype(F32)


def matrix_to_quat(m: np.ndarray) -> np.ndarray:
    """[...,3,3] rotation matrix -> [...,4] unit quaternion w,x,y,z with w >= 0."""
    m = np.asarray(m, np.float64)
    t = np.stack(
        [
            1 + m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2],
            1 + m[..., 0, 0] - m[..., 1, 1] - m[..., 2, 2],
            1 - m[..., 0, 0] + m[..., 1, 1] - m[..., 2, 2],
            1 - m[..., 0, 0] - m[..., 1, 1] + m[..., 2, 2],
        ],
        axis=-1,
    )
    best = np.argmax(t, axis=-1)
    cand = np.empty(m.shape[:-2] + (4, 4))
    s = np.sqrt(np.maximum(t, 1e-30)) * 2  # 4*|component|
    # candidate 0: w largest
    cand[..., 0, :] = np.stack(
        [
            s[..., 0] / 4,
            (m[..., 2, 1] - m[..., 1, 2]) / s[..., 0],
            (m[..., 0, 2] - m[..., 2, 0]) / s[..., 0],
            (m[..., 1, 0] - m[..., 0, 1]) / s[..., 0],
        ],
        -1,
    )
    cand[..., 1, :] = np.stack(
        [
            (m[..., 2, 1] - m[..., 1, 2]) / s[..., 1],
            s[..., 1] / 4,
            (m[..., 0, 1] + m[..., 1, 0]) / s[..., 1],
            (m[..., 0, 2] + m[..., 2, 0]) / s[..., 1],
        ],
        -1,
    )
    cand[..., 2, :] = np.stack(
        [
            (m[..., 0, 2] - m[..., 2, 0]) / s[..., 2],
            (m[..., 0, 1] + m[..., 1, 0]) / s[..., 2],
            s[..., 2] / 4,
            (m[..., 1, 2] + m[..., 2, 1]) / s[..., 2],
        ],
        -1,
    )
    cand[..., 3, :] = np.stack(
        [
            (m[..., 1, 0] - m[..., 0, 1]) / s[..., 3],
            (m[..., 0, 2] + m[..., 2, 0]) / s[..., 3],
            (m[..., 1, 2] + m[..., 2, 1]) / s[..., 3],
            s[..., 3] / 4,
        ],
        -1,
    )
    q = np.take_along_axis(cand, best[..., None, None], axis=-2)[..., 0, :]
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    q = np.where(q[..., :1] < 0, -q, q)
    return q.astype(F32)


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a * b of w,x,y,z quaternions (rotation b first, then a)."""
    aw, ax, ay, az = np.moveaxis(np.asarray(a, F32), -1, 0)
    bw, bx, by, bz = np.moveaxis(np.asarray(b, F32), -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    ).astype(F32)


def nearest_rotation(a: np.ndarray) -> np.ndarray:
    """[...,3,3] -> the nearest proper rotation (polar decomposition via SVD)."""
    u, _, vt = np.linalg.svd(np.asarray(a, np.float64))
    d = np.sign(np.linalg.det(u @ vt))
    u[..., :, 2] *= d[..., None]
    return (u @ vt).astype(F32)


# ------------------------------------------------------------------------------ stream mapping
def morph_weights(avatar: Avatar, groups: dict[str, np.ndarray]) -> np.ndarray:
    """Morph-target weights [T] for one frame, from stream groups {semantic name: values}.

    With a ``coeff_map``: ``w = matrix @ groups[source] + bias``.  Without one, an ARKIT52
    group drives targets by ARKit name (canonical order of spec/groups.toml annex A);
    a coefficient with no target of that name is ignored, a target with no coefficient gets 0.
    """
    d = avatar.deformation
    t = d.morphs.count
    cm = d.coeff_map
    if cm is not None:
        src = groups.get(cm.source)
        if src is None:
            return np.zeros(t, F32) if cm.bias is None else cm.bias.astype(F32).copy()
        with np.errstate(over="ignore", invalid="ignore"):  # a weight that overflows is refused by deform_mesh
            w = cm.matrix @ np.asarray(src, F32)
            return (w if cm.bias is None else w + cm.bias).astype(F32)
    w = np.zeros(t, F32)
    if "ARKIT52" in groups:
        from refcodec import spec_tables

        pos = {n: i for i, n in enumerate(spec_tables.arkit52_names())}
        vals = np.asarray(groups["ARKIT52"], F32)
        for k, name in enumerate(d.morphs.names):
            if name in pos:
                w[k] = vals[pos[name]]
    return w


# ---------------------------------------------------------------------------------- the mesh
def apply_morphs(model: DeformationModel, weights: np.ndarray) -> np.ndarray:
    """``base + sum_t w_t * delta_t`` as [V,3] float32 (targets with weight 0 are skipped)."""
    v = model.vertices.astype(F32, copy=True)
    for t, w in enumerate(np.asarray(weights, F32)):
        if w != 0.0:
            idx = model.morphs.indices[t]
            v[idx] += w * model.morphs.deltas[t]
    return v


def joint_world(skeleton: Skeleton, local_rotations: np.ndarray | None = None) -> np.ndarray:
    """[J,4,4] world transforms: ``world_parent @ rest_local @ Rot(aa)`` (aa: [J,3], default 0)."""
    j = skeleton.count
    rots = np.broadcast_to(np.eye(4, dtype=F32), (j, 4, 4)).copy()
    if local_rotations is not None:
        rots[:, :3, :3] = axis_angle_to_matrix(np.asarray(local_rotations, F32).reshape(j, 3))
    out = np.zeros((j, 4, 4), F32)
    for k in range(j):
        p = int(skeleton.parents[k])
        local = skeleton.rest_local[k] @ rots[k]
        out[k] = local if p < 0 else out[p] @ local
    return out


def skin(skeleton: Skeleton, vertices: np.ndarray, world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LBS: returns (skinned [V,3], blended 3x4 matrices [V,3,4]) with
    ``M_v = sum_k w_k * world_{j_k} @ inverse_bind_{j_k}``."""
    skin_m = (world @ skeleton.inverse_bind)[:, :3, :]  # [J,3,4]
    blend = np.einsum("vk,vkab->vab", skeleton.vertex_weights.astype(F32), skin_m[skeleton.vertex_joints]).astype(F32)
    out = np.einsum("vab,vb->va", blend[:, :, :3], vertices) + blend[:, :, 3]
    return out.astype(F32), blend


@dataclass
class DeformedMesh:
    """Result of :func:`deform_mesh`.

    Attributes:
        vertices: [V,3] f32 deformed vertices (model/world space).
        linear: [V,3,3] f32 per-vertex linear transform ``R_head @ L_v`` (for vertex binding).
        head_rotation: [3,3] f32 rigid head rotation.
    """

    vertices: np.ndarray
    linear: np.ndarray
    head_rotation: np.ndarray


def deform_mesh(
    model: DeformationModel,
    weights: np.ndarray,
    joint_rotations: dict[str, np.ndarray] | None = None,
    head_rotation: np.ndarray | None = None,
    head_translation: np.ndarray | None = None,
) -> DeformedMesh:
    """Morphs, then LBS (joint local rotations by joint name, axis-angle), then the rigid pose (SPEC 13.1, R-81)."""
    _require_finite("deformation.morph_weights", np.asarray(weights, F32), "a morph weight")  # SPEC 13.1, R-96
    with np.errstate(over="ignore", invalid="ignore"):
        v = apply_morphs(model, weights)
    _require_finite("deformation.morphed_vertices", v, "a morphed vertex")
    nv = v.shape[0]
    lin = np.broadcast_to(np.eye(3, dtype=F32), (nv, 3, 3))
    s = model.skeleton
    if s is not None:
        aa = np.zeros((s.count, 3), F32)
        for name, rot in (joint_rotations or {}).items():
            aa[s.index(name)] = np.asarray(rot, F32).reshape(3)
            _require_finite(f"joint[{name}]", rotation_angle(aa[s.index(name)]), "the rotation angle")
        with np.errstate(over="ignore", invalid="ignore"):
            v, blend = skin(s, v, joint_world(s, aa))
        _require_finite("deformation.skinned_vertices", v, "a skinned vertex")
        lin = blend[:, :, :3]
    elif joint_rotations:
        raise ValueError("joint_rotations given but the model has no skeleton")
    head = np.zeros(3, F32) if head_rotation is None else np.asarray(head_rotation, F32).reshape(3)
    _require_finite("HEAD_ROTATION", rotation_angle(head), "the rotation angle")
    r = axis_angle_to_matrix(head)
    t = np.zeros(3, F32) if head_translation is None else np.asarray(head_translation, F32).reshape(3)
    pivot = model.head_pivot.astype(F32)
    with np.errstate(over="ignore", invalid="ignore"):
        v = ((v - pivot) @ r.T + pivot + t).astype(F32)
        lin = np.einsum("ab,vbc->vac", r, lin).astype(F32)
    _require_finite("deformation.vertices", v, "a deformed vertex")
    _require_finite("deformation.linear", lin, "a vertex's linear transform")
    return DeformedMesh(v, lin, r)


# ------------------------------------------------------------------------------- the binding
def triangle_frames(vertices: np.ndarray, triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GaussianAvatars triangle frames: ([F,3,3] rotation with columns a0,a1,a2, [F] scale)."""
    v0, v1, v2 = (vertices[triangles[:, k]] for k in range(3))
    e1 = v1 - v0
    e2 = v2 - v0

    def norm(x: np.ndarray) -> np.ndarray:
        return x / np.linalg.norm(x, axis=-1, keepdims=True)

    a0 = norm(e1)
    a1 = norm(np.cross(a0, e2))
    a2 = -norm(np.cross(a1, a0))
    frame = np.stack([a0, a1, a2], axis=-1).astype(F32)
    scale = ((np.linalg.norm(e1, axis=-1) + np.linalg.norm(e2, axis=-1)) / 2).astype(F32)
    return frame, scale


def bind(avatar: Avatar, mesh: DeformedMesh | None) -> Gaussians:
    """World-space Gaussians for a deformed mesh (``mesh`` may be None for mode 'none').

    Raises :class:`DeformationError` when a bound position, rotation or log-scale is not finite
    (a degenerate triangle, an overflow): SPEC 13.2, R-96."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _bind(avatar, mesh)


def _bind(avatar: Avatar, mesh: DeformedMesh | None) -> Gaussians:
    g = avatar.gaussians
    b = avatar.binding
    if b.mode == "none":
        return g.subset(slice(None))
    if b.mode == "vertex":
        lin = mesh.linear[b.index]
        pos = mesh.vertices[b.index] + np.einsum("nab,nb->na", lin, g.positions)
        # Rotation nearest to the per-vertex transform; skip the SVD when it is one shared rotation.
        if np.allclose(lin, mesh.head_rotation[None], atol=1e-6):
            rq = np.broadcast_to(matrix_to_quat(mesh.head_rotation), (g.count, 4))
        else:
            rq = matrix_to_quat(nearest_rotation(lin))
        rot = quat_mul(rq, g.rotations)
        log_scales = g.log_scales.copy()
    else:
        tri = avatar.deformation.triangles[b.index]
        frame, scale = triangle_frames(mesh.vertices, tri)
        origin = np.einsum("nk,nka->na", b.barycentric, mesh.vertices[tri])
        pos = origin + scale[:, None] * np.einsum("nab,nb->na", frame, g.positions)
        rot = quat_mul(matrix_to_quat(frame), g.rotations)
        log_scales = g.log_scales + np.log(scale)[:, None]
    out = Gaussians(pos.astype(F32), rot.astype(F32), log_scales.astype(F32), g.opacity_logits.copy(), g.sh_dc.copy(), g.sh_rest.copy(), g.sh_degree)
    for name in ("positions", "rotations", "log_scales"):  # SPEC 13.2, R-96
        _require_finite(f"gaussians.{name}", getattr(out, name), f"a bound Gaussian's {name[:-1].replace('_', ' ')}")
    return out


def animate(avatar: Avatar, params: np.ndarray | dict[str, np.ndarray] | None = None) -> Gaussians:
    """World-space Gaussians for one frame of stream parameters (flat vector in layout order,
    or {group name: values}; None = neutral)."""
    if params is None:  # neutral: every layout group at zero
        groups: dict[str, np.ndarray] = {name: np.zeros(dims, F32) for name, dims in avatar.layout}
    elif isinstance(params, dict):
        groups = params
    else:
        groups = avatar.split_params(params)
    if avatar.deformation is None:
        return bind(_with_offset_corrections(avatar, groups) if avatar.offset_mlp is not None else avatar, None)
    d = avatar.deformation
    w = morph_weights(avatar, groups)
    joints = {joint: groups[g] for g, joint in d.joint_drivers.items() if g in groups}
    mesh = deform_mesh(d, w, joints, groups.get("HEAD_ROTATION"), groups.get("HEAD_TRANSLATION"))
    if avatar.offset_mlp is not None:
        return bind(_with_offset_corrections(avatar, groups), mesh)
    return bind(avatar, mesh)


def canonical_anchors(avatar: Avatar) -> np.ndarray:
    """[N,3] positions of the Gaussians in the neutral model: the binding applied to the undeformed
    mesh (SPEC 12.3, R-77), the offset MLP's positional-encoding input."""
    d = avatar.deformation
    if d is None:
        return avatar.gaussians.positions
    zeros = {name: np.zeros(dims, F32) for name, dims in avatar.layout}  # every stream parameter 0 (a coefficient bias still applies)
    return bind(avatar, deform_mesh(d, morph_weights(avatar, zeros))).positions


def _with_offset_corrections(avatar: Avatar, groups: dict[str, np.ndarray]) -> Avatar:
    """The avatar with this frame's offset-MLP corrections applied to the stored Gaussians (SPEC 12.3, R-78)."""
    from dataclasses import replace

    from .offset_mlp import apply_offset_mlp

    desc, mlp = avatar.offset_mlp
    corrected = apply_offset_mlp(desc, mlp, canonical_anchors(avatar), groups, avatar.gaussians)
    return replace(avatar, gaussians=corrected)
