"""Invalid stream vectors (``n_*``): one or more per applicable error class of SPEC 4.1.

Each vector is a valid stream with one unit (or the file framing) damaged at a computed
position; the card states the error class, the unit and the bit offset at which a strict
decoder detects it (SPEC 4.1, R-07: where several checks could fail, the first in syntax order
decides). ``E_LAYOUT_MISMATCH``, ``E_DECOMPRESS`` and ``E_SECTION`` concern containers only.
"""

from __future__ import annotations

import numpy as np

from refcodec.fcs.layout import UNIT_I_FRAME, UNIT_P_FRAME

from . import damage as dmg
from .bits import leb128_bytes
from .model import ExpectedError
from .script import Built, DamagedItem, HeaderItem, ReservedItem
from .syntax import find
from .vectors import VectorDef, base_header, base_q, frame, grp, hdr, stream, top, walk


def _n(name, purpose, clauses, reqs, items, **kw) -> VectorDef:
    return VectorDef(name, purpose, clauses, ["R-07", "R-45", "R-105"] + reqs, items, **kw)  # the card gives the location


def _with(items, index: int, damaged: DamagedItem) -> list:
    """``items`` with item ``index`` replaced, cut after it (nothing after the error matters)."""
    return items[:index] + [damaged] + items[index + 1 : index + 3]


def _patch_many(item, h, values: dict[str, int], error_class: str, at: str) -> DamagedItem:
    """Set several elements; the decoder detects ``error_class`` at element ``at``."""
    d = None
    data = item.data(h)
    els = item.elements() if isinstance(item, HeaderItem) else item.elements(h)
    for name, v in values.items():
        e = find(els, name)
        data = dmg.patch_bits(data, e.offset, e.nbits, v)
    data = dmg.fix_header_crc(data, els)
    where = find(els, at)
    d = DamagedItem(
        data,
        error_class,
        where.offset,
        where.name,
        2 if isinstance(item, HeaderItem) else item.frame.unit_type,
        [e for e in els if e.offset <= where.offset],
    )
    return d


def _framing(index_or_none, cls: str, field: str, bit: int) -> ExpectedError:
    return ExpectedError(cls, index_or_none, None, field, file_bit=bit)


