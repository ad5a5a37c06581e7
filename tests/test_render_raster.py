"""The CPU rasterizer against the dense float64 oracle of tests/render_oracle.py (SPEC 13.4)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("gsplat")

from render_oracle import render_dense  # noqa: E402

from refcodec.avatar.model import SH_REST_COUNT, Gaussians  # noqa: E402
from refcodec.render import Camera, render_gaussians  # noqa: E402


def random_scene(seed: int, n: int, degree: int, opaque: bool = False) -> Gaussians:
    """N Gaussians in a box 2-4 m in front of a camera at the origin looking down -z."""
    rng = np.random.default_rng(seed)
    pos = np.stack([rng.uniform(-0.6, 0.6, n), rng.uniform(-0.6, 0.6, n), rng.uniform(-4.0, -2.0, n)], 1)
    rot = rng.normal(size=(n, 4))
    log_scale = rng.uniform(np.log(0.005), np.log(0.25), (n, 3))
    logit = rng.uniform(3.0, 8.0, n) if opaque else rng.uniform(-4.0, 4.0, n)
    dc = rng.normal(0, 0.8, (n, 3))
    rest = rng.normal(0, 0.3, (n, SH_REST_COUNT[degree], 3))
    f = np.float32
    return Gaussians(pos.astype(f), rot.astype(f), log_scale.astype(f), logit.astype(f), dc.astype(f), rest.astype(f), degree)


def oracle(g: Gaussians, cam: Camera) -> np.ndarray:
    sh = np.concatenate([g.sh_dc[:, None], g.sh_rest], 1)
    return render_dense(
        g.positions.astype(np.float64),
        g.rotations,
        g.log_scales,
        g.opacity_logits,
        sh,
        g.sh_degree,
        cam.camera_to_world,
        cam.fx,
        cam.fy,
        cam.cx,
        cam.cy,
        cam.width,
        cam.height,
        cam.background,
    )


def camera(width: int, height: int, background=(0.2, 0.3, 0.4), pose=None) -> Camera:
    return Camera(width, height, 0.9 * width, 0.9 * width, width / 2 + 1.3, height / 2 - 0.7, np.eye(4) if pose is None else pose, background)


@pytest.mark.parametrize("seed,degree", [(1, 0), (2, 1), (3, 2), (4, 3)])
def test_matches_dense_oracle(seed, degree):
    g = random_scene(seed, 60, degree)
    cam = camera(53, 37)  # not a multiple of the tile size: partial edge tiles
    img = render_gaussians(g, cam, backend="cpu").numpy()
    ref = oracle(g, cam)
    assert img.shape == (37, 53, 3) and img.dtype == np.float32
    assert np.max(np.abs(img - ref)) < 2e-5


@pytest.mark.parametrize("block,budget", [(1, 256), (3, 2048), (64, 1 << 19)])
def test_block_and_chunk_sizes_do_not_change_the_image(block, budget):
    """Saturating opaque layers (transmittance stop) across block and chunk boundaries."""
    g = random_scene(7, 150, 1, opaque=True)
    cam = camera(40, 40, (1.0, 1.0, 1.0))
    ref = oracle(g, cam)
    img = render_gaussians(g, cam, backend="cpu", block=block, budget=budget).numpy()
    assert np.max(np.abs(img - ref)) < 2e-5


def test_rotated_camera_and_gaussians_behind_it():
    g = random_scene(11, 80, 2)
    g.positions[:10, 2] *= -1.0  # behind the camera: the near plane removes them
    pose = np.eye(4)
    a = np.radians(8.0)
    pose[:3, :3] = [[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]]
    pose[:3, 3] = [0.1, -0.05, 0.3]
    cam = camera(48, 32, (0.0, 0.0, 0.0), pose)
    assert np.max(np.abs(render_gaussians(g, cam, backend="cpu").numpy() - oracle(g, cam))) < 2e-5


def test_empty_view_is_background():
    g = random_scene(5, 20, 0)
    g.positions[:, 2] = 5.0  # all behind the camera
    cam = camera(20, 18, (0.25, 0.5, 0.75))
    img = render_gaussians(g, cam, backend="cpu").numpy()
    assert np.array_equal(img, np.broadcast_to(np.float32([0.25, 0.5, 0.75]), (18, 20, 3)))


def test_single_gaussian_centre_pixel_by_hand():
    """One isotropic Gaussian straight ahead: the centre pixel is alpha * colour + (1 - alpha) * bg.

    sigma_3d = 0.1 m at 2 m with f = 100 px: the 2D variance is (100 * 0.1 / 2)^2 + 0.3 = 25.3 px^2;
    the pixel centre (10.5, 10.5) is 0.5 px from the mean (10, 10) in x and y, so
    sigma = 0.5 * (0.25 + 0.25) / 25.3; opacity 0.5; colour 0.5 + C0 * dc with dc = 1.
    """
    g = Gaussians.empty(1)
    g.positions[0] = [0.0, 0.0, -2.0]
    g.log_scales[0] = np.log(0.1)
    g.sh_dc[0] = 1.0
    cam = Camera(20, 20, 100.0, 100.0, 10.0, 10.0, np.eye(4), (0.0, 0.0, 0.0))
    img = render_gaussians(g, cam, backend="cpu").numpy()
    alpha = 0.5 * np.exp(-0.5 * 0.5 / 25.3)
    colour = 0.5 + 0.28209479177387814
    assert img[10, 10] == pytest.approx([alpha * colour] * 3, abs=2e-6)
    # Symmetric about the mean (10, 10): pixel (9, 9) has centre (9.5, 9.5), the same distance.
    assert np.allclose(img[9, 9], img[10, 10], atol=1e-6)
