"""fcrender end to end (small sizes) and the image metrics (SPEC 13.5, R-88, R-89)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("gsplat")
# One torch thread per test process: the suite runs under pytest-xdist on 2 cores, and
# oversubscribed OpenMP threads make small renders many times slower.
torch.set_num_threads(1)
av = pytest.importorskip("av")

from refcodec.render.metrics import psnr, ssim  # noqa: E402
from tools import fcrender  # noqa: E402
from tools._cli import EXIT_FC_ERROR_BASE, EXIT_IO  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "lam_p2-1"
LAM_ZIP = SAMPLES / "p2-1.zip"
LAM_TRACK = SAMPLES / "test_expression_1s.json"


def test_psnr_by_hand():
    a = torch.zeros(4, 5, 3)
    assert psnr(a, a + 0.1) == pytest.approx(20.0)  # MSE 0.01 -> 10 log10(1 / 0.01)
    assert math.isinf(psnr(a, a))
    with pytest.raises(ValueError):
        psnr(a, torch.zeros(5, 4, 3))


def test_ssim_of_flat_images_by_hand():
    # Constant images x = 0.2, y = 0.5: no variance, so SSIM = (2 mx my + C1) / (mx^2 + my^2 + C1)
    # with C1 = 0.01^2 (the contrast-structure term is C2 / C2 = 1).
    x, y = torch.full((16, 16, 3), 0.2), torch.full((16, 16, 3), 0.5)
    c1 = 0.0001
    assert ssim(x, y) == pytest.approx((2 * 0.2 * 0.5 + c1) / (0.04 + 0.25 + c1), rel=1e-5)
    rng = np.random.default_rng(0)
    img = torch.from_numpy(rng.uniform(0, 1, (20, 24, 3)).astype(np.float32))
    assert ssim(img, img) == pytest.approx(1.0, abs=1e-6)


@pytest.fixture(scope="module")
def lam_files(tmp_path_factory):
    if not (LAM_ZIP.exists() and LAM_TRACK.exists()):
        pytest.skip("samples/lam_p2-1 not present")
    from refcodec.fcs.encoder import EncoderConfig, build_header, encode_track
    from refcodec.importers import load_track

    d = tmp_path_factory.mktemp("render")
    track = load_track(LAM_TRACK)
    track.values = track.values[:4]
    fcs = d / "lam8.fcs"
    fcs.write_bytes(encode_track(track, build_header(track, 8, 30), EncoderConfig(intra_interval=30)))
    return d, fcs


def run_json(capsys, argv) -> dict:
    assert fcrender.main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_fcrender_png_frames_with_orbit(lam_files, capsys):
    d, fcs = lam_files
    out = d / "png"
    summary = run_json(capsys, [str(LAM_ZIP), str(fcs), "-o", str(out), "--size", "40x24", "--frames", "2", "--start", "1", "--yaw", "30"])
    assert summary["frames"] == 2 and (summary["width"], summary["height"]) == (40, 24)
    assert sorted(p.name for p in out.iterdir()) == ["frame_00001.png", "frame_00002.png"]
    # The PNG decodes (through FFmpeg) to the stated size.
    with av.open(str(out / "frame_00001.png")) as c:
        frame = next(c.decode(video=0))
    assert (frame.width, frame.height) == (40, 24)


def test_fcrender_mp4_side_by_side_against_the_unquantized_track(lam_files, capsys):
    d, fcs = lam_files
    out = d / "cmp.mp4"
    summary = run_json(capsys, [str(LAM_ZIP), str(fcs), "-o", str(out), "--size", "32", "--side-by-side", str(LAM_TRACK)])
    assert summary["frames"] == 4 and summary["compared_frames"] == 4
    assert summary["psnr_min"] > 40.0  # 8-bit parameters against the unquantized ones
    with av.open(str(out)) as c:
        frames = list(c.decode(video=0))
    assert len(frames) == 4 and (frames[0].width, frames[0].height) == (64, 32)


def test_fcrender_errors(lam_files, tmp_path, capsys):
    d, fcs = lam_files
    assert fcrender.main([str(LAM_ZIP), str(tmp_path / "missing.fcs"), "-o", str(tmp_path / "x")]) == EXIT_IO
    bad = tmp_path / "bad.fcs"
    bad.write_bytes(b"XXXX" + fcs.read_bytes()[4:])
    code = fcrender.main([str(LAM_ZIP), str(bad), "-o", str(tmp_path / "y"), "--json"])
    err = json.loads(capsys.readouterr().out)["error"]
    assert err["error_class"] == "E_SIGNATURE" and code == EXIT_FC_ERROR_BASE + err["code"]
    with pytest.raises(SystemExit) as info:
        fcrender.main([str(LAM_ZIP), str(fcs), "-o", str(tmp_path / "z"), "--size", "0"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        fcrender.main([str(LAM_ZIP), str(fcs), "-o", str(tmp_path / "z"), "--pitch", "120"])
    assert info.value.code == 2