# ----------------------------------------------------------------------------- file framing (SPEC 5.5)
def framing_vectors() -> list[VectorDef]:
    h = base_header()
    items = stream(h, base_q(5, 40))
    out = []

    def post_replace(new_sig: bytes):
        return lambda b: (new_sig + b.data[4:], _framing(None, "E_SIGNATURE", "fcs_signature", 0))

    out.append(_n("n_signature_bad", "The signature is 'FCS2'.", ["5.5"], ["R-20"], items, post=post_replace(b"FCS2")))
    out.append(
        _n(
            "n_signature_container",
            "A container signature ('FCA1') where a stream is expected.",
            ["5.5"],
            ["R-20"],
            items,
            post=post_replace(b"FCA1"),
        )
    )
    out.append(
        _n("n_truncated_empty", "An empty file.", ["5.5"], ["R-20"], items, post=lambda b: (b"", _framing(None, "E_TRUNCATED", "fcs_signature", 0)))
    )
    out.append(
        _n(
            "n_truncated_signature",
            "A file of 3 bytes, shorter than the signature.",
            ["5.5"],
            ["R-20"],
            items,
            post=lambda b: (b"FCS", _framing(None, "E_TRUNCATED", "fcs_signature", 0)),
        )
    )
    n = len(items)
    out.append(
        _n(
            "n_truncated_file",
            "The last unit is 2 bytes shorter than its unit_size.",
            ["5.5"],
            ["R-21"],
            items,
            post=lambda b: (b.data[:-2], _framing(n - 1, "E_TRUNCATED", f"unit_size[{n - 1}]", b.size_offsets[-1] * 8)),
        )
    )
    out.append(
        _n(
            "n_truncated_leb128",
            "The file ends inside a leb128() unit_size (a byte with its continuation bit set).",
            ["3.2.4", "5.5"],
            ["R-04"],
            items,
            post=lambda b: (b.data + b"\x85", _framing(n, "E_TRUNCATED", f"unit_size[{n}]", len(b.data) * 8)),
        )
    )
    out.append(
        _n(
            "n_leb128_too_long",
            "A unit_size leb128() of 9 bytes (its eighth byte has the continuation bit).",
            ["3.2.4"],
            ["R-04"],
            items,
            size_bytes={1: b"\x85\x80\x80\x80\x80\x80\x80\x80\x00"},
            post=lambda b: (b.data, _framing(1, "E_LEB128", "unit_size[1]", b.size_offsets[1] * 8)),
        )
    )
    out.append(
        _n(
            "n_leb128_too_large",
            "A unit_size leb128() whose value is 2^32 (5 bytes).",
            ["3.2.4"],
            ["R-04"],
            items,
            size_bytes={2: b"\x80\x80\x80\x80\x10"},
            post=lambda b: (b.data, _framing(2, "E_LEB128", "unit_size[2]", b.size_offsets[2] * 8)),
        )
    )
    out.append(
        _n(
            "n_value_unit_size_zero",
            "unit_size 0.",
            ["5.5"],
            ["R-21"],
            items,
            size_bytes={2: b"\x00"},
            post=lambda b: (b.data, _framing(2, "E_VALUE", "unit_size[2]", b.size_offsets[2] * 8)),
        )
    )

    def forged_larger(b: Built):
        data = bytearray(b.data)
        assert len(leb128_bytes(len(b.units[2]) + 1)) == 1
        data[b.size_offsets[2]] += 1  # the unit swallows the next unit's unit_size byte
        return bytes(data), ExpectedError("E_UNIT_SIZE", 2, len(b.units[2]) * 8, "unit_size")

    out.append(
        _n(
            "n_unit_size_forged_larger",
            "A P-frame's unit_size is one more than its syntax: a byte is left over.",
            ["5.1", "5.5"],
            ["R-18"],
            items,
            post=forged_larger,
        )
    )
    hc = base_header(header_crc_flag=True)
    its = stream(hc, base_q(3, 41))
    out.append(
        _n(
            "n_unit_size_forged_smaller",
            "The header's unit_size is one less than its syntax: header_crc is cut short.",
            ["5.5", "5.2"],
            ["R-18", "R-19"],
            _with(its, 0, dmg.truncate(its[0], None, len(its[0].data(None)) - 1)),
        )
    )
    lv1 = base_header()
    its = stream(lv1, base_q(3, 42))
    big = its[:2] + [ReservedItem(3, bytes(2048))] + its[2:]  # 2049 bytes with its unit_type byte
    out.append(
        _n(
            "n_level_unit_size",
            "A reserved unit of 2049 bytes in a level 1 stream (limit 2048): rejected before it is read.",
            ["4.3", "5.5"],
            ["R-09", "R-21"],
            big,
            post=lambda b: (b.data, _framing(2, "E_LEVEL", "unit_size[2]", b.size_offsets[2] * 8)),
        )
    )
    out.append(
        _n(
            "n_level_unit_size_no_header",
            "A first unit_size of 65537 (over every level's limit): rejected before the file is found to be shorter.",
            ["4.3", "5.5"],
            ["R-21"],
            items,
            post=lambda b: (b"FCS1" + leb128_bytes(65537) + b"\x00" * 8, _framing(0, "E_LEVEL", "unit_size[0]", 32)),
        )
    )
    out.append(_n("n_no_sequence_header_frame", "The first unit is an I-frame.", ["5.5"], ["R-20", "R-22"], items[1:3]))
    out.append(
        _n(
            "n_no_sequence_header_reserved",
            "The first unit is a reserved unit: in strict mode E_NO_SEQUENCE_HEADER, R-11 does not make it ignorable (R-106).",
            ["5.1", "5.5"],
            ["R-20", "R-106"],
            [ReservedItem(3, b"\x00")] + items,
        )
    )
    return out


