"""Image quality measures for render conformance and benchmarks (SPEC 13.5, R-89)."""

from __future__ import annotations

import math

import torch


def psnr(a: torch.Tensor, b: torch.Tensor, peak: float = 1.0) -> float:
    """PSNR in dB of two images of the same shape, ``10 log10(peak^2 / MSE)`` over all samples
    (float64 accumulation); ``inf`` when they are equal."""
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
    mse = float(((a.double() - b.double()) ** 2).mean())
    return math.inf if mse == 0.0 else 10.0 * math.log10(peak * peak / mse)


def ssim(a: torch.Tensor, b: torch.Tensor, peak: float = 1.0) -> float:
    """Mean SSIM (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03) of two
    [H, W, C] images, averaged over channels; 'valid' windows only (images at least 11x11)."""
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
    # binary32 convolutions (binary64 ones are ten times slower); the second moments are taken
    # about each channel's image mean, which keeps their cancellation error near 1e-7.
    x = a.float().permute(2, 0, 1)[:, None]
    y = b.float().permute(2, 0, 1)[:, None]
    k = torch.arange(11, dtype=torch.float32) - 5
    g = torch.exp(-(k**2) / (2 * 1.5**2))
    g = g / g.sum()

    def blur(t: torch.Tensor) -> torch.Tensor:  # the separable 11x11 window: rows, then columns
        return torch.nn.functional.conv2d(torch.nn.functional.conv2d(t, g.view(1, 1, 1, 11)), g.view(1, 1, 11, 1))

    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    xc = x - x.mean(dim=(2, 3), keepdim=True)
    yc = y - y.mean(dim=(2, 3), keepdim=True)
    mx, my = blur(x).double(), blur(y).double()
    mxc, myc = blur(xc).double(), blur(yc).double()
    sxx = blur(xc * xc).double() - mxc * mxc
    syy = blur(yc * yc).double() - myc * myc
    sxy = blur(xc * yc).double() - mxc * myc
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return float(s.mean())


def render_psnr(reference, test, params, camera=None, backend: str = "auto") -> list[tuple[float, float]]:
    """(PSNR, SSIM) per frame of ``test`` against ``reference``: two (avatar, params) renders.

    Args:
        reference, test: avatars (the same avatar twice compares two parameter sets).
        params: either one [T, D] array used for both, or a pair (reference [T, D], test [T, D]).
    """
    from .renderer import Renderer

    ref_params, test_params = params if isinstance(params, tuple) else (params, params)
    r_ref = Renderer(reference, backend=backend, camera=camera)
    r_test = r_ref if test is reference else Renderer(test, backend=backend, camera=camera)
    out = []
    for a, b in zip(ref_params, test_params, strict=True):
        ia, ib = r_ref.render(a), r_test.render(b)
        out.append((psnr(ib, ia), ssim(ib, ia)))
    return out


def psnr_drop_check(reference, decoded, frames: int = 3) -> dict:
    """Render PSNR of a decoded (compressed) avatar against the uncompressed one (SPEC 13.5, R-89):
    the neutral pose plus ``frames`` frames spread over the bundled LAM track when it exists."""
    import numpy as np

    dims = sum(d for _, d in reference.layout)
    params = [np.zeros(dims, np.float32)]
    from pathlib import Path

    track = Path(__file__).resolve().parents[2] / "samples" / "lam_p2-1" / "test_expression_1s.json"
    if frames and track.exists() and reference.layout:
        from .inputs import track_frames

        values = track_frames(track, reference).values
        params += [values[i] for i in np.linspace(0, len(values) - 1, frames).round().astype(int)]
    scores = render_psnr(reference, decoded, np.stack(params))
    finite = [p for p, _ in scores if math.isfinite(p)]
    return {
        "frames": len(scores),
        "psnr_min": min(p for p, _ in scores),
        "psnr_mean": sum(finite) / len(finite) if finite else math.inf,
        "ssim_mean": sum(s for _, s in scores) / len(scores),
    }
