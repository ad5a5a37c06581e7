"""FACEGOOD Audio2Face blendshape exports (``bs_value_*.npy``): [frames, 116] rig weights.

The arrays were written by Python 2 (read with ``encoding="latin1"``, no pickle needed). The
channel names come from ``shirley_1119_bs_name.npy`` beside the file when present. The rig's
channels are not ARKit, so the group is UNSPECIFIED; the frame rate is not stored (30 fps assumed).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..track import Track, TrackGroup
from ._common import bad, check_values, parse_frame_rate

DESCRIPTION = "FACEGOOD bs_value_*.npy (116 rig channels, UNSPECIFIED; options active_only, frame_rate)"
NAMES_FILE = "shirley_1119_bs_name.npy"
DEFAULT_FRAME_RATE = (30, 1)


def _load_npy(path: Path, field: str) -> np.ndarray:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "created on Python 2" notice
            return np.load(path, encoding="latin1", allow_pickle=False)
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise bad(path, field, f"not a readable .npy array ({exc})") from exc


def load(path: str | Path, active_only: bool = False, names_path: str | Path | None = None,
         frame_rate=None, **options) -> Track:
    """Read a FACEGOOD blendshape array.

    Args:
        active_only: keep only channels whose value changes over the clip (with an index map).
        names_path: channel-name file (default: ``shirley_1119_bs_name.npy`` beside ``path``).
        frame_rate: override the assumed 30 fps (``"num/den"`` or (num, den)).
    """
    if options:
        raise TypeError(f"facegood-npy takes active_only, names_path, frame_rate; got {sorted(options)}")
    path = Path(path)
    values = check_values(path, "array", _load_npy(path, "array"), 2)
    dims = values.shape[1]
    notes = []
    npath = Path(names_path) if names_path is not None else path.with_name(NAMES_FILE)
    if npath.exists():
        raw = _load_npy(npath, "names")
        names = [str(n) for n in np.asarray(raw).reshape(-1)]
        if len(names) != dims:
            raise bad(npath, "names", f"{len(names)} channel names for {dims} columns of {path.name}")
    else:
        names = [f"ch[{i}]" for i in range(dims)]
        notes.append(f"{NAMES_FILE} not found beside the file: channels named ch[i]")
    if frame_rate is None:
        fr = DEFAULT_FRAME_RATE
        notes.append("frame rate not stored in the file: 30 fps assumed")
    else:
        fr = parse_frame_rate(path, "frame_rate option", frame_rate)
    index = None
    if active_only:
        active = np.nonzero(values.max(axis=0) > values.min(axis=0))[0] if values.shape[0] else np.zeros(0, int)
        if active.size == 0:
            raise bad(path, "array", "no channel varies, nothing to keep with active_only")
        index = [int(i) for i in active]
        values = values[:, index]
        names = [names[i] for i in index]
        notes.append(f"active_only: kept {len(index)} of {dims} channels")
    return Track(values, [TrackGroup("UNSPECIFIED", names, index)], fr, source=str(path), notes=notes)
