"""Branch coverage of the reference reading code by the conformance suite alone.

``python -m conformance.branch_coverage`` measures two halves, each in its own Python process
so that one half's vectors (or imports) never count for the other:

- stream: every stream vector through the reference decoder in process, over
  refcodec/bitio.py and refcodec/fcs/{syntax,decoder,storage}.py;
- container: every container vector through ``refcodec.fca.container.read_container`` and
  ``refcodec.fca.dump.canonical_dump`` (the exact tier; no neural evaluation, no renders), over
  refcodec/fca/{container,syntax,constructs,compression,quantized,dump}.py.

Each half runs under coverage.py (``branch=True``) started before refcodec is imported, so
module-level lines count as run, and reports two figures: the reading paths (writer-only code
excluded, and branches no input can reach, each listed with its reason) and the whole files.
The result is conformance/branch_coverage.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STREAM_FILES = ["refcodec/bitio.py", "refcodec/fcs/syntax.py", "refcodec/fcs/decoder.py", "refcodec/fcs/storage.py",
                "refcodec/fcs/main_profile.py", "refcodec/fcs/rangecoder.py"]
CONTAINER_FILES = [
    "refcodec/fca/container.py",
    "refcodec/fca/syntax.py",
    "refcodec/fca/constructs.py",
    "refcodec/fca/compression.py",
    "refcodec/fca/quantized.py",
    "refcodec/fca/dump.py",
]


#: Code of the stream files that decoding never runs: the writer half of the shared syntax
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
    # the Main profile's encoder half (SPEC 14.3.3) and its helpers
    r"class RangeEncoder\b",
    r"def encode_payload\(",
    r"def _encode_i_frame\(",
    r"def _encode_p_frame\(",
    r"def _encode_escape\(",
    r"def snapshot\(",
    r"def restore\(",
    r"else:  # a writer's payload bytes",
    r"else:  # a writer's nonzero_init",
    r"else:  # a writer's intra centers",
]
#: Branch lines whose other arm only a writer takes.
WRITER_ARMS = [r"\bif io\.reading:", r"\belif io\.reading:"]
#: Blocks that record fcdump's trace of the storage framing (storage.py), which decoding never asks for.
TRACE_ONLY = [r"^\s+if trace is not None:$", r"def _byte_entry\(", r"def _payload_entry\(", r"^\s+if io\.trace is not None:$"]
#: Stream decoding code that no input reaches, or that the suite's decoder (decode_file) does not call; each with its reason.
STREAM_NOT_REACHED = {
    r"if self\.trace is not None:  # fcdump's trace: ": "bitio.py BitReader.f32: a decoder traces only the P-frame it re-reads for "
    "E_RESIDUAL's location, and range pairs (the only f32) are in I-frames; fcdump's trace is not decoding",
    r"def se\(self, name: str, value: int \| None = None\) -> int:": "bitio.py se(v): no stream syntax element uses se(v) (sek(v) is used); "
    "tests/test_bitio.py checks it",
    r"raise IndexError\(flat_index\)  # unreachable": "decoder.py _group_dim: an E_RESIDUAL index is below the header's total dims",
    r"def decode_file_partial\(": "decoder.py: fcdec's R-99 partial output; the suite's adapter calls decode_file (a rejection has no output)",
}

CONTAINER_WRITER_ONLY = {
    r"def write_container\(": "container.py: the reference writer",
    r"def build_payload\(": "container.py: serializes a payload for the writer",
    r"class SectionToWrite\b": "container.py: the writer's section description",
    r"def encode_block\(": "quantized.py: the encoder's quantizer",
    r"def delta_block\(": "quantized.py: the encoder's delta coding of a block (R-153)",
    r"def decode_block_dict\(": "quantized.py: the encoder's view of what a block dict decodes to (DEFS closed loop)",
    r"def smaller_block\(": "quantized.py: the encoder's choice between plain, delta-coded and channel-referenced blocks",
    r"def channel_ref_block\(": "quantized.py: the encoder's channel references (R-159)",
    r"def best_channel_refs\(": "quantized.py: the encoder's choice of channel references",
    r"def stepped_block\(": "quantized.py: the encoder's quantizer with one step for every channel",
    r"def bounded_block\(": "quantized.py: the encoder's quantization by largest error",
    r"def unit_range_block\(": "quantized.py: the encoder's opacity block (R-151)",
    r"def encode_block_in\(": "quantized.py: the encoder's quantizer over a given range",
    r"class _Block\b": "quantized.py: the encoder's view of a block dict for unit_range_block",
    r"def compress\(": "compression.py: the writer's zstd compressor",
    r"def decode_usage\(": "container.py: what an encoder's sections will charge against the levels (codec.py picks its level with it)",
    r"if budget is None:  # the writer's checks": "syntax.py _layer_out: only build_payload runs the checks without a budget; "
    "read_container always gives one",
    r"def _build\(self": "constructs.py: the build half of the shared declarations (IndexedArray, Checked, Planes, F32Array, F16Array)",
}
#: Code of the container files that no input can reach (see each reason).
CONTAINER_UNREACHABLE: dict[str, str] = {
    r"if params is None:": "constructs.py _index_stack: parse_stream always gives the context its _params (the arc to the return [] is dead)",
    r"except ConstructError as exc:  # every value check": "container.py parse_payload guard: every check raises an FcError "
    "and these declarations raise only StreamError (short input) of construct's own errors",
    r"def _sizeof\(self": "constructs.py: construct's sizeof API, used neither by parsing nor by building",
}
#: Branch lines whose other arm no input of read_container(data) can take.
CONTAINER_ARMS: dict[str, str] = {
    r"^    if parse_sections:$": "container.py: parse_sections=False is a tool option (fcdump framing mode), not part of read_container(data)",
}
#: Reading branches left uncovered on purpose (no vector until SPEC and refcodec agree).
CONTAINER_OPEN: dict[str, str] = {}
#: Reading helpers that read_container + canonical_dump do not call (the decoder and tools do).
CONTAINER_NOT_ON_PATH = {
    r"def all\(self, kind": "container.py ParsedContainer.all: an accessor for decode_avatar (codec.py)",
    r"^            if not keep_raw:$": "container.py: keep_raw=False is decode_avatar's memory option (codec.py), not part of read_container(data)",
    r"def record_md5s\(": "dump.py: per-record MD5s for fcdump; the suite hashes canonical_dump's records itself",
    r"def _record\(self": "constructs.py Traced._record: records fcdump's trace (read_container(data, trace=...))",
    r"^\s+if trace is not None:$": "constructs.py Traced._parse: hands over to _record when fcdump asks for a trace",
    r"def _fill\(": "constructs.py: the syntax path of a traced element (fcdump's trace)",
    r"def field_name\(": "constructs.py: the full name of a traced element (fcdump's trace)",
}


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


def _coverage(files: list[str]):
    import coverage

    return coverage.Coverage(branch=True, data_file=None, include=[str(ROOT / f) for f in files])


def _stream_vectors():
    from .cards import load_suite

    return [v for v in load_suite(ROOT / "conformance" / "vectors") if v.card["kind"] == "fcs"]


def measure_stream() -> dict:
    """Run the stream vectors under coverage and return the stream half's summary."""
    cov = _coverage(STREAM_FILES)
    cov.start()
    try:
        from .adapters import reference_adapter
        from .runner import run_suite, summary

        vectors = _stream_vectors()
        results = run_suite(vectors, reference_adapter)
    finally:
        cov.stop()
    whole = _summarise(_json_report(cov))
    for pattern in [*WRITER_ONLY, *TRACE_ONLY, *STREAM_NOT_REACHED]:
        cov.exclude(pattern)
    for pattern in WRITER_ARMS:
        cov.exclude(pattern, which="partial")
    decoding = _summarise(_json_report(cov))
    return {
        "vectors": len(vectors),
        "suite_all_pass": summary(results)["all_pass"],
        "measured_files": STREAM_FILES,
        "decoding_paths": decoding
        | {"excluded_writer_only": WRITER_ONLY, "writer_arms_not_counted": WRITER_ARMS, "excluded_not_reached": STREAM_NOT_REACHED},
        "whole_files": whole,
    }


