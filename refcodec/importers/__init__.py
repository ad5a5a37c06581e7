"""Parameter-track importers: our npz/csv formats and foreign tracker/dataset outputs.

``load_track(path, fmt=None, **options)`` returns a :class:`refcodec.track.Track`; ``fmt`` is
detected from the file name and content when omitted. ``save_track`` writes our own formats.
``FORMATS`` maps each format name to a one-line description. See docs/track-formats.md.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from types import ModuleType

import numpy as np

from ..track import Track
from . import adnerf_json, csvtrack, facegood_npy, flame_npz, lam_json, npz

_MODULES: dict[str, ModuleType] = {
    "npz": npz,
    "csv": csvtrack,
    "lam-json": lam_json,
    "facegood-npy": facegood_npy,
    "adnerf-json": adnerf_json,
    "flame-npz": flame_npz,
}

#: Format name -> one-line description (shown by ``fcenc --help``).
FORMATS: dict[str, str] = {name: mod.DESCRIPTION for name, mod in _MODULES.items()}

#: Formats :func:`save_track` can write.
WRITABLE = ("npz", "csv")

__all__ = ["FORMATS", "WRITABLE", "detect_format", "load_track", "save_track"]


def detect_format(path: str | Path) -> str:
    """Guess the format of ``path`` from its suffix and, where needed, its content."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".npy":
        return "facegood-npy"
    if suffix == ".npz":
        try:
            with zipfile.ZipFile(path) as zf:
                keys = {n[:-4] if n.endswith(".npy") else n for n in zf.namelist()}
        except zipfile.BadZipFile as exc:
            raise ValueError(f"{path}: file: not an npz archive") from exc
        flame_keys = {k for k, _, _ in flame_npz.FIELDS} | set(flame_npz.SKIPPED)
        return "flame-npz" if keys & flame_keys else "npz"
    if suffix == ".json":
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
        if b'"transform_matrix"' in head:
            return "adnerf-json"
        if b'"weights"' in head or b'"names"' in head:
            return "lam-json"
        raise ValueError(f"{path}: file: JSON of an unknown layout (expected LAM or AD-NeRF); pass fmt=")
    raise ValueError(f"{path}: cannot tell the format from the name; pass fmt= one of {sorted(FORMATS)}")


def load_track(path: str | Path, fmt: str | None = None, **options) -> Track:
    """Read a parameter track.

    Args:
        path: the file.
        fmt: a key of :data:`FORMATS`; detected from the file when None.
        options: format-specific options (e.g. ``active_only=True`` for facegood-npy).

    Raises:
        FileNotFoundError: no such file.
        ValueError: unknown format, or bad content (the message names the file and the field).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if fmt is None:
        fmt = detect_format(path)
    if fmt not in _MODULES:
        raise ValueError(f"unknown track format {fmt!r}; known: {sorted(FORMATS)}")
    return _MODULES[fmt].load(path, **options)


def save_track(track: Track, path: str | Path, fmt: str | None = None) -> None:
    """Write ``track`` in one of our formats (``npz`` or ``csv``; from the suffix when None)."""
    path = Path(path)
    if fmt is None:
        fmt = path.suffix.lower().lstrip(".")
    if fmt not in WRITABLE:
        raise ValueError(f"cannot write format {fmt!r}; writable: {list(WRITABLE)}")
    if track.values.shape[1] and not np.all(np.isfinite(track.values)):
        raise ValueError(f"{path}: values: contain NaN or infinity")
    _MODULES[fmt].save(track, path)
