"""Import a LAM avatar (aigc3d/LAM, as exported for aigc3d/LAM_WebRender) into an :class:`Avatar`.

A LAM avatar zip holds (docs/avatar-model.md has the evidence for each point):

- ``skin.glb``: the canonical head mesh (V vertices, metres, +y up, face towards +z) with
  ARKit-named morph targets (names in ``meshes[0].extras.targetNames``, sparse accessors)
  and a body skin of which only a few joints carry weight;
- ``offset.ply``: one Gaussian per mesh vertex, **row i belongs to vertex i**. ``x y z`` is
  the offset from the vertex in canonical space, ``f_dc_*`` is **RGB in [0, 1]** (LAM
  predicts colours, ``gs_use_rgb``, and saves them with ``rgb2sh=False``), then the usual
  opacity logit, log-scales and w,x,y,z quaternion;
- ``vertex_order.json``: the vertices sorted by height, not used for placement;
- ``animation.glb``: body clips, not imported.

The result binds Gaussian i to vertex i (vertex mode): LAM deforms ``vertex + offset`` as a
point with the vertex's morph deltas and skinning, which for an affine per-vertex skinning
equals our ``x = v'' + A @ offset`` (refcodec.avatar.deform).  Colours are converted to SH
DC (``(rgb - 0.5) / C0``) so that ``0.5 + C0 * sh_dc`` gives LAM's colour back.
"""

from __future__ import annotations

import io
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from .gltf import Gltf
from .model import Avatar, Binding, DeformationModel, MorphTargets, RenderDefaults, Skeleton
from .ply import read_ply_gaussians

SH_C0 = 0.28209479177387814
"""Degree-0 real SH constant 1 / (2 sqrt(pi)), as in 3DGS."""

MAX_MEMBER_BYTES = 64 * 1024 * 1024
"""Largest zip member read (the real skin.glb is 3.6 MB); checked before decompressing."""

MAX_INFLUENCES = 4
LAYOUT = [("ARKIT52", 52), ("HEAD_ROTATION", 3)]
SOURCE = "aigc3d/LAM_WebRender @ 12174e9, asset/arkit/p2-1.zip (a LAM avatar)"
LICENCE = "MIT (LAM_WebRender LICENSE.txt, copyright 2023 Mark Kellogg)"


class LamFormatError(ValueError):
    """The zip is not a LAM avatar this importer understands; names the member and field."""

    def __init__(self, member: str, field_name: str, message: str):
        self.member = member
        self.field = field_name
        super().__init__(f"LAM {member} {field_name}: {message}")


@dataclass
class LamImportReport:
    """Facts measured while importing (for the benchmark and the docs)."""

    vertex_count: int = 0
    triangle_count: int = 0
    target_count: int = 0
    morph_sparse_count: int = 0
    """Sum over targets of the glTF sparse ``count`` (entries stored in the file)."""
    morph_nnz: int = 0
    """Sum over targets of vertices with a non-zero delta (entries kept)."""
    skin_joint_count: int = 0
    kept_joints: list[str] = field(default_factory=list)
    weight_max_error: float = 0.0
    """Max |w_kept - w_file| over every (vertex, joint) after truncation to 4 influences and renormalisation."""
    weight_sum_max_error: float = 0.0
    """Max |sum(w_file) - 1| over vertices, before renormalisation."""
    rest_skinning_max_offset: float = 0.0
    """Max |LBS_rest(v) - v| in metres (the file's inverse bind matrices vs its rest pose)."""
    seconds: float = 0.0


# ------------------------------------------------------------------------------- zip members
def _read_members(path: str | Path, wanted: tuple[str, ...]) -> dict[str, bytes]:
    """The members named ``wanted`` (by base name, in any folder; macOS ``__MACOSX`` and ``._``
    resource forks are ignored), each at most MAX_MEMBER_BYTES."""
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise LamFormatError(str(path), "zip", f"not a zip file ({exc})") from exc
    found: dict[str, zipfile.ZipInfo] = {}
    with zf:
        for info in zf.infolist():
            p = PurePosixPath(info.filename)
            if info.is_dir() or "__MACOSX" in p.parts or p.name.startswith("._") or p.name not in wanted:
                continue
            if p.name in found:
                raise LamFormatError(p.name, "zip", f"appears twice ({found[p.name].filename}, {info.filename})")
            found[p.name] = info
        out = {}
        for name in wanted:
            info = found.get(name)
            if info is None:
                raise LamFormatError(name, "zip", "missing from the archive")
            if info.file_size > MAX_MEMBER_BYTES:
                raise LamFormatError(name, "zip", f"{info.file_size} bytes exceeds the limit of {MAX_MEMBER_BYTES}")
            out[name] = zf.read(info)
    return out


