"""Reference FCS encoder (informative process, SPEC 9).

The encoder quantizes each frame with the ranges in effect, sends an I-frame at least every
``intra_interval`` frames and otherwise the residual against the previous quantized vector.
Its choices (ranges, Exp-Golomb orders, zero flags) are made from the data where a whole
track is available (:func:`build_header`), and it can run frame by frame as a live sender.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..quant import quantize
from ..spec_tables import levels, nominal_range
from ..track import Track
from .layout import UNIT_I_FRAME, UNIT_P_FRAME, ActiveRanges, GroupLayout, SequenceHeader
from .main_profile import MAIN_PROFILE_IDC
from .storage import write_file
from .syntax import FRAME_COUNTER_MODULUS, FrameUnit, write_unit
from .xdim import choose_references, coded_from_residuals, flat_references, header_references

MAX_EG_ORDER = 15


@dataclass
class EncoderConfig:
    """Encoder choices that do not live in the layout.

    Attributes:
        intra_interval: frames from one I-frame to the next (<= max_intra_interval).
        repeat_header: send the sequence header again before every I-frame (random access).
        range_update: recompute ranges per I-frame period and send them as range updates.
        packet_frames: Main profile only (SPEC 14.2): most frames per packet unit; 0 packs each
            I-frame period into one unit (up to 256 frames), 1 sends every frame at once (live).
    """

    intra_interval: int = 30
    repeat_header: bool = False
    range_update: bool = False
    packet_frames: int = 0


def f32_floor(x: np.ndarray) -> np.ndarray:
    """Largest binary32 values <= x (so a range never excludes the data)."""
    f = np.asarray(x, dtype=np.float64).astype(np.float32)
    return np.where(f.astype(np.float64) > x, np.nextafter(f, np.float32(-np.inf)), f)


def f32_ceil(x: np.ndarray) -> np.ndarray:
    """Smallest binary32 values >= x."""
    f = np.asarray(x, dtype=np.float64).astype(np.float32)
    return np.where(f.astype(np.float64) < x, np.nextafter(f, np.float32(np.inf)), f)


def data_ranges(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column binary32 [min, max] covering ``values`` (SPEC 9.1)."""
    return f32_floor(values.min(axis=0)), f32_ceil(values.max(axis=0))


def expgolomb_bits(residuals: np.ndarray, k: int) -> np.ndarray:
    """Length in bits of sek(v) codes of order k for an integer array (SPEC 3.2)."""
    r = np.asarray(residuals, dtype=np.int64)
    code = np.where(r > 0, 2 * r - 1, -2 * r)
    x = code + (1 << k)
    length = np.floor(np.log2(x)).astype(np.int64) + 1
    return 2 * length - 1 - k


def best_eg_order(residuals: np.ndarray) -> int:
    """The order k that codes ``residuals`` in the fewest bits (SPEC 9.2)."""
    if residuals.size == 0:
        return 0
    costs = [int(expgolomb_bits(residuals, k).sum()) for k in range(MAX_EG_ORDER + 1)]
    return int(np.argmin(costs))


def choose_level(num_groups: int, total_dims: int, frame_rate: float, unit_bytes: int = 0) -> int:
    """Smallest level whose limits hold the layout (SPEC 4.3)."""
    for idc, lv in sorted(levels().items()):
        if (num_groups <= lv.max_groups and total_dims <= lv.max_total_dims
                and frame_rate <= lv.max_frame_rate and unit_bytes <= lv.max_unit_bytes):
            return idc
    raise ValueError(f"no level holds {num_groups} groups, {total_dims} dims at {frame_rate} fps")


