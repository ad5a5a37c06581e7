"""Midpoint subdivision of a triangle mesh, as the DEFS section codes it (SPEC 11.5.3, R-154..R-156).

A mesh made by midpoint subdivision (LAM's head: FLAME's 5,023 vertices and 9,976 triangles
subdivided once into 20,018 and 39,904) is stored as its base mesh; the triangles of every level
and the parents of every new vertex follow from the base triangles alone (R-154), and the vertices
and morph displacements of a new vertex are coded as residuals from the mean of its two parents
(R-155, R-156). Everything here is integer index work or one binary32 operation at a time, so
every decoder gets the same bits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

MAX_LEVELS = 4  # SPEC 11.5.3: subdivision_levels is 1..4


@dataclass(frozen=True)
class Subdivision:
    """The connectivity of a subdivided mesh (SPEC 11.5.3, R-154).

    ``parents[l - 1]`` is the [n_l, 2] array of the parents (a <= b) of the vertices added at
    level ``l``, which are numbered ``starts[l - 1]``, ``starts[l - 1] + 1``, ...; ``triangles`` is
    the [F, 3] triangle list of the last level.
    """

    base_vertex_count: int
    parents: tuple[np.ndarray, ...]
    triangles: np.ndarray

    @property
    def levels(self) -> int:
        return len(self.parents)

    @property
    def starts(self) -> tuple[int, ...]:
        """The first vertex index of each level's new vertices."""
        out, v = [], self.base_vertex_count
        for p in self.parents:
            out.append(v)
            v += len(p)
        return tuple(out)

    @property
    def vertex_count(self) -> int:
        return self.base_vertex_count + sum(len(p) for p in self.parents)

    def summary(self) -> dict:
        """What fcdump shows of the derived connectivity (not its arrays)."""
        return {"levels": self.levels, "vertices_per_level": list(self.level_sizes()), "vertex_count": self.vertex_count,
                "triangle_count": len(self.triangles)}

    def __str__(self) -> str:
        return f"{self.levels} level(s): vertices per level {list(self.level_sizes())}, {self.vertex_count} vertices, {len(self.triangles)} triangles"

    def level_sizes(self) -> tuple[int, ...]:
        """Items per level: V_0 base vertices, then n_1 ... n_L new vertices."""
        return (self.base_vertex_count, *(len(p) for p in self.parents))


