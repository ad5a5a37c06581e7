"""The CPU rasterizer against a dense float64 oracle of the render equation (SPEC 13.4, R-84..R-87).

The oracle below is written from the equations, independently of refcodec.render: no tiles, no
bounding boxes, no culling other than the near/far planes (a Gaussian the renderer culls for its
opacity or its bounding box has alpha < 1/255 everywhere in the image, so the alpha rule skips it
here), every Gaussian evaluated at every pixel centre, front to back by depth, in float64.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("gsplat")
# One torch thread per test process: the suite runs under pytest-xdist on 2 cores, and
# oversubscribed OpenMP threads make small renders many times slower.
torch.set_num_threads(1)

from refcodec.avatar.model import SH_REST_COUNT, Gaussians  # noqa: E402
from refcodec.render import Camera, render_gaussians  # noqa: E402

# ------------------------------------------------------------------------------ the oracle
SH_C0 = 0.28209479177387814
SH_C1 = 0.4886025119029199
SH_C2 = (1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396)
SH_C3 = (-0.5900435899266435, 2.890611442640554, -0.4570457994644658, 0.3731763325901154, -0.4570457994644658, 1.445305721320277, -0.5900435899266435)


def quat_matrix(q: np.ndarray) -> np.ndarray:
    w, x, y, z = q / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def sh_basis(d: np.ndarray, degree: int) -> np.ndarray:
    """The 3DGS real SH basis (Inria's constants) at unit direction d, (degree+1)^2 values."""
    x, y, z = d
    out = [SH_C0]
    if degree >= 1:
        out += [-SH_C1 * y, SH_C1 * z, -SH_C1 * x]
    if degree >= 2:
        xx, yy, zz = x * x, y * y, z * z
        out += [SH_C2[0] * x * y, SH_C2[1] * y * z, SH_C2[2] * (2 * zz - xx - yy), SH_C2[3] * x * z, SH_C2[4] * (xx - yy)]
    if degree >= 3:
        xx, yy, zz = x * x, y * y, z * z
        out += [
            SH_C3[0] * y * (3 * xx - yy),
            SH_C3[1] * x * y * z,
            SH_C3[2] * y * (4 * zz - xx - yy),
            SH_C3[3] * z * (2 * zz - 3 * xx - 3 * yy),
            SH_C3[4] * x * (4 * zz - xx - yy),
            SH_C3[5] * z * (xx - yy),
            SH_C3[6] * x * (xx - 3 * yy),
        ]
    return np.array(out)


def render_dense(
    pos, quat, log_scale, opacity_logit, sh, degree, c2w_gl, fx, fy, cx, cy, width, height, background, eps2d=0.3, near=0.01, far=1e10
) -> np.ndarray:
    """[height, width, 3] float64 image of N Gaussians (sh: [N, (degree+1)^2, 3]), clamped to [0, 1]."""
    w2c = np.diag([1.0, -1.0, -1.0, 1.0]) @ np.linalg.inv(np.asarray(c2w_gl, np.float64))  # OpenGL -> OpenCV camera
    rv, tv = w2c[:3, :3], w2c[:3, 3]
    campos = np.asarray(c2w_gl, np.float64)[:3, 3]
    frags = []
    for i in range(len(pos)):
        p = rv @ pos[i] + tv
        if not near <= p[2] <= far:
            continue
        r = quat_matrix(np.asarray(quat[i], np.float64))
        s = np.diag(np.exp(np.asarray(log_scale[i], np.float64)))
        cov = rv @ (r @ s @ s @ r.T) @ rv.T
        # Jacobian at the position clamped to 1.3x the half field of view (gsplat's persp_proj).
        limx_pos, limx_neg = (width - cx) / fx + 0.3 * width / 2 / fx, cx / fx + 0.3 * width / 2 / fx
        limy_pos, limy_neg = (height - cy) / fy + 0.3 * height / 2 / fy, cy / fy + 0.3 * height / 2 / fy
        tx = p[2] * min(max(p[0] / p[2], -limx_neg), limx_pos)
        ty = p[2] * min(max(p[1] / p[2], -limy_neg), limy_pos)
        j = np.array([[fx / p[2], 0, -fx * tx / p[2] ** 2], [0, fy / p[2], -fy * ty / p[2] ** 2]])
        cov2 = j @ cov @ j.T + eps2d * np.eye(2)
        conic = np.linalg.inv(cov2)
        mean = np.array([fx * p[0] / p[2] + cx, fy * p[1] / p[2] + cy])
        d = pos[i] - campos
        rgb = np.maximum(sh_basis(d / np.linalg.norm(d), degree) @ np.asarray(sh[i], np.float64) + 0.5, 0.0)
        frags.append((p[2], i, mean, conic, 1 / (1 + np.exp(-float(opacity_logit[i]))), rgb))
    frags.sort(key=lambda f: (f[0], f[1]))
    px, py = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    t = np.ones((height, width))
    done = np.zeros((height, width), bool)
    color = np.zeros((height, width, 3))
    for _, _, mean, conic, op, rgb in frags:
        dx, dy = mean[0] - px, mean[1] - py
        sigma = 0.5 * (conic[0, 0] * dx * dx + conic[1, 1] * dy * dy) + conic[0, 1] * dx * dy
        alpha = np.minimum(0.999, op * np.exp(-sigma))
        use = ~done & (sigma >= 0) & (alpha >= 1 / 255)
        t_next = t * (1 - alpha)
        stop = use & (t_next <= 1e-4)
        done |= stop
        use &= ~stop
        color += np.where(use, alpha * t, 0.0)[..., None] * rgb
        t = np.where(use, t_next, t)
    return np.clip(color + t[..., None] * np.asarray(background, np.float64), 0.0, 1.0)


# ------------------------------------------------------------------------------ the tests
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


def test_parallel_chunks_give_the_same_image():
    """With 2 torch threads the chunks run on a thread pool; the image is bit-identical."""
    g = random_scene(9, 120, 2)
    cam = camera(64, 48)
    one = render_gaussians(g, cam, backend="cpu", block=8, budget=8 * 256 * 2)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        two = render_gaussians(g, cam, backend="cpu", block=8, budget=8 * 256 * 2)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(one, two)
    assert np.max(np.abs(two.numpy() - oracle(g, cam))) < 2e-5
