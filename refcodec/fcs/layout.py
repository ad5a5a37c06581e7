"""In-memory form of the sequence header and its parameter layout (SPEC 5.2)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..quant import dequant_step
from ..spec_tables import arkit52_names, canonical_dims, semantic_name

UNIT_P_FRAME = 0
UNIT_I_FRAME = 1
UNIT_SEQUENCE_HEADER = 2

_AXES = {
    "HEAD_ROTATION": ["x", "y", "z"],
    "HEAD_TRANSLATION": ["x", "y", "z"],
    "JAW": ["x", "y", "z"],
    "NECK": ["x", "y", "z"],
    "EYES": ["left_x", "left_y", "left_z", "right_x", "right_y", "right_z"],
    "EYELIDS": ["left", "right"],
}


@dataclass
class GroupLayout:
    """One parameter group (SPEC 5.2, 5.2.1)."""

    semantic: int
    bit_depth: int
    range_min: list[float]
    range_max: list[float]
    eg_orders: list[int]
    zero_flag_enabled: bool = False
    dim_index: list[int] | None = None
    #: Main profile (SPEC 14.1): per dimension, the 4-bit initial probability index of its three
    #: nonzero-flag contexts; None in a Baseline header
    nonzero_init: list[list[int]] | None = None
    #: Main profile (SPEC 14.1, R-132): 0 predicts a P-frame from the previous frame, 1 adds half the
    #: previous frame's change (momentum)
    predictor: int = 0
    #: SPEC 5.2, R-220 (present when the header's intra_pred_flag is 1): per dimension, the quantized
    #: value I-frames are predicted from, and (Baseline) the order of the sek(v) code of the difference
    intra_centers: list[int] | None = None
    intra_orders: list[int] | None = None
    #: SPEC 5.2.1, R-133 (present when group_nominal_flag is 1): per dimension, whether its range is the
    #: semantic's nominal range (not transmitted) instead of an explicit f32 pair
    nominal: list[bool] | None = None
    #: SPEC 5.2.1, R-224 (present when the header's xdim_pred_flag is 1): per dimension, None or
    #: (xdim_ref_delta, xdim_ref_sign): P-frame residuals coded relative to an earlier dimension's
    xdim: list[tuple[int, int] | None] | None = None

    @property
    def dims(self) -> int:
        """Number of coded dimensions."""
        return len(self.range_min)

    def dim_names(self) -> list[str]:
        """Human-readable names of the coded dimensions, from the semantic registry."""
        sem = semantic_name(self.semantic)
        index = self.dim_index if self.dim_index is not None else list(range(self.dims))
        if sem == "ARKIT52":
            return [arkit52_names()[i] for i in index]
        if sem in _AXES:
            return [f"{sem.lower()}.{_AXES[sem][i]}" for i in index]
        return [f"{sem.lower()}[{i}]" for i in index]

    def canonical_dims(self) -> int:
        """Canonical dimension count of this group's semantic (0 = any)."""
        return canonical_dims(self.semantic)


@dataclass
class SequenceHeader:
    """Sequence header (SPEC 5.2.1)."""

    groups: list[GroupLayout]
    frame_rate_num: int = 30
    frame_rate_den: int = 1
    max_intra_interval: int = 30
    header_crc_flag: bool = False
    frame_crc_flag: bool = False
    avatar_hash: int | None = None
    version: int = 1
    profile_idc: int = 0
    level_idc: int = 10
    #: SPEC 5.2, R-220: I-frames code each value as its difference from the dimension's intra_center
    intra_pred_flag: bool = False
    #: SPEC 7.2, R-223: concealed frames extrapolate the last two decoded frames (1) or hold the last one (0)
    conceal_extrapolate_flag: bool = False
    #: SPEC 5.2.1, R-224: dimensions may code their P-frame residuals relative to an earlier dimension's
    xdim_pred_flag: bool = False
    reserved_bits: int = 0
    group_reserved_bits: list[int] = field(default_factory=list)

    @property
    def total_dims(self) -> int:
        """Sum of the groups' dimension counts."""
        return sum(g.dims for g in self.groups)

    @property
    def frame_rate(self) -> float:
        """Frames per second."""
        return self.frame_rate_num / self.frame_rate_den

    def dim_names(self) -> list[str]:
        """Names of all coded dimensions in layout order."""
        return [n for g in self.groups for n in g.dim_names()]

    def layout_key(self) -> tuple:
        """Everything that makes two headers decode the same way (CRC flags included)."""
        return (
            self.version, self.profile_idc, self.level_idc, self.frame_rate_num,
            self.frame_rate_den, self.max_intra_interval, self.header_crc_flag,
            self.frame_crc_flag, self.avatar_hash, self.intra_pred_flag, self.conceal_extrapolate_flag, self.xdim_pred_flag,
            tuple(
                (g.semantic, g.bit_depth, g.zero_flag_enabled,
                 None if g.dim_index is None else tuple(g.dim_index), tuple(g.eg_orders),
                 tuple(np.float32(g.range_min).view(np.uint32).tolist()),
                 tuple(np.float32(g.range_max).view(np.uint32).tolist()))
                + (() if g.nonzero_init is None else (tuple(map(tuple, g.nonzero_init)), g.predictor))
                + (() if g.intra_centers is None else (tuple(g.intra_centers), tuple(g.intra_orders or ())))
                + (() if g.nominal is None else ("nominal", tuple(g.nominal)))
                + (() if g.xdim is None or not self.xdim_pred_flag else ("xdim", tuple(g.xdim)))
                for g in self.groups
            ),
        )


@dataclass
class ActiveRanges:
    """Ranges in effect for the current I-frame period (SPEC 6.3), as binary32 arrays."""

    range_min: np.ndarray
    range_max: np.ndarray
    step: np.ndarray

    @classmethod
    def from_groups(cls, groups: list[GroupLayout], mins: list[list[float]], maxs: list[list[float]]) -> ActiveRanges:
        """Build flat per-dimension arrays from per-group lists."""
        rmin = np.array([v for m in mins for v in m], dtype=np.float32)
        rmax = np.array([v for m in maxs for v in m], dtype=np.float32)
        depth = np.array([g.bit_depth for g in groups for _ in range(g.dims)], dtype=np.int64)
        return cls(rmin, rmax, dequant_step(rmin, rmax, depth))

    def with_updates(self, groups: list[GroupLayout], updates: dict[int, tuple[list[float], list[float]]]) -> ActiveRanges:
        """SPEC 6.3, R-31: the sequence ranges, replaced group by group by an I-frame's updates."""
        if not updates:
            return self
        mins = [updates[g][0] if g in updates else grp.range_min for g, grp in enumerate(groups)]
        maxs = [updates[g][1] if g in updates else grp.range_max for g, grp in enumerate(groups)]
        return ActiveRanges.from_groups(groups, mins, maxs)
