"""Element-by-element view of a container for ``fcdump`` (SPEC chapter 11).

Each parsed payload is walked in declaration order; an element's size follows from its
descriptor (fixed-size integers) or its value (arrays, byte strings), so every element gets
its offset in the (decompressed) payload and its raw bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from construct import Container, ListContainer

from ..checksums import crc32
from ..errors import FcError
from .codec import ATTRIBUTE_IDS
from .container import ParsedContainer, Section, read_container
from .declarations import STRUCTURES, flatten
from .quantized import decode_block
from .syntax import FILE_HEADER_BYTES, SECTION_HEADER_BYTES, attribute_channels

_FIXED = {"u8": 1, "u16": 2, "s16": 2, "u32": 4, "f32le": 4}
_DESCRIPTORS: dict[str, str] = {}
for _struct in STRUCTURES.values():
    for _name, _desc in flatten(_struct):
        _DESCRIPTORS.setdefault(_name, _desc)


@dataclass
class Element:
    """One syntax element: offset in its payload (or file), name with subscripts, descriptor, raw bytes, value."""

    offset: int
    name: str
    descriptor: str
    raw: bytes
    value: Any


@dataclass
class SectionTrace:
    """A section's header fields, verdicts and elements."""

    index: int
    type: str
    critical: bool
    compression: str
    stored_size: int
    raw_size: int
    file_offset: int
    crc: int
    crc_ok: bool
    skipped: bool
    elements: list[Element] = field(default_factory=list)


@dataclass
class ContainerTrace:
    """Everything ``fcdump`` shows for a container, up to the first error."""

    file_size: int
    header: list[Element] = field(default_factory=list)
    sections: list[SectionTrace] = field(default_factory=list)
    attribute_stats: list[dict] = field(default_factory=list)
    error: FcError | None = None


def _size(name: str, value: Any) -> int:
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, np.ndarray):
        return value.nbytes
    return _FIXED[_DESCRIPTORS.get(name, "u8")]


def _value(value: Any) -> Any:
    if isinstance(value, bytes):
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            return value.hex()
        return text if text.isprintable() else value.hex()
    if isinstance(value, np.ndarray):
        if value.size <= 6:
            return value.tolist()
        return f"[{value.size} x {value.dtype}] first {value[:4].tolist()}"
    return value


def walk(obj: Container, raw: bytes, start: int = 0, prefix: str = "", out: list[Element] | None = None) -> tuple[list[Element], int]:
    """Elements of a parsed payload in order, with offsets from ``start``; returns (elements, end)."""
    out = [] if out is None else out
    pos = start
    for key, value in obj.items():
        if key.startswith("_") or value is None:
            continue
        if isinstance(value, Container):
            _, pos = walk(value, raw, pos, f"{prefix}{key}.", out)
        elif isinstance(value, ListContainer):
            for i, item in enumerate(value):
                if isinstance(item, Container):
                    _, pos = walk(item, raw, pos, f"{prefix}{key}[{i}].", out)
        else:
            size = _size(key, value)
            desc = "planes(n)" if isinstance(value, np.ndarray) and value.dtype.kind == "u" else _DESCRIPTORS.get(key, "?")
            if isinstance(value, np.ndarray) and value.dtype == np.float32:
                desc = "f32planes(n)"
            out.append(Element(pos, f"{prefix}{key}", desc, raw[pos : pos + min(size, 16)], _value(value)))
            pos += size
    return out, pos


def _attribute_stats(parsed: ParsedContainer) -> list[dict]:
    meta = parsed.first(b"META")
    if meta is None or meta.payload is None:
        return []
    names = {v: k for k, v in ATTRIBUTE_IDS.items()}
    stats = []
    for sec in parsed.all(b"ATTR"):
        p = sec.payload
        channels = attribute_channels(p.attribute_id, meta.payload.sh_degree)
        values = decode_block(p.attribute, channels)
        stats.append(
            {
                "attribute": names[p.attribute_id],
                "q_bits": p.attribute.q_bits,
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


def _section_trace(sec: Section, data: bytes) -> SectionTrace:
    head = data[sec.offset : sec.offset + SECTION_HEADER_BYTES]
    stored = data[sec.offset + SECTION_HEADER_BYTES : sec.offset + SECTION_HEADER_BYTES + sec.stored_size]
    trace = SectionTrace(
        sec.index,
        sec.name,
        sec.critical,
        "zstd" if sec.compression else "none",
        sec.stored_size,
        len(sec.raw),
        sec.offset,
        sec.crc,
        crc32(head[:16] + stored) == sec.crc,
        sec.skipped,
    )
    trace.elements, _ = walk(sec.header, head, 0, "section_header.")
    for e in trace.elements:
        e.offset += sec.offset
    if sec.payload is not None:
        body, _ = walk(sec.payload, sec.raw, 0)
        trace.elements.extend(body)
    return trace


def trace_container(data: bytes) -> ContainerTrace:
    """Trace a container up to its first error (which is recorded, not raised)."""
    out = ContainerTrace(len(data))
    parsed = ParsedContainer()
    try:
        read_container(data, sink=parsed)
    except FcError as err:
        out.error = err
    if parsed.header is not None:
        out.header, _ = walk(parsed.header, data[:FILE_HEADER_BYTES], 0, "file_header.")
    out.sections = [_section_trace(s, data) for s in parsed.sections]
    if out.error is None:
        out.attribute_stats = _attribute_stats(parsed)
    return out


def summarize_container(trace: ContainerTrace) -> dict:
    """Sizes by section type and attribute, bytes per Gaussian, verdict."""
    by_type: dict[str, dict] = {}
    for s in trace.sections:
        entry = by_type.setdefault(s.type, {"sections": 0, "stored_bytes": 0, "raw_bytes": 0})
        entry["sections"] += 1
        entry["stored_bytes"] += s.stored_size + SECTION_HEADER_BYTES
        entry["raw_bytes"] += s.raw_size
    gaussians = next((e.value for e in (trace.sections[0].elements if trace.sections else []) if e.name == "gaussian_count"), None)
    attr_bytes = sum(a["stored_bytes"] + SECTION_HEADER_BYTES for a in trace.attribute_stats)
    return {
        "file_bytes": trace.file_size,
        "sections": len(trace.sections),
        "by_type": by_type,
        "gaussians": gaussians,
        "attribute_bytes_per_gaussian": attr_bytes / gaussians if gaussians else None,
        "attributes": trace.attribute_stats,
        "ok": trace.error is None,
        "error": None if trace.error is None else trace.error.to_dict(),
    }
