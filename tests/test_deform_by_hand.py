"""The deformation reference (refcodec.avatar.deform, SPEC 13.1-13.2) on cases computed by hand.

Every expected number below is worked out in the comments from the definitions (morphs, then
skinning, then the rigid head pose, then the binding), not taken from the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from refcodec import spec_tables
from refcodec.avatar.deform import animate
from refcodec.avatar.model import Avatar, Binding, DeformationModel, Gaussians, MorphTargets, Skeleton

F = np.float32
S = math.sqrt(0.5)  # cos 45 deg = sin 45 deg: the quaternion of a 90 deg turn has components S


def translation(x: float, y: float, z: float) -> np.ndarray:
    m = np.eye(4, dtype=F)
    m[:3, 3] = [x, y, z]
    return m


def one_triangle(morphs: MorphTargets | None = None, skeleton: Skeleton | None = None, **kw) -> DeformationModel:
    """A mesh of one triangle (0, 1, 2); default vertices (0,0,0), (1,0,0), (0,1,0)."""
    verts = kw.pop("vertices", np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], F))
    return DeformationModel(verts, np.array([[0, 1, 2]], np.int32), morphs or MorphTargets([], [], []), skeleton, **kw)


def vertex_avatar(deformation: DeformationModel, vertex: list[int], offsets: list[list[float]], layout) -> Avatar:
    g = Gaussians.empty(len(vertex))
    g.positions[:] = np.array(offsets, F)
    return Avatar(g, deformation, Binding("vertex", np.array(vertex, np.int32)), layout)


def arkit(**weights: float) -> np.ndarray:
    v = np.zeros(52, F)
    names = spec_tables.arkit52_names()
    for k, w in weights.items():
        v[names.index(k)] = w
    return v


def test_one_morph_target():
    # Target "jawOpen" moves v2 by (0, 0, 0.5) per unit weight. With weight 0.4:
    # v2 = (0, 1, 0) + 0.4 * (0, 0, 0.5) = (0, 1, 0.2); v0, v1 do not move.
    morphs = MorphTargets(["jawOpen"], [np.array([2], np.int32)], [np.array([[0, 0, 0.5]], F)])
    av = vertex_avatar(one_triangle(morphs), [0, 1, 2], [[0, 0, 0]] * 3, [("ARKIT52", 52)])
    g = animate(av, arkit(jawOpen=0.4))
    np.testing.assert_allclose(g.positions, [[0, 0, 0], [1, 0, 0], [0, 1, 0.2]], atol=1e-7)
    # An ARKit coefficient without a target of its name (eyeBlinkLeft) moves nothing.
    g = animate(av, arkit(eyeBlinkLeft=1.0))
    np.testing.assert_allclose(g.positions, [[0, 0, 0], [1, 0, 0], [0, 1, 0]], atol=1e-7)


def jaw_skeleton(weights_v2: tuple[float, float]) -> Skeleton:
    """Joint 0 "root" at the origin; joint 1 "jaw" at (0, 1, 0), child of root.

    rest_local(jaw) = T(0, 1, 0), so its bind pose is T(0, 1, 0) and its inverse bind T(0, -1, 0).
    v0, v1 follow the root only; v2 has weights (root, jaw) = weights_v2.
    """
    joints = np.zeros((3, 4), np.int32)
    weights = np.zeros((3, 4), F)
    weights[:, 0] = 1.0
    joints[2, :2] = [0, 1]
    weights[2, :2] = weights_v2
    return Skeleton(
        ["root", "jaw"],
        np.array([-1, 0], np.int32),
        np.stack([np.eye(4, dtype=F), translation(0, 1, 0)]),
        np.stack([np.eye(4, dtype=F), translation(0, -1, 0)]),
        joints,
        weights,
    )


def test_skinning_one_joint_rotated_90_degrees():
    # v2 = (0, 1, 1) bound fully to the jaw joint at (0, 1, 0). JAW = (pi/2, 0, 0) turns the
    # joint 90 deg about +x: R_x(90) maps (x, y, z) to (x, -z, y). In joint space v2 is
    # (0, 0, 1) -> (0, -1, 0); back in model space (0, 1, 0) + (0, -1, 0) = (0, 0, 0).
    verts = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 1]], F)
    d = one_triangle(skeleton=jaw_skeleton((0.0, 1.0)), vertices=verts, joint_drivers={"JAW": "jaw"})
    # Gaussian 0 on v2 with offset (0, 0, 0.1): the offset turns with the joint, (0, 0, 0.1) -> (0, -0.1, 0).
    # Gaussian 1 on v0 (root only): unmoved.
    av = vertex_avatar(d, [2, 0], [[0, 0, 0.1], [0, 0, 0]], [("JAW", 3)])
    g = animate(av, np.array([math.pi / 2, 0, 0], F))
    np.testing.assert_allclose(g.positions, [[0, -0.1, 0], [0, 0, 0]], atol=1e-6)
    # Its rotation is the joint's: a 90 deg turn about x, quaternion (cos 45, sin 45, 0, 0).
    np.testing.assert_allclose(g.rotations[0], [S, S, 0, 0], atol=1e-6)
    np.testing.assert_allclose(g.rotations[1], [1, 0, 0, 0], atol=1e-6)


def test_skinning_blends_linearly():
    # Weights (0.5, 0.5): the root leaves v2 at (0, 1, 1), the jaw moves it to (0, 0, 0);
    # LBS blends the transforms, so v2 = 0.5 (0, 1, 1) + 0.5 (0, 0, 0) = (0, 0.5, 0.5).
    verts = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 1]], F)
    d = one_triangle(skeleton=jaw_skeleton((0.5, 0.5)), vertices=verts, joint_drivers={"JAW": "jaw"})
    av = vertex_avatar(d, [2], [[0, 0, 0]], [("JAW", 3)])
    g = animate(av, np.array([math.pi / 2, 0, 0], F))
    np.testing.assert_allclose(g.positions, [[0, 0.5, 0.5]], atol=1e-6)


def test_rigid_head_pose_about_the_pivot():
    # HEAD_ROTATION = (0, pi/2, 0): R_y(90) maps (x, y, z) to (z, y, -x). Pivot (0, 1, 0),
    # HEAD_TRANSLATION (0.1, 0, 0). v1 = (1, 1, 0): v1 - pivot = (1, 0, 0) -> (0, 0, -1);
    # + pivot + t = (0.1, 1, -1). v0 = (0, 0, 0): (0, -1, 0) -> (0, -1, 0) -> (0.1, 0, 0).
    verts = np.array([[0, 0, 0], [1, 1, 0], [0, 1, 0]], F)
    d = one_triangle(vertices=verts, head_pivot=np.array([0, 1, 0], F))
    # The vertex offset (0.2, 0, 0) of the Gaussian on v1 turns with the head: (0, 0, -0.2).
    av = vertex_avatar(d, [1, 0], [[0.2, 0, 0], [0, 0, 0]], [("HEAD_ROTATION", 3), ("HEAD_TRANSLATION", 3)])
    g = animate(av, np.array([0, math.pi / 2, 0, 0.1, 0, 0], F))
    np.testing.assert_allclose(g.positions, [[0.1, 1, -1.2], [0.1, 0, 0]], atol=1e-6)
    np.testing.assert_allclose(g.rotations[0], [S, 0, S, 0], atol=1e-6)  # 90 deg about y
    np.testing.assert_allclose(g.log_scales, 0.0, atol=0)  # vertex binding keeps the scale


def test_order_morph_then_skin_then_pose():
    # Morph "jawOpen" at weight 1 moves v2 from (0, 1, 0) to (0, 1, 1); then the jaw (fully
    # bound) turns it 90 deg about x around the joint (0, 1, 0): in joint space (0, 0, 1) -> (0, -1, 0),
    # back in model space (0, 0, 0); then the head translation (0, 0, 2) gives (0, 0, 2).
    # Skinning first and morphing after would give (0, 0, 0) + (0, 0, 1) + t = (0, 0, 3) instead.
    morphs = MorphTargets(["jawOpen"], [np.array([2], np.int32)], [np.array([[0, 0, 1]], F)])
    d = one_triangle(morphs, jaw_skeleton((0.0, 1.0)), joint_drivers={"JAW": "jaw"})
    av = vertex_avatar(d, [2], [[0, 0, 0]], [("ARKIT52", 52), ("JAW", 3), ("HEAD_TRANSLATION", 3)])
    params = np.concatenate([arkit(jawOpen=1.0), [math.pi / 2, 0, 0], [0, 0, 2]]).astype(F)
    np.testing.assert_allclose(animate(av, params).positions, [[0, 0, 2]], atol=1e-6)


def triangle_avatar(verts: np.ndarray, offset, layout, pivot=(0, 0, 0)) -> Avatar:
    d = one_triangle(vertices=verts, head_pivot=np.array(pivot, F))
    g = Gaussians.empty(1)
    g.positions[0] = offset
    g.log_scales[0] = [0.0, -1.0, 0.5]
    bary = np.full((1, 3), 1 / 3, F)
    return Avatar(g, d, Binding("triangle", np.array([0], np.int32), bary), layout)


def test_triangle_frame_binding():
    # Triangle v0 = (0,0,0), v1 = (2,0,0), v2 = (0,2,0). GaussianAvatars frame:
    #   a0 = norm(v1 - v0) = (1, 0, 0)
    #   a1 = norm(a0 x (v2 - v0)) = norm((1,0,0) x (0,2,0)) = (0, 0, 1)
    #   a2 = -norm(a1 x a0) = -((0,0,1) x (1,0,0)) = -(0, 1, 0) = (0, -1, 0)
    # Columns (a0, a1, a2) = [[1,0,0],[0,0,-1],[0,1,0]] = R_x(90 deg); scale (2 + 2) / 2 = 2;
    # origin = centroid (2/3, 2/3, 0). Offset (0.1, 0.2, 0.3) -> R (0.1, 0.2, 0.3) = (0.1, -0.3, 0.2),
    # position = (2/3, 2/3, 0) + 2 (0.1, -0.3, 0.2) = (2/3 + 0.2, 2/3 - 0.6, 0.4).
    verts = np.array([[0, 0, 0], [2, 0, 0], [0, 2, 0]], F)
    av = triangle_avatar(verts, [0.1, 0.2, 0.3], [])
    g = animate(av, None)
    np.testing.assert_allclose(g.positions[0], [2 / 3 + 0.2, 2 / 3 - 0.6, 0.4], atol=1e-6)
    np.testing.assert_allclose(g.rotations[0], [S, S, 0, 0], atol=1e-6)  # quat(R_x(90)) * identity
    np.testing.assert_allclose(g.log_scales[0], np.array([0.0, -1.0, 0.5]) + math.log(2), atol=1e-6)


def test_triangle_frame_follows_the_head_pose():
    # The same triangle turned by the head about y by 90 deg (pivot at the origin): R_y(90) maps
    # (x, y, z) to (z, y, -x); the vertices become (0,0,0), (0,0,-2), (0,2,0).
    #   a0 = (0, 0, -1); a1 = norm((0,0,-1) x (0,2,0)) = norm((2, 0, 0)) = (1, 0, 0);
    #   a2 = -norm((1,0,0) x (0,0,-1)) = -(0, 1, 0) = (0, -1, 0).
    # Offset (0.1, 0.2, 0.3) -> 0.1 a0 + 0.2 a1 + 0.3 a2 = (0.2, -0.3, -0.1); scale 2;
    # centroid (0, 2/3, -2/3); position (0.4, 2/3 - 0.6, -2/3 - 0.2).
    verts = np.array([[0, 0, 0], [2, 0, 0], [0, 2, 0]], F)
    av = triangle_avatar(verts, [0.1, 0.2, 0.3], [("HEAD_ROTATION", 3)])
    g = animate(av, np.array([0, math.pi / 2, 0], F))
    np.testing.assert_allclose(g.positions[0], [0.4, 2 / 3 - 0.6, -2 / 3 - 0.2], atol=1e-6)
    # Frame columns (a0, a1, a2) = [[0,1,0],[0,0,-1],[-1,0,0]] = R_y(90) R_x(90);
    # its quaternion is (S, 0, S, 0) * (S, S, 0, 0) = (0.5, 0.5, 0.5, -0.5).
    q = g.rotations[0] * np.sign(g.rotations[0][0])
    np.testing.assert_allclose(q, [0.5, 0.5, 0.5, -0.5], atol=1e-6)


@pytest.mark.parametrize("bad", [np.zeros(5, F), np.zeros(7, F)])
def test_wrong_parameter_count_is_rejected(bad):
    av = triangle_avatar(np.array([[0, 0, 0], [2, 0, 0], [0, 2, 0]], F), [0, 0, 0], [("HEAD_ROTATION", 3), ("HEAD_TRANSLATION", 3)])
    with pytest.raises(ValueError, match="params"):
        animate(av, bad)