# ------------------------------------------------------------------------------- morph targets
def morph_targets(gltf: Gltf, mesh_index: int = 0) -> tuple[MorphTargets, int]:
    """Sparse morph targets (POSITION deltas) of a single-primitive mesh, and the number of
    sparse entries stored in the file.  Vertices whose delta is exactly zero are dropped."""
    mesh = gltf.json["meshes"][mesh_index]
    prim = mesh["primitives"][0]
    targets = prim.get("targets", [])
    names = (mesh.get("extras") or {}).get("targetNames")
    if names is None:
        names = [f"target{t}" for t in range(len(targets))]
    if len(names) != len(targets):
        raise LamFormatError("skin.glb", "extras.targetNames", f"{len(names)} names for {len(targets)} targets")
    indices, deltas, stored = [], [], 0
    for target in targets:
        acc = target["POSITION"]
        sparse = gltf.sparse_accessor(acc)
        if sparse is None:
            dense = gltf.accessor(acc).astype(np.float32)
            idx = np.arange(dense.shape[0])
            vals = dense
            stored += dense.shape[0]
        else:
            idx, vals = sparse
            stored += idx.shape[0]
            if idx.size and (np.any(np.diff(idx) <= 0) or idx[-1] >= gltf.json["accessors"][acc]["count"]):
                raise LamFormatError("skin.glb", f"accessors[{acc}].sparse.indices", "must be strictly increasing and < count")
        keep = np.any(vals != 0.0, axis=1)
        indices.append(idx[keep].astype(np.int32))
        deltas.append(np.ascontiguousarray(vals[keep], dtype=np.float32))
    return MorphTargets(list(names), indices, deltas), stored


# ------------------------------------------------------------------------------------ skinning
def _preorder(gltf: Gltf) -> list[int]:
    """Node indices in depth-first pre-order (a parent always precedes its children)."""
    parents = gltf.node_parents()
    nodes = gltf.json.get("nodes", [])
    order: list[int] = []
    stack = [i for i in reversed(range(len(nodes))) if parents[i] < 0]
    while stack:
        i = stack.pop()
        order.append(i)
        stack.extend(reversed(nodes[i].get("children", [])))
    return order


