"""fctrack: the name mapping and pose conversion (no mediapipe needed), and a short real run."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from refcodec.importers import load_track
from refcodec.spec_tables import arkit52_names
from tools import fctrack

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "samples" / "aniportrait" / "pose_ref_video.mp4"
MODEL = ROOT / "samples" / "models" / "face_landmarker_v2_with_blendshapes.task"
HAVE_TRACKER = importlib.util.find_spec("mediapipe") is not None and importlib.util.find_spec("av") is not None

# MediaPipe's blendshape categories, as the Face Landmarker model reports them.
MEDIAPIPE_CATEGORIES = ["_neutral"] + [n for n in arkit52_names() if n != "tongueOut"]


def test_name_mapping():
    src, idx = fctrack.blendshape_index_map(MEDIAPIPE_CATEGORIES)
    assert idx == list(range(51))  # tongueOut (canonical 51) is absent
    assert src == list(range(1, 52))  # _neutral (position 0) is dropped
    assert [MEDIAPIPE_CATEGORIES[p] for p in src] == list(arkit52_names())[:51]


def test_name_mapping_reorders():
    shuffled = ["jawOpen", "_neutral", "browDownLeft", "tongueOut", "eyeBlinkRight"]
    src, idx = fctrack.blendshape_index_map(shuffled)
    assert idx == [0, 9, 24, 51]
    assert [shuffled[p] for p in src] == ["browDownLeft", "eyeBlinkRight", "jawOpen", "tongueOut"]
    with pytest.raises(ValueError):
        fctrack.blendshape_index_map(["jawOpen", "jawOpen"])


def test_pose_from_matrix_converts_cm_to_m():
    m = np.eye(4)
    c, s = np.cos(0.3), np.sin(0.3)
    m[:3, :3] = [[c, -s, 0], [s, c, 0], [0, 0, 1]]
    m[:3, 3] = [1.0, -2.0, -30.0]
    rot, trans = fctrack.pose_from_matrix(m)
    np.testing.assert_allclose(rot, [0, 0, 0.3], atol=1e-12)
    np.testing.assert_allclose(trans, [0.01, -0.02, -0.30], atol=1e-15)


def test_missing_faces_hold_previous():
    a, b = np.full(57, 0.25), np.full(57, 0.5)
    track, missing = fctrack.build_track([None, a, None, None, b, None], list(range(51)), (25, 1), "t")
    assert missing == 4
    np.testing.assert_array_equal(track.values, np.vstack([a, a, a, a, b, b]))
    assert [g.semantic for g in track.groups] == ["ARKIT52", "HEAD_ROTATION", "HEAD_TRANSLATION"]
    assert track.groups[0].dim_index == list(range(51))
    with pytest.raises(ValueError, match="no face"):
        fctrack.fill_missing([None, None])


def test_help_mentions_groups(capsys):
    with pytest.raises(SystemExit) as info:
        fctrack.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "ARKIT52" in out and "HEAD_TRANSLATION" in out and "--json" in out


@pytest.mark.skipif(not HAVE_TRACKER, reason="mediapipe/av not installed (pip install -e .[track])")
def test_track_first_frames(tmp_path, capsys):
    out = tmp_path / "clip.npz"
    rc = fctrack.main([str(CLIP), "-o", str(out), "--max-frames", "10", "--json", "--model", str(MODEL)])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["frames"] == 10 and summary["frame_rate"] == [25, 1]
    t = load_track(out)
    assert t.values.shape == (10, 57)
    assert [(g.semantic, len(g.names)) for g in t.groups] == [("ARKIT52", 51), ("HEAD_ROTATION", 3), ("HEAD_TRANSLATION", 3)]
    bs = t.values[:, :51]
    assert bs.min() >= 0.0 and bs.max() <= 1.0
    assert np.linalg.norm(t.values[:, 51:54], axis=1).max() < 1.0  # a roughly frontal head, radians
    assert 0.05 < -t.values[:, 56].mean() < 2.0  # a face some tens of cm in front of the camera, metres
    csv_out = tmp_path / "clip.csv"
    assert fctrack.main([str(CLIP), "-o", str(csv_out), "--max-frames", "3", "--no-progress"]) == 0
    assert load_track(csv_out).values.shape == (3, 57)


@pytest.mark.skipif(not HAVE_TRACKER, reason="mediapipe/av not installed")
def test_missing_video(tmp_path, capsys):
    assert fctrack.main([str(tmp_path / "none.mp4")]) == fctrack.EXIT_IO
    assert "no such file" in capsys.readouterr().err


def test_clear_message_without_optional_packages(monkeypatch, capsys):
    monkeypatch.setitem(__import__("sys").modules, "mediapipe", None)
    assert fctrack.main([str(CLIP)]) == fctrack.EXIT_MISSING_DEPS
    err = capsys.readouterr().err
    assert "mediapipe" in err and "pip install" in err
