"""Element-by-element view of a container for ``fcdump`` (SPEC chapter 11).

The elements are the ones the parser itself recorded while reading the file
(:class:`refcodec.fca.constructs.Traced`, through ``read_container(trace=...)``), so the
dump cannot drift from the parser: every offset, raw byte and value is what was read.
Positions follow SPEC 4.1's rule for compressed payloads: an element of a Zstandard section
is located by its section index and its offset in the decompressed payload
(``s<index>+<byte>``); file and section headers and stored sections use absolute file
offsets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..checksums import crc32
from ..errors import FcError
from ..spec_tables import attributes, section_types
from .constructs import TracedElement
from .container import ParsedContainer, read_container
from .declarations import STRUCTURES, descriptor, flatten
from .quantized import decode_block
from .syntax import DELTA_FLAG, RAW_F32_BITS, SECTION_HEADER_BYTES, attribute_channels, has_channel_refs, level_bits

_SECTION_WHERE = re.compile(r"section\[(\d+)\](?::(.*))?$")
#: Elements that are a structure of their own in SPEC's syntax tables (descriptor "name( )").
_SUBSTRUCTURES = {name for struct in STRUCTURES.values() for name, desc in flatten(struct) if desc.endswith("( )")}


@dataclass
class Element:
    """One syntax element as the parser read it.

    ``name`` is the element's full name with subscripts, exactly as an error at that element
    names its field (``section[2]:DEFM.morph_name[0]``); ``path`` is its place in the syntax
    (``morphs[0].morph_name``). ``offset`` is a byte offset in the file for header elements
    and in the section's decompressed payload for payload elements; ``file_offset`` is the
    absolute file offset, or None inside a Zstandard payload, where no file offset exists.
    ``raw`` holds the first bytes (at most ``RAW_KEEP``) of the ``size`` the element occupies.
    A ``derived`` element is computed from earlier ones and stored nowhere (size 0).
    """

    name: str
    path: str
    descriptor: str
    section: int | None
    offset: int
    file_offset: int | None
    size: int
    raw: bytes
    value: Any
    derived: bool = False

    @property
    def position(self) -> str:
        """Where the element starts: the absolute byte, or ``s<section>+<payload byte>`` in a compressed section."""
        return str(self.file_offset) if self.file_offset is not None else f"s{self.section}+{self.offset}"

    @property
    def short_name(self) -> str:
        """The name without its structure prefix (``morph_name[0]``)."""
        return self.name.split(".", 1)[1] if "." in self.name else self.name

    @property
    def within(self) -> str:
        """The sub-structure instances (SPEC syntax elements such as ``vertices``, ``morph_deltas``,
        ``skeleton``, ``latent_decoder``) that hold this element, outermost first; "" at top level."""
        steps = self.path.split(".")[:-1]
        return ".".join(step for step in steps if step in _SUBSTRUCTURES)

    @property
    def count(self) -> int | None:
        """Number of values of an array element (None for a scalar or a byte string)."""
        return int(self.value.size) if isinstance(self.value, np.ndarray) else None


@dataclass
class SectionTrace:
    """A section: its header fields (None where the header was not read), verdicts and elements.

    ``elements`` holds the section header's elements, then the payload's.
    """

    index: int
    file_offset: int
    type: str | None = None
    critical: bool | None = None
    compression: str | None = None
    stored_size: int | None = None
    raw_size: int | None = None
    crc: int | None = None
    crc_ok: bool | None = None
    skipped: bool = False
    attributes: list[str] = field(default_factory=list)
    elements: list[Element] = field(default_factory=list)

    @property
    def payload_elements(self) -> list[Element]:
        """The elements of the payload (the section header's left out)."""
        return [e for e in self.elements if e.section is not None]

    def value(self, short_name: str, default: Any = None) -> Any:
        """The value of the element called ``short_name`` (e.g. ``attribute_id``), or ``default``."""
        return next((e.value for e in self.elements if e.short_name == short_name), default)


@dataclass
class ContainerTrace:
    """Everything ``fcdump`` shows for a container, up to the first error."""

    file_size: int
    header: list[Element] = field(default_factory=list)
    sections: list[SectionTrace] = field(default_factory=list)
    attribute_stats: list[dict] = field(default_factory=list)
    error: FcError | None = None


def _element(t: TracedElement, section: int | None, compressed: bool) -> Element:
    # SPEC 4.1: a position inside a Zstandard payload has no file offset, only section + payload offset
    file_offset = None if compressed else t.base + t.start
    desc = "derived" if t.derived else descriptor(t.leaf)
    offset = t.start if section is not None else t.base + t.start
    return Element(t.name, t.path, desc, section, offset, file_offset, t.size, t.raw, t.value, t.derived)


def _attribute_name(attribute_id: int) -> str:
    entry = attributes().get(int(attribute_id))
    return entry["name"] if entry else f"attribute {attribute_id}"


def _new_section(index: int, header: list[TracedElement], data: bytes) -> SectionTrace:
    """A section from its traced header elements; the CRC verdict recomputed from the file bytes (R-54)."""
    base = header[0].base
    fields = {t.path: t.value for t in header}
    sec = SectionTrace(index, base)
    if "section_type" in fields:
        sec.type = fields["section_type"].decode("latin-1")
        sec.skipped = fields["section_type"] not in section_types()
    if "section_flags" in fields:
        sec.critical = bool(fields["section_flags"] & 1)
    if "compression" in fields:
        sec.compression = {0: "none", 1: "zstd"}.get(fields["compression"], str(fields["compression"]))
    sec.stored_size, sec.raw_size, sec.crc = fields.get("stored_size"), fields.get("raw_size"), fields.get("section_crc")
    body = base + SECTION_HEADER_BYTES
    if sec.crc is not None and sec.stored_size is not None and body + sec.stored_size <= len(data):
        sec.crc_ok = crc32(data[base : base + 16] + data[body : body + sec.stored_size]) == sec.crc
    return sec


def elements_by_section(traced: list[TracedElement], data: bytes) -> tuple[list[Element], list[SectionTrace]]:
    """Group the parser's trace into file header elements and sections, in file order."""
    header: list[Element] = []
    sections: dict[int, SectionTrace] = {}
    pending: dict[int, list[TracedElement]] = {}
    for t in traced:
        match = _SECTION_WHERE.match(t.where)
        if match is None:
            header.append(_element(t, None, False))
            continue
        index = int(match.group(1))
        if match.group(2) is None:  # a section header element: absolute offsets
            pending.setdefault(index, []).append(t)
            continue
        sec = sections.get(index)
        if sec is None:
            head = pending.pop(index)
            sec = sections[index] = _new_section(index, head, data)
            sec.elements = [_element(h, None, False) for h in head]
        e = _element(t, index, sec.compression == "zstd")
        sec.elements.append(e)
        if e.short_name == "attribute_id" or e.short_name.startswith("latent_attribute_ids["):
            sec.attributes.append(_attribute_name(e.value))
    for index, head in pending.items():  # sections whose payload was not parsed (skipped, or an error came first)
        sections[index] = _new_section(index, head, data)
        sections[index].elements = [_element(h, None, False) for h in head]
    return header, [sections[i] for i in sorted(sections)]


def _attribute_stats(parsed: ParsedContainer) -> list[dict]:
    meta = parsed.first(b"META")
    if meta is None or meta.payload is None:
        return []
    stats = []
    for sec in parsed.all(b"ATTR"):
        p = sec.payload
        channels = attribute_channels(p.attribute_id, meta.payload.sh_degree)
        values = decode_block(p.attribute, channels)
        stats.append(
            {
                "section": sec.index,
                "attribute": _attribute_name(p.attribute_id),
                "q_bits": p.attribute.q_bits,
                "sample_bits": level_bits(p.attribute.q_bits) if p.attribute.q_bits != RAW_F32_BITS else RAW_F32_BITS,
                "delta_coded": bool(p.attribute.q_bits != RAW_F32_BITS and p.attribute.q_bits & DELTA_FLAG),  # SPEC 11.1.3, R-153
                "channel_refs": [int(k) for k in p.attribute.q_channel_ref] if has_channel_refs(p.attribute.q_bits) else None,
                "channels": channels,
                "count": values.shape[1],
                "min": values.min(axis=1).tolist(),
                "max": values.max(axis=1).tolist(),
                "mean": values.mean(axis=1).tolist(),
                "stored_bytes": sec.stored_size,
                "bytes_per_gaussian": sec.stored_size / max(values.shape[1], 1),
            }
        )
    return stats


def trace_container(data: bytes) -> ContainerTrace:
    """Trace a container up to its first error (which is recorded, not raised)."""
    out = ContainerTrace(len(data))
    parsed = ParsedContainer()
    traced: list[TracedElement] = []
    try:
        read_container(data, sink=parsed, trace=traced)
    except FcError as err:
        out.error = err
    out.header, out.sections = elements_by_section(traced, data)
    if out.error is None:
        out.attribute_stats = _attribute_stats(parsed)
    return out


def section_rows(trace: ContainerTrace) -> list[dict]:
    """One row per section: index, type, attributes, compression, sizes, CRC verdict, element and value counts."""
    rows = []
    for s in trace.sections:
        payload = [e for e in s.payload_elements if not e.derived]
        rows.append(
            {
                "index": s.index,
                "type": s.type,
                "attributes": s.attributes,
                "critical": s.critical,
                "compression": s.compression,
                "file_offset": s.file_offset,
                "stored_bytes": s.stored_size,
                "raw_bytes": s.raw_size,
                "crc_ok": s.crc_ok,
                "skipped": s.skipped,
                "elements": len(payload),
                "values": sum(e.count if e.count is not None else 1 for e in payload),
            }
        )
    return rows


def summarize_container(trace: ContainerTrace) -> dict:
    """Sizes per section and by section type, bytes per Gaussian, attribute statistics, verdict."""
    by_type: dict[str, dict] = {}
    for s in trace.sections:
        entry = by_type.setdefault(s.type or "?", {"sections": 0, "stored_bytes": 0, "raw_bytes": 0})
        entry["sections"] += 1
        entry["stored_bytes"] += (s.stored_size or 0) + SECTION_HEADER_BYTES
        entry["raw_bytes"] += s.raw_size or 0
    gaussians = trace.sections[0].value("gaussian_count") if trace.sections else None
    attr_bytes = sum(a["stored_bytes"] + SECTION_HEADER_BYTES for a in trace.attribute_stats)
    latent_bytes = sum((s.stored_size or 0) + SECTION_HEADER_BYTES for s in trace.sections if s.type == "LATN")
    return {
        "file_bytes": trace.file_size,
        "sections": len(trace.sections),
        "section_table": section_rows(trace),
        "by_type": by_type,
        "gaussians": gaussians,
        "attribute_bytes_per_gaussian": attr_bytes / gaussians if gaussians and trace.attribute_stats else None,
        "latent_bytes_per_gaussian": latent_bytes / gaussians if gaussians and latent_bytes and trace.error is None else None,
        "attributes": trace.attribute_stats,
        "ok": trace.error is None,
        "error": None if trace.error is None else trace.error.to_dict(),
    }
