"""The CLI contract of every console script (tools/_cli.py, README "Tools"): exit status, one-line
message naming the option or file, never a traceback; atomic outputs; fcdec --resilient on a
truncated file (SPEC 7.3, R-99)."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest

from refcodec.fcs.decoder import decode_file, decode_file_partial
from refcodec.fcs.dump import canonical_frame_bytes
from refcodec.fcs.encoder import EncoderConfig, build_header, encode_track
from refcodec.fcs.storage import iter_units
from refcodec.spec_tables import arkit52_names
from refcodec.track import Track, TrackGroup
from tools import _cli

ROOT = Path(__file__).resolve().parents[1]
LAM_ZIP = ROOT / "samples" / "lam_p2-1" / "p2-1.zip"
LAM_TRACK = ROOT / "samples" / "lam_p2-1" / "test_expression_1s.json"
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
HAS_LAM = LAM_ZIP.exists() and LAM_TRACK.exists()
ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0  # root ignores file permissions


def small_track(frames: int = 40) -> Track:
    rng = np.random.default_rng(3)
    values = np.cumsum(rng.normal(0, 0.05, (frames, 5)), axis=0)
    arkit = arkit52_names()
    groups = [TrackGroup("ARKIT52", [arkit[24], arkit[25]], [24, 25]), TrackGroup("HEAD_ROTATION", [f"head_rotation.{a}" for a in "xyz"])]
    return Track(values, groups, (30, 1), source="test")


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Inputs shared by the table: a valid stream and track, damaged and odd files."""
    d = tmp_path_factory.mktemp("cli")
    track = small_track()
    from refcodec.importers import save_track

    save_track(track, d / "track.npz")
    stream = encode_track(track, build_header(track, 8, 10), EncoderConfig(intra_interval=10))
    (d / "good.fcs").write_bytes(stream)
    (d / "badsig.fcs").write_bytes(b"XXXX" + stream[4:])
    (d / "sigonly.fcs").write_bytes(b"FCS1")
    (d / "junk.bin").write_bytes(b"not an avatar at all")
    (d / "badver.fca").write_bytes(b"FCA1" + bytes(20))
    (d / "outdir.f32").mkdir()
    (d / "plain").mkdir()
    return {p.name: p for p in d.iterdir()} | {"dir": d, "lam.zip": LAM_ZIP}


def run_tool(module: str, argv: list[str], capsys) -> tuple[int, str, str]:
    """Run a tool's main in process as its console script would: (status, stdout, stderr)."""
    main = importlib.import_module(f"tools.{module}").main
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse exits; so does a console script
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def module_of(script: str) -> str:
    return SCRIPTS[script].split(":")[0].split(".", 1)[1]


