"""fcconform: run a decoder against the FaceCodec conformance vectors and report per vector."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from conformance.adapters import CommandAdapter, reference_adapter
from conformance.cards import load_suite
from conformance.paths import SUITE
from conformance.runner import run_suite, select, summary

from ._cli import EXIT_IO, EXIT_OK, entry_point, float_range, int_range, parser, print_json

EXIT_SOME_FAIL = 1
EXIT_USAGE = 2

DESCRIPTION = """\
Run a decoder on the conformance vectors (conformance/vectors/stream/*.json and
conformance/vectors/container/*.json cards) and compare its answers with the cards. By default
the reference decoders run in process. With --decoder, an external command is run once per
vector (see conformance/README.md, "The CLI contract"):
  {input}   the vector file;
  {output}  the file to write the canonical dump to (without it, the dump is read from stdout);
            ignored when the decoder rejects the input;
  {mode}    strict or resilient (SPEC 8.1); --resilient-decoder gives another template for
            resilient-mode vectors;
  {kind}    fcs or fca: the vector's format (do not guess it from the bytes).
The decoder exits 0 after writing the dump, or 16 + the error code of spec/errors.toml when it
rejects the input; it may then print "FCERROR <class> byte=<n> bit=<b> field=<element>" on
stderr, and the runner compares that location with the card (a note, or a failure with
--strict-location). Example:
  fcconform --decoder 'fcdec --error-line {input} -o {output}' --resilient-decoder 'fcdec --error-line --resilient {input} -o {output}'
"""

EPILOG = "fcconform's own statuses: 0 every selected vector passes; 1 some vector fails; 2 also when no vector is selected; 3 suite not found."


@entry_point("fcconform")
def main(argv: list[str] | None = None) -> int:
    """Entry point of ``fcconform``."""
    ap = parser("fcconform", DESCRIPTION, EPILOG)
    ap.add_argument("--suite", type=Path, default=SUITE, help="suite directory (default: the project's conformance/vectors)")
    ap.add_argument("--decoder", help="external decoder command template (default: the reference decoder, in process)")
    ap.add_argument("--resilient-decoder", help="template for resilient-mode vectors (default: --decoder)")
    ap.add_argument("--filter", action="append", metavar="GLOB", help="only vectors whose name matches (repeatable), e.g. 'n_crc*'")
    ap.add_argument("--kind", action="append", choices=["fcs", "fca"], help="only vectors of this kind (repeatable)")
    ap.add_argument("--timeout", type=float_range(0.0, lo_open=True), default=10.0, help="seconds per vector for an external decoder (default 10)")
    ap.add_argument("--jobs", type=int_range(1), default=1, help="vectors run in parallel (default 1)")
    ap.add_argument("--json", action="store_true", help="machine-readable report on stdout")
    ap.add_argument("-q", "--quiet", action="store_true", help="print only failures and the summary")
    ap.add_argument(
        "--strict-location",
        action="store_true",
        help="a rejection located elsewhere than the card says (R-105; from an FCERROR line) fails instead of passing with a note",
    )
    args = ap.parse_args(argv)
    if args.resilient_decoder and not args.decoder:
        ap.error("--resilient-decoder needs --decoder")
    if not args.suite.is_dir():
        print(f"fcconform: error: {args.suite}: suite directory not found", file=sys.stderr)
        return EXIT_IO
    vectors = [v for v in select(load_suite(args.suite), args.filter) if not args.kind or v.card["kind"] in args.kind]
    if not vectors:
        print("error: no vector selected", file=sys.stderr)
        return EXIT_USAGE
    if args.decoder:

        def adapter_for(kind: str):  # one adapter per vector kind: fills {kind}
            return CommandAdapter(args.decoder, args.resilient_decoder, kind)
    else:
        adapter_for = reference_adapter
    t0 = time.perf_counter()
    results = run_suite(vectors, adapter_for, args.timeout, args.jobs, args.strict_location)
    stats = summary(results) | {"seconds": round(time.perf_counter() - t0, 3), "decoder": args.decoder or "reference (in process)"}
    if args.json:
        print_json({"summary": stats, "vectors": [r.to_dict() for r in results]})
    else:
        for r in results:
            if args.quiet and r.result == "pass":
                continue
            line = f"{r.result.upper():13s} {r.name}: {r.detail}"
            print(line + "".join(f"\n              note: {n}" for n in r.notes))
        print(
            f"{stats['total']} vectors: {stats['pass']} pass, {stats['fail']} fail, {stats['wrong_verdict']} wrong verdict, "
            f"{stats['crash']} crash, {stats['timeout']} timeout ({stats['seconds']:.1f} s)"
        )
    return EXIT_OK if stats["all_pass"] else EXIT_SOME_FAIL


if __name__ == "__main__":
    sys.exit(main())
