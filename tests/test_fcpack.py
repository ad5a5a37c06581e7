"""fcpack: LAM zip -> .fca, 3DGS PLY -> static .fca, .fca -> 3DGS PLY; reports and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from refcodec.avatar.ply import read_ply, write_ply
from refcodec.fca import PackConfig, decode_avatar
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


# ---- presets and named options: the CLI writes what the library writes --------------------------
def _static_ply(tmp_path) -> Path:
    from fca_helpers import gaussians

    g = gaussians(np.random.default_rng(7), 60, sh_degree=1)
    g.rotations /= np.linalg.norm(g.rotations, axis=1, keepdims=True)
    src = tmp_path / "small.ply"
    src.write_bytes(write_ply(g))
    return src


@pytest.mark.parametrize("name", ["default", "balanced", "compact", "lossless"])
def test_each_preset_writes_the_library_bytes(name, tmp_path, capsys):
    from refcodec.avatar.loading import load_avatar
    from refcodec.fca import encode_avatar
    from refcodec.fca.presets import preset

    src = _static_ply(tmp_path)
    out = tmp_path / f"{name}.fca"
    assert fcpack.main([str(src), "-o", str(out), "--preset", name, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["preset"] == name
    assert out.read_bytes() == encode_avatar(load_avatar(src), preset(name))


def test_presets_differ_and_lossless_flag_is_the_lossless_preset(tmp_path, capsys):
    from refcodec.fca.presets import PRESETS, preset

    src = _static_ply(tmp_path)
    written = {}
    for name in PRESETS:
        out = tmp_path / f"{name}.fca"
        assert fcpack.main([str(src), "-o", str(out), "--preset", name, "--json"]) == 0
        written[name] = out.read_bytes()
    capsys.readouterr()
    assert len(set(written.values())) == len(PRESETS)  # four distinct configurations
    assert fcpack.main([str(src), "-o", str(tmp_path / "l.fca"), "--lossless", "--json"]) == 0
    assert (tmp_path / "l.fca").read_bytes() == written["lossless"]
    assert preset("default") == PackConfig() and preset("default") is not preset("default")


def test_no_option_is_the_library_default_and_level_sets_the_container_level(tmp_path, capsys):
    from refcodec.avatar.loading import load_avatar
    from refcodec.fca import encode_avatar

    src = _static_ply(tmp_path)
    avatar = load_avatar(src)
    plain, leveled, knob = tmp_path / "plain.fca", tmp_path / "l20.fca", tmp_path / "knob.fca"
    assert fcpack.main([str(src), "-o", str(plain), "--json"]) == 0
    assert fcpack.main([str(src), "-o", str(leveled), "--level", "20", "--json"]) == 0
    assert fcpack.main([str(src), "-o", str(knob), "--color-bits", "6", "--zstd-level", "3", "--json"]) == 0
    capsys.readouterr()
    assert plain.read_bytes() == encode_avatar(avatar, PackConfig())
    # SPEC 11.2: level_idc is the file header's 7th byte (signature 4, fca_version, profile_idc, level_idc).
    assert plain.read_bytes()[6] == 10 and leveled.read_bytes()[6] == 20
    # --level changes the level and nothing else (it used to set morph_max_error)
    assert leveled.read_bytes() == encode_avatar(avatar, PackConfig(level_idc=20))
    assert knob.read_bytes() == encode_avatar(avatar, PackConfig(color_bits=6, zstd_level=3))


def test_bench_configurations_are_the_presets():
    from refcodec.fca.presets import preset
    from tools.bench_avatar import CONFIGS

    assert set(CONFIGS) == {"default", "balanced", "compact", "lossless"}
    assert all(CONFIGS[name] == preset(name) for name in CONFIGS)


@pytest.mark.skipif(not LAM.exists(), reason="bundled LAM sample missing")
def test_lam_default_cli_equals_library_default(tmp_path, capsys):
    """The issue's case: the CLI without options used to write 922,175 B against the library's default."""
    from refcodec.avatar.loading import load_avatar
    from refcodec.fca import encode_avatar

    out = tmp_path / "lam.fca"
    assert fcpack.main([str(LAM), "-o", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert out.read_bytes() == encode_avatar(load_avatar(LAM), PackConfig())
    assert report["config"]["morph_max_error"] == PackConfig().morph_max_error and report["config"]["level_idc"] is None
