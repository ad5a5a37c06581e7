"""Small avatars for container tests (deterministic)."""

from __future__ import annotations

import numpy as np

from refcodec.avatar.model import (
    Avatar,
    Binding,
    CoefficientMap,
    DeformationModel,
    Gaussians,
    MorphTargets,
    RenderDefaults,
    Skeleton,
)


def gaussians(rng: np.random.Generator, n: int, sh_degree: int = 0) -> Gaussians:
    g = Gaussians.empty(n, sh_degree)
    g.positions = rng.normal(0, 0.01, (n, 3)).astype(np.float32)
    g.rotations = rng.normal(size=(n, 4)).astype(np.float32)
    g.log_scales = rng.uniform(-7, -3, (n, 3)).astype(np.float32)
    g.opacity_logits = rng.normal(0, 3, n).astype(np.float32)
    g.sh_dc = rng.normal(0, 1, (n, 3)).astype(np.float32)
    g.sh_rest = rng.normal(0, 0.1, g.sh_rest.shape).astype(np.float32)
    return g


def skeleton(rng: np.random.Generator, v: int) -> Skeleton:
    rest = np.tile(np.eye(4, dtype=np.float32), (2, 1, 1))
    rest[1, :3, 3] = [0.0, 0.1, 0.0]
    inv = np.tile(np.eye(4, dtype=np.float32), (2, 1, 1))
    inv[1, :3, 3] = [0.0, -0.1, 0.0]
    joints = np.zeros((v, 4), np.int32)
    joints[:, 1] = 1
    w = np.zeros((v, 4), np.float32)
    w[:, 0] = rng.uniform(0, 1, v).astype(np.float32)
    w[:, 1] = 1 - w[:, 0]
    return Skeleton(["neck", "head"], np.array([-1, 0], np.int32), rest, inv, joints, w)


def full_avatar(
    seed: int = 0, n: int = 40, v: int = 12, mode: str = "vertex", sh_degree: int = 1, with_skeleton: bool = True, with_map: bool = True
) -> Avatar:
    """An avatar that uses every embedded feature: morphs, skeleton, coefficient map, drivers."""
    rng = np.random.default_rng(seed)
    verts = rng.normal(0, 0.1, (v, 3)).astype(np.float32)
    tris = np.array([[i, (i + 1) % v, (i + 2) % v] for i in range(max(v - 2, 1))], np.int32)
    dense = np.zeros((3, v, 3), np.float32)
    dense[0, [1 % v, 4 % v, 7 % v]] = rng.normal(0, 0.01, (3, 3))
    dense[1, [0, v - 1]] = rng.normal(0, 0.01, (2, 3))
    morphs = MorphTargets.from_dense(["jawOpen", "mouthClose", "eyeBlinkLeft"], dense)
    layout = [("ARKIT52", 52), ("HEAD_ROTATION", 3), ("JAW", 3)]
    skel = skeleton(rng, v) if with_skeleton else None
    cmap = CoefficientMap("ARKIT52", rng.normal(size=(3, 52)).astype(np.float32), rng.normal(size=3).astype(np.float32)) if with_map else None
    drivers = {"JAW": "head"} if with_skeleton else {}
    d = DeformationModel(verts, tris, morphs, skel, cmap, drivers, np.array([0.0, 0.05, 0.0], np.float32))
    if mode == "vertex":
        b = Binding("vertex", rng.integers(0, v, n))
    elif mode == "triangle":
        bary = rng.dirichlet([1, 1, 1], n).astype(np.float32)
        b = Binding("triangle", rng.integers(0, len(tris), n), bary)
    else:
        b, d = Binding(), None
    c2w = np.eye(4, dtype=np.float32)
    c2w[:3, 3] = [0, 0, 0.6]
    render = RenderDefaults(256, 192, 300.0, 310.0, 128.0, 96.0, c2w, (0.0, 0.5, 1.0))
    return Avatar(gaussians(rng, n, sh_degree), d, b, layout if d is not None else [], render, {"source": "test", "licence": "MIT ✓"})