def subdivide_once(triangles: np.ndarray, vertex_count: int) -> tuple[np.ndarray, np.ndarray]:
    """One level of R-154: (parents [n, 2] of the new vertices, the [4F, 3] triangles of the next level).

    The new vertex ``vertex_count + k`` is the midpoint of the k-th distinct edge (min, max) in
    ascending (min, max) order; the triangles are four blocks of F, block-major:
    (c0, m01, m20), (c1, m12, m01), (c2, m20, m12), (m12, m20, m01).
    """
    tri = np.asarray(triangles, np.int64).reshape(-1, 3)
    c0, c1, c2 = tri[:, 0], tri[:, 1], tri[:, 2]
    pairs = np.stack([np.concatenate([c0, c1, c2]), np.concatenate([c1, c2, c0])], axis=1)  # edges 01, 12, 20
    lo, hi = pairs.min(axis=1), pairs.max(axis=1)
    keys = lo * vertex_count + hi  # < vertex_count^2: exact in int64 for any level's vertex count
    unique, inverse = np.unique(keys, return_inverse=True)
    parents = np.stack([unique // vertex_count, unique % vertex_count], axis=1)
    mid = (vertex_count + inverse).reshape(3, -1)  # the new vertex of edge 01, 12, 20 of each triangle
    m01, m12, m20 = mid[0], mid[1], mid[2]
    blocks = [np.stack(b, axis=1) for b in ((c0, m01, m20), (c1, m12, m01), (c2, m20, m12), (m12, m20, m01))]
    return parents, np.concatenate(blocks)


def subdivide(base_triangles: np.ndarray, base_vertex_count: int, levels: int) -> Subdivision:
    """The connectivity of ``levels`` midpoint subdivisions of the base mesh (SPEC 11.5.3, R-154)."""
    tri, v, parents = np.asarray(base_triangles, np.int64).reshape(-1, 3), base_vertex_count, []
    for _ in range(levels):
        p, tri = subdivide_once(tri, v)
        parents.append(p)
        v += len(p)
    return Subdivision(base_vertex_count, tuple(parents), tri)


def positions(gaps) -> np.ndarray:
    """SPEC 11.5.1, R-62 (and R-156 within a level): idx[0] = gap[0], idx[k] = idx[k-1] + gap[k] + 1."""
    return (np.cumsum(np.asarray(gaps, np.int64) + 1) - 1).astype(np.int32)


def midpoints(x: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """f32( f32( x[a] + x[b] ) * 0.5 ) per row (R-155, R-156); an overflow gives infinity, which R-158 rejects."""
    with np.errstate(over="ignore", invalid="ignore"):
        s = np.add(x[parents[:, 0]], x[parents[:, 1]], dtype=np.float32)
        return np.multiply(s, np.float32(0.5), dtype=np.float32)


def reconstruct_vertices(sub: Subdivision, base: np.ndarray, residuals: list[np.ndarray]) -> np.ndarray:
    """SPEC 11.5.3, R-155: the [V, 3] vertices from the base vertices and each level's [n_l, 3] residuals."""
    x = np.zeros((sub.vertex_count, 3), np.float32)
    x[: sub.base_vertex_count] = base
    for start, p, r in zip(sub.starts, sub.parents, residuals, strict=True):
        with np.errstate(over="ignore", invalid="ignore"):
            x[start : start + len(p)] = np.add(midpoints(x, p), np.asarray(r, np.float32), dtype=np.float32)
    return x


class MorphTarget(NamedTuple):
    """A decoded morph target: the moved vertices in increasing order and their [K, 3] displacements."""

    indices: np.ndarray
    deltas: np.ndarray

    def summary(self) -> dict:
        """What fcdump shows of it (not its arrays)."""
        return {"moved_vertices": len(self.indices), "first_indices": self.indices[:4].tolist()}

    def __str__(self) -> str:
        return f"{len(self.indices)} moved vertices, first {self.indices[:4].tolist()}"


def reconstruct_morph(sub: Subdivision, items: list[tuple[np.ndarray, np.ndarray]]) -> MorphTarget:
    """SPEC 11.5.3, R-156: one morph target's (indices, [K, 3] deltas) from its items per level.

    ``items[l]`` is (positions within level l, values [K_l, 3]): displacements at level 0,
    residuals from the parents' mean after. A new vertex is moved when a parent is or an item is
    stored for it; its displacement is the parents' mean, plus the residual when one is stored.
    """
    if not any(len(pos) for pos, _ in items):  # nothing stored: nothing moves (and no V x 3 work)
        return MorphTarget(np.zeros(0, np.int32), np.zeros((0, 3), np.float32))
    d = np.zeros((sub.vertex_count, 3), np.float32)
    moved = np.zeros(sub.vertex_count, bool)
    pos, values = items[0]
    d[pos], moved[pos] = values, True
    for start, p, (pos, values) in zip(sub.starts, sub.parents, items[1:], strict=True):
        new = slice(start, start + len(p))
        d[new] = midpoints(d, p)
        moved[new] = moved[p[:, 0]] | moved[p[:, 1]]
        at = start + np.asarray(pos, np.int64)
        with np.errstate(over="ignore", invalid="ignore"):
            d[at] = np.add(d[at], np.asarray(values, np.float32), dtype=np.float32)
        moved[at] = True
    idx = np.flatnonzero(moved)
    return MorphTarget(idx.astype(np.int32), d[idx])


def find_subdivision(triangles: np.ndarray, vertex_count: int, max_levels: int = MAX_LEVELS) -> tuple[int, int, np.ndarray] | None:
    """(levels, base vertex count, base triangles) when the mesh is exactly R-154's subdivision of a
    smaller mesh (same vertex numbering and triangle order), else None. An encoder's test, not normative."""
    tri, v, levels = np.asarray(triangles, np.int64).reshape(-1, 3), vertex_count, 0
    while levels < max_levels and len(tri) and len(tri) % 4 == 0:
        f = len(tri) // 4
        base = np.stack([tri[:f, 0], tri[f : 2 * f, 0], tri[2 * f : 3 * f, 0]], axis=1)
        v0 = int(base.max()) + 1
        if v0 < 3:
            break
        parents, again = subdivide_once(base, v0)
        if v0 + len(parents) != v or not np.array_equal(again, tri):
            break
        tri, v, levels = base, v0, levels + 1
    return (levels, v, tri) if levels else None
