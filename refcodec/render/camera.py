"""The render camera: pinhole intrinsics, pose, image size and background (SPEC 13.3).

Convention (the container's, SPEC 11.4): a camera looks down its **-z** axis with **+y up**
(OpenGL/glTF). gsplat and the rasterizer work in the OpenCV camera frame (+z forward, +y down,
pixel (0, 0) at the top-left corner, pixel centres at integer + 0.5); :meth:`Camera.viewmat`
does the conversion, ``diag(1, -1, -1, 1) @ inverse(camera_to_world)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..avatar.model import RenderDefaults
from .errors import RenderError

MAX_IMAGE_SIDE = 8192
"""SPEC 13.3, R-83: the largest width or height a renderer must accept."""
MAX_IMAGE_PIXELS = 1 << 24
"""SPEC 13.3, R-83: the largest width x height (16 Mpixel) a renderer must accept."""

_GL_TO_CV = np.diag([1.0, -1.0, -1.0, 1.0])
F32_MAX = float(np.finfo(np.float32).max)
"""SPEC 13.3, R-83: camera numbers are finite binary32 values (the rasterizer works in binary32)."""


def _finite32(v: float) -> bool:
    return math.isfinite(v) and abs(v) <= F32_MAX


def _rot_y(deg: float) -> np.ndarray:
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _rot_x(deg: float) -> np.ndarray:
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


@dataclass(frozen=True, eq=False)  # eq=False: the pose is an array (identity comparison)
class Camera:
    """A pinhole camera with its image size and background.

    Attributes:
        width, height: image size in pixels, 1..MAX_IMAGE_SIDE, at most MAX_IMAGE_PIXELS.
        fx, fy: focal lengths in pixels (> 0); cx, cy: principal point in pixels.
        camera_to_world: [4,4] float64 pose, camera looks down -z with +y up; the 3x3 part is
            a rotation.
        background: linear RGB in [0, 1].
    """

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    camera_to_world: np.ndarray = field(default_factory=lambda: np.eye(4))
    background: tuple[float, float, float] = (1.0, 1.0, 1.0)

    def __post_init__(self) -> None:
        self.validate()

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_defaults(
        cls, defaults: RenderDefaults, width: int | None = None, height: int | None = None, background: tuple[float, float, float] | None = None
    ) -> Camera:
        """The container's default camera (SPEC 11.4), optionally resized.

        Resizing scales the focal lengths and principal point by the same factors as the
        image, so the field of view is kept.
        """
        w = defaults.width if width is None else width
        h = defaults.height if height is None else height
        sx = w / defaults.width if defaults.width else 1.0
        sy = h / defaults.height if defaults.height else 1.0
        return cls(
            w,
            h,
            float(defaults.fx) * sx,
            float(defaults.fy) * sy,
            float(defaults.cx) * sx,
            float(defaults.cy) * sy,
            np.asarray(defaults.camera_to_world, np.float64).copy(),
            tuple(defaults.background) if background is None else tuple(background),
        )

    @classmethod
    def from_world_to_camera(
        cls,
        width: int,
        height: int,
        fx: float,
        fy: float,
        cx: float,
        cy: float,
        world_to_camera: np.ndarray,
        background: tuple[float, float, float] = (1.0, 1.0, 1.0),
    ) -> Camera:
        """Build from a world-to-camera matrix (same -z forward, +y up convention)."""
        w2c = _as_matrix("camera.world_to_camera", world_to_camera)
        return cls(width, height, fx, fy, cx, cy, np.linalg.inv(w2c), background)

    def with_pose(self, camera_to_world: np.ndarray) -> Camera:
        """The same intrinsics and image with another pose."""
        return Camera(self.width, self.height, self.fx, self.fy, self.cx, self.cy, np.asarray(camera_to_world, np.float64), self.background)

    def with_background(self, background: tuple[float, float, float]) -> Camera:
        """The same camera with another background."""
        return Camera(self.width, self.height, self.fx, self.fy, self.cx, self.cy, self.camera_to_world, tuple(background))

    def orbit(self, target: np.ndarray, yaw_deg: float = 0.0, pitch_deg: float = 0.0, distance: float | None = None) -> Camera:
        """Free viewpoint: this camera moved on a sphere around ``target``, looking at it.

        The orbit frame is this camera's own frame (its x right, y up, z back): yaw turns
        about its up axis (positive yaw moves the camera towards its own +x), pitch raises
        the camera above the target (positive looks down at it), and ``distance`` is the radius (default: this camera's distance to ``target``). With
        yaw = pitch = 0 and a target on the view axis, the camera is unchanged.
        """
        t = np.asarray(target, np.float64).reshape(-1)
        if t.shape != (3,) or not np.all(np.isfinite(t)) or np.any(np.abs(t) > F32_MAX):
            raise RenderError("orbit.target", "must be 3 finite values")
        for name, v in (("orbit.yaw", yaw_deg), ("orbit.pitch", pitch_deg)):
            if not math.isfinite(v):
                raise RenderError(name, f"must be finite, got {v}")
        if not -90.0 <= pitch_deg <= 90.0:
            raise RenderError("orbit.pitch", f"must be in [-90, 90] degrees, got {pitch_deg}")
        base = self.camera_to_world[:3, :3]
        if distance is None:
            distance = float(np.linalg.norm(self.camera_to_world[:3, 3] - t))
        if not (_finite32(distance) and distance > 0):
            raise RenderError("orbit.distance", f"must be finite and > 0, got {distance}")
        rot = base @ _rot_y(yaw_deg) @ _rot_x(-pitch_deg)
        pose = np.eye(4)
        pose[:3, :3] = rot
        pose[:3, 3] = t + distance * rot[:, 2]  # the camera sits on its own +z (back) axis
        return self.with_pose(pose)

    def look_target(self, distance: float) -> np.ndarray:
        """The point ``distance`` in front of the camera on its view axis."""
        return self.camera_to_world[:3, 3] - distance * self.camera_to_world[:3, 2]

    # ------------------------------------------------------------------ use
    def validate(self) -> None:
        """Raise :class:`RenderError` naming the first bad field (SPEC 13.3, R-83)."""
        for name in ("width", "height"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer):
                raise RenderError(f"camera.{name}", f"must be an integer, got {v!r}")
            if not 1 <= int(v) <= MAX_IMAGE_SIDE:
                raise RenderError(f"camera.{name}", f"must be 1..{MAX_IMAGE_SIDE}, got {v}")
        if self.width * self.height > MAX_IMAGE_PIXELS:
            raise RenderError("camera.width", f"{self.width}x{self.height} exceeds {MAX_IMAGE_PIXELS} pixels")
        for name in ("fx", "fy", "cx", "cy"):
            v = getattr(self, name)
            try:
                ok = _finite32(float(v))
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise RenderError(f"camera.{name}", f"must be a finite binary32 number, got {v!r}")
        for name in ("fx", "fy"):
            if float(getattr(self, name)) <= 0:
                raise RenderError(f"camera.{name}", f"focal length must be > 0, got {getattr(self, name)}")
        m = _as_matrix("camera.camera_to_world", self.camera_to_world)
        r = m[:3, :3]
        if not np.allclose(r.T @ r, np.eye(3), atol=1e-4) or np.linalg.det(r) < 0:
            raise RenderError("camera.camera_to_world", "the 3x3 part must be a rotation (orthonormal, det +1)")
        bg = self.background
        if len(bg) != 3 or not all(isinstance(c, int | float | np.floating | np.integer) and 0.0 <= float(c) <= 1.0 for c in bg):
            raise RenderError("camera.background", f"must be 3 values in [0, 1], got {bg!r}")
        object.__setattr__(self, "camera_to_world", m)

    def viewmat(self) -> np.ndarray:
        """[4,4] float64 world-to-camera matrix in the OpenCV frame (gsplat's ``viewmats``)."""
        return _GL_TO_CV @ np.linalg.inv(self.camera_to_world)

    def intrinsics(self) -> np.ndarray:
        """[3,3] float64 pinhole matrix K (gsplat's ``Ks``)."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def position(self) -> np.ndarray:
        """Camera centre in world space."""
        return self.camera_to_world[:3, 3].copy()


def _as_matrix(name: str, m: object) -> np.ndarray:
    try:
        a = np.array(m, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise RenderError(name, f"must be a 4x4 numeric matrix ({exc})") from None
    if a.shape != (4, 4):
        raise RenderError(name, f"must be 4x4, got shape {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(np.abs(a) > F32_MAX):
        raise RenderError(name, "contains NaN, infinity or a value beyond binary32")
    if not np.allclose(a[3], [0.0, 0.0, 0.0, 1.0], atol=1e-6):
        raise RenderError(name, "last row must be 0 0 0 1")
    if abs(np.linalg.det(a[:3, :3])) < 1e-12:
        raise RenderError(name, "is singular")
    return a
