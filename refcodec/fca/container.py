"""Container framing: file header and sections, with CRCs, compression and order rules.

SPEC 11.2 and 11.3. :func:`read_container` splits a ``.fca`` file into checked, decompressed
and parsed sections; :func:`write_container` does the reverse. Payload structures come from
:mod:`refcodec.fca.syntax`; both directions use the same declarations.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from typing import Any

from construct import ConstructError, Container, StreamError

from ..checksums import crc32
from ..errors import E_CRC, E_LEVEL, E_SECTION, E_TRUNCATED, E_UNIT_SIZE, E_VALUE, FcError
from ..spec_tables import ContainerLevel, attributes, coded_attribute, container_levels, referenced_models, section_types
from . import syntax
from .budget import BUDGET, DecodeBudget
from .compression import COMPRESSION_NONE, COMPRESSION_ZSTD, compress, decompress
from .constructs import BASE, CURSOR, TRACE, WHERE, traced

PAYLOAD_SYNTAX = {
    b"META": syntax.META,
    b"TEXT": syntax.TEXT,
    b"DEFM": syntax.DEFM,
    b"DEFS": syntax.DEFS,
    b"DEFR": syntax.DEFR,
    b"BIND": syntax.BIND,
    b"ATTR": syntax.ATTR,
    b"LATN": syntax.LATN,
    b"OMLP": syntax.OMLP,
}


@dataclass
class Section:
    """One section as read or to be written.

    ``payload`` is the parsed construct Container (None for a skipped ancillary section);
    ``raw`` the decompressed payload bytes; offsets are absolute file byte offsets.
    """

    type: bytes
    critical: bool
    compression: int
    raw: bytes
    payload: Any = None
    index: int = 0
    offset: int = 0
    stored_size: int = 0
    crc: int = 0
    flags: int = 0
    skipped: bool = False
    header: Any = None

    @property
    def name(self) -> str:
        return self.type.decode("latin-1")


@dataclass
class ParsedContainer:
    """A container's header fields and its sections, in file order."""

    header: Any = None
    level: ContainerLevel | None = None
    sections: list[Section] = field(default_factory=list)
    budget: DecodeBudget | None = None  # what decoding used of the level's R-91 limits

    def first(self, kind: bytes) -> Section | None:
        return next((s for s in self.sections if s.type == kind), None)

    def all(self, kind: bytes) -> list[Section]:
        return [s for s in self.sections if s.type == kind]


def parse_payload(struct, raw: bytes, base: int, where: str, trace: list | None = None, **params) -> Container:
    """Parse a whole payload with ``struct``; errors carry ``where``, the field and the offset.

    ``base`` is the absolute byte offset reported for payload byte 0. When ``trace`` is a list,
    every element is appended to it as it is parsed (a TracedElement; see ``fcdump``).
    """
    stream, cursor = io.BytesIO(raw), {}
    try:
        value = traced(struct).parse_stream(stream, **params, **{BASE: base, WHERE: where, TRACE: trace, CURSOR: cursor})
    except StreamError as exc:
        # SPEC 4.1, R-105; 11.10, R-203: located at the first byte of the element the data ends in
        field_name = cursor.get("name") or (exc.path.split("->")[-1].strip() if exc.path else "")
        start = cursor.get("start", len(raw))
        raise E_TRUNCATED(
            f"the {where} ends inside {field_name or 'a field'} ({len(raw) - start} of its bytes are there)",
            field=f"{where}.{field_name}",
            bit_offset=8 * (base + start),
        ) from None
    except ConstructError as exc:  # every value check is ours; this is a guard, not a path
        raise E_VALUE(f"malformed {where}: {exc}", field=where, bit_offset=8 * (base + stream.tell())) from None
    if stream.tell() != len(raw):
        raise E_UNIT_SIZE(f"{len(raw) - stream.tell()} bytes remain after the {where} syntax", field=where, bit_offset=8 * (base + stream.tell()))
    return value


def _update_params(params: dict, kind: bytes, payload: Container) -> None:
    """Record what later sections' syntax depends on: META's counts, the model's sizes."""
    if kind == b"META":
        params["meta"] = payload
    elif kind in (b"DEFM", b"DEFS"):  # a DEFS payload carries its decoded vertex_count and triangle_count
        params["defm"] = payload
    elif kind == b"DEFR":  # SPEC 11.5.2: the registry gives the referenced model's sizes
        model = referenced_models()[payload.model_name.decode("utf-8")]
        params["defm"] = Container(vertex_count=model["vertices"], triangle_count=model["triangles"], skeleton=None)


