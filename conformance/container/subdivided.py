"""Vectors of the subdivided deformation model (SPEC 11.5.3, DEFS, R-154..R-157).

The hand-made payloads are small enough to check by eye (one triangle, raw binary32 blocks);
the encoder-made ones are the reference encoder's choices for avatars whose meshes the
independent model of :mod:`conformance.container.subdivision` subdivided. Expected dumps come
from that model, never from the reference decoder.
"""

from __future__ import annotations

import numpy as np

from . import avatars as av
from .definitions import ContainerDef, ExpectedErr, damaged_file, first_error, patch_file, valid_file
from .writer import Sec, build

F32 = np.float32


def defs_by_hand(levels: int, residuals: list[dict], morph_levels: list[dict] | None = None, base_triangles=(0, 1, 2)) -> dict:
    """A DEFS payload over the base triangle(s) ``base_triangles`` (corner-major) of vertices (0,0,0), (1,0,0), (0,1,0)."""
    morphs = [] if morph_levels is None else [{"morph_name": b"m", "morph_levels": morph_levels}]
    tris = np.asarray(base_triangles)
    return {
        "base_vertex_count": 3,
        "base_triangle_count": len(tris) // 3,
        "subdivision_levels": levels,
        "base_vertices": av.raw_block([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]),
        "base_triangles": tris,
        "vertex_residuals": residuals,
        "morphs": morphs,
        "drivers": [],
        "head_pivot": np.zeros(3, F32),
    }


def morph_items(positions, values) -> dict:
    """One level of a morph target: positions within the level and [K, 3] values as a raw block."""
    values = np.asarray(values, F32).reshape(-1, 3)
    gaps = np.diff(np.concatenate([[-1], np.asarray(positions, np.int64)])) - 1
    return {"morph_nnz": len(values), "morph_index_gaps": gaps, "morph_deltas": av.raw_block(values.T)}


#: Residuals of vertices 3, 4, 5 (midpoints of edges (0,1), (0,2), (1,2)) of the one-triangle mesh.
RESIDUALS = av.raw_block(np.array([[0.0, 0.0, 0.25], [0.0, 0.0, 0.0], [0.1, 0.0, 0.0]], F32).T)
#: Morph target "m": vertex 1 moved by (1, 2, 4) at level 0, vertex 4 (level 1, position 1) by a residual (0.25, 0, 0).
MORPH = [morph_items([1], [1.0, 2.0, 4.0]), morph_items([1], [0.25, 0.0, 0.0])]


def defs_file_sections(payload: dict, n: int = 2, zstd: bool = False) -> list[Sec]:
    """META, the DEFS payload, a vertex binding of ``n`` Gaussians to the last vertices, static attributes."""
    bind = {"binding_mode": 1, "binding_index": np.array([5, 4, 3, 2][:n])}
    return [Sec(b"META", av.meta(n)), Sec(b"DEFS", payload, zstd=zstd), Sec(b"BIND", bind)] + av.static_attrs(n, 0, 5)


def _isolated(triangles: int, morphs: int = 0) -> dict:
    """A DEFS payload of ``triangles`` unconnected base triangles (3 vertices each, 1-bit zero samples):
    one subdivision makes 6 vertices and 4 triangles of each, and ``morphs`` empty morph targets."""
    v0 = 3 * triangles
    empty = {"morph_nnz": 0, "morph_index_gaps": np.zeros(0, np.int64), "morph_deltas": av.raw_block(np.zeros((3, 0), F32))}
    return {
        "base_vertex_count": v0,
        "base_triangle_count": triangles,
        "subdivision_levels": 1,
        "base_vertices": av.qblock(1, [0, 0, 0], [1, 1, 1], np.zeros((3, v0), np.uint16)),
        "base_triangles": np.arange(v0).reshape(-1, 3).T.reshape(-1),  # corner-major
        "vertex_residuals": [av.qblock(1, [0, 0, 0], [1, 1, 1], np.zeros((3, v0), np.uint16))],  # 3 edges per triangle
        "morphs": [{"morph_name": f"m{t}".encode(), "morph_levels": [empty, empty]} for t in range(morphs)],
        "drivers": [],
        "head_pivot": np.zeros(3, F32),
    }


def _encoder(seed: int, levels: int, mode: str = "vertex") -> list[Sec]:
    from refcodec.fca import PackConfig

    avatar = av.subdivided_avatar(seed, levels)
    if mode == "triangle":
        from refcodec.avatar.model import Binding

        rng = np.random.RandomState(seed)
        count, n = len(avatar.deformation.triangles), avatar.gaussians.count
        avatar.binding = Binding("triangle", rng.randint(0, count, n), rng.dirichlet([1, 1, 1], n).astype(F32))
    return av.encoder_sections(avatar, PackConfig(mesh_coding="subdivision"), zstd=True)


