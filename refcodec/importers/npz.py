"""FaceCodec ``.npz`` tracks (our own format; see docs/track-formats.md).

One array per group, keyed by the lower-case semantic (``arkit52`` [T, 52], ``head_rotation``
[T, 3]...; a repeated semantic gets ``_2``, ``_3``...), with optional ``<key>__names`` (strings),
``<key>__index`` (canonical dimension indices of a subset), ``frame_rate`` = [num, den] and
``group_order`` (keys in order; default: registry id order, then repeat number).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ..track import Track
from ._common import (
    bad,
    check_values,
    group_keys,
    parse_frame_rate,
    parse_group_key,
    resolve_group,
    semantic_names_by_id,
)

DESCRIPTION = "FaceCodec npz: one [frames, dims] array per group keyed by semantic (arkit52, head_rotation, ...)"
DEFAULT_FRAME_RATE = (30, 1)
_RESERVED = {"frame_rate", "group_order", "source"}


def _default_order(keys: list[str]) -> list[str]:
    rank = {name: i for i, name in enumerate(semantic_names_by_id())}
    return sorted(keys, key=lambda k: (rank[parse_group_key(k)[0]], parse_group_key(k)[1]))


def load(path: str | Path, **options) -> Track:
    """Read a FaceCodec npz track."""
    if options:
        raise TypeError(f"npz takes no options, got {sorted(options)}")
    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise bad(path, "file", f"not a readable npz archive ({exc})") from exc
    with data:
        files = set(data.files)
        group_files = [k for k in files if "__" not in k and k not in _RESERVED]
        for k in group_files:
            if parse_group_key(k) is None:
                raise bad(path, k, "unknown array (expected a lower-case group semantic such as 'arkit52')")
        for k in files:
            if "__" in k:
                base, _, suffix = k.partition("__")
                if suffix not in ("names", "index") or base not in group_files:
                    raise bad(path, k, "unknown array (only <group>__names and <group>__index are allowed)")
        if not group_files:
            raise bad(path, "groups", "no group arrays found")
        if "group_order" in files:
            order = [str(x) for x in np.asarray(data["group_order"]).reshape(-1)]
            if sorted(order) != sorted(group_files) or len(set(order)) != len(order):
                raise bad(path, "group_order", f"must list each group array once: {sorted(group_files)}")
        else:
            order = _default_order(group_files)
        frame_rate = parse_frame_rate(path, "frame_rate", data["frame_rate"]) if "frame_rate" in files else DEFAULT_FRAME_RATE
        source = str(np.asarray(data["source"]).reshape(-1)[0]) if "source" in files and np.asarray(data["source"]).size else str(path)

        cols, groups, frames = [], [], None
        for key in order:
            semantic = parse_group_key(key)[0]
            arr = check_values(path, key, data[key], 2)
            if frames is None:
                frames = arr.shape[0]
            elif arr.shape[0] != frames:
                raise bad(path, key, f"has {arr.shape[0]} frames, earlier groups have {frames}")
            dims = arr.shape[1]
            names = None
            if f"{key}__names" in files:
                names = [str(n) for n in np.asarray(data[f"{key}__names"]).reshape(-1)]
                if len(names) != dims:
                    raise bad(path, f"{key}__names", f"{len(names)} names for {dims} columns")
            index = None
            if f"{key}__index" in files:
                raw = np.asarray(data[f"{key}__index"])
                if raw.dtype.kind not in "iu":
                    raise bad(path, f"{key}__index", f"must be integers, got {raw.dtype}")
                index = raw
            arr, group = resolve_group(path, key, semantic, arr, names, index, f"{key}__index")
            cols.append(arr)
            groups.append(group)
    values = np.concatenate(cols, axis=1) if cols else np.zeros((0, 0))
    return Track(values, groups, frame_rate, source=source)


def save(track: Track, path: str | Path) -> None:
    """Write ``track`` as a FaceCodec npz (names, index maps, frame rate and group order included)."""
    out: dict[str, np.ndarray] = {}
    keys = group_keys(track.groups)
    for key, g, sl in zip(keys, track.groups, track.group_slices(), strict=True):
        out[key] = np.ascontiguousarray(track.values[:, sl], dtype=np.float64)
        out[f"{key}__names"] = np.array(list(g.names), dtype=str) if g.names else np.zeros(0, dtype="<U1")
        if g.dim_index is not None:
            out[f"{key}__index"] = np.array(g.dim_index, dtype=np.int64)
    out["frame_rate"] = np.array(track.frame_rate, dtype=np.int64)
    out["group_order"] = np.array(keys, dtype=str)
    if track.source:
        out["source"] = np.array([track.source], dtype=str)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **out)
