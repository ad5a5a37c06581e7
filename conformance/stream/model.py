"""Expected outputs of a stream script: a model of SPEC 6 (decoding) and SPEC 7 (loss).

This is the suite's second implementation of the decoding process. It works on the script
(what the encoder put in each unit), not on the bytes, and computes each output frame with the
binary32 formula of SPEC 6.5, one rounded numpy float32 operation at a time. The reference
decoder under test never contributes to an expected value.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from refcodec.fcs.layout import UNIT_I_FRAME, UNIT_SEQUENCE_HEADER, SequenceHeader

from .script import DamagedItem, FrameItem, HeaderItem, Item, ReservedItem
from .syntax import find, layout_key

# SPEC 7.2 frame statuses
DECODED = "decoded"
CONCEALED_GAP = "concealed_gap"
CONCEALED_ERROR = "concealed_error"
CONCEALED_NO_REFERENCE = "concealed_no_reference"


def dequantize_f32(q: np.ndarray, rmin: np.ndarray, rmax: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """SPEC 6.5, R-30: ``step = f32(f32(max - min) / f32(2^b - 1))``, ``x = f32(min + f32(f32(q) * step))``.

    Each numpy float32 ufunc below is one IEEE 754 binary32 operation rounded to nearest even,
    with subnormals kept (R-05); nothing is fused.
    """
    rmin = np.asarray(rmin, dtype=np.float32)
    rmax = np.asarray(rmax, dtype=np.float32)
    levels = np.array([float((1 << int(b)) - 1) for b in depth], dtype=np.float32)  # exact, b <= 16
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        step = np.divide(np.subtract(rmax, rmin, dtype=np.float32), levels, dtype=np.float32)
        prod = np.multiply(np.asarray(q, dtype=np.int64).astype(np.float32), step, dtype=np.float32)
        return np.add(rmin, prod, dtype=np.float32)


def frame_md5(values: np.ndarray) -> str:
    """MD5 of a frame's canonical dump (SPEC 6.6, R-34): binary32 little-endian, layout order."""
    return hashlib.md5(np.asarray(values, dtype="<f4").tobytes()).hexdigest()


@dataclass
class ExpectedFrame:
    """One output frame: SPEC 7.2 status and the binary32 vector."""

    status: str
    values: np.ndarray
    unit_index: int | None


@dataclass
class ExpectedError:
    """Where a strict decoder stops (SPEC 4.1, R-07): class, unit, unit-relative bit, element."""

    error_class: str
    unit_index: int | None
    unit_bit: int | None
    field: str
    file_bit: int | None = None  # for framing errors (SPEC 5.5): the absolute bit offset


@dataclass
class Outcome:
    """Everything the model predicts for one decode of a script."""

    frames: list[ExpectedFrame] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    error: ExpectedError | None = None
    elements: set[tuple[str, str]] = field(default_factory=set)


class _State:
    def __init__(self) -> None:
        self.header: SequenceHeader | None = None
        self.key: tuple | None = None
        self.seq_min = self.seq_max = self.min = self.max = None
        self.depth: np.ndarray | None = None
        self.ref: np.ndarray | None = None
        self.last: np.ndarray | None = None
        self.expected: int | None = None
        self.q1: np.ndarray | None = None  # SPEC 7.2, R-223: the extrapolation pair
        self.q2: np.ndarray | None = None
        self.prev_decoded = False

    def held(self) -> np.ndarray:
        """A concealed frame: SPEC 7.2, R-223 (extrapolation, when the header asks and the pair
        exists), else R-41 (the last good vector, or N zeros (+0.0))."""
        self.prev_decoded = False
        if self.header.conceal_extrapolate_flag and self.q2 is not None:
            top = np.array([(1 << int(b)) - 1 for b in self.depth], np.int64)
            qc = np.minimum(np.maximum(2 * self.q1 - self.q2, 0), top)
            return dequantize_f32(qc, self.min, self.max, self.depth)
        return self.last.copy() if self.last is not None else np.zeros(len(self.depth), np.float32)

    def decoded(self, q: np.ndarray, intra: bool) -> None:
        """R-223: the pair after a decoded frame."""
        self.q2 = self.q1 if (self.prev_decoded and not intra) else None
        self.q1 = q
        self.prev_decoded = True

    def activate(self, h: SequenceHeader, key: tuple) -> None:
        """SPEC 6.1, R-23: a different header resets everything; the same one changes nothing."""
        if key == self.key:
            return
        self.header, self.key = h, key
        self.seq_min = np.array([v for g in h.groups for v in g.range_min], np.float32)
        self.seq_max = np.array([v for g in h.groups for v in g.range_max], np.float32)
        self.min, self.max = self.seq_min, self.seq_max
        self.depth = np.array([g.bit_depth for g in h.groups for _ in range(g.dims)], np.int64)
        self.ref = self.last = self.expected = None
        self.q1 = self.q2 = None
        self.prev_decoded = False
        self.centers = (np.array([c for g in h.groups for c in g.intra_centers], np.int64) if h.intra_pred_flag else None)


