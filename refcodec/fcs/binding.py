"""The stream-to-avatar binding hash (SPEC 5.2.1, R-17)."""

from __future__ import annotations

import hashlib

from ..errors import E_LAYOUT_MISMATCH
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
        raise E_LAYOUT_MISMATCH(f"stream is bound to avatar 0x{header.avatar_hash:016x}, this avatar's digest is 0x{digest:016x}",
                                field="avatar_hash")