# (script, argv with {name} placeholders for files, expected status, text the message must contain)
BAD = [
    # fcenc
    ("fcenc", ["{good.fcs}"], 2, "--format"),
    ("fcenc", ["{track.npz}", "-o", "{dir}/o.fcs", "--intra-interval", "100000"], 2, "--intra-interval"),
    ("fcenc", ["{track.npz}", "-o", "{dir}/o.fcs", "--intra-interval", "-5"], 2, "--intra-interval"),
    ("fcenc", ["{track.npz}", "-o", "{dir}/o.fcs", "--intra-interval", "0"], 2, "1..65535"),
    ("fcenc", ["{track.npz}", "-o", "{dir}/o.fcs", "--bits", "20"], 2, "--bits"),
    ("fcenc", ["{track.npz}", "-o", "{dir}/o.fcs", "--bits", "head_rotation=0"], 2, "1..16"),
    ("fcenc", ["{track.npz}", "-o", "{dir}/o.fcs", "--bits", "nosuchgroup=8"], 2, "nosuchgroup"),
    ("fcenc", ["{track.npz}", "-o", "{dir}/o.fcs", "--eg-order", "16"], 2, "--eg-order"),
    ("fcenc", ["{track.npz}", "-o", "{dir}/o.fcs", "--frame-rate", "0/1"], 2, "--frame-rate"),
    ("fcenc", ["{track.npz}", "-o", "{dir}/o.fcs", "--keep", "arkit52=0-9"], 2, "--keep"),
    ("fcenc", ["{track.npz}", "-o", "{dir}/o.fcs", "--level", "10", "--frame-rate", "100"], 2, "--level"),
    ("fcenc", ["{track.npz}", "-o", "{dir}/missing/o.fcs"], 3, "missing"),
    ("fcenc", ["{track.npz}", "-o", "{plain}"], 3, "directory"),
    ("fcenc", ["{dir}/nope.npz"], 3, "nope.npz"),
    ("fcenc", ["{junk.bin}", "--format", "npz", "-o", "{dir}/o.fcs"], 3, "junk.bin"),
    ("fcenc", ["{track.npz}", "-o", "{dir}/o.fcs", "--ranges", "{dir}/nope.json"], 3, "nope.json"),
    # fcdec
    ("fcdec", ["{good.fcs}", "-o", "{dir}/x.txt"], 2, "-o"),
    ("fcdec", ["{good.fcs}", "-o", "{dir}/missing/x.f32"], 3, "missing"),
    ("fcdec", ["{good.fcs}", "-o", "{outdir.f32}"], 3, "directory"),
    ("fcdec", ["{good.fcs}", "-o", "{plain}"], 3, "directory"),
    ("fcdec", ["{sigonly.fcs}", "-o", "{dir}/x.npz"], 2, "sequence header"),
    ("fcdec", ["{sigonly.fcs}", "-o", "{dir}/x.csv"], 2, "sequence header"),
    ("fcdec", ["{badsig.fcs}"], 16 + 2, "E_SIGNATURE"),
    ("fcdec", ["{dir}/nope.fcs"], 3, "nope.fcs"),
    ("fcdec", ["{plain}"], 3, "plain"),
    # fcdump
    ("fcdump", ["{dir}/nope.fcs"], 3, "nope.fcs"),
    ("fcdump", ["{good.fcs}", "--max-units", "-1"], 2, "--max-units"),
    ("fcdump", ["{badsig.fcs}"], 16 + 2, "E_SIGNATURE"),
    ("fcdump", ["{badver.fca}"], 16 + 3, "E_VERSION"),
    # fctrack
    ("fctrack", ["{dir}/nope.mp4"], 3, "nope.mp4"),
    ("fctrack", ["{dir}/nope.mp4", "-o", "{dir}/x.txt"], 2, "-o"),
    ("fctrack", ["{dir}/nope.mp4", "--min-confidence", "2"], 2, "--min-confidence"),
    ("fctrack", ["{dir}/nope.mp4", "--max-frames", "0"], 2, "--max-frames"),
    # fcbench-stream
    ("fcbench-loss", ["--seeds", "0"], 2, "--seeds"),
    ("fcbench-stream", ["--reps", "2"], 2, "--reps"),
    ("fcbench-stream", ["--depths", "17"], 2, "--depths"),
    ("fcbench-stream", ["--data", "{dir}/nope"], 3, "nope"),
    # fcdemo
    ("fcdemo", ["--loss", "2"], 2, "--loss"),
    ("fcdemo", ["--size", "0"], 2, "--size"),
    ("fcdemo", ["--track", "{dir}/nope.json"], 3, "nope.json"),
    # fcpack
    ("fcpack", ["{junk.bin}"], 2, "-o"),
    ("fcpack", ["{junk.bin}", "-o", "{dir}/a.fca", "--level", "25"], 2, "--level"),
    ("fcpack", ["{junk.bin}", "-o", "{dir}/a.fca", "--position-bits", "17"], 2, "--position-bits"),
    ("fcpack", ["{junk.bin}", "-o", "{dir}/a.fca", "--zstd-level", "0"], 2, "--zstd-level"),
    ("fcpack", ["{junk.bin}", "-o", "{dir}/a.fca", "--preset", "tiny"], 2, "--preset"),
    ("fcpack", ["{junk.bin}", "-o", "{dir}/a.fca", "--preset", "compact", "--lossless"], 2, "--lossless"),
    ("fcpack", ["{junk.bin}", "-o", "{dir}/a.fca", "--morph-max-error", "-1"], 2, "--morph-max-error"),
    ("fcpack", ["{junk.bin}", "-o", "{dir}/a.fca"], 3, "junk.bin"),
    ("fcpack", ["{dir}/nope.zip", "-o", "{dir}/a.fca"], 3, "nope.zip"),
    ("fcpack", ["{junk.bin}", "-o", "{dir}/missing/a.fca"], 3, "missing"),
    ("fcpack", ["{badver.fca}", "-o", "{dir}/a.fca"], 16 + 3, "E_VERSION"),
    # fcrender (option and output checks come before the avatar is read)
    ("fcrender", ["{junk.bin}", "{good.fcs}", "-o", "{dir}/x.avi"], 2, ".mp4"),
    ("fcrender", ["{junk.bin}", "{good.fcs}", "-o", "{dir}/missing/x.mp4"], 3, "missing"),
    ("fcrender", ["{junk.bin}", "{good.fcs}", "-o", "{dir}/x.mp4", "--threads", "0"], 2, "--threads"),
    ("fcrender", ["{junk.bin}", "{good.fcs}", "-o", "{dir}/x.mp4", "--distance", "1e39"], 2, "--distance"),
    ("fcrender", ["{junk.bin}", "{good.fcs}", "-o", "{dir}/x.mp4", "--distance", "nan"], 2, "--distance"),
    ("fcrender", ["{junk.bin}", "{good.fcs}", "-o", "{dir}/x.mp4", "--size", "0"], 2, "--size"),
    ("fcrender", ["{junk.bin}", "{good.fcs}", "-o", "{dir}/x.mp4", "--pitch", "91"], 2, "--pitch"),
    ("fcrender", ["{junk.bin}", "{good.fcs}", "-o", "{dir}/x.mp4", "--crf", "52"], 2, "--crf"),
    ("fcrender", ["{junk.bin}", "{good.fcs}", "-o", "{dir}/x.mp4", "--frames", "0"], 2, "--frames"),
    ("fcrender", ["{junk.bin}", "{good.fcs}", "-o", "{dir}/x.mp4", "--start", "-1"], 2, "--start"),
    ("fcrender", ["{dir}/nope.fca", "{good.fcs}", "-o", "{dir}/x.mp4"], 3, "nope.fca"),
    ("fcrender", ["{junk.bin}", "{good.fcs}", "-o", "{dir}/x.mp4"], 3, "junk.bin"),
    ("fcrender", ["{lam.zip}", "{sigonly.fcs}", "-o", "{dir}/x.mp4"], 3, "no frame"),
    ("fcrender", ["{lam.zip}", "{badsig.fcs}", "-o", "{dir}/x.mp4"], 16 + 2, "E_SIGNATURE"),
    ("fcrender", ["{lam.zip}", "{dir}/nope.fcs", "-o", "{dir}/x.mp4"], 3, "nope.fcs"),
    # fcconform
    ("fcconform", ["--jobs", "0"], 2, "--jobs"),
    ("fcconform", ["--timeout", "0"], 2, "--timeout"),
    ("fcconform", ["--timeout", "inf"], 2, "--timeout"),
    ("fcconform", ["--suite", "{dir}/nope"], 3, "nope"),
    ("fcconform", ["--filter", "no_such_vector*"], 2, "no vector"),
    # fcbench-avatar / fcbench-render
    ("fcbench-avatar", ["--reps", "0"], 2, "--reps"),
    ("fcbench-avatar", ["--lam", "{dir}/nope.zip", "--render-frames", "0"], 3, "nope.zip"),
    ("fcbench-render", ["--threads", "0"], 2, "--threads"),
    ("fcbench-render", ["--speed-frames", "0"], 2, "--speed-frames"),
    ("fcbench-rd", ["--frames", "1"], 2, "--frames"),
    ("fcbench-rd", ["--threads", "0"], 2, "--threads"),
    # fcfuzz
    ("fcfuzz", ["--no-such-option"], 2, "--no-such-option"),
]


