"""Damaged units for invalid and loss vectors: bytes changed at computed element positions.

Each helper takes a valid unit (written by :mod:`conformance.stream.bits`), changes it where
:mod:`conformance.stream.syntax` says an element lies, and returns a
:class:`~conformance.stream.script.DamagedItem` that states the error class a decoder must
raise and the element and unit-relative bit at which it detects it.
"""

from __future__ import annotations

import struct

from refcodec.fcs.layout import UNIT_SEQUENCE_HEADER, SequenceHeader

from .bits import crc32
from .script import DamagedItem, FrameItem, HeaderItem
from .syntax import Element, find


def patch_bits(data: bytes, offset: int, nbits: int, value: int) -> bytes:
    """``data`` with the ``nbits`` bits at bit ``offset`` (MSB first, SPEC 3.1) set to ``value``."""
    total = len(data) * 8
    as_int = int.from_bytes(data, "big")
    shift = total - offset - nbits
    mask = ((1 << nbits) - 1) << shift
    as_int = (as_int & ~mask) | ((value << shift) & mask)
    return as_int.to_bytes(len(data), "big")


def f32_bits(value: float) -> int:
    """Bit pattern of a binary32 value."""
    return struct.unpack(">I", struct.pack(">f", value))[0]


def _unit(item: HeaderItem | FrameItem, h: SequenceHeader | None) -> tuple[bytes, list[Element], int]:
    if isinstance(item, HeaderItem):
        return item.data(None), item.elements(), UNIT_SEQUENCE_HEADER
    return item.data(h), item.elements(h), item.frame.unit_type


def _before(elements: list[Element], offset: int) -> list[Element]:
    return [e for e in elements if e.offset <= offset]


def fix_header_crc(data: bytes, elements: list[Element]) -> bytes:
    """Recompute header_crc (SPEC 5.2.1, R-19) after a change, if the header has one."""
    crc = [e for e in elements if e.name == "header_crc"]
    if not crc:
        return data
    body = data[: crc[0].offset // 8]
    return body + crc32(body).to_bytes(4, "big") + data[crc[0].offset // 8 + 4 :]


def set_element(item, h, name: str, value: int, error_class: str, at: str | None = None, keep_crc: bool = False) -> DamagedItem:
    """Give element ``name`` the raw value ``value`` (same width); the decoder detects
    ``error_class`` at element ``at`` (default: ``name``). The header CRC is recomputed unless
    ``keep_crc``, so that the semantic check, not the CRC, fires."""
    data, els, unit_type = _unit(item, h)
    e = find(els, name)
    data = patch_bits(data, e.offset, e.nbits, value)
    if not keep_crc:
        data = fix_header_crc(data, els)
    where = find(els, at or name)
    return DamagedItem(data, error_class, where.offset, where.name, unit_type, _before(els, where.offset))


def set_f32(item, h, name: str, value: float, error_class: str, at: str) -> DamagedItem:
    """Set a binary32 element (a range) to ``value`` (NaN and infinities included)."""
    return set_element(item, h, name, f32_bits(value), error_class, at)


def flip_crc(item, h) -> DamagedItem:
    """Flip one bit of the unit's CRC field: E_CRC at that field (R-19)."""
    data, els, unit_type = _unit(item, h)
    e = next(e for e in els if e.name in ("header_crc", "frame_crc"))
    data = patch_bits(data, e.offset + e.nbits - 1, 1, (data[-1] & 1) ^ 1)
    return DamagedItem(data, "E_CRC", e.offset, e.name, unit_type, els)


def flip_payload_bit(item, h, name: str) -> DamagedItem:
    """Flip the last bit of element ``name`` (a value that still parses): only the CRC sees it."""
    data, els, unit_type = _unit(item, h)
    e = find(els, name)
    bit = e.offset + e.nbits - 1
    data = patch_bits(data, bit, 1, ((data[bit // 8] >> (7 - bit % 8)) & 1) ^ 1)
    crc = next(e for e in els if e.name in ("header_crc", "frame_crc"))
    return DamagedItem(data, "E_CRC", crc.offset, crc.name, unit_type, els)


def set_padding(item, h) -> DamagedItem:
    """Set the last alignment bit to 1: E_PADDING at that bit, the first alignment_zero_bit
    that is not 0 (R-03; SPEC 4.1, R-07)."""
    data, els, unit_type = _unit(item, h)
    e = find(els, "alignment_zero_bit")
    bit = e.offset + e.nbits - 1
    data = patch_bits(data, bit, 1, 1)
    data = fix_header_crc(data, els)
    return DamagedItem(data, "E_PADDING", bit, e.name, unit_type, _before(els, e.offset))


def truncate(item, h, keep_bytes: int) -> DamagedItem:
    """Keep the first ``keep_bytes`` bytes: E_TRUNCATED at the first element that does not fit."""
    data, els, unit_type = _unit(item, h)
    e = next(e for e in els if e.offset + e.nbits > keep_bytes * 8)
    return DamagedItem(data[:keep_bytes], "E_TRUNCATED", e.offset, e.name, unit_type, _before(els, e.offset))


def append_bytes(item, h, extra: bytes) -> DamagedItem:
    """Bytes after the end of the syntax: E_UNIT_SIZE where the syntax ends (R-18)."""
    data, els, unit_type = _unit(item, h)
    return DamagedItem(data + extra, "E_UNIT_SIZE", len(data) * 8, "unit_size", unit_type, els)
