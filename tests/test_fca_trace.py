"""The container trace is what the parser read (SPEC chapter 11, SPEC 4.1's position rule).

For every valid container conformance vector, each traced element is checked against the file
itself: the framing is walked here with ``struct`` and the payloads decompressed with
``zstandard`` directly, then every element's bytes are taken at its recorded position and
decoded here from its descriptor (SPEC 11.1.1, byte planes of 11.1.2) and compared with the
traced raw bytes and value. Elements tile each header and payload without gap or overlap, and
their names and descriptors are those of spec/syntax.toml.
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import pytest
import zstandard

from refcodec.fca.constructs import RAW_KEEP
from refcodec.fca.inspect import Element, trace_container
from refcodec.spec_tables import load

VECTORS = sorted((Path(__file__).resolve().parent.parent / "conformance" / "vectors" / "container").glob("y_*.fca"))
TOP = {
    "META": "meta_section",
    "TEXT": "text_section",
    "DEFM": "defm_section",
    "DEFS": "defs_section",
    "DEFR": "defr_section",
    "BIND": "bind_section",
    "ATTR": "attr_section",
    "LATN": "latn_section",
    "OMLP": "omlp_section",
}
DERIVED = {"mlp_input_dims", "mlp_output_dims"}  # SPEC 12.1: computed from the enclosing section, not stored
DERIVED_DEFS = {"subdivision", "vertex_count", "triangle_count", "decoded_vertices", "decoded_morph"}  # SPEC 11.5.3, R-154: the decoded mesh's counts


def _tables() -> dict[str, list[dict]]:
    return {s["name"]: s["elements"] for s in load("syntax")["structure"] if s["level"] == "byte"}


def allowed_elements(structure: str) -> set[tuple[str, str]]:
    """(name, descriptor) of the stored elements of ``structure`` and of the structures it contains."""
    tables, out, todo = _tables(), set(), [structure]
    while todo:
        for el in tables[todo.pop()]:
            if el["descriptor"].endswith("( )"):
                todo.append(el["descriptor"][:-3])
            else:
                out.add((el["name"], el["descriptor"]))
    return out


def split_sections(data: bytes) -> list[dict]:
    """The framing of SPEC 11.2, read here with struct; payloads decompressed with zstandard."""
    (count,) = struct.unpack_from("<H", data, 8)
    pos, out = 16, []
    for index in range(count):
        kind, flags, comp, _, stored, raw = struct.unpack_from("<4sBBHII", data, pos)
        body = data[pos + 20 : pos + 20 + stored]
        if kind.decode("latin-1") not in TOP:  # an unknown ancillary section is never decompressed
            payload = None
        else:
            payload = zstandard.ZstdDecompressor().decompress(body, max_output_size=raw) if comp == 1 else body
            assert len(payload) == raw
        out.append({"index": index, "type": kind.decode(), "offset": pos, "compressed": comp == 1, "payload": payload})
        pos += 20 + stored
    assert pos == len(data)
    return out


def decode_here(desc: str, blob: bytes, count: int | None):
    """The value of an element from its bytes, by SPEC 11.1.1 / 11.1.2, without the codec."""
    if desc in ("u8", "u16", "u32"):
        return int.from_bytes(blob, "little")
    if desc == "s16":
        return int.from_bytes(blob, "little", signed=True)
    if desc == "f32le":
        return struct.unpack("<f", blob)[0]
    if desc.startswith("b("):
        return blob
    width = {"planes(n)": len(blob) // count if count else 1, "f32planes(n)": 4, "f16planes(n)": 2}[desc]
    assert len(blob) == width * count
    values = [sum(blob[k * count + i] << (8 * k) for k in range(width)) for i in range(count)]
    return values, width


def check_element(e: Element, blob: bytes) -> None:
    """``blob``: the bytes at the element's position, taken from the file (or decompressed payload) here."""
    assert len(blob) == e.size, e.name
    assert e.raw == blob[:RAW_KEEP], e.name
    decoded = decode_here(e.descriptor, blob, e.count)
    if isinstance(decoded, tuple):
        values, width = decoded
        if not values:  # an empty array has no bytes to tell its width from
            assert e.value.size == 0, e.name
            return
        assert e.value.dtype.itemsize == width, e.name
        assert e.value.view(f"<u{width}").tolist() == values, e.name  # bit patterns: exact for floats too
    elif e.descriptor == "f32le":
        assert struct.pack("<f", e.value) == struct.pack("<f", decoded), e.name
    else:
        assert e.value == decoded, e.name