def build_header(
    track: Track,
    bit_depths: int | list[int] = 8,
    intra_interval: int = 30,
    ranges: tuple[np.ndarray, np.ndarray] | None = None,
    eg_orders: str | int = "auto",
    zero_flags: str | bool = "auto",
    header_crc: bool = False,
    frame_crc: bool = False,
    avatar_hash: int | None = None,
    level_idc: int | None = None,
    profile_idc: int = 0,
    intra_pred: bool = False,
    conceal_extrapolate: bool = False,
    xdim: bool = False,
) -> SequenceHeader:
    """Choose a sequence header for a whole track (SPEC 9.1, 9.2).

    Args:
        bit_depths: one depth for every group, or one per group.
        ranges: per-column (min, max); default: the data's own range.
        eg_orders: ``"auto"`` picks the cheapest order per dimension from the data,
            an integer forces one order everywhere.
        zero_flags: ``"auto"`` enables the all-zero group flag where it saves bits.
        profile_idc: 0 (Baseline) or 1 (Main, SPEC 14: ``eg_orders`` are then Rice parameters).
        intra_pred: code I-frames by intra prediction (SPEC 5.2.1, R-220): each dimension's center
            is the median of its quantized values, its order (Baseline) the cheapest for the differences.
        conceal_extrapolate: ask decoders to conceal by extrapolation (SPEC 7.2, R-223).
        xdim: let dimensions code their P-frame residuals relative to an earlier dimension's where that
            saves bits (SPEC 5.2.1, R-224, R-225; the references are chosen from the track, SPEC 9.5).
    """
    depths = [bit_depths] * len(track.groups) if isinstance(bit_depths, int) else list(bit_depths)
    if len(depths) != len(track.groups):
        raise ValueError(f"{len(depths)} bit depths given for {len(track.groups)} groups")
    rmin, rmax = data_ranges(track.values) if ranges is None else (
        f32_floor(np.asarray(ranges[0], dtype=np.float64)), f32_ceil(np.asarray(ranges[1], dtype=np.float64)))
    from .main_encoder import best_predictor, best_rice_parameter, nonzero_init_from, prediction_residuals

    groups: list[GroupLayout] = []
    quantized, full = [], []  # per group: quantized values, residual of every frame against its prediction
    is_p = np.zeros(track.frames, bool)
    for g, (tg, sl) in enumerate(zip(track.groups, track.group_slices(), strict=True)):
        if not 1 <= depths[g] <= 16:
            raise ValueError(f"bit depth {depths[g]} of group {g} is outside 1..16")
        grp = GroupLayout(tg.semantic_id, depths[g], rmin[sl].tolist(), rmax[sl].tolist(), [0] * len(tg.names),
                          dim_index=None if tg.dim_index is None else list(tg.dim_index))
        ar = ActiveRanges.from_groups([grp], [grp.range_min], [grp.range_max])
        q = quantize(track.values[:, sl], ar.range_min, ar.step, depths[g])
        if profile_idc == MAIN_PROFILE_IDC:  # SPEC 14.7: the predictor first; the residuals the coder sees follow it
            grp.predictor = best_predictor(q, intra_interval, depths[g])
        r, is_p = prediction_residuals(q, intra_interval, grp.predictor)  # predictor 0: the previous frame (SPEC 6.4)
        quantized.append(q)
        full.append(r)
        groups.append(grp)
    refs = None
    if xdim and track.frames:  # SPEC 9.5: references where a dimension's residuals follow an earlier one's
        all_residuals = np.concatenate(full, axis=1)
        refs = choose_references(all_residuals[is_p])
        if any(ref is not None for ref in refs):
            coded = coded_from_residuals(all_residuals, refs)
            bounds = np.cumsum([0] + [grp.dims for grp in groups])
            full = [coded[:, a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
            fields = header_references(refs)
            for grp, a, b in zip(groups, bounds[:-1], bounds[1:], strict=True):
                grp.xdim = fields[a:b]
        else:
            refs = None
    for g, grp in enumerate(groups):
        q, res = quantized[g], full[g][is_p]
        if eg_orders == "auto" and profile_idc == MAIN_PROFILE_IDC:
            grp.eg_orders = [best_rice_parameter(res[:, d]) for d in range(res.shape[1])]
        elif eg_orders == "auto":
            grp.eg_orders = [best_eg_order(res[:, d]) for d in range(res.shape[1])]
        else:
            grp.eg_orders = [int(eg_orders)] * grp.dims
        if zero_flags == "auto" and profile_idc == MAIN_PROFILE_IDC:
            # SPEC 14.7: an adaptive flag costs little; it pays where whole-group zeros are common
            grp.zero_flag_enabled = bool(res.size and grp.dims > 1 and np.mean(np.all(res == 0, axis=1)) >= 0.05)
        elif zero_flags == "auto":
            bits = sum(expgolomb_bits(res[:, d], grp.eg_orders[d]) for d in range(res.shape[1])) if res.size else np.zeros(0)
            all_zero = np.all(res == 0, axis=1) if res.size else np.zeros(0, bool)
            grp.zero_flag_enabled = bool(np.sum(bits[all_zero]) > res.shape[0])
        else:
            grp.zero_flag_enabled = bool(zero_flags)
        if profile_idc == MAIN_PROFILE_IDC:
            grp.nonzero_init = nonzero_init_from(full[g], is_p)
        if intra_pred:  # SPEC 9.3: the median is the center that minimises the mean absolute difference
            grp.intra_centers = [int(c) for c in np.floor(np.median(q, axis=0) + 0.5).astype(np.int64)]
            diffs = q - np.asarray(grp.intra_centers, np.int64)
            grp.intra_orders = None if profile_idc == MAIN_PROFILE_IDC else [best_eg_order(diffs[:, d]) for d in range(grp.dims)]
        grp.nominal = nominal_flags(grp)
    total = sum(g.dims for g in groups)
    num, den = track.frame_rate
    if level_idc is None:
        worst_unit = 64 + total * (33 + 80) // 8  # generous bound on any unit, SPEC 4.3
        level_idc = choose_level(len(groups), total, num / den, min(worst_unit, max(lv.max_unit_bytes for lv in levels().values())))
    return SequenceHeader(
        groups=groups, frame_rate_num=num, frame_rate_den=den, max_intra_interval=intra_interval,
        header_crc_flag=header_crc, frame_crc_flag=frame_crc, avatar_hash=avatar_hash, level_idc=level_idc,
        profile_idc=profile_idc, intra_pred_flag=intra_pred, conceal_extrapolate_flag=conceal_extrapolate,
        xdim_pred_flag=refs is not None,
    )


def nominal_flags(grp: GroupLayout) -> list[bool] | None:
    """SPEC 5.2.1, R-133: which dimensions send no range because theirs is the semantic's nominal range
    (bit for bit), or None when the flags would cost more than the 64 bits a dimension saves."""
    nominal = nominal_range(grp.semantic)
    if nominal is None:
        return None
    lo, hi = (np.float32(v).view(np.uint32) for v in nominal)
    flags = [bool(np.float32(a).view(np.uint32) == lo and np.float32(b).view(np.uint32) == hi)
             for a, b in zip(grp.range_min, grp.range_max, strict=True)]
    return flags if 64 * sum(flags) > grp.dims else None


class FcsEncoder:
    """Frame-by-frame encoder producing units (SPEC 9).

    Call :meth:`header_unit` once, then :meth:`encode_frame` per frame (a live sender) or
    :meth:`encode_frames` per block of frames (a whole track: the same units, with the
    quantization and prediction done on whole arrays); each call returns the units to send
    (a repeated sequence header, if configured, before an I-frame, then the frame units).
    The header must not be changed after the encoder is made.
    """

    def __init__(self, header: SequenceHeader, config: EncoderConfig | None = None):
        self.header = header
        self.config = config or EncoderConfig(intra_interval=header.max_intra_interval)
        if not 1 <= self.config.intra_interval <= header.max_intra_interval:
            raise ValueError(f"intra_interval {self.config.intra_interval} must be in 1..{header.max_intra_interval}")
        self._depth = np.array([g.bit_depth for g in header.groups for _ in range(g.dims)], dtype=np.int64)
        self._seq_ranges = ActiveRanges.from_groups(header.groups, [g.range_min for g in header.groups],
                                                    [g.range_max for g in header.groups])
        self._ranges = self._seq_ranges
        self._ref: np.ndarray | None = None
        self.frame_index = 0
        self._since_intra = 0
        bounds = np.cumsum([0] + [g.dims for g in header.groups]).tolist()
        self._bounds = list(zip(bounds[:-1], bounds[1:], strict=True))
        self._zero_flag = [g.zero_flag_enabled for g in header.groups]
        #: SPEC 5.2.1, R-220: I-frames code the difference from these (zeros without intra prediction)
        self._centers = [c for g in header.groups for c in g.intra_centers] if header.intra_pred_flag else [0] * header.total_dims
        #: SPEC 5.2.1, R-224: P-frames code residuals relative to earlier dimensions' (None: as they are)
        self._xdim = flat_references(header) if header.xdim_pred_flag else None
        self._header_unit = write_unit(header)

    def header_unit(self) -> bytes:
        """The sequence header unit."""
        return self._header_unit

    def _split(self, row: list[int]) -> list[list[int]]:
        """One layout-order row as per-group lists."""
        return [row[a:b] for a, b in self._bounds]

    def encode_frame(
        self,
        x: np.ndarray,
        force_intra: bool = False,
        range_update: dict[int, tuple[list[float], list[float]]] | None = None,
    ) -> list[bytes]:
        """Encode one parameter vector (layout order); returns the units to send.

        ``range_update`` (group -> (mins, maxs)) forces an I-frame carrying those ranges.
        """
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (self.header.total_dims,):
            raise ValueError(f"frame has shape {x.shape}, layout needs ({self.header.total_dims},)")
        return self.encode_frames(x[None, :], {0: range_update} if range_update is not None else None, force_intra)

    def encode_frames(
        self,
        values: np.ndarray,
        range_updates: dict[int, dict[int, tuple[list[float], list[float]]]] | None = None,
        force_intra: bool = False,
    ) -> list[bytes]:
        """Encode the rows of ``values`` [frames, dims] as consecutive frames.

        Gives the same units as calling :meth:`encode_frame` once per row. ``range_updates``
        maps a row index to that row's range update; ``force_intra`` applies to the first row.
        """
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != self.header.total_dims:
            raise ValueError(f"frames have shape {values.shape}, layout needs (n, {self.header.total_dims})")
        updates_at = range_updates or {}
        interval = self.config.intra_interval
        units: list[bytes] = []
        t = 0
        while t < len(values):
            # frames t .. end-1 share the ranges in effect: an I-frame (if one is due) then P-frames
            intra = ((force_intra and t == 0) or t in updates_at or self._ref is None or self._since_intra >= interval)
            updates = {}
            if intra:
                updates = {g: ([float(v) for v in f32_floor(np.asarray(m, np.float64))], [float(v) for v in f32_ceil(np.asarray(M, np.float64))])
                           for g, (m, M) in (updates_at.get(t) or {}).items()}
                self._ranges = self._seq_ranges.with_updates(self.header.groups, updates)
            end = min([len(values), t + interval - (0 if intra else self._since_intra)] + [u for u in updates_at if u > t])
            q = quantize(values[t:end], self._ranges.range_min, self._ranges.step, self._depth)
            # prediction (SPEC 6.2): each P-frame codes the difference to the previous quantized vector
            prev = q[:1] if intra else self._ref[None, :]
            rows = q.tolist()
            residuals = self._coded(np.diff(np.concatenate([prev, q]), axis=0)).tolist()
            for i in range(end - t):
                counter = self.frame_index % FRAME_COUNTER_MODULUS
                if intra and i == 0:
                    coded = [v - c for v, c in zip(rows[0], self._centers, strict=True)]
                    unit = FrameUnit(UNIT_I_FRAME, counter, self._split(coded), range_update_flag=bool(updates), range_updates=updates)
                    self._since_intra = 0
                else:
                    residual = self._split(residuals[i])
                    zero = [flag and not any(r) for flag, r in zip(self._zero_flag, residual, strict=True)]
                    unit = FrameUnit(UNIT_P_FRAME, counter, residual, zero_groups=zero)
                units.extend(self._emit(unit))
                self._since_intra += 1
                self.frame_index += 1
            self._ref = q[-1]
            t = end
        return units

    def _coded(self, residuals: np.ndarray) -> np.ndarray:
        """The values P-frames code for these residuals [frames, dims] (SPEC 6.4, R-225)."""
        return residuals if self._xdim is None else coded_from_residuals(residuals, self._xdim)

    def _emit(self, unit: FrameUnit) -> list[bytes]:
        """The units one coded frame gives: a repeated sequence header if due, then the frame unit."""
        out = []
        if unit.is_intra and self.config.repeat_header and self.frame_index > 0:
            out.append(self._header_unit)
        out.append(write_unit(unit, self.header))
        return out

    def flush(self) -> list[bytes]:
        """Units still held back at the end of the stream (none here; Main packets may hold frames)."""
        return []


def make_encoder(header: SequenceHeader, config: EncoderConfig | None = None) -> FcsEncoder:
    """The encoder of the header's profile: Baseline (SPEC 5) or Main (SPEC 14)."""
    if header.profile_idc == MAIN_PROFILE_IDC:
        from .main_encoder import MainEncoder

        return MainEncoder(header, config)
    return FcsEncoder(header, config)


def encode_track(track: Track, header: SequenceHeader, config: EncoderConfig | None = None) -> bytes:
    """Encode a whole track into a ``.fcs`` file (SPEC 5.5)."""
    enc = make_encoder(header, config)
    interval = enc.config.intra_interval
    updates = {}
    if enc.config.range_update:
        for t in range(0, track.frames, interval):
            gop = track.values[t : t + interval]
            updates[t] = {g: (gop[:, sl].min(axis=0).tolist(), gop[:, sl].max(axis=0).tolist()) for g, sl in enumerate(track.group_slices())}
    return write_file([enc.header_unit()] + enc.encode_frames(track.values, updates) + enc.flush())
