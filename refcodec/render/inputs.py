"""Loading what the renderer tools render: avatars (.fca, LAM .zip, .ply) and parameter
frames (.fcs streams or unquantized tracks) mapped to the avatar's layout (SPEC 11.4, R-61)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..avatar.loading import load_avatar
from ..avatar.model import Avatar
from ..errors import E_LAYOUT_MISMATCH
from ..spec_tables import semantic_name

TRACK_SUFFIXES = (".json", ".npz", ".csv", ".npy")

__all__ = ["TRACK_SUFFIXES", "UNUSED_POLICIES", "Frames", "fcs_frames", "load_avatar", "track_frames", "unused_values"]


UNUSED_POLICIES = ("drop", "warn", "error")
"""What :func:`fcs_frames` and :func:`track_frames` do with values the avatar cannot use."""


@dataclass
class Frames:
    """Parameter frames in the avatar's layout order.

    Attributes:
        values: [T, D] float32, D = the avatar's layout dimensions (``Renderer.render`` takes them).
        rate: frame rate.
        source: "fcs" or "track".
        header: the stream's sequence header (``.fcs`` only).
        unused: what the avatar cannot use, per group semantic name: the number of values per
            frame left out (a group whose semantic the layout lacks, a second group of a
            semantic, or canonical dimensions beyond the layout group's count), e.g.
            ``{"HEAD_TRANSLATION": 3}`` for a tracked stream on a LAM avatar (SPEC 11.4, R-61).
    """

    values: np.ndarray
    rate: Fraction
    source: str
    header: object | None = None
    unused: dict[str, int] = field(default_factory=dict)


def unused_values(groups: list[tuple[str, list[int]]], layout: list[tuple[str, int]]) -> dict[str, int]:
    """Values per frame the layout does not take (SPEC 11.4, R-61), by semantic name.

    ``groups``: the source's groups in order as (semantic name, canonical index of each value).
    Only the first group of a semantic reaches the avatar, through canonical indices below the
    layout group's dimension count.
    """
    dims = dict(layout)
    seen: set[str] = set()
    out: dict[str, int] = {}
    for name, canon in groups:
        lost = len(canon) if name not in dims or name in seen else sum(1 for c in canon if c >= dims[name])
        seen.add(name)
        if lost:
            out[name] = out.get(name, 0) + lost
    return out


def _apply_policy(unused: dict[str, int], policy: str, what: str) -> None:
    if policy not in UNUSED_POLICIES:
        raise ValueError(f"unused must be one of {UNUSED_POLICIES}, got {policy!r}")
    if not unused or policy == "drop":
        return
    text = ", ".join(f"{name} ({count} value{'s' if count > 1 else ''})" for name, count in unused.items())
    if policy == "error":
        raise E_LAYOUT_MISMATCH(f"the avatar's layout has no use for the {what}'s {text}", field="group_semantic")
    warnings.warn(f"the avatar's layout has no use for the {what}'s {text}; they are dropped (SPEC 11.4, R-61)", stacklevel=3)


def fcs_frames(data: bytes, avatar: Avatar, fca_bytes: bytes | None = None, unused: str = "drop") -> Frames:
    """Decode a ``.fcs`` stream (strict) into the avatar's parameter frames: the one way to drive an avatar with a stream.

    Each layout group of the avatar takes the values of the stream group of the same semantic,
    through the group's canonical indices; layout dimensions the stream does not carry are 0;
    a stream without a group the layout needs is rejected with ``E_LAYOUT_MISMATCH`` (SPEC 11.4,
    R-61). What the avatar cannot use (for example the HEAD_TRANSLATION of a tracked stream on
    a LAM avatar, whose layout is ARKIT52 + HEAD_ROTATION) is left out and named in
    :attr:`Frames.unused`; ``unused="warn"`` also warns, ``unused="error"`` rejects the stream
    with ``E_LAYOUT_MISMATCH`` instead.

    With the container's bytes, the stream's avatar binding (SPEC 5.2.1, R-17) is checked.
    Raises the stream's FcError classes. ``Renderer(avatar).render(frames.values)`` renders them.
    """
    from ..fcs.binding import avatar_inputs, check_avatar_binding, frame_to_layout
    from ..fcs.decoder import decode_file

    result = decode_file(data)
    h = result.header
    if h is None:
        return Frames(np.zeros((0, sum(d for _, d in avatar.layout)), np.float32), Fraction(30, 1), "fcs")
    if fca_bytes is not None:
        check_avatar_binding(h, fca_bytes)
    groups = [(semantic_name(g.semantic), list(g.dim_index) if g.dim_index is not None else list(range(g.dims))) for g in h.groups]
    lost = unused_values(groups, avatar.layout)
    _apply_policy(lost, unused, "stream")
    values = frame_to_layout(result.matrix(), avatar_inputs(h, avatar.layout)) if avatar.layout else np.zeros((len(result.frames), 0), np.float32)
    return Frames(values, Fraction(h.frame_rate_num, h.frame_rate_den), "fcs", h, lost)


def track_frames(path: str | Path, avatar: Avatar, unused: str = "drop") -> Frames:
    """An unquantized parameter track (any importer format) mapped to the avatar's layout by
    group semantic and canonical dimension index; dimensions the track lacks read 0, and what
    the avatar cannot use is named in :attr:`Frames.unused` (as :func:`fcs_frames`, R-61)."""
    from ..importers import load_track

    track = load_track(path)
    out = np.zeros((track.frames, sum(d for _, d in avatar.layout)), np.float32)
    cols: dict[str, dict[int, int]] = {}
    groups = []
    for g, sl in zip(track.groups, track.group_slices(), strict=True):
        canon = list(g.dim_index) if g.dim_index is not None else list(range(len(g.names)))
        groups.append((g.semantic, canon))
        cols.setdefault(g.semantic, {c: sl.start + k for k, c in enumerate(canon)})
    pos = 0
    for name, dims in avatar.layout:
        if name not in cols:
            raise E_LAYOUT_MISMATCH(f"the avatar expects a {name} group, the track has none", field="group_semantic")
        for d in range(dims):
            if d in cols[name]:
                out[:, pos + d] = track.values[:, cols[name][d]]
        pos += dims
    lost = unused_values(groups, avatar.layout)
    _apply_policy(lost, unused, "track")
    return Frames(out, Fraction(*track.frame_rate), "track", unused=lost)
