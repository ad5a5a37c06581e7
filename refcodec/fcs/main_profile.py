"""The Main profile (SPEC 14): packet units whose frames are coded with the adaptive range coder.

A packet unit (unit_type 0 or 1 when ``profile_idc`` is 1) carries ``frame_count`` consecutive
frames: a short fixed-length header (frame counter, frame count, the I-frame's range updates),
then the range-coded payload up to the end of the unit. The adaptive state (contexts and the
per-dimension history that selects them, :class:`MainState`) runs on from packet to packet
and is reset at every reset point: the first frame of a packet with unit_type 1 (SPEC 14.5).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..bitio import BitReader, BitWriter, TraceEntry
from ..checksums import crc8
from ..errors import E_EXPGOLOMB, E_UNIT_SIZE, E_VALUE
from .layout import UNIT_I_FRAME, SequenceHeader
from .rangecoder import Contexts, RangeDecoder, RangeEncoder

MAIN_PROFILE_IDC = 1
MAIN_COUNTER_BITS = 8
MAIN_COUNTER_MODULUS = 1 << MAIN_COUNTER_BITS  # SPEC 14.2, R-125
MAX_PACKET_FRAMES = 256  # frame_count_minus1 <= 255
UNARY_BINS = 12  # SPEC 14.4: adaptive prefix bins before the Exp-Golomb escape
MAX_ESCAPE_ZEROS = 16

NONZERO_INIT_COUNT = 8  # SPEC 14.5, R-127: the counter n of a nonzero-flag context after its initialisation

# Context index layout (SPEC 14.4, table 14-3): two frame contexts, then one block per group, then
# one block per dimension (flat index j in layout order).
CTX_FRAME_ZERO = 0  # + 1 when the previous frame was all zero
G_ZERO, G_SIGN, G_PREFIX, G_INTRA = 0, 2, 5, 5 + 3 * UNARY_BINS  # offsets in a group's block
CTX_PER_GROUP = G_INTRA + 16  # group_zero[2], sign[3], prefix[3][UNARY_BINS] (u >= 1), intra_length[16]
D_NONZERO, D_PREFIX0 = 0, 3  # offsets in a dimension's block
CTX_PER_DIM = 6  # nonzero[3], prefix bin u = 0 [3]


@dataclass
class MainPacket:
    """A Main-profile packet unit as parsed before its payload is decoded (SPEC 14.2)."""

    unit_type: int
    frame_counter: int
    frame_count: int
    range_update_flag: bool = False
    range_updates: dict[int, tuple[list[float], list[float]]] = field(default_factory=dict)
    payload: bytes = b""
    payload_bit: int = 0  # absolute bit offset of the payload's first byte

    @property
    def is_intra(self) -> bool:
        """True when the packet starts with an I-frame (a reset point)."""
        return self.unit_type == UNIT_I_FRAME


def packet_syntax(io: BitReader | BitWriter, p: MainPacket, h: SequenceHeader) -> MainPacket:
    """SPEC 14.2, syntax table 14-1 (main_packet_unit), after unit_type; the payload is the rest."""
    from .syntax import _crc_field, _range_pair, _require

    p.frame_counter = io.u(MAIN_COUNTER_BITS, "frame_counter", p.frame_counter)
    at = io.at()
    p.frame_count = io.ue("frame_count_minus1", None if io.reading else p.frame_count - 1) + 1
    _require(io, p.frame_count <= MAX_PACKET_FRAMES, E_VALUE,
             f"frame_count_minus1 {p.frame_count - 1} exceeds {MAX_PACKET_FRAMES - 1}", "frame_count_minus1", at)
    if p.unit_type == UNIT_I_FRAME:  # the same range update syntax as a Baseline I-frame (SPEC 5.3)
        p.range_update_flag = bool(io.u(1, "range_update_flag", int(p.range_update_flag)))
        if p.range_update_flag:
            for g, grp in enumerate(h.groups):
                upd = io.u(1, f"range_update_group_flag[{g}]", int(g in p.range_updates))
                if upd:
                    mins, maxs = p.range_updates.get(g, ([None] * grp.dims, [None] * grp.dims))
                    pairs = [_range_pair(io, g, d, grp.bit_depth, mins[d], maxs[d]) for d in range(grp.dims)]
                    p.range_updates[g] = ([q[0] for q in pairs], [q[1] for q in pairs])
    io.byte_alignment()
    crc_bytes = 1 if h.frame_crc_flag else 0
    if io.reading:
        start = io.pos // 8
        end = len(io.data) - crc_bytes
        _require(io, end >= start, E_UNIT_SIZE, "the unit ends before its frame_crc", "frame_crc", io.at())
        p.payload = bytes(io.data[start:end])
        p.payload_bit = io.at()
        if io.trace is not None:
            io.trace.append(_payload_entry(io.at(), p.payload))
        io.pos = end * 8
    else:  # a writer's payload bytes
        for b in p.payload:
            io.u(8, "packet_payload", b)
    if h.frame_crc_flag:
        _crc_field(io, 8, "frame_crc", crc8)
    return p


def _payload_entry(bit_offset: int, payload: bytes) -> TraceEntry:
    return TraceEntry(bit_offset, "packet_payload", "b(*)", "".join(f"{b:08b}" for b in payload), f"{len(payload)} bytes")


class MainState:
    """The adaptive state of SPEC 14.5: contexts plus the history that selects them."""

    def __init__(self, h: SequenceHeader):
        self.dims = h.total_dims
        self.groups = [(g.dims, g.bit_depth, g.zero_flag_enabled, list(g.eg_orders)) for g in h.groups]
        self.group_base = [2 + CTX_PER_GROUP * g for g in range(len(h.groups))]
        self.dim_base = [2 + CTX_PER_GROUP * len(h.groups) + CTX_PER_DIM * j for j in range(self.dims)]
        self.dim_group = [g for g, grp in enumerate(h.groups) for _ in range(grp.dims)]
        self.intra_pred = h.intra_pred_flag  # SPEC 14.4.2, R-222: I-frame values are signed differences
        self.ctx = Contexts(2 + CTX_PER_GROUP * len(h.groups) + CTX_PER_DIM * self.dims)
        self._inits = [(self.dim_base[j] + D_NONZERO + c, init_probability(idx))
                       for j, init in enumerate(i for g in h.groups for i in (g.nonzero_init or [[8, 8, 8]] * g.dims))
                       for c, idx in enumerate(init)]
        self.payload_bit = 0  # where the packet being decoded starts, for error offsets
        self.reset()

    def reset(self) -> None:
        """SPEC 14.5, R-127: the state at a reset point."""
        self.ctx.reset()
        for i, p in self._inits:
            self.ctx.p[i] = p
            self.ctx.n[i] = NONZERO_INIT_COUNT
        self.clear_history()

    def clear_history(self) -> None:
        """The history after an I-frame (SPEC 14.5): no previous residual."""
        self.frame_zero = 0
        self.group_zero = [0] * len(self.groups)
        self.cls = [0] * self.dims  # 0: previous residual 0, 1: |r| = 1, 2: |r| >= 2
        self.sgn = [0] * self.dims  # 0: previous residual 0, 1: positive, 2: negative

    def snapshot(self) -> tuple:
        """A copy to return to (the encoder re-codes a packet that grew too large)."""
        return (list(self.ctx.p), list(self.ctx.n), self.frame_zero, list(self.group_zero), list(self.cls), list(self.sgn))

    def restore(self, snap: tuple) -> None:
        """Return to a :meth:`snapshot`."""
        p, n, fz, gz, cls, sgn = snap
        self.ctx.p, self.ctx.n = list(p), list(n)
        self.frame_zero, self.group_zero, self.cls, self.sgn = fz, list(gz), list(cls), list(sgn)


def init_probability(index: int) -> int:
    """SPEC 14.5, R-127: p of a nonzero-flag context with ``nonzero_init`` = index (0..15)."""
    return (2 * index + 1) << 10


def decode_payload(packet: MainPacket, state: MainState, trace: list | None = None) -> tuple[list[list[int]], list[int]]:
    """SPEC 14.4: the frames of a packet's payload.

    Returns the flat vectors (quantized values for the I-frame, residuals for P-frames) and the
    coder's ``rng`` after each frame (the per-frame state that conformance checks, R-128).
    ``trace`` collects (frame, element, value, rng, bytes read) tuples for ``fcdump``, one per element.
    """
    dec = RangeDecoder(packet.payload)
    state.payload_bit = packet.payload_bit
    frames: list[list[int]] = []
    ranges: list[int] = []
    for f in range(packet.frame_count):
        if f == 0 and packet.is_intra:
            state.reset()  # SPEC 14.5, R-127: a reset point
            row = _decode_i_frame(dec, state, f, trace)
        else:
            row = _decode_p_frame(dec, state, f, trace)
        frames.append(row)
        ranges.append(dec.rng)
    if len(packet.payload) > dec.consumed():  # SPEC 14.3.2, R-123
        raise E_UNIT_SIZE(f"payload of {len(packet.payload)} bytes, the coder read only {dec.consumed()}",
                          field="packet_payload", bit_offset=packet.payload_bit + 8 * dec.consumed())
    return frames, ranges


def _decode_i_frame(dec: RangeDecoder, state: MainState, f: int, trace: list | None) -> list[int]:
    """SPEC 14.4, table 14-2, intra_frame(): each value as its bit length (adaptive unary), then its
    bits below the leading one (bypass); with intra prediction (R-222) the value is the magnitude of
    the difference from intra_center, followed by its sign (one bypass bin) when it is not 0."""
    ctx = state.ctx
    row = []
    for g, (dims, depth, _, _) in enumerate(state.groups):
        base = state.group_base[g] + G_INTRA
        for d in range(dims):
            length = 0
            if dec.bin(ctx, base):  # intra_nonzero_flag, then the leading zeros from the top (SPEC 14.4.3)
                zeros = 0
                while zeros < depth - 1 and dec.bin(ctx, base + 1 + zeros):
                    zeros += 1
                length = depth - zeros
            v = (1 << (length - 1)) | dec.bypass_bits(length - 1) if length else 0
            if state.intra_pred and v and dec.bypass_bits(1):  # intra_sign_flag
                v = -v
            row.append(v)
            if trace is not None:
                trace.append((f, f"intra_value[{g}][{d}]", v, dec.rng, dec.pos))
    state.clear_history()
    return row


def _decode_p_frame(dec: RangeDecoder, state: MainState, f: int, trace: list | None) -> list[int]:
    """SPEC 14.4, table 14-2, inter_frame(): one P-frame's residuals."""
    ctx = state.ctx
    zero = dec.bin(ctx, CTX_FRAME_ZERO + state.frame_zero)
    if trace is not None:
        trace.append((f, "frame_zero_flag", zero, dec.rng, dec.pos))
    state.frame_zero = zero
    if zero:
        state.group_zero = [1] * len(state.groups)
        state.cls = [0] * state.dims
        state.sgn = [0] * state.dims
        return [0] * state.dims
    row: list[int] = []
    cls, sgn, dim_base = state.cls, state.sgn, state.dim_base
    j = 0
    for g, (dims, _, zero_flag_enabled, orders) in enumerate(state.groups):
        gbase = state.group_base[g]
        gz = 0
        if zero_flag_enabled:
            gz = dec.bin(ctx, gbase + G_ZERO + state.group_zero[g])
            if trace is not None:
                trace.append((f, f"group_zero_flag[{g}]", gz, dec.rng, dec.pos))
        if gz:
            row.extend([0] * dims)
            cls[j : j + dims] = [0] * dims
            sgn[j : j + dims] = [0] * dims
            state.group_zero[g] = 1
            j += dims
            continue
        any_nonzero = 0
        for d in range(dims):
            base = dim_base[j]
            c = cls[j]
            if not dec.bin(ctx, base + D_NONZERO + c):
                row.append(0)
                if trace is not None:
                    trace.append((f, f"residual[{g}][{d}]", 0, dec.rng, dec.pos))
                cls[j] = 0
                sgn[j] = 0
                j += 1
                continue
            negative = dec.bin(ctx, gbase + G_SIGN + sgn[j])
            prefix = 0
            if dec.bin(ctx, base + D_PREFIX0 + c):
                prefix = 1
                mbase = gbase + G_PREFIX + UNARY_BINS * c
                while prefix < UNARY_BINS and dec.bin(ctx, mbase + prefix):
                    prefix += 1
                if prefix == UNARY_BINS:
                    prefix += _decode_escape(dec, f"residual_escape[{g}][{d}]", state.payload_bit)
            k = orders[d]
            magnitude = (prefix << k) + (dec.bypass_bits(k) if k else 0) + 1
            v = -magnitude if negative else magnitude
            row.append(v)
            if trace is not None:
                trace.append((f, f"residual[{g}][{d}]", v, dec.rng, dec.pos))
            cls[j] = 1 if magnitude == 1 else 2
            sgn[j] = 2 if negative else 1
            any_nonzero = 1
            j += 1
        state.group_zero[g] = 1 - any_nonzero
    return row


