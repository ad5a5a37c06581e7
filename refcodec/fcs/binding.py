"""The stream-to-avatar binding hash (SPEC 5.2.1, R-17)."""

from __future__ import annotations

import hashlib

import numpy as np

from ..errors import E_LAYOUT_MISMATCH
from ..spec_tables import semantic_id
from .layout import SequenceHeader


def avatar_digest(fca_bytes: bytes) -> int:
    """First 8 bytes of the SHA-256 of a whole ``.fca`` file, as a big-endian integer (SPEC 5.2.1)."""
    return int.from_bytes(hashlib.sha256(fca_bytes).digest()[:8], "big")


def check_avatar_binding(header: SequenceHeader, fca_bytes: bytes) -> None:
    """Reject a stream bound to a different avatar with E_LAYOUT_MISMATCH (SPEC 5.2.1, R-17).

    A stream without ``avatar_hash`` binds to no particular avatar and always passes.
    """
    if header.avatar_hash is None:
        return
    digest = avatar_digest(fca_bytes)
    if digest != header.avatar_hash:
        raise E_LAYOUT_MISMATCH(
            f"stream is bound to avatar 0x{header.avatar_hash:016x}, this avatar's digest is 0x{digest:016x}", field="avatar_hash"
        )


def avatar_inputs(header: SequenceHeader, layout: list[tuple[str, int]]) -> list[tuple[int, list[int]]]:
    """Where each layout dimension of an avatar comes from in a decoded frame (SPEC 11.4, R-61).

    Returns, per layout group, the flat stream index of each of its dimensions, or -1 for a
    dimension the stream does not carry (it reads 0). Raises E_LAYOUT_MISMATCH when a layout
    group has no stream group of the same semantic.
    """
    flat, positions = 0, {}
    for grp in header.groups:
        canon = grp.dim_index if grp.dim_index is not None else list(range(grp.dims))
        positions.setdefault(grp.semantic, {c: flat + d for d, c in enumerate(canon)})
        flat += grp.dims
    out = []
    for name, dims in layout:
        sem = semantic_id(name)
        if sem not in positions:
            raise E_LAYOUT_MISMATCH(f"the avatar expects a {name} group, the stream has none", field="group_semantic")
        out.append((sem, [positions[sem].get(d, -1) for d in range(dims)]))
    return out


def frame_to_layout(values: np.ndarray, inputs: list[tuple[int, list[int]]]) -> np.ndarray:
    """Decoded frames ([..., N] in stream order) as the avatar's flat parameter vectors (R-61)."""
    index = np.array([i for _, idx in inputs for i in idx], dtype=np.int64)
    vals = np.asarray(values, np.float32)
    return np.where(index >= 0, vals[..., np.maximum(index, 0)], np.float32(0)).astype(np.float32)
