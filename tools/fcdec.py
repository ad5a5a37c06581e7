"""fcdec: decode a .fcs parameter stream to the canonical dump, npz or CSV."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np

from conformance.error_line import format_error_line
from refcodec.errors import FcError
from refcodec.fcs.decoder import DecodeResult, decode_file, decode_file_partial
from refcodec.fcs.dump import canonical_frame_bytes, md5_lines
from refcodec.spec_tables import semantic_name
from refcodec.track import Track, TrackGroup

from ._cli import EXIT_FC_ERROR_BASE, EXIT_OK, atomic_output, check_output, entry_point, fail, parser, print_json, read_input, usage_error

#: -o suffix -> what is written
DUMP_SUFFIXES = (".f32", ".bin")
TRACK_SUFFIXES = (".npz", ".csv")

DESCRIPTION = """\
Decode a .fcs stream. The output format follows the extension of -o:
  .f32 / .bin  the canonical dump (SPEC 6.6): per frame, the binary32 little-endian values
               in layout order, frames concatenated;
  .npz / .csv  a parameter track with named columns (see docs/track-formats.md).
--md5 prints one MD5 of the canonical dump per frame (the conformance hashes).
By default decoding is strict: the first error stops it. --resilient applies the loss
process of SPEC 7 (damaged frames are concealed) and --report lists what every unit did; a
file that ends inside a unit (truncated) or has a bad unit_size still gives the frames
before it (SPEC 7.3, R-99): they are written, then the error is reported and fcdec exits
with its status.
"""


def header_track(result) -> Track:
    """The decoded frames as a Track with the stream's layout."""
    h = result.header
    groups = [TrackGroup(semantic_name(g.semantic), g.dim_names(), g.dim_index) for g in h.groups]
    return Track(result.matrix().astype(np.float64), groups, (h.frame_rate_num, h.frame_rate_den), source="fcdec")


def _output_kind(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in DUMP_SUFFIXES:
        return "dump"
    if suffix in TRACK_SUFFIXES:
        return "track"
    supported = ", ".join(DUMP_SUFFIXES + TRACK_SUFFIXES)
    raise usage_error("-o", f"cannot tell the output format from {Path(path).name!r}; use one of {supported}")


def _write_output(path: str, kind: str, result: DecodeResult) -> None:
    if kind == "dump":
        with atomic_output(path) as tmp:
            tmp.write_bytes(b"".join(canonical_frame_bytes(f.values) for f in result.frames))
        return
    if result.header is None:
        raise usage_error("-o", f"the stream has no sequence header, so no parameter layout to write as {Path(path).suffix}; "
                                f"use {' or '.join(DUMP_SUFFIXES)} for the canonical dump")
    from refcodec.importers import save_track

    with atomic_output(path) as tmp:
        save_track(header_track(result), tmp, Path(path).suffix.lower().lstrip("."))


@entry_point("fcdec")
def main(argv: list[str] | None = None) -> int:
    """Entry point of ``fcdec``."""
    ap = parser("fcdec", DESCRIPTION)
    ap.add_argument("file", help="input .fcs stream")
    ap.add_argument("-o", "--output", help="output file (.f32/.bin canonical dump, .npz or .csv)")
    ap.add_argument("--md5", action="store_true", help="print one '<md5>  <frame>' line per frame")
    ap.add_argument("--resilient", action="store_true", help="conceal damaged units instead of stopping (SPEC 7.3)")
    ap.add_argument("--report", action="store_true", help="print what each unit did (kind, error class, frames out)")
    ap.add_argument("--json", action="store_true", help="machine-readable summary on stdout")
    ap.add_argument("--error-line", action="store_true",
                    help="on rejection also print 'FCERROR <class> byte=<n> bit=<b> field=<element>' on stderr (conformance/README.md)")
    args = ap.parse_args(argv)
    if args.output:
        check_output(args.output)  # a directory or a missing parent: exit 3 before the suffix is judged
    kind = _output_kind(args.output) if args.output else None
    data = read_input(args.file)
    if args.resilient:
        result = decode_file_partial(data)  # SPEC 7.3, R-99: keep the frames before a framing error
    else:
        try:
            result = decode_file(data)
        except FcError as err:
            status = fail(err, args.json)
            if args.error_line:  # the machine-readable location of the conformance contract (SPEC 4.1, R-105)
                print(format_error_line(err), file=sys.stderr)
            return status
    if args.output:
        _write_output(args.output, kind, result)
    statuses = Counter(f.status.value for f in result.frames)
    if args.md5:
        sys.stdout.write(md5_lines([f.values for f in result.frames]))
    if args.report and not args.json:
        for ev in result.events:
            print(f"unit {ev.unit_index}: {ev.kind}{' ' + ev.error_class if ev.error_class else ''}, {ev.frames_out} frame(s)")
    stopped = result.framing_error
    summary = {
        "ok": stopped is None,
        "frames": len(result.frames),
        "dims": result.header.total_dims if result.header else 0,
        "names": result.header.dim_names() if result.header else [],
        "statuses": dict(statuses),
        "output": args.output,
    }
    if stopped is not None:
        summary["error"] = stopped.to_dict()
    if args.json:
        if args.report:
            summary["units"] = [vars(ev) for ev in result.events]
        print_json(summary)
    elif not args.md5:
        print(f"{summary['frames']} frames x {summary['dims']} dims decoded; status counts {dict(statuses)}"
              + (f"; wrote {args.output}" if args.output else ""))
    if stopped is not None:
        if not args.json:
            print(f"fcdec: error: decoding ended early, after {len(result.frames)} frame(s): {stopped.describe()}", file=sys.stderr)
        return EXIT_FC_ERROR_BASE + stopped.code
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