def leaf(e: Element) -> str:
    return re.sub(r"\[\d+\]", "", e.path.split(".")[-1])


def assert_tiles(elements: list[Element], start: int, end: int, key) -> None:
    """Stored elements follow each other without gap or overlap from ``start`` to ``end``."""
    pos = start
    for e in elements:
        assert key(e) == pos, (e.name, key(e), pos)
        pos += e.size
    assert pos == end


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_trace_matches_the_file_bytes(path):
    data = path.read_bytes()
    trace = trace_container(data)
    assert trace.error is None
    header_names = {n for n, _ in allowed_elements("file_header")}
    assert_tiles(trace.header, 0, 16, lambda e: e.file_offset)
    for e in trace.header:
        assert e.name == f"file_header.{e.path}" and e.path in header_names and e.section is None
        check_element(e, data[e.file_offset : e.file_offset + e.size])
    sections = split_sections(data)
    assert [s.index for s in trace.sections] == [s["index"] for s in sections]
    for got, sec in zip(trace.sections, sections, strict=True):
        i, base = sec["index"], sec["offset"]
        assert got.type == sec["type"] and got.file_offset == base and got.crc_ok
        head = [e for e in got.elements if e.section is None]
        assert_tiles(head, base, base + 20, lambda e: e.file_offset)
        for e in head:
            assert e.name == f"section[{i}].{e.path}" and (e.path, e.descriptor) in allowed_elements("section_header")
            check_element(e, data[e.file_offset : e.file_offset + e.size])
        body = got.payload_elements
        if got.skipped:  # an unknown ancillary section is not parsed, so nothing of it is traced
            assert sec["type"] not in TOP and body == []
            continue
        stored = [e for e in body if not e.derived]
        assert_tiles(stored, 0, len(sec["payload"]), lambda e: e.offset)
        allowed = allowed_elements(TOP[sec["type"]])
        for e in stored:
            assert e.name.startswith(f"section[{i}]:{sec['type']}."), e.name
            assert (leaf(e), e.descriptor) in allowed, (e.name, e.descriptor)
            check_element(e, sec["payload"][e.offset : e.offset + e.size])
            # SPEC 4.1: no file offset inside a Zstandard payload; the true one in a stored payload
            if sec["compressed"]:
                assert e.file_offset is None and e.position == f"s{i}+{e.offset}"
            else:
                assert e.file_offset == base + 20 + e.offset and e.position == str(e.file_offset)
        for e in body:
            derived = DERIVED | (DERIVED_DEFS if sec["type"] == "DEFS" else set())
            assert e.derived == (leaf(e) in derived) and (not e.derived or (e.size == 0 and e.descriptor == "derived"))


def test_every_container_element_of_the_syntax_tables_is_traced_by_some_vector():
    """Together the valid vectors reach every stored element of spec/syntax.toml's container tables."""
    seen = set()
    for path in VECTORS:
        trace = trace_container(path.read_bytes())
        seen |= {(leaf(e), e.descriptor) for e in trace.header}
        seen |= {(leaf(e), e.descriptor) for s in trace.sections for e in s.elements if not e.derived}
    tables = _tables()
    container = [n for n, s in tables.items() if n not in ("fcs_file", "fca_file")]
    expected = set().union(*(allowed_elements(n) for n in container))
    assert expected - seen == set()


def test_y_latn_elements_where_the_syntax_puts_them():
    """The regressions of issue 8: latent_dims at payload byte 3 (after count 2 and two ids), ids traced, derived sizes marked."""
    trace = trace_container((VECTORS[0].parent / "y_latn.fca").read_bytes())
    latn = next(s for s in trace.sections if s.type == "LATN")
    by_path = {e.path: e for e in latn.payload_elements}
    assert by_path["latent_attribute_count"].value == 2
    assert [by_path[f"latent_attribute_ids[{k}]"].offset for k in (0, 1)] == [1, 2]
    assert by_path["latent_dims"].offset == 3 and by_path["latent_dims"].position == f"s{latn.index}+3"
    assert latn.attributes == ["ROTATION", "OPACITY"]
    derived = [e for e in latn.payload_elements if e.derived]
    assert {e.path for e in derived} == {"latent_decoder.mlp_input_dims", "latent_decoder.mlp_output_dims"}


