"""Open any avatar the tools accept: a ``.fca`` container, the LAM avatar ``.zip`` or a 3DGS ``.ply``."""

from __future__ import annotations

from pathlib import Path

from .model import Avatar


def load_avatar(path: str | Path, data: bytes | None = None) -> Avatar:
    """An Avatar from a ``.fca``, a LAM ``.zip`` or a 3DGS ``.ply``, told apart by the first bytes
    (``FCA1``, ``PK``, ``ply``), then by the extension. Raises ValueError for anything else and the
    container's FcError classes for a malformed ``.fca``."""
    path = Path(path)
    blob = path.read_bytes() if data is None else data
    suffix = path.suffix.lower()
    if blob[:4] == b"FCA1" or (suffix == ".fca" and blob[:2] != b"PK" and blob[:3] != b"ply"):
        from ..fca import decode_avatar

        return decode_avatar(blob)
    if blob[:2] == b"PK" or suffix == ".zip":
        from .lam import load_lam_zip

        return load_lam_zip(path)
    if blob[:3] == b"ply" or suffix == ".ply":
        from .ply import read_ply

        return read_ply(blob)
    raise ValueError(f"{path}: not a .fca container, a LAM .zip or a 3DGS .ply")
