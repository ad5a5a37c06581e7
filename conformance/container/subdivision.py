"""An independent model of the DEFS section's decoding (SPEC 11.5.3, R-154..R-156), written from
the text with Python integers, sets and one numpy binary32 operation per value: it shares no
code with refcodec.fca.subdivision, and gives the writer its vertex and triangle counts and the
expected dump its records."""

from __future__ import annotations

import numpy as np


def subdivide(base_triangles: list[tuple[int, int, int]], base_vertex_count: int, levels: int):
    """(parents per level: a list of (a, b) per new vertex, the final triangle list), by R-154."""
    triangles = [tuple(int(c) for c in t) for t in base_triangles]
    count, parents = base_vertex_count, []
    for _ in range(levels):
        edges = set()
        for c0, c1, c2 in triangles:
            for x, y in ((c0, c1), (c1, c2), (c2, c0)):
                edges.add((min(x, y), max(x, y)))
        ordered = sorted(edges)
        vertex_of = {edge: count + k for k, edge in enumerate(ordered)}

        def m(x: int, y: int, vertex_of=vertex_of) -> int:
            return vertex_of[(min(x, y), max(x, y))]

        blocks: list[list[tuple[int, int, int]]] = [[], [], [], []]
        for c0, c1, c2 in triangles:
            blocks[0].append((c0, m(c0, c1), m(c2, c0)))
            blocks[1].append((c1, m(c1, c2), m(c0, c1)))
            blocks[2].append((c2, m(c2, c0), m(c1, c2)))
            blocks[3].append((m(c1, c2), m(c2, c0), m(c0, c1)))
        triangles = blocks[0] + blocks[1] + blocks[2] + blocks[3]
        parents.append(ordered)
        count += len(ordered)
    return parents, triangles


def _mean(x, a: int, b: int) -> list[np.float32]:
    """f32( f32( x[a] + x[b] ) * 0.5 ), channel by channel."""
    return [np.float32(np.float32(x[a][c] + x[b][c]) * np.float32(0.5)) for c in range(3)]


def vertices(base: np.ndarray, parents, residuals: list[np.ndarray]) -> np.ndarray:
    """R-155: base vertices [V0, 3], then each level's vertices from their parents and [n_l, 3] residuals."""
    x = [[np.float32(v) for v in row] for row in np.asarray(base, np.float32)]
    for level, r in zip(parents, residuals, strict=True):
        for k, (a, b) in enumerate(level):
            mean = _mean(x, a, b)
            x.append([np.float32(mean[c] + np.float32(r[k][c])) for c in range(3)])
    return np.array(x, np.float32).reshape(-1, 3)


def morph(base_vertex_count: int, parents, items: list[tuple[list[int], np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """R-156: (indices, [K, 3] deltas) of one target from (positions, [K_l, 3] values) per level."""
    total = base_vertex_count + sum(len(level) for level in parents)
    zero = [np.float32(0.0)] * 3
    d = [list(zero) for _ in range(total)]
    moved = [False] * total
    positions, values = items[0]
    for k, j in enumerate(positions):
        d[j], moved[j] = [np.float32(v) for v in values[k]], True
    start = base_vertex_count
    for level, (positions, values) in zip(parents, items[1:], strict=True):
        stored = {int(j): values[k] for k, j in enumerate(positions)}
        for k, (a, b) in enumerate(level):
            v = start + k
            p = _mean(d, a, b)
            moved[v] = moved[a] or moved[b] or k in stored
            d[v] = [np.float32(p[c] + np.float32(stored[k][c])) for c in range(3)] if k in stored else p
        start += len(level)
    idx = [v for v in range(total) if moved[v]]
    return np.array(idx, np.int64), np.array([d[v] for v in idx], np.float32).reshape(-1, 3)
