"""The in-memory avatar model (refcodec.avatar.model): a small hand-built avatar validates,
every broken field is rejected with a message naming that field, and the helpers
(split_params, sparse/dense morphs, rest_world, framing) give hand-computed results."""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import pytest

from refcodec.avatar.model import Avatar, Binding, CoefficientMap, DeformationModel, Gaussians, MorphTargets, RenderDefaults, Skeleton

F = np.float32


def small_avatar() -> Avatar:
    """Two Gaussians on a 4-vertex, 2-triangle mesh with one morph target and a 2-joint skeleton."""
    vertices = F([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]])
    triangles = np.array([[0, 1, 2], [1, 3, 2]], np.int32)
    morphs = MorphTargets(["jawOpen"], [np.array([1, 3], np.int32)], [F([[0, -0.1, 0], [0, -0.2, 0]])])
    rest = np.stack([np.eye(4, dtype=F)] * 2)
    rest[1, :3, 3] = [0, 1, 0]
    inv = np.stack([np.eye(4, dtype=F)] * 2)
    inv[1, :3, 3] = [0, -1, 0]
    joints = np.array([[0, 0, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]], np.int32)
    weights = F([[1, 0, 0, 0], [0.5, 0.5, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]])
    skeleton = Skeleton(["neck", "head"], np.array([-1, 0], np.int32), rest, inv, joints, weights)
    model = DeformationModel(vertices, triangles, morphs, skeleton, None, {"NECK": "neck"}, F([0, 1, 0]))
    g = Gaussians.empty(2)
    return Avatar(g, model, Binding("vertex", np.array([0, 3], np.int32)), [("ARKIT52", 52), ("HEAD_ROTATION", 3)])


def test_small_avatar_is_valid() -> None:
    small_avatar().validate()


def _set(path: str, value: object) -> Callable[[Avatar], None]:
    def apply(a: Avatar) -> None:
        *parents, last = path.split(".")
        obj = a
        for p in parents:
            obj = getattr(obj, p)
        setattr(obj, last, value)

    return apply


def _item(path: str, index: tuple, value: float) -> Callable[[Avatar], None]:
    def apply(a: Avatar) -> None:
        obj = a
        for p in path.split("."):
            obj = getattr(obj, p)
        obj[index] = value

    return apply