def skeleton_from_skin(gltf: Gltf, primitive: dict, skin_index: int = 0, max_influences: int = MAX_INFLUENCES) -> tuple[Skeleton, dict]:
    """A small :class:`Skeleton` holding only the joints that carry weight and the joints
    between them and their lowest common ancestor.  Ancestors above that root are folded
    into the root's ``rest_local`` (its model-space rest transform).  Per vertex, the
    ``max_influences`` largest weights are kept and renormalised to sum to 1.

    Returns the skeleton and {"weight_max_error", "weight_sum_max_error"}.
    """
    skin = gltf.json["skins"][skin_index]
    skin_joints = list(skin["joints"])
    nj = len(skin_joints)
    if "inverseBindMatrices" in skin:
        ibm = gltf.accessor(skin["inverseBindMatrices"]).astype(np.float64).reshape(nj, 4, 4).transpose(0, 2, 1)  # column-major
    else:
        ibm = np.broadcast_to(np.eye(4), (nj, 4, 4))
    attrs = primitive["attributes"]
    nv = gltf.json["accessors"][attrs["POSITION"]]["count"]
    # Dense [V, used joints] weights, summing duplicate joint slots of one vertex.
    sets = sorted(int(k[7:]) for k in attrs if k.startswith("JOINTS_") and k[7:].isdigit())
    jcols = [gltf.accessor(attrs[f"JOINTS_{s}"], normalize=False).astype(np.int64) for s in sets]
    wcols = [gltf.accessor(attrs[f"WEIGHTS_{s}"]).astype(np.float64) for s in sets]
    if not jcols:
        raise LamFormatError("skin.glb", "JOINTS_0", "skinned primitive has no joints attribute")
    joints = np.concatenate(jcols, axis=1)
    weights = np.concatenate(wcols, axis=1)
    if joints.shape != weights.shape or joints.shape[0] != nv:
        raise LamFormatError("skin.glb", "WEIGHTS_0", "JOINTS_n and WEIGHTS_n do not match the vertex count")
    if np.any(joints[weights > 0] >= nj) or np.any(weights < 0):
        raise LamFormatError("skin.glb", "JOINTS_0", f"joint index >= {nj} with weight, or a negative weight")
    used = np.unique(joints[weights > 0])
    col = np.searchsorted(used, np.where(weights > 0, joints, used[0]))
    dense = np.zeros((nv, used.size))
    np.add.at(dense, (np.arange(nv)[:, None].repeat(joints.shape[1], 1), col), np.where(weights > 0, weights, 0.0))
    # Joints kept: every node on the path from a used joint up to their lowest common ancestor.
    parents = gltf.node_parents()
    chains = []
    for u in used:
        chain, n = [], skin_joints[u]
        while n >= 0:
            chain.append(n)
            n = parents[n]
        chains.append(chain[::-1])  # root first
    depth = 0
    while all(len(c) > depth for c in chains) and len({c[depth] for c in chains}) == 1:
        depth += 1
    lca_depth = depth - 1
    kept_set = {n for c in chains for n in c[lca_depth:]} if lca_depth >= 0 else {n for c in chains for n in c}
    kept = [n for n in _preorder(gltf) if n in kept_set]
    index_of = {n: i for i, n in enumerate(kept)}
    node_to_skin = {n: i for i, n in enumerate(skin_joints)}
    world = gltf.node_world_matrices()
    rest_local = np.empty((len(kept), 4, 4))
    inverse_bind = np.empty((len(kept), 4, 4))
    kparents = np.empty(len(kept), np.int32)
    for i, n in enumerate(kept):
        p = parents[n]
        kparents[i] = index_of.get(p, -1)
        rest_local[i] = gltf.node_local_matrix(n) if kparents[i] >= 0 else world[n]  # root: dropped ancestors folded in
        s = node_to_skin.get(n)
        inverse_bind[i] = ibm[s] if s is not None else np.linalg.inv(world[n])
    # Top-k influences per vertex, renormalised.
    k = min(max_influences, used.size)
    top = np.argsort(-dense, axis=1, kind="stable")[:, :k]
    w = np.take_along_axis(dense, top, axis=1)
    total = w.sum(1, keepdims=True)
    if np.any(total <= 0):
        raise LamFormatError("skin.glb", "WEIGHTS_0", f"vertex {int(np.flatnonzero(total <= 0)[0])} has no weight")
    w = w / total
    vj = np.asarray([index_of[skin_joints[u]] for u in used], np.int32)[top]
    vw = np.zeros((nv, MAX_INFLUENCES))
    vjo = np.zeros((nv, MAX_INFLUENCES), np.int32)
    vw[:, :k] = w
    vjo[:, :k] = np.where(w > 0, vj, 0)
    back = np.zeros_like(dense)
    np.put_along_axis(back, top, w, axis=1)
    stats = {
        "weight_max_error": float(np.abs(back - dense).max()),
        "weight_sum_max_error": float(np.abs(dense.sum(1) - 1.0).max()),
    }
    names = [gltf.json["nodes"][n].get("name", f"node{n}") for n in kept]
    skel = Skeleton(names, kparents, rest_local.astype(np.float32), inverse_bind.astype(np.float32), vjo, vw.astype(np.float32))
    return skel, stats


# ---------------------------------------------------------------------------------- the import
def _skinned_mesh_node(gltf: Gltf) -> dict:
    nodes = [n for n in gltf.json.get("nodes", []) if "mesh" in n]
    if len(nodes) != 1:
        raise LamFormatError("skin.glb", "nodes", f"expected exactly one mesh node, found {len(nodes)}")
    node = nodes[0]
    prims = gltf.json["meshes"][node["mesh"]]["primitives"]
    if len(prims) != 1 or prims[0].get("mode", 4) != 4:
        raise LamFormatError("skin.glb", "meshes.primitives", "expected one triangle primitive")
    return node