def _decode_escape(dec: RangeDecoder, name: str, payload_bit: int) -> int:
    """Zero-order Exp-Golomb value from bypass bins (SPEC 14.4, R-126)."""
    zeros = 0
    while not dec.bypass():
        zeros += 1
        if zeros > MAX_ESCAPE_ZEROS:
            raise E_EXPGOLOMB(f"escape with more than {MAX_ESCAPE_ZEROS} leading zero bins", field=name,
                              bit_offset=payload_bit + 8 * max(dec.consumed() - 4, 0))
    return (1 << zeros) - 1 + dec.bypass_bits(zeros)


def encode_payload(rows: list[list[int]], intra_first: bool, state: MainState) -> tuple[bytes, list[int]]:
    """The payload of a packet holding ``rows`` (quantized values for a first I-frame, else residuals).

    Mirrors :func:`decode_payload` bin for bin; returns the bytes and the per-frame ``rng``.
    """
    enc = RangeEncoder()
    ranges = []
    for f, row in enumerate(rows):
        if f == 0 and intra_first:
            state.reset()
            _encode_i_frame(enc, state, row)
        else:
            _encode_p_frame(enc, state, row)
        ranges.append(enc.rng)
    return enc.finish(), ranges


def _encode_i_frame(enc: RangeEncoder, state: MainState, row: list[int]) -> None:
    ctx = state.ctx
    j = 0
    for g, (dims, depth, _, _) in enumerate(state.groups):
        base = state.group_base[g] + G_INTRA
        for _ in range(dims):
            v = abs(row[j])  # SPEC 14.4.2, R-222: a signed difference with intra prediction
            length = v.bit_length()
            enc.bin(ctx, base, 1 if length else 0)
            if length:
                zeros = depth - length
                for u in range(zeros):
                    enc.bin(ctx, base + 1 + u, 1)
                if zeros < depth - 1:
                    enc.bin(ctx, base + 1 + zeros, 0)
            if length > 1:
                enc.bypass_bits(v - (1 << (length - 1)), length - 1)
            if state.intra_pred and v:
                enc.bypass_bits(1 if row[j] < 0 else 0, 1)
            j += 1
    state.clear_history()


