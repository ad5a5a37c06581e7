"""The whole container suite: every vector definition, in the fixed order of generation."""

from __future__ import annotations

from .clarity import clarity_vectors
from .definitions import ContainerDef
from .reading import reading_vectors
from .subdivided import subdivision_vectors
from .vectors import bound_vectors, channel_ref_vectors, coding_vectors, coverage_vectors, delta_vectors, invalid_vectors, valid_vectors


def all_container_defs() -> list[ContainerDef]:
    """Every container vector, in a fixed order."""
    return (
        valid_vectors() + invalid_vectors() + bound_vectors() + reading_vectors()
        + coding_vectors() + delta_vectors() + channel_ref_vectors() + coverage_vectors() + clarity_vectors() + subdivision_vectors()
    )
