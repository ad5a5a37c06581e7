"""Frames the renderer cannot use are refused by name, never NaN or LinAlgError (SPEC 13.1 R-96, 13.3 R-83)."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("torch")

from fca_helpers import full_avatar  # noqa: E402

from refcodec.avatar.deform import axis_angle_to_matrix, rotation_angle  # noqa: E402
from refcodec.render import Camera, Renderer, RenderError  # noqa: E402


def _frame(avatar, **groups) -> np.ndarray:
    """A parameter vector in the avatar's layout order with the given groups set."""
    parts = [np.asarray(groups.get(name, np.zeros(dims)), np.float64).reshape(dims) for name, dims in avatar.layout]
    return np.concatenate(parts)


def test_rotation_angle_does_not_overflow():
    """|(1e38, 1e38, 1e38)| = sqrt(3) x 1e38, about 1.732e38 (binary32 holds up to 3.4e38)."""
    theta = float(rotation_angle(np.full(3, 1e38, np.float32))[0])
    assert math.isclose(theta, math.sqrt(3) * 1e38, rel_tol=1e-6)
    r = axis_angle_to_matrix(np.full(3, 1e38, np.float32)).astype(np.float64)
    assert np.all(np.isfinite(r)) and np.allclose(r.T @ r, np.eye(3), atol=1e-5)
    assert math.isinf(float(rotation_angle(np.full(3, 3.4e38, np.float32))[0]))  # sqrt(3) x 3.4e38 is past binary32


def test_head_rotation_1e38_renders_as_a_rotation():
    """The issue's repro (R-16 allows the value): the Gaussians are finite, no LinAlgError."""
    avatar = full_avatar(mode="vertex")
    g = Renderer(avatar, backend="cpu").gaussians(_frame(avatar, HEAD_ROTATION=[1e38, 1e38, 1e38]).astype(np.float32))
    assert all(np.all(np.isfinite(getattr(g, a))) for a in ("positions", "rotations", "log_scales"))


def test_head_rotation_past_binary32_angle_is_refused_by_name():
    avatar = full_avatar(mode="vertex")
    renderer = Renderer(avatar, backend="cpu")
    with pytest.raises(RenderError) as info:
        renderer.render(_frame(avatar, HEAD_ROTATION=[3.4e38, 3.4e38, 3.4e38]))
    assert info.value.field == "HEAD_ROTATION"


def test_jaw_rotation_past_binary32_angle_is_refused_by_name():
    avatar = full_avatar(mode="vertex")  # JAW drives joint "head"
    with pytest.raises(RenderError) as info:
        Renderer(avatar, backend="cpu").render(_frame(avatar, JAW=[3.4e38, -3.4e38, 3.4e38]))
    assert info.value.field == "joint[head]"


def test_overflowing_morph_weights_are_refused_by_name():
    avatar = full_avatar(mode="triangle")
    with pytest.raises(RenderError) as info:
        Renderer(avatar, backend="cpu").render(_frame(avatar, ARKIT52=np.full(52, 3e38)))
    assert info.value.field.startswith("deformation.")


@pytest.mark.parametrize("distance", [1e39, float("inf")])
def test_orbit_distance_beyond_binary32_is_refused(distance):
    cam = Camera(64, 64, 50.0, 50.0, 32.0, 32.0)
    with pytest.raises(RenderError) as info:
        cam.orbit(np.zeros(3), distance=distance)
    assert info.value.field == "orbit.distance"


def test_camera_values_beyond_binary32_are_refused():
    with pytest.raises(RenderError) as info:
        Camera(64, 64, 50.0, 50.0, 1e39, 32.0)
    assert info.value.field == "camera.cx"
    pose = np.eye(4)
    pose[2, 3] = 1e39
    with pytest.raises(RenderError) as info:
        Camera(64, 64, 50.0, 50.0, 32.0, 32.0, pose)
    assert info.value.field == "camera.camera_to_world"


def test_offset_mlp_correction_that_overflows_is_refused_by_name():
    """R-96: a rot6d input of angle past binary32 gives NaN network inputs; the correction is refused, not passed on."""
    from refcodec.avatar.deform import DeformationError
    from refcodec.avatar.model import Gaussians
    from refcodec.avatar.offset_mlp import OffsetInput, apply_offset_mlp, synthetic_offset_mlp

    desc, mlp = synthetic_offset_mlp(seed=1, inputs=(OffsetInput(3, 3, "rot6d"),))
    g = Gaussians.empty(4, 0)
    g.rotations[:, 0] = 1.0
    anchors = np.zeros((4, 3), np.float32)
    apply_offset_mlp(desc, mlp, anchors, {3: np.full(3, 1e38, np.float32)}, g)  # |a| = 1.7e38 is still an angle
    with pytest.raises(DeformationError) as info:
        apply_offset_mlp(desc, mlp, anchors, {3: np.full(3, 3.4e38, np.float32)}, g)
    assert info.value.field.startswith("gaussians.")


@pytest.mark.parametrize(
    "field, caller",
    [("camera.cx", True), ("orbit.distance", True), ("backend", True), ("params[0, 3]", True),
     ("HEAD_ROTATION", False), ("joint[head]", False), ("gaussians.positions", False), ("deformation.vertices", False), ("avatar", False)],
)
def test_render_errors_say_whether_the_caller_chose_the_field(field, caller):
    assert RenderError(field, "x").from_caller is caller
