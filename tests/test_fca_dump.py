"""Canonical dump of a container's exact tier (SPEC 11.10, R-69): records built by hand with struct."""

from __future__ import annotations

import struct

import numpy as np
from fca_helpers import full_avatar
from test_fca_framing import minimal_file

from refcodec.fca import PackConfig, encode_avatar
from refcodec.fca.container import read_container
from refcodec.fca.dump import canonical_dump, record_md5s


def rec(name: str, kind: str, fmt: str, *values) -> bytes:
    payload = struct.pack("<" + fmt, *values) if fmt else b""
    size = {"u": 4, "i": 4, "f": 4, "h": 2}[kind]
    return name.encode() + b"\0" + kind.encode() + struct.pack("<I", len(payload) // size) + payload


def test_minimal_file_dump_by_hand():
    """One static Gaussian with raw binary32 attributes (the hand-built file of test_fca_framing)."""
    expected = b"".join(
        [
            rec("meta.counts", "u", "3I", 1, 0, 0),
            rec("meta.layout", "u", ""),
            rec("meta.render", "f", "21f", 64, 48, 50, 50, 32, 24, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 1, 1, 1),
            rec("attr.positions", "f", "3f", 0.5, -1.0, 2.0),
            rec("attr.sh_dc", "f", "3f", 0.1, 0.2, 0.3),
            rec("attr.log_scales", "f", "3f", -4.0, -4.5, -5.0),
            rec("attr.rotations", "f", "4f", 1, 0, 0, 0),
            rec("attr.opacity_logits", "f", "f", 2.0),
        ]
    )
    assert canonical_dump(read_container(minimal_file(zstd_meta=True))) == expected


def test_dump_is_independent_of_compression_and_names_records():
    """The exact tier does not depend on how sections are stored (zstd or not)."""
    avatar = full_avatar(4, mode="triangle", sh_degree=1)
    a = read_container(encode_avatar(avatar, PackConfig(compress=True)))
    b = read_container(encode_avatar(avatar, PackConfig(compress=False)))
    assert canonical_dump(a) == canonical_dump(b)
    names = [n for n, _ in record_md5s(a)]
    assert names[:3] == ["meta.counts", "meta.layout", "meta.render"] and "bind.barycentric" in names and "defm.skin.weights" in names


def test_quantized_records_follow_the_formula():
    """attr records hold min + q*step in binary32 (R-58), computed here from the parsed samples."""
    avatar = full_avatar(6, sh_degree=0)
    parsed = read_container(encode_avatar(avatar, PackConfig.plain(opacity_bits=5)))
    sec = next(s for s in parsed.all(b"ATTR") if s.payload.attribute_id == 4)
    blk = sec.payload.attribute
    step = (np.float32(blk.q_max[0]) - np.float32(blk.q_min[0])) / np.float32(31)
    values = np.float32(blk.q_min[0]) + np.asarray(blk.q_values).astype(np.float32) * step
    dump = canonical_dump(parsed)
    key = b"attr.opacity_logits\0f" + struct.pack("<I", len(values))
    at = dump.index(key) + len(key)
    assert dump[at : at + 4 * len(values)] == values.astype("<f4").tobytes()


def _table_11_2() -> list[tuple[str, str]]:
    """(section type, record name pattern) of each name in SPEC table 11-2, in row order."""
    import re
    from pathlib import Path

    spec = (Path(__file__).resolve().parents[1] / "SPEC.md").read_text(encoding="utf-8")
    body = spec.split("Table 11-2: records of the canonical dump", 1)[1].split("\n\n", 2)[1]
    rows = []
    for line in body.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows += [(cells[0], name) for name in re.findall(r"`([a-z0-9_.<>]+)`", cells[1])]
    return rows


def _row_keys(rows):
    """A regex per row, and the sort key of a record: rows that repeat per morph, joint or layer
    sort by (first row of the group, index, row), the others by their row (SPEC 11.10, R-205)."""
    import re

    first_of_group: dict[str, int] = {}
    compiled = []
    for r, (section, name) in enumerate(rows):
        group = re.sub(r"\.<[tjl]>\..*", "", name) if re.search(r"<[tjl]>", name) else None
        if group is not None:
            first_of_group.setdefault(group, r)
        pattern = re.escape(name).replace(re.escape("<key>"), "(?:.*)")
        for ph in "tjl":
            pattern = pattern.replace(re.escape(f"<{ph}>"), "(0|[1-9][0-9]*)")
        compiled.append((section, re.compile(pattern + r"\Z"), group))

    def key(section: str, name: str) -> tuple[int, int, int]:
        for r, (sec, rx, group) in enumerate(compiled):
            m = rx.match(name)
            if section in [x.strip() for x in sec.split(",")] and m:  # a row may name several section types
                return (first_of_group[group], int(m.group(1)), r) if group else (r, 0, r)
        raise AssertionError(f"record {name!r} of a {section} section is not in table 11-2")

    return key


def test_dump_follows_table_11_2_section_by_section():
    """SPEC 11.10, R-205, R-206: the reference dump of every decodable container vector holds the
    records of each section in file order, each named as table 11-2 writes it and in its row order."""
    import json

    from conformance.paths import SUITE
    from refcodec.fca.container import ParsedContainer
    from refcodec.fca.dump import records

    key = _row_keys(_table_11_2())
    checked = 0
    for card_path in sorted((SUITE / "container").glob("*.json")):
        card = json.loads(card_path.read_text())
        if card["verdict"] == "reject":
            continue
        parsed = read_container((card_path.parent / card["file"]).read_bytes())
        meta = parsed.sections[0]
        per_section = [[name for name, _, _ in records(ParsedContainer(parsed.header, parsed.level, [meta]))]]
        for sec in parsed.sections[1:]:
            alone = [name for name, _, _ in records(ParsedContainer(parsed.header, parsed.level, [meta, sec]))][3:]
            per_section.append(alone)
            if sec.skipped:
                assert alone == [], sec.name  # an unknown ancillary section writes no record
        assert [name for name, _, _ in records(parsed)] == [n for names in per_section for n in names], card["name"]
        for sec, names in zip(parsed.sections, per_section, strict=True):
            keys = [key(sec.name, n) for n in names]
            assert keys == sorted(keys), (card["name"], sec.name, names)
        checked += 1
    assert checked >= 25
