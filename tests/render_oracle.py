"""A dense, untiled evaluation of the render equation of SPEC 13.4 (R-84..R-87), in float64.

Written from the equations, independently of refcodec.render: no tiles, no bounding boxes, no
culling other than the near/far planes (a Gaussian the renderer culls for its opacity or its
bounding box has alpha < 1/255 everywhere in the image, so the alpha rule skips it here), every
Gaussian evaluated at every pixel centre, front to back by depth.
"""

from __future__ import annotations

import numpy as np

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