def _encode_p_frame(enc: RangeEncoder, state: MainState, row: list[int]) -> None:
    ctx = state.ctx
    zero = 0 if any(row) else 1
    enc.bin(ctx, CTX_FRAME_ZERO + state.frame_zero, zero)
    state.frame_zero = zero
    if zero:
        state.group_zero = [1] * len(state.groups)
        state.cls = [0] * state.dims
        state.sgn = [0] * state.dims
        return
    cls, sgn, dim_base = state.cls, state.sgn, state.dim_base
    j = 0
    for g, (dims, _, zero_flag_enabled, orders) in enumerate(state.groups):
        gbase = state.group_base[g]
        values = row[j : j + dims]
        gz = 0 if any(values) else 1
        if zero_flag_enabled:
            enc.bin(ctx, gbase + G_ZERO + state.group_zero[g], gz)
            if gz:
                cls[j : j + dims] = [0] * dims
                sgn[j : j + dims] = [0] * dims
                state.group_zero[g] = 1
                j += dims
                continue
        for d, v in enumerate(values):
            base = dim_base[j]
            c = cls[j]
            if not v:
                enc.bin(ctx, base + D_NONZERO + c, 0)
                cls[j] = 0
                sgn[j] = 0
                j += 1
                continue
            enc.bin(ctx, base + D_NONZERO + c, 1)
            negative = 1 if v < 0 else 0
            enc.bin(ctx, gbase + G_SIGN + sgn[j], negative)
            magnitude = -v if negative else v
            k = orders[d]
            m = magnitude - 1
            prefix = m >> k
            enc.bin(ctx, base + D_PREFIX0 + c, 1 if prefix else 0)
            if prefix:
                mbase = gbase + G_PREFIX + UNARY_BINS * c
                for u in range(1, min(prefix, UNARY_BINS)):
                    enc.bin(ctx, mbase + u, 1)
                if prefix < UNARY_BINS:
                    enc.bin(ctx, mbase + prefix, 0)
                else:
                    _encode_escape(enc, prefix - UNARY_BINS)
            if k:
                enc.bypass_bits(m & ((1 << k) - 1), k)
            cls[j] = 1 if magnitude == 1 else 2
            sgn[j] = 2 if negative else 1
            j += 1
        state.group_zero[g] = gz


def _encode_escape(enc: RangeEncoder, value: int) -> None:
    zeros = (value + 1).bit_length() - 1
    if zeros > MAX_ESCAPE_ZEROS:
        raise ValueError(f"escape value {value} too large")
    enc.bypass_bits(0, zeros)
    enc.bypass(1)
    enc.bypass_bits(value + 1 - (1 << zeros), zeros)
