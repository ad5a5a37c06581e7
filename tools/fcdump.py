"""fcdump: show every syntax element of a FaceCodec stream, like FFmpeg's trace_headers."""

from __future__ import annotations

import argparse
import signal
import sys

from refcodec.fca.inspect import trace_container
from refcodec.fca.syntax import SIGNATURE as FCA_SIGNATURE
from refcodec.fcs.inspect import FileTrace, summarize, trace_file
from refcodec.fcs.storage import FCS_SIGNATURE

from ._cli import EXIT_FC_ERROR_BASE, EXIT_OK, entry_point, int_range, jsonable, parser, print_json, read_input
from .fcdump_fca import container_trace_to_json, print_container_summary, print_container_trace, summary_of

DESCRIPTION = """\
Print every syntax element of a .fcs parameter stream (its absolute bit offset, its name
with subscripts ([group][dimension]), its raw bits and its value) or of a .fca avatar
container (header; section table with type, critical flag, compression, stored/raw bytes and
CRC verdict; every element of every section with its byte offset, written s<i>+<n> for byte n
of section i's decompressed payload when the section is Zstandard-compressed; attribute
statistics). Every element is recorded by the parser as it reads it.
On malformed input, everything up to the error is printed, then the error class, the field
and its offset.
"""

EPILOG = """\
examples:
  fcdump talk.fcs                 full trace
  fcdump talk.fcs --summary       frames by type, bits per group and type, kbit/s
  fcdump talk.fcs --json          the trace as JSON (one object per element)
  fcdump talk.fcs --max-units 3   only the first three units
  fcdump head.fca                 container: header, sections, elements, attribute statistics
  fcdump head.fca --summary       container: one row per section (attributes, sizes, CRC), bytes per Gaussian
"""


def _value_text(value: object) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


def print_trace(trace: FileTrace, max_units: int | None, out=None) -> None:
    """Human-readable trace in trace_headers style."""
    out = out or sys.stdout
    width = 44
    framing = iter(trace.file_entries)  # fcs_signature, then unit_size[i] before unit i (SPEC 5.5)
    pending = next(framing, None)

    def line(e):
        bits = e.bits if len(e.bits) <= 40 else e.bits[:37] + "..."
        out.write(f"{e.bit_offset:>10}  {e.name:<{width}} {bits:>40} = {_value_text(e.value)}\n")

    if pending is not None and pending.name == "fcs_signature":
        line(pending)
        pending = next(framing, None)
    shown = trace.units[: max_units if max_units is not None else None]
    for ut in shown:
        out.write(f"[unit {ut.index}: {ut.kind}, {ut.size} bytes at byte {ut.byte_offset}]\n")
        while pending is not None and pending.bit_offset < 8 * ut.byte_offset:
            line(pending)
            pending = next(framing, None)
        for e in ut.entries:
            line(e)
        for f, name, value, rng, cost in ut.bins:  # Main profile: the payload's elements with the coder state (SPEC 14.4)
            kind = ut.frame_types[f] if ut.frame_types else "?"
            out.write(f"{'':>10}  {f'frame {f} ({kind}) ' + name:<{width}} {f'rng={rng:08x} {cost:6.2f} bits':>40} = {value}\n")
    if len(shown) == len(trace.units):  # a unit_size that was read but rejected
        while pending is not None:
            line(pending)
            pending = next(framing, None)
    if trace.error is not None:
        err = trace.error
        out.write(f"ERROR {err.error_class} in {err.field or '?'} at byte {err.byte_offset} (bit {err.bit_offset}): {err.message}\n")


