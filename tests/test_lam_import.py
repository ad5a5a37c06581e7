"""LAM avatar import (refcodec.avatar.lam) on the bundled sample, checked against the file's
bytes decoded directly here (GLB chunks, accessor views and PLY rows read with struct/numpy,
not with refcodec's glTF or PLY readers)."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from refcodec.avatar.deform import animate
from refcodec.avatar.lam import SH_C0, LamFormatError, import_lam_zip, lam_zip_bytes, load_lam_zip
from refcodec.avatar.ply import write_ply
from refcodec.spec_tables import arkit52_names

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples/lam_p2-1/p2-1.zip"
SHARED = ROOT.parent / "shared/data/lam_p2-1/p2-1.zip"

pytestmark = pytest.mark.skipif(not SAMPLE.exists(), reason="samples/lam_p2-1/p2-1.zip not present")


class RawGlb:
    """The GLB's JSON and BIN chunk, and plain (non-strided) views decoded with numpy."""

    def __init__(self, data: bytes):
        magic, _, _ = struct.unpack_from("<4sII", data, 0)
        assert magic == b"glTF"
        jlen, _ = struct.unpack_from("<II", data, 12)
        self.json = json.loads(data[20 : 20 + jlen])
        blen, _ = struct.unpack_from("<II", data, 20 + jlen)
        self.bin = data[28 + jlen : 28 + jlen + blen]

    def view(self, index: int, dtype: str, width: int) -> np.ndarray:
        v = self.json["bufferViews"][index]
        assert "byteStride" not in v
        n = v["byteLength"] // (np.dtype(dtype).itemsize * width)
        return np.frombuffer(self.bin, dtype, n * width, v.get("byteOffset", 0)).reshape(n, width)

    def dense(self, accessor: int, dtype: str, width: int) -> np.ndarray:
        a = self.json["accessors"][accessor]
        assert a.get("byteOffset", 0) == 0
        return self.view(a["bufferView"], dtype, width)[: a["count"]]

    def sparse(self, accessor: int) -> tuple[np.ndarray, np.ndarray]:
        sp = self.json["accessors"][accessor]["sparse"]
        assert sp["indices"]["componentType"] == 5123  # uint16 in this file
        idx = self.view(sp["indices"]["bufferView"], "<u2", 1)[: sp["count"], 0]
        return idx, self.view(sp["values"]["bufferView"], "<f4", 3)[: sp["count"]]


@pytest.fixture(scope="module")
def raw() -> dict:
    z = zipfile.ZipFile(SAMPLE)
    glb = RawGlb(z.read("p2-1/skin.glb"))
    ply = z.read("p2-1/offset.ply")
    body = ply.index(b"end_header\n") + len(b"end_header\n")
    rows = np.frombuffer(ply, "<f4", offset=body).reshape(-1, 17)  # x y z nx ny nz f_dc*3 opacity scale*3 rot*4
    return {"glb": glb, "rows": rows, "order": json.loads(z.read("p2-1/vertex_order.json")), "ply": ply}


@pytest.fixture(scope="module")
def imported():
    return import_lam_zip(SAMPLE)


def _prim(glb: RawGlb) -> dict:
    return glb.json["meshes"][0]["primitives"][0]


def test_counts(imported, raw) -> None:
    avatar, report = imported
    d = avatar.deformation
    assert d.vertex_count == report.vertex_count == 20018
    assert avatar.gaussians.count == 20018 and avatar.gaussians.sh_degree == 0
    assert d.triangles.shape == (39904, 3) and report.triangle_count == 39904
    np.testing.assert_array_equal(d.triangles.reshape(-1), raw["glb"].dense(_prim(raw["glb"])["indices"], "<u2", 1)[:, 0])
    assert d.morphs.count == report.target_count == 51
    assert d.morphs.names == raw["glb"].json["meshes"][0]["extras"]["targetNames"]
    assert sorted(d.morphs.names) == sorted(n for n in arkit52_names() if n != "tongueOut")
    assert avatar.layout == [("ARKIT52", 52), ("HEAD_ROTATION", 3)]
    assert avatar.binding.mode == "vertex" and avatar.binding.index.tolist() == list(range(20018))
    assert "MIT" in avatar.metadata["licence"] and "LAM_WebRender" in avatar.metadata["source"]


def test_vertices_are_the_position_accessor(imported, raw) -> None:
    np.testing.assert_array_equal(imported[0].deformation.vertices, raw["glb"].dense(_prim(raw["glb"])["attributes"]["POSITION"], "<f4", 3))


@pytest.mark.parametrize("name", ["jawOpen", "eyeBlinkLeft", "mouthSmileRight"])
def test_sparse_morph_target_matches_the_accessor_bytes(imported, raw, name: str) -> None:
    glb = raw["glb"]
    t = glb.json["meshes"][0]["extras"]["targetNames"].index(name)
    idx, vals = glb.sparse(_prim(glb)["targets"][t]["POSITION"])
    expected = np.zeros((20018, 3), np.float32)
    expected[idx] = vals
    m = imported[0].deformation.morphs
    got = np.zeros((20018, 3), np.float32)
    got[m.indices[t]] = m.deltas[t]
    np.testing.assert_array_equal(got, expected)


