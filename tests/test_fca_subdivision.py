"""The subdivided deformation model (SPEC 11.5.3, DEFS): R-154 connectivity, R-155 vertices,
R-156 morph targets, R-157 decoded values; the encoder's choice of DEFS and its error bounds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.container import avatars as av
from conformance.container import subdivision as model
from conformance.container.writer import Sec, build
from refcodec.errors import FcError
from refcodec.fca import PackConfig, decode_avatar, encode_avatar
from refcodec.fca.container import read_container
from refcodec.fca.subdivision import find_subdivision, subdivide

LAM = Path(__file__).resolve().parents[1] / "samples/lam_p2-1/p2-1.zip"

# One triangle (0, 1, 2), subdivided once: edges in (min, max) order (0,1) -> 3, (0,2) -> 4, (1,2) -> 5;
# blocks (c0, m01, m20), (c1, m12, m01), (c2, m20, m12), (m12, m20, m01).
ONE_TRIANGLE = [[0, 3, 4], [1, 5, 3], [2, 4, 5], [5, 4, 3]]
# Two triangles (0,1,2), (2,1,3): edges (0,1) 4, (0,2) 5, (1,2) 6, (1,3) 7, (2,3) 8; each block lists both triangles.
TWO_TRIANGLES = [[0, 4, 5], [2, 6, 8], [1, 6, 4], [1, 7, 6], [2, 5, 6], [3, 8, 7], [6, 5, 4], [7, 8, 6]]


def test_r154_by_hand():
    """R-154: new vertex numbers, parents and the four blocks of child triangles, written out by hand."""
    one = subdivide(np.array([[0, 1, 2]]), 3, 1)
    assert one.parents[0].tolist() == [[0, 1], [0, 2], [1, 2]] and one.triangles.tolist() == ONE_TRIANGLE
    two = subdivide(np.array([[0, 1, 2], [2, 1, 3]]), 4, 1)
    assert two.parents[0].tolist() == [[0, 1], [0, 2], [1, 2], [1, 3], [2, 3]] and two.triangles.tolist() == TWO_TRIANGLES
    # two levels of one triangle: a triangular grid with 5 vertices a side (15) and 16 triangles
    deep = subdivide(np.array([[0, 1, 2]]), 3, 2)
    assert deep.vertex_count == 15 and len(deep.triangles) == 16 and deep.level_sizes() == (3, 3, 9)


@pytest.mark.parametrize("levels", [1, 2, 3])
def test_r154_agrees_with_the_independent_model(levels):
    """The reference and the conformance model (sets and sorted() in plain Python) give the same connectivity."""
    base = [(0, 1, 2), (0, 2, 3), (3, 2, 4), (4, 2, 2)]  # with a degenerate triangle: an edge (2, 2)
    parents, triangles = model.subdivide(base, 5, levels)
    ref = subdivide(np.array(base), 5, levels)
    assert [p.tolist() for p in ref.parents] == [[list(e) for e in level] for level in parents]
    assert ref.triangles.tolist() == [list(t) for t in triangles]


def test_lam_is_flame_subdivided_once():
    """The LAM mesh is R-154's subdivision of a 5,023-vertex, 9,976-triangle base (FLAME's counts), numbering and order included."""
    from refcodec.avatar.loading import load_avatar

    d = load_avatar(LAM).deformation
    levels, v0, base = find_subdivision(d.triangles, d.vertex_count)
    assert (levels, v0, len(base)) == (1, 5023, 9976)
    assert np.array_equal(subdivide(base, v0, 1).triangles, d.triangles)
    assert find_subdivision(d.triangles[::-1], d.vertex_count) is None  # another triangle order is not R-154's


def _defs_payload(levels: int, residuals: list[dict], morph_levels: list[dict] | None = None) -> dict:
    morphs = [] if morph_levels is None else [{"morph_name": b"m", "morph_levels": morph_levels}]
    return {
        "base_vertex_count": 3,
        "base_triangle_count": 1,
        "subdivision_levels": levels,
        "base_vertices": av.raw_block([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]),  # (0,0,0), (1,0,0), (0,1,0)
        "base_triangles": np.array([0, 1, 2]),  # corner-major: one triangle
        "vertex_residuals": residuals,
        "morphs": morphs,
        "drivers": [],
        "head_pivot": np.zeros(3, np.float32),
    }


def _items(positions, values) -> dict:
    values = np.asarray(values, np.float32).reshape(-1, 3)
    gaps = np.diff(np.concatenate([[-1], positions])) - 1
    return {"morph_nnz": len(positions), "morph_index_gaps": gaps, "morph_deltas": av.raw_block(values.T)}


def _file(payload: dict) -> bytes:
    return build([Sec(b"META", av.meta(2)), Sec(b"DEFS", payload), Sec(b"BIND", {"binding_mode": 1, "binding_index": np.array([5, 4])})]
                 + av.static_attrs(2, 0, 5)).data


RESIDUALS = av.raw_block(np.array([[0.0, 0.0, 0.25], [0.0, 0.0, 0.0], [0.1, 0.0, 0.0]], np.float32).T)  # vertices 3, 4, 5


def test_r155_r156_by_hand():
    """R-155: x = f32(f32(f32(x[a] + x[b]) * 0.5) + r); R-156: a moved base vertex moves the midpoints of its
    edges, a residual moves a vertex whose parents did not; indices are the moved vertices in order."""
    morph = [_items([1], [1.0, 2.0, 4.0]), _items([1], [0.25, 0.0, 0.0])]  # level 0: vertex 1; level 1: position 1 = vertex 4
    d = decode_avatar(_file(_defs_payload(1, [RESIDUALS], morph))).deformation
    f = np.float32
    assert d.triangles.tolist() == ONE_TRIANGLE
    expected = [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0.5, 0, 0.25], [0, 0.5, 0], [f(f(0.5) + f(0.1)), 0.5, 0]]
    assert np.array_equal(d.vertices, np.array(expected, np.float32))
    assert d.morphs.indices[0].tolist() == [1, 3, 4, 5]
    assert np.array_equal(d.morphs.deltas[0], np.array([[1, 2, 4], [0.5, 1, 2], [0.25, 0, 0], [0.5, 1, 2]], np.float32))


def test_r156_a_residual_of_zero_still_moves_the_vertex():
    """R-156: a stored item moves its vertex even when the residual is 0 and neither parent moved."""
    morph = [_items([], []), _items([2], [0.0, 0.0, 0.0])]
    d = decode_avatar(_file(_defs_payload(1, [RESIDUALS], morph))).deformation
    assert d.morphs.indices[0].tolist() == [5] and not d.morphs.deltas[0].any()


def test_r157_decoded_values():
    """R-157: a morph target adds 3 x V (dense bound) besides its stored arrays; the derived triangles add 3 (F - F_0)."""
    empty = read_container(_file(_defs_payload(1, [RESIDUALS]))).budget.decoded_values
    one = read_container(_file(_defs_payload(1, [RESIDUALS], [_items([1], [1, 2, 4]), _items([1], [0.25, 0, 0])]))).budget.decoded_values
    # 3 x 6 vertices, the 1-byte name (1), per level one gap and 3 raw values
    assert one - empty == 18 + 1 + 2 * (1 + 3)
    residual_two = av.raw_block(np.zeros((3, 9), np.float32))
    two = read_container(_file(_defs_payload(2, [RESIDUALS, residual_two]))).budget.decoded_values
    # level 2 adds 9 vertices (27 residual values) and 3 x (16 - 4) more derived triangle indices
    assert two - empty == 27 + 3 * (16 - 4)


@pytest.mark.parametrize(
    "change, error, field",
    [
        ({"subdivision_levels": 0}, "E_VALUE", "subdivision_levels"),
        ({"subdivision_levels": 5}, "E_VALUE", "subdivision_levels"),
        ({"base_triangles": np.array([0, 1, 3])}, "E_VALUE", "base_triangles"),
    ],
)
def test_defs_rejections(change, error, field):
    """SPEC 11.5.3: subdivision_levels 1..4; base triangle indices below base_vertex_count."""
    payload = _defs_payload(1, [RESIDUALS]) | change
    data = build([Sec(b"META", av.meta(1)), Sec(b"DEFS", payload, zstd=False)] + av.static_attrs(1, 0, 5)).data
    with pytest.raises(FcError) as info:
        decode_avatar(data)
    assert info.value.error_class == error and info.value.field.endswith(f"DEFS.{field}")


def test_defs_triangles_over_the_level():
    """R-154: F_0 x 4^L over max_triangles is E_LEVEL at subdivision_levels, before base_triangles are read."""
    head = (3).to_bytes(4, "little") + (40000).to_bytes(4, "little") + bytes([2])
    data = build([Sec(b"META", av.meta(1)), Sec(b"DEFS", raw=head)] + av.static_attrs(1, 0, 5)).data
    with pytest.raises(FcError) as info:
        decode_avatar(data)
    assert info.value.error_class == "E_LEVEL" and info.value.field.endswith("DEFS.subdivision_levels")


@pytest.mark.parametrize("levels", [1, 2, 3])
def test_encoder_round_trip_within_the_defm_bounds(levels):
    """The encoder picks DEFS for a subdivided mesh; triangles come back exactly, vertices within half a
    base step and morph displacements within morph_max_error (closed-loop residuals), as with DEFM."""
    avatar = av.subdivided_avatar(11, levels)
    config = PackConfig()
    data = encode_avatar(avatar, config)
    assert [s.type for s in read_container(data).sections if s.type.startswith(b"DEF")] == [b"DEFS"]
    assert len(data) < len(encode_avatar(avatar, PackConfig(mesh_coding="plain")))
    src, got = avatar.deformation, decode_avatar(data).deformation
    assert np.array_equal(got.triangles, src.triangles)
    base = src.vertices[:7]
    half_step = float((base.max(axis=0) - base.min(axis=0)).max()) / ((1 << config.vertex_bits) - 1) / 2
    assert np.abs(got.vertices - src.vertices).max() <= half_step * 1.001
    for i0, x0, i1, x1 in zip(src.morphs.indices, src.morphs.deltas, got.morphs.indices, got.morphs.deltas, strict=True):
        a, b = np.zeros((src.vertex_count, 3)), np.zeros((src.vertex_count, 3))
        a[i0], b[i1] = x0, x1
        assert np.abs(a - b).max() <= config.morph_max_error * 1.001


def test_encoder_keeps_defm_when_lossless_or_not_subdivided():
    """DEFS residuals are not lossless in binary32, and a mesh that is not a subdivision has no DEFS."""
    assert b"DEFM" in [s.type for s in read_container(encode_avatar(av.subdivided_avatar(2), PackConfig.lossless())).sections]
    assert b"DEFM" in [s.type for s in read_container(encode_avatar(av.small_avatar(2), PackConfig(mesh_coding="subdivision"))).sections]


def test_lam_default_model_shrinks():
    """The LAM model in DEFS is under half its DEFM size at the default preset (SPEC 11.5.3 quotes 300,662 -> 105,600 bytes)."""
    from refcodec.avatar.loading import load_avatar

    avatar = load_avatar(LAM)
    sizes = {}
    for coding in ("plain", "auto"):
        parsed = read_container(encode_avatar(avatar, PackConfig(mesh_coding=coding)))
        sizes[coding] = next(s.stored_size for s in parsed.sections if s.type.startswith(b"DEF"))
    assert sizes["auto"] < sizes["plain"] / 2


def test_r158_overflow_is_rejected_after_its_elements():
    """R-158: 3e38 + 3e38 overflows binary32: a vertex and a displacement each give E_VALUE at the derived name,
    located at the first byte after the elements they are made from (the conformance writer's trace gives it)."""
    from conformance.container.subdivided import MORPH, defs_by_hand, defs_file_sections, morph_items

    huge = defs_by_hand(1, [RESIDUALS])
    huge["base_vertices"] = av.raw_block([[3e38, 3e38, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    big_morph = defs_by_hand(1, [RESIDUALS], [morph_items([0, 1], [[3e38, 0, 0], [3e38, 0, 0]]), MORPH[1]])
    for payload, name, after in ((huge, "decoded_vertices", "DEFS.morph_count"), (big_morph, "decoded_morph[0]", "DEFS.skeleton_flag")):
        built = build(defs_file_sections(payload))
        with pytest.raises(FcError) as info:
            decode_avatar(built.data)
        assert info.value.error_class == "E_VALUE" and info.value.field.endswith(f"DEFS.{name}")
        assert info.value.bit_offset == 8 * built.find(after, 1).offset


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_random_defs_decode_as_the_independent_model_says(seed):
    """Random DEFS payloads (the fuzzer's generator: 1-2 levels, degenerate triangles, items at every level) decode in
    the reference to the vertices, triangles and morph targets the conformance model computes, bit for bit."""
    import random

    from conformance.container.expected import dequantize
    from refcodec.fca.fuzzing import _defs
    from refcodec.fca.subdivision import positions

    payload, _, _ = _defs(random.Random(seed), [])
    data = build([Sec(b"META", av.meta(1)), Sec(b"DEFS", payload)] + av.static_attrs(1, 0, 5)).data
    got = decode_avatar(data).deformation
    v0 = payload["base_vertex_count"]
    parents, triangles = model.subdivide(np.asarray(payload["base_triangles"]).reshape(3, -1).T.tolist(), v0, payload["subdivision_levels"])
    vertices = model.vertices(dequantize(payload["base_vertices"], 3), parents, [dequantize(b, 3) for b in payload["vertex_residuals"]])
    assert got.triangles.tolist() == [list(t) for t in triangles]
    assert np.array_equal(got.vertices.view(np.uint32), vertices.view(np.uint32))
    for m, idx, deltas in zip(payload["morphs"], got.morphs.indices, got.morphs.deltas, strict=True):
        items = [(positions(x["morph_index_gaps"]).tolist(), dequantize(x["morph_deltas"], 3)) for x in m["morph_levels"]]
        want_idx, want = model.morph(v0, parents, items)
        assert idx.tolist() == want_idx.tolist() and np.array_equal(deltas.view(np.uint32), want.view(np.uint32))


def test_static_gaussians_are_stored_in_morton_order():
    """Informative encoder (SPEC 11.1.3): a shuffled static splat packs smaller in Morton order, decodes to the same
    Gaussians (a permutation, each one bit for bit as with the order kept), and a bound avatar keeps its order."""
    from refcodec.avatar.loading import load_avatar
    from refcodec.fca.precondition import morton_order

    avatar = load_avatar(LAM)  # its Gaussians at their vertices, shuffled, as a static splat trained in no particular order
    g = avatar.gaussians
    g.positions = (avatar.deformation.vertices[avatar.binding.index] + g.positions).astype(np.float32)
    shuffle = np.random.default_rng(1).permutation(g.count)
    for name in ("positions", "rotations", "log_scales", "opacity_logits", "sh_dc", "sh_rest"):
        setattr(g, name, np.ascontiguousarray(getattr(g, name)[shuffle]))
    avatar.binding, avatar.deformation = type(avatar.binding)(), None
    sizes, decoded = {}, {}
    for order in ("keep", "morton"):
        data = encode_avatar(avatar, PackConfig(gaussian_order=order))
        sizes[order], decoded[order] = len(data), decode_avatar(data).gaussians
    assert sizes["morton"] < 0.9 * sizes["keep"]
    perm = morton_order(g.positions)
    for name in ("positions", "rotations", "log_scales", "opacity_logits", "sh_dc", "sh_rest"):
        assert np.array_equal(getattr(decoded["morton"], name), getattr(decoded["keep"], name)[perm]), name
    # the Z-order by hand: (0,0,0) < (1,0,0) < (0,1,0) < (1,1,0) < (0,0,1) on the corners of a cube
    corners = np.array([[0, 0, 1], [1, 1, 0], [0, 1, 0], [1, 0, 0], [0, 0, 0]], np.float32)
    assert morton_order(corners).tolist() == [4, 3, 2, 1, 0]
    bound = av.small_avatar(4, n=40, v=10)
    assert np.array_equal(decode_avatar(encode_avatar(bound, PackConfig())).binding.index, bound.binding.index)
