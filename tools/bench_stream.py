"""Stream benchmark: rates, entropy, framing overhead and speed of the reference FCS codec.

Placeholder, being written.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

from refcodec.spec_tables import arkit52_names
from refcodec.track import Track, TrackGroup

REPO = Path(__file__).resolve().parent.parent
DATA_DIRS = [REPO / "samples", Path("/work/shared/data")]


def _find(rel: str) -> Path | None:
    for base in DATA_DIRS:
        for cand in (base / rel, base / Path(rel).name):
            if cand.exists():
                return cand
    return None


def load_lam(path: Path) -> Track:
    """LAM ``test_expression_1s.json``: 52 ARKit weights + head_pose [T,3] (axis-angle), 30 fps."""
    d = json.loads(Path(path).read_text())
    names = list(d["names"])
    canon = list(arkit52_names())
    w = np.array([f["weights"] for f in d["frames"]], dtype=np.float64)
    order = [names.index(n) for n in canon]  # canonical ARKit-52 order (annex A)
    pose = np.asarray(d["head_pose"], dtype=np.float64).reshape(-1, 3)
    values = np.concatenate([w[:, order], pose], axis=1)
    groups = [TrackGroup("ARKIT52", canon), TrackGroup("HEAD_ROTATION", ["head_rotation.x", "head_rotation.y", "head_rotation.z"])]
    return Track(values, groups, (30, 1), source=str(path))


def load_facegood(path: Path, min_range: float = 1e-9) -> Track:
    """FACEGOOD ``bs_value_*.npy`` [T,116]: keep the channels that vary, UNSPECIFIED + dim_index, 30 fps."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = np.load(path, encoding="latin1", allow_pickle=False)
    x = np.asarray(x, dtype=np.float64)
    keep = [i for i in range(x.shape[1]) if x[:, i].max() - x[:, i].min() > min_range]
    groups = [TrackGroup("UNSPECIFIED", [f"bs[{i}]" for i in keep], dim_index=keep)]
    return Track(x[:, keep], groups, (30, 1), source=str(path))


def axis_angle(rot: np.ndarray) -> np.ndarray:
    """Axis-angle vectors of a stack of 3x3 rotation matrices (angles < pi)."""
    rot = np.asarray(rot, dtype=np.float64)
    cos = np.clip((np.trace(rot, axis1=1, axis2=2) - 1.0) / 2.0, -1.0, 1.0)
    angle = np.arccos(cos)
    v = np.stack([rot[:, 2, 1] - rot[:, 1, 2], rot[:, 0, 2] - rot[:, 2, 0], rot[:, 1, 0] - rot[:, 0, 1]], axis=1)
    s = np.sin(angle)
    scale = np.where(s > 1e-12, angle / np.where(s > 1e-12, 2.0 * s, 1.0), 0.5)
    return v * scale[:, None]


def load_adnerf(path: Path) -> Track:
    """AD-NeRF ``transforms_val.json``: 4x4 poses -> HEAD_ROTATION (axis-angle) + HEAD_TRANSLATION, 25 fps."""
    d = json.loads(Path(path).read_text())
    m = np.array([f["transform_matrix"] for f in d["frames"]], dtype=np.float64)
    rot = axis_angle(m[:, :3, :3])
    trans = m[:, :3, 3]
    groups = [TrackGroup("HEAD_ROTATION", ["head_rotation.x", "head_rotation.y", "head_rotation.z"]),
              TrackGroup("HEAD_TRANSLATION", ["head_translation.x", "head_translation.y", "head_translation.z"])]
    return Track(np.concatenate([rot, trans], axis=1), groups, (25, 1), source=str(path))
