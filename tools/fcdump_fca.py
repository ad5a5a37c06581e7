"""The ``.fca`` half of fcdump: header, section table, elements, attribute statistics."""

from __future__ import annotations

import sys

from refcodec.fca.inspect import ContainerTrace, Element, summarize_container

from ._cli import jsonable


def _line(e: Element, where: str, out) -> None:
    raw = e.raw.hex(" ")
    raw = raw if len(raw) <= 35 else raw[:32] + "..."
    out.write(f"{where:>12}  {e.name:<44} {e.descriptor:<13} {raw:<35} = {e.value}\n")


def print_container_trace(trace: ContainerTrace, out=None) -> None:
    """trace_headers-style listing. Payload offsets are ``s<index>+<byte>`` within the raw
    (decompressed) payload; header offsets are absolute file bytes."""
    out = out or sys.stdout
    for e in trace.header:
        _line(e, str(e.offset), out)
    out.write("section table:\n")
    out.write(f"  {'#':>3} {'type':<5} {'crit':<4} {'comp':<5} {'stored':>9} {'raw':>9} {'offset':>9}  crc\n")
    for s in trace.sections:
        verdict = "ok" if s.crc_ok else "BAD"
        note = " (skipped: unknown ancillary)" if s.skipped else ""
        out.write(
            f"  {s.index:>3} {s.type:<5} {'yes' if s.critical else 'no':<4} {s.compression:<5} {s.stored_size:>9} {s.raw_size:>9} "
            f"{s.file_offset:>9}  {verdict} 0x{s.crc:08x}{note}\n"
        )
    for s in trace.sections:
        out.write(f"[section {s.index}: {s.type}, {s.raw_size} raw bytes, {s.compression}]\n")
        for e in s.elements:
            where = str(e.offset) if e.name.startswith("section_header.") else f"s{s.index}+{e.offset}"
            _line(e, where, out)
    if trace.attribute_stats:
        out.write("attributes:\n")
        for a in trace.attribute_stats:
            out.write(
                f"  {a['attribute']:<15} {a['q_bits']:>2} bits x {a['channels']} ch  {a['bytes_per_gaussian']:.3f} B/Gaussian  "
                f"min {_short(a['min'])} max {_short(a['max'])}\n"
            )
    if trace.error is not None:
        err = trace.error
        out.write(f"ERROR {err.error_class} in {err.field or '?'} at byte {err.byte_offset} (bit {err.bit_offset}): {err.message}\n")


def _short(values: list[float]) -> str:
    shown = ", ".join(f"{v:.4g}" for v in values[:4])
    return f"[{shown}{', ...' if len(values) > 4 else ''}]"


def print_container_summary(summary: dict, out=None) -> None:
    """Sizes by section type, bytes per Gaussian, verdict."""
    out = out or sys.stdout
    out.write(f"{summary['file_bytes']} bytes, {summary['sections']} sections, {summary['gaussians']} Gaussians\n")
    for kind, s in summary["by_type"].items():
        out.write(f"  {kind:<5} x{s['sections']:<3} stored {s['stored_bytes']:>10} B  raw {s['raw_bytes']:>10} B\n")
    if summary["attribute_bytes_per_gaussian"] is not None:
        out.write(f"Gaussian attributes: {summary['attribute_bytes_per_gaussian']:.3f} bytes per Gaussian\n")
    if summary["error"]:
        e = summary["error"]
        out.write(f"ERROR {e['error_class']} in {e['field']} at byte {e['byte_offset']} (bit {e['bit_offset']}): {e['message']}\n")


def container_trace_to_json(trace: ContainerTrace) -> dict:
    """The trace as a JSON-ready dict."""

    def elements(items: list[Element]) -> list[dict]:
        return [{"offset": e.offset, "name": e.name, "descriptor": e.descriptor, "raw_hex": e.raw.hex(), "value": jsonable(e.value)} for e in items]

    return {
        "kind": "fca",
        "file_bytes": trace.file_size,
        "header": elements(trace.header),
        "sections": [
            {
                "index": s.index,
                "type": s.type,
                "critical": s.critical,
                "compression": s.compression,
                "stored_size": s.stored_size,
                "raw_size": s.raw_size,
                "file_offset": s.file_offset,
                "crc": s.crc,
                "crc_ok": s.crc_ok,
                "skipped": s.skipped,
                "elements": elements(s.elements),
            }
            for s in trace.sections
        ],
        "attributes": trace.attribute_stats,
        "ok": trace.error is None,
        "error": None if trace.error is None else trace.error.to_dict(),
    }


def summary_of(trace: ContainerTrace) -> dict:
    """Alias used by fcdump --summary."""
    return summarize_container(trace)
