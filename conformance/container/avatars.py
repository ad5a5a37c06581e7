"""Payload dicts of the small avatars the container vectors are made of (deterministic).

Two sources: hand-written payloads (every value chosen here, raw binary32 or quantized with
integers chosen here) and the reference encoder's payloads for small generated avatars
(``refcodec.fca.codec.avatar_sections``: its integers, ranges and binary16 weights are the
input of the expected-output computation; the file bytes are written by
:mod:`conformance.container.writer`, not by the reference writer).
"""

from __future__ import annotations

import numpy as np

from .writer import Sec

ARKIT52, HEAD_ROTATION, JAW = 2, 3, 5


def meta(n: int = 1, sh: int = 0, layout=(), size=(64, 48), focal=(50.0, 50.0), principal=(32.0, 24.0), c2w=None, bg=(1.0, 1.0, 1.0)) -> dict:
    """A META payload (SPEC 11.4)."""
    if c2w is None:
        c2w = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2]
    return {
        "gaussian_count": n,
        "sh_degree": sh,
        "convention": 0,
        "meta_reserved_16bits": 0,
        "layout_groups": [{"layout_semantic": s, "layout_dims": d} for s, d in layout],
        "render_width": size[0],
        "render_height": size[1],
        "focal_x": focal[0],
        "focal_y": focal[1],
        "principal_x": principal[0],
        "principal_y": principal[1],
        "camera_to_world": np.asarray(c2w, np.float32),
        "background": np.asarray(bg, np.float32),
    }


def raw_block(values) -> dict:
    """A q_bits = 32 block: binary32 values as they are, channel-major."""
    return {"q_bits": 32, "q_values": np.asarray(values, np.float32).reshape(-1)}


def qblock(bits: int, lo, hi, q) -> dict:
    """A quantized block from chosen ranges and integer samples [C, N]."""
    return {
        "q_bits": bits,
        "q_min": np.asarray(lo, np.float32),
        "q_max": np.asarray(hi, np.float32),
        "q_values": np.asarray(q, np.uint16).reshape(-1),
    }


def attr(attr_id: int, block: dict) -> dict:
    return {"attribute_id": attr_id, "attribute": block}


def minimal_sections(zstd_meta: bool = False) -> list[Sec]:
    """One static Gaussian, every attribute raw binary32 (values chosen here)."""
    return [
        Sec(b"META", meta(), zstd=zstd_meta),
        Sec(b"ATTR", attr(0, raw_block([0.5, -1.0, 2.0]))),
        Sec(b"ATTR", attr(1, raw_block([0.1, 0.2, 0.3]))),
        Sec(b"ATTR", attr(2, raw_block([-4.0, -4.5, -5.0]))),
        Sec(b"ATTR", attr(3, raw_block([1.0, 0.0, 0.0, 0.0]))),
        Sec(b"ATTR", attr(4, raw_block([2.0]))),
    ]


def static_attrs(n: int, sh: int, seed: int, bits: dict[int, int] | None = None) -> list[Sec]:
    """ATTR sections of ``n`` Gaussians with integer samples drawn here (bits per attribute id)."""
    rng = np.random.RandomState(seed)
    bits = bits or {}
    chans = {0: 3, 1: 3, 2: 3, 3: 4, 4: 1, 5: 3 * ((sh + 1) ** 2 - 1)}
    ranges = {0: (-0.05, 0.05), 1: (-1.0, 1.5), 2: (-6.0, -3.5), 3: (-1.0, 1.0), 4: (-2.0, 4.0), 5: (-0.2, 0.2)}
    out = []
    for a in range(6):
        c = chans[a]
        if c == 0:
            continue
        b = bits.get(a, 8)
        lo, hi = ranges[a]
        if b == 32:
            vals = rng.uniform(lo, hi, (c, n)).astype(np.float32)
            if a == 3:
                vals[0] = np.abs(vals[0]) + 0.5
            out.append(Sec(b"ATTR", attr(a, raw_block(vals))))
            continue
        q = rng.randint(0, 1 << b, (c, n))
        if a == 3:
            q[0] = (1 << b) - 1  # w at the top of its range: a well-defined rotation
        los = np.full(c, lo, np.float32) + np.float32(0.01) * np.arange(c, dtype=np.float32)
        out.append(Sec(b"ATTR", attr(a, qblock(b, los, np.full(c, hi, np.float32), q))))
    return out


# --------------------------------------------------------------------------- encoder-made avatars
def encoder_sections(avatar, config, zstd: bool | None = None) -> list[Sec]:
    """The reference encoder's payload dicts for ``avatar`` (its choices of integers and ranges)."""
    from refcodec.fca.codec import avatar_sections

    z = config.compress if zstd is None else zstd
    return [Sec(s.type, _plain(s.payload), zstd=z) for s in avatar_sections(avatar, config)]


def _plain(p):
    """Payload dicts with lists of dicts kept and arrays copied (the writer mutates nothing)."""
    if isinstance(p, dict):
        return {k: _plain(v) for k, v in p.items()}
    if isinstance(p, list):
        return [_plain(x) for x in p]
    return p


