"""Where every syntax element of a unit lies, computed from SPEC 5's syntax tables.

The generator needs the bit position of elements (to damage a unit at a computed place and
to state where a decoder must detect the damage) and the list of elements a vector exercises
(for the coverage report). Both come from this walk over the tables of SPEC 5.2 and 5.3,
written from the tables themselves rather than from the reference parser, so that the
expected error locations of the suite are an independent check of the reference decoder.
"""

from __future__ import annotations

from dataclasses import dataclass

from refcodec.fcs.layout import UNIT_I_FRAME, UNIT_SEQUENCE_HEADER, SequenceHeader
from refcodec.fcs.syntax import FrameUnit


@dataclass(frozen=True)
class Element:
    """One syntax element of a unit: the structure of spec/syntax.toml it belongs to, its name
    with subscripts, its first bit (from the unit's first bit), its length and value."""

    structure: str
    name: str
    offset: int
    nbits: int
    value: object = None
    descriptor: str = "u"  # SPEC 3.2: "u", "ue", "sek" (order k), "f32" or "f" (alignment zero bits)
    k: int = 0

    @property
    def base_name(self) -> str:
        """The element name without subscripts (as spec/syntax.toml lists it)."""
        return self.name.split("[", 1)[0]


def ue_bits(value: int) -> int:
    """Length of ``ue(v)`` for ``value`` (SPEC 3.2.1): 2 * BitLength(value + 1) - 1."""
    return 2 * (value + 1).bit_length() - 1


def sek_bits(value: int, k: int) -> int:
    """Length of ``sek(v)`` of order k (SPEC 3.2.3): x = codeNum + 2^k, zeros = BitLength(x) - 1 - k."""
    code_num = 2 * value - 1 if value > 0 else -2 * value
    length = (code_num + (1 << k)).bit_length()
    return 2 * length - 1 - k


class _Walk:
    def __init__(self) -> None:
        self.pos = 0
        self.out: list[Element] = []

    def add(self, structure: str, name: str, nbits: int, value: object = None, descriptor: str = "u", k: int = 0) -> None:
        self.out.append(Element(structure, name, self.pos, nbits, value, descriptor, k))
        self.pos += nbits

    def align(self) -> None:
        n = (-self.pos) % 8
        if n:
            self.add("byte_alignment", "alignment_zero_bit", n, 0, "f")


def header_elements(h: SequenceHeader, reserved_bits: int = 0, group_reserved: list[int] | None = None) -> list[Element]:
    """Elements of a sequence header unit in bitstream order (SPEC 5.1, 5.2)."""
    w = _Walk()
    s = "sequence_header_unit"
    w.add("unit", "unit_type", ue_bits(UNIT_SEQUENCE_HEADER), UNIT_SEQUENCE_HEADER, "ue")
    for name, n, v in (
        ("seq_version", 8, h.version),
        ("profile_idc", 8, h.profile_idc),
        ("level_idc", 8, h.level_idc),
        ("frame_rate_num", 16, h.frame_rate_num),
        ("frame_rate_den", 16, h.frame_rate_den),
        ("max_intra_interval", 16, h.max_intra_interval),
        ("header_crc_flag", 1, int(h.header_crc_flag)),
        ("frame_crc_flag", 1, int(h.frame_crc_flag)),
        ("avatar_binding_flag", 1, int(h.avatar_hash is not None)),
        ("intra_pred_flag", 1, int(h.intra_pred_flag)),
        ("conceal_extrapolate_flag", 1, int(h.conceal_extrapolate_flag)),
        ("xdim_pred_flag", 1, int(h.xdim_pred_flag)),
        ("seq_reserved_2bits", 2, reserved_bits),
    ):
        w.add(s, name, n, v)
    if h.avatar_hash is not None:
        w.add(s, "avatar_hash", 64, h.avatar_hash)
    w.add(s, "num_groups", 8, len(h.groups))
    for g, grp in enumerate(h.groups):
        w.add(s, f"group_semantic[{g}]", 8, grp.semantic)
        w.add(s, f"group_dim_count_minus1[{g}]", 8, grp.dims - 1)
        w.add(s, f"group_bit_depth_minus1[{g}]", 4, grp.bit_depth - 1)
        w.add(s, f"group_zero_flag_enabled[{g}]", 1, int(grp.zero_flag_enabled))
        w.add(s, f"group_index_map_flag[{g}]", 1, int(grp.dim_index is not None))
        w.add(s, f"group_nominal_flag[{g}]", 1, int(grp.nominal is not None))
        w.add(s, f"group_reserved_1bit[{g}]", 1, (group_reserved or [0] * len(h.groups))[g])
        if h.profile_idc == 1:  # SPEC 14.1
            w.add(s, f"group_predictor[{g}]", 1, grp.predictor)
        for d in range(grp.dims):
            if grp.dim_index is not None:
                w.add(s, f"group_dim_index[{g}][{d}]", 16, grp.dim_index[d])
            w.add(s, f"eg_order[{g}][{d}]", 4, grp.eg_orders[d])
            if h.xdim_pred_flag:  # SPEC 5.2: a reference to an earlier dimension
                ref = grp.xdim[d]
                w.add(s, f"xdim_ref_flag[{g}][{d}]", 1, int(ref is not None))
                if ref is not None:
                    w.add(s, f"xdim_ref_delta[{g}][{d}]", ue_bits(ref[0]), ref[0], "ue")
                    w.add(s, f"xdim_ref_sign[{g}][{d}]", 1, ref[1])
            if h.intra_pred_flag:  # SPEC 5.2: no intra_order in the Main profile
                w.add(s, f"intra_center[{g}][{d}]", grp.bit_depth, grp.intra_centers[d])
                if h.profile_idc != 1:
                    w.add(s, f"intra_order[{g}][{d}]", 4, grp.intra_orders[d])
            if h.profile_idc == 1:  # SPEC 14.1: the initial probabilities of the nonzero flags
                for c in range(3):
                    w.add(s, f"nonzero_init[{g}][{d}][{c}]", 4, grp.nonzero_init[d][c])
            if grp.nominal is not None:  # SPEC 5.2: the range is the semantic's nominal one when the flag is 1
                w.add(s, f"range_nominal_flag[{g}][{d}]", 1, int(grp.nominal[d]))
            if grp.nominal is None or not grp.nominal[d]:
                w.add(s, f"range_min[{g}][{d}]", 32, grp.range_min[d], "f32")
                w.add(s, f"range_max[{g}][{d}]", 32, grp.range_max[d], "f32")
    w.align()
    if h.header_crc_flag:
        w.add(s, "header_crc", 32)
    return w.out