def print_summary(summary: dict, out=None) -> None:
    """Human-readable summary."""
    out = out or sys.stdout
    s = summary
    out.write(f"units {s['units']}, frames {s['frames']} {s['frames_by_type']}\n")
    if s["frame_rate"]:
        out.write(f"frame rate {s['frame_rate']:.3f} fps, duration {s['duration_s']:.3f} s, "
                  f"{s['total_bytes']} bytes, {s['kbit_per_s'] or 0:.3f} kbit/s\n")
    total = s["total_bytes"] * 8
    out.write("bits by category:\n")
    for cat, bits in sorted(s["bits_by_category"].items(), key=lambda kv: -kv[1]):
        out.write(f"  {cat:<18} {bits:>10}  {100 * bits / total:6.2f} %\n")
    for kind, mean in s["mean_bits_per_frame_by_type"].items():
        out.write(f"mean bits per {kind}-frame: {mean:.1f}\n")
    out.write("payload bits by group:\n")
    for g in s["groups"]:
        out.write(f"  group {g['group']} {g['semantic']} ({g['dims']} dims): I {g['bits_I']:g}, P {g['bits_P']:g}, "
                  f"{g['bits_per_frame']:.1f} bits/frame\n")
    if s["error"]:
        e = s["error"]
        out.write(f"ERROR {e['error_class']} in {e['field']} at byte {e['byte_offset']} (bit {e['bit_offset']}): {e['message']}\n")


def trace_to_json(trace: FileTrace) -> dict:
    """The trace as a JSON-ready dict."""
    units = []
    for ut in trace.units:
        units.append({
            "index": ut.index, "kind": ut.kind, "byte_offset": ut.byte_offset, "size": ut.size,
            "elements": [{"bit_offset": e.bit_offset, "name": e.name, "descriptor": e.descriptor, "bits": e.bits,
                          "value": jsonable(e.value)} for e in ut.entries],
        })
        if ut.bins:  # Main profile (SPEC 14.4): payload elements with the coder's rng and their cost in bits
            units[-1]["frame_types"] = ut.frame_types
            units[-1]["payload_elements"] = [{"frame": f, "name": n, "value": v, "rng": r, "bits": round(c, 3)} for f, n, v, r, c in ut.bins]
    return {
        "file_elements": [{"bit_offset": e.bit_offset, "name": e.name, "descriptor": e.descriptor, "bits": e.bits,
                           "value": jsonable(e.value)} for e in trace.file_entries],
        "units": units,
        "ok": trace.error is None,
        "error": None if trace.error is None else trace.error.to_dict(),
    }


@entry_point("fcdump")
def main(argv: list[str] | None = None) -> int:
    """Entry point of ``fcdump``."""
    ap = parser("fcdump", DESCRIPTION, EPILOG)
    ap.add_argument("file", help="a .fcs parameter stream or a .fca avatar container (told apart by the signature)")
    ap.add_argument("--summary", action="store_true", help="print the bit accounting instead of every element")
    ap.add_argument("--json", action="store_true", help="machine-readable output")
    ap.add_argument("--max-units", type=int_range(0), default=None, metavar="N", help="trace only the first N units")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `fcdump x | head` ends quietly
    data = read_input(args.file)
    if data[:4] != FCS_SIGNATURE and data[:4] == FCA_SIGNATURE:
        return _dump_container(data, args)
    trace = trace_file(data)
    if args.summary:
        summary = summarize(trace)
        print_json(summary) if args.json else print_summary(summary)
    elif args.json:
        print_json(trace_to_json(trace))
    else:
        print_trace(trace, args.max_units)
    return EXIT_OK if trace.error is None else EXIT_FC_ERROR_BASE + trace.error.code


def _dump_container(data: bytes, args: argparse.Namespace) -> int:
    """SPEC chapter 11: header, section table with CRC verdicts, every element, attribute statistics."""
    trace = trace_container(data)
    if args.summary:
        summary = summary_of(trace)
        print_json(summary) if args.json else print_container_summary(summary)
    elif args.json:
        print_json(container_trace_to_json(trace))
    else:
        print_container_trace(trace)
    return EXIT_OK if trace.error is None else EXIT_FC_ERROR_BASE + trace.error.code


if __name__ == "__main__":
    sys.exit(main())