# ----------------------------------------------------------------------------- sequence header (SPEC 5.2)
def header_vectors() -> list[VectorDef]:
    out = []
    h = base_header(header_crc_flag=True)
    items = stream(h, base_q(4, 43))
    H = items[0]

    def bad(name, elem, value, cls, purpose, reqs, at=None, keep_crc=False, clauses=("5.2", "5.2.1")):
        out.append(_n(name, purpose, list(clauses), reqs, _with(items, 0, dmg.set_element(H, None, elem, value, cls, at, keep_crc))))

    bad("n_version_0", "seq_version", 0, "E_VERSION", "seq_version 0.", ["R-10"])
    bad("n_version_2", "seq_version", 2, "E_VERSION", "seq_version 2.", ["R-10"])
    bad(
        "n_version_before_crc",
        "seq_version",
        2,
        "E_VERSION",
        "seq_version 2 and a header_crc that no longer matches: the version check comes first in syntax order.",
        ["R-10", "R-19"],
        keep_crc=True,
    )
    bad("n_profile_2", "profile_idc", 2, "E_PROFILE", "profile_idc 2 (undefined).", ["R-08"], clauses=("4.3",))
    bad("n_profile_255", "profile_idc", 255, "E_PROFILE", "profile_idc 255.", ["R-08"], clauses=("4.3",))
    bad("n_level_undefined_0", "level_idc", 0, "E_LEVEL", "level_idc 0 (undefined).", ["R-09"], clauses=("4.3",))
    bad("n_level_undefined_15", "level_idc", 15, "E_LEVEL", "level_idc 15 (between levels 1 and 2).", ["R-09"], clauses=("4.3",))
    bad("n_value_frame_rate_num_0", "frame_rate_num", 0, "E_VALUE", "frame_rate_num 0.", ["R-13"])
    bad("n_value_frame_rate_den_0", "frame_rate_den", 0, "E_VALUE", "frame_rate_den 0.", ["R-13"])
    bad("n_value_max_intra_interval_0", "max_intra_interval", 0, "E_VALUE", "max_intra_interval 0.", ["R-13"])
    bad("n_value_num_groups_0", "num_groups", 0, "E_VALUE", "num_groups 0.", ["R-13"])
    padded = _with(items, 0, dmg.set_padding(H, None))
    out.append(_n("n_padding_header", "A non-zero alignment bit at the end of the header.", ["3.3"], ["R-03"], padded))
    out.append(_n("n_crc_header", "header_crc does not match.", ["3.5", "5.2.1"], ["R-19"], _with(items, 0, dmg.flip_crc(H, None))))
    out.append(
        _n(
            "n_crc_header_payload",
            "frame_rate_num changed from 30 to 31 (still valid): only header_crc detects it.",
            ["3.5", "5.2.1"],
            ["R-19"],
            _with(items, 0, dmg.flip_payload_bit(H, None, "frame_rate_num")),
        )
    )
    out.append(
        _n("n_unit_size_leftover_header", "A byte after the header's syntax.", ["5.1"], ["R-18"], _with(items, 0, dmg.append_bytes(H, None, b"\x00")))
    )
    cut = dmg.truncate(H, None, 40)
    out.append(_n("n_truncated_header", f"The header unit is cut after 40 bytes, inside {cut.field}.", ["5.2"], ["R-20"], _with(items, 0, cut)))
    # level limits met while the header is read (SPEC 5.2.1, R-14), checked before per-dimension data
    h9 = hdr(*[grp(0, 4, 1) for _ in range(9)], level=20)
    it = HeaderItem(h9)
    out.append(
        _n(
            "n_level_groups",
            "Nine groups in a level 1 stream (limit 8).",
            ["4.3", "5.2.1"],
            ["R-09", "R-14"],
            [dmg.set_element(it, None, "level_idc", 10, "E_LEVEL", "num_groups")],
        )
    )
    h129 = hdr(grp(0, 4, 64), grp(0, 4, 65), level=20)
    out.append(
        _n(
            "n_level_dims",
            "129 dimensions in a level 1 stream (limit 128): detected at the second group's dimension count.",
            ["4.3", "5.2.1"],
            ["R-09", "R-14"],
            [dmg.set_element(HeaderItem(h129), None, "level_idc", 10, "E_LEVEL", "group_dim_count_minus1[1]")],
        )
    )
    h4097 = hdr(*([grp(0, 2, 241, eg=0) for _ in range(16)] + [grp(0, 2, 240)]), level=30)
    out.append(
        _n(
            "n_level_dims_level3",
            "4097 dimensions at level 3 (limit 4096): the last group's count is one too many, detected before its per-dimension data.",
            ["4.3", "5.2.1"],
            ["R-09", "R-14"],
            [dmg.set_element(HeaderItem(h4097), None, "group_dim_count_minus1[16]", 240, "E_LEVEL")],
        )
    )
    hf = hdr(grp(0, 4, 2), level=20, rate=(121, 2))
    out.append(
        _n(
            "n_level_frame_rate",
            "Frame rate 121/2 = 60.5 fps in a level 1 stream (limit 60).",
            ["4.3"],
            ["R-09"],
            [dmg.set_element(HeaderItem(hf), None, "level_idc", 10, "E_LEVEL", "frame_rate_den")],
        )
    )
    # dimension counts and index maps
    h4 = hdr(grp(0, 6, 4), grp(0, 6, 53, 0, 1))
    out.append(
        _n(
            "n_value_dims_over_canonical",
            "HEAD_ROTATION with 4 dimensions (canonical 3).",
            ["5.2.1"],
            ["R-15"],
            [dmg.set_element(HeaderItem(h4), None, "group_semantic[0]", 3, "E_VALUE", "group_dim_count_minus1[0]")],
        )
    )
    out.append(
        _n(
            "n_value_dims_over_canonical_arkit",
            "ARKIT52 with 53 dimensions.",
            ["5.2.1"],
            ["R-15"],
            [_patch_many(HeaderItem(h4), None, {"group_semantic[1]": 2}, "E_VALUE", "group_dim_count_minus1[1]")],
        )
    )
    hi = hdr(grp(2, 6, 3, 0, 1, index=[3, 5, 40]), grp(3, 6, 2, index=[0, 2]))
    out.append(
        _n(
            "n_value_index_not_increasing",
            "group_dim_index 3, 3 (not strictly increasing).",
            ["5.2.1"],
            ["R-15"],
            [dmg.set_element(HeaderItem(hi), None, "group_dim_index[0][1]", 3, "E_VALUE")],
        )
    )
    out.append(
        _n(
            "n_value_index_over_canonical",
            "HEAD_ROTATION group_dim_index 3 (canonical indices are 0..2).",
            ["5.2.1"],
            ["R-15"],
            [dmg.set_element(HeaderItem(hi), None, "group_dim_index[1][1]", 3, "E_VALUE")],
        )
    )
    return out


