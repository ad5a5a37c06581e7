"""Reference encoder of the Main profile (informative, SPEC 14.7).

The frames are quantized and predicted exactly as in the Baseline encoder (:class:`FcsEncoder`);
only their units differ: consecutive frames are gathered into packet units, a packet starts at
every I-frame, and each packet's payload is range coded with the adaptive state that the decoder
will have (SPEC 14.4, 14.5).
"""

from __future__ import annotations

from itertools import chain

import numpy as np

from ..spec_tables import levels
from .encoder import EncoderConfig, FcsEncoder
from .layout import UNIT_I_FRAME, UNIT_P_FRAME, GroupLayout, SequenceHeader
from .main_profile import MAIN_COUNTER_MODULUS, MAX_PACKET_FRAMES, UNARY_BINS, MainPacket, MainState, encode_payload
from .syntax import FrameUnit, write_unit
from .xdim import coded_from_residuals


def best_rice_parameter(residuals: np.ndarray, max_k: int = 15) -> int:
    """The Rice parameter k (``eg_order`` in the Main profile) that codes the nonzero residuals of one
    dimension in the fewest bits, estimated as the zero-order entropy of the unary prefix plus k
    suffix bits (SPEC 14.7)."""
    m = np.abs(np.asarray(residuals, dtype=np.int64))
    m = m[m > 0] - 1
    if m.size == 0:
        return 0
    best, best_k = None, 0
    for k in range(max_k + 1):
        prefix = np.minimum(m >> k, UNARY_BINS)
        escape = np.maximum((m >> k) - UNARY_BINS, 0)
        counts = np.bincount(prefix)
        p = counts[counts > 0] / m.size
        bits = -(counts[counts > 0] * np.log2(p)).sum() + m.size * k + (2 * np.floor(np.log2(escape + 1)) + 1)[m >> k >= UNARY_BINS].sum()
        if best is None or bits < best:
            best, best_k = bits, k
    return best_k


class MainEncoder(FcsEncoder):
    """Frame-by-frame Main-profile encoder: the units of :class:`FcsEncoder`, gathered into packets.

    A packet is sent when it holds ``config.packet_frames`` frames (0: a whole I-frame period, at
    most 256), when the next I-frame starts a new one, or at :meth:`flush`. The latency is the
    packet's duration: one frame with ``packet_frames=1``.
    """

    def __init__(self, header: SequenceHeader, config: EncoderConfig | None = None):
        super().__init__(header, config)
        if not 0 <= self.config.packet_frames <= MAX_PACKET_FRAMES:
            raise ValueError(f"packet_frames {self.config.packet_frames} must be in 0..{MAX_PACKET_FRAMES}")
        self._state = MainState(header)
        self._pending: list[FrameUnit] = []
        self._momentum = [g.predictor == 1 for g in header.groups for _ in range(g.dims)]
        self._q1: list[int] = []
        self._q2: list[int] | None = None
        self._first_counter = 0
        self._max_unit_bytes = levels()[header.level_idc].max_unit_bytes
        #: coder rng after every frame written so far (the state conformance checks, SPEC 14.6)
        self.final_ranges: list[int] = []

    def _coded(self, residuals: np.ndarray) -> np.ndarray:
        """The previous-frame residuals as they are: :meth:`_predicted` predicts again and codes (R-132, R-225)."""
        return residuals

    def _predicted(self, unit: FrameUnit) -> FrameUnit:
        """The unit with its residuals taken against the Main predictors (SPEC 14.4.2, R-132); the
        Baseline encoder gives residuals against the previous frame."""
        flat = list(chain.from_iterable(unit.values))
        if unit.is_intra:  # the I-frame's values are differences from the intra centers
            self._q1, self._q2 = [v + c for v, c in zip(flat, self._centers, strict=True)], None
            return unit
        q = [a + r for a, r in zip(self._q1, flat, strict=True)]
        pred = list(self._q1)
        if self._q2 is not None:
            for i, (a, b) in enumerate(zip(self._q1, self._q2, strict=True)):
                if self._momentum[i]:
                    pred[i] = a + ((a - b) >> 1)
        self._q2, self._q1 = self._q1, q
        residual = [x - p for x, p in zip(q, pred, strict=True)]
        if self._xdim is not None:  # SPEC 6.4, R-225: the coded values of cross-dimension prediction
            residual = coded_from_residuals(np.array(residual, np.int64), self._xdim).tolist()
        return FrameUnit(unit.unit_type, unit.frame_counter, self._split(residual))

    def _emit(self, unit: FrameUnit) -> list[bytes]:
        out: list[bytes] = []
        unit = self._predicted(unit)
        if unit.is_intra:
            out += self.flush()
            if self.config.repeat_header and self.frame_index > 0:
                out.append(self._header_unit)
        if not self._pending:
            self._first_counter = self.frame_index % MAIN_COUNTER_MODULUS
        self._pending.append(unit)
        limit = self.config.packet_frames or MAX_PACKET_FRAMES
        if len(self._pending) >= limit:
            out += self.flush()
        return out

    def flush(self) -> list[bytes]:
        """The pending frames as packet units (split where one would exceed the level's unit size)."""
        frames, self._pending = self._pending, []
        return self._packets(frames, self._first_counter)

    def _packets(self, frames: list[FrameUnit], counter: int) -> list[bytes]:
        if not frames:
            return []
        snap = self._state.snapshot()
        first = frames[0]
        rows = [list(chain.from_iterable(f.values)) for f in frames]
        payload, ranges = encode_payload(rows, first.is_intra, self._state)
        packet = MainPacket(UNIT_I_FRAME if first.is_intra else UNIT_P_FRAME, counter, len(frames),
                            first.range_update_flag, first.range_updates, payload)
        data = write_unit(packet, self.header)
        if len(data) > self._max_unit_bytes and len(frames) > 1:  # SPEC 4.3, R-21: split in two
            self._state.restore(snap)
            half = len(frames) // 2
            return self._packets(frames[:half], counter) + self._packets(frames[half:], (counter + half) % MAIN_COUNTER_MODULUS)
        self.final_ranges += ranges
        return [data]


