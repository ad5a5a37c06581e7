"""Reference renderer (SPEC chapter 13): camera, EWA projection, tile compositor, gsplat back-end."""

from .camera import MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, Camera
from .errors import RenderError
from .renderer import Renderer, offset_mlp_correction, pick_backend, render_gaussians

__all__ = ["MAX_IMAGE_PIXELS", "MAX_IMAGE_SIDE", "Camera", "RenderError", "Renderer", "offset_mlp_correction", "pick_backend", "render_gaussians"]
