"""The conformance runner: compares a decoder's answers with the vectors' cards.

Per vector the result is one of:

- ``pass``;
- ``fail``: decoded, but the output differs (frame count first, then the first frame whose
  MD5 differs; for in-process decoders also the first frame whose SPEC 7.2 status differs);
- ``wrong_verdict``: decoded a vector it must reject, rejected one it must decode, or
  rejected with another error class;
- ``crash``: an exit status outside the contract, or an exception other than a registered error;
- ``timeout``.

A rejection at another location (bit offset, field) than the card's is a note, not a failure
(only the class decides conformance), unless the run asks for ``strict_location`` (SPEC 4.1,
R-105: then it fails).
"""

from __future__ import annotations

import fnmatch
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from .adapters import Adapter, DecoderAnswer
from .cards import Vector
from .container.check import compare_dump, compare_tolerance

RESULTS = ("pass", "fail", "wrong_verdict", "crash", "timeout")


@dataclass
class VectorResult:
    """The verdict of the runner on one vector."""

    name: str
    result: str
    detail: str = ""
    first_bad_frame: int | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def select(vectors: Iterable[Vector], patterns: list[str] | None) -> list[Vector]:
    """Vectors whose name (or file name) matches one of the glob ``patterns`` (all when none)."""
    if not patterns:
        return list(vectors)
    return [v for v in vectors if any(fnmatch.fnmatchcase(v.name, p) or fnmatch.fnmatchcase(v.card["file"], p) for p in patterns)]


def _compare_frames(card: dict, answer: DecoderAnswer) -> VectorResult | None:
    """A failure if the decoded dump differs from the expected frames, else None."""
    frames = card["expected"]["frames"]
    want_bytes = sum(4 * f["dims"] for f in frames)
    name = card["name"]
    if len(answer.dump) != want_bytes:  # the frame count and sizes come first (a prefix match would hide a lost frame)
        got_frames = "?"
        if frames and all(f["dims"] == frames[0]["dims"] for f in frames) and frames[0]["dims"]:
            got_frames = f"{len(answer.dump) / (4 * frames[0]['dims']):g}"
        pos, first = 0, None
        for f in frames:
            size = 4 * f["dims"]
            if hashlib.md5(answer.dump[pos : pos + size]).hexdigest() != f["md5"]:
                first = f["index"]
                break
            pos += size
        return VectorResult(
            name,
            "fail",
            f"dump of {len(answer.dump)} bytes, expected {want_bytes} ({len(frames)} frames; got {got_frames})",
            first if first is not None else len(frames),
        )
    pos = 0
    for f in frames:
        size = 4 * f["dims"]
        got = hashlib.md5(answer.dump[pos : pos + size]).hexdigest()
        if got != f["md5"]:
            return VectorResult(name, "fail", f"frame {f['index']}: md5 {got}, expected {f['md5']} ({f['status']})", f["index"])
        pos += size
    if answer.statuses is not None:
        for f, st in zip(frames, answer.statuses, strict=True):
            if st != f["status"]:
                return VectorResult(name, "fail", f"frame {f['index']}: status {st}, expected {f['status']}", f["index"])
    if answer.final_ranges is not None:  # SPEC 14.6, R-128: the coder state after every decoded frame
        for f, rng in zip(frames, answer.final_ranges, strict=True):
            if "final_range" in f and rng != f["final_range"]:
                return VectorResult(name, "fail", f"frame {f['index']}: final rng {rng}, expected {f['final_range']}", f["index"])
    return None


def location_notes(card: dict, answer: DecoderAnswer) -> list[str]:
    """Where a rejection's location (when the decoder gives one) differs from the card's (SPEC 4.1, R-105).

    Streams compare the absolute bit offset (or the byte, when only that is given) and the field;
    containers compare the byte offset only, since their field names follow each decoder's notation.
    """
    want = card["expected"]["error"]
    byte = answer.bit_offset // 8 if answer.bit_offset is not None else answer.byte_offset
    if card["kind"] == "fca":
        if byte is not None and want.get("byte_offset") is not None and byte != want["byte_offset"]:
            return [f"detected at byte {byte} ({answer.field}), card says byte {want['byte_offset']} ({want['field']})"]
        return []
    if answer.bit_offset is not None and answer.bit_offset != want["bit_offset"]:
        return [f"detected at bit {answer.bit_offset} ({answer.field}), card says bit {want['bit_offset']} ({want['field']})"]
    if answer.bit_offset is None and byte is not None and byte != want["byte_offset"]:
        return [f"detected at byte {byte} ({answer.field}), card says byte {want['byte_offset']} ({want['field']})"]
    if answer.field is not None and answer.field != want["field"]:
        return [f"detected in {answer.field}, card says {want['field']}"]
    return []