def _unit_type(item: Item) -> int | None:
    """What the unit_type of a unit reads as (None: unreadable)."""
    if isinstance(item, HeaderItem):
        return UNIT_SEQUENCE_HEADER
    if isinstance(item, FrameItem):
        return item.frame.unit_type
    return item.unit_type


def _flat(values: list[list[int]]) -> np.ndarray:
    return np.array([v for grp in values for v in grp], dtype=np.int64)


def run_model(items: list[Item], strict: bool) -> Outcome:
    """Decode ``items`` as SPEC 5.5, 6 and 7 prescribe, in strict or resilient mode (SPEC 8.1)."""
    out = Outcome()
    st = _State()
    out.elements |= {("fcs_file", "fcs_signature")}
    for i, item in enumerate(items):
        out.elements.add(("fcs_file", "unit_size"))
        if i == 0 and strict:  # SPEC 5.5, R-20: the first unit is a sequence header
            if _unit_type(item) not in (None, UNIT_SEQUENCE_HEADER):
                out.elements.add(("unit", "unit_type"))  # read to find out
                out.error = ExpectedError("E_NO_SEQUENCE_HEADER", 0, 0, "unit_type")
                return out
        if isinstance(item, HeaderItem):
            els = item.elements()
            out.elements |= {(e.structure, e.base_name) for e in els}
            st.activate(item.header, layout_key(els))
            out.events.append({"unit_index": i, "kind": "sequence_header", "error_class": None, "frames_out": 0})
        elif isinstance(item, ReservedItem):
            out.elements.add(("unit", "unit_type"))  # SPEC 5.1, R-11: skipped, no state change
            out.events.append({"unit_index": i, "kind": "reserved", "error_class": None, "frames_out": 0})
        elif isinstance(item, DamagedItem):
            out.elements |= {(e.structure, e.base_name) for e in item.parsed}
            if not _damaged(out, st, i, item.error_class, item.unit_type, strict, ExpectedError(item.error_class, i, item.bit_offset, item.field)):
                return out
        elif st.header is None:  # a frame without a header (resilient mode only reaches here)
            if not _damaged(
                out, st, i, "E_NO_SEQUENCE_HEADER", item.frame.unit_type, strict, ExpectedError("E_NO_SEQUENCE_HEADER", i, 0, "unit_type")
            ):
                return out
        else:
            if not _frame(out, st, i, item, strict):
                return out
    return out


def _damaged(out: Outcome, st: _State, i: int, cls: str, unit_type: int | None, strict: bool, err: ExpectedError) -> bool:
    """SPEC 7.3, R-40 (resilient) or R-45 (strict). Returns False when decoding stops."""
    if strict:
        out.error = err
        return False
    if st.header is None or unit_type == UNIT_SEQUENCE_HEADER:
        out.events.append({"unit_index": i, "kind": "error", "error_class": cls, "frames_out": 0})
        return True
    out.frames.append(ExpectedFrame(CONCEALED_ERROR, st.held(), i))
    st.ref = None
    if st.expected is not None:
        st.expected = (st.expected + 1) % 16
    out.events.append({"unit_index": i, "kind": "error", "error_class": cls, "frames_out": 1})
    return True