def range_vectors() -> list[VectorDef]:
    """SPEC 5.2.1, R-16: every violation reported at range_min."""
    out = []
    h = hdr(grp(0, 7, 2, -1.0, 1.0), grp(0, 12, 2, 0.0, 4.0))
    items = stream(h, walk(h, 3, 44))
    H = items[0]
    f = dmg.f32_bits
    cases = [
        ("n_range_nan_min", "range_min is a quiet NaN.", {"range_min[1][0]": 0x7FC00000}, "range_max[1][0]"),
        ("n_range_nan_max", "range_max is a signalling NaN.", {"range_max[0][1]": 0x7F800001}, "range_max[0][1]"),
        ("n_range_inf_max", "range_max is +inf.", {"range_max[1][1]": f(float("inf"))}, "range_max[1][1]"),
        ("n_range_neg_inf_min", "range_min is -inf.", {"range_min[0][0]": f(float("-inf"))}, "range_max[0][0]"),
        (
            "n_range_min_gt_max",
            "range_min 1.0 > range_max 0.99999994.",
            {"range_min[1][0]": f(1.0), "range_max[1][0]": 0x3F7FFFFF},
            "range_max[1][0]",
        ),
        (
            "n_range_width_overflow",
            "[-2e38, 2e38]: both finite but max - min overflows binary32.",
            {"range_min[0][1]": f(-2e38), "range_max[0][1]": f(2e38)},
            "range_max[0][1]",
        ),
        (
            "n_range_top_overflow",
            "The R-16 example: [1.7083754e38, 3.4028235e38] at bit depth 7; the width is finite but the top level x(127) rounds to +inf.",
            {"range_min[0][0]": f(1.7083754e38), "range_max[0][0]": f(3.4028235e38)},
            "range_max[0][0]",
        ),
    ]
    for name, purpose, vals, at in cases:
        out.append(_n(name, purpose, ["5.2.1"], ["R-16"], _with(items, 0, _patch_many(H, None, vals, "E_RANGE", at))))
    upd = {1: ([0.0, 0.0], [1.0, 2.0])}
    its = stream(h, walk(h, 4, 45), every=2, updates={2: upd})
    out.append(
        _n(
            "n_range_update_nan",
            "A range update in an I-frame with range_max NaN.",
            ["5.3", "5.2.1"],
            ["R-16", "R-31"],
            _with(its, 3, _patch_many(its[3], h, {"range_max[1][1]": 0x7FC00001}, "E_RANGE", "range_max[1][1]")),
        )
    )
    out.append(
        _n(
            "n_range_update_min_gt_max",
            "A range update with range_min > range_max.",
            ["5.3", "5.2.1"],
            ["R-16", "R-31"],
            _with(its, 3, _patch_many(its[3], h, {"range_min[1][0]": f(1.5)}, "E_RANGE", "range_max[1][0]")),
        )
    )
    return out


