"""The ``.fca`` half of fcdump: header, section table, elements, attribute statistics.

Positions follow SPEC 4.1: absolute file bytes for the file and section headers and for stored
sections, ``s<index>+<byte>`` (offset in the decompressed payload) inside Zstandard sections.
"""

from __future__ import annotations

import sys

import numpy as np

from refcodec.fca.inspect import ContainerTrace, Element, summarize_container

from ._cli import jsonable

#: Array values shown in the text listing before "first ..." abbreviates them.
TEXT_VALUES = 6
#: Array values given in ``--json`` (``value_complete`` says whether that was all of them).
JSON_VALUES = 64


def _text_of(value: bytes) -> str | None:
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.isprintable() else None


def _value_text(e: Element) -> str:
    value = e.value
    if isinstance(value, bytes):
        text = _text_of(value)
        return text if text is not None else value.hex()
    if isinstance(value, np.ndarray):
        if value.size <= TEXT_VALUES:
            return str(value.tolist())
        return f"[{value.size} x {value.dtype}] first {value[:4].tolist()}"
    return f"{value} (derived)" if e.derived else str(value)


def _line(e: Element, out, full_name: bool = False) -> None:
    raw = e.raw.hex(" ")
    raw = raw if len(raw) <= 35 and e.size == len(e.raw) else raw[:32] + "..."
    name = e.name if full_name else e.short_name  # inside a [section] block the section label is implied
    name = f"{name} ({e.within})" if e.within else name
    out.write(f"{e.position:>12}  {name:<44} {e.descriptor:<13} {raw:<35} = {_value_text(e)}\n")


def _opt(value, fmt: str = "") -> str:
    return "?" if value is None else format(value, fmt)


def _crc_text(ok: bool | None) -> str:
    return "?" if ok is None else ("ok" if ok else "BAD")


def print_container_trace(trace: ContainerTrace, out=None) -> None:
    """trace_headers-style listing: file header, section table, then every element of every section."""
    out = out or sys.stdout
    for e in trace.header:
        _line(e, out, full_name=True)
    out.write("section table:\n")
    out.write(f"  {'#':>3} {'type':<5} {'crit':<4} {'comp':<5} {'stored':>9} {'raw':>9} {'offset':>9}  crc\n")
    for s in trace.sections:
        note = " (skipped: unknown ancillary)" if s.skipped else ""
        crit = "?" if s.critical is None else ("yes" if s.critical else "no")
        out.write(
            f"  {s.index:>3} {_opt(s.type):<5} {crit:<4} {_opt(s.compression):<5} {_opt(s.stored_size):>9} {_opt(s.raw_size):>9} "
            f"{s.file_offset:>9}  {_crc_text(s.crc_ok)} {_opt(s.crc, '#010x')}{note}\n"
        )
    if trace.sections:
        out.write("positions: absolute file bytes; s<i>+<n> = byte n of section i's decompressed Zstandard payload (SPEC 4.1)\n")
    for s in trace.sections:
        named = f" ({', '.join(s.attributes)})" if s.attributes else ""
        out.write(f"[section {s.index}: {_opt(s.type)}{named}, {_opt(s.raw_size)} raw bytes, {_opt(s.compression)}]\n")
        for e in s.elements:
            _line(e, out)
    if trace.attribute_stats:
        out.write("attributes:\n")
        for a in trace.attribute_stats:
            out.write(
                f"  {a['attribute']:<15} {a['sample_bits']:>2} bits{' delta' if a['delta_coded'] else '      '} x {a['channels']} ch  "
                f"{a['bytes_per_gaussian']:.3f} B/Gaussian  "
                f"min {_short(a['min'])} max {_short(a['max'])}\n"
            )
    if trace.error is not None:
        out.write(f"ERROR {trace.error.describe()}\n")


def _short(values: list[float]) -> str:
    shown = ", ".join(f"{v:.4g}" for v in values[:4])
    return f"[{shown}{', ...' if len(values) > 4 else ''}]"