# (mutation, field name the error must start with)
BROKEN = {
    "sh degree": (_set("gaussians.sh_degree", 4), "gaussians.sh_degree"),
    "positions dtype": (_set("gaussians.positions", np.zeros((2, 3))), "gaussians.positions"),
    "positions not an array": (_set("gaussians.positions", [[0, 0, 0]]), "gaussians.positions"),
    "rotations shape": (_set("gaussians.rotations", np.ones((2, 3), F)), "gaussians.rotations"),
    "zero quaternion": (_item("gaussians.rotations", (1,), 0.0), "gaussians.rotations"),
    "nan scale": (_item("gaussians.log_scales", (0, 1), np.nan), "gaussians.log_scales"),
    "opacity shape": (_set("gaussians.opacity_logits", np.zeros((2, 1), F)), "gaussians.opacity_logits"),
    "sh_rest for degree": (_set("gaussians.sh_rest", np.zeros((2, 3, 3), F)), "gaussians.sh_rest"),
    "triangle index": (_item("deformation.triangles", (1, 1), 4), "deformation.triangles"),
    "triangles float": (_set("deformation.triangles", np.zeros((2, 3), F)), "deformation.triangles"),
    "morph index order": (_set("deformation.morphs.indices", [np.array([3, 1], np.int32)]), "deformation.morphs.indices[0]"),
    "morph deltas shape": (_set("deformation.morphs.deltas", [np.zeros((3, 3), F)]), "deformation.morphs.deltas[0]"),
    "morph names length": (_set("deformation.morphs.names", ["a", "b"]), "deformation.morphs"),
    "parents order": (_set("deformation.skeleton.parents", np.array([1, -1], np.int32)), "deformation.skeleton.parents"),
    "joint index": (_item("deformation.skeleton.vertex_joints", (0, 0), 2), "deformation.skeleton.vertex_joints"),
    "weights sum": (_item("deformation.skeleton.vertex_weights", (1, 1), 0.7), "deformation.skeleton.vertex_weights"),
    "joint driver": (_set("deformation.joint_drivers", {"JAW": "jaw"}), "deformation.joint_drivers"),
    "pivot shape": (_set("deformation.head_pivot", np.zeros(2, F)), "deformation.head_pivot"),
    "coeff map rows": (_set("deformation.coeff_map", CoefficientMap("ARKIT52", np.zeros((2, 52), F))), "deformation.coeff_map.matrix"),
    "coeff map source": (_set("deformation.coeff_map", CoefficientMap("EXPRESSION", np.zeros((1, 10), F))), "deformation.coeff_map.source"),
    "binding mode": (_set("binding.mode", "face"), "binding.mode"),
    "binding index range": (_item("binding.index", (1,), 4), "binding.index"),
    "binding barycentric": (_set("binding.barycentric", np.zeros((2, 3), F)), "binding.barycentric"),
    "layout name": (_set("layout", [("ARKIT51", 51)]), "layout[0]"),
    "layout dims": (_set("layout", [("ARKIT52", 51)]), "layout[0]"),
    "layout repeat": (_set("layout", [("HEAD_ROTATION", 3), ("HEAD_ROTATION", 3)]), "layout[1]"),
    "render size": (_set("render.width", 0), "render.width"),
    "render focal": (_set("render.fx", -1.0), "render.fx"),
    "render pose": (_item("render.camera_to_world", (3, 0), 1.0), "render.camera_to_world"),
    "background": (_set("render.background", (1.0, 2.0, 0.0)), "render.background"),
    "metadata": (_set("metadata", {"k": 1}), "metadata"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_validation_error_names_the_field(case: str) -> None:
    mutate, field_name = BROKEN[case]
    a = copy.deepcopy(small_avatar())
    mutate(a)
    with pytest.raises(ValueError) as err:
        a.validate()
    assert str(err.value).startswith(field_name + ":"), str(err.value)


def test_vertex_binding_needs_a_deformation_model() -> None:
    a = small_avatar()
    a.deformation = None
    with pytest.raises(ValueError, match=r"^binding.mode:"):
        a.validate()


def test_split_params_by_layout() -> None:
    a = small_avatar()
    flat = np.arange(55, dtype=F)
    groups = a.split_params(flat)
    assert list(groups) == ["ARKIT52", "HEAD_ROTATION"]
    assert groups["HEAD_ROTATION"].tolist() == [52, 53, 54]
    with pytest.raises(ValueError, match="expected 55"):
        a.split_params(np.zeros(54, F))


def test_sparse_dense_morphs_and_nnz() -> None:
    m = small_avatar().deformation.morphs
    dense = m.dense(4)
    expected = np.zeros((1, 4, 3), F)
    expected[0, 1] = [0, -0.1, 0]
    expected[0, 3] = [0, -0.2, 0]
    np.testing.assert_array_equal(dense, expected)
    back = MorphTargets.from_dense(["jawOpen"], dense)
    assert back.nnz() == [2] and back.indices[0].tolist() == [1, 3]


def test_rest_world_composes_parent_first() -> None:
    s = small_avatar().deformation.skeleton
    s.rest_local[1, :3, 3] = [0, 2, 0]
    s.rest_local[0, :3, 3] = [1, 0, 0]
    world = s.rest_world()
    np.testing.assert_array_equal(world[1, :3, 3], [1, 2, 0])  # (1,0,0) + (0,2,0), no rotation


def test_equals_is_exact_or_tolerant() -> None:
    a, b = small_avatar(), small_avatar()
    assert a.equals(b)
    b.gaussians.positions[0, 0] = 1e-7
    assert not a.equals(b) and a.equals(b, atol=1e-6)


def test_framing_centres_the_box_and_fits_it() -> None:
    # Box x in [-1, 1], y in [2, 4], z in [-1, 0.5]: centre (0, 3), half extent 1 -> 1.1 with the
    # 10% margin; at 90 degrees field of view tan(45) = 1, so the camera stands 1.1 in front
    # of the box's front face z = 0.5, and f = 256 / tan(45) = 256 px.
    pts = F([[-1, 2, -1], [1, 4, 0.5], [0, 3, 0]])
    r = RenderDefaults.framing(pts, size=512, fov_deg=90.0)
    r.validate()
    assert (r.width, r.height, r.cx, r.cy) == (512, 512, 256.0, 256.0)
    assert r.fx == pytest.approx(256.0) and r.fy == pytest.approx(256.0)
    np.testing.assert_allclose(r.camera_to_world[:3, 3], [0, 3, 1.6], rtol=1e-6)
    np.testing.assert_array_equal(r.camera_to_world[:3, :3], np.eye(3))
    # The front corner (1, 4, 0.5) lands 1/1.1 of the half-width from the centre: u = cx + f * x / depth.
    depth = r.camera_to_world[2, 3] - 0.5
    assert r.cx + r.fx * (1 - r.camera_to_world[0, 3]) / depth == pytest.approx(256 + 256 / 1.1)