def _check_order(sections: list[Section], sec: Section, registry: dict) -> None:
    """SPEC 11.3, R-56: critical ranks non-decreasing; no repeats (META first is checked earlier, R-202)."""
    where = f"section[{sec.index}]"
    info = registry.get(sec.type)
    if info is None or not info["critical"]:
        return
    prior = [s for s in sections if not s.skipped and registry.get(s.type, {}).get("critical")]
    if prior and registry[prior[-1].type]["rank"] > info["rank"]:
        raise E_SECTION(f"{sec.name} after {prior[-1].name} is out of order", field=f"{where}.section_type", bit_offset=8 * sec.offset)
    same_rank = [s for s in prior if registry[s.type]["rank"] == info["rank"]]
    if same_rank and not info["repeatable"]:
        raise E_SECTION(f"{sec.name} repeats or conflicts with {same_rank[0].name}", field=f"{where}.section_type", bit_offset=8 * sec.offset)


def read_container(
    data: bytes, parse_sections: bool = True, sink: ParsedContainer | None = None, keep_raw: bool = True, trace: list | None = None
) -> ParsedContainer:
    """Check the framing of a ``.fca`` file and parse its known sections (SPEC 11.2, 11.3).

    Raises an FcError subclass, with its field and byte offset, for any malformed input.
    Unknown ancillary sections are kept with ``skipped=True``; unknown critical ones raise
    E_SECTION. Section payloads that need earlier sections (BIND, ATTR) see them through the
    parameters ``meta`` and ``defm``. When ``sink`` is given it is filled as reading goes, so a
    caller (``fcdump``) keeps everything read before an error; ``trace`` likewise receives
    every syntax element as it is parsed. With ``keep_raw`` False a parsed section's raw payload
    is dropped (``raw`` becomes empty), so a decoder holds the decoded values and not the bytes
    they came from as well.
    """
    data = bytes(data)
    # SPEC 11.10, R-201: element by element, each checked as read; a short file fails at the element it ends in
    header = parse_payload(syntax.FILE_HEADER, data[: syntax.FILE_HEADER_BYTES], 0, "file_header", trace=trace)
    if header.header_crc != crc32(data[:12]):  # SPEC 11.2, R-52
        raise E_CRC(f"stored 0x{header.header_crc:08x}, computed 0x{crc32(data[:12]):08x}", field="file_header.header_crc", bit_offset=8 * 12)
    level = container_levels()[header.level_idc]
    registry = section_types()
    out = sink if sink is not None else ParsedContainer(header, level)
    out.header, out.level = header, level
    pos, total_raw = syntax.FILE_HEADER_BYTES, 0
    out.budget = DecodeBudget(level)
    params: dict[str, Any] = {"level": level, "meta": None, "defm": None, BUDGET: out.budget}
    for index in range(header.section_count):
        where = f"section[{index}]"  # SPEC 11.10, R-202: the checks of one section, in this order
        head_bytes = data[pos : pos + syntax.SECTION_HEADER_BYTES]
        head = parse_payload(syntax.SECTION_HEADER, head_bytes, pos, where, trace=trace, level=level)
        body_at = pos + syntax.SECTION_HEADER_BYTES
        if head.stored_size > len(data) - body_at:  # SPEC 11.2, R-53: checked before anything is read
            raise E_TRUNCATED(
                f"stored_size {head.stored_size} exceeds the {len(data) - body_at} bytes left", field=f"{where}.stored_size", bit_offset=8 * (pos + 8)
            )
        total_raw += head.raw_size  # skipped ancillary sections count too
        if total_raw > level.max_total_bytes:
            raise E_LEVEL(
                f"the raw sizes add up to {total_raw}, over the level's max_total_bytes {level.max_total_bytes}",
                field=f"{where}.raw_size",
                bit_offset=8 * (pos + 12),
            )
        stored = data[body_at : body_at + head.stored_size]
        computed = crc32(head_bytes[:16] + stored)
        if computed != head.section_crc:  # SPEC 11.2, R-54
            raise E_CRC(f"stored 0x{head.section_crc:08x}, computed 0x{computed:08x}", field=f"{where}.section_crc", bit_offset=8 * (pos + 16))
        critical = bool(head.section_flags & syntax.CRITICAL_FLAG)
        if index == 0 and head.section_type != b"META":  # SPEC 11.3, R-56: whatever its type and flags
            found = head.section_type.decode("latin-1")
            raise E_SECTION(f"the first section is {found}, not META", field=f"{where}.section_type", bit_offset=8 * pos)
        sec = Section(
            head.section_type,
            critical,
            head.compression,
            b"",
            index=index,
            offset=pos,
            stored_size=head.stored_size,
            crc=head.section_crc,
            flags=head.section_flags,
            header=head,
        )
        known = head.section_type in registry
        if not known and critical:  # SPEC 11.3, R-56
            raise E_SECTION(f"unknown critical section {sec.name!r}", field=f"{where}.section_type", bit_offset=8 * pos)
        if known and critical != registry[head.section_type]["critical"]:
            raise E_VALUE(
                f"{sec.name} must have critical = {int(registry[head.section_type]['critical'])}",
                field=f"{where}.section_flags",
                bit_offset=8 * (pos + 4),
            )
        sec.skipped = not known
        _check_order(out.sections, sec, registry)
        if not known:
            sec.raw = b""  # SPEC 11.3, R-56: an unknown ancillary section is skipped, never decompressed
        elif head.compression == COMPRESSION_ZSTD:  # decompressed once, after every check of R-53..R-56
            sec.raw = decompress(stored, head.raw_size, level.max_zstd_window_log, f"{where}.payload", 8 * body_at)
        else:
            sec.raw = stored
        if known and parse_sections:
            sec.payload = _parse_section(sec, body_at, params, trace)
            _update_params(params, head.section_type, sec.payload)
            if not keep_raw:
                sec.raw = b""
        if parse_sections and sec.type in (b"ATTR", b"LATN"):
            _check_attribute_once(out.sections, sec)
        out.sections.append(sec)
        pos = body_at + head.stored_size
    if pos != len(data):  # SPEC 11.2, R-59
        raise E_UNIT_SIZE(f"{len(data) - pos} bytes follow the last section", field="fca_file", bit_offset=8 * pos)
    # a META section is present: section_count >= 1 and _check_order made section 0 META
    if parse_sections:
        _check_attributes_complete(out, pos)
    return out


