"""What a container decoder must hold after decoding, bounded by the level (SPEC 11.9, R-91, R-92).

The level's byte limits bound the stored and raw payloads; the limits here bound what decoding
them produces: decoded values (a one-byte sample becomes a binary32 value), TEXT entries, and
the activations of every network (Gaussians x widest layer) and the work of the latent decoders
(Gaussians x weights). A
:class:`DecodeBudget` keeps the running totals over one container; :class:`Counted` charges an
array's length before the array is read or allocated.
"""

from __future__ import annotations

from dataclasses import dataclass

from construct import Subconstruct, evaluate, stream_tell

from ..errors import E_LEVEL, FcError
from ..spec_tables import ContainerLevel
from .constructs import BASE, WHERE, subscripts

#: Construct parameter holding the container's :class:`DecodeBudget` (absent: nothing is charged).
BUDGET = "budget"


@dataclass
class DecodeBudget:
    """Running totals of one container against its level's decode limits (SPEC 11.9, R-91)."""

    level: ContainerLevel
    decoded_values: int = 0
    text_entries: int = 0
    latent_macs: int = 0
    widest_activations: int = 0  # the largest Gaussians x layer width seen (a maximum, not a sum)

    def charge(self, limit: str, amount: int) -> str | None:
        """Add ``amount`` to the total that ``limit`` bounds; a message when it goes over, else None."""
        total_name = {"max_decoded_values": "decoded_values", "max_text_entries": "text_entries", "max_latent_macs": "latent_macs"}[limit]
        total = getattr(self, total_name) + amount
        setattr(self, total_name, total)
        cap = getattr(self.level, limit)
        return None if total <= cap else f"{total_name.replace('_', ' ')} reach {total}, over the level's {limit} {cap}"

    def activations(self, amount: int) -> str | None:
        """Check one layer's Gaussians x width against max_activations (SPEC 11.9, R-91)."""
        self.widest_activations = max(self.widest_activations, amount)
        cap = self.level.max_activations
        return None if amount <= cap else f"Gaussians x layer width is {amount}, over the level's max_activations {cap}"


def budget_of(context) -> DecodeBudget | None:
    """The budget among the parse parameters, or None (a lone payload parsed outside a container)."""
    params = context.get("_params") if hasattr(context, "get") else None
    return None if params is None else params.get(BUDGET)


def level_error(message: str, context, path: str, pos: int) -> FcError:
    """E_LEVEL for the element at ``path`` (its name and subscripts) at stream position ``pos``."""
    params = context.get("_params") or {}
    where, base = params.get(WHERE, ""), params.get(BASE, 0)
    name = path.rsplit("->", 1)[-1].strip() + subscripts(context)
    return E_LEVEL(message, field=f"{where}.{name}" if where else name, bit_offset=8 * (base + pos))


class Counted(Subconstruct):
    """An array element whose length ``count`` is charged to ``max_decoded_values`` before it is read.

    SPEC 11.9, R-91: every value of a ``planes(n)``, ``f32planes(n)`` or ``f16planes(n)`` counts.
    """

    def __init__(self, subcon, count):
        super().__init__(subcon)
        self.count = count

    def _parse(self, stream, context, path):
        budget = budget_of(context)
        if budget is not None:
            pos = stream_tell(stream, path)
            why = budget.charge("max_decoded_values", int(evaluate(self.count, context)))
            if why:
                raise level_error(why, context, path, pos)
        return self.subcon._parsereport(stream, context, path)

    def _build(self, obj, stream, context, path):
        return self.subcon._build(obj, stream, context, path)

    def _sizeof(self, context, path):
        return self.subcon._sizeof(context, path)
