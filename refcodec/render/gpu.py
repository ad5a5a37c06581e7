"""GPU back-end: ``gsplat.rasterization`` with the parameters of SPEC 13.4 (R-84..R-87).

Selected automatically when ``torch.cuda.is_available()``. The call is pinned to the
normative choices: pinhole camera, ``eps2d`` 0.3, near/far planes 0.01/1e10, ``radius_clip``
0, ``packed=False``, ``rasterize_mode="classic"``, tile size 16, SH to the avatar's degree.
"""

from __future__ import annotations

import numpy as np
import torch

from .camera import Camera
from .composite import TILE
from .project import EPS2D, FAR_PLANE, NEAR_PLANE, RADIUS_CLIP, GaussianTensors


def render_gsplat(g: GaussianTensors, camera: Camera) -> torch.Tensor:
    """[H, W, 3] float32 image on the Gaussians' device (not clamped)."""
    from gsplat import rasterization

    dev = g.means.device
    viewmat = torch.from_numpy(camera.viewmat().astype(np.float32)).to(dev)[None]
    ks = torch.from_numpy(camera.intrinsics().astype(np.float32)).to(dev)[None]
    bg = torch.tensor(camera.background, dtype=torch.float32, device=dev)[None]
    colors, _alphas, _meta = rasterization(
        g.means,
        g.quats,
        g.scales,
        g.opacities,
        g.sh,
        viewmat,
        ks,
        camera.width,
        camera.height,
        near_plane=NEAR_PLANE,
        far_plane=FAR_PLANE,
        radius_clip=RADIUS_CLIP,
        eps2d=EPS2D,
        sh_degree=g.sh_degree,
        packed=False,
        tile_size=TILE,
        backgrounds=bg,
        render_mode="RGB",
        rasterize_mode="classic",
        camera_model="pinhole",
    )
    return colors[0]
