"""LAM (aigc3d/LAM_WebRender) expression JSON: ARKit-52 weights plus a head pose.

Layout: ``names`` (52 ARKit names), ``frames[i].weights`` (52 floats), optional
``frames[i].time`` (seconds) and top-level ``head_pose`` ([frames, 3]).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..spec_tables import arkit52_names
from ..track import Track, TrackGroup
from ._common import bad, check_values, frame_rate_from_times

DESCRIPTION = "LAM expression JSON (names + frames[i].weights, 52 ARKit; head_pose as HEAD_ROTATION)"
DEFAULT_FRAME_RATE = (30, 1)
HEAD_POSE_NOTE = ("head_pose is read as an axis-angle head rotation in radians (HEAD_ROTATION); "
                  "the LAM files do not document its convention, this is an assumption")


def load(path: str | Path, head_pose: bool = True, **options) -> Track:
    """Read a LAM expression JSON.

    Args:
        head_pose: include ``head_pose`` as a HEAD_ROTATION group when the file has one.
    """
    if options:
        raise TypeError(f"lam-json takes no options besides head_pose, got {sorted(options)}")
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad(path, "file", f"not valid JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise bad(path, "file", "top level is not an object")
    for key in ("names", "frames"):
        if key not in doc:
            raise bad(path, key, "missing")
    names = doc["names"]
    canon = arkit52_names()
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise bad(path, "names", "must be a list of strings")
    if len(names) != 52 or sorted(names) != sorted(canon):
        unknown = sorted(set(names) - set(canon))
        missing = sorted(set(canon) - set(names))
        raise bad(path, "names", f"must be the 52 canonical ARKit names (unknown {unknown}, missing {missing})")
    frames = doc["frames"]
    if not isinstance(frames, list):
        raise bad(path, "frames", "must be a list")
    rows = []
    for i, f in enumerate(frames):
        if not isinstance(f, dict) or "weights" not in f:
            raise bad(path, f"frames[{i}].weights", "missing")
        rows.append(f["weights"])
    weights = check_values(path, "frames[].weights", rows if rows else np.zeros((0, 52)), 2, 52)
    order = [names.index(n) for n in canon]
    weights = weights[:, order]
    notes = []
    if order != list(range(52)):
        notes.append("names were not in canonical ARKit order; columns reordered")

    times = [f.get("time") for f in frames]
    frame_rate = DEFAULT_FRAME_RATE
    if times and all(isinstance(t, int | float) for t in times):
        frame_rate = frame_rate_from_times(times, DEFAULT_FRAME_RATE)
    else:
        notes.append("no frames[i].time: 30 fps assumed")

    groups = [TrackGroup("ARKIT52", list(canon))]
    cols = [weights]
    if head_pose and "head_pose" in doc:
        pose = check_values(path, "head_pose", doc["head_pose"] if doc["head_pose"] else np.zeros((0, 3)), 2, 3)
        if pose.shape[0] != weights.shape[0]:
            raise bad(path, "head_pose", f"has {pose.shape[0]} rows, frames has {weights.shape[0]}")
        groups.append(TrackGroup("HEAD_ROTATION", ["x", "y", "z"]))
        cols.append(pose)
        notes.append(HEAD_POSE_NOTE)
    return Track(np.concatenate(cols, axis=1), groups, frame_rate, source=str(path), notes=notes)
