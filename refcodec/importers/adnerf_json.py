"""AD-NeRF ``transforms_*.json``: a 4x4 ``transform_matrix`` per frame from a 3DMM tracker.

The rotation part becomes HEAD_ROTATION (axis-angle, radians, via :func:`rotation.rotation_log`)
and the translation column HEAD_TRANSLATION, taken as metres as stored. The matrices are used as
given (AD-NeRF stores the camera pose relative to the head, which is the inverse of the head pose
in camera space; the codec only needs a consistent convention). 25 fps (the source video).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..track import Track, TrackGroup
from ._common import bad, check_values, parse_frame_rate
from .rotation import is_rotation, rotation_log

DESCRIPTION = "AD-NeRF transforms JSON (4x4 transform_matrix per frame -> HEAD_ROTATION + HEAD_TRANSLATION, 25 fps)"
DEFAULT_FRAME_RATE = (25, 1)


def load(path: str | Path, frame_rate=None, **options) -> Track:
    """Read an AD-NeRF transforms JSON.

    Args:
        frame_rate: override the default 25 fps (``"num/den"`` or (num, den)).
    """
    if options:
        raise TypeError(f"adnerf-json takes only frame_rate, got {sorted(options)}")
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad(path, "file", f"not valid JSON ({exc})") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("frames"), list):
        raise bad(path, "frames", "missing or not a list")
    mats = []
    for i, f in enumerate(doc["frames"]):
        if not isinstance(f, dict) or "transform_matrix" not in f:
            raise bad(path, f"frames[{i}].transform_matrix", "missing")
        mats.append(f["transform_matrix"])
    try:
        m = np.asarray(mats, dtype=np.float64) if mats else np.zeros((0, 4, 4))
    except (TypeError, ValueError) as exc:
        raise bad(path, "frames[].transform_matrix", f"not numeric 4x4 matrices ({exc})") from exc
    if m.ndim != 3 or m.shape[1:] != (4, 4):
        raise bad(path, "frames[].transform_matrix", f"expected 4x4 matrices, got shape {m.shape}")
    check_values(path, "frames[].transform_matrix", m.reshape(len(m), 16), 2, 16)
    ok = is_rotation(m[:, :3, :3], tol=1e-4) if len(m) else np.zeros(0, bool)
    if not np.all(ok):
        raise bad(path, f"frames[{int(np.argmin(ok))}].transform_matrix", "rotation part is not a rotation (orthonormal, det +1)")
    rot = rotation_log(m[:, :3, :3]) if len(m) else np.zeros((0, 3))
    trans = m[:, :3, 3]
    fr = DEFAULT_FRAME_RATE if frame_rate is None else parse_frame_rate(path, "frame_rate option", frame_rate)
    notes = ["transform_matrix used as stored (AD-NeRF camera-to-head pose); translation taken as metres",
             "frame rate not stored: 25 fps (the AD-NeRF source video) assumed" if frame_rate is None else ""]
    return Track(np.concatenate([rot, trans], axis=1),
                 [TrackGroup("HEAD_ROTATION", ["x", "y", "z"]), TrackGroup("HEAD_TRANSLATION", ["x", "y", "z"])],
                 fr, source=str(path), notes=[n for n in notes if n])
