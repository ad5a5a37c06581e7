"""FLAME parameters in the GaussianAvatars ``flame_param.npz`` layout.

Arrays (extra singleton axes tolerated): ``expr`` [T, N] -> EXPRESSION, ``rotation`` [T, 3] ->
HEAD_ROTATION, ``neck_pose`` [T, 3] -> NECK, ``jaw_pose`` [T, 3] -> JAW, ``eyes_pose`` [T, 6]
-> EYES, ``translation`` [T, 3] -> HEAD_TRANSLATION. ``shape`` and ``static_offset`` (per
subject, not per frame) are skipped. Rotations are FLAME axis-angle radians; translation is in
the fit's world units, taken as metres.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ..track import Track, TrackGroup
from ._common import AXIS_NAMES, bad, check_values, parse_frame_rate, squeeze_to

DESCRIPTION = "GaussianAvatars flame_param.npz (expr, rotation, neck_pose, jaw_pose, eyes_pose, translation)"
DEFAULT_FRAME_RATE = (25, 1)
#: (array, semantic, columns or None for any) in output group order (registry id order).
FIELDS = [
    ("expr", "EXPRESSION", None),
    ("rotation", "HEAD_ROTATION", 3),
    ("translation", "HEAD_TRANSLATION", 3),
    ("jaw_pose", "JAW", 3),
    ("neck_pose", "NECK", 3),
    ("eyes_pose", "EYES", 6),
]
SKIPPED = ("shape", "static_offset", "dynamic_offset")


def load(path: str | Path, frame_rate=None, required: tuple[str, ...] = ("expr",), **options) -> Track:
    """Read a FLAME parameter npz.

    Args:
        frame_rate: the file stores none; default 25 fps (``"num/den"`` or (num, den)).
        required: arrays that must be present (others are included when present).
    """
    if options:
        raise TypeError(f"flame-npz takes frame_rate and required, got {sorted(options)}")
    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise bad(path, "file", f"not a readable npz archive ({exc})") from exc
    with data:
        for key in required:
            if key not in data.files:
                raise bad(path, key, "missing")
        if not any(k in data.files for k, _, _ in FIELDS):
            raise bad(path, "expr", f"no FLAME arrays found (expected some of {[k for k, _, _ in FIELDS]})")
        cols, groups, frames = [], [], None
        for key, semantic, width in FIELDS:
            if key not in data.files:
                continue
            raw = data[key]
            if width is None:
                arr = np.asarray(raw)
                core = [s for s in arr.shape if s != 1]
                width = core[-1] if core else 1
                if arr.ndim < 2 and arr.size > 1:
                    raise bad(path, key, f"expected [frames, N], got shape {arr.shape}")
            arr = squeeze_to(path, key, raw, width)
            if frames is None:
                frames = arr.shape[0]
            elif arr.shape[0] != frames:
                raise bad(path, key, f"has {arr.shape[0]} frames, earlier arrays have {frames}")
            names = list(AXIS_NAMES[semantic]) if semantic in AXIS_NAMES else [f"expression[{i}]" for i in range(width)]
            cols.append(check_values(path, key, arr, 2, width))
            groups.append(TrackGroup(semantic, names))
    fr = DEFAULT_FRAME_RATE if frame_rate is None else parse_frame_rate(path, "frame_rate option", frame_rate)
    notes = [] if frame_rate is not None else ["flame_param.npz stores no frame rate: 25 fps assumed"]
    return Track(np.concatenate(cols, axis=1), groups, fr, source=str(path), notes=notes)
