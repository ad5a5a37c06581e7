"""The mesh and morph targets a DEFM or DEFS payload decodes to (SPEC 11.5.1, 11.5.3).

One function for the avatar decoder and the canonical dump, so both read the same values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .quantized import decode_block
from .subdivision import positions


@dataclass
class DecodedMesh:
    """Vertices [V, 3] f32, triangles [F, 3], and per morph target (name bytes, indices, [K, 3] f32 deltas)."""

    vertices: np.ndarray
    triangles: np.ndarray
    morphs: list[tuple[bytes, np.ndarray, np.ndarray]]


def _items(block, gaps) -> tuple[np.ndarray, np.ndarray]:
    return positions(gaps), np.ascontiguousarray(decode_block(block, 3).T)


def decoded_mesh(p) -> DecodedMesh:
    """The model's mesh of a parsed DEFM payload, or of a DEFS payload after R-154..R-156."""
    if "subdivision" not in p:  # DEFM
        tri = np.asarray(p.triangles, np.int32).reshape(3, -1).T  # corner-major (SPEC 11.5.1)
        morphs = [(m.morph_name, *_items(m.morph_deltas, m.morph_index_gaps)) for m in p.morphs]
        return DecodedMesh(np.ascontiguousarray(decode_block(p.vertices, 3).T), np.ascontiguousarray(tri), morphs)
    morphs = [(m.morph_name, *m.decoded_morph) for m in p.morphs]  # R-156, derived while parsing (syntax.DEFS)
    return DecodedMesh(p.decoded_vertices, np.ascontiguousarray(p.subdivision.triangles.astype(np.int32)), morphs)
