"""fcdump on containers: every element listed with consistent offsets, errors reported with
their offsets and exit codes, JSON and summary that add up (SPEC chapter 11)."""

from __future__ import annotations

import json
import re

from fca_helpers import full_avatar

from refcodec.fca import PackConfig, encode_avatar
from refcodec.fca.declarations import STRUCTURES, flatten
from refcodec.fca.inspect import trace_container
from refcodec.fca.syntax import FILE_HEADER_BYTES, SECTION_HEADER_BYTES
from tools import fcdump


def test_elements_tile_each_payload_exactly():
    """Property: in every section, element i ends where element i+1 starts and the last ends at raw_size."""
    trace = trace_container(encode_avatar(full_avatar(mode="triangle", sh_degree=2)))
    assert trace.error is None
    for s in trace.sections:
        pos = 0
        for e in (e for e in s.payload_elements if not e.derived):
            assert e.offset == pos, e.name
            pos += e.size
        assert pos == s.raw_size


def test_every_declared_element_of_used_structures_is_listed():
    trace = trace_container(encode_avatar(full_avatar(mode="triangle", sh_degree=2)))
    listed = {re.sub(r"\[\d+\]", "", e.path.split(".")[-1]) for s in trace.sections for e in s.elements} | {e.path for e in trace.header}
    for name in ("file_header", "section_header", "meta_section", "defm_section", "skeleton", "bind_section", "attr_section", "text_section"):
        for element, desc in flatten(STRUCTURES[name]):
            if not desc.endswith("( )"):
                assert element in listed, (name, element)


def test_dump_text_json_summary_and_error(tmp_path, capsys):
    path = tmp_path / "a.fca"
    data = encode_avatar(full_avatar(), PackConfig(color_bits=6))
    path.write_bytes(data)
    assert fcdump.main([str(path)]) == 0
    text = capsys.readouterr().out
    assert "section table:" in text and "gaussian_count" in text and "attributes:" in text
    assert fcdump.main([str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] and doc["kind"] == "fca" and all(s["crc_ok"] for s in doc["sections"])
    assert fcdump.main([str(path), "--summary", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    stored = sum(v["stored_bytes"] for v in summary["by_type"].values())
    assert FILE_HEADER_BYTES + stored == len(data)  # the section table accounts for every byte
    assert summary["by_type"]["ATTR"]["sections"] == 5 + 1  # sh_degree 1 adds SH_REST
    bad = bytearray(data)
    bad[FILE_HEADER_BYTES + SECTION_HEADER_BYTES + 2] ^= 0xFF  # inside META's stored payload
    path.write_bytes(bytes(bad))
    assert fcdump.main([str(path)]) == 16 + 13  # E_CRC
    out = capsys.readouterr().out
    assert "file_header.header_crc" in out and out.rstrip().splitlines()[-1].startswith("ERROR E_CRC in section[0].section_crc at byte 32")


def test_summary_is_a_section_table_that_names_attributes(tmp_path, capsys):
    """--summary: one row per section (ATTR rows name their attribute), sizes that add up to the file, no Python dicts."""
    data = encode_avatar(full_avatar(sh_degree=1), PackConfig.plain(color_bits=6))
    path = tmp_path / "a.fca"
    path.write_bytes(data)
    assert fcdump.main([str(path), "--summary", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    rows = summary["section_table"]
    assert [r["index"] for r in rows] == list(range(summary["sections"]))
    assert FILE_HEADER_BYTES + sum(SECTION_HEADER_BYTES + r["stored_bytes"] for r in rows) == len(data)
    attr_rows = [r for r in rows if r["type"] == "ATTR"]
    assert sorted(a for r in attr_rows for a in r["attributes"]) == sorted(["POSITION", "COLOR_DC", "LOG_SCALE", "ROTATION", "OPACITY", "SH_REST"])
    assert all(r["crc_ok"] for r in rows) and all(len(r["attributes"]) == 1 for r in attr_rows)
    trace = trace_container(data)
    assert [r["elements"] for r in rows] == [len([e for e in s.payload_elements if not e.derived]) for s in trace.sections]
    # an ATTR section of N Gaussians x C channels at q_bits < 32: id, q_bits, C mins, C maxes, N*C samples
    n = trace.sections[0].value("gaussian_count")
    for r in attr_rows:
        channels = {"POSITION": 3, "COLOR_DC": 3, "LOG_SCALE": 3, "ROTATION": 4, "OPACITY": 1, "SH_REST": 9}[r["attributes"][0]]
        assert r["values"] == 2 + 2 * channels + n * channels
    assert fcdump.main([str(path), "--summary"]) == 0
    text = capsys.readouterr().out
    assert "{" not in text and "}" not in text and text.rstrip().endswith("ok")
    for r in rows:
        line = next(ln for ln in text.splitlines() if ln.split()[:2] == [str(r["index"]), r["type"]])
        assert all(a in line for a in r["attributes"]) and str(r["stored_bytes"]) in line


def test_json_trace_positions_and_arrays(tmp_path, capsys):
    """--json: SPEC 4.1 positions (no file offset inside a zstd payload), array counts, truncation flags."""
    data = encode_avatar(full_avatar(n=100, sh_degree=0))
    path = tmp_path / "a.fca"
    path.write_bytes(data)
    assert fcdump.main([str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    for s in doc["sections"]:
        for e in s["elements"]:
            if e["section"] is None:
                assert e["file_offset"] == e["offset"] and e["position"] == str(e["offset"])
            elif s["compression"] == "zstd":
                assert e["file_offset"] is None and e["position"] == f"s{s['index']}+{e['offset']}"
            else:
                assert e["file_offset"] == s["file_offset"] + SECTION_HEADER_BYTES + e["offset"]
            if "count" in e:
                assert e["value_complete"] == (e["count"] <= 64) and len(e["value"]) == min(e["count"], 64)
            assert e["raw_complete"] == (len(e["raw_hex"]) == 2 * e["size"])
    positions = next(s for s in doc["sections"] if s["attributes"] == ["POSITION"])
    samples = next(e for e in positions["elements"] if e["path"] == "attribute.q_values")
    assert samples["count"] == 300 and not samples["value_complete"] and samples["name"] == f"section[{positions['index']}]:ATTR.q_values"


def test_json_trace_of_every_container_vector(capsys):
    """--json over the whole container suite: valid JSON, the verdict of the card (0 or 16 + code), never an internal
    error (derived elements such as DEFS's decoded morph targets are shown by their counts, SPEC 11.5.3)."""
    from conformance.paths import SUITE

    for card_path in sorted((SUITE / "container").glob("*.json")):
        card = json.loads(card_path.read_text())
        rc = fcdump.main([str(card_path.parent / card["file"]), "--json"])
        doc = json.loads(capsys.readouterr().out)
        if card["verdict"] == "decode":
            assert rc == 0 and doc["ok"], card["name"]
        elif card["verdict"] == "reject":
            assert rc == 16 + card["expected"]["error"]["code"] and doc["error"]["error_class"] == card["expected"]["error"]["class"], card["name"]
