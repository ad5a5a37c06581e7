"""The FCS syntax, declared once for reading, writing and tracing (SPEC 5).

Each ``_..._syntax`` function mirrors one syntax table of SPEC.md line by line. It runs with
a :class:`~refcodec.bitio.BitReader` (reading fills the structure, checks the semantics and
optionally records a trace for ``fcdump``) or with a :class:`~refcodec.bitio.BitWriter`
(writing serialises the structure). A test checks that the element names and descriptors
met here match ``spec/syntax.toml`` and SPEC.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..bitio import BitReader, BitWriter, TraceEntry
from ..checksums import crc8, crc32
from ..errors import (
    E_CRC,
    E_LEVEL,
    E_NO_SEQUENCE_HEADER,
    E_PROFILE,
    E_RANGE,
    E_UNIT_SIZE,
    E_VALUE,
    E_VERSION,
    FcError,
)
from ..quant import dequant_step, dequantize
from ..spec_tables import canonical_dims, levels, nominal_range, profiles
from .layout import UNIT_I_FRAME, UNIT_P_FRAME, UNIT_SEQUENCE_HEADER, GroupLayout, SequenceHeader
from .main_profile import MAIN_PROFILE_IDC, MainPacket, packet_syntax

SUPPORTED_VERSION = 1
FRAME_COUNTER_BITS = 4
FRAME_COUNTER_MODULUS = 1 << FRAME_COUNTER_BITS

BitIO = BitReader | BitWriter


@dataclass
class FrameUnit:
    """A decoded (or to-be-written) frame unit (SPEC 5.3).

    ``values[g]`` holds the quantized values of group g for an I-frame and the residuals for
    a P-frame (all zeros for a group signalled by ``group_zero_flag``).
    """

    unit_type: int
    frame_counter: int
    values: list[list[int]] = field(default_factory=list)
    zero_groups: list[bool] = field(default_factory=list)
    range_update_flag: bool = False
    range_updates: dict[int, tuple[list[float], list[float]]] = field(default_factory=dict)

    @property
    def is_intra(self) -> bool:
        """True for an I-frame."""
        return self.unit_type == UNIT_I_FRAME


@dataclass
class ReservedUnit:
    """A unit whose unit_type is reserved (>= 3); decoders ignore it (SPEC 5.1, R-11)."""

    unit_type: int


def _require(io: BitIO, ok: bool, err: type[FcError], message: str, name: str, at: int | None = None) -> None:
    if not ok:
        raise err(message, field=name, bit_offset=io.at() if at is None else at)


def range_error(rmin: float, rmax: float, bit_depth: int) -> str | None:
    """Why (rmin, rmax) is not a valid quantization range at ``bit_depth``, or None (SPEC 5.2.1, R-16)."""
    if not (math.isfinite(rmin) and math.isfinite(rmax)):
        return f"range ({rmin}, {rmax}) is not finite"
    if rmin > rmax:
        return f"range_min {rmin} > range_max {rmax}"
    if abs(rmin) < 2.0**126 and abs(rmax) < 2.0**126:  # width and top level cannot overflow binary32
        return None
    with np.errstate(over="ignore"):
        width = np.float32(rmax) - np.float32(rmin)
        if not np.isfinite(width):
            return f"f32(range_max - range_min) overflows binary32 for ({rmin}, {rmax})"
        top = (1 << bit_depth) - 1
        step = dequant_step(np.float32(rmin), np.float32(rmax), np.int64(bit_depth))
        if not np.isfinite(dequantize(np.int64(top), np.float32(rmin), step)):
            return f"the top level {top} of range ({rmin}, {rmax}) dequantizes to infinity"
    return None


def _range_pair(io: BitIO, g: int, d: int, bit_depth: int, rmin: float | None, rmax: float | None) -> tuple[float, float]:
    lo = io.f32(f"range_min[{g}][{d}]", rmin)
    at = io.at()
    hi = io.f32(f"range_max[{g}][{d}]", rmax)
    why = range_error(lo, hi, bit_depth)
    # SPEC 4.1, R-105 and 5.2.1, R-16: the pair is checked once range_max, its last element, is read
    _require(io, why is None, E_RANGE, why or "", f"range_max[{g}][{d}]", at)
    return lo, hi


def _sequence_header_syntax(io: BitIO, h: SequenceHeader) -> SequenceHeader:
    """SPEC 5.2, syntax table 5-2 (sequence_header_unit)."""
    at = io.at()
    h.version = io.u(8, "seq_version", h.version)
    _require(io, h.version == SUPPORTED_VERSION, E_VERSION, f"version {h.version}, only {SUPPORTED_VERSION} is defined", "seq_version", at)
    at = io.at()
    h.profile_idc = io.u(8, "profile_idc", h.profile_idc)
    _require(io, h.profile_idc in profiles(), E_PROFILE, f"profile_idc {h.profile_idc} is not defined", "profile_idc", at)
    at = io.at()
    h.level_idc = io.u(8, "level_idc", h.level_idc)
    _require(io, h.level_idc in levels(), E_LEVEL, f"level_idc {h.level_idc} is not defined (allowed {sorted(levels())})", "level_idc", at)
    level = levels()[h.level_idc]
    at = io.at()
    h.frame_rate_num = io.u(16, "frame_rate_num", h.frame_rate_num)
    _require(io, h.frame_rate_num > 0, E_VALUE, "frame_rate_num must be > 0", "frame_rate_num", at)
    at = io.at()
    h.frame_rate_den = io.u(16, "frame_rate_den", h.frame_rate_den)
    _require(io, h.frame_rate_den > 0, E_VALUE, "frame_rate_den must be > 0", "frame_rate_den", at)
    _require(io, h.frame_rate_num <= level.max_frame_rate * h.frame_rate_den, E_LEVEL,
             f"frame rate {h.frame_rate_num}/{h.frame_rate_den} exceeds level limit {level.max_frame_rate}", "frame_rate_den", at)
    at = io.at()
    h.max_intra_interval = io.u(16, "max_intra_interval", h.max_intra_interval)
    _require(io, h.max_intra_interval > 0, E_VALUE, "max_intra_interval must be > 0", "max_intra_interval", at)
    h.header_crc_flag = bool(io.u(1, "header_crc_flag", int(h.header_crc_flag)))
    h.frame_crc_flag = bool(io.u(1, "frame_crc_flag", int(h.frame_crc_flag)))
    binding = io.u(1, "avatar_binding_flag", int(h.avatar_hash is not None))
    h.intra_pred_flag = bool(io.u(1, "intra_pred_flag", int(h.intra_pred_flag)))  # SPEC 5.2.1, R-220
    h.conceal_extrapolate_flag = bool(io.u(1, "conceal_extrapolate_flag", int(h.conceal_extrapolate_flag)))
    h.xdim_pred_flag = bool(io.u(1, "xdim_pred_flag", int(h.xdim_pred_flag)))  # SPEC 5.2.1, R-224
    h.reserved_bits = io.u(2, "seq_reserved_2bits", h.reserved_bits)  # ignored
    if binding:
        h.avatar_hash = io.u(64, "avatar_hash", h.avatar_hash)
    elif io.reading:
        h.avatar_hash = None
    at = io.at()
    num_groups = io.u(8, "num_groups", len(h.groups))
    _require(io, num_groups > 0, E_VALUE, "num_groups must be > 0", "num_groups", at)
    _require(io, num_groups <= level.max_groups, E_LEVEL, f"num_groups {num_groups} exceeds level limit {level.max_groups}", "num_groups", at)
    if io.reading:
        h.groups = [GroupLayout(0, 1, [], [], []) for _ in range(num_groups)]
        h.group_reserved_bits = [0] * num_groups
    elif len(h.group_reserved_bits) != num_groups:
        h.group_reserved_bits = [0] * num_groups
    total_dims = 0
    for g, grp in enumerate(h.groups):
        grp.semantic = io.u(8, f"group_semantic[{g}]", grp.semantic)
        at = io.at()
        dims = io.u(8, f"group_dim_count_minus1[{g}]", grp.dims - 1) + 1
        total_dims += dims
        # SPEC 5.2.1, R-14: checked before any per-dimension data is read or stored, and
        # before R-15's check of the same element (R-104)
        _require(io, total_dims <= level.max_total_dims, E_LEVEL,
                 f"total dimensions {total_dims} exceed level limit {level.max_total_dims}", f"group_dim_count_minus1[{g}]", at)
        canon = canonical_dims(grp.semantic)
        _require(io, canon == 0 or dims <= canon, E_VALUE,
                 f"{dims} dimensions exceed the semantic's canonical {canon}", f"group_dim_count_minus1[{g}]", at)
        grp.bit_depth = io.u(4, f"group_bit_depth_minus1[{g}]", grp.bit_depth - 1) + 1
        grp.zero_flag_enabled = bool(io.u(1, f"group_zero_flag_enabled[{g}]", int(grp.zero_flag_enabled)))
        index_map = io.u(1, f"group_index_map_flag[{g}]", int(grp.dim_index is not None))
        at = io.at()
        nominal_flag = io.u(1, f"group_nominal_flag[{g}]", int(grp.nominal is not None))
        # SPEC 5.2.1, R-133: only a semantic with a nominal range (registry 4.2) may use it
        nominal = nominal_range(grp.semantic)
        _require(io, not nominal_flag or nominal is not None, E_VALUE,
                 f"group_nominal_flag 1 for semantic {grp.semantic}, which has no nominal range", f"group_nominal_flag[{g}]", at)
        h.group_reserved_bits[g] = io.u(1, f"group_reserved_1bit[{g}]", h.group_reserved_bits[g])
        if h.profile_idc == MAIN_PROFILE_IDC:  # SPEC 14.1, R-132
            grp.predictor = io.u(1, f"group_predictor[{g}]", grp.predictor)
        if io.reading:
            grp.dim_index = [] if index_map else None
            grp.eg_orders, grp.range_min, grp.range_max = [0] * dims, [0.0] * dims, [0.0] * dims
            grp.intra_centers = grp.intra_orders = None
            grp.nominal = [False] * dims if nominal_flag else None
            grp.xdim = [None] * dims if h.xdim_pred_flag else None
        for d in range(dims):
            if index_map:
                at = io.at()
                idx = io.u(16, f"group_dim_index[{g}][{d}]", None if io.reading else grp.dim_index[d])
                prev = grp.dim_index[d - 1] if d else -1  # whatever the semantic, C = 0 included
                _require(io, idx > prev, E_VALUE, f"group_dim_index {idx} not greater than previous {prev}", f"group_dim_index[{g}][{d}]", at)
                _require(io, canon == 0 or idx < canon, E_VALUE, f"group_dim_index {idx} >= canonical {canon}", f"group_dim_index[{g}][{d}]", at)
                if io.reading:
                    grp.dim_index.append(idx)
            grp.eg_orders[d] = io.u(4, f"eg_order[{g}][{d}]", grp.eg_orders[d])
            if h.xdim_pred_flag:  # SPEC 5.2.1, R-224: an earlier dimension (flat index j - 1 - delta >= 0)
                ref = grp.xdim[d] if grp.xdim is not None else None
                if io.u(1, f"xdim_ref_flag[{g}][{d}]", int(ref is not None)):
                    at = io.at()
                    delta = io.ue(f"xdim_ref_delta[{g}][{d}]", None if io.reading else ref[0])
                    flat = total_dims - dims + d
                    _require(io, delta <= flat - 1, E_VALUE, f"xdim_ref_delta {delta} names no earlier dimension of dimension {flat}",
                             f"xdim_ref_delta[{g}][{d}]", at)
                    sign = io.u(1, f"xdim_ref_sign[{g}][{d}]", None if io.reading else ref[1])
                    if io.reading:
                        grp.xdim[d] = (delta, sign)
            if h.intra_pred_flag:  # SPEC 5.2.1, R-220: u(b) holds every center, so none is out of range
                if io.reading:
                    grp.intra_centers = grp.intra_centers or []
                    grp.intra_centers.append(io.u(grp.bit_depth, f"intra_center[{g}][{d}]"))
                    if h.profile_idc != MAIN_PROFILE_IDC:
                        grp.intra_orders = grp.intra_orders or []
                        grp.intra_orders.append(io.u(4, f"intra_order[{g}][{d}]"))
                else:  # a writer's intra centers
                    io.u(grp.bit_depth, f"intra_center[{g}][{d}]", grp.intra_centers[d])
                    if h.profile_idc != MAIN_PROFILE_IDC:
                        io.u(4, f"intra_order[{g}][{d}]", grp.intra_orders[d])
            if h.profile_idc == MAIN_PROFILE_IDC:  # SPEC 14.1: initial probabilities of the nonzero flags
                if io.reading:
                    grp.nonzero_init = grp.nonzero_init or []
                    grp.nonzero_init.append([io.u(4, f"nonzero_init[{g}][{d}][{c}]") for c in range(3)])
                else:  # a writer's nonzero_init
                    for c in range(3):
                        io.u(4, f"nonzero_init[{g}][{d}][{c}]", grp.nonzero_init[d][c])
            if nominal_flag:  # SPEC 5.2.1, R-133
                grp.nominal[d] = bool(io.u(1, f"range_nominal_flag[{g}][{d}]", int(grp.nominal[d])))
            if nominal_flag and grp.nominal[d]:
                grp.range_min[d], grp.range_max[d] = nominal
            else:
                grp.range_min[d], grp.range_max[d] = _range_pair(io, g, d, grp.bit_depth, grp.range_min[d], grp.range_max[d])
    io.byte_alignment()
    if h.header_crc_flag:
        _crc_field(io, 32, "header_crc", crc32)
    return h


def _crc_field(io: BitIO, bits: int, name: str, fn) -> None:
    """CRC over all preceding bytes of the unit (SPEC 5.2.1 and 5.3.1, R-19)."""
    at = io.at()
    expected = fn(io.data[: io.pos // 8] if io.reading else io.getvalue())
    got = io.u(bits, name, expected)
    _require(io, got == expected, E_CRC, f"stored 0x{got:0{bits // 4}x}, computed 0x{expected:0{bits // 4}x}", name, at)


def _frame_unit_syntax(io: BitIO, f: FrameUnit, h: SequenceHeader) -> FrameUnit:
    """SPEC 5.3, syntax table 5-3 (frame_unit), after unit_type."""
    f.frame_counter = io.u(FRAME_COUNTER_BITS, "frame_counter", f.frame_counter)
    groups = h.groups
    if io.reading:
        f.values = [[] for _ in groups]
        f.zero_groups = [False] * len(groups)
    else:  # a writer's missing zero flags mean "not all zero"
        f.zero_groups = list(f.zero_groups) + [False] * (len(groups) - len(f.zero_groups))
    if f.unit_type == UNIT_I_FRAME:
        f.range_update_flag = bool(io.u(1, "range_update_flag", int(f.range_update_flag)))
        if f.range_update_flag:
            for g, grp in enumerate(groups):
                upd = io.u(1, f"range_update_group_flag[{g}]", int(g in f.range_updates))
                if upd:
                    mins, maxs = f.range_updates.get(g, ([None] * grp.dims, [None] * grp.dims))
                    pairs = [_range_pair(io, g, d, grp.bit_depth, mins[d], maxs[d]) for d in range(grp.dims)]
                    f.range_updates[g] = ([p[0] for p in pairs], [p[1] for p in pairs])
        for g, grp in enumerate(groups):
            if h.intra_pred_flag:  # SPEC 5.3.1, R-221: the difference from intra_center, checked at reconstruction
                f.values[g] = io.sek_array(grp.intra_orders, f"intra_residual[{g}]", f.values[g])
            else:
                f.values[g] = io.u_array(grp.bit_depth, grp.dims, f"quant_value[{g}]", f.values[g])
    else:
        for g, grp in enumerate(groups):
            if grp.zero_flag_enabled:
                f.zero_groups[g] = bool(io.u(1, f"group_zero_flag[{g}]", int(f.zero_groups[g])))
            if f.zero_groups[g]:
                f.values[g] = [0] * grp.dims
            else:
                f.values[g] = io.sek_array(grp.eg_orders, f"residual[{g}]", f.values[g])
    io.byte_alignment()
    if h.frame_crc_flag:
        _crc_field(io, 8, "frame_crc", crc8)
    return f


Unit = SequenceHeader | FrameUnit | ReservedUnit | MainPacket


def read_unit(
    data: bytes,
    active: SequenceHeader | None,
    base_bit: int = 0,
    trace: list[TraceEntry] | None = None,
) -> Unit:
    """Parse one unit (SPEC 5.1). ``active`` is the sequence header frames refer to.

    Raises an FcError subclass for any malformed unit, with absolute offsets
    (``base_bit`` is the unit's first bit in the file).
    """
    io = BitReader(data, base_bit, trace)
    at = io.at()
    unit_type = io.ue("unit_type")
    if unit_type == UNIT_SEQUENCE_HEADER:
        unit: Unit = _sequence_header_syntax(io, SequenceHeader(groups=[]))
    elif unit_type in (UNIT_I_FRAME, UNIT_P_FRAME):
        if active is None:
            raise E_NO_SEQUENCE_HEADER("frame unit before any sequence header", field="unit_type", bit_offset=at)
        if active.profile_idc == MAIN_PROFILE_IDC:  # SPEC 14.2: a packet of range-coded frames
            return packet_syntax(io, MainPacket(unit_type, 0, 1), active)
        unit = _frame_unit_syntax(io, FrameUnit(unit_type, 0), active)
    else:
        return ReservedUnit(unit_type)  # SPEC 5.1, R-11: skipped whole
    if io.bits_left():
        raise E_UNIT_SIZE(f"{io.bits_left() // 8} bytes left over after the unit's syntax", field="unit_size", bit_offset=io.at())
    return unit


def write_unit(unit: SequenceHeader | FrameUnit | MainPacket, active: SequenceHeader | None = None) -> bytes:
    """Serialise one unit with the same syntax declaration the reader uses."""
    io = BitWriter()
    if isinstance(unit, SequenceHeader):
        io.ue("unit_type", UNIT_SEQUENCE_HEADER)
        _sequence_header_syntax(io, unit)
    else:
        if active is None:
            raise ValueError("a frame unit needs its sequence header")
        io.ue("unit_type", unit.unit_type)
        if isinstance(unit, MainPacket):
            packet_syntax(io, unit, active)
        else:
            _frame_unit_syntax(io, unit, active)
    return io.getvalue()