def expand(argv: list[str], files: dict[str, Path]) -> list[str]:
    out = []
    for arg in argv:
        for name, path in files.items():
            arg = arg.replace("{" + name + "}", str(path))
        out.append(arg)
    return out


def test_every_console_script_is_in_the_table():
    assert {row[0] for row in BAD} == set(SCRIPTS)


@pytest.mark.parametrize(("script", "argv", "status", "mention"), BAD, ids=[f"{r[0]} {' '.join(r[1])}" for r in BAD])
def test_bad_invocations_follow_the_contract(script, argv, status, mention, files, capsys):
    code, out, err = run_tool(module_of(script), expand(argv, files), capsys)
    assert code == status, (code, out, err)
    assert "Traceback" not in out + err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) <= 1, err
    if status >= 16:
        assert mention in out + err  # fcdump prints the error as the last line of its trace (stdout)
    else:
        assert len(lines) >= 1 and mention in lines[-1], err


def test_help_of_every_script_documents_the_exit_codes_and_no_issue_numbers(capsys):
    for script in SCRIPTS:
        code, out, _ = run_tool(module_of(script), ["--help"], capsys)
        assert code == 0, script
        text = " ".join(out.split())
        assert "exit status: 0 success; 2 bad command line" in text, script
        assert "issue" not in text.lower(), script


