"""EWA projection of 3D Gaussians and their view-dependent colour (SPEC 13.4, R-84, R-85).

This is the CPU reference of gsplat 1.5.3's ``fully_fused_projection`` (pinhole, classic mode,
unpacked) with the opacity-aware radius of its CUDA kernel. The covariance, camera transform,
perspective Jacobian and SH bases are gsplat's own pure-torch helpers
(``gsplat.cuda._torch_impl``), which run on a CPU; the culling rules are written out here
because the torch helper ``_fully_fused_projection`` uses a fixed 3.33-sigma radius while the
CUDA kernel (what ``gsplat.rasterization`` runs) uses the opacity-aware one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from gsplat.cuda._torch_impl import _eval_sh_bases_fast, _persp_proj, _quat_scale_to_covar_preci, _world_to_cam

from ..avatar.model import Gaussians
from .camera import Camera

EPS2D = 0.3
"""SPEC 13.4, R-84: the 2D dilation added to both diagonal entries of the projected covariance (pixels^2)."""
NEAR_PLANE = 0.01
FAR_PLANE = 1e10
RADIUS_CLIP = 0.0
ALPHA_MIN = 1.0 / 255.0
"""SPEC 13.4, R-86: fragments with a smaller alpha are skipped."""
ALPHA_MAX = 0.999
T_STOP = 1e-4
"""SPEC 13.4, R-86: compositing stops before a fragment that would bring transmittance to this or below."""
EXTEND_MAX = 3.33
"""gsplat's cap on the radius in standard deviations."""


@dataclass
class GaussianTensors:
    """World-space Gaussians with activations applied, as float32 torch tensors.

    Attributes:
        means: [N,3]; quats: [N,4] w,x,y,z (not necessarily unit); scales: [N,3] (> 0);
        opacities: [N] in (0, 1); sh: [N,K,3] SH coefficients, coefficient 0 = DC, K = (d+1)^2;
        sh_degree: d.
    """

    means: torch.Tensor
    quats: torch.Tensor
    scales: torch.Tensor
    opacities: torch.Tensor
    sh: torch.Tensor
    sh_degree: int

    @classmethod
    def from_gaussians(cls, g: Gaussians, device: torch.device | str = "cpu") -> GaussianTensors:
        """Activate a :class:`Gaussians` set: ``scale = exp(log_scale)``, ``opacity = sigmoid(logit)`` (SPEC 13.2, R-82)."""
        sh = np.concatenate([g.sh_dc[:, None, :], g.sh_rest], axis=1).astype(np.float32)

        def t(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(device)

        return cls(t(g.positions), t(g.rotations), torch.exp(t(g.log_scales)), torch.sigmoid(t(g.opacity_logits)), t(sh), int(g.sh_degree))

    @property
    def count(self) -> int:
        return int(self.means.shape[0])


@dataclass
class Projected:
    """The projection of N Gaussians for one camera (float32 tensors on the CPU).

    Attributes:
        means2d: [N,2] pixel coordinates (x right, y down; pixel centres at integer + 0.5).
        conics: [N,3] the inverse of the dilated 2D covariance, (a, b, c) = (inv00, inv01, inv11).
        depths: [N] camera-space z (OpenCV frame, > 0 in front).
        radii: [N,2] int32 half extents in pixels; (0, 0) for a culled Gaussian.
        opacities: [N]; colors: [N,3] view-dependent colour (SH + 0.5, clamped at 0).
    """

    means2d: torch.Tensor
    conics: torch.Tensor
    depths: torch.Tensor
    radii: torch.Tensor
    opacities: torch.Tensor
    colors: torch.Tensor

    @property
    def visible(self) -> torch.Tensor:
        """[N] bool: not culled."""
        return (self.radii > 0).all(dim=-1)


def sh_colors(sh: torch.Tensor, sh_degree: int, dirs: torch.Tensor) -> torch.Tensor:
    """View-dependent RGB (SPEC 13.4, R-85): ``max(0, sum_k Y_k(normalize(dir)) c_k + 0.5)`` with
    the real SH bases of gsplat / 3DGS to degree 3 (Y_0 = 0.28209479177387814)."""
    k = (sh_degree + 1) ** 2
    if sh_degree == 0:
        bases = torch.full((dirs.shape[0], 1), 0.2820947917738781, dtype=dirs.dtype)
    else:
        d = torch.nn.functional.normalize(dirs, p=2, dim=-1)
        bases = _eval_sh_bases_fast(k, d)
    rgb = (bases[..., None] * sh[:, :k, :]).sum(dim=-2)
    return torch.clamp_min(rgb + 0.5, 0.0)


def project(
    g: GaussianTensors,
    camera: Camera,
    eps2d: float = EPS2D,
    near_plane: float = NEAR_PLANE,
    far_plane: float = FAR_PLANE,
    radius_clip: float = RADIUS_CLIP,
) -> Projected:
    """Project the Gaussians into ``camera`` (SPEC 13.4, R-84) and colour them (R-85).

    A Gaussian is culled (radii 0) when its depth is outside [near, far], its dilated 2D
    covariance has det <= 0, its opacity is below 1/255, both radii are <= ``radius_clip``, or
    its bounding box misses the image.
    """
    dev = g.means.device
    viewmat = torch.from_numpy(camera.viewmat().astype(np.float32)).to(dev)
    ks = torch.from_numpy(camera.intrinsics().astype(np.float32)).to(dev)
    w, h = camera.width, camera.height
    covars, _ = _quat_scale_to_covar_preci(g.quats, g.scales, compute_covar=True, compute_preci=False)
    means_c, covars_c = _world_to_cam(g.means, covars, viewmat[None])
    means2d, cov2d = _persp_proj(means_c, covars_c, ks[None], w, h)
    means_c, means2d, cov2d = means_c[0], means2d[0], cov2d[0]
    depths = means_c[:, 2]

    a = cov2d[:, 0, 0] + eps2d  # the dilation
    c = cov2d[:, 1, 1] + eps2d
    b = cov2d[:, 0, 1]
    det = a * c - b * cov2d[:, 1, 0]
    safe = torch.where(det > 0, det, torch.ones_like(det))
    conics = torch.stack([c / safe, -b / safe, a / safe], dim=-1)

    op = g.opacities
    extend = torch.clamp_max(torch.sqrt(2.0 * torch.log(torch.clamp_min(op, ALPHA_MIN) / ALPHA_MIN)), EXTEND_MAX)
    rx = torch.ceil(extend * torch.sqrt(torch.clamp_min(a, 0.0)))
    ry = torch.ceil(extend * torch.sqrt(torch.clamp_min(c, 0.0)))
    mx, my = means2d[:, 0], means2d[:, 1]
    ok = (depths >= near_plane) & (depths <= far_plane) & (det > 0) & (op >= ALPHA_MIN)
    ok &= ~((rx <= radius_clip) & (ry <= radius_clip))
    ok &= ~((mx + rx <= 0) | (mx - rx >= w) | (my + ry <= 0) | (my - ry >= h))
    ok &= torch.isfinite(mx) & torch.isfinite(my) & torch.isfinite(rx) & torch.isfinite(ry)
    radii = torch.where(ok[:, None], torch.stack([rx, ry], -1), torch.zeros_like(means2d)).to(torch.int32)

    campos = torch.from_numpy(camera.position.astype(np.float32)).to(dev)
    colors = sh_colors(g.sh, g.sh_degree, g.means - campos)
    return Projected(means2d, conics, depths, radii, op, colors)