def frame_elements(f: FrameUnit, h: SequenceHeader) -> list[Element]:
    """Elements of a frame unit in bitstream order (SPEC 5.1, 5.3)."""
    w = _Walk()
    s = "frame_unit"
    w.add("unit", "unit_type", ue_bits(f.unit_type), f.unit_type, "ue")
    w.add(s, "frame_counter", 4, f.frame_counter)
    if f.unit_type == UNIT_I_FRAME:
        w.add(s, "range_update_flag", 1, int(f.range_update_flag))
        if f.range_update_flag:
            for g, grp in enumerate(h.groups):
                w.add(s, f"range_update_group_flag[{g}]", 1, int(g in f.range_updates))
                if g in f.range_updates:
                    for d in range(grp.dims):
                        w.add(s, f"range_min[{g}][{d}]", 32, f.range_updates[g][0][d], "f32")
                        w.add(s, f"range_max[{g}][{d}]", 32, f.range_updates[g][1][d], "f32")
        for g, grp in enumerate(h.groups):
            for d in range(grp.dims):
                if h.intra_pred_flag:  # SPEC 5.3: the difference from intra_center, sek(v) of order intra_order
                    k = grp.intra_orders[d]
                    w.add(s, f"intra_residual[{g}][{d}]", sek_bits(f.values[g][d], k), f.values[g][d], "sek", k)
                else:
                    w.add(s, f"quant_value[{g}][{d}]", grp.bit_depth, f.values[g][d])
    else:
        for g, grp in enumerate(h.groups):
            zero = bool(f.zero_groups[g]) if g < len(f.zero_groups) else False
            if grp.zero_flag_enabled:
                w.add(s, f"group_zero_flag[{g}]", 1, int(zero))
            if not zero:
                for d in range(grp.dims):
                    w.add(s, f"residual[{g}][{d}]", sek_bits(f.values[g][d], grp.eg_orders[d]), f.values[g][d], "sek", grp.eg_orders[d])
    w.align()
    if h.frame_crc_flag:
        w.add(s, "frame_crc", 8)
    return w.out


def find(elements: list[Element], name: str) -> Element:
    """The element called ``name`` (with subscripts)."""
    for e in elements:
        if e.name == name:
            return e
    raise KeyError(name)


def layout_key(elements: list[Element]) -> tuple:
    """What makes two sequence headers "the same" (SPEC 6.1, R-23): every element's value except
    the reserved bits, the alignment bits and header_crc (binary32 values by bit pattern)."""
    import struct

    skip = {"seq_reserved_2bits", "group_reserved_1bit", "alignment_zero_bit", "header_crc"}
    key = []
    for e in elements:
        if e.base_name in skip:
            continue
        v = e.value
        if isinstance(v, float):
            v = struct.pack(">f", v)
        key.append((e.name, v))
    return tuple(key)
