"""An independent writer of Main-profile packets (SPEC 14.2 to 14.5) for the Main vectors.

The reference encoder (``refcodec.fcs.main_encoder`` / ``rangecoder.RangeEncoder``) keeps a 33-bit
``low`` and propagates carries as LZMA does. This writer is written from SPEC 14.3 another way: it
keeps the whole code interval as Python integers of unbounded size (``low`` grows by a byte at every
renormalisation, so a carry is just an addition) and turns the final value into bytes at the end.
The binarisation and contexts are written from table 14-3 and 14.4.3; the predictions (R-132) and
intra centers (R-220) are applied here too. A test compares its bytes with the reference encoder's
on random streams; the Main vectors' bytes come from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bitstring import BitArray, Bits

from .bits import crc8, exp_golomb_bits, leb128_bytes, unit_bytes
from .script import xdim_coded
from .syntax import header_elements

SHIFTS = [2] * 2 + [3] * 4 + [4] * 8 + [5] * 16 + [6]  # SPEC 14.3.1, R-122: SHIFT[n] for n = 0..30
UNARY = 12  # SPEC 14.4.3: prefix bins before the escape


class WideRangeEncoder:
    """SPEC 14.3: the inverse of decode_bin / decode_bypass with an unbounded ``low``."""

    def __init__(self) -> None:
        self.low = 0
        self.rng = 0xFFFFFFFF
        self.shifts = 0  # bytes the decoder reads past its first four

    def _renormalise(self) -> None:
        while self.rng < 1 << 24:
            self.rng <<= 8
            self.low <<= 8
            self.shifts += 1

    def encode_bin(self, ctx: list[int], bit: int) -> None:
        """One context-coded bin; ``ctx`` is [p, n] and adapts as R-122 says."""
        p, n = ctx
        bound = (self.rng >> 15) * p
        if bit:
            self.low += bound
            self.rng -= bound
            ctx[0] = p - (p >> SHIFTS[n])
        else:
            self.rng = bound
            ctx[0] = p + ((32768 - p) >> SHIFTS[n])
        ctx[1] = min(n + 1, 30)
        self._renormalise()

    def encode_bypass(self, bit: int) -> None:
        bound = self.rng >> 1
        if bit:
            self.low += bound
            self.rng -= bound
        else:
            self.rng = bound
        self._renormalise()

    def bypass_value(self, value: int, count: int) -> None:
        for s in reversed(range(count)):
            self.encode_bypass((value >> s) & 1)

    def payload(self) -> bytes:
        """SPEC 14.3.3: the value of [low, low + rng) with the most trailing zero bytes, written in the
        4 + shifts bytes the decoder reads, trailing zero bytes dropped (R-121 reads them back)."""
        for zeros in range(4, -1, -1):
            unit = 1 << (8 * zeros)
            value = -(-self.low // unit) * unit
            if value < self.low + self.rng:
                break
        return value.to_bytes(4 + self.shifts, "big").rstrip(b"\0")


@dataclass
class _State:
    """The adaptive state of SPEC 14.5: contexts by name (table 14-3) and the history variables."""

    contexts: dict = field(default_factory=dict)
    prev_frame_zero: int = 0
    prev_group_zero: list[int] = field(default_factory=list)
    cls: list[int] = field(default_factory=list)
    sgn: list[int] = field(default_factory=list)

    def ctx(self, key: tuple) -> list[int]:
        return self.contexts.setdefault(key, [16384, 0])


def reset_state(h) -> _State:
    """R-127: every context at p = 16384, n = 0, except NZ from nonzero_init; the history at 0."""
    st = _State()
    j = 0
    for g in h.groups:
        for d in range(g.dims):
            for c in range(3):
                st.contexts[("NZ", j, c)] = [(2 * g.nonzero_init[d][c] + 1) * 1024, 8]
            j += 1
    _clear(st, h)
    return st


def _clear(st: _State, h) -> None:
    total = sum(g.dims for g in h.groups)
    st.prev_frame_zero, st.prev_group_zero, st.cls, st.sgn = 0, [0] * len(h.groups), [0] * total, [0] * total


def _intra_frame(enc: WideRangeEncoder, st: _State, h, row: list[int]) -> None:
    """14.4.3: intra_length (nonzero bin, then leading zeros from the top), mantissa, and the sign of R-222."""
    j = 0
    for gi, g in enumerate(h.groups):
        for _ in range(g.dims):
            v = row[j]
            m = abs(v)
            length = m.bit_length()
            enc.encode_bin(st.ctx(("IL", gi, 0)), int(length > 0))
            if length:
                zeros = g.bit_depth - length
                for z in range(min(zeros + 1, g.bit_depth - 1)):
                    enc.encode_bin(st.ctx(("IL", gi, 1 + z)), int(z < zeros))
                enc.bypass_value(m - (1 << (length - 1)), length - 1)
                if h.intra_pred_flag:
                    enc.encode_bypass(int(v < 0))
            j += 1
    _clear(st, h)


def _inter_frame(enc: WideRangeEncoder, st: _State, h, row: list[int]) -> None:
    """14.4.1 to 14.4.3: frame and group zero flags, then per dimension nonzero, sign, prefix, escape, suffix."""
    zero = int(not any(row))
    enc.encode_bin(st.ctx(("F", st.prev_frame_zero)), zero)
    j = 0
    for gi, g in enumerate(h.groups):
        values = row[j : j + g.dims]
        group_zero = 0
        if not zero and g.zero_flag_enabled:
            group_zero = int(not any(values))
            enc.encode_bin(st.ctx(("GZ", gi, st.prev_group_zero[gi])), group_zero)
        for d, r in enumerate(values):
            jj = j + d
            if zero or group_zero:
                continue
            enc.encode_bin(st.ctx(("NZ", jj, st.cls[jj])), int(r != 0))
            if r == 0:
                continue
            k = g.eg_orders[d]
            enc.encode_bin(st.ctx(("SG", gi, st.sgn[jj])), int(r < 0))
            rest = abs(r) - 1
            prefix = rest >> k
            for u in range(min(prefix + 1, UNARY)):
                enc.encode_bin(st.ctx(("P0", jj, st.cls[jj]) if u == 0 else ("PU", gi, st.cls[jj], u)), int(u < prefix))
            if prefix >= UNARY:  # bg(v) of prefix - 12: z zero bins, a one, z bins of value - (2^z - 1)
                escape = prefix - UNARY
                z = (escape + 1).bit_length() - 1
                for _ in range(z):
                    enc.encode_bypass(0)
                enc.encode_bypass(1)
                enc.bypass_value(escape + 1 - (1 << z), z)
            enc.bypass_value(rest & ((1 << k) - 1), k)
        st.prev_group_zero[gi] = int(not any(values))
        j += g.dims
    st.prev_frame_zero = zero
    for jj, r in enumerate(row):
        st.cls[jj] = min(abs(r), 2)
        st.sgn[jj] = 0 if r == 0 else (1 if r > 0 else 2)


def packet_payload(h, rows: list[list[int]], intra_first: bool, st: _State) -> tuple[bytes, _State]:
    """The payload of one packet (``rows``: coded intra values for a first I-frame, else residuals)."""
    enc = WideRangeEncoder()
    for f, row in enumerate(rows):
        if f == 0 and intra_first:
            st = reset_state(h)
            _intra_frame(enc, st, h, row)
        else:
            _inter_frame(enc, st, h, row)
    return enc.payload(), st


def packet_unit(h, unit_type: int, counter: int, count: int, payload: bytes, updates: dict | None = None) -> bytes:
    """SPEC 14.2: the packet header (bitstring), the payload, and frame_crc when the header asks."""
    s = BitArray(bin=exp_golomb_bits(unit_type, 0) + format(counter % 256, "08b") + exp_golomb_bits(count - 1, 0))
    if unit_type == 1:
        s.append(Bits(bin="1" if updates else "0"))
        if updates:
            for gi in range(len(h.groups)):
                s.append(Bits(bin="1" if gi in updates else "0"))
                if gi in updates:
                    for lo, hi in zip(*updates[gi], strict=True):
                        s.append(Bits(floatbe=lo, length=32) + Bits(floatbe=hi, length=32))
    s.append(Bits(uint=0, length=-len(s) % 8))
    data = s.tobytes() + payload
    return data + bytes([crc8(data)]) if h.frame_crc_flag else data


def coded_rows(h, q: list[list[int]], intra: list[bool]) -> list[list[int]]:
    """The values a Main stream codes for quantized vectors ``q``: intra values (differences from the
    centers with intra prediction, R-220) and residuals against the group predictions (R-132)."""
    momentum = [g.predictor for g in h.groups for _ in range(g.dims)]
    centers = [c for g in h.groups for c in g.intra_centers] if h.intra_pred_flag else [0] * len(momentum)
    rows = []
    for t, row in enumerate(q):
        if intra[t]:
            rows.append([v - c for v, c in zip(row, centers, strict=True)])
            continue
        prev = q[t - 1]
        two_back = q[t - 2] if t >= 2 and not intra[t - 1] else None
        pred = [a + ((a - b) // 2 if m and two_back is not None else 0)
                for a, b, m in zip(prev, two_back or prev, momentum, strict=True)]
        residual = [v - p for v, p in zip(row, pred, strict=True)]
        rows.append(xdim_coded(h, residual))
    return rows


def main_stream(h, q, interval: int, packet_frames: int = 0, repeat_header: bool = False,
                updates: dict[int, dict] | None = None) -> list[bytes]:
    """The units of a Main stream of quantized vectors ``q``: the header (written from the syntax walk),
    then packets of ``packet_frames`` frames (0: a whole I-frame period), an I-frame every ``interval``
    frames starting a packet; ``updates[t]`` is the range update of the I-frame t."""
    q = [list(map(int, row)) for row in q]
    intra = [t % interval == 0 for t in range(len(q))]
    rows = coded_rows(h, q, intra)
    header = unit_bytes(header_elements(h))
    units = [header]
    st = None
    t = 0
    while t < len(q):
        end = t + 1
        limit = packet_frames or 256
        while end < len(q) and not intra[end] and end - t < limit:
            end += 1
        if intra[t] and repeat_header and t:
            units.append(header)
        payload, st = packet_payload(h, rows[t:end], intra[t], st)
        units.append(packet_unit(h, int(intra[t]), t, end - t, payload, (updates or {}).get(t)))
        t = end
    return units


def file_bytes(units: list[bytes]) -> bytes:
    """SPEC 5.5: the signature, then every unit after its leb128 size."""
    return b"FCS1" + b"".join(leb128_bytes(len(u)) + u for u in units)
