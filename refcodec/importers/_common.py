"""Helpers shared by the track importers: names, validation and error messages."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..spec_tables import arkit52_names, canonical_dims, group_semantics, semantic_id
from ..track import TrackGroup

#: Canonical dimension names of the rotation/translation-like semantics (SPEC 4.2).
AXIS_NAMES: dict[str, tuple[str, ...]] = {
    "HEAD_ROTATION": ("x", "y", "z"),
    "HEAD_TRANSLATION": ("x", "y", "z"),
    "JAW": ("x", "y", "z"),
    "NECK": ("x", "y", "z"),
    "EYES": ("left_x", "left_y", "left_z", "right_x", "right_y", "right_z"),
    "EYELIDS": ("left", "right"),
}


def bad(path: str | Path, field: str, message: str) -> ValueError:
    """A ValueError naming the file and the field."""
    return ValueError(f"{path}: {field}: {message}")


def semantic_names_by_id() -> list[str]:
    """Registry names in registry id order (the default group order)."""
    return [g["name"] for _, g in sorted(group_semantics().items())]


def canonical_names(semantic: str) -> tuple[str, ...] | None:
    """The canonical dimension names of a semantic, or None when it has none."""
    if semantic == "ARKIT52":
        return arkit52_names()
    return AXIS_NAMES.get(semantic)


def default_names(semantic: str, dim_index: list[int] | None, dims: int) -> list[str]:
    """Dimension names when a file gives none: canonical names, else ``<semantic>[i]``."""
    index = dim_index if dim_index is not None else list(range(dims))
    canon = canonical_names(semantic)
    if canon is not None:
        return [canon[i] for i in index]
    return [f"{semantic.lower()}[{i}]" for i in index]


_KEY_RE = re.compile(r"^([a-z0-9_]+?)(?:_(\d+))?$")


def parse_group_key(key: str) -> tuple[str, int] | None:
    """``"head_rotation"`` -> ("HEAD_ROTATION", 1); ``"unspecified_2"`` -> ("UNSPECIFIED", 2); else None."""
    known = {n.lower() for n in semantic_names_by_id()}
    if key in known:
        return key.upper(), 1
    m = _KEY_RE.match(key)
    if m and m.group(2) and m.group(1) in known and int(m.group(2)) >= 2:
        return m.group(1).upper(), int(m.group(2))
    return None


def group_keys(groups: list[TrackGroup]) -> list[str]:
    """File keys of the groups: the lower-case semantic, ``_2``, ``_3``... for repeats."""
    seen: dict[str, int] = {}
    keys = []
    for g in groups:
        n = seen.get(g.semantic, 0) + 1
        seen[g.semantic] = n
        keys.append(g.semantic.lower() if n == 1 else f"{g.semantic.lower()}_{n}")
    return keys


def check_semantic(path, field: str, semantic: str) -> str:
    """Upper-case registry name or a ValueError."""
    try:
        semantic_id(semantic)
    except KeyError as exc:
        raise bad(path, field, f"unknown group semantic {semantic!r}") from exc
    return semantic.upper()


def check_dim_index(path, field: str, semantic: str, dim_index, dims: int) -> list[int] | None:
    """Validate an index map against SPEC R-15 (strictly increasing, < canonical count)."""
    if dim_index is None:
        c = canonical_dims(semantic_id(semantic))
        if c and dims != c:
            raise bad(path, field, f"{semantic} has {c} canonical dimensions but {dims} are given without an index map")
        return None
    idx = [int(i) for i in np.asarray(dim_index).reshape(-1)]
    if len(idx) != dims:
        raise bad(path, field, f"index map has {len(idx)} entries for {dims} columns")
    if any(i < 0 or i > 0xFFFF for i in idx):
        raise bad(path, field, "index map entries must be in 0..65535")
    if any(b <= a for a, b in zip(idx, idx[1:], strict=False)):
        raise bad(path, field, "index map must be strictly increasing")
    c = canonical_dims(semantic_id(semantic))
    if c and idx and idx[-1] >= c:
        raise bad(path, field, f"index {idx[-1]} is outside the {c} canonical dimensions of {semantic}")
    return idx


def index_from_names(path, field: str, semantic: str, names: list[str]) -> list[int] | None:
    """Canonical indices of ``names`` for semantics with canonical names (None if not all canonical)."""
    canon = canonical_names(semantic)
    if canon is None:
        return None
    pos = {n: i for i, n in enumerate(canon)}
    if not all(n in pos for n in names):
        return None
    idx = [pos[n] for n in names]
    if len(set(idx)) != len(idx):
        raise bad(path, field, "a dimension name is repeated")
    return idx


def check_values(path, field: str, values, ndim: int = 2, cols: int | None = None) -> np.ndarray:
    """Float64 array of the expected rank (and column count) with only finite values."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise bad(path, field, f"not a numeric array ({exc})") from exc
    if arr.ndim != ndim:
        raise bad(path, field, f"expected {ndim} axes, got shape {arr.shape}")
    if cols is not None and arr.shape[-1] != cols:
        raise bad(path, field, f"expected {cols} columns, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad_rows = np.nonzero(~np.all(np.isfinite(arr.reshape(arr.shape[0], -1)), axis=1))[0] if arr.ndim else []
        where = f" (first at row {int(bad_rows[0])})" if len(bad_rows) else ""
        raise bad(path, field, f"contains NaN or infinity{where}")
    return arr


def squeeze_to(path, field: str, values, cols: int) -> np.ndarray:
    """``values`` as [frames, cols], tolerating extra singleton axes ([T,1,cols], [1,T,cols], [T,cols,1])."""
    arr = np.asarray(values)
    core = [s for s in arr.shape if s != 1]
    if arr.ndim >= 1 and arr.size == cols and (not core or core == [cols]):
        arr = arr.reshape(1, cols)
    elif len(core) == 2 and core[1] == cols:
        arr = arr.reshape(core[0], cols)
    elif arr.ndim == 2 and arr.shape[0] == 0 and arr.shape[1] == cols:
        pass
    else:
        raise bad(path, field, f"expected [frames, {cols}], got shape {arr.shape}")
    return check_values(path, field, arr, 2, cols)


def frame_rate_from_times(times, fallback: tuple[int, int]) -> tuple[int, int]:
    """Frame rate as a fraction from per-frame timestamps in seconds (fallback if unusable)."""
    t = np.asarray(times, dtype=np.float64)
    if t.ndim != 1 or t.size < 2 or not np.all(np.isfinite(t)):
        return fallback
    dt = float(np.median(np.diff(t)))
    if dt <= 0:
        return fallback
    fr = Fraction(1.0 / dt).limit_denominator(1001)
    return fr.numerator, fr.denominator


def parse_frame_rate(path, field: str, value) -> tuple[int, int]:
    """``[num, den]`` or ``"num/den"`` -> (num, den), both positive integers."""
    try:
        if isinstance(value, str):
            num_s, _, den_s = value.strip().partition("/")
            num, den = int(num_s), int(den_s or 1)
        else:
            arr = np.asarray(value).reshape(-1)
            if arr.size == 1:
                fr = Fraction(float(arr[0])).limit_denominator(1001)
                num, den = fr.numerator, fr.denominator
            elif arr.size == 2:
                if not all(float(v).is_integer() for v in arr):
                    raise ValueError("not integers")
                num, den = int(arr[0]), int(arr[1])
            else:
                raise ValueError(f"{arr.size} values")
    except (TypeError, ValueError) as exc:
        raise bad(path, field, f"expected num/den, got {value!r}") from exc
    if num <= 0 or den <= 0:
        raise bad(path, field, f"frame rate {num}/{den} must be positive")
    return num, den


def resolve_group(path, field: str, semantic: str, values: np.ndarray, names: list[str] | None,
                  index=None, index_field: str | None = None) -> tuple[np.ndarray, TrackGroup]:
    """Build a group from columns, optional names and an optional index map.

    Without an index map, names that are all canonical (ARKit names, ``x``/``y``/``z``...) give
    the index map, and columns out of canonical order are put in canonical order. ARKIT52
    columns must carry canonical ARKit names or an index map unless all 52 are present.
    """
    dims = values.shape[1]
    if names is not None and len(names) != dims:
        raise bad(path, field, f"{len(names)} names for {dims} columns")
    if index is not None:
        idx = check_dim_index(path, index_field or field, semantic, index, dims)
    elif names is not None and (idx := index_from_names(path, field, semantic, names)) is not None:
        order = sorted(range(dims), key=lambda i: idx[i])
        if order != list(range(dims)):
            values = values[:, order]
            names = [names[i] for i in order]
            idx = [idx[i] for i in order]
        c = canonical_dims(semantic_id(semantic))
        idx = None if idx == list(range(c)) else check_dim_index(path, field, semantic, idx, dims)
    else:
        if semantic == "ARKIT52" and names is not None and dims != 52:
            raise bad(path, field, "a subset of ARKIT52 needs canonical ARKit names (or an index map)")
        idx = check_dim_index(path, field, semantic, None, dims)
    if names is None:
        names = default_names(semantic, idx, dims)
    return values, TrackGroup(semantic, list(names), idx)