def print_container_summary(summary: dict, out=None) -> None:
    """A table of the sections, totals by type, bytes per Gaussian, the verdict."""
    out = out or sys.stdout
    out.write(f"{summary['file_bytes']} bytes, {summary['sections']} sections, {_opt(summary['gaussians'])} Gaussians\n")
    out.write(f"  {'#':>3}  {'type':<5} {'attributes':<22} {'comp':<5} {'stored':>9} {'raw':>9}  {'crc':<4} {'elements':>8} {'values':>10}\n")
    for r in summary["section_table"]:
        attrs = ", ".join(r["attributes"]) or ("(skipped)" if r["skipped"] else "")
        out.write(
            f"  {r['index']:>3}  {_opt(r['type']):<5} {attrs:<22} {_opt(r['compression']):<5} {_opt(r['stored_bytes']):>9} "
            f"{_opt(r['raw_bytes']):>9}  {_crc_text(r['crc_ok']):<4} {r['elements']:>8} {r['values']:>10}\n"
        )
    out.write("by type (stored bytes include the 20-byte section headers):\n")
    for kind, s in summary["by_type"].items():
        out.write(f"  {kind:<5} x{s['sections']:<3} stored {s['stored_bytes']:>10} B  raw {s['raw_bytes']:>10} B\n")
    if summary["attribute_bytes_per_gaussian"] is not None:
        out.write(f"Gaussian attributes (ATTR): {summary['attribute_bytes_per_gaussian']:.3f} bytes per Gaussian\n")
    if summary["latent_bytes_per_gaussian"] is not None:
        out.write(f"latent-coded attributes (LATN): {summary['latent_bytes_per_gaussian']:.3f} bytes per Gaussian\n")
    if summary["error"]:
        e = summary["error"]
        out.write(f"ERROR {e['error_class']} in {e['field']} at byte {e['byte_offset']} (bit {e['bit_offset']}): {e['message']}\n")
    else:
        out.write("ok\n")


def element_to_json(e: Element) -> dict:
    """An element for ``--json``: its position (SPEC 4.1), size, first raw bytes and value.

    Arrays give their ``count`` and their first :data:`JSON_VALUES` values; ``raw_complete``
    and ``value_complete`` say whether nothing was left out (``offset`` and ``size`` locate
    the rest). Byte strings are given as UTF-8 text when they are valid UTF-8, else as hex.
    """
    doc: dict = {
        "name": e.name,
        "path": e.path,
        "descriptor": e.descriptor,
        "section": e.section,
        "offset": e.offset,
        "file_offset": e.file_offset,
        "position": e.position,
        "size": e.size,
        "raw_hex": e.raw.hex(),
        "raw_complete": len(e.raw) == e.size,
        "derived": e.derived,
    }
    value = e.value
    if isinstance(value, bytes):
        text = _text_of(value)
        doc |= {"value": value.hex() if text is None else text, "value_encoding": "hex" if text is None else "utf-8"}
    elif isinstance(value, np.ndarray):
        shown = value[:JSON_VALUES].tolist()
        doc |= {"count": int(value.size), "dtype": str(value.dtype), "value": shown, "value_complete": value.size <= JSON_VALUES}
    elif hasattr(value, "summary"):  # a derived structure (DEFS connectivity, SPEC 11.5.3): its counts, not its arrays
        doc["value"] = jsonable(value.summary())
    else:
        doc["value"] = jsonable(value)
    return doc


def container_trace_to_json(trace: ContainerTrace) -> dict:
    """The trace as a JSON-ready dict."""
    return {
        "kind": "fca",
        "file_bytes": trace.file_size,
        "header": [element_to_json(e) for e in trace.header],
        "sections": [
            {
                "index": s.index,
                "type": s.type,
                "attributes": s.attributes,
                "critical": s.critical,
                "compression": s.compression,
                "stored_size": s.stored_size,
                "raw_size": s.raw_size,
                "file_offset": s.file_offset,
                "crc": s.crc,
                "crc_ok": s.crc_ok,
                "skipped": s.skipped,
                "elements": [element_to_json(e) for e in s.elements],
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
