"""Command-line tools: fcdump, fcdec, fcenc (behaviour, exit codes, JSON)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from refcodec.fcs.decoder import decode_file
from refcodec.fcs.encoder import EncoderConfig, build_header, encode_track
from refcodec.track import Track, TrackGroup
from tools import fcdec, fcdump
from tools._cli import EXIT_FC_ERROR_BASE


@pytest.fixture(scope="module")
def stream(tmp_path_factory) -> tuple:
    rng = np.random.default_rng(3)
    values = np.clip(np.cumsum(rng.normal(0, 0.03, (45, 5)), axis=0) + 0.5, 0, 1)
    track = Track(values, [TrackGroup("ARKIT52", ["jawOpen", "mouthClose"], [24, 26]),
                           TrackGroup("HEAD_ROTATION", ["x", "y", "z"])], (30, 1))
    header = build_header(track, [8, 10], intra_interval=15, frame_crc=True)
    data = encode_track(track, header, EncoderConfig(intra_interval=15))
    path = tmp_path_factory.mktemp("s") / "t.fcs"
    path.write_bytes(data)
    return path, data, track, header


def test_fcdump_lists_every_element_with_offsets(stream, capsys):
    path, data, _, _ = stream
    assert fcdump.main([str(path)]) == 0
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if not ln.startswith("[")]
    assert lines[0].split()[:2] == ["0", "fcs_signature"]
    assert "group_dim_index[0][1]" in out and "residual[1][2]" in out and "frame_crc" in out
    # each line: offset, name, raw bits, '=', value; the bits' length matches the offset steps
    offsets = [int(ln.split()[0]) for ln in lines]
    bits = [ln.split()[2] for ln in lines]
    for (o1, b1), o2 in zip(zip(offsets, bits, strict=False), offsets[1:], strict=False):
        if not b1.endswith("..."):
            assert o2 >= o1 + len(b1)
    assert offsets[-1] + len(bits[-1]) == len(data) * 8


def test_fcdump_json_round_trips_the_values(stream, capsys):
    path, _, track, header = stream
    assert fcdump.main([str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is True and doc["error"] is None
    kinds = [u["kind"] for u in doc["units"]]
    assert kinds[0] == "sequence_header" and kinds.count("I") == 3 and kinds.count("P") == 42
    seq = {e["name"]: e["value"] for e in doc["units"][0]["elements"]}
    assert seq["group_dim_index[0][0]"] == 24 and seq["frame_crc_flag"] == 1
    # raw bits agree with the value for unsigned fields
    for e in doc["units"][1]["elements"]:
        if e["descriptor"].startswith("u("):
            assert int(e["bits"], 2) == e["value"]


def test_fcdump_summary_accounts_for_every_bit(stream, capsys):
    path, data, _, _ = stream
    assert fcdump.main([str(path), "--summary", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert sum(s["bits_by_category"].values()) == len(data) * 8
    assert s["frames"] == 45 and s["frames_by_type"]["I"] == 3
    assert s["kbit_per_s"] == pytest.approx(len(data) * 8 / 1.5 / 1000)
    assert s["bits_by_category"]["crc"] == 45 * 8
    assert sum(g["bits_I"] + g["bits_P"] for g in s["groups"]) == s["bits_by_category"]["payload"]


def test_fcdump_malformed_prints_up_to_the_error(stream, tmp_path, capsys):
    _, data, _, _ = stream
    bad = bytearray(data)
    bad[-1] ^= 0x01  # last frame's CRC-8
    p = tmp_path / "bad.fcs"
    p.write_bytes(bytes(bad))
    rc = fcdump.main([str(p)])
    out = capsys.readouterr().out
    assert rc == EXIT_FC_ERROR_BASE + 13
    assert "residual[1][2]" in out.splitlines()[-3] or "frame_crc" in out.splitlines()[-2]
    last = out.splitlines()[-1]
    assert last.startswith("ERROR E_CRC in frame_crc at byte") and f"(bit {(len(data) - 1) * 8})" in last


def test_fcdec_md5_lines_are_md5_of_le_binary32(stream, capsys):
    path, data, _, _ = stream
    assert fcdec.main([str(path), "--md5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    frames = decode_file(data).frames
    assert len(lines) == len(frames)
    for i, (line, f) in enumerate(zip(lines, frames, strict=True)):
        digest = hashlib.md5(b"".join(np.float32(v).tobytes() for v in f.values)).hexdigest()  # LE binary32
        assert line == f"{digest}  {i}"


def test_fcdec_canonical_dump_file(stream, tmp_path):
    path, data, _, header = stream
    out = tmp_path / "d.f32"
    assert fcdec.main([str(path), "-o", str(out)]) == 0
    dump = np.frombuffer(out.read_bytes(), dtype="<f4").reshape(-1, header.total_dims)
    assert np.array_equal(dump, decode_file(data).matrix())


def test_fcdec_rejects_with_exit_code_and_json(stream, tmp_path, capsys):
    _, data, _, _ = stream
    p = tmp_path / "sig.fcs"
    p.write_bytes(b"XCS1" + data[4:])
    assert fcdec.main([str(p), "--json"]) == EXIT_FC_ERROR_BASE + 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["error"]["error_class"] == "E_SIGNATURE" and doc["error"]["byte_offset"] == 0


def test_fcdec_resilient_report(stream, tmp_path, capsys):
    _, data, _, _ = stream
    bad = bytearray(data)
    bad[-1] ^= 0x01
    p = tmp_path / "bad.fcs"
    p.write_bytes(bytes(bad))
    assert fcdec.main([str(p), "--resilient", "--report", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["statuses"] == {"decoded": 44, "concealed_error": 1}  # SPEC 7.3, R-40
    assert doc["units"][-1]["error_class"] == "E_CRC"


def test_missing_file_exit_code(tmp_path):
    assert fcdump.main([str(tmp_path / "nope.fcs")]) == 3