def measure_container() -> dict:
    """Run the container vectors through read_container + canonical_dump under coverage.

    Only the exact tier is checked (the card's verdict, error class or dump); the tolerance tier
    needs the neural evaluators and the renderer, which are not reading code.
    """
    cov = _coverage(CONTAINER_FILES)
    cov.start()
    try:
        from .adapters import ReferenceContainerAdapter
        from .cards import load_suite
        from .runner import check

        vectors = [v for v in load_suite(ROOT / "conformance" / "vectors") if v.card["kind"] == "fca"]
        adapter = ReferenceContainerAdapter()
        results = [check(v, adapter.run(v.path, v.card["mode"], 0.0)) for v in vectors]
    finally:
        cov.stop()
    whole = _summarise(_json_report(cov))
    for pattern in CONTAINER_WRITER_ONLY:
        cov.exclude(pattern)
    for pattern in [*CONTAINER_UNREACHABLE, *CONTAINER_NOT_ON_PATH]:
        cov.exclude(pattern)
    for pattern in CONTAINER_ARMS:
        cov.exclude(pattern, which="partial")
    reading = _summarise(_json_report(cov))
    failing = [r.name for r in results if r.result != "pass"]
    return {
        "vectors": len(vectors),
        "suite_all_pass": not failing,
        "failing": failing,
        "measured_files": CONTAINER_FILES,
        "reading_paths": reading
        | {
            "excluded_writer_only": [{"pattern": k, "why": v} for k, v in CONTAINER_WRITER_ONLY.items()],
            "excluded_unreachable": [{"pattern": k, "why": v} for k, v in CONTAINER_UNREACHABLE.items()],
            "excluded_not_on_reading_path": [{"pattern": k, "why": v} for k, v in CONTAINER_NOT_ON_PATH.items()],
            "arms_not_counted": [{"pattern": k, "why": v} for k, v in CONTAINER_ARMS.items()],
        },
        "open_branches": CONTAINER_OPEN,
        "whole_files": whole,
    }


