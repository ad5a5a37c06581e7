"""A stream vector as a script of units, and its serialisation to a ``.fcs`` file.

A script lists the units of a file with what the generator knows about each: a sequence
header (its layout), a frame (its quantized values or residuals, range updates), a reserved
unit, or a damaged unit (its bytes and the error class it must raise). The bytes are written
by the suite's own writer (:mod:`conformance.stream.bits`, from the element positions of
:mod:`conformance.stream.syntax`), not by the reference writer; the expected outputs are
computed from the same script by :mod:`conformance.stream.model`, never by decoding the bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from refcodec.fcs.layout import UNIT_I_FRAME, UNIT_P_FRAME, SequenceHeader
from refcodec.fcs.syntax import FrameUnit

from .bits import exp_golomb_bits, leb128_bytes, unit_bytes
from .syntax import Element, frame_elements, header_elements

FCS_SIGNATURE = b"FCS1"  # SPEC 5.5


@dataclass
class HeaderItem:
    """A sequence header unit (SPEC 5.2); ``header.reserved_bits`` etc. are written as given."""

    header: SequenceHeader

    def elements(self) -> list[Element]:
        return header_elements(self.header, self.header.reserved_bits, self.header.group_reserved_bits or None)

    def data(self, active: SequenceHeader | None) -> bytes:
        return unit_bytes(self.elements())


@dataclass
class FrameItem:
    """A frame unit (SPEC 5.3): ``frame.values`` are quantized values (I) or residuals (P)."""

    frame: FrameUnit
    writer_header: SequenceHeader | None = None  # the layout it is written for (default: the active one)

    def elements(self, h: SequenceHeader) -> list[Element]:
        return frame_elements(self.frame, h)

    def data(self, active: SequenceHeader | None) -> bytes:
        return unit_bytes(self.elements(self.writer_header or active))


@dataclass
class ReservedItem:
    """A unit with a reserved unit_type (SPEC 5.4): ue(v) unit_type, zero bits to a byte
    boundary, then ``payload`` bytes (whose content a decoder never looks at)."""

    unit_type: int
    payload: bytes = b""

    def data(self, active: SequenceHeader | None) -> bytes:
        bits = exp_golomb_bits(self.unit_type, 0)  # SPEC 3.2.1 ue(v)
        bits += "0" * (-len(bits) % 8)  # SPEC 3.3 byte_alignment( )
        return int(bits, 2).to_bytes(len(bits) // 8, "big") + self.payload


@dataclass
class DamagedItem:
    """A unit that must raise ``error_class``, detected at unit-relative bit ``bit_offset`` in
    ``field``. ``unit_type`` is what its first element reads as (2: a damaged header; None:
    unreadable), which decides how resilient decoding treats it (SPEC 7.3)."""

    raw: bytes
    error_class: str
    bit_offset: int
    field: str
    unit_type: int | None
    parsed: list[Element] = field(default_factory=list)  # elements read before the error (coverage)

    def data(self, active: SequenceHeader | None) -> bytes:
        return self.raw


Item = HeaderItem | FrameItem | ReservedItem | DamagedItem


@dataclass
class Built:
    """A serialised script: the file and where each unit and its unit_size lie (bytes)."""

    data: bytes
    unit_offsets: list[int]
    size_offsets: list[int]
    units: list[bytes]


def build_file(items: list[Item], size_bytes: dict[int, bytes] | None = None) -> Built:
    """Serialise ``items`` as a ``.fcs`` file (SPEC 5.5).

    ``size_bytes`` replaces the leb128 unit_size of some units (e.g. a non-minimal encoding).
    Frames are written against the last (undamaged) sequence header before them.
    """
    out = bytearray(FCS_SIGNATURE)
    active: SequenceHeader | None = None
    unit_offsets, size_offsets, units = [], [], []
    for i, item in enumerate(items):
        if isinstance(item, HeaderItem):
            active = item.header
        unit = item.data(active)
        size_offsets.append(len(out))
        out += (size_bytes or {}).get(i, leb128_bytes(len(unit)))
        unit_offsets.append(len(out))
        out += unit
        units.append(unit)
    return Built(bytes(out), unit_offsets, size_offsets, units)


def split_groups(h: SequenceHeader, row) -> list[list[int]]:
    """A flat layout-order row as per-group lists."""
    out, i = [], 0
    for g in h.groups:
        out.append([int(v) for v in row[i : i + g.dims]])
        i += g.dims
    return out


def gop_items(
    h: SequenceHeader,
    q: np.ndarray,
    intra: list[bool] | None = None,
    first_counter: int = 0,
    updates: dict[int, dict[int, tuple[list[float], list[float]]]] | None = None,
    zero_flags: bool = True,
    prev: np.ndarray | None = None,
) -> list[FrameItem]:
    """Frames coding the quantized vectors ``q`` [frames, dims] (an encoder's integers).

    Frame t is an I-frame where ``intra[t]`` (default: only the first), else a P-frame whose
    residuals are ``q[t] - q[t-1]``; a P-frame group with only zero residuals uses its zero flag
    where enabled (and ``zero_flags``). ``updates[t]`` is the range update of I-frame t;
    ``prev`` is the vector a leading P-frame is coded against.
    """
    q = np.asarray(q, dtype=np.int64)
    intra = intra or [t == 0 for t in range(len(q))]
    if not intra[0] and prev is None:
        raise ValueError("a leading P-frame needs prev")
    items = []
    for t in range(len(q)):
        counter = (first_counter + t) % 16
        if intra[t]:
            upd = (updates or {}).get(t, {})
            # SPEC 5.3.1, R-221: with intra prediction an I-frame codes the difference from the centers
            coded = q[t] - np.array([c for g in h.groups for c in g.intra_centers], np.int64) if h.intra_pred_flag else q[t]
            f = FrameUnit(UNIT_I_FRAME, counter, split_groups(h, coded), range_update_flag=bool(upd), range_updates=dict(upd))
        else:
            before = q[t - 1] if t else np.asarray(prev, dtype=np.int64)
            res = split_groups(h, xdim_coded(h, [int(v) for v in q[t] - before]))
            zero = [zero_flags and g.zero_flag_enabled and not any(r) for g, r in zip(h.groups, res, strict=True)]
            f = FrameUnit(UNIT_P_FRAME, counter, res, zero_groups=zero)
        items.append(FrameItem(f, h))
    return items


def xdim_coded(h: SequenceHeader, residual: list[int]) -> list[int]:
    """SPEC 5.2.1, R-224, R-225 (a writer's side): with xdim_pred_flag, a dimension with a reference codes its
    residual minus (-1)^xdim_ref_sign times the residual of dimension j - 1 - xdim_ref_delta (that residual
    itself, not what that dimension codes)."""
    if not h.xdim_pred_flag:
        return list(residual)
    refs = [ref for g in h.groups for ref in g.xdim]
    return [r if ref is None else r - (-1 if ref[1] else 1) * residual[j - 1 - ref[0]] for j, (r, ref) in enumerate(zip(residual, refs, strict=True))]