def stored_copy(data: bytes) -> bytearray:
    """The same container with every section stored uncompressed (SPEC 11.2: compression 0, raw = stored)."""
    out = bytearray(data[:16])
    for sec in split_sections(data):
        head = bytearray(data[sec["offset"] : sec["offset"] + 16])
        head[5] = 0
        struct.pack_into("<II", head, 8, len(sec["payload"]), len(sec["payload"]))
        out += head + zlib.crc32(bytes(head) + sec["payload"]).to_bytes(4, "little") + sec["payload"]
    return out


@pytest.mark.parametrize(
    ("kind", "name", "bad"),
    [
        ("LATN", "latent_dims", 0),  # 1..64
        ("DEFM", "morph_nnz[1]", 0xFFFF),  # more than vertex_count
        ("DEFM", "joint_parent[1]", 5),  # not an earlier joint
        ("META", "layout_dims[1]", 7),  # HEAD_ROTATION has 3
    ],
)
def test_the_error_names_and_locates_the_traced_element(kind, name, bad):
    """A rejected value is reported with the traced element's name and file offset (stored sections),
    and the trace that stops at the error ends with that element."""
    data = stored_copy((VECTORS[0].parent / "y_latn.fca").read_bytes())
    sec = next(s for s in trace_container(bytes(data)).sections if s.type == kind)
    e = next(e for e in sec.payload_elements if e.short_name == name)
    data[e.file_offset : e.file_offset + e.size] = bad.to_bytes(e.size, "little")
    stored = struct.unpack_from("<I", data, sec.file_offset + 8)[0]
    body = bytes(data[sec.file_offset + 20 : sec.file_offset + 20 + stored])
    struct.pack_into("<I", data, sec.file_offset + 16, zlib.crc32(bytes(data[sec.file_offset : sec.file_offset + 16]) + body))
    trace = trace_container(bytes(data))
    assert trace.error is not None and trace.error.error_class == "E_VALUE"
    assert trace.error.field == e.name and trace.error.byte_offset == e.file_offset
    last = trace.sections[sec.index].payload_elements[-1]
    assert last.name == e.name and last.value == bad


def test_a_rejected_element_ends_the_trace_where_the_error_points():
    """For every invalid vector rejected by a value check, the trace ends with the element the error
    names, at the error's position (SPEC 4.1: file offset, or section + payload offset when compressed)."""
    checked = 0
    for path in sorted(VECTORS[0].parent.glob("n_*.fca")):
        trace = trace_container(path.read_bytes())
        err = trace.error
        assert err is not None, path.name
        elements = trace.header + [e for s in trace.sections for e in s.elements]  # in parse order
        if not elements or err.field != elements[-1].name:
            continue  # a framing, order or completeness error: not about one element's value
        last = elements[-1]
        checked += 1
        if last.file_offset is not None:
            assert err.byte_offset == last.file_offset, path.name
        elif getattr(err, "payload_bit_offset", None) is not None:
            assert (err.section_index, err.payload_bit_offset) == (last.section, 8 * last.offset), path.name
    assert checked >= 40


def _read(data: bytes):
    from refcodec.errors import FcError
    from refcodec.fca.container import read_container
    from refcodec.fca.dump import canonical_dump

    try:
        return canonical_dump(read_container(data))
    except FcError as err:
        return err.to_dict()


def test_the_instrumented_declarations_read_what_the_plain_ones_read(monkeypatch):
    """Wrapping the declarations in Traced changes nothing but the location of E_TRUNCATED: every
    container vector gives the same canonical dump, or the same error class, field and offset, when
    parsed with the plain declarations. (Traced also tells the parser which element is being read,
    so data that ends inside an element is located at its first byte, SPEC 11.10 R-203; without it
    only the class is the same.)"""
    from refcodec.fca import container

    def comparable(answer):
        return answer["error_class"] if isinstance(answer, dict) and answer["error_class"] == "E_TRUNCATED" else answer

    paths = sorted(VECTORS[0].parent.glob("*.fca"))
    instrumented = [comparable(_read(p.read_bytes())) for p in paths]
    monkeypatch.setattr(container, "traced", lambda declaration: declaration)
    assert [comparable(_read(p.read_bytes())) for p in paths] == instrumented
