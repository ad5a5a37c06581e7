"""Stream inspection: a full syntax-element trace of a ``.fcs`` file and its bit accounting.

Used by ``fcdump`` and by the stream benchmark, so both count bits the same way.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ..bitio import TraceEntry
from ..errors import FcError
from ..spec_tables import levels, max_unit_bytes_any_level, semantic_name
from .layout import SequenceHeader
from .main_profile import MainPacket, MainState, decode_payload
from .storage import iter_units
from .syntax import FrameUnit, ReservedUnit, read_unit


@dataclass
class UnitTrace:
    """Trace of one unit: where it is, what it is, and its elements."""

    index: int
    byte_offset: int
    size: int
    kind: str  # "sequence_header", "I", "P", "reserved", "error"
    entries: list[TraceEntry] = field(default_factory=list)
    #: Main profile (SPEC 14): the type of each frame of the packet, and its payload's elements as
    #: (frame, element, value, coder rng after it, cost in bits from the coder state)
    frame_types: list[str] = field(default_factory=list)
    bins: list[tuple[int, str, int, int, float]] = field(default_factory=list)


@dataclass
class FileTrace:
    """Trace of a whole file; ``error`` is set when parsing stopped early."""

    file_entries: list[TraceEntry]
    units: list[UnitTrace]
    header: SequenceHeader | None
    total_bytes: int
    error: FcError | None = None


def trace_file(data: bytes) -> FileTrace:
    """Parse ``data`` in strict mode, recording every syntax element.

    Never raises an FcError: a malformed file gives a partial trace and ``error``.
    """
    file_entries: list[TraceEntry] = []
    units: list[UnitTrace] = []
    result = FileTrace(file_entries, units, None, len(data))
    header: SequenceHeader | None = None
    state: MainState | None = None  # the Main profile's adaptive state, from the first I packet on
    started = False
    limit = [max_unit_bytes_any_level()]
    try:
        # the storage framing (fcs_signature, unit_size[i]) is traced by the reader that parses it
        for stored in iter_units(data, lambda: limit[0], trace=file_entries):
            ut = UnitTrace(stored.index, stored.byte_offset, len(stored.data), "error")
            units.append(ut)
            unit = read_unit(stored.data, header, stored.byte_offset * 8, ut.entries)
            if isinstance(unit, SequenceHeader):
                ut.kind = "sequence_header"
                header = unit
                limit[0] = levels()[header.level_idc].max_unit_bytes
            elif isinstance(unit, ReservedUnit):
                ut.kind = "reserved"
            elif isinstance(unit, FrameUnit):
                ut.kind = "I" if unit.is_intra else "P"
            elif isinstance(unit, MainPacket):
                ut.kind = "I" if unit.is_intra else "P"
                state = state if state is not None and state.dims == header.total_dims else MainState(header)
                if unit.is_intra or started:
                    started = True
                    ut.bins = _payload_bins(unit, state)
                ut.frame_types = ["I" if f == 0 and unit.is_intra else "P" for f in range(unit.frame_count)]
    except FcError as err:
        result.error = err
    result.header = header
    return result


def _payload_bins(packet: MainPacket, state: MainState) -> list[tuple[int, str, int, int, float]]:
    """The elements of a packet's payload with the coder's rng after each and its cost in bits: the
    growth of ``8 * bytes read - log2(rng)``, the code length the coder has committed to (SPEC 14.3)."""
    raw: list = []
    decode_payload(packet, state, raw)
    out, before = [], 32.0 - math.log2(0xFFFFFFFF)
    for f, name, value, rng, pos in raw:
        now = 8 * pos - math.log2(rng)
        out.append((f, name, value, rng, now - before))
        before = now
    return out


_GROUP_RE = re.compile(r"^[a-z_]+\[(\d+)\]")
HEADER_ELEMENTS = {"unit_type", "frame_counter", "range_update_flag", "group_zero_flag", "range_update_group_flag", "frame_count_minus1"}


def _category(unit_kind: str, name: str) -> str:
    base = name.split("[")[0]
    if unit_kind == "sequence_header":
        return "sequence_header"
    if base in ("fcs_signature", "unit_size"):
        return "storage_framing"
    if base in HEADER_ELEMENTS:
        return "unit_header"
    if base == "alignment_zero_bit":
        return "alignment"
    if base in ("frame_crc", "header_crc"):
        return "crc"
    if base in ("range_min", "range_max"):
        return "range_update"
    return "payload"


def summarize(trace: FileTrace) -> dict:
    """Bit accounting of a traced file (frames by type, bits by category, group and type)."""
    by_category: Counter[str] = Counter()
    by_type: Counter[str] = Counter()
    frames_by_type: Counter[str] = Counter()
    by_group: dict[int, Counter[str]] = defaultdict(Counter)
    for e in trace.file_entries:
        by_category[_category("", e.name)] += len(e.bits)
    for ut in trace.units:
        if ut.frame_types:  # a Main packet: its frames, and the payload's bits by frame type and group
            for t in ut.frame_types:
                frames_by_type[t] += 1
            for f, name, _, _, cost in ut.bins:
                by_type[ut.frame_types[f]] += cost
                if m := _GROUP_RE.match(name):
                    by_group[int(m.group(1))][ut.frame_types[f]] += cost
        else:
            frames_by_type[ut.kind] += 1
        for e in ut.entries:
            n = len(e.bits)
            cat = _category(ut.kind, e.name)
            by_category[cat] += n
            if not (ut.bins and e.name == "packet_payload"):  # a Main payload is counted by its elements above
                by_type[ut.kind] += n
            if cat == "payload" and (m := _GROUP_RE.match(e.name)):
                by_group[int(m.group(1))][ut.kind] += n
    header = trace.header
    frames = frames_by_type["I"] + frames_by_type["P"]
    total_bits = trace.total_bytes * 8
    seconds = frames / header.frame_rate if header and frames else 0.0
    groups = []
    for g, counts in sorted(by_group.items()):
        grp = header.groups[g] if header and g < len(header.groups) else None
        groups.append({
            "group": g,
            "semantic": None if grp is None else semantic_name(grp.semantic),
            "dims": None if grp is None else grp.dims,
            "bits_I": round(counts["I"], 1),
            "bits_P": round(counts["P"], 1),
            "bits_per_frame": (counts["I"] + counts["P"]) / frames if frames else 0.0,
        })
    return {
        "units": len(trace.units),
        "frames": frames,
        "frames_by_type": dict(frames_by_type),
        "frame_rate": None if header is None else header.frame_rate,
        "duration_s": seconds,
        "total_bytes": trace.total_bytes,
        "kbit_per_s": total_bits / seconds / 1000 if seconds else None,
        "bits_by_category": dict(by_category),
        "bits_by_unit_type": dict(by_type),
        "mean_bits_per_frame_by_type": {k: by_type[k] / frames_by_type[k] for k in ("I", "P") if frames_by_type[k]},
        "groups": groups,
        "overhead_bits": sum(by_category[c] for c in ("storage_framing", "unit_header", "alignment", "crc", "sequence_header")),
        "error": None if trace.error is None else trace.error.to_dict(),
    }