@pytest.mark.skipif(ROOT_USER, reason="root writes anywhere")
def test_unwritable_output_exits_3(files, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, _, err = run_tool("fcenc", [str(files["track.npz"]), "-o", str(locked / "o.fcs")], capsys)
        assert code == 3 and "permission" in err
        code, _, err = run_tool("fcdec", [str(files["good.fcs"]), "-o", str(locked / "o.f32")], capsys)
        assert code == 3 and "permission" in err
    finally:
        locked.chmod(0o700)


# ----------------------------------------------------------------------------- the shared layer
def _wrapped(exc: BaseException):
    @_cli.entry_point("fctest")
    def main(argv=None) -> int:
        raise exc

    return main


def test_unexpected_exception_is_one_line_with_a_documented_status(capsys):
    assert _wrapped(RuntimeError("boom\nsecond line"))([]) == _cli.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: RuntimeError: boom second line" in err and "Traceback" not in err
    assert _wrapped(RuntimeError("boom"))(["--debug"]) == _cli.EXIT_INTERNAL
    assert "Traceback" in capsys.readouterr().err  # --debug shows it


def test_interrupt_and_render_errors_map_to_the_contract(capsys):
    assert _wrapped(KeyboardInterrupt())([]) == 130
    assert capsys.readouterr().err == "fctest: error: interrupted\n"
    from refcodec.render import RenderError

    # a renderer input carried by a file (not an option) is a rejected value: 16 + E_VALUE
    assert _wrapped(RenderError("gaussians.rotations[3]", "all-zero quaternion"))([]) == 16 + 8
    assert "gaussians.rotations[3]" in capsys.readouterr().err
    # a field the caller chose (RenderError.from_caller: camera, orbit, ...) is a bad command line
    assert _wrapped(RenderError("camera.fx", "not finite"))([]) == 2
    assert capsys.readouterr().err == "fctest: error: camera.fx: not finite\n"
    assert _wrapped(PermissionError(13, "Permission denied", "/x/y"))([]) == 3
    assert capsys.readouterr().err == "fctest: error: /x/y: Permission denied\n"


# ----------------------------------------------------------------------------- atomic outputs
def test_atomic_output_leaves_the_old_file_on_interrupt(tmp_path):
    target = tmp_path / "out.mp4"
    target.write_bytes(b"old complete output")
    with pytest.raises(KeyboardInterrupt), _cli.atomic_output(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".mp4"  # same directory, same suffix for PyAV
        tmp.write_bytes(b"half a vid")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"old complete output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]
    _cli.write_atomic(target, b"new")
    assert target.read_bytes() == b"new" and sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_atomic_directory_replaces_only_on_success(tmp_path):
    target = tmp_path / "frames"
    with pytest.raises(RuntimeError), _cli.atomic_directory(target) as tmp:
        (tmp / "frame_00000.png").write_bytes(b"x")
        raise RuntimeError
    assert not target.exists() and list(tmp_path.iterdir()) == []
    with _cli.atomic_directory(target, stale="frame_*.png") as tmp:
        (tmp / "frame_00000.png").write_bytes(b"a")
    target.joinpath("notes.txt").write_text("mine")
    target.joinpath("frame_00009.png").write_bytes(b"stale")
    with _cli.atomic_directory(target, stale="frame_*.png") as tmp:
        (tmp / "frame_00001.png").write_bytes(b"b")
    assert sorted(p.name for p in target.iterdir()) == ["frame_00001.png", "notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames"]


def test_existing_outputs_survive_failing_runs(files, tmp_path, capsys):
    out = tmp_path / "keep.fcs"
    out.write_bytes(b"previous")
    assert run_tool("fcenc", [str(files["track.npz"]), "-o", str(out), "--bits", "20"], capsys)[0] == 2
    dump = tmp_path / "keep.f32"
    dump.write_bytes(b"previous")
    assert run_tool("fcdec", [str(files["badsig.fcs"]), "-o", str(dump)], capsys)[0] == 16 + 2
    assert out.read_bytes() == dump.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.f32", "keep.fcs"]


def test_fcenc_interrupted_while_writing_leaves_no_partial_file(files, tmp_path, monkeypatch, capsys):
    from tools import fcenc

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(fcenc, "encode_report", interrupted)
    out = tmp_path / "o.fcs"
    assert run_tool("fcenc", [str(files["track.npz"]), "-o", str(out)], capsys)[0] == 130
    assert list(tmp_path.iterdir()) == []


def test_fcenc_json_lists_every_group_name(files, tmp_path, capsys):
    import json

    code, out, _ = run_tool("fcenc", [str(files["track.npz"]), "-o", str(tmp_path / "o.fcs"), "--json"], capsys)
    assert code == 0
    names = [g["names"] for g in json.loads(out)["groups"]]
    assert names == [g.names for g in small_track().groups]  # every column of the input, nothing elided
    assert len(names[1]) == 3


# ----------------------------------------------------------------------------- fcdec --resilient, SPEC 7.3, R-99
def _truncated(files) -> tuple[bytes, bytes, int]:
    """(whole file, file cut inside its unit 12, frames of the complete units before the cut)."""
    data = files["good.fcs"].read_bytes()
    units = list(iter_units(data))
    cut_unit = units[12]
    cut = cut_unit.byte_offset + len(cut_unit.data) // 2
    frame_units_before = sum(1 for u in units[1:12])  # unit 0 is the sequence header; 1..11 are frames
    return data, data[:cut], frame_units_before


def test_decode_file_partial_keeps_the_frames_before_a_truncation(files):
    """R-99: the frames before the framing error are output, then the error class is reported."""
    data, cut, frames_before = _truncated(files)
    whole = decode_file(data)
    partial = decode_file_partial(cut)
    assert partial.framing_error is not None and partial.framing_error.error_class == "E_TRUNCATED"
    assert len(partial.frames) == frames_before == 11
    assert partial.matrix().tobytes() == whole.matrix()[:frames_before].tobytes()
    with pytest.raises(Exception) as info:
        decode_file(cut, strict=False)  # decode_file still raises: no frame is silently lost
    assert type(info.value).__name__ == "E_TRUNCATED"


def test_fcdec_resilient_writes_what_it_decoded_of_a_truncated_file(files, tmp_path, capsys):
    data, cut, frames_before = _truncated(files)
    src = tmp_path / "cut.fcs"
    src.write_bytes(cut)
    out = tmp_path / "cut.f32"
    code, _, err = run_tool("fcdec", [str(src), "--resilient", "-o", str(out)], capsys)
    assert code == 16 + 1 and "E_TRUNCATED" in err and f"after {frames_before} frame(s)" in err
    expected = b"".join(canonical_frame_bytes(f.values) for f in decode_file(data).frames[:frames_before])
    assert out.read_bytes() == expected
    strict_out = tmp_path / "strict.f32"
    assert run_tool("fcdec", [str(src), "-o", str(strict_out)], capsys)[0] == 16 + 1
    assert not strict_out.exists()  # strict mode writes nothing


# ----------------------------------------------------------------------------- fcrender
@pytest.fixture(scope="module")
def lam_stream(files):
    if not HAS_LAM:
        pytest.skip("samples/lam_p2-1 not present")
    from refcodec.importers import load_track

    track = load_track(LAM_TRACK)
    track.values = track.values[:3]
    path = files["dir"] / "lam3.fcs"
    path.write_bytes(encode_track(track, build_header(track, 8, 30), EncoderConfig(intra_interval=30)))
    return path


def test_fcrender_start_past_the_last_frame_is_a_usage_error(lam_stream, tmp_path, capsys):
    code, _, err = run_tool("fcrender", [str(LAM_ZIP), str(lam_stream), "-o", str(tmp_path / "x.mp4"), "--start", "3"], capsys)
    assert code == 2 and "--start" in err and "3 frame(s)" in err and "0..2" in err
    assert list(tmp_path.iterdir()) == []


def test_fcrender_interrupted_keeps_the_old_mp4_and_png_frames(lam_stream, tmp_path, monkeypatch, capsys):
    from refcodec.render import Renderer

    real = Renderer.render
    calls = {"n": 0}

    def render_then_interrupt(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Renderer, "render", render_then_interrupt)
    video = tmp_path / "old.mp4"
    video.write_bytes(b"an older complete video")
    argv = [str(LAM_ZIP), str(lam_stream), "--size", "16", "--quiet"]
    assert run_tool("fcrender", [*argv, "-o", str(video)], capsys)[0] == 130
    assert video.read_bytes() == b"an older complete video"
    calls["n"] = 0
    frames = tmp_path / "frames"
    assert run_tool("fcrender", [*argv, "-o", str(frames)], capsys)[0] == 130
    assert not frames.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.mp4"]


@pytest.mark.skipif(not HAS_LAM, reason="samples/lam_p2-1 not present")
def test_sigint_during_fcrender_leaves_the_old_output(tmp_path):
    """A real SIGINT to the console script while it encodes: exit 130, the old MP4 untouched, no temporary left."""
    video = tmp_path / "talk.mp4"
    video.write_bytes(b"previous render")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tools.fcrender", str(LAM_ZIP), str(LAM_TRACK), "-o", str(video), "--size", "48", "--threads", "1", "--quiet"],
        cwd=ROOT, env=os.environ | {"PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if any(p.name != video.name for p in tmp_path.iterdir()):  # the temporary MP4 exists: rendering starts
                break
            time.sleep(0.05)
        time.sleep(0.5)  # into the render loop
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert b"Traceback" not in err and err.decode().strip().endswith("fcrender: error: interrupted")
    assert video.read_bytes() == b"previous render"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["talk.mp4"]


# ----------------------------------------------------------------------------- fcbench-stream defaults
def test_bench_stream_defaults_to_data_dirs_that_exist(tmp_path, monkeypatch, capsys):
    from tools import bench_stream

    monkeypatch.setattr(bench_stream, "DEFAULT_DATA_DIRS", (tmp_path / "samples", tmp_path / "shared"))
    assert bench_stream.default_data_dirs() == []
    code, _, err = run_tool("bench_stream", ["--out", str(tmp_path / "out")], capsys)
    assert code == 3 and "--data" in err and not (tmp_path / "out").exists()
    (tmp_path / "shared").mkdir()
    assert bench_stream.default_data_dirs() == [tmp_path / "shared"]
    code, _, err = run_tool("bench_stream", ["--out", str(tmp_path / "out")], capsys)
    assert code == 3 and "none of the benchmark tracks" in err  # an empty directory: skipped tracks, then a clear error