def _parse_section(sec: Section, body_at: int, params: dict, trace: list | None = None) -> Container:
    """Parse a section payload; errors carry the section index and payload offset (SPEC 4.1, R-90).

    Their absolute ``bit_offset`` is the true file position for a stored section and the first
    stored payload byte for a Zstandard one (no file position exists inside compressed data).
    The payload is parsed with ``body_at`` as its base, so traced elements of a stored section
    carry their file offsets; ``fcdump`` shows compressed ones as section + payload offset.
    """
    try:
        return parse_payload(PAYLOAD_SYNTAX[sec.type], sec.raw, body_at, f"section[{sec.index}]:{sec.name}", trace=trace, **params)
    except FcError as exc:
        inside = (exc.bit_offset or 8 * body_at) - 8 * body_at
        absolute = 8 * body_at + (inside if sec.compression == COMPRESSION_NONE else 0)
        raise exc.locate(sec.index, inside, absolute) from None


def given_attributes(sec: Section) -> list[int]:
    """Attributes an ATTR or LATN section provides (a coding id gives the attribute it codes, SPEC 11.7.1, R-152)."""
    return [coded_attribute(sec.payload.attribute_id)] if sec.type == b"ATTR" else list(sec.payload.latent_attribute_ids)


def _check_attribute_once(sections: list[Section], sec: Section) -> None:
    """SPEC 11.3, R-60, R-73: an attribute is given by one ATTR or LATN section only."""
    earlier = {a for s in sections if s.type in (b"ATTR", b"LATN") for a in given_attributes(s)}
    twice = [a for a in given_attributes(sec) if a in earlier]
    if twice:
        field = "attribute_id" if sec.type == b"ATTR" else "latent_attribute_ids"
        raise E_SECTION(f"attribute {twice[0]} is given twice", field=f"section[{sec.index}]:{sec.name}.{field}", bit_offset=8 * sec.offset)


