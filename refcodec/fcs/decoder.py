"""FCS decoding process and loss process (SPEC 6 and 7).

:class:`FcsDecoder` takes units one at a time, as a receiver gets them from a network, and
returns the output frames each unit produces. In strict mode (conformance checking,
``fcdump``) the first malformed unit raises its registered error. In resilient mode (a
receiver) a malformed unit is concealed as SPEC 7 prescribes and decoding goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from itertools import chain

import numpy as np

from ..errors import E_NO_SEQUENCE_HEADER, E_RESIDUAL, FcError
from ..spec_tables import levels, max_unit_bytes_any_level
from .layout import UNIT_I_FRAME, UNIT_SEQUENCE_HEADER, ActiveRanges, SequenceHeader
from .main_profile import MAIN_COUNTER_MODULUS, MAIN_PROFILE_IDC, MAX_PACKET_FRAMES, MainPacket, MainState, decode_payload
from .storage import iter_units
from .syntax import FRAME_COUNTER_MODULUS, FrameUnit, ReservedUnit, read_unit
from .xdim import flat_references, residuals_from_coded


class FrameStatus(StrEnum):
    """How an output frame came about (SPEC 7.2)."""

    DECODED = "decoded"
    CONCEALED_GAP = "concealed_gap"  # a frame the counter says is missing
    CONCEALED_ERROR = "concealed_error"  # a unit that failed to parse or check
    CONCEALED_NO_REFERENCE = "concealed_no_reference"  # a P-frame without a valid reference


@dataclass
class DecodedFrame:
    """One output frame: the dequantized binary32 vector in layout order."""

    values: np.ndarray
    status: FrameStatus
    unit_index: int | None = None
    frame_type: str | None = None  # "I", "P" or None when no unit was decoded
    quantized: np.ndarray | None = None
    error: FcError | None = None
    #: Main profile: the range coder's rng after the frame (SPEC 14.6, R-128)
    final_range: int | None = None


@dataclass
class UnitEvent:
    """What one unit did, for ``.res``-style reports (SPEC 7.3)."""

    unit_index: int
    kind: str  # "sequence_header", "I", "P", "reserved", "error"
    error_class: str | None = None
    frames_out: int = 0


@dataclass
class DecodeResult:
    """Result of decoding a whole file."""

    header: SequenceHeader | None
    frames: list[DecodedFrame]
    events: list[UnitEvent] = field(default_factory=list)
    #: resilient mode: the storage-format error that ended decoding early (SPEC 7.3, R-99), else None
    framing_error: FcError | None = None

    def matrix(self) -> np.ndarray:
        """All output vectors as a [frames, dims] binary32 array."""
        if not self.frames:
            return np.zeros((0, self.header.total_dims if self.header else 0), np.float32)
        return np.stack([f.values for f in self.frames])


def _peek_unit_type(data: bytes) -> int | None:
    """unit_type of a unit that failed to parse, if its first element is readable."""
    from ..bitio import BitReader

    try:
        return BitReader(data).ue("unit_type")
    except FcError:
        return None


def _peek_frame_count(data: bytes) -> int:
    """frame_count of a Main packet that failed a later check, or 1 when it is unreadable (SPEC 14.5, R-129)."""
    from ..bitio import BitReader

    try:
        io = BitReader(data)
        io.ue("unit_type")
        io.u(8, "frame_counter")
        count = io.ue("frame_count_minus1") + 1
    except FcError:
        return 1
    return count if count <= MAX_PACKET_FRAMES else 1


class FcsDecoder:
    """Unit-by-unit FCS decoder (SPEC 6, 7).

    Args:
        strict: raise the first error (True) or conceal and continue (False).
    """

    def __init__(self, strict: bool = True):
        self.strict = strict
        self.header: SequenceHeader | None = None
        self._key: tuple | None = None
        self._seq_ranges: ActiveRanges | None = None
        self._ranges: ActiveRanges | None = None
        self._top: np.ndarray | None = None
        self._ref: np.ndarray | None = None
        self._last_good: np.ndarray | None = None
        self._expected: int | None = None
        self.events: list[UnitEvent] = []
        self._units_seen = 0
        self._main_state: MainState | None = None

    # -- limits -------------------------------------------------------------------
    def max_unit_bytes(self) -> int:
        """Largest unit the active level allows (SPEC 4.3, R-21)."""
        if self.header is None:
            return max_unit_bytes_any_level()
        return levels()[self.header.level_idc].max_unit_bytes

    # -- state --------------------------------------------------------------------
    def _activate(self, h: SequenceHeader) -> None:
        """SPEC 6.1, R-23: a new or changed sequence header resets the decoder."""
        key = h.layout_key()
        if key == self._key:
            return  # a repeat of the active header changes nothing, ranges in effect included
        self.header, self._key = h, key
        self._seq_ranges = ActiveRanges.from_groups(h.groups, [g.range_min for g in h.groups], [g.range_max for g in h.groups])
        self._top = np.array([(1 << g.bit_depth) - 1 for g in h.groups for _ in range(g.dims)], dtype=np.int64)
        self._top_unsigned = self._top.astype(np.uint64)
        self._total_dims = h.total_dims
        self._set_ranges(self._seq_ranges)
        self._ref = None
        self._last_good = None
        self._expected = None
        self._main_state = None  # SPEC 14.5: made at the first packet of the header
        self._ref2 = None  # SPEC 14.4.2: the frame before the reference, within the I-frame period
        # SPEC 5.2.1, R-220: the flat intra centers, or None without intra prediction
        self._centers = (np.array([c for g in h.groups for c in g.intra_centers], dtype=np.int64) if h.intra_pred_flag else None)
        # SPEC 7.2, R-223: the last two decoded quantized vectors, when they were consecutive outputs
        self._q1 = self._q2 = None
        self._prev_decoded = False
        self._momentum = np.array([g.predictor for g in h.groups for _ in range(g.dims)], dtype=np.int64)
        self._xdim = flat_references(h) if h.xdim_pred_flag else None  # SPEC 5.2.1, R-224

    def _residuals(self, coded: np.ndarray) -> np.ndarray:
        """SPEC 6.4, R-225: a P-frame's residuals from the values it codes (the same without references)."""
        return coded if self._xdim is None else residuals_from_coded(coded, self._xdim)

    def _set_ranges(self, ranges: ActiveRanges) -> None:
        """Make ``ranges`` the ones in effect (SPEC 6.3) and prepare their dequantization."""
        if ranges is self._ranges:
            return
        self._ranges = ranges

    def _dequantize(self, q: np.ndarray) -> np.ndarray:
        """SPEC 6.5, R-30: binary32 ``min + q*step`` with the ranges in effect.

        R-16 makes every level of a valid range finite, so no overflow handling is needed.
        """
        return self._ranges.range_min + q.astype(np.float32) * self._ranges.step

    def _concealed(self, status: FrameStatus, unit_index: int | None, error: FcError | None = None) -> DecodedFrame:
        """SPEC 7.2: hold the last good vector (R-41, zeros before the first), or extrapolate the
        last two decoded frames (R-223) when the header asks for it and they exist."""
        self._prev_decoded = False
        if self.header.conceal_extrapolate_flag and self._q2 is not None:
            q = np.clip(2 * self._q1 - self._q2, 0, self._top)  # integer-exact, then SPEC 6.5
            values = self._dequantize(q)
        elif self._last_good is not None:
            values = self._last_good.copy()
        else:
            values = np.zeros(self._total_dims, dtype=np.float32)
        return DecodedFrame(values, status, unit_index, error=error)

    def _note_decoded(self, q: np.ndarray, intra: bool) -> None:
        """SPEC 7.2, R-223: the extrapolation pair after a decoded frame. The frame before a P-frame
        pairs with it only when it was output just before and decoded; an I-frame starts a new pair."""
        self._q2 = self._q1 if self._prev_decoded and not intra else None
        self._q1 = q
        self._prev_decoded = True

    def _intra_vector(self, flat: np.ndarray, name: str, at) -> np.ndarray:
        """SPEC 6.4, R-221: an I-frame's quantized vector, predicted from the intra centers when
        the header has intra prediction; a value outside [0, 2^b - 1] is E_RESIDUAL."""
        if self._centers is None:
            return flat
        q = self._centers + flat
        if (q.view(np.uint64) > self._top_unsigned).any():
            bad = int(np.argmax((q < 0) | (q > self._top)))
            raise at(bad, int(q[bad]), name)
        return q

    # -- decoding -----------------------------------------------------------------
    def decode_unit(self, data: bytes, unit_index: int | None = None, base_bit: int = 0) -> list[DecodedFrame]:
        """Decode one unit and return the frames it outputs, in output order."""
        index = self._units_seen if unit_index is None else unit_index
        self._units_seen += 1
        packet: MainPacket | None = None
        try:
            unit = read_unit(data, self.header, base_bit)
            if isinstance(unit, SequenceHeader):
                self._activate(unit)
                self.events.append(UnitEvent(index, "sequence_header"))
                return []
            if isinstance(unit, ReservedUnit):
                self.events.append(UnitEvent(index, "reserved"))
                return []
            if isinstance(unit, MainPacket):
                packet = unit
                frames = self._decode_packet(unit, index)
            else:
                frames = self._decode_frame(unit, index, data, base_bit)
        except FcError as err:
            if self.strict:
                raise
            if self.header is not None and self.header.profile_idc == MAIN_PROFILE_IDC:
                return self._on_packet_error(err, data, index, packet)
            return self._on_error(err, data, index)
        self.events.append(UnitEvent(index, "I" if unit.is_intra else "P", frames_out=len(frames)))
        return frames

    def _on_error(self, err: FcError, data: bytes, index: int) -> list[DecodedFrame]:
        """SPEC 7.1, R-40: a failed unit is discarded; a failed frame unit is one lost frame."""
        unit_type = _peek_unit_type(data)
        if self.header is None or unit_type == UNIT_SEQUENCE_HEADER or isinstance(err, E_NO_SEQUENCE_HEADER):
            self.events.append(UnitEvent(index, "error", err.error_class))
            return []
        self._ref = None
        if self._expected is not None:  # SPEC 7.1, R-107: the damaged unit's counter is not used
            self._expected = (self._expected + 1) % FRAME_COUNTER_MODULUS
        self.events.append(UnitEvent(index, "error", err.error_class, frames_out=1))
        return [self._concealed(FrameStatus.CONCEALED_ERROR, index, err)]

    def _decode_frame(self, f: FrameUnit, index: int, data: bytes, base_bit: int) -> list[DecodedFrame]:
        out: list[DecodedFrame] = []
        flat = np.fromiter(chain.from_iterable(f.values), dtype=np.int64, count=self._total_dims)
        if f.unit_type == UNIT_I_FRAME:  # SPEC 5.3.1, R-221: a check of the unit, before the gap is handled
            intra = self._intra_vector(flat, "intra_residual", lambda j, v, name: self._residual_error(j, v, data, base_bit, name))
        # SPEC 7.1, R-42: a counter gap means frames were lost.
        if self._expected is not None:
            gap = (f.frame_counter - self._expected) % FRAME_COUNTER_MODULUS
            if gap:
                self._ref = None
                out.extend(self._concealed(FrameStatus.CONCEALED_GAP, None) for _ in range(gap))
        if f.unit_type == UNIT_I_FRAME:
            q = intra
            # SPEC 6.3, R-31: an I-frame restores the sequence ranges, then applies its updates
            self._set_ranges(self._seq_ranges.with_updates(self.header.groups, f.range_updates) if f.range_update_flag else self._seq_ranges)
        elif self._ref is None:
            # SPEC 7.2, R-43: a P-frame without a reference is dropped.
            self._expected = (f.frame_counter + 1) % FRAME_COUNTER_MODULUS
            out.append(self._concealed(FrameStatus.CONCEALED_NO_REFERENCE, index))
            return out
        else:
            # SPEC 6.4, R-32, R-101: reconstruction, after the whole unit is parsed and the gap handled
            q = self._ref + self._residuals(flat)  # SPEC 6.4, R-32
            # one unsigned comparison checks 0 <= q <= 2^b - 1 (a negative q wraps to a huge value)
            if (q.view(np.uint64) > self._top_unsigned).any():
                bad = (q < 0) | (q > self._top)
                raise self._residual_error(int(np.argmax(bad)), int(q[np.argmax(bad)]), data, base_bit)
        values = self._dequantize(q)
        self._ref = q
        self._last_good = values
        self._note_decoded(q, f.unit_type == UNIT_I_FRAME)
        self._expected = (f.frame_counter + 1) % FRAME_COUNTER_MODULUS
        out.append(DecodedFrame(values, FrameStatus.DECODED, index, "I" if f.unit_type == UNIT_I_FRAME else "P", q))
        return out

    # -- Main profile (SPEC 14) ----------------------------------------------------------
    def _on_packet_error(self, err: FcError, data: bytes, index: int, packet: MainPacket | None) -> list[DecodedFrame]:
        """SPEC 14.5, R-129: a damaged packet conceals its frame count (one frame if unreadable)."""
        unit_type = _peek_unit_type(data)
        if unit_type == UNIT_SEQUENCE_HEADER:
            self.events.append(UnitEvent(index, "error", err.error_class))
            return []
        count = packet.frame_count if packet is not None else _peek_frame_count(data)
        self._ref = None  # the adaptive state is invalid with it: P packets wait for a reset point
        if self._expected is not None:
            self._expected = (self._expected + count) % MAIN_COUNTER_MODULUS
        self.events.append(UnitEvent(index, "error", err.error_class, frames_out=count))
        return [self._concealed(FrameStatus.CONCEALED_ERROR, index, err) for _ in range(count)]

    def _decode_packet(self, p: MainPacket, index: int) -> list[DecodedFrame]:
        """SPEC 14.5, 14.6: the frames of one packet, with the loss process of SPEC 7 per frame."""
        out: list[DecodedFrame] = []
        if self._expected is not None:  # SPEC 7.1 with the Main counter modulus
            gap = (p.frame_counter - self._expected) % MAIN_COUNTER_MODULUS
            if gap:
                self._ref = None
                out.extend(self._concealed(FrameStatus.CONCEALED_GAP, None) for _ in range(gap))
        self._expected = (p.frame_counter + p.frame_count) % MAIN_COUNTER_MODULUS
        if not p.is_intra and self._ref is None:
            # SPEC 14.5, R-129: without a reference the adaptive state is unknown; the payload is not decoded
            out.extend(self._concealed(FrameStatus.CONCEALED_NO_REFERENCE, index) for _ in range(p.frame_count))
            return out
        if self._main_state is None:
            self._main_state = MainState(self.header)
        rows, ranges = decode_payload(p, self._main_state)
        active = self._ranges
        if p.is_intra:  # SPEC 6.3, R-31 (in effect once the packet is decoded without error)
            active = self._seq_ranges.with_updates(self.header.groups, p.range_updates) if p.range_update_flag else self._seq_ranges
        decoded: list[DecodedFrame] = []
        ref, ref2 = self._ref, self._ref2
        for f, row in enumerate(rows):
            flat = np.array(row, dtype=np.int64)
            if f == 0 and p.is_intra:
                q, ref2 = self._intra_vector(flat, "intra_length", lambda j, v, name: self._packet_error(j, v, 0, name, p)), None
            else:
                pred = ref if ref2 is None else ref + self._momentum * ((ref - ref2) >> 1)  # SPEC 14.4.2, R-132
                q = pred + self._residuals(flat)  # SPEC 6.4, R-32
                ref2 = ref
                if (q.view(np.uint64) > self._top_unsigned).any():
                    bad = int(np.argmax((q < 0) | (q > self._top)))
                    raise self._packet_error(bad, int(q[bad]), f, "residual_nonzero_flag", p)
            ref = q
            values = active.range_min + q.astype(np.float32) * active.step  # SPEC 6.5, R-30
            decoded.append(DecodedFrame(values, FrameStatus.DECODED, index, "I" if f == 0 and p.is_intra else "P", q,
                                        final_range=ranges[f]))
        self._set_ranges(active)
        for f, frame in enumerate(decoded):
            self._note_decoded(frame.quantized, f == 0 and p.is_intra)
        self._ref, self._ref2 = ref, ref2
        self._last_good = decoded[-1].values
        return out + decoded

    def _packet_error(self, flat_index: int, value: int, frame: int, element: str, p: MainPacket) -> FcError:
        """SPEC 14.4.2, R-131: E_RESIDUAL naming the value's first element, at the payload's bit offset."""
        g, d = self._group_dim(flat_index)
        top = (1 << self.header.groups[g].bit_depth) - 1
        return E_RESIDUAL(f"reconstructed value {value} of frame {frame} of the packet outside [0, {top}]",
                          field=f"{element}[{g}][{d}]", bit_offset=p.payload_bit)

    def _residual_error(self, flat_index: int, value: int, data: bytes, base_bit: int, element: str = "residual") -> FcError:
        """E_RESIDUAL naming the residual (or intra_residual) and its bit offset (re-parsed with a trace)."""
        g, d = self._group_dim(flat_index)
        trace: list = []
        read_unit(data, self.header, base_bit, trace)
        name = f"{element}[{g}][{d}]"
        at = next((t.bit_offset for t in trace if t.name == name), None)
        top = (1 << self.header.groups[g].bit_depth) - 1
        return E_RESIDUAL(f"reconstructed value {value} outside [0, {top}]", field=name, bit_offset=at)

    def _group_dim(self, flat_index: int) -> tuple[int, int]:
        for g, grp in enumerate(self.header.groups):
            if flat_index < grp.dims:
                return g, flat_index
            flat_index -= grp.dims
        raise IndexError(flat_index)  # unreachable: residual indices are below the header's total dims