HALVES = {"stream": measure_stream, "container": measure_container}


def _run_half(half: str) -> dict:
    """One half in a fresh interpreter: coverage must start before refcodec is imported."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"{half}.json"
        cmd = [sys.executable, "-m", "conformance.branch_coverage", "--half", half, "--output", str(out)]
        subprocess.run(cmd, cwd=ROOT, check=True)
        return json.loads(out.read_text())


def _print(label: str, total: dict) -> None:
    print(
        f"{label}: {total['covered_branches']}/{total['branches']} branches = {total['branch_percent']}%, "
        f"statements+branches {total['percent_statements_and_branches']}%"
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m conformance.branch_coverage [--output FILE]``."""
    ap = argparse.ArgumentParser(
        prog="python -m conformance.branch_coverage", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--output", type=Path, default=HERE / "branch_coverage.json", help="JSON report to write")
    ap.add_argument("--half", choices=sorted(HALVES), help="measure one half in this process (used by the default run)")
    args = ap.parse_args(argv)
    if args.half:
        if "refcodec" in sys.modules:
            print("error: refcodec was imported before coverage started", file=sys.stderr)
            return 2
        args.output.write_text(json.dumps(HALVES[args.half](), indent=1) + "\n")
        return 0
    report = {"command": "python -m conformance.branch_coverage", "stream": _run_half("stream"), "container": _run_half("container")}
    args.output.write_text(json.dumps(report, indent=1) + "\n")
    _print("stream decoding paths", report["stream"]["decoding_paths"]["total"])
    _print("stream whole files (writer included)", report["stream"]["whole_files"]["total"])
    _print("container reading paths", report["container"]["reading_paths"]["total"])
    _print("container whole files (writer included)", report["container"]["whole_files"]["total"])
    print(f"({report['stream']['vectors']} stream and {report['container']['vectors']} container vectors; report {args.output})")
    return 0 if report["stream"]["suite_all_pass"] and report["container"]["suite_all_pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
