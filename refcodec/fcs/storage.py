"""The ``.fcs`` storage format (SPEC 5.5): signature, then leb128-size-prefixed units."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..bitio import TraceEntry
from ..errors import E_LEVEL, E_SIGNATURE, E_TRUNCATED, E_VALUE
from ..leb128 import read_leb128, write_leb128

#: SPEC 5.5, R-20: the first four bytes of every .fcs file.
FCS_SIGNATURE = b"FCS1"


@dataclass(frozen=True)
class StoredUnit:
    """One unit as found in a file: its bytes and where they start."""

    index: int
    byte_offset: int  # offset of the unit's first payload byte
    size_offset: int  # offset of its leb128 unit_size
    data: bytes


def _byte_entry(byte_offset: int, name: str, descriptor: str, raw: bytes, value: object) -> TraceEntry:
    return TraceEntry(8 * byte_offset, name, descriptor, "".join(f"{b:08b}" for b in raw), value)


def _read_unit_size(data: bytes, pos: int, index: int) -> tuple[int, int]:
    """unit_size[index] (SPEC 5.5); a code cut off by the end of the file is reported at its
    first byte, like every element that cannot be read in full (SPEC 4.1, R-105)."""
    name = f"unit_size[{index}]"
    try:
        return read_leb128(data, pos, name)
    except E_TRUNCATED as err:
        raise E_TRUNCATED(err.message, field=name, bit_offset=pos * 8) from None


def iter_units(data: bytes, max_unit_bytes=None, trace: list[TraceEntry] | None = None) -> Iterator[StoredUnit]:
    """Split a ``.fcs`` file into units (SPEC 5.5, R-20, R-21).

    ``max_unit_bytes`` is a callable returning the current limit (the active level's), so
    that every declared size is checked before the unit is sliced out. When ``trace`` is a
    list, ``fcs_signature`` and every ``unit_size[i]`` are appended to it as they are read
    (before their checks, so a trace that stops at an error shows the offending value).
    """
    if len(data) < len(FCS_SIGNATURE):
        # SPEC 5.5, R-20: E_TRUNCATED even when the bytes present already differ;
        # SPEC 4.1, R-105: located at the first bit of the element that could not be read
        raise E_TRUNCATED("file shorter than its signature", field="fcs_signature", bit_offset=0)
    if trace is not None:
        trace.append(_byte_entry(0, "fcs_signature", "b(4)", data[:4], data[:4].decode("ascii", "replace")))
    if data[:4] != FCS_SIGNATURE:
        raise E_SIGNATURE(f"signature is {data[:4]!r}, expected {FCS_SIGNATURE!r}", field="fcs_signature", bit_offset=0)
    pos = 4
    index = 0
    while pos < len(data):
        size, used = _read_unit_size(data, pos, index)
        if trace is not None:
            trace.append(_byte_entry(pos, f"unit_size[{index}]", "leb128()", data[pos : pos + used], size))
        if size == 0:
            raise E_VALUE("unit_size must be > 0", field=f"unit_size[{index}]", bit_offset=pos * 8)
        limit = max_unit_bytes() if max_unit_bytes else None
        if limit is not None and size > limit:
            raise E_LEVEL(f"unit_size {size} exceeds the level limit {limit}", field=f"unit_size[{index}]", bit_offset=pos * 8)
        start = pos + used
        if start + size > len(data):
            raise E_TRUNCATED(
                f"unit_size {size} but only {len(data) - start} bytes remain", field=f"unit_size[{index}]", bit_offset=pos * 8
            )
        yield StoredUnit(index, start, pos, data[start : start + size])
        pos = start + size
        index += 1


def read_units(data: bytes) -> list[bytes]:
    """All unit payloads of a ``.fcs`` file (limits: the largest level's)."""
    from ..spec_tables import max_unit_bytes_any_level

    limit = max_unit_bytes_any_level()
    return [u.data for u in iter_units(data, lambda: limit)]


def write_file(units: Iterable[bytes]) -> bytes:
    """A ``.fcs`` file holding ``units`` in order."""
    out = bytearray(FCS_SIGNATURE)
    for u in units:
        out += write_leb128(len(u))
        out += u
    return bytes(out)