def test_morph_nnz_total(imported, raw) -> None:
    glb = raw["glb"]
    nonzero = 0
    for target in _prim(glb)["targets"]:
        _, vals = glb.sparse(target["POSITION"])
        nonzero += int(np.count_nonzero(np.any(vals != 0, axis=1)))
    _, report = imported
    assert report.morph_nnz == nonzero == sum(imported[0].deformation.morphs.nnz())
    assert report.morph_sparse_count == sum(glb.json["accessors"][t["POSITION"]]["sparse"]["count"] for t in _prim(glb)["targets"])


def test_skin_weights(imported, raw) -> None:
    glb = raw["glb"]
    s = imported[0].deformation.skeleton
    assert s.joint_names == ["chestUpper", "lCollar", "rCollar", "neckLower", "neckUpper", "head"]
    np.testing.assert_allclose(s.vertex_weights.sum(1), 1.0, atol=1e-6)
    assert np.all(s.vertex_weights >= 0)
    # Per vertex and joint name, the kept weight equals the file's weight (4 influences in the file).
    attrs = _prim(glb)["attributes"]
    fj = glb.dense(attrs["JOINTS_0"], "u1", 4)
    fw = glb.dense(attrs["WEIGHTS_0"], "<f4", 4)
    skin_names = [glb.json["nodes"][n]["name"] for n in glb.json["skins"][0]["joints"]]
    by_name_file = np.zeros((20018, len(s.joint_names)))
    by_name_kept = np.zeros((20018, len(s.joint_names)))
    for k in range(4):
        for j, name in enumerate(s.joint_names):
            by_name_file[:, j] += np.where(np.array(skin_names)[fj[:, k]] == name, fw[:, k], 0)
            by_name_kept[:, j] += np.where(s.vertex_joints[:, k] == j, s.vertex_weights[:, k], 0)
    assert np.abs(by_name_file.sum(1) - 1).max() < 2e-7  # all of the file's weight is on these 6 joints
    np.testing.assert_allclose(by_name_kept, by_name_file, atol=2e-7)
    assert imported[1].weight_max_error < 2e-7


def test_head_pivot_is_the_head_joint_from_its_inverse_bind_matrix(imported, raw) -> None:
    glb = raw["glb"]
    skin = glb.json["skins"][0]
    head = [glb.json["nodes"][n]["name"] for n in skin["joints"]].index("head")
    ibm = glb.dense(skin["inverseBindMatrices"], "<f4", 16)[head].reshape(4, 4).T.astype(np.float64)
    np.testing.assert_allclose(imported[0].deformation.head_pivot, np.linalg.inv(ibm)[:3, 3], atol=1e-5)


def test_neutral_gaussian_is_vertex_plus_offset(imported, raw) -> None:
    g = animate(imported[0], None)
    v = raw["glb"].dense(_prim(raw["glb"])["attributes"]["POSITION"], "<f4", 3)
    np.testing.assert_allclose(g.positions, v + raw["rows"][:, 0:3], atol=2e-6)
    np.testing.assert_allclose(g.rotations, raw["rows"][:, 13:17], atol=1e-6)
    np.testing.assert_array_equal(g.log_scales, raw["rows"][:, 10:13])
    np.testing.assert_array_equal(g.opacity_logits, raw["rows"][:, 9])


def test_colour_is_converted_from_rgb_to_sh_dc(imported, raw) -> None:
    rgb = 0.5 + SH_C0 * imported[0].gaussians.sh_dc.astype(np.float64)
    np.testing.assert_allclose(rgb, raw["rows"][:, 6:9], atol=1e-6)


def test_jaw_open_moves_gaussians_by_the_target_delta(imported, raw) -> None:
    avatar = imported[0]
    params = np.zeros(55, np.float32)
    params[arkit52_names().index("jawOpen")] = 1.0
    moved = animate(avatar, params).positions - animate(avatar, None).positions
    glb = raw["glb"]
    t = glb.json["meshes"][0]["extras"]["targetNames"].index("jawOpen")
    idx, vals = glb.sparse(_prim(glb)["targets"][t]["POSITION"])
    expected = np.zeros((20018, 3), np.float32)
    expected[idx] = vals
    np.testing.assert_allclose(moved, expected, atol=2e-6)


def test_head_rotation_turns_everything_about_the_pivot(imported) -> None:
    avatar = imported[0]
    theta = 0.3
    params = np.zeros(55, np.float32)
    params[53] = theta  # HEAD_ROTATION = (0, theta, 0): about +y
    c, s = np.cos(theta), np.sin(theta)
    ry = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    p0 = animate(avatar, None).positions.astype(np.float64)
    pivot = avatar.deformation.head_pivot.astype(np.float64)
    np.testing.assert_allclose(animate(avatar, params).positions, (p0 - pivot) @ ry.T + pivot, atol=1e-5)


