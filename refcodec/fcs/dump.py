"""Canonical parameter dump and per-frame MD5 (SPEC 6.6, R-34)."""

from __future__ import annotations

import hashlib

import numpy as np


def canonical_frame_bytes(values: np.ndarray) -> bytes:
    """The canonical dump of one output vector: binary32 little-endian in layout order."""
    return np.asarray(values, dtype="<f4").tobytes()


def frame_md5s(frames: list[np.ndarray]) -> list[str]:
    """MD5 (hex) of each frame's canonical dump, the exact-tier conformance hashes."""
    return [hashlib.md5(canonical_frame_bytes(v)).hexdigest() for v in frames]


def md5_lines(frames: list[np.ndarray]) -> str:
    """One line per frame, ``<md5>  <frame index>``, as libaom's .md5 files list frames."""
    return "".join(f"{h}  {i}\n" for i, h in enumerate(frame_md5s(frames)))
