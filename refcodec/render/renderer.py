"""The one renderer API: avatar + parameters (+ camera) -> image tensor (SPEC 13).

``Renderer(avatar).render(params, camera)`` runs the reconstruction of SPEC 13.1-13.3 (the
deformation and binding of :mod:`refcodec.avatar.deform`, the optional offset MLP) and then
rasterizes with the back-end: the CPU torch reference (``"cpu"``) or gsplat (``"gpu"``);
``"auto"`` picks gsplat when CUDA is available.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch

from ..avatar.deform import DeformationError, animate
from ..avatar.model import Avatar, Gaussians
from .camera import Camera
from .composite import DEFAULT_BLOCK, DEFAULT_BUDGET, composite
from .errors import RenderError
from .project import GaussianTensors, project

MAX_BATCH_BYTES = 1 << 31
"""Largest output batch (T x H x W x 3 float32) :meth:`Renderer.render` allocates at once (2 GiB)."""

Correction = Callable[[Gaussians, dict[str, np.ndarray]], Gaussians]
"""A per-frame correction of the stored Gaussians before binding (the offset MLP, SPEC 12.3)."""


def offset_mlp_correction(avatar: Avatar, descriptor, mlp) -> Correction:
    """The per-frame correction of an offset MLP (SPEC 12.3, R-77, R-78) for :class:`Renderer`,
    for an MLP kept outside the avatar. An avatar whose ``offset_mlp`` is set (as decoded from an
    OMLP section) needs none: :func:`~refcodec.avatar.deform.animate` applies it.
    """
    from ..avatar.deform import canonical_anchors
    from ..avatar.offset_mlp import apply_offset_mlp

    canonical = canonical_anchors(avatar)

    def correct(gaussians: Gaussians, groups: dict[str, np.ndarray]) -> Gaussians:
        return apply_offset_mlp(descriptor, mlp, canonical, groups, gaussians)

    return correct


def pick_backend(backend: str = "auto") -> str:
    """``"cpu"`` or ``"gpu"``; ``"auto"`` is ``"gpu"`` exactly when CUDA is available."""
    if backend not in ("auto", "cpu", "gpu"):
        raise RenderError("backend", f"must be 'auto', 'cpu' or 'gpu', got {backend!r}")
    if backend == "auto":
        return "gpu" if torch.cuda.is_available() else "cpu"
    if backend == "gpu" and not torch.cuda.is_available():
        raise RenderError("backend", "'gpu' needs CUDA, which is not available")
    return backend


def render_gaussians(g: Gaussians, camera: Camera, backend: str = "auto", block: int = DEFAULT_BLOCK, budget: int = DEFAULT_BUDGET) -> torch.Tensor:
    """Rasterize world-space Gaussians: [H, W, 3] float32 in [0, 1] on the CPU (SPEC 13.4, R-84..R-87)."""
    if not isinstance(camera, Camera):
        raise RenderError("camera", f"must be a Camera, got {type(camera).__name__}")
    try:
        g.validate()  # finite attributes, consistent shapes, no zero quaternion
    except ValueError as exc:  # the message starts with the field, e.g. "gaussians.rotations: ..." (SPEC 13.2, R-96)
        field, _, message = str(exc).partition(": ")
        raise RenderError(field if field.startswith("gaussians") else "gaussians", message or str(exc)) from None
    backend = pick_backend(backend)
    if backend == "gpu":
        from .gpu import render_gsplat

        img = render_gsplat(GaussianTensors.from_gaussians(g, "cuda"), camera).cpu()
    else:
        bg = torch.tensor(camera.background, dtype=torch.float32)
        img = composite(project(GaussianTensors.from_gaussians(g), camera), camera.width, camera.height, bg, block, budget)
    return torch.clamp(img, 0.0, 1.0)  # SPEC 13.4, R-87: the output image is clamped to [0, 1]


class Renderer:
    """Renders an avatar driven by stream parameters.

    Args:
        avatar: the avatar (validated here).
        backend: "auto", "cpu" or "gpu".
        camera: the default camera; None = the avatar's render defaults (SPEC 11.4).
        correction: optional per-frame correction of the stored Gaussians applied before the
            binding, e.g. the offset MLP (SPEC 12.3): ``f(gaussians, groups) -> gaussians``.
        threads: torch CPU threads (None = leave torch's setting).
    """

    def __init__(
        self, avatar: Avatar, backend: str = "auto", camera: Camera | None = None, correction: Correction | None = None, threads: int | None = None
    ):
        try:
            avatar.validate()
        except ValueError as exc:
            raise RenderError("avatar", str(exc)) from None
        self.avatar = avatar
        self.backend = pick_backend(backend)
        self.camera = camera if camera is not None else Camera.from_defaults(avatar.render)
        if correction is not None and avatar.offset_mlp is not None:
            raise RenderError("correction", "the avatar carries its own offset MLP (SPEC 12.3); a correction would apply it twice")
        self.correction = correction
        self.dims = sum(d for _, d in avatar.layout)
        if threads is not None:
            torch.set_num_threads(int(threads))

    # ------------------------------------------------------------------ parameters
    def check_params(self, params: np.ndarray | None) -> np.ndarray:
        """[T, D] float32 parameters, or RenderError naming the bad field (SPEC 13.3, R-83)."""
        if params is None:
            return np.zeros((1, self.dims), np.float32)
        try:
            a = np.asarray(params, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise RenderError("params", f"must be numeric ({exc})") from None
        if a.ndim not in (1, 2):
            raise RenderError("params", f"must be [D] or [T, D], got shape {a.shape}")
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        if a2.shape[1] != self.dims:
            raise RenderError("params", f"expected {self.dims} values per frame for layout {self.avatar.layout}, got {a2.shape[1]}")
        bad = np.argwhere(~np.isfinite(a2) | (np.abs(a2) > np.finfo(np.float32).max))
        if bad.size:
            t, d = (int(x) for x in bad[0])
            raise RenderError(f"params[{t}, {d}]" if a.ndim == 2 else f"params[{d}]", f"must be a finite binary32 value, got {a2[t, d]}")
        return a2.astype(np.float32)

    def gaussians(self, frame: np.ndarray) -> Gaussians:
        """World-space Gaussians for one flat parameter vector (SPEC 13.1-13.2, R-80: MLP corrections, then deformation and binding)."""
        avatar = self.avatar
        try:
            if self.correction is not None:
                groups = avatar.split_params(frame) if avatar.layout else {}
                avatar = replace(avatar, gaussians=self.correction(avatar.gaussians, groups))
            return animate(avatar, frame if avatar.layout else None)
        except DeformationError as exc:  # SPEC 13.1, R-96: a frame the deformation cannot use
            raise RenderError(exc.field, exc.message) from None

    # ------------------------------------------------------------------ rendering
    def render(self, params: np.ndarray | None = None, camera: Camera | None = None) -> torch.Tensor:
        """Render one frame ([D] -> [H, W, 3]) or a batch ([T, D] -> [T, H, W, 3]), float32 in [0, 1].

        ``params=None`` renders the neutral pose; ``camera=None`` uses the renderer's camera.
        """
        cam = self.camera if camera is None else camera
        if not isinstance(cam, Camera):
            raise RenderError("camera", f"must be a Camera, got {type(cam).__name__}")
        frames = self.check_params(params)
        if frames.shape[0] * cam.width * cam.height * 12 > MAX_BATCH_BYTES:
            raise RenderError("params", f"a batch of {frames.shape[0]} frames at {cam.width}x{cam.height} exceeds {MAX_BATCH_BYTES} bytes")
        images = torch.stack([self.render_frame(f, cam) for f in frames])
        single = params is None or np.ndim(params) == 1
        return images[0] if single else images

    def render_frame(self, frame: np.ndarray, camera: Camera) -> torch.Tensor:
        """One [H, W, 3] image for one checked parameter vector."""
        return render_gaussians(self.gaussians(frame), camera, self.backend)