def decode_file(data: bytes, strict: bool = True) -> DecodeResult:
    """Decode a whole ``.fcs`` file (SPEC 5.5, 6, 7).

    Framing errors (signature, leb128, unit sizes) always raise: without them the units
    cannot be found. Unit errors raise in strict mode and are concealed otherwise. To keep
    the frames decoded before a framing error, use :func:`decode_file_partial`.
    """
    result = _decode(data, strict)
    if result.framing_error is not None:
        raise result.framing_error
    return result


def decode_file_partial(data: bytes) -> DecodeResult:
    """Decode a whole ``.fcs`` file in resilient mode, keeping the output of a damaged file.

    SPEC 7.3, R-99: a framing error of the storage format (a truncated file, a bad
    ``unit_size``) ends decoding; the frames output before it are the decoder's output, and
    the error is reported in :attr:`DecodeResult.framing_error` instead of being raised.
    """
    return _decode(data, strict=False)


def _decode(data: bytes, strict: bool) -> DecodeResult:
    dec = FcsDecoder(strict=strict)
    frames: list[DecodedFrame] = []
    first = True
    units = iter_units(data, dec.max_unit_bytes)
    while True:
        try:
            unit = next(units, None)
        except FcError as err:  # SPEC 7.3: framing errors end decoding in both modes
            if strict:
                raise
            return DecodeResult(dec.header, frames, dec.events, framing_error=err)
        if unit is None:
            return DecodeResult(dec.header, frames, dec.events)
        if first and strict and _peek_unit_type(unit.data) not in (None, UNIT_SEQUENCE_HEADER):
            # SPEC 5.5, R-20, R-106: a file starts with a sequence header; an unreadable first
            # unit_type raises its own read error below, a reserved one is no exception
            raise E_NO_SEQUENCE_HEADER("the first unit is not a sequence header", field="unit_type", bit_offset=unit.byte_offset * 8)
        first = False
        frames.extend(dec.decode_unit(unit.data, unit.index, unit.byte_offset * 8))