def _check_attributes_complete(parsed: ParsedContainer, end: int) -> None:
    """SPEC 11.3, R-60, R-73: every attribute with channels is present."""
    sh_degree = parsed.first(b"META").payload.sh_degree
    given = {a for s in parsed.sections if s.type in (b"ATTR", b"LATN") for a in given_attributes(s)}
    for attr in sorted(a for a, entry in attributes().items() if "codes" not in entry):
        if syntax.attribute_channels(attr, sh_degree) and attr not in given:
            raise E_SECTION(f"no section gives attribute {attr} ({attributes()[attr]['name']})", field="fca_file", bit_offset=8 * end)


@dataclass
class SectionToWrite:
    """A section for :func:`write_container`: its type, payload object or raw bytes, and options."""

    type: bytes
    payload: Any = None
    raw: bytes | None = None
    compress: bool = True
    critical: bool | None = None


def build_payload(kind: bytes, payload: Any, **params) -> bytes:
    """Serialize one payload with the shared declaration (checks run while building)."""
    return PAYLOAD_SYNTAX[kind].build(payload, **params, **{BASE: 0, WHERE: kind.decode()})


def decode_usage(sections: list[SectionToWrite]) -> DecodeBudget:
    """What decoding ``sections`` would charge against the limits of SPEC 11.9 (R-91), measured by
    parsing their raw payloads under a level without limits; the encoder picks its level with it."""
    top = container_levels()[max(container_levels())]
    unlimited = replace(top, **{name: 1 << 62 for name in top.__dataclass_fields__ if name.startswith("max_") and name != "max_zstd_window_log"})
    budget = DecodeBudget(unlimited)
    params: dict[str, Any] = {"level": unlimited, "meta": None, "defm": None}
    for sec in sections:
        if sec.type not in PAYLOAD_SYNTAX:
            continue
        raw = sec.raw if sec.raw is not None else build_payload(sec.type, sec.payload, **params)
        payload = parse_payload(PAYLOAD_SYNTAX[sec.type], raw, 0, sec.type.decode(), **params, **{BUDGET: budget})
        _update_params(params, sec.type, payload)
    return budget


def write_container(sections: list[SectionToWrite], level_idc: int = 10, zstd_level: int = 19, profile_idc: int = 0) -> bytes:
    """Assemble a ``.fca`` file (SPEC 11.2). Payloads are built with the parameters the reader
    will see (``meta``, ``defm``), so the writer cannot emit what the reader rejects."""
    level = container_levels()[level_idc]
    registry = section_types()
    params: dict[str, Any] = {"level": level, "meta": None, "defm": None}
    blobs = []
    for sec in sections:
        raw = sec.raw if sec.raw is not None else build_payload(sec.type, sec.payload, **params)
        if sec.type in (b"META", b"DEFM", b"DEFS", b"DEFR"):
            _update_params(params, sec.type, parse_payload(PAYLOAD_SYNTAX[sec.type], raw, 0, sec.type.decode(), **params))
        method = COMPRESSION_ZSTD if sec.compress else COMPRESSION_NONE
        stored = compress(raw, zstd_level, level.max_zstd_window_log) if method == COMPRESSION_ZSTD else raw
        if method == COMPRESSION_ZSTD and len(stored) >= len(raw):
            method, stored = COMPRESSION_NONE, raw  # zstd would not help
        critical = registry[sec.type]["critical"] if sec.critical is None else sec.critical
        head = syntax.SECTION_HEADER.build(
            {
                "section_type": sec.type,
                "section_flags": int(critical),
                "compression": method,
                "section_reserved_16bits": 0,
                "stored_size": len(stored),
                "raw_size": len(raw),
                "section_crc": 0,
            },
            level=level,
            **{BASE: 0, WHERE: "section"},
        )
        head = head[:16] + crc32(head[:16] + stored).to_bytes(4, "little")
        blobs.append(head + stored)
    top = syntax.FILE_HEADER.build(
        {
            "fca_signature": syntax.SIGNATURE,
            "fca_version": syntax.VERSION,
            "profile_idc": profile_idc,
            "level_idc": level_idc,
            "fca_reserved_8bits": 0,
            "section_count": len(sections),
            "fca_reserved_16bits": 0,
            "header_crc": 0,
        },
        **{BASE: 0, WHERE: "file_header"},
    )
    top = top[:12] + crc32(top[:12]).to_bytes(4, "little")
    return top + b"".join(blobs)


__all__ = [
    "FcError",
    "ParsedContainer",
    "Section",
    "SectionToWrite",
    "read_container",
    "write_container",
    "build_payload",
    "parse_payload",
    "decode_usage",
]