def import_lam_zip(path: str | Path) -> tuple[Avatar, LamImportReport]:
    """Import a LAM avatar zip; returns the avatar and the measured import facts."""
    t0 = time.perf_counter()
    files = _read_members(path, ("skin.glb", "offset.ply"))
    gltf = Gltf.from_glb(files["skin.glb"])
    node = _skinned_mesh_node(gltf)
    prim = gltf.json["meshes"][node["mesh"]]["primitives"][0]
    vertices = gltf.accessor(prim["attributes"]["POSITION"]).astype(np.float32)
    nv = vertices.shape[0]
    if "indices" in prim:
        tri = gltf.accessor(prim["indices"], normalize=False).astype(np.int32)
    else:
        tri = np.arange(nv, dtype=np.int32)
    if tri.size % 3:
        raise LamFormatError("skin.glb", "indices", f"{tri.size} indices is not a multiple of 3")
    triangles = tri.reshape(-1, 3)
    morphs, stored = morph_targets(gltf, node["mesh"])
    skeleton, wstats = (None, {"weight_max_error": 0.0, "weight_sum_max_error": 0.0})
    if "skin" in node:
        skeleton, wstats = skeleton_from_skin(gltf, prim, node["skin"])

    g = read_ply_gaussians(files["offset.ply"])
    if g.count != nv:
        raise LamFormatError("offset.ply", "element vertex", f"{g.count} Gaussians for {nv} mesh vertices (one per vertex expected)")
    # LAM stores RGB in f_dc (use_rgb, save_ply(rgb2sh=False)); our sh_dc is an SH coefficient.
    g.sh_dc = ((g.sh_dc.astype(np.float64) - 0.5) / SH_C0).astype(np.float32)

    pivot = np.zeros(3, np.float32)
    if skeleton is not None and "head" in skeleton.joint_names:
        pivot = skeleton.rest_world()[skeleton.index("head"), :3, 3].astype(np.float32)
    deformation = DeformationModel(vertices, triangles, morphs, skeleton, None, {}, pivot)
    avatar = Avatar(
        gaussians=g,
        deformation=deformation,
        binding=Binding("vertex", np.arange(nv, dtype=np.int32)),
        layout=list(LAYOUT),
        render=RenderDefaults.framing(vertices),
        metadata={
            "source": SOURCE,
            "licence": LICENCE,
            "importer": "refcodec.avatar.lam",
            "notes": "Gaussian i is bound to vertex i; f_dc (RGB) converted to SH DC; HEAD_ROTATION pivots about the head joint.",
        },
    )
    avatar.validate()
    rest_offset = 0.0
    if skeleton is not None:
        from .deform import joint_world, skin

        skinned, _ = skin(skeleton, vertices, joint_world(skeleton))
        rest_offset = float(np.abs(skinned - vertices).max())
    report = LamImportReport(
        vertex_count=nv,
        triangle_count=int(triangles.shape[0]),
        target_count=morphs.count,
        morph_sparse_count=stored,
        morph_nnz=int(sum(morphs.nnz())),
        skin_joint_count=len(gltf.json["skins"][node["skin"]]["joints"]) if "skin" in node else 0,
        kept_joints=list(skeleton.joint_names) if skeleton is not None else [],
        weight_max_error=wstats["weight_max_error"],
        weight_sum_max_error=wstats["weight_sum_max_error"],
        rest_skinning_max_offset=rest_offset,
        seconds=time.perf_counter() - t0,
    )
    return avatar, report


def load_lam_zip(path: str | Path) -> Avatar:
    """The LAM avatar in ``path`` (a zip with skin.glb and offset.ply) as an :class:`Avatar`."""
    return import_lam_zip(path)[0]


def lam_zip_bytes(members: dict[str, bytes]) -> bytes:
    """A deterministic zip (fixed timestamps, deflate level 9) of ``members`` in a ``p2-1/`` folder,
    as LAM's renderer expects; used to build the trimmed sample."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(f"p2-1/{name}", date_time=(2025, 3, 17, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data, compresslevel=9)
    return buf.getvalue()
