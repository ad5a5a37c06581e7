"""fcdec: decode a .fcs parameter stream to the canonical dump, npz or CSV."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from conformance.error_line import format_error_line
from refcodec.errors import FcError
from refcodec.fcs.decoder import decode_file
from refcodec.fcs.dump import canonical_frame_bytes, md5_lines
from refcodec.spec_tables import semantic_name
from refcodec.track import Track, TrackGroup

from ._cli import EXIT_CODES_HELP, EXIT_OK, fail, print_json, read_input

DESCRIPTION = """\
Decode a .fcs stream. The output format follows the extension of -o:
  .f32 / .bin  the canonical dump (SPEC 6.6): per frame, the binary32 little-endian values
               in layout order, frames concatenated;
  .npz / .csv  a parameter track with named columns (see docs/track-formats.md).
--md5 prints one MD5 of the canonical dump per frame (the conformance hashes).
By default decoding is strict: the first error stops it. --resilient applies the loss
process of SPEC 7 (damaged frames are concealed) and --report lists what every unit did.
"""


def header_track(result) -> Track:
    """The decoded frames as a Track with the stream's layout."""
    h = result.header
    groups = [TrackGroup(semantic_name(g.semantic), g.dim_names(), g.dim_index) for g in h.groups]
    return Track(result.matrix().astype(np.float64), groups, (h.frame_rate_num, h.frame_rate_den), source="fcdec")


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``fcdec``."""
    ap = argparse.ArgumentParser(prog="fcdec", description=DESCRIPTION, epilog=EXIT_CODES_HELP,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", help="input .fcs stream")
    ap.add_argument("-o", "--output", help="output file (.f32/.bin canonical dump, .npz or .csv)")
    ap.add_argument("--md5", action="store_true", help="print one '<md5>  <frame>' line per frame")
    ap.add_argument("--resilient", action="store_true", help="conceal damaged units instead of stopping (SPEC 7.3)")
    ap.add_argument("--report", action="store_true", help="print what each unit did (kind, error class, frames out)")
    ap.add_argument("--json", action="store_true", help="machine-readable summary on stdout")
    ap.add_argument("--error-line", action="store_true",
                    help="on rejection also print 'FCERROR <class> byte=<n> bit=<b> field=<element>' on stderr (conformance/README.md)")
    args = ap.parse_args(argv)
    data = read_input(args.file)
    try:
        result = decode_file(data, strict=not args.resilient)
    except FcError as err:
        status = fail(err, args.json)
        if args.error_line:  # the machine-readable location of the conformance contract (SPEC 4.1, R-105)
            print(format_error_line(err), file=sys.stderr)
        return status
    if args.output:
        out = Path(args.output)
        if out.suffix in (".f32", ".bin"):
            out.write_bytes(b"".join(canonical_frame_bytes(f.values) for f in result.frames))
        else:
            from refcodec.importers import save_track

            save_track(header_track(result), out)
    statuses = Counter(f.status.value for f in result.frames)
    if args.md5:
        sys.stdout.write(md5_lines([f.values for f in result.frames]))
    if args.report and not args.json:
        for ev in result.events:
            print(f"unit {ev.unit_index}: {ev.kind}{' ' + ev.error_class if ev.error_class else ''}, {ev.frames_out} frame(s)")
    summary = {
        "ok": True,
        "frames": len(result.frames),
        "dims": result.header.total_dims if result.header else 0,
        "names": result.header.dim_names() if result.header else [],
        "statuses": dict(statuses),
        "output": args.output,
    }
    if args.json:
        if args.report:
            summary["units"] = [vars(ev) for ev in result.events]
        print_json(summary)
    elif not args.md5:
        print(f"{summary['frames']} frames x {summary['dims']} dims decoded; status counts {dict(statuses)}"
              + (f"; wrote {args.output}" if args.output else ""))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
