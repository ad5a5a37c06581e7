"""Deterministic generator of the conformance suite: ``python -m conformance.generate``.

Writes, for every vector, the vector file, its card (``.json``), the per-frame MD5 list
(``.md5``, one ``<md5>  <frame>`` line per frame, as libaom's) and the per-unit result list
(``.res``), then the coverage report. Seeds are fixed and nothing depends on time, locale or
dictionary order, so two runs give identical bytes (a test checks it).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from . import cards, coverage
from .container.generate import generate_containers
from .paths import COVERAGE_REPORT, SUITE
from .stream.clarity import clarity_vectors
from .stream.invalid import all_invalid, frame_rate_boundary
from .stream.loss_tools import loss_tool_vectors
from .stream.main_vectors import generate_main
from .stream.model import ExpectedError, Outcome, frame_md5, run_model
from .stream.nominal import nominal_vectors
from .stream.script import FrameItem, build_file
from .stream.targets import targets
from .stream.vectors import (
    VectorDef,
    bit_depth_vectors,
    crc_vectors,
    dequant_exactness_vector,
    gop_vectors,
    header_vectors,
    layout_vectors,
    level_vectors,
    loss_vectors,
    range_update_vectors,
    range_vectors,
    real_track_vector,
    reserved_unit_vectors,
    semantic_vectors,
    storage_vectors,
    strict_loss_vectors,
    zero_flag_vectors,
)
from .stream.xdim_vectors import xdim_vectors

VERDICTS = {"y": "decode", "n": "reject", "i": "implementation_defined"}


def stream_definitions() -> list[VectorDef]:
    """Every stream vector, in a fixed order."""
    defs = (
        bit_depth_vectors()
        + layout_vectors()
        + semantic_vectors()
        + range_vectors()
        + [dequant_exactness_vector()]
        + gop_vectors()
        + zero_flag_vectors()
        + header_vectors()
        + crc_vectors()
        + range_update_vectors()
        + reserved_unit_vectors()
        + storage_vectors()
        + level_vectors()
        + [frame_rate_boundary(), real_track_vector()]
        + strict_loss_vectors()
        + loss_vectors()
        + loss_tool_vectors()
        + nominal_vectors()
        + xdim_vectors()
        + all_invalid()
        + clarity_vectors()
    )
    names = [d.name for d in defs]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(f"duplicate vector names {sorted(dupes)}")
    return defs


def _error_json(err: ExpectedError, unit_offsets: list[int]) -> dict:
    bit = err.file_bit if err.file_bit is not None else unit_offsets[err.unit_index] * 8 + err.unit_bit
    return {
        "class": err.error_class,
        "code": cards.error_codes()[err.error_class],
        "unit_index": err.unit_index,
        "bit_offset": bit,
        "byte_offset": bit // 8,
        "field": err.field,
    }


def _res_lines(events: list[dict], error: dict | None) -> str:
    lines = [f"{e['unit_index']} {e['kind']} {e['error_class'] or '-'} {e['frames_out']}" for e in events]
    if error:
        unit = "-" if error["unit_index"] is None else error["unit_index"]
        lines.append(f"{unit} error {error['class']} bit={error['bit_offset']} field={error['field']}")
    return "".join(line + "\n" for line in lines)


def build_stream_vector(d: VectorDef) -> tuple[dict, bytes, str, str]:
    """The card, file bytes, .md5 text and .res text of one stream vector."""
    verdict = VERDICTS[d.name[0]]
    built = build_file(d.items, d.size_bytes)
    outcome: Outcome = run_model(d.items, strict=d.mode == "strict")
    data, err = built.data, outcome.error
    elements = outcome.elements
    if d.post is not None:  # framing damage: the units before the damaged one decode as the model says
        data, err = d.post(built)
        k = err.unit_index or 0
        before = run_model(d.items[:k], strict=True)
        outcome.events = before.events
        elements = before.elements if k else {("fcs_file", "fcs_signature")}
        elements = elements | ({("fcs_file", "unit_size")} if err.unit_index is not None else set())
    if (verdict == "reject") != (err is not None):
        raise AssertionError(f"{d.name}: verdict {verdict} but the model says {err}")
    if verdict == "implementation_defined" and not d.accept_errors:
        raise AssertionError(f"{d.name}: an i_ vector names the errors it may be rejected with")
    expected: dict = {"tier": "exact", "format": "fcs_frame_md5" if err is None else "error_class"}
    md5_text = ""
    error = None
    if err is None:
        frames = [{"index": i, "dims": int(f.values.size), "md5": frame_md5(f.values), "status": f.status} for i, f in enumerate(outcome.frames)]
        md5_text = "".join(f"{f['md5']}  {f['index']}\n" for f in frames)
        expected |= {"frame_count": len(frames), "frames": frames, "md5_file": f"{d.name}.md5"}
        if verdict == "implementation_defined":
            expected["accept_errors"] = list(d.accept_errors)
    else:
        error = _error_json(err, built.unit_offsets)
        expected["error"] = error
    events = outcome.events
    # the per-unit report (SPEC 7.3, like libaom .res files) where it says more than "every unit decoded"
    with_res = err is not None or d.mode == "resilient" or any(f.status != "decoded" for f in outcome.frames)
    if with_res:
        expected |= {"units": events, "res_file": f"{d.name}.res"}
    requirements = sorted(set(d.requirements) | {"R-01", "R-34"} if err is None else set(d.requirements) | {"R-01"})
    damaged = d.items[err.unit_index] if err is not None and err.unit_index is not None and err.unit_index < len(d.items) else None
    frame_error = isinstance(damaged, FrameItem) or getattr(damaged, "unit_type", None) in (0, 1)
    aims = targets(d.name, requirements, error, frame_error)
    # the element at which a decoder stops was read (or partly read), so it is exercised too
    syntax_elements = sorted({f"{s}.{e}" for s, e in elements} | {t for t in aims if not t.startswith("R-")})
    card = {
        "card_version": 1,
        "name": d.name,
        "kind": "fcs",
        "file": f"{d.name}.fcs",
        "file_size": len(data),
        "file_md5": hashlib.md5(data).hexdigest(),
        "verdict": verdict,
        "mode": d.mode,
        "purpose": d.purpose,
        "clauses": sorted(set(d.clauses), key=lambda c: [int(x) for x in c.split(".")]),
        "requirements": requirements,
        "syntax_elements": syntax_elements,
        "targets": aims,
        "expected": expected,
        "tolerance": None,
    }
    if not set(aims) <= set(requirements) | set(syntax_elements):
        raise AssertionError(f"{d.name}: targets {sorted(set(aims) - set(requirements))} are not exercised")
    problems = cards.validate(card)
    if problems:
        raise AssertionError(f"{d.name}: card does not match the schema: {problems}")
    return card, data, md5_text, _res_lines(events, error)


def generate(suite: Path = SUITE, report: Path | None = COVERAGE_REPORT, containers: bool = True) -> list[dict]:
    """Write the stream vectors under ``suite/stream`` and the container vectors under
    ``suite/container`` (replacing what is there), then the report."""
    out = suite / "stream"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        if old.suffix in (".fcs", ".json", ".md5", ".res", ".rng"):
            old.unlink()
    written = []
    for d in stream_definitions():
        card, data, md5_text, res_text = build_stream_vector(d)
        (out / card["file"]).write_bytes(data)
        (out / f"{d.name}.json").write_text(cards.dumps(card), newline="\n")
        if card["expected"].get("md5_file"):
            (out / card["expected"]["md5_file"]).write_text(md5_text, newline="\n")
        if card["expected"].get("res_file"):
            (out / card["expected"]["res_file"]).write_text(res_text, newline="\n")
        written.append(card)
    written += generate_main(out)  # the Main profile (SPEC 14): conformance/stream_main_vectors.py
    if containers:
        written += generate_containers(suite / "container")
    if report is not None:
        all_cards = [v.card for v in cards.load_suite(suite)]
        report.write_text(coverage.report_markdown(all_cards), newline="\n")
    return written


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m conformance.generate [--suite DIR] [--report FILE]``."""
    ap = argparse.ArgumentParser(prog="python -m conformance.generate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", type=Path, default=SUITE, help=f"suite directory (default {SUITE})")
    ap.add_argument("--report", type=Path, default=COVERAGE_REPORT, help="coverage report to write")
    args = ap.parse_args(argv)
    written = generate(args.suite, args.report)
    for kind, folder in (("fcs", "stream"), ("fca", "container")):
        mine = [c for c in written if c["kind"] == kind]
        print(f"wrote {len(mine)} {kind} vectors ({sum(c['file_size'] for c in mine)} bytes of vector files) under {args.suite / folder}")
    print(f"report {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