def prediction_residuals(q: np.ndarray, intra_interval: int, predictor: int) -> tuple[np.ndarray, np.ndarray]:
    """Residuals of every frame against its prediction (SPEC 14.4.2, R-132) and which frames are P-frames.

    Row t is ``q[t] - pred(t)``; rows of I-frames (t a multiple of the interval) are not residuals.
    """
    q = np.asarray(q, dtype=np.int64)
    pred = np.zeros_like(q)
    pred[1:] = q[:-1]
    since_intra = np.arange(len(q)) % intra_interval
    if predictor == 1 and len(q) > 2:
        momentum = since_intra[2:] >= 2  # the first P-frame after an I-frame has no second reference
        pred[2:] += np.where(momentum[:, None], (q[1:-1] - q[:-2]) >> 1, 0)
    return q - pred, since_intra != 0


def group_choices(q: np.ndarray, intra_interval: int, depth: int, predictor: int) -> GroupLayout:
    """A Main group for the quantized values ``q`` of one group with the given predictor: Rice
    parameters, zero flag and nonzero_init from its residuals (SPEC 14.7); ranges are left empty."""
    full, is_p = prediction_residuals(q, intra_interval, predictor)
    res = full[is_p]
    dims = q.shape[1]
    return GroupLayout(0, depth, [0.0] * dims, [0.0] * dims, [best_rice_parameter(res[:, d]) for d in range(dims)],
                       bool(res.size and dims > 1 and np.mean(np.all(res == 0, axis=1)) >= 0.05),
                       nonzero_init=nonzero_init_indices(q, intra_interval, predictor), predictor=predictor)


def best_predictor(q: np.ndarray, intra_interval: int, depth: int) -> int:
    """The predictor that codes the group in fewer bytes, measured by coding the group alone with
    the Main coder (SPEC 14.7): zero-order entropies mislead where the contexts model what remains."""
    sizes = []
    for predictor in (0, 1):
        grp = group_choices(q, intra_interval, depth, predictor)
        state = MainState(SequenceHeader([grp], profile_idc=1))
        full, _ = prediction_residuals(q, intra_interval, predictor)
        total = 0
        for t in range(0, len(q), intra_interval):
            rows = [q[t].tolist()] + full[t + 1 : t + intra_interval].tolist()
            total += len(encode_payload(rows, True, state)[0])
        sizes.append(total)
    return int(sizes[1] < sizes[0])


def nonzero_init_indices(q: np.ndarray, intra_interval: int, predictor: int = 0) -> list[list[int]]:
    """``nonzero_init`` of every dimension of a group of quantized values ``q`` (SPEC 14.1, 14.7)."""
    return nonzero_init_from(*prediction_residuals(q, intra_interval, predictor))


def nonzero_init_from(r: np.ndarray, is_p: np.ndarray) -> list[list[int]]:
    """``nonzero_init`` from a group's coded residuals [T, dims] (rows of I-frames ignored): for each class c
    of the previous residual, the 4-bit index of the frequency of a zero residual, counted over the
    P-frames whose group residuals are not all zero (those are the frames where the flag is coded)."""
    dims = r.shape[1]
    if r.shape[0] < 2:
        return [[8, 8, 8] for _ in range(dims)]
    r, is_p = r[1:], is_p[1:]
    prev = np.vstack([np.zeros((1, dims), np.int64), r[:-1]])
    prev[~np.concatenate([[False], is_p[:-1]])] = 0  # the first P-frame after an I-frame has no previous residual
    cls = np.minimum(np.abs(prev), 2)
    coded = is_p & np.any(r != 0, axis=1)
    out = []
    for d in range(dims):
        row = []
        for c in range(3):
            sel = coded & (cls[:, d] == c)
            zeros = np.count_nonzero(r[sel, d] == 0)
            p0 = (zeros + 0.5) / (np.count_nonzero(sel) + 1)
            row.append(int(min(max(int(p0 * 16), 0), 15)))
        out.append(row)
    return out
