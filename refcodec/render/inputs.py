"""Loading what the renderer tools render: avatars (.fca, LAM .zip, .ply) and parameter
frames (.fcs streams or unquantized tracks) mapped to the avatar's layout (SPEC 11.4, R-61)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..avatar.loading import load_avatar
from ..avatar.model import Avatar
from ..errors import E_LAYOUT_MISMATCH

TRACK_SUFFIXES = (".json", ".npz", ".csv", ".npy")

__all__ = ["TRACK_SUFFIXES", "Frames", "fcs_frames", "load_avatar", "track_frames"]


@dataclass
class Frames:
    """Parameter frames in the avatar's layout order.

    Attributes:
        values: [T, D] float32; rate: frame rate; source: "fcs" or "track"; header: the
        stream's sequence header (``.fcs`` only).
    """

    values: np.ndarray
    rate: Fraction
    source: str
    header: object | None = None


def fcs_frames(data: bytes, avatar: Avatar, fca_bytes: bytes | None = None) -> Frames:
    """Decode a ``.fcs`` stream (strict) and map it to the avatar's layout (R-61).

    With the container's bytes, the stream's avatar binding (SPEC 5.2.1, R-17) is checked.
    Raises the stream's FcError classes.
    """
    from ..fcs.binding import avatar_inputs, check_avatar_binding, frame_to_layout
    from ..fcs.decoder import decode_file

    result = decode_file(data)
    h = result.header
    if h is None:
        return Frames(np.zeros((0, sum(d for _, d in avatar.layout)), np.float32), Fraction(30, 1), "fcs")
    if fca_bytes is not None:
        check_avatar_binding(h, fca_bytes)
    values = frame_to_layout(result.matrix(), avatar_inputs(h, avatar.layout)) if avatar.layout else np.zeros((len(result.frames), 0), np.float32)
    return Frames(values, Fraction(h.frame_rate_num, h.frame_rate_den), "fcs", h)


def track_frames(path: str | Path, avatar: Avatar) -> Frames:
    """An unquantized parameter track (any importer format) mapped to the avatar's layout by
    group semantic and canonical dimension index; dimensions the track lacks read 0 (as R-61)."""
    from ..importers import load_track

    track = load_track(path)
    out = np.zeros((track.frames, sum(d for _, d in avatar.layout)), np.float32)
    cols: dict[str, dict[int, int]] = {}
    for g, sl in zip(track.groups, track.group_slices(), strict=True):
        canon = g.dim_index if g.dim_index is not None else list(range(len(g.names)))
        cols.setdefault(g.semantic, {c: sl.start + k for k, c in enumerate(canon)})
    pos = 0
    for name, dims in avatar.layout:
        if name not in cols:
            raise E_LAYOUT_MISMATCH(f"the avatar expects a {name} group, the track has none", field="group_semantic")
        for d in range(dims):
            if d in cols[name]:
                out[:, pos + d] = track.values[:, cols[name][d]]
        pos += dims
    return Frames(out, Fraction(*track.frame_rate), "track")
