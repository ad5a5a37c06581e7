"""fcdump on containers: every element listed with consistent offsets, errors reported with
their offsets and exit codes, JSON and summary that add up (SPEC chapter 11)."""

from __future__ import annotations

import json

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
        body = [e for e in s.elements if not e.name.startswith("section_header.")]
        ends = [e.offset + len(e.raw) for e in body if len(e.raw) < 16]
        assert body[0].offset == 0
        starts = [e.offset for e in body]
        assert starts == sorted(starts)
        assert all(end in starts[1:] + [s.raw_size] for end in ends)


def test_every_declared_element_of_used_structures_is_listed():
    trace = trace_container(encode_avatar(full_avatar(mode="triangle", sh_degree=2)))
    listed = {e.name.split(".")[-1].split("[")[0] for s in trace.sections for e in s.elements} | {e.name.split(".")[-1] for e in trace.header}
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
