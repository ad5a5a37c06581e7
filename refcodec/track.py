"""A parameter track: named per-frame float vectors grouped by semantic (input to fcenc)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .spec_tables import semantic_id


@dataclass
class TrackGroup:
    """One group of a track: its registry semantic, dimension names and optional index map."""

    semantic: str
    names: list[str]
    dim_index: list[int] | None = None

    @property
    def semantic_id(self) -> int:
        """Registry id of the semantic (SPEC 4.2)."""
        return semantic_id(self.semantic)


@dataclass
class Track:
    """Per-frame parameters: ``values[t]`` is frame t in group order.

    Attributes:
        values: float array [frames, dims].
        groups: the groups, whose names concatenate to the columns of ``values``.
        frame_rate: (numerator, denominator).
        source: where the track came from (free text, for reports).
    """

    values: np.ndarray
    groups: list[TrackGroup]
    frame_rate: tuple[int, int] = (30, 1)
    source: str = ""
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=np.float64)
        if self.values.ndim != 2:
            raise ValueError(f"track values must be [frames, dims], got shape {self.values.shape}")
        dims = sum(len(g.names) for g in self.groups)
        if dims != self.values.shape[1]:
            raise ValueError(f"groups name {dims} dimensions but values have {self.values.shape[1]}")
        if not np.all(np.isfinite(self.values)):
            raise ValueError("track values contain NaN or infinity")

    @property
    def names(self) -> list[str]:
        """All column names in order."""
        return [n for g in self.groups for n in g.names]

    @property
    def frames(self) -> int:
        """Number of frames."""
        return self.values.shape[0]

    def group_slices(self) -> list[slice]:
        """Column slice of each group."""
        out, start = [], 0
        for g in self.groups:
            out.append(slice(start, start + len(g.names)))
            start += len(g.names)
        return out

    def select(self, keep: dict[int, list[int]]) -> Track:
        """Keep only the given dimension indices of some groups (others kept whole)."""
        cols, groups = [], []
        for gi, (g, sl) in enumerate(zip(self.groups, self.group_slices(), strict=True)):
            idx = keep.get(gi, list(range(len(g.names))))
            if not idx:
                continue
            base = g.dim_index if g.dim_index is not None else list(range(len(g.names)))
            cols.extend(sl.start + i for i in idx)
            groups.append(TrackGroup(g.semantic, [g.names[i] for i in idx],
                                     None if len(idx) == len(g.names) and g.dim_index is None else [base[i] for i in idx]))
        return Track(self.values[:, cols], groups, self.frame_rate, self.source, list(self.notes))
