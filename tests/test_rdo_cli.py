"""fcenc --quality and fcpack --basis (SPEC 9.4) on a small synthetic avatar: the CLI contract and a real round trip."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from fca_helpers import full_avatar

from refcodec.fca import PackConfig, decode_avatar, encode_avatar
from refcodec.fcs.binding import avatar_digest
from refcodec.fcs.decoder import decode_file
from refcodec.importers.npz import save as save_npz
from refcodec.rdo import problem as rdo_problem
from refcodec.spec_tables import arkit52_names
from refcodec.track import Track, TrackGroup
from tools import fcenc, fcpack


def tiny_track(frames: int = 24) -> Track:
    t = np.arange(frames)[:, None]
    arkit = 0.5 + 0.4 * np.sin(t / np.linspace(3, 9, 52))
    head = 0.05 * np.sin(t / np.array([5.0, 7.0, 11.0]))
    jaw = 0.02 * np.cos(t / np.array([4.0, 6.0, 8.0]))
    groups = [TrackGroup("ARKIT52", list(arkit52_names())), TrackGroup("HEAD_ROTATION", ["x", "y", "z"]), TrackGroup("JAW", ["x", "y", "z"])]
    return Track(np.concatenate([arkit, head, jaw], axis=1), groups, (30, 1))


def small_avatar():
    """The synthetic avatar of fca_helpers at a 32x24 default camera (fast renders for the sensitivity)."""
    avatar = full_avatar(with_map=False, with_skeleton=False)
    r = avatar.render
    return replace(avatar, render=replace(r, width=32, height=24, fx=r.fx / 8, fy=r.fy / 8, cx=r.cx / 8, cy=r.cy / 8))


def test_quality_needs_an_avatar(tmp_path, capsys):
    track = tmp_path / "t.npz"
    save_npz(tiny_track(), track)
    assert fcenc.main([str(track), "-o", str(tmp_path / "o.fcs"), "--quality", "40"]) == 2
    assert "--quality" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:  # argparse: a value outside 20..80
        fcenc.main([str(track), "-o", str(tmp_path / "o.fcs"), "--quality", "5"])
    assert exc.value.code == 2


def test_basis_needs_a_training_track(tmp_path, capsys):
    fca = tmp_path / "a.fca"
    fca.write_bytes(encode_avatar(full_avatar(with_map=False, with_skeleton=False), PackConfig()))
    assert fcpack.main([str(fca), "-o", str(tmp_path / "b.fca"), "--basis", "4"]) == 2
    assert "--basis-track" in capsys.readouterr().err


def test_quality_round_trip_on_a_basis_avatar(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(rdo_problem, "DEFAULT_POINTS", 1)  # one operating point: fewer renders
    track = tmp_path / "t.npz"
    save_npz(tiny_track(), track)
    src = tmp_path / "a.fca"
    src.write_bytes(encode_avatar(small_avatar(), PackConfig()))
    packed = tmp_path / "k.fca"
    assert fcpack.main([str(src), "-o", str(packed), "--basis", "3", "--basis-track", str(track), "--json"]) == 0
    capsys.readouterr()
    avatar = decode_avatar(packed.read_bytes())
    assert avatar.layout[0] == ("EXPRESSION", 3) and avatar.deformation.coeff_map.source == "EXPRESSION"
    out = tmp_path / "q.fcs"
    assert fcenc.main([str(track), "--avatar", str(packed), "--quality", "45", "-o", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["predicted_psnr_db"] >= 45.0
    result = decode_file(out.read_bytes())
    assert result.header.avatar_hash == avatar_digest(packed.read_bytes())  # bound to the avatar (SPEC 5.2.1, R-17)
    assert len(result.frames) == 24 and report["bytes"] == out.stat().st_size
