"""The stream (``.fcs``) vectors of the conformance suite: what each one contains and why.

Every vector is a script of units (:mod:`conformance.stream.script`) with its purpose, the
SPEC clauses and requirements it exercises and its decode mode. Quantized values are chosen
here (fixed seeds), so the expected outputs follow from them by the model of SPEC 6-7
(:mod:`conformance.stream.model`). Invalid units are made by changing valid ones at computed
element positions (:mod:`conformance.stream.damage`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from refcodec.fcs.layout import UNIT_I_FRAME, UNIT_P_FRAME, GroupLayout, SequenceHeader
from refcodec.fcs.syntax import FrameUnit
from refcodec.spec_tables import group_semantics, levels

from . import damage as dmg
from .model import ExpectedError, dequantize_f32
from .script import Built, DamagedItem, FrameItem, HeaderItem, Item, ReservedItem, gop_items, split_groups
from .syntax import find


@dataclass
class VectorDef:
    """One stream vector before serialisation.

    ``post`` damages the serialised file itself (framing errors of SPEC 5.5) and returns the
    new bytes and the error a decoder must report. ``accept_errors`` lists the error classes
    an implementation may report instead of decoding (``i_`` vectors only).
    """

    name: str
    purpose: str
    clauses: list[str]
    requirements: list[str]
    items: list[Item]
    mode: str = "strict"
    size_bytes: dict[int, bytes] = field(default_factory=dict)
    post: Callable[[Built], tuple[bytes, ExpectedError]] | None = None
    accept_errors: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- building blocks
def rng_for(seed: int) -> np.random.RandomState:
    """A seeded generator whose stream numpy keeps stable across versions (NEP 19: the legacy
    RandomState is frozen; Generator streams may change), so the vectors stay reproducible."""
    return np.random.RandomState(seed)


def grp(
    semantic: int, b: int, dims: int, lo: float = -1.0, hi: float = 1.0, eg: int | list[int] = 0, zf: bool = False, index: list[int] | None = None
) -> GroupLayout:
    """A group with the same range on every dimension (lists are allowed for lo/hi)."""
    los = list(lo) if isinstance(lo, list | tuple) else [lo] * dims
    his = list(hi) if isinstance(hi, list | tuple) else [hi] * dims
    egs = list(eg) if isinstance(eg, list) else [eg] * dims
    return GroupLayout(
        semantic, b, [float(np.float32(v)) for v in los], [float(np.float32(v)) for v in his], egs, zero_flag_enabled=zf, dim_index=index
    )


def hdr(*groups: GroupLayout, interval: int = 8, level: int = 10, rate: tuple[int, int] = (30, 1), **kw) -> SequenceHeader:
    """A sequence header (level 1 and 30 fps unless told)."""
    return SequenceHeader(groups=list(groups), frame_rate_num=rate[0], frame_rate_den=rate[1], max_intra_interval=interval, level_idc=level, **kw)


def top(h: SequenceHeader) -> np.ndarray:
    """2^b - 1 per flat dimension."""
    return np.array([(1 << g.bit_depth) - 1 for g in h.groups for _ in range(g.dims)], np.int64)


def walk(h: SequenceHeader, frames: int, seed: int, hold_group: int | None = None, spread: float = 0.08) -> np.ndarray:
    """A smooth random walk of quantized vectors within [0, 2^b - 1] (fixed seed)."""
    rng = rng_for(seed)
    t = top(h)
    q = np.empty((frames, len(t)), np.int64)
    q[0] = rng.randint(0, t + 1)
    for i in range(1, frames):
        step = np.rint(rng.normal(0, np.maximum(1, t * spread))).astype(np.int64)
        q[i] = np.clip(q[i - 1] + step, 0, t)
    if hold_group is not None:  # a group that does not move: all-zero residuals
        a = sum(g.dims for g in h.groups[:hold_group])
        q[:, a : a + h.groups[hold_group].dims] = q[0, a : a + h.groups[hold_group].dims]
    return q


def stream(h: SequenceHeader, q: np.ndarray, every: int | None = None, **kw) -> list[Item]:
    """Header then the frames of ``q`` with an I-frame every ``every`` frames (default: the header's)."""
    every = every or h.max_intra_interval
    return [HeaderItem(h)] + gop_items(h, q, [t % every == 0 for t in range(len(q))], **kw)


def frame(unit_type: int, counter: int, h: SequenceHeader, row, zero=None, updates=None) -> FrameItem:
    """One frame item from a flat row of values (I) or residuals (P)."""
    return FrameItem(
        FrameUnit(
            unit_type, counter, split_groups(h, row), zero_groups=zero or [], range_update_flag=updates is not None, range_updates=updates or {}
        ),
        h,
    )


# A small two-group layout used by many vectors: 3 expression dims (6 bits), 3 rotation dims (10 bits).
def base_header(**kw) -> SequenceHeader:
    args = dict(interval=8)
    args.update(kw)
    return hdr(grp(1, 6, 3, -1.0, 1.0, eg=[1, 1, 0]), grp(3, 10, 3, -0.5, 0.5, eg=2, zf=True), **args)


def base_q(frames: int = 24, seed: int = 5) -> np.ndarray:
    return walk(base_header(), frames, seed, hold_group=None)


# ----------------------------------------------------------------------------- valid streams
def bit_depth_vectors() -> list[VectorDef]:
    """Every bit depth 1..16, with extreme levels and maximum residuals (+-(2^b - 1))."""
    out = []
    for b in range(1, 17):
        t = (1 << b) - 1
        h = hdr(grp(0, b, 4, [-1.0, 0.0, -3.5, 1e-3], [1.0, 1.0, 2.25, 5e-3], eg=[0, 1, b // 2, 15], zf=True), interval=6)
        q = np.array(
            [
                [0, t, t // 2, 1 % (t + 1)],
                [t, 0, t // 2 + (t > 1), 0],
                [0, t, t // 2, t],
                [0, t, t // 2, t],
                [t // 3, (2 * t) // 3, 0, t],
                [t, 0, t, 0],
                [1 % (t + 1), t - 1, t // 2, t // 2],
            ],
            np.int64,
        )
        out.append(
            VectorDef(
                f"y_bitdepth_{b:02d}",
                f"Bit depth {b}: values 0 and 2^b-1 in I-frames, residuals of +-(2^b-1) (the largest "
                "possible) in P-frames, an all-zero P-frame coded with the group zero flag, every Exp-Golomb order 0, 1, b/2, 15.",
                ["5.2", "5.3", "3.2.3", "6.4", "6.5"],
                ["R-01", "R-30", "R-32", "R-33", "R-34", "R-05"],
                stream(h, q),
            )
        )
    return out


def layout_vectors() -> list[VectorDef]:
    out = []
    h = hdr(grp(0, 8, 1, -2.0, 2.0))
    out.append(
        VectorDef(
            "y_layout_single_dim", "The smallest layout: one group of one dimension.", ["5.2", "6.2"], ["R-34"], stream(h, walk(h, 10, 1), every=8)
        )
    )
    h = hdr(
        grp(1, 5, 10, -1, 1, eg=1),
        grp(2, 8, 52, 0, 1, eg=1, zf=True),
        grp(3, 12, 3, -0.6, 0.6, eg=3),
        grp(4, 12, 3, -0.1, 0.1, eg=3, zf=True),
        grp(5, 9, 3, -0.3, 0.3, eg=2, zf=True),
        grp(6, 9, 3, -0.4, 0.4, eg=2),
        grp(7, 7, 6, -0.5, 0.5, eg=1, zf=True),
        grp(8, 4, 2, 0, 1, eg=0, zf=True),
        interval=10,
    )
    out.append(
        VectorDef(
            "y_layout_many_groups",
            "Eight groups (the level 1 maximum) of different depths, Exp-Golomb orders and zero flags, flattened in layout order.",
            ["4.3", "5.2", "6.2"],
            ["R-09", "R-14", "R-34"],
            stream(h, walk(h, 21, 2, hold_group=3), every=10),
        )
    )
    return out


def semantic_vectors() -> list[VectorDef]:
    """Every registered group semantic with its canonical dimension count, a reserved one, an index map."""
    out = []
    for sid, sem in sorted(group_semantics().items()):
        dims = sem["canonical_dims"] or 5
        h = hdr(grp(sid, 8, dims, -1.0, 1.0, eg=1, zf=True), interval=4)
        out.append(
            VectorDef(
                f"y_semantic_{sid}_{sem['name'].lower()}",
                f"A group with semantic {sem['name']} ({dims} dims).",
                ["4.2", "5.2"],
                ["R-15", "R-30"],
                stream(h, walk(h, 9, 10 + sid, hold_group=0 if sid == 8 else None)),
            )
        )
    h = hdr(grp(200, 8, 7, -1.0, 1.0), grp(9, 4, 2, 0.0, 3.0), interval=4)
    out.append(
        VectorDef(
            "y_semantic_reserved",
            "Reserved group_semantic values 200 and 9 decode as UNSPECIFIED (any dimension count).",
            ["4.2"],
            ["R-06"],
            stream(h, walk(h, 6, 30)),
        )
    )
    idx = [0, 8, 9, 24, 26, 51]
    h = hdr(grp(2, 10, len(idx), 0.0, 1.0, eg=2, index=idx), grp(7, 6, 2, -0.3, 0.3, index=[1, 4]), interval=4)
    out.append(
        VectorDef(
            "y_semantic_index_map",
            "Index maps: six ARKit-52 weights (canonical indices up to 51) and two eye axes.",
            ["5.2.1"],
            ["R-15"],
            stream(h, walk(h, 7, 31)),
        )
    )
    return out


def range_vectors() -> list[VectorDef]:
    """Ranges at binary32 extremes (SPEC 5.2.1, R-16 allows them; R-05 no flush to zero)."""
    out = []
    tiny = float(np.float32(1.4e-45))  # the smallest subnormal
    cases = [
        (
            "y_range_subnormal",
            "Subnormal ranges: the step and every value are subnormal; no flush to zero (R-05).",
            grp(0, 4, 3, [0.0, -tiny * 20, 1e-39], [tiny * 30, tiny * 20, 1.1e-38]),
        ),
        (
            "y_range_tiny",
            "Tiny normal ranges near the smallest normal binary32 (1.18e-38) and at 1e-30.",
            grp(0, 12, 3, [1.1754944e-38, -1e-30, 0.0], [2.4e-38, 1e-30, 1e-35]),
        ),
        (
            "y_range_huge",
            "Huge ranges at bit depth 16: [-1.7e38, 1.7e38] (width 3.4e38, finite) and [-3.4028235e38, 0] (from near the most negative binary32).",
            grp(0, 16, 2, [-1.7e38, -3.0e38], [1.7e38, 0.0]),
        ),
        (
            "y_range_huge_b1",
            "[0, 3.4028235e38] (up to the largest binary32) at bit depth 1: x(1) = max exactly.",
            grp(0, 1, 2, [0.0, -3.4028235e38 / 2], [3.4028235e38, 3.4028235e38 / 2]),
        ),
        (
            "y_range_near_overflow",
            "The R-16 example range [1.7083754e38, 3.4028235e38] at bit depth 8, where every level is finite.",
            grp(0, 8, 2, [1.7083754e38, 1.0e38], [3.4028235e38, 3.4028235e38]),
        ),
        (
            "y_range_near_overflow_b3",
            "The R-16 example range at bit depth 3 (finite top level; depths 4-7 overflow).",
            grp(0, 3, 1, 1.7083754e38, 3.4028235e38),
        ),
        (
            "y_range_min_eq_max",
            "min = max: the step is 0 and every level decodes to min (also for min = max = 0 and -2.5).",
            grp(0, 9, 3, [0.75, 0.0, -2.5], [0.75, 0.0, -2.5]),
        ),
        (
            "y_range_negative_zero",
            "Negative zero: min = -0 gives -0 + (+0) = +0 at level 0, also when min = max = -0 (the step is +0, so the value is +0, "
            "not min); max = -0 with min = -1.",
            grp(0, 5, 3, [-0.0, -0.0, -1.0], [1.0, -0.0, -0.0]),
        ),
        (
            "y_range_negative",
            "Entirely negative ranges and a range crossing zero with an asymmetric step.",
            grp(0, 11, 3, [-7.0, -1e6, -0.1], [-3.0, -2e5, 0.3]),
        ),
    ]
    for name, purpose, g in cases:
        h = hdr(g, interval=5)
        t = top(h)
        q = np.vstack([np.zeros_like(t), t, walk(h, 6, 40 + len(out)), t // 2, np.ones_like(t) % (t + 1)])
        items = stream(h, q)
        out.append(VectorDef(name, purpose, ["5.2.1", "6.5", "3.4"], ["R-16", "R-30", "R-05"], items))
    return out


def dequant_exactness_vector() -> VectorDef:
    """Values where evaluating SPEC 6.5 in binary64 (or fused) gives other binary32 results."""
    rng = rng_for(77)
    groups = []
    for b in (16, 13, 7):
        lo = np.float32(rng.uniform(-3, 0, 8))
        hi = np.float32(lo + rng.uniform(0.1, 5, 8))
        groups.append(grp(0, b, 8, lo.tolist(), hi.tolist(), eg=4))
    h = hdr(*groups, interval=1)
    q = np.vstack([rng.randint(0, top(h) + 1) for _ in range(6)])
    # check (generator-side) that a binary64 evaluation differs from binary32 somewhere
    rmin = np.array([v for g in groups for v in g.range_min], np.float64)
    rmax = np.array([v for g in groups for v in g.range_max], np.float64)
    wide = (rmin + q * ((rmax - rmin) / top(h))).astype(np.float32)
    exact = np.vstack([dequantize_f32(r, rmin, rmax, [g.bit_depth for g in groups for _ in range(g.dims)]) for r in q])
    assert (wide.view(np.uint32) != exact.view(np.uint32)).sum() >= 10
    return VectorDef(
        "y_dequant_exactness",
        "I-frames only with random ranges and levels chosen so that evaluating the "
        "dequantization in binary64 (or with a fused multiply-add) gives different binary32 results in many "
        "dimensions: checks the exact operation order and rounding of SPEC 6.5.",
        ["3.4", "6.5"],
        ["R-05", "R-30", "R-33"],
        stream(h, q, every=1),
    )


def gop_vectors() -> list[VectorDef]:
    out = []
    h = base_header(interval=1)
    out.append(
        VectorDef("y_gop_intra_only", "I-frames only (max_intra_interval 1).", ["5.2.1", "6.4"], ["R-24", "R-33"], stream(h, base_q(12, 6), every=1))
    )
    h = base_header(interval=300)
    out.append(
        VectorDef(
            "y_gop_long",
            "One I-frame then 299 P-frames (max_intra_interval 300); the 4-bit counter wraps 18 times.",
            ["5.2.1", "5.3.1", "6.4"],
            ["R-24", "R-25", "R-32"],
            stream(h, walk(h, 300, 7, spread=0.02)),
        )
    )
    h = base_header(interval=65535)
    q = walk(h, 20, 8)
    out.append(
        VectorDef(
            "y_gop_first_counter",
            "The first frame's counter may be any value (here 13); max_intra_interval 65535.",
            ["5.3.1"],
            ["R-25"],
            stream(h, q, first_counter=13),
        )
    )
    h = base_header(interval=5)
    out.append(
        VectorDef(
            "y_gop_varying",
            "I-frame intervals 5, 3, 1, 4 (all within max_intra_interval 5).",
            ["5.2.1"],
            ["R-24"],
            [HeaderItem(h)] + gop_items(h, walk(h, 13, 9), [t in (0, 5, 8, 9) for t in range(13)]),
        )
    )
    return out


def zero_flag_vectors() -> list[VectorDef]:
    h = hdr(grp(2, 8, 10, 0, 1, eg=1, zf=True), grp(3, 10, 3, -0.5, 0.5, eg=2, zf=True), grp(4, 10, 3, -0.1, 0.1, eg=2), interval=12)
    q = walk(h, 12, 12)
    q[3:7] = q[2]  # every group still: zero flags on, group 2 codes its zeros
    q[8:10, :10] = q[7, :10]  # group 0 still
    items = stream(h, q)
    # frame 10: group 1 has zero residuals but does not use its flag (allowed: the flag is an option)
    q2 = q.copy()
    extra = frame(UNIT_P_FRAME, 12 % 16, h, np.zeros(16, np.int64), zero=[False, False, False])
    return [
        VectorDef(
            "y_zero_flags",
            "All-zero groups: group_zero_flag set in groups that enable it, zero residuals coded explicitly where the flag is disabled or left 0.",
            ["5.3", "6.4"],
            ["R-32"],
            items + [extra],
        ),
        VectorDef(
            "y_zero_all_groups",
            "P-frames where every group is all-zero (a P-frame of 3 bits plus padding).",
            ["5.3"],
            ["R-32"],
            stream(h, np.repeat(q2[:1], 6, axis=0)),
        ),
    ]


def header_vectors() -> list[VectorDef]:
    out = []
    h = base_header()
    q = base_q(24, 13)
    items = stream(h, q)
    rep = [items[0]] + [x for t, f in enumerate(items[1:]) for x in ([HeaderItem(h)] if t and t % 8 == 0 else []) + [f]]
    out.append(VectorDef("y_header_repeated", "The sequence header repeated before every I-frame (random access points).", ["6.1"], ["R-23"], rep))
    mid = items[:5] + [HeaderItem(h)] + items[5:]
    out.append(
        VectorDef(
            "y_header_repeated_mid_gop",
            "An identical header between two P-frames changes nothing: the next P-frame still has its reference.",
            ["6.1"],
            ["R-23"],
            mid,
        )
    )
    h2 = base_header()
    h2.reserved_bits, h2.group_reserved_bits, h2.header_crc_flag = 0b01, [1, 1], False
    h1 = base_header()
    h1.reserved_bits, h1.group_reserved_bits = 0b11, [1, 0]
    items = [HeaderItem(h1)] + gop_items(h1, q[:11], [t % 8 == 0 for t in range(11)])
    items = items[:4] + [HeaderItem(h2)] + items[4:]
    out.append(
        VectorDef(
            "y_header_reserved_bits",
            "Non-zero seq_reserved_2bits and group_reserved_1bit are ignored, also when a repeat differs only in them.",
            ["5.2.1", "6.1"],
            ["R-12", "R-23"],
            items,
        )
    )
    hb = base_header(interval=9)
    items = stream(h, q[:12]) + [HeaderItem(hb)] + gop_items(hb, q[12:], [False, False, True] + [False] * 9, first_counter=12, prev=q[11])
    out.append(
        VectorDef(
            "y_header_changed",
            "A different header (max_intra_interval 9) resets the decoder: the two P-frames "
            "after it have no reference and are concealed with zeros; the I-frame resumes.",
            ["6.1", "7.2"],
            ["R-23", "R-41", "R-43", "R-44", "R-45"],
            items,
        )
    )
    h3 = hdr(grp(0, 12, 2, -4.0, 4.0, eg=3), interval=4)
    items = stream(h, q[:6]) + stream(h3, walk(h3, 6, 14))
    out.append(
        VectorDef(
            "y_header_changed_layout",
            "A second header with another layout (2 dims instead of 6): frames after it have the new size.",
            ["6.1", "6.6"],
            ["R-23", "R-34"],
            items,
        )
    )
    h4 = base_header(avatar_hash=0x0123456789ABCDEF)
    out.append(
        VectorDef(
            "y_header_avatar_binding",
            "avatar_binding_flag 1 with a 64-bit avatar_hash (decoding is unaffected).",
            ["5.2.1"],
            ["R-30"],
            stream(h4, base_q(9, 15)),
        )
    )
    out.append(
        VectorDef(
            "y_header_only",
            "A file with a sequence header and no frame: zero output frames.",
            ["5.5", "6.6"],
            ["R-20", "R-34"],
            [HeaderItem(base_header())],
        )
    )
    h5 = base_header(rate=(30000, 1001))
    out.append(VectorDef("y_header_frame_rate_ntsc", "frame_rate 30000/1001.", ["5.2.1"], ["R-13"], stream(h5, base_q(5, 16))))
    return out


def crc_vectors() -> list[VectorDef]:
    out = []
    for name, hc, fc in (("y_crc_header", True, False), ("y_crc_frame", False, True), ("y_crc_both", True, True)):
        h = base_header(header_crc_flag=hc, frame_crc_flag=fc)
        out.append(
            VectorDef(
                name,
                f"header_crc {'on' if hc else 'off'}, frame_crc {'on' if fc else 'off'}.",
                ["3.5", "5.2", "5.3"],
                ["R-19"],
                stream(h, base_q(12, 17)),
            )
        )
    return out


def range_update_vectors() -> list[VectorDef]:
    h = base_header(interval=6)
    q = base_q(24, 18)
    upd6 = {0: ([-0.5, -0.25, 0.0], [0.5, 0.75, 1.0])}
    upd18 = {0: ([-2.0, -2.0, -2.0], [2.0, 2.0, 2.0]), 1: ([-0.125, 0.0, -1e-3], [0.125, 0.0, 1e-3])}
    items = stream(h, q, updates={6: upd6, 18: upd18})
    return [
        VectorDef(
            "y_range_update",
            "Range updates: group 0 at the I-frame of frame 6 (in effect for that I-frame period only: "
            "frame 12 reverts to the sequence ranges), both groups at frame 18 (with min = max in one dimension).",
            ["5.3", "6.3"],
            ["R-31", "R-16"],
            items,
        ),
        VectorDef(
            "y_range_update_flag_no_groups",
            "range_update_flag 1 with no group flag set: the sequence ranges apply.",
            ["5.3", "6.3"],
            ["R-31"],
            [HeaderItem(h), frame(UNIT_I_FRAME, 0, h, q[0], updates={}), frame(UNIT_P_FRAME, 1, h, q[1] - q[0])],
        ),
    ]


def reserved_unit_vectors() -> list[VectorDef]:
    h = base_header()
    items = stream(h, base_q(10, 19))
    items = (
        items[:2]
        + [ReservedItem(3, b"\xff\x00\x55")]
        + items[2:5]
        + [ReservedItem(4), ReservedItem(1000, bytes(range(40)))]
        + items[5:]
        + [ReservedItem(70000, b"\x01")]
    )
    return [
        VectorDef(
            "y_reserved_units",
            "Reserved unit types 3, 4, 1000 and 70000 (with arbitrary payloads) between and after frames are skipped and change no state.",
            ["5.1", "5.4"],
            ["R-11"],
            items,
        )
    ]


def storage_vectors() -> list[VectorDef]:
    h = base_header()
    items = stream(h, base_q(6, 20))
    sizes = {0: None, 2: None}
    built = [len(it.data(h)) for it in items]
    sizes = {
        0: bytes([0x80 | (built[0] & 0x7F), 0x80 | (built[0] >> 7)] + [0x80] * 5 + [0x00]),  # 8 bytes, non-minimal
        2: bytes([0x80 | built[2], 0x00]),
    }
    return [
        VectorDef(
            "y_leb128_non_minimal",
            "unit_size written as a non-minimal leb128() of 8 bytes (the longest allowed) and of 2 bytes.",
            ["3.2.4", "5.5"],
            ["R-04"],
            items,
            size_bytes=sizes,
        )
    ]


def level_vectors() -> list[VectorDef]:
    """The largest streams each level allows (SPEC 4.3): groups, dims, frame rate, unit size."""
    out = []
    for idc in sorted(levels()):
        lv = levels()[idc]
        ngroups = lv.max_groups
        dims = [lv.max_total_dims // ngroups] * ngroups
        dims[-1] += lv.max_total_dims - sum(dims)
        assert max(dims) <= 256, "a group has at most 256 dimensions"
        gs = [grp(0, 16 if g % 2 else 9, n, -1.0, 1.0, eg=g % 16, zf=bool(g % 3 == 0)) for g, n in enumerate(dims)]
        h = hdr(*gs, level=idc, rate=(lv.max_frame_rate, 1), interval=3, frame_crc_flag=True, header_crc_flag=True)
        t = top(h)
        q = np.vstack([t, np.zeros_like(t), t // 2, t])  # maximal residuals in the P-frames
        upd = {g: (grp_.range_min, [v + 1.0 for v in grp_.range_max]) for g, grp_ in enumerate(gs)}
        items = stream(h, q, updates={3: upd}, every=3)
        items.insert(2, ReservedItem(5, bytes(lv.max_unit_bytes - 1)))  # a unit of exactly max_unit_bytes
        name = f"{'y' if idc == min(levels()) else 'i'}_level_{lv.name}_max"
        purpose = (
            f"Level {lv.name} at its limits: {ngroups} groups, {lv.max_total_dims} dims, {lv.max_frame_rate} fps, a "
            f"reserved unit of exactly {lv.max_unit_bytes} bytes, maximal residuals and a range update of every group."
        )
        if name.startswith("i_"):
            purpose += " Implementation-defined: a decoder that supports only lower levels rejects it with E_LEVEL."
        out.append(
            VectorDef(
                name, purpose, ["4.3", "5.5"], ["R-09", "R-14", "R-21", "R-19"], items, accept_errors=["E_LEVEL"] if name.startswith("i_") else []
            )
        )
    return out


def real_track_vector() -> VectorDef:
    """A real tracked face (samples/tracks) through the reference encoder's choices."""
    from refcodec.fcs.encoder import EncoderConfig, FcsEncoder, build_header
    from refcodec.importers import load_track
    from refcodec.quant import quantize

    from ..paths import ROOT

    track = load_track(ROOT / "samples" / "tracks" / "aniportrait_tracked.npz")
    track.values = track.values[:60]
    h = build_header(track, [8, 10, 10], intra_interval=20, frame_crc=True)
    enc = FcsEncoder(h, EncoderConfig(intra_interval=20))
    units = [enc.header_unit()] + enc.encode_frames(track.values)
    # the encoder-side integers: nearest level with the sequence ranges (SPEC 9.1)
    rmin = np.array([v for g in h.groups for v in g.range_min], np.float32)
    rmax = np.array([v for g in h.groups for v in g.range_max], np.float32)
    depth = np.array([g.bit_depth for g in h.groups for _ in range(g.dims)])
    levels_ = np.array([float((1 << int(b)) - 1) for b in depth], np.float32)
    step = np.divide(np.subtract(rmax, rmin, dtype=np.float32), levels_, dtype=np.float32)
    q = quantize(track.values, rmin, step, depth)
    items = stream(h, q, every=20)
    assert q.shape == (60, h.total_dims)
    assert [it.data(h) for it in items] == units, "the script must reproduce the encoder's units"
    return VectorDef(
        "y_real_track",
        "60 frames of a real tracked face (ARKit-52 subset, head rotation and translation) coded "
        "with the reference encoder's choices of ranges, Exp-Golomb orders and zero flags.",
        ["5", "6"],
        ["R-30", "R-32", "R-33", "R-24", "R-25"],
        items,
    )


def strict_loss_vectors() -> list[VectorDef]:
    """Counter gaps are valid syntax: strict mode conceals them too (SPEC 8.1, R-45)."""
    h = base_header()
    items = stream(h, base_q(20, 21))
    drop = [x for t, x in enumerate(items) if t not in (4, 11, 12)]  # frames 3, 10, 11
    return [
        VectorDef(
            "y_gap_strict",
            "Frames 3, 10 and 11 missing (counter gaps); strict mode conceals them as SPEC 7.1-7.2 says.",
            ["7.1", "7.2", "8.1"],
            ["R-41", "R-42", "R-43", "R-44", "R-45"],
            drop,
        )
    ]


# ----------------------------------------------------------------------------- loss (resilient)
def loss_vectors() -> list[VectorDef]:
    h = base_header(header_crc_flag=True, frame_crc_flag=True)
    q = base_q(32, 22)
    upd = {0: ([-0.5, -0.5, -0.5], [0.75, 0.75, 0.75])}
    full = stream(h, q, updates={16: upd})
    hd, fr = full[0], full[1:]

    def bad_crc(t):
        return dmg.flip_crc(fr[t], h)

    def keep(drop=(), bad=None):
        out = [hd]
        for t, f in enumerate(fr):
            if t in drop:
                continue
            out.append(bad[t] if bad and t in bad else f)
        return out

    R = ["R-40", "R-41", "R-42", "R-43", "R-44", "R-45", "R-107"]
    C = ["7.1", "7.2", "7.3", "8.1"]
    vs = [
        ("y_loss_drop_p", "P-frame 5 lost: one concealed_gap frame, then P-frames without reference until the I-frame at 8.", keep([5])),
        ("y_loss_drop_i", "The I-frame at 8 lost: frames 8-15 hold frame 7.", keep([8])),
        ("y_loss_drop_first_i", "The first I-frame lost: the counter is unknown, P-frames are concealed with +0.0 vectors.", keep([0])),
        ("y_loss_burst", "Frames 3-6 and 20-21 lost.", keep([3, 4, 5, 6, 20, 21])),
        ("y_loss_crc_p", "P-frame 5 fails its CRC: concealed_error, then no reference until the I-frame.", keep(bad={5: bad_crc(5)})),
        ("y_loss_crc_i", "The I-frame at 8 fails its CRC.", keep(bad={8: bad_crc(8)})),
        (
            "y_loss_crc_then_gap",
            "A damaged unit advances the expected counter by one: a loss right after it is a gap of 1.",
            keep([5], bad={4: bad_crc(4)}),
        ),
        ("y_loss_lost_range_update", "The range-update I-frame at 16 lost: the next I-frame (24) uses the sequence ranges.", keep([16])),
        ("y_loss_reorder", "Frames 5 and 6 swapped: gaps of 1 and 14 (SPEC 7.1 sees the counters only).", [hd] + fr[:5] + [fr[6], fr[5]] + fr[7:]),
        (
            "y_loss_wrap16",
            "Frames 3-18 lost (16 frames): invisible to the 4-bit counter; frame 19's residual is applied to frame "
            "2's reference with the I-frame 0 ranges, a wrong but defined output, until the I-frame at 24.",
            keep(range(3, 19)),
        ),
        (
            "y_loss_damaged_kinds",
            "Damaged P-frames of several error classes (E_PADDING, E_TRUNCATED, E_UNIT_SIZE) and a damaged "
            "I-frame range (E_RANGE) are each one concealed_error frame.",
            keep(
                bad={
                    3: dmg.set_padding(fr[3], h) if _has_pad(fr[3], h) else bad_crc(3),
                    9: dmg.truncate(fr[9], h, 2),
                    11: dmg.append_bytes(fr[11], h, b"\x00"),
                    16: dmg.set_f32(fr[16], h, "range_min[0][1]", float("nan"), "E_RANGE", "range_min[0][1]"),
                }
            ),
        ),
        (
            "y_loss_crc_first_i",
            "The first I-frame fails its CRC while the expected counter is still unknown: a +0.0 concealed "
            "frame, then P-frames without reference until the I-frame at 8.",
            keep(bad={0: bad_crc(0)}),
        ),
        (
            "y_loss_header_damaged",
            "A damaged repeat of the header (bad header_crc) is discarded without output.",
            [hd] + fr[:8] + [dmg.flip_crc(hd, None)] + fr[8:],
        ),
    ]
    out = [VectorDef(n, p, C, R, its, mode="resilient") for n, p, its in vs]
    # the first unit a damaged header, then a frame before any header is active: both discarded without output
    h2 = base_header()
    its = [dmg.set_element(HeaderItem(h2), None, "seq_version", 9, "E_VERSION"), fr[0]] + stream(h2, base_q(9, 23))
    # fr[0] is an I-frame written for h; with no header active it is damaged (E_NO_SEQUENCE_HEADER) whatever its syntax
    its[1] = DamagedItem(fr[0].data(h), "E_NO_SEQUENCE_HEADER", 0, "unit_type", UNIT_I_FRAME, [find(fr[0].elements(h), "unit_type")])
    out.append(
        VectorDef(
            "y_loss_no_header_yet",
            "A damaged first header and a frame before any valid header are discarded without output (SPEC 7.3); decoding starts at the next header.",
            C + ["5.5"],
            ["R-40", "R-22", "R-10"],
            its,
            mode="resilient",
        )
    )
    # E_RESIDUAL after a 16-frame wrap, concealed
    hr = base_header(interval=20, frame_crc_flag=True)
    qr = np.full((25, 6), 3, np.int64)
    qr[:3, 0] = 0
    qr[19, 0] = 1  # residual -2 at 19 against 18; applied to q2 = 0 it gives -2
    its = stream(hr, qr, every=20)
    its = its[:4] + its[20:]
    out.append(
        VectorDef(
            "y_loss_residual_error",
            "After an undetected 16-frame loss a residual leaves [0, 2^b - 1]: E_RESIDUAL is concealed like any damaged unit.",
            C + ["6.4"],
            R + ["R-32"],
            its,
            mode="resilient",
        )
    )
    rng = rng_for(24)
    its = [hd]
    for t, f in enumerate(fr):
        r = rng.random_sample()
        if r < 0.15:
            continue
        its.append(bad_crc(t) if r < 0.22 else f)
        if rng.random_sample() < 0.05:
            its.append(ReservedItem(7, b"\x42"))
    out.append(
        VectorDef("y_loss_random", "A random pattern (fixed seed) of lost, damaged and reserved units.", C, R + ["R-11"], its, mode="resilient")
    )
    return out


def _has_pad(item: FrameItem, h: SequenceHeader) -> bool:
    return any(e.name == "alignment_zero_bit" for e in item.elements(h))