def subdivision_vectors() -> list[ContainerDef]:
    """y_ and n_ vectors of DEFS (SPEC 11.5.3)."""
    by_hand = defs_by_hand(1, [RESIDUALS], MORPH)
    by_hand["morphs"].append({"morph_name": b"e", "morph_levels": [morph_items([], []), morph_items([], [])]})  # moves nothing
    hand = defs_file_sections(by_hand)
    degenerate = defs_file_sections(defs_by_hand(1, [av.raw_block(np.zeros((3, 4), F32))], base_triangles=(0, 1, 1, 2, 2, 2)))
    too_many = [Sec(b"META", av.meta(1)), Sec(b"DEFS", _isolated(12000), zstd=True)] + av.static_attrs(1, 0, 6)
    dense = [Sec(b"META", av.meta(1)), Sec(b"DEFS", _isolated(8000, morphs=64), zstd=True)] + av.static_attrs(1, 0, 6)
    nnz = defs_file_sections(defs_by_hand(1, [RESIDUALS], [MORPH[0], morph_items([0, 1, 2, 3], np.zeros((4, 3)))]))
    gaps = defs_file_sections(defs_by_hand(1, [RESIDUALS], [MORPH[0], morph_items([3], [0.0, 0.0, 1.0])]))
    both = [hand[0], Sec(b"DEFS", defs_by_hand(1, [RESIDUALS])), Sec(b"DEFS", defs_by_hand(1, [RESIDUALS]))] + hand[2:]
    huge = defs_by_hand(1, [RESIDUALS])
    huge["base_vertices"] = av.raw_block([[3e38, 3e38, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    big_vertices = defs_file_sections(huge)
    big_morph = defs_file_sections(defs_by_hand(1, [RESIDUALS], [morph_items([0, 1], [[3e38, 0, 0], [3e38, 0, 0]]), morph_items([], [])]))
    r = ["R-154", "R-155", "R-156", "R-69"]
    return [
        ContainerDef(
            "y_defs_by_hand",
            "One base triangle (0,0,0), (1,0,0), (0,1,0) subdivided once: vertices 3, 4, 5 are the midpoints of edges (0,1), (0,2), "
            "(1,2) plus residuals (0,0,0.25), 0, (0.1,0,0); morph m moves vertex 1 by (1,2,4), hence vertices 3 and 5 by (0.5,1,2), "
            "and vertex 4 by a residual (0.25,0,0) alone; morph e stores nothing at either level and moves no vertex; raw "
            "binary32 blocks, stored sections.",
            ["11.5.3"],
            r,
            valid_file(hand),
        ),
        ContainerDef(
            "y_defs_degenerate_triangle",
            "Base triangles (0,1,2) and (1,2,2) (corner-major 0,1 / 1,2 / 2,2): the degenerate one has an edge (2,2) whose "
            "midpoint vertex 6 has two equal parents; edges (0,1), (0,2), (1,2), (2,2): 7 vertices, 8 triangles.",
            ["11.5.3"],
            ["R-154", "R-155"],
            valid_file(degenerate),
        ),
        ContainerDef(
            "y_defs_encoder_two_levels",
            "Encoder-made avatar on a 7-vertex fan subdivided twice (61 vertices, 96 triangles), with morph residuals, "
            "a skeleton, a coefficient map and a driver; quantized and delta-coded blocks, zstd sections.",
            ["11.5.3", "11.1.3"],
            r + ["R-153"],
            valid_file(_encoder(21, 2)),
        ),
        ContainerDef(
            "y_defs_encoder_triangle_binding",
            "Encoder-made avatar subdivided three times (217 vertices, 384 triangles) with Gaussians bound to derived triangles: "
            "binding indices are checked against the decoded triangle_count.",
            ["11.5.3", "11.6"],
            r + ["R-65"],
            valid_file(_encoder(22, 3, "triangle")),
        ),
        ContainerDef(
            "n_defs_levels_0",
            "subdivision_levels 0 (DEFM codes an unsubdivided mesh).",
            ["11.5.3"],
            ["R-154"],
            damaged_file(hand, "DEFS.subdivision_levels", b"\x00", "E_VALUE", 1),
        ),
        ContainerDef(
            "n_defs_levels_5",
            "subdivision_levels 5 (at most 4).",
            ["11.5.3"],
            ["R-154"],
            damaged_file(hand, "DEFS.subdivision_levels", b"\x05", "E_VALUE", 1),
        ),
        ContainerDef(
            "n_defs_triangles_level",
            "One base triangle declared 40,000: subdivided twice it would make 640,000 triangles, over level 10's 131,072; "
            "E_LEVEL at subdivision_levels, before base_vertices are read.",
            ["11.5.3", "11.9"],
            ["R-154", "R-68"],
            _triangles_over(hand),
        ),
        ContainerDef(
            "n_defs_vertices_level",
            "12,000 unconnected base triangles (36,000 vertices) subdivided once: 72,000 vertices, over level 10's 65,536, "
            "found once the base triangles are read; E_LEVEL at base_triangles.",
            ["11.5.3", "11.9"],
            ["R-154"],
            first_error(too_many, "DEFS.base_triangles", 1, "E_LEVEL"),
        ),
        ContainerDef(
            "n_defs_base_index",
            "A base triangle index 3 with base_vertex_count 3.",
            ["11.5.3"],
            ["R-154"],
            damaged_file(hand, "DEFS.base_triangles", b"\x03", "E_VALUE", 1, write_delta=4),
        ),
        ContainerDef(
            "n_defs_morph_nnz",
            "Four items at level 1, which has three vertices.",
            ["11.5.3"],
            ["R-156"],
            first_error(nnz, "morph_nnz[0][1]", 1, "E_VALUE"),
        ),
        ContainerDef(
            "n_defs_morph_gaps",
            "A level-1 item at position 3, past the level's three vertices.",
            ["11.5.3"],
            ["R-156"],
            first_error(gaps, "morph_index_gaps[0][1]", 1, "E_VALUE"),
        ),
        ContainerDef(
            "n_defs_morph_count_level",
            "morph_count 65, over level 10's max_morph_targets 64: E_LEVEL before the dense charge of R-157.",
            ["11.5.3", "11.9"],
            ["R-68", "R-157"],
            damaged_file(hand, "DEFS.morph_count", (65).to_bytes(2, "little"), "E_LEVEL", 1),
        ),
        ContainerDef(
            "n_defs_decoded_values",
            "64 morph targets on 48,000 decoded vertices: the dense bound 3 x 64 x 48,000 = 9,216,000 passes level 10's "
            "max_decoded_values 2^23 at morph_count (E_LEVEL), whatever the targets hold.",
            ["11.5.3", "11.9"],
            ["R-157", "R-91"],
            first_error(dense, "DEFS.morph_count", 1, "E_LEVEL"),
        ),
        ContainerDef(
            "n_defs_vertex_overflow",
            "Base vertices 0 and 1 at x = 3e38: the midpoint vertex 3 sums them to infinity in binary32 (R-155); E_VALUE "
            "at decoded_vertices, located at the byte after the last vertex_residuals.",
            ["11.5.3"],
            ["R-158"],
            _after(big_vertices, "DEFS.morph_count", "section[1]:DEFS.decoded_vertices"),
        ),
        ContainerDef(
            "n_defs_morph_overflow",
            "Morph m moves vertices 0 and 1 by x = 3e38: vertex 3 (their midpoint) gets an infinite displacement (R-156); "
            "E_VALUE at decoded_morph[0], located after the morph's last morph_deltas.",
            ["11.5.3"],
            ["R-158"],
            _after(big_morph, "DEFS.skeleton_flag", "section[1]:DEFS.decoded_morph[0]"),
        ),
        ContainerDef(
            "n_defs_twice",
            "Two DEFS sections (rank 1, not repeatable).",
            ["11.3", "11.5.3"],
            ["R-56"],
            _second_section(both),
        ),
    ]


def _triangles_over(sections: list[Sec]):
    """base_triangle_count patched to 40,000 and subdivision_levels to 2: E_LEVEL at subdivision_levels."""

    def make():
        b = build(sections)
        count = b.find("DEFS.base_triangle_count", 1)
        b = patch_file(b, count.offset, (40000).to_bytes(4, "little") + b"\x02")
        levels = b.find("DEFS.subdivision_levels", 1)
        return b, sections, ExpectedErr("E_LEVEL", levels.field, levels.offset)

    return make


def _second_section(sections: list[Sec]):
    """The second of two rank-1 sections is rejected at its section_type (R-56)."""

    def make():
        b = build(sections)
        return b, sections, ExpectedErr("E_SECTION", "section[2].section_type", b.section_offsets[2])

    return make


def _after(sections: list[Sec], next_element: str, field: str):
    """An error of a derived DEFS value (R-158): ``field``, located at the first byte of ``next_element``."""

    def make():
        b = build(sections)
        return b, sections, ExpectedErr("E_VALUE", field, b.find(next_element, 1).offset)

    return make