# ----------------------------------------------------------------------------- frame units (SPEC 5.3, 6.4)
def frame_vectors() -> list[VectorDef]:
    out = []
    h = base_header(frame_crc_flag=True)
    q = base_q(6, 46)
    items = stream(h, q)
    out.append(_n("n_crc_frame", "frame_crc of a P-frame does not match.", ["3.5", "5.3.1"], ["R-19"], _with(items, 3, dmg.flip_crc(items[3], h))))
    out.append(
        _n(
            "n_crc_frame_payload",
            "One quant_value bit of an I-frame flipped (still a valid level): only frame_crc detects it.",
            ["3.5", "5.3.1"],
            ["R-19"],
            _with(items, 1, dmg.flip_payload_bit(items[1], h, "quant_value[1][2]")),
        )
    )
    k = next(k for k in range(2, len(items)) if any(e.name == "alignment_zero_bit" for e in items[k].elements(h)))
    out.append(_n("n_padding_frame", "A non-zero alignment bit in a P-frame.", ["3.3"], ["R-03"], _with(items, k, dmg.set_padding(items[k], h))))
    out.append(
        _n(
            "n_unit_size_leftover_frame",
            "Two bytes after a P-frame's syntax (after frame_crc).",
            ["5.1"],
            ["R-18"],
            _with(items, 4, dmg.append_bytes(items[4], h, b"\x00\x17")),
        )
    )
    out.append(_n("n_truncated_iframe", "An I-frame cut inside its quantized values.", ["5.3"], [], _with(items, 1, dmg.truncate(items[1], h, 3))))
    hp = hdr(grp(0, 16, 4, eg=0), interval=8)
    t = top(hp)
    qp = np.vstack([np.zeros_like(t), t])
    its = stream(hp, qp)
    out.append(
        _n(
            "n_truncated_pframe",
            "A P-frame cut inside a 33-bit Exp-Golomb residual.",
            ["3.2.1", "5.3"],
            ["R-02"],
            _with(its, 2, dmg.truncate(its[2], hp, 7)),
        )
    )
    # raw codes the writer refuses to produce
    i0 = its[1]

    def raw(bits: str) -> bytes:
        bits += "0" * (-len(bits) % 8)
        return int(bits, 2).to_bytes(len(bits) // 8, "big")

    p = "1" + "0001"  # unit_type 0 (P), frame_counter 1
    out.append(
        _n(
            "n_truncated_eg_no_terminator",
            "A P-frame whose first residual is 3 zero bits and the end of the unit: E_TRUNCATED (fewer than 32 zeros).",
            ["3.2.1"],
            ["R-02"],
            [its[0], i0, DamagedItem(raw(p + "000"), "E_TRUNCATED", 5, "residual[0][0]", UNIT_P_FRAME)],
        )
    )
    out.append(
        _n(
            "n_expgolomb_residual",
            "A residual with 32 leading zero bits (then a 1 and 32 info bits).",
            ["3.2.1"],
            ["R-02"],
            [its[0], i0, DamagedItem(raw(p + "0" * 32 + "1" + "0" * 32), "E_EXPGOLOMB", 5, "residual[0][0]", UNIT_P_FRAME)],
        )
    )
    out.append(
        _n(
            "n_expgolomb_at_end",
            "A residual of 35 zero bits up to the end of the unit: more than 31 zeros read, so E_EXPGOLOMB rather than E_TRUNCATED.",
            ["3.2.1"],
            ["R-02"],
            [its[0], i0, DamagedItem(raw(p + "0" * 35), "E_EXPGOLOMB", 5, "residual[0][0]", UNIT_P_FRAME)],
        )
    )
    out.append(
        _n(
            "n_expgolomb_unit_type",
            "A unit whose unit_type has 32 leading zero bits.",
            ["3.2.1", "5.1"],
            ["R-02"],
            [its[0], i0, DamagedItem(raw("0" * 32 + "1" + "0" * 32), "E_EXPGOLOMB", 0, "unit_type", None)],
        )
    )
    out.append(
        _n(
            "n_expgolomb_unit_type_first",
            "The first unit's unit_type has 32 leading zero bits: it cannot be read, so E_EXPGOLOMB (not E_NO_SEQUENCE_HEADER).",
            ["3.2.1", "5.1", "5.5"],
            ["R-02", "R-20", "R-106"],
            [DamagedItem(raw("0" * 40), "E_EXPGOLOMB", 0, "unit_type", None)],
        )
    )
    # E_RESIDUAL (SPEC 6.4, R-32): valid syntax, reconstructed value out of range
    big = frame(UNIT_P_FRAME, 1, hp, [0, 0, 1 << 30, 0])
    out.append(
        _n(
            "n_residual_eg31",
            "A residual with exactly 31 leading zeros (2^30, valid syntax): q leaves [0, 65535], E_RESIDUAL (not E_EXPGOLOMB).",
            ["3.2.1", "6.4"],
            ["R-02", "R-32"],
            [its[0], i0, big],
        )
    )
    out.append(
        _n(
            "n_residual_over",
            "q = 65535 + 1 in the second dimension of a 16-bit group.",
            ["6.4"],
            ["R-32"],
            [its[0], its[1], its[2], frame(UNIT_P_FRAME, 2, hp, [0, 1, 0, 0])],
        )
    )
    out.append(
        _n(
            "n_residual_under",
            "q = 2 - 3 = -1 in the second dimension of group 1 (10 bits), after a valid P-frame.",
            ["6.4"],
            ["R-32"],
            [
                items[0],
                frame(UNIT_I_FRAME, 0, h, [0, 5, 9, 1, 2, 3]),
                frame(UNIT_P_FRAME, 1, h, [1, 0, 0, 0, 0, 0]),
                frame(UNIT_P_FRAME, 2, h, [0, -5, 0, 0, -3, 0]),
            ],
        )
    )
    return out


def all_invalid() -> list[VectorDef]:
    """Every invalid stream vector."""
    return framing_vectors() + header_vectors() + range_vectors() + frame_vectors() + coverage_stream_vectors()


# ------------------------------------------------------------------ branch-coverage vectors (H10)
def coverage_stream_vectors() -> list[VectorDef]:
    """Stream vectors for decoding branches that had none (conformance/branch_coverage.json)."""
    h = base_header()
    items = stream(h, base_q(5, 40))
    n = len(items)
    return [
        _n(
            "n_truncated_file_resilient",
            "The last unit is 2 bytes shorter than its unit_size, decoded in resilient mode: a framing error is not concealed, "
            "it ends decoding with E_TRUNCATED in both modes (the frames before it are output, R-99).",
            ["5.5", "7.3"],
            ["R-21", "R-99"],
            items,
            mode="resilient",
            post=lambda b: (b.data[:-2], _framing(n - 1, "E_TRUNCATED", f"unit_size[{n - 1}]", b.size_offsets[-1] * 8)),
        )
    ]


def frame_rate_boundary() -> VectorDef:
    """The frame-rate limit is a rational comparison: 120/2 = 60 fps is within level 1."""
    h = hdr(grp(0, 8, 2), rate=(120, 2))
    return VectorDef(
        "y_level_frame_rate_fraction", "frame_rate 120/2 = 60 fps, exactly the level 1 limit.", ["4.3"], ["R-09"], stream(h, walk(h, 3, 47))
    )