def _frame(out: Outcome, st: _State, i: int, item: FrameItem, strict: bool) -> bool:
    f = item.frame
    els = item.elements(st.header)
    new: list[ExpectedFrame] = []
    flat = _flat(f.values)
    if f.unit_type == UNIT_I_FRAME:  # SPEC 6.4, R-33, R-221: checked before the gap is handled
        q = flat if st.centers is None else st.centers + flat
        error = _out_of_range(q, st, els, "intra_residual", i)
        if error:
            out.elements |= {(e.structure, e.base_name) for e in els}
            return _damaged(out, st, i, "E_RESIDUAL", f.unit_type, strict, error)
    if st.expected is not None:  # SPEC 7.1, R-42
        gap = (f.frame_counter - st.expected) % 16
        if gap:
            new += [ExpectedFrame(CONCEALED_GAP, st.held(), None) for _ in range(gap)]
            st.ref = None
    kind = "I" if f.unit_type == UNIT_I_FRAME else "P"
    if f.unit_type == UNIT_I_FRAME:  # SPEC 6.3, R-31
        st.min, st.max = st.seq_min.copy(), st.seq_max.copy()
        pos = 0
        for g, grp in enumerate(st.header.groups):
            if f.range_update_flag and g in f.range_updates:
                st.min[pos : pos + grp.dims] = np.float32(f.range_updates[g][0])
                st.max[pos : pos + grp.dims] = np.float32(f.range_updates[g][1])
            pos += grp.dims
    elif st.ref is None:  # SPEC 7.2, R-43
        new.append(ExpectedFrame(CONCEALED_NO_REFERENCE, st.held(), i))
        st.expected = (f.frame_counter + 1) % 16
        out.elements |= {(e.structure, e.base_name) for e in els}
        out.frames += new
        out.events.append({"unit_index": i, "kind": kind, "error_class": None, "frames_out": len(new)})
        return True
    else:  # SPEC 6.4, R-32, R-225: coded values relative to earlier dimensions first
        q = st.ref + xdim_residuals(st.header, flat)
        error = _out_of_range(q, st, els, "residual", i)
        if error:
            out.elements |= {(e.structure, e.base_name) for e in els}
            return _damaged(out, st, i, "E_RESIDUAL", f.unit_type, strict, error)
    out.elements |= {(e.structure, e.base_name) for e in els}
    values = dequantize_f32(q, st.min, st.max, st.depth)
    new.append(ExpectedFrame(DECODED, values, i))
    st.ref, st.last, st.expected = q, values, (f.frame_counter + 1) % 16
    st.decoded(q, f.unit_type == UNIT_I_FRAME)
    out.frames += new
    out.events.append({"unit_index": i, "kind": kind, "error_class": None, "frames_out": len(new)})
    return True


def xdim_residuals(h, coded) -> np.ndarray:
    """SPEC 5.2.1, R-224 and 6.4, R-225: residual j = coded j + (-1)^xdim_ref_sign x residual (j - 1 - xdim_ref_delta),
    dimension by dimension in layout order (an earlier dimension's residual is final when it is used)."""
    r = [int(v) for v in coded]
    if h.xdim_pred_flag:
        j = 0
        for grp in h.groups:
            for d in range(grp.dims):
                ref = grp.xdim[d]
                if ref is not None:
                    r[j] += (-1 if ref[1] else 1) * r[j - 1 - ref[0]]
                j += 1
    return np.array(r, np.int64)


def _out_of_range(q: np.ndarray, st: _State, els: list, element: str, unit: int) -> ExpectedError | None:
    """SPEC 6.4, R-32 / R-221: E_RESIDUAL at the coded element of the first value outside [0, 2^b - 1], or None."""
    bad = np.flatnonzero((q < 0) | (q > (1 << st.depth) - 1))
    if not bad.size:
        return None
    g, d = _group_dim(st.header, int(bad[0]))
    name = f"{element}[{g}][{d}]"
    return ExpectedError("E_RESIDUAL", unit, find(els, name).offset, name)


def _group_dim(h: SequenceHeader, flat: int) -> tuple[int, int]:
    for g, grp in enumerate(h.groups):
        if flat < grp.dims:
            return g, flat
        flat -= grp.dims
    raise IndexError(flat)