def small_avatar(seed: int, n: int = 24, v: int = 10, mode: str = "vertex", sh: int = 1, skeleton: bool = True, cmap: bool = True):
    """A small avatar using every embedded feature (morphs, skeleton, coefficient map, drivers)."""
    from refcodec.avatar.model import Avatar, Binding, CoefficientMap, DeformationModel, Gaussians, MorphTargets, RenderDefaults, Skeleton

    rng = np.random.RandomState(seed)
    verts = rng.normal(0, 0.05, (v, 3)).astype(np.float32)
    tris = np.array([[i, (i + 1) % v, (i + 2) % v] for i in range(v - 2)], np.int32)
    dense = np.zeros((3, v, 3), np.float32)
    dense[0, [1, 4, 7]] = rng.normal(0, 0.01, (3, 3))
    dense[1, [0, v - 1]] = rng.normal(0, 0.01, (2, 3))
    dense[2, 3] = rng.normal(0, 0.01, 3)
    morphs = MorphTargets.from_dense(["jawOpen", "mouthClose", "eyeBlinkLeft"], dense)
    skel = None
    if skeleton:
        rest = np.tile(np.eye(4, dtype=np.float32), (2, 1, 1))
        rest[1, :3, 3] = [0.0, 0.1, 0.0]
        inv = np.tile(np.eye(4, dtype=np.float32), (2, 1, 1))
        inv[1, :3, 3] = [0.0, -0.1, 0.0]
        joints = np.zeros((v, 4), np.int32)
        joints[:, 1] = 1
        w = np.zeros((v, 4), np.float32)
        w[:, 0] = rng.uniform(0, 1, v).astype(np.float32)
        w[:, 1] = 1 - w[:, 0]
        skel = Skeleton(["neck", "head"], np.array([-1, 0], np.int32), rest, inv, joints, w)
    cm = CoefficientMap("ARKIT52", rng.normal(size=(3, 52)).astype(np.float32) * 0.2, rng.normal(size=3).astype(np.float32) * 0.1) if cmap else None
    drivers = {"JAW": "head"} if skeleton else {}
    d = DeformationModel(verts, tris, morphs, skel, cm, drivers, np.array([0.0, 0.05, 0.0], np.float32))
    if mode == "vertex":
        b = Binding("vertex", rng.randint(0, v, n))
    else:
        b = Binding("triangle", rng.randint(0, len(tris), n), rng.dirichlet([1, 1, 1], n).astype(np.float32))
    g = Gaussians.empty(n, sh)
    g.positions = rng.normal(0, 0.01, (n, 3)).astype(np.float32)
    g.rotations = rng.normal(size=(n, 4)).astype(np.float32)
    g.log_scales = rng.uniform(-4.5, -3.0, (n, 3)).astype(np.float32)
    g.opacity_logits = rng.normal(1, 2, n).astype(np.float32)
    g.sh_dc = rng.normal(0, 1, (n, 3)).astype(np.float32)
    g.sh_rest = rng.normal(0, 0.1, g.sh_rest.shape).astype(np.float32)
    c2w = np.eye(4, dtype=np.float32)
    c2w[:3, 3] = [0, 0, 0.4]
    render = RenderDefaults(64, 64, 90.0, 90.0, 32.0, 32.0, c2w, (0.0, 0.2, 0.4))
    layout = [("ARKIT52", 52), ("HEAD_ROTATION", 3), ("JAW", 3)]
    return Avatar(g, d, b, layout, render, {"source": "conformance", "licence": "CC0 ✓"})


def subdivided_avatar(seed: int, levels: int = 1, n: int = 30, skeleton: bool = True):
    """A small avatar whose mesh is R-154's subdivision of a 7-vertex base (the independent model's
    numbering), with vertices and morph targets near the parents' mean, so an encoder may use DEFS."""
    from refcodec.avatar.model import MorphTargets

    from .subdivision import subdivide

    rng = np.random.RandomState(seed)
    base = [(0, 1, 2), (0, 2, 3), (0, 3, 4), (0, 4, 5), (0, 5, 6), (0, 6, 1)]  # a hexagonal fan
    parents, triangles = subdivide(base, 7, levels)
    verts = list(rng.normal(0, 0.05, (7, 3)))
    dense = [list(rng.normal(0, 0.01, (7, 3)) * (rng.uniform(size=(7, 1)) < 0.5)) for _ in range(3)]
    for level in parents:
        for a, b in level:
            verts.append((verts[a] + verts[b]) / 2 + rng.normal(0, 1e-4, 3))
            for target in dense:
                target.append((target[a] + target[b]) / 2 + rng.normal(0, 2e-4, 3) * (rng.uniform() < 0.3))
    avatar = small_avatar(seed, n=n, v=len(verts), skeleton=skeleton)
    d = avatar.deformation
    d.vertices = np.asarray(verts, np.float32)
    d.triangles = np.asarray(triangles, np.int32)
    d.morphs = MorphTargets.from_dense(d.morphs.names, np.asarray(dense, np.float32))
    return avatar