def test_render_defaults_frame_every_vertex(imported) -> None:
    avatar = imported[0]
    r = avatar.render
    assert (r.width, r.height) == (512, 512)
    # Pinhole projection with the camera looking down -z: u = cx + fx * x / depth, v = cy - fy * y / depth.
    cam = (avatar.deformation.vertices - r.camera_to_world[:3, 3]) @ r.camera_to_world[:3, :3]
    depth = -cam[:, 2]
    u = r.cx + r.fx * cam[:, 0] / depth
    v = r.cy - r.fy * cam[:, 1] / depth
    assert depth.min() > 0
    assert u.min() > 0 and u.max() < 512 and v.min() > 0 and v.max() < 512
    assert (u.max() - u.min()) > 200 and (v.max() - v.min()) > 350  # the head fills the frame


def test_vertex_order_is_a_height_sort_not_the_gaussian_map(raw) -> None:
    """Evidence for the identity binding (docs/avatar-model.md)."""
    glb = raw["glb"]
    v = glb.dense(_prim(glb)["attributes"]["POSITION"], "<f4", 3)
    order = np.array(raw["order"])
    assert sorted(order.tolist()) == list(range(20018))
    height_rank = np.argsort(np.argsort(v[:, 1], kind="stable"))
    assert np.corrcoef(np.arange(20018), height_rank[order])[0, 1] > 0.999
    # Pairing Gaussian i with vertex i makes colours and offsets vary smoothly over mesh edges;
    # pairing through vertex_order looks like a random pairing.
    tri = glb.dense(_prim(glb)["indices"], "<u2", 1).reshape(-1, 3).astype(np.int64)
    edges = np.unique(np.sort(np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]]), axis=1), axis=0)
    rgb = raw["rows"][:, 6:9]

    def roughness(pair: np.ndarray) -> float:
        c = rgb[pair]
        return float(np.abs(c[edges[:, 0]] - c[edges[:, 1]]).mean())

    identity = roughness(np.arange(20018))
    assert identity < 0.5 * roughness(order)
    assert identity < 0.5 * roughness(np.argsort(order))
    assert identity < 0.5 * roughness(np.random.default_rng(0).permutation(20018))


def test_load_lam_zip_is_the_import(imported) -> None:
    assert load_lam_zip(SAMPLE).equals(imported[0])


# ---------------------------------------------------------------------------- bad archives
def _zip(tmp_path: Path, members: dict[str, bytes]) -> Path:
    p = tmp_path / "lam.zip"
    p.write_bytes(lam_zip_bytes(members))
    return p


def test_missing_member(tmp_path: Path, raw) -> None:
    with pytest.raises(LamFormatError, match="offset.ply zip: missing"):
        load_lam_zip(_zip(tmp_path, {"skin.glb": b"x"}))


def test_not_a_zip(tmp_path: Path) -> None:
    p = tmp_path / "x.zip"
    p.write_bytes(b"PK not really")
    with pytest.raises(LamFormatError, match="not a zip"):
        load_lam_zip(p)


def test_gaussian_count_must_match_vertex_count(tmp_path: Path, raw, imported) -> None:
    z = zipfile.ZipFile(SAMPLE)
    fewer = write_ply(imported[0].gaussians.subset(slice(0, 100)))
    with pytest.raises(LamFormatError, match="100 Gaussians for 20018"):
        load_lam_zip(_zip(tmp_path, {"skin.glb": z.read("p2-1/skin.glb"), "offset.ply": fewer}))


def test_oversized_member_is_refused_before_reading(tmp_path: Path, monkeypatch) -> None:
    import refcodec.avatar.lam as lam

    monkeypatch.setattr(lam, "MAX_MEMBER_BYTES", 1000)
    with pytest.raises(LamFormatError, match="exceeds the limit"):
        load_lam_zip(SAMPLE)


def test_trimmed_zip_is_deterministic() -> None:
    z = zipfile.ZipFile(SAMPLE)
    members = {n: z.read(f"p2-1/{n}") for n in ("skin.glb", "offset.ply", "vertex_order.json")}
    assert lam_zip_bytes(members) == SAMPLE.read_bytes()
    assert zipfile.ZipFile(io.BytesIO(SAMPLE.read_bytes())).testzip() is None


@pytest.mark.skipif(not SHARED.exists(), reason="../shared reference data not present")
def test_sample_members_are_unmodified_copies() -> None:
    full, trimmed = zipfile.ZipFile(SHARED), zipfile.ZipFile(SAMPLE)
    for name in ("skin.glb", "offset.ply", "vertex_order.json"):
        assert trimmed.read(f"p2-1/{name}") == full.read(f"p2-1/{name}")
