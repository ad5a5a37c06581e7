"""Branch coverage of the stream parser and decoder by the conformance suite alone.

``python -m conformance.branch_coverage`` runs every stream vector through the reference
decoder in process under coverage.py (``branch=True``), restricted to the parsing and decoding
code (refcodec/bitio.py, refcodec/fcs/syntax.py, decoder.py, storage.py), and writes
conformance/branch_coverage.json: per file and in total, the statements, the branches, what
the suite leaves unexercised, and the percentages. Coverage starts before refcodec is
imported, so module-level lines count as run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MEASURED = ["refcodec/bitio.py", "refcodec/fcs/syntax.py", "refcodec/fcs/decoder.py", "refcodec/fcs/storage.py"]


#: Code of the measured files that decoding never runs: the writer half of the shared syntax
#: declarations and helpers used only by encoders and tools. Excluded for the "decoding paths"
#: figure (coverage.py exclusion regexes; a matching block opener excludes the whole block).
WRITER_ONLY = [
    r"class BitWriter\b",
    r"class _EgCodeStrings\b",
    r"^_EG_CODES = ",
    r"def code_num_from_signed\(",
    r"def bits_from_f32\(",
    r"def write_unit\(",
    r"def write_file\(",
    r"def read_units\(",
    r"def matrix\(",
    r"elif len\(h\.group_reserved_bits\) != num_groups:",
    r"else:  # a writer's missing zero flags",
]
#: Branch lines whose other arm only a writer takes.
WRITER_ARMS = [r"\bif io\.reading:", r"\belif io\.reading:"]


def _summarise(raw: dict) -> dict:
    files = {}
    for path, info in sorted(raw["files"].items()):
        rel = Path(path).resolve().relative_to(ROOT).as_posix()
        s = info["summary"]
        files[rel] = {
            "statements": s["num_statements"],
            "missing_statements": s["missing_lines"],
            "branches": s["num_branches"],
            "covered_branches": s["covered_branches"],
            "branch_percent": round(100.0 * s["covered_branches"] / s["num_branches"], 2) if s["num_branches"] else 100.0,
            "percent_statements_and_branches": round(s["percent_covered"], 2),
            "missing_lines": info["missing_lines"],
            "missing_branch_arcs": [f"{a}->{b}" for a, b in info.get("missing_branches", [])],
        }
    t = raw["totals"]
    return {
        "total": {
            "statements": t["num_statements"],
            "missing_statements": t["missing_lines"],
            "branches": t["num_branches"],
            "covered_branches": t["covered_branches"],
            "branch_percent": round(100.0 * t["covered_branches"] / t["num_branches"], 2),
            "percent_statements_and_branches": round(t["percent_covered"], 2),
        },
        "files": files,
    }


def _json_report(cov) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cov.json"
        cov.json_report(outfile=str(out))
        return json.loads(out.read_text())


def measure() -> dict:
    """Run the stream vectors under coverage and return the summary."""
    import coverage

    cov = coverage.Coverage(branch=True, data_file=None, include=[str(ROOT / p) for p in MEASURED])
    cov.start()
    try:
        from .adapters import reference_adapter
        from .cards import load_suite
        from .runner import run_suite, summary

        vectors = [v for v in load_suite(ROOT / "conformance" / "vectors") if v.card["kind"] == "fcs"]
        results = run_suite(vectors, reference_adapter)
    finally:
        cov.stop()
    whole = _summarise(_json_report(cov))
    for pattern in WRITER_ONLY:
        cov.exclude(pattern)
    for pattern in WRITER_ARMS:
        cov.exclude(pattern, which="partial")
    decoding = _summarise(_json_report(cov))
    return {
        "command": "python -m conformance.branch_coverage",
        "vectors": len(vectors),
        "suite_all_pass": summary(results)["all_pass"],
        "measured_files": MEASURED,
        "decoding_paths": decoding | {"excluded_writer_only": WRITER_ONLY, "writer_arms_not_counted": WRITER_ARMS},
        "whole_files": whole,
    }


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m conformance.branch_coverage [--output FILE]``."""
    ap = argparse.ArgumentParser(
        prog="python -m conformance.branch_coverage", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--output", type=Path, default=HERE / "branch_coverage.json", help="JSON report to write")
    args = ap.parse_args(argv)
    if "refcodec" in sys.modules:
        print("error: refcodec was imported before coverage started", file=sys.stderr)
        return 2
    report = measure()
    args.output.write_text(json.dumps(report, indent=1) + "\n")
    for label, key in (("decoding paths", "decoding_paths"), ("whole files (writer included)", "whole_files")):
        t = report[key]["total"]
        print(
            f"{label}: {t['covered_branches']}/{t['branches']} branches = {t['branch_percent']}%, "
            f"statements+branches {t['percent_statements_and_branches']}%"
        )
    print(f"({report['vectors']} vectors; report {args.output})")
    return 0 if report["suite_all_pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
