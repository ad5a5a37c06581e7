"""fcpack: LAM zip -> .fca, 3DGS PLY -> static .fca, .fca -> 3DGS PLY; reports and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from refcodec.avatar.ply import read_ply, write_ply
from refcodec.fca import decode_avatar
from tools import fcpack

LAM = Path(__file__).resolve().parents[1] / "samples" / "lam_p2-1" / "p2-1.zip"


@pytest.mark.skipif(not LAM.exists(), reason="bundled LAM sample missing")
def test_lam_zip_to_fca_report(tmp_path, capsys):
    out = tmp_path / "lam.fca"
    assert fcpack.main([str(LAM), "-o", str(out), "--zstd-level", "3", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["gaussians"] == 20018 and report["bytes"] == out.stat().st_size
    avatar = decode_avatar(out.read_bytes())
    assert avatar.binding.mode == "vertex" and avatar.deformation.morphs.count == 51
    assert avatar.layout == [("ARKIT52", 52), ("HEAD_ROTATION", 3)]
    # the report's errors agree with a direct comparison at the stated bit depth (14-bit positions: half a step)
    width = report["summary"]["attributes"][0]["max"][0] - report["summary"]["attributes"][0]["min"][0]
    assert report["errors"]["positions"]["max"] <= width / (2**14 - 1)


def test_ply_round_trip_through_a_lossless_container(tmp_path, capsys):
    """3DGS PLY -> static .fca (lossless) -> PLY gives the same Gaussians."""
    from fca_helpers import gaussians

    g = gaussians(np.random.default_rng(1), 25, sh_degree=2)
    g.rotations /= np.linalg.norm(g.rotations, axis=1, keepdims=True)
    src = tmp_path / "in.ply"
    src.write_bytes(write_ply(g))
    fca, ply = tmp_path / "s.fca", tmp_path / "out.ply"
    assert fcpack.main([str(src), "-o", str(fca), "--lossless", "--export-ply", str(ply), "--json"]) == 0
    capsys.readouterr()
    back = read_ply(ply.read_bytes()).gaussians
    orig = read_ply(src.read_bytes()).gaussians
    for name in ("positions", "rotations", "log_scales", "opacity_logits", "sh_dc", "sh_rest"):
        assert np.array_equal(getattr(back, name), getattr(orig, name)), name


def test_bad_inputs_exit_with_codes(tmp_path, capsys):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not an avatar")
    assert fcpack.main([str(junk), "-o", str(tmp_path / "x.fca")]) == 3
    bad = tmp_path / "bad.fca"
    bad.write_bytes(b"FCA1" + bytes(20))
    assert fcpack.main([str(bad), "-o", str(tmp_path / "y.fca")]) == 16 + 3  # fca_version 0: E_VERSION
    err = capsys.readouterr().err
    assert "error:" in err
