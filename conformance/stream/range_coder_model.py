"""A second decoder of Main-profile streams (SPEC 14), written from the text of SPEC.md alone.

It shares no code with ``refcodec.fcs``: its own bit reader, sequence-header and packet parser,
range decoder (SPEC 14.3.2), contexts (named as in table 14-3, kept in a dictionary), binarisation
(14.4.3), adaptive-state rules (14.5) and loss process (7.1, 7.2, 14.5). The suite uses it to
compute the expected output of every Main-profile vector: each frame's canonical dump, its status
and the coder's final ``rng`` (R-128), or the error a strict decoder must report.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

import numpy as np

from .model import dequantize_f32

SIGNATURE = b"FCS1"
COUNTER_MODULUS = 256


class ModelError(Exception):
    """A rejection: error class, element and absolute bit offset in the file."""

    def __init__(self, error_class: str, name: str, bit: int):
        super().__init__(f"{error_class} in {name} at bit {bit}")
        self.error_class, self.name, self.bit = error_class, name, bit


class _Bits:
    """MSB-first reader over one unit; ``base`` is the unit's first bit in the file."""

    def __init__(self, data: bytes, base: int):
        self.data, self.base, self.pos = data, base, 0
        self.names: list[str] = []

    def at(self) -> int:
        return self.base + self.pos

    def read(self, n: int, name: str) -> int:
        if self.pos + n > 8 * len(self.data):
            raise ModelError("E_TRUNCATED", name, self.at())
        v = 0
        for _ in range(n):
            byte = self.data[self.pos >> 3]
            v = (v << 1) | ((byte >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        self.names.append(name)
        return v

    def ue(self, name: str) -> int:
        start = self.at()
        zeros = 0
        while self.read(1, name) == 0:
            zeros += 1
            if zeros > 31:
                raise ModelError("E_EXPGOLOMB", name, start)
        return (1 << zeros) - 1 + (self.read(zeros, name) if zeros else 0)

    def f32(self, name: str) -> float:
        return struct.unpack(">f", self.read(32, name).to_bytes(4, "big"))[0]

    def align(self) -> None:
        while self.pos % 8:
            if self.read(1, "alignment_zero_bit"):
                raise ModelError("E_PADDING", "alignment_zero_bit", self.at() - 1)


def _crc8(data: bytes) -> int:
    """SPEC 3.5: polynomial 0x07, initial 0, no reflection, no final XOR."""
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


@dataclass
class _Group:
    dims: int
    depth: int
    zero_flag: bool
    rice: list[int]
    init: list[list[int]]
    rmin: list[float]
    rmax: list[float]
    predictor: int
    centers: list[int]
    xdim: list = field(default_factory=list)  # per dimension: None or (earlier flat index, sign)


@dataclass
class _Header:
    raw: bytes
    frame_crc: bool
    groups: list[_Group]
    intra_pred: bool = False  # SPEC 5.2: intra_pred_flag
    extrapolate: bool = False  # conceal_extrapolate_flag

    @property
    def total(self) -> int:
        return sum(g.dims for g in self.groups)


def _nominal_ranges() -> dict[int, tuple[float, float]]:
    """Registry 4.2's nominal ranges, read from spec/groups.toml (binary32 bit patterns) by this model itself."""
    import tomllib

    from refcodec.spec_tables import spec_dir  # where the registry files are (a checkout's spec/ or the package data)

    groups = tomllib.loads((spec_dir() / "groups.toml").read_text())["group"]
    return {g["id"]: tuple(struct.unpack(">f", int(g[k], 16).to_bytes(4, "big"))[0] for k in ("nominal_min", "nominal_max"))
            for g in groups if "nominal_min" in g}


_NOMINAL = _nominal_ranges()


def _parse_header(b: _Bits) -> _Header:
    """SPEC 5.2 for profile_idc 1 (the vectors' headers are valid; only what decoding needs is kept)."""
    b.read(8, "seq_version")
    profile = b.read(8, "profile_idc")
    if profile != 1:
        raise ValueError("the Main model decodes profile_idc 1 only")
    for name, n in (("level_idc", 8), ("frame_rate_num", 16), ("frame_rate_den", 16), ("max_intra_interval", 16)):
        b.read(n, name)
    header_crc = b.read(1, "header_crc_flag")
    frame_crc = b.read(1, "frame_crc_flag")
    binding = b.read(1, "avatar_binding_flag")
    intra_pred = b.read(1, "intra_pred_flag")
    extrapolate = b.read(1, "conceal_extrapolate_flag")
    xdim = b.read(1, "xdim_pred_flag")
    b.read(2, "seq_reserved_2bits")
    if binding:
        b.read(64, "avatar_hash")
    groups = []
    for _ in range(b.read(8, "num_groups")):
        semantic = b.read(8, "group_semantic")
        dims = b.read(8, "group_dim_count_minus1") + 1
        depth = b.read(4, "group_bit_depth_minus1") + 1
        zero_flag = bool(b.read(1, "group_zero_flag_enabled"))
        index_map = b.read(1, "group_index_map_flag")
        nominal_flag = b.read(1, "group_nominal_flag")
        b.read(1, "group_reserved_1bit")
        g = _Group(dims, depth, zero_flag, [], [], [], [], b.read(1, "group_predictor"), [])
        for _ in range(dims):
            if index_map:
                b.read(16, "group_dim_index")
            g.rice.append(b.read(4, "eg_order"))
            if xdim and b.read(1, "xdim_ref_flag"):  # R-224: (earlier flat index, sign); the vectors' headers are valid
                delta = b.ue("xdim_ref_delta")
                g.xdim.append((sum(x.dims for x in groups) + len(g.rice) - 2 - delta, -1 if b.read(1, "xdim_ref_sign") else 1))
            else:
                g.xdim.append(None)
            if intra_pred:  # no intra_order in the Main profile
                g.centers.append(b.read(depth, "intra_center"))
            g.init.append([b.read(4, "nonzero_init") for _ in range(3)])
            if nominal_flag and b.read(1, "range_nominal_flag"):  # SPEC 4.2 and 5.2.1, R-133
                lo, hi = _NOMINAL[semantic]
                g.rmin.append(lo)
                g.rmax.append(hi)
            else:
                g.rmin.append(b.f32("range_min"))
                g.rmax.append(b.f32("range_max"))
        groups.append(g)
    b.align()
    if header_crc:
        at = b.at()
        if b.read(32, "header_crc") != zlib.crc32(b.data[: at // 8 - b.base // 8]):  # SPEC 3.5, R-19
            raise ModelError("E_CRC", "header_crc", at)
    return _Header(b.data, bool(frame_crc), groups, bool(intra_pred), bool(extrapolate))


class _RangeDecoder:
    """SPEC 14.3.2, line by line."""

    def __init__(self, payload: bytes, contexts: dict):
        self.payload, self.pos, self.rng, self.val = payload, 0, 0xFFFFFFFF, 0
        self.contexts = contexts
        for _ in range(4):
            self.val = (self.val << 8) | self.read_byte()

    def read_byte(self) -> int:
        b = self.payload[self.pos] if self.pos < len(self.payload) else 0
        self.pos += 1
        return b

    def renormalise(self) -> None:
        while self.rng < 1 << 24:
            self.rng <<= 8
            self.val = (self.val << 8) | self.read_byte()

    def decode_bin(self, key: tuple) -> int:
        ctx = self.contexts.setdefault(key, [16384, 0])
        bound = (self.rng >> 15) * ctx[0]
        if self.val < bound:
            bit, self.rng = 0, bound
        else:
            bit, self.val, self.rng = 1, self.val - bound, self.rng - bound
        shift = 2 if ctx[1] < 2 else 3 if ctx[1] < 6 else 4 if ctx[1] < 14 else 5 if ctx[1] < 30 else 6
        ctx[0] = ctx[0] + ((32768 - ctx[0]) >> shift) if bit == 0 else ctx[0] - (ctx[0] >> shift)
        if ctx[1] < 30:
            ctx[1] += 1
        self.renormalise()
        return bit

    def decode_bypass(self) -> int:
        bound = self.rng >> 1
        if self.val < bound:
            bit, self.rng = 0, bound
        else:
            bit, self.val, self.rng = 1, self.val - bound, self.rng - bound
        self.renormalise()
        return bit

    def bp(self, n: int) -> int:
        v = 0
        for _ in range(n):
            v = (v << 1) | self.decode_bypass()
        return v


@dataclass
class _Adaptive:
    """The adaptive state of SPEC 14.5: contexts by name, and the history variables."""

    contexts: dict = field(default_factory=dict)
    prev_frame_zero: int = 0
    prev_group_zero: list[int] = field(default_factory=list)
    cls: list[int] = field(default_factory=list)
    sgn: list[int] = field(default_factory=list)


def _reset(h: _Header) -> _Adaptive:
    """R-127: every context at p = 16384, n = 0 (created on first use) except NZ from nonzero_init."""
    state = _Adaptive()
    j = 0
    for g in h.groups:
        for d in range(g.dims):
            for c in range(3):
                state.contexts[("NZ", j, c)] = [(2 * g.init[d][c] + 1) * 1024, 8]
            j += 1
    _clear_history(state, h)
    return state


def _clear_history(state: _Adaptive, h: _Header) -> None:
    state.prev_frame_zero = 0
    state.prev_group_zero = [0] * len(h.groups)
    state.cls = [0] * h.total
    state.sgn = [0] * h.total


def _payload_frames(h: _Header, payload: bytes, payload_bit: int, intra: bool, count: int, state: _Adaptive,
                    names: set) -> tuple[list[list[int]], list[int]]:
    """SPEC 14.4: the vectors of a packet and the rng after each frame."""
    dec = _RangeDecoder(payload, state.contexts)
    rows, ranges = [], []
    for f in range(count):
        row: list[int] = []
        if f == 0 and intra:
            for gi, g in enumerate(h.groups):
                for _ in range(g.dims):
                    length = 0
                    if dec.decode_bin(("IL", gi, 0)):  # 14.4.3: nonzero, then the leading zeros from the top
                        z = 0
                        while z < g.depth - 1 and dec.decode_bin(("IL", gi, 1 + z)):
                            z += 1
                        length = g.depth - z
                    names.add("intra_length")
                    if length > 1:
                        names.add("intra_mantissa")
                    v = 0 if length == 0 else (1 << (length - 1)) + dec.bp(length - 1)
                    if h.intra_pred and v:  # the sign of the difference, one bypass bin
                        names.add("intra_sign_flag")
                        v = -v if dec.bp(1) else v
                    row.append(v)
            _clear_history(state, h)
        else:
            zero = dec.decode_bin(("F", state.prev_frame_zero))
            names.add("frame_zero_flag")
            j = 0
            for gi, g in enumerate(h.groups):
                gz = 0
                if not zero and g.zero_flag:
                    gz = dec.decode_bin(("GZ", gi, state.prev_group_zero[gi]))
                    names.add("group_zero_flag")
                values = []
                for d in range(g.dims):
                    r = 0
                    if not zero and not gz:
                        names.add("residual_nonzero_flag")
                        if dec.decode_bin(("NZ", j, state.cls[j])):
                            negative = dec.decode_bin(("SG", gi, state.sgn[j]))
                            u = 0
                            while u < 12 and dec.decode_bin(("P0", j, state.cls[j]) if u == 0 else ("PU", gi, state.cls[j], u)):
                                u += 1
                            names |= {"residual_sign_flag", "residual_prefix"}
                            escape = 0
                            if u == 12:
                                names.add("residual_escape")
                                z = 0
                                while dec.decode_bypass() == 0:
                                    z += 1
                                    if z > 16:
                                        raise ModelError("E_EXPGOLOMB", f"residual_escape[{gi}][{d}]", payload_bit + 8 * max(dec.pos - 4, 0))
                                escape = (1 << z) - 1 + dec.bp(z)
                            k = g.rice[d]
                            if k:
                                names.add("residual_suffix")
                            magnitude = ((u + escape) << k) + dec.bp(k) + 1
                            r = -magnitude if negative else magnitude
                    values.append(r)
                    j += 1
                row += values
                state.prev_group_zero[gi] = int(not any(values))
            state.prev_frame_zero = zero
            for j, r in enumerate(row):
                state.cls[j] = min(abs(r), 2)
                state.sgn[j] = 0 if r == 0 else 1 if r > 0 else 2
        rows.append(row)
        ranges.append(dec.rng)
    if len(payload) > dec.pos:
        raise ModelError("E_UNIT_SIZE", "packet_payload", payload_bit + 8 * dec.pos)
    return rows, ranges


@dataclass
class ModelFrame:
    """One output frame: status (SPEC 7.2), binary32 values, coder rng (decoded frames only)."""

    status: str
    values: np.ndarray
    final_range: int | None


@dataclass
class ModelOutcome:
    """What a conforming decoder outputs for a Main stream."""

    frames: list[ModelFrame]
    events: list[dict]
    error: ModelError | None
    error_unit: int | None
    elements: set[str]


def _units(data: bytes) -> list[tuple[int, bytes]]:
    """SPEC 5.5 (the vectors' framing is valid): (first byte offset, unit bytes)."""
    if data[:4] != SIGNATURE:
        raise ValueError("not an .fcs file")
    pos, out = 4, []
    while pos < len(data):
        size, shift = 0, 0
        while True:
            b = data[pos]
            pos += 1
            size |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        out.append((pos, data[pos : pos + size]))
        pos += size
    return out


def decode_main(data: bytes, strict: bool) -> ModelOutcome:
    """Decode a Main-profile ``.fcs`` file (SPEC 5.5, 6, 7, 14)."""
    header: _Header | None = None
    state: _Adaptive | None = None
    ref: list[int] | None = None
    ref2: list[int] | None = None
    last: np.ndarray | None = None
    expected: int | None = None
    rmin = rmax = depth = None
    frames: list[ModelFrame] = []
    events: list[dict] = []
    elements: set[str] = {"fcs_file.fcs_signature", "fcs_file.unit_size"}

    pair: list = [None, None, False]  # SPEC 7.2, R-223: q1, q2, whether the last output was decoded

    def conceal(status: str) -> ModelFrame:
        q1, q2, _ = pair
        pair[2] = False
        if header.extrapolate and q2 is not None:
            qc = np.minimum(np.maximum(2 * np.array(q1) - np.array(q2), 0), (1 << depth) - 1)
            return ModelFrame(status, dequantize_f32(qc, rmin, rmax, depth), None)
        values = last.copy() if last is not None else np.zeros(header.total, np.float32)
        return ModelFrame(status, values, None)

    for index, (offset, unit) in enumerate(_units(data)):
        b = _Bits(unit, 8 * offset)
        count = None
        unit_type = None
        try:
            unit_type = b.ue("unit_type")
            if unit_type == 2:
                h = _parse_header(b)
                elements.update(_element("sequence_header_unit", n) for n in b.names)
                if header is None or h.raw != header.raw:  # R-23 (the vectors repeat headers byte for byte)
                    header, state, ref, last, expected = h, None, None, None, None
                    pair[:] = [None, None, False]
                    rmin = np.array([v for g in h.groups for v in g.rmin], np.float32)
                    rmax = np.array([v for g in h.groups for v in g.rmax], np.float32)
                    depth = np.array([g.depth for g in h.groups for _ in range(g.dims)])
                events.append({"unit_index": index, "kind": "sequence_header", "error_class": None, "frames_out": 0})
                continue
            if unit_type > 2:
                events.append({"unit_index": index, "kind": "reserved", "error_class": None, "frames_out": 0})
                continue
            counter = b.read(8, "frame_counter")
            at = b.at()
            count = b.ue("frame_count_minus1") + 1
            if count > 256:
                count = None
                raise ModelError("E_VALUE", "frame_count_minus1", at)
            updates: dict[int, tuple[list[float], list[float]]] = {}
            if unit_type == 1 and b.read(1, "range_update_flag"):  # SPEC 14.2 with 5.3's range updates
                for gi, g in enumerate(header.groups):
                    if b.read(1, "range_update_group_flag"):
                        pairs = [(b.f32("range_min"), b.f32("range_max")) for _ in range(g.dims)]
                        updates[gi] = ([p[0] for p in pairs], [p[1] for p in pairs])
            b.align()
            elements.update(_element("main_packet_unit", n) for n in b.names)
            end = len(unit) - (1 if header.frame_crc else 0)
            payload, payload_bit = unit[b.pos // 8 : end], b.at()
            elements.add("main_packet_unit.packet_payload")
            if header.frame_crc:
                elements.add("main_packet_unit.frame_crc")
                if _crc8(unit[:end]) != unit[end]:
                    raise ModelError("E_CRC", "frame_crc", 8 * (offset + end))
            out: list[ModelFrame] = []
            if expected is not None:  # SPEC 7.1 with the modulus 256
                gap = (counter - expected) % COUNTER_MODULUS
                if gap:
                    ref = None
                    out += [conceal("concealed_gap") for _ in range(gap)]
            expected = (counter + count) % COUNTER_MODULUS
            if unit_type == 0 and ref is None:  # not decoded
                out += [conceal("concealed_no_reference") for _ in range(count)]
                frames += out
                events.append({"unit_index": index, "kind": "P", "error_class": None, "frames_out": len(out)})
                continue
            new_min, new_max = rmin, rmax
            if unit_type == 1:
                state = _reset(header)
                # SPEC 6.3, R-31: the sequence ranges, replaced group by group by this I-frame's updates (in
                # effect once the packet has passed its checks, R-222)
                new_min = np.array([v for gi, g in enumerate(header.groups) for v in updates.get(gi, (g.rmin, g.rmax))[0]], np.float32)
                new_max = np.array([v for gi, g in enumerate(header.groups) for v in updates.get(gi, (g.rmin, g.rmax))[1]], np.float32)
            names: set[str] = set()
            try:
                rows, ranges = _payload_frames(header, payload, payload_bit, unit_type == 1, count, state, names)
            finally:  # the elements read before an error count too
                elements.update(f"packet_payload.{n}" for n in names)
            decoded, decoded_q = [], []
            q = ref
            momentum = [g.predictor for g in header.groups for _ in range(g.dims)]
            for f, row in enumerate(rows):
                if f == 0 and unit_type == 1:  # predicted from the intra centers
                    centers = [c for g in header.groups for c in g.centers] if header.intra_pred else [0] * len(row)
                    q, ref2 = [c + v for c, v in zip(centers, row, strict=True)], None
                    top = (1 << depth) - 1
                    bad = [i for i, v in enumerate(q) if not 0 <= v <= top[i]]
                    if bad:
                        gi, d = _group_dim(header, bad[0])
                        raise ModelError("E_RESIDUAL", f"intra_length[{gi}][{d}]", payload_bit)
                else:  # SPEC 14.4.2, R-132: the previous frame, plus half its change where the group says so
                    pred = [a + ((a - b) // 2 if m else 0) for a, b, m in zip(q, ref2, momentum, strict=True)] if ref2 is not None else q
                    ref2 = q
                    residual = list(row)
                    for j, ref in enumerate(r for g in header.groups for r in g.xdim):  # R-225, in layout order
                        if ref is not None:
                            residual[j] += ref[1] * residual[ref[0]]
                    q = [p + r for p, r in zip(pred, residual, strict=True)]
                top = (1 << depth) - 1
                bad = [i for i, v in enumerate(q) if not 0 <= v <= top[i]]
                if bad:
                    gi, d = _group_dim(header, bad[0])
                    raise ModelError("E_RESIDUAL", f"residual_nonzero_flag[{gi}][{d}]", payload_bit)
                values = dequantize_f32(np.array(q), new_min, new_max, depth)
                decoded.append(ModelFrame("decoded", values, ranges[f]))
                decoded_q.append(list(q))
            rmin, rmax = new_min, new_max
            for f, row_q in enumerate(decoded_q):
                pair[1] = pair[0] if pair[2] and not (f == 0 and unit_type == 1) else None
                pair[0], pair[2] = row_q, True
            ref, last = q, decoded[-1].values
            frames += out + decoded
            events.append({"unit_index": index, "kind": "I" if unit_type == 1 else "P", "error_class": None,
                           "frames_out": len(out) + len(decoded)})
        except ModelError as err:
            if unit_type is not None and unit_type <= 2:  # the elements read up to the error
                elements.update(_element("sequence_header_unit" if unit_type == 2 else "main_packet_unit", n) for n in b.names)
            if strict:
                return ModelOutcome(frames, events, err, index, elements)
            if unit_type == 2 or header is None:  # SPEC 7.3: a damaged header is discarded without output
                events.append({"unit_index": index, "kind": "error", "error_class": err.error_class, "frames_out": 0})
                continue
            n = count if count is not None else 1
            ref = None
            if expected is not None:
                expected = (expected + n) % COUNTER_MODULUS
            frames += [conceal("concealed_error") for _ in range(n)]
            events.append({"unit_index": index, "kind": "error", "error_class": err.error_class, "frames_out": n})
    return ModelOutcome(frames, events, None, None, elements)


def _element(structure: str, name: str) -> str:
    """``structure.element`` of spec/syntax.toml for an element read in a unit."""
    if name == "unit_type":
        return "unit.unit_type"
    if name == "alignment_zero_bit":
        return "byte_alignment.alignment_zero_bit"
    return f"{structure}.{name}"


def _group_dim(h: _Header, j: int) -> tuple[int, int]:
    for gi, g in enumerate(h.groups):
        if j < g.dims:
            return gi, j
        j -= g.dims
    raise IndexError(j)