def check(vector: Vector, answer: DecoderAnswer, strict_location: bool = False) -> VectorResult:
    """Judge one answer against the card (pure function, no I/O).

    With ``strict_location`` a rejection located elsewhere than the card says (R-105) fails
    instead of passing with a note.
    """
    card = vector.card
    name = card["name"]
    exp = card["expected"]
    if answer.outcome in ("crash", "timeout"):
        return VectorResult(name, answer.outcome, answer.message)
    verdict = card["verdict"]
    if answer.outcome == "rejected":
        if verdict == "reject":
            want = exp["error"]
            if answer.error_class != want["class"]:
                return VectorResult(name, "wrong_verdict", f"rejected with {answer.error_class}, expected {want['class']}")
            res = VectorResult(name, "pass", f"rejected with {answer.error_class}")
            res.notes += location_notes(card, answer)
            if strict_location and res.notes:
                return VectorResult(name, "fail", f"rejected with {answer.error_class} at another location (R-105)", notes=res.notes)
            return res
        if verdict == "implementation_defined" and answer.error_class in exp.get("accept_errors", []):
            return VectorResult(name, "pass", f"rejected with {answer.error_class} (allowed: implementation-defined)")
        return VectorResult(name, "wrong_verdict", f"rejected with {answer.error_class} ({answer.message}), expected to decode")
    if verdict == "reject":
        return VectorResult(name, "wrong_verdict", f"decoded, expected rejection with {exp['error']['class']}")
    if card["kind"] == "fca":
        why = compare_dump(card, answer.dump)
        if why:
            return VectorResult(name, "fail", why)
        return VectorResult(name, "pass", f"{len(exp['records'])} records match")
    bad = _compare_frames(card, answer)
    return bad or VectorResult(name, "pass", f"{len(exp['frames'])} frames match")


def _check_tolerance(vector: Vector, adapter: Adapter, answer: DecoderAnswer, res: VectorResult) -> VectorResult:
    """The tolerance tier of a decoded container vector (neural outputs, renders)."""
    extra = getattr(adapter, "tolerance_outputs", None)
    if extra is not None:
        try:
            extra(vector.path, vector.card, answer)
        except Exception as exc:  # noqa: BLE001 - the decoder under test failed on its tolerance outputs
            return VectorResult(vector.name, "crash", f"tolerance outputs: {type(exc).__name__}: {exc}")
    why, notes = compare_tolerance(vector.card, vector.directory, answer.neural, answer.renders, answer.skipped)
    if why:
        return VectorResult(vector.name, "fail", why, notes=notes)
    res.notes += notes
    return res


def run_vector(vector: Vector, adapter: Adapter, timeout: float, strict_location: bool = False) -> VectorResult:
    """Run one vector through ``adapter`` and judge it."""
    t0 = time.perf_counter()
    if not vector.path.exists():
        return VectorResult(vector.name, "crash", f"vector file {vector.path} is missing")
    answer = adapter.run(vector.path, vector.card["mode"], timeout)
    res = check(vector, answer, strict_location)
    if res.result == "pass" and answer.outcome == "decoded" and vector.card["expected"]["tier"] == "tolerance":
        res = _check_tolerance(vector, adapter, answer, res)
    res.seconds = round(time.perf_counter() - t0, 4)
    return res


def run_suite(
    vectors: list[Vector], adapter_for: Callable[[str], Adapter], timeout: float = 10.0, jobs: int = 1, strict_location: bool = False
) -> list[VectorResult]:
    """Run every vector (in parallel when ``jobs`` > 1); results in the vectors' order."""
    adapters: dict[str, Adapter] = {}

    def one(v: Vector) -> VectorResult:
        kind = v.card["kind"]
        if kind not in adapters:
            adapters[kind] = adapter_for(kind)
        return run_vector(v, adapters[kind], timeout, strict_location)

    if jobs <= 1:
        return [one(v) for v in vectors]
    for kind in {v.card["kind"] for v in vectors}:
        adapters[kind] = adapter_for(kind)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, vectors))


def summary(results: list[VectorResult]) -> dict:
    """Counts per result and the overall verdict."""
    counts = Counter(r.result for r in results)
    return {"total": len(results), **{k: counts.get(k, 0) for k in RESULTS}, "all_pass": counts.get("pass", 0) == len(results)}
