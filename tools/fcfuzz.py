"""fcfuzz: mutation fuzzing campaign against the stream (.fcs) and container (.fca) parsers.

``--kind fcs``: every input is a mutated valid stream (:mod:`refcodec.fcs.fuzzing`) and goes
through ``decode_file`` (strict and resilient) and the unit-level ``FcsDecoder`` (both modes).
``--kind fca``: every input is a mutated container (:mod:`refcodec.fca.fuzzing`: random valid
containers and the conformance container vectors, mutated and re-framed with valid CRCs, zstd
bombs, forged counts) and goes through ``read_container`` and ``decode_avatar`` (the full
decode, neural evaluation included). ``--kind both`` runs the two campaigns.

Each path must return or raise a registered ``refcodec.errors.FcError`` (SPEC 4.1), within the
target of issue 8: peak memory at most 64 MiB above the worker's resident baseline and CPU
time at most 50 ms + 10 us per input byte, for inputs of at most 1 MiB. Memory and CPU are
measured per input for the whole process (see :mod:`tools.fuzz_measure`); an input over the
CPU budget is timed again (up to 3 runs, minimum and median) before it is called slow, and the
inputs with the largest peaks are measured again alone in a fresh interpreter. Input i of a
campaign is reproducible from (--kind, --seed, i): ``input_for(kind, seed, i)``.

Failing inputs are written under ``--failures`` (default: a directory in the system temp
dir), never into the repository. Exit status: 0 when the campaign passed, 1 when it found
an unexpected exception or a resource violation, 2 for a bad command line.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tqdm import tqdm

from refcodec.errors import FcError
from refcodec.fca import fuzzing as fca_fuzzing
from refcodec.fca.codec import decode_avatar
from refcodec.fca.container import read_container
from refcodec.fcs.decoder import FcsDecoder, decode_file
from refcodec.fcs.fuzzing import mutate, random_stream, split_units
from tools._cli import entry_point, parser
from tools.fuzz_measure import WORKER_ENV, PeakMemory, configure_allocator, cpu_limit_ms, measure_isolated, retime

REPO = Path(__file__).resolve().parent.parent
SEED_POOL = 64  # valid inputs per pool, regenerated every POOL_REFRESH inputs
POOL_REFRESH = 2000
CHUNK = 500  # inputs per worker task
MAX_INPUT_BYTES = 1 << 20  # the target covers inputs of at most 1 MiB
MEMORY_LIMIT = 64 << 20
VALID_SHARE = 0.02  # inputs that are an unmutated pool member (must decode)
CONTAINER_VECTORS = REPO / "conformance" / "vectors" / "container"


# -- decoding paths --------------------------------------------------------------------

def _units(data: bytes, strict: bool) -> None:
    dec = FcsDecoder(strict=strict)
    for i, u in enumerate(split_units(data)):
        dec.decode_unit(u, i)


STREAM_PATHS: dict[str, Callable[[bytes], object]] = {
    "decode_file_strict=True": lambda d: decode_file(d, strict=True),
    "decode_file_strict=False": lambda d: decode_file(d, strict=False),
    "decode_unit_strict=True": lambda d: _units(d, True),
    "decode_unit_strict=False": lambda d: _units(d, False),
}

CONTAINER_PATHS: dict[str, Callable[[bytes], object]] = {
    "read_container": read_container,
    "decode_avatar": decode_avatar,  # the full decode (fcdump, fcrender): neural attributes evaluated
}


# -- campaign inputs -------------------------------------------------------------------

def seed_pool(seed: int, generation: int) -> list[bytes]:
    """Valid streams of pool ``generation`` of the campaign with this seed."""
    rng = random.Random(f"pool:{seed}:{generation}")
    return [random_stream(rng) for _ in range(SEED_POOL)]


@cache
def container_vectors() -> tuple[bytes, ...]:
    """The conformance container vectors of at most 64 KiB (valid and invalid), by name."""
    if not CONTAINER_VECTORS.is_dir():
        return ()
    files = sorted(p for p in CONTAINER_VECTORS.glob("*.fca") if p.stat().st_size <= 65536)
    return tuple(p.read_bytes() for p in files)


def seed_pool_fca(seed: int, generation: int) -> list[bytes]:
    """Random valid containers of pool ``generation`` plus the small conformance vectors."""
    rng = random.Random(f"fca-pool:{seed}:{generation}")
    return [fca_fuzzing.random_container(rng) for _ in range(SEED_POOL)] + list(container_vectors())


@dataclass(frozen=True)
class Kind:
    """One parser under fuzz: its decoding paths, seed pools and mutation."""

    name: str
    paths: dict[str, Callable[[bytes], object]]
    pool: Callable[[int, int], list[bytes]]
    mutate: Callable[[random.Random, bytes, bytes], tuple[bytes, list[str]]]

    def run(self, data: bytes, times: dict[str, float] | None = None) -> dict[str, str]:
        """Run one input through every path; returns path -> ``"ok"`` or an FcError class name.

        Any other exception propagates. ``times`` (if given) receives each path's CPU ms.
        """
        verdicts = {}
        for path, fn in self.paths.items():
            t0 = time.process_time()
            try:
                fn(data)
                verdicts[path] = "ok"
            except FcError as err:
                verdicts[path] = err.error_class
            if times is not None:
                times[path] = (time.process_time() - t0) * 1000
        return verdicts


KINDS = {
    "fcs": Kind("fcs", STREAM_PATHS, seed_pool, mutate),
    "fca": Kind("fca", CONTAINER_PATHS, seed_pool_fca, fca_fuzzing.mutate),
}


def run_one(data: bytes, times: dict[str, float] | None = None) -> dict[str, str]:
    """The stream paths on one input (see :meth:`Kind.run`)."""
    return KINDS["fcs"].run(data, times)


def input_for(seed: int, index: int, pool: list[bytes], kind: str = "fcs") -> tuple[bytes, list[str]]:
    """Input ``index`` of the ``kind`` campaign with this seed and its pool (deterministic)."""
    rng = random.Random(f"{seed}:{index}" if kind == "fcs" else f"{kind}:{seed}:{index}")
    base, other = rng.choice(pool), rng.choice(pool)
    if rng.random() < VALID_SHARE:
        return base, ["none"]
    data, names = KINDS[kind].mutate(rng, base, other)
    return data[:MAX_INPUT_BYTES], names


def reproduce(kind: str, seed: int, index: int) -> bytes:
    """Input ``index`` of a campaign, from scratch."""
    return input_for(seed, index, KINDS[kind].pool(seed, index // POOL_REFRESH), kind)[0]


# -- one chunk (runs in a worker) --------------------------------------------------------

def _finding_key(tb: str) -> str:
    """Exception type and the innermost frame: one key per distinct bug."""
    lines = tb.strip().splitlines()
    frames = [ln.strip() for ln in lines if ln.strip().startswith("File ")]
    return f"{lines[-1].split(':')[0]} at {frames[-1] if frames else '?'}"


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file next to ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False) as f:
        f.write(text)
    os.replace(f.name, path)


def _save(out_dir: Path, kind: str, seed: int, index: int, data: bytes, note: str) -> str:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{kind}_seed{seed}_input{index}.{kind}"
    path.write_bytes(data)
    path.with_suffix(".txt").write_text(note)
    return str(path)


def run_chunk(kind_name: str, seed: int, start: int, stop: int, out_dir: str, cpu_base_ms: float = 50.0, cpu_us_per_byte: float = 10.0,
              memory_limit: int = MEMORY_LIMIT) -> dict:
    """Inputs ``start``..``stop - 1`` of a campaign; returns partial statistics (merged by :func:`merge`)."""
    kind = KINDS[kind_name]
    mem = PeakMemory()
    per_path: dict[str, Counter] = {p: Counter() for p in kind.paths}
    mutators, findings = Counter(), {}
    slow, heavy, candidates = [], [], []
    retimed_ok = 0
    peak = {"bytes": -1}
    max_input = 0
    cpu_total = 0.0
    generation, pool = None, []
    for i in range(start, stop):
        if i // POOL_REFRESH != generation:
            generation = i // POOL_REFRESH
            pool = kind.pool(seed, generation)
        data, names = input_for(seed, i, pool, kind_name)
        mutators.update(names)
        max_input = max(max_input, len(data))
        times: dict[str, float] = {}
        mem.start()
        try:
            result = kind.run(data, times)
        except Exception:  # noqa: BLE001 - the point of fuzzing: anything that is not an FcError
            tb = traceback.format_exc()
            key = _finding_key(tb)
            f = findings.setdefault(key, {"key": key, "count": 0, "first_index": i, "mutators": names, "exception": tb.strip().splitlines()[-1],
                                          "traceback_tail": tb.strip().splitlines()[-6:], "bytes": len(data)})
            f["count"] += 1
            if f["count"] == 1:
                f["file"] = _save(Path(out_dir), kind_name, seed, i, data, tb)
            continue
        used = mem.peak()
        cpu_total += sum(times.values())
        for path, v in result.items():
            per_path[path][v] += 1
        limit = cpu_limit_ms(len(data), cpu_base_ms, cpu_us_per_byte)
        path = max(times, key=times.get)
        if times[path] > limit:  # re-time before calling it slow: contention and GC pauses are not the input's cost
            lo, med = retime(kind.paths[path], data, limit_ms=limit)
            entry = {"index": i, "path": path, "first_ms": round(times[path], 2), "min_ms": round(lo, 2), "median_ms": round(med, 2),
                     "limit_ms": round(limit, 2), "bytes": len(data), "mutators": names, "verdict": result[path]}
            if lo > limit:
                entry["file"] = _save(Path(out_dir), kind_name, seed, i, data, json.dumps(entry))
                slow.append(entry)
            else:
                retimed_ok += 1
                candidates.append(entry)
        else:
            candidates.append({"index": i, "path": path, "first_ms": round(times[path], 2), "limit_ms": round(limit, 2), "bytes": len(data),
                               "mutators": names, "verdict": result[path], "_data": data})
            candidates = sorted(candidates, key=lambda e: -e["first_ms"])[:3]
        if used > peak["bytes"]:
            peak = {"index": i, "bytes": used, "input_bytes": len(data), "mutators": names, "verdicts": result}
        if used > memory_limit:
            heavy.append({"index": i, "peak_bytes": used, "bytes": len(data), "mutators": names, "verdicts": result,
                          "file": _save(Path(out_dir), kind_name, seed, i, data, f"peak {used} bytes")})
    for c in candidates:  # the chunk's slowest inputs, re-timed for the report
        data = c.pop("_data", None)
        if data is not None:
            c["min_ms"], c["median_ms"] = (round(x, 2) for x in retime(kind.paths[c["path"]], data))
    return {"per_path": per_path, "mutators": mutators, "findings": findings, "slow": slow, "heavy": heavy, "retimed_ok": retimed_ok,
            "slowest": candidates, "peak": peak, "count": stop - start, "max_input": max_input, "cpu_s": cpu_total / 1000}


def _init_worker() -> None:
    configure_allocator()


def _chunk_task(args: tuple) -> dict:
    return run_chunk(*args)


def merge(kind: str, parts: list[dict], seed: int, seconds: float, workers: int) -> dict:
    """The campaign report of ``kind`` from its chunks' statistics."""
    per_path: dict[str, Counter] = {}
    mutators, findings = Counter(), {}
    slow, heavy, slowest = [], [], []
    peak = {"bytes": -1}
    for p in parts:
        for path, c in p["per_path"].items():
            per_path.setdefault(path, Counter()).update(c)
        mutators.update(p["mutators"])
        for key, f in p["findings"].items():
            if key in findings:
                findings[key]["count"] += f["count"]
                if f["first_index"] < findings[key]["first_index"]:
                    findings[key].update({k: v for k, v in f.items() if k != "count"})
            else:
                findings[key] = dict(f)
        slow += p["slow"]
        heavy += p["heavy"]
        slowest += p["slowest"]
        if p["peak"]["bytes"] > peak["bytes"]:
            peak = p["peak"]
    count = sum(p["count"] for p in parts)
    first = next(iter(KINDS[kind].paths))
    slowest = sorted(slowest + slow, key=lambda e: -e.get("min_ms", 0))[:5]
    unexpected = sum(f["count"] for f in findings.values())
    return {
        "kind": kind,
        "inputs": count,
        "seed": seed,
        "workers": workers,
        "seconds": round(seconds, 1),
        "inputs_per_second": round(count / seconds, 1) if seconds else None,
        "cpu_seconds_in_parsers": round(sum(p["cpu_s"] for p in parts), 1),
        "largest_input_bytes": max((p["max_input"] for p in parts), default=0),
        "verdicts": dict(per_path[first].most_common()) if per_path else {},
        "verdicts_path": first,
        "verdicts_per_path": {p: dict(c.most_common()) for p, c in per_path.items()},
        "mutators_applied": dict(mutators.most_common()),
        "unexpected_exceptions": unexpected,
        "distinct_findings": sorted(findings.values(), key=lambda f: f["first_index"]),
        "over_cpu_budget": len(slow),
        "over_cpu_after_retiming": sorted(slow, key=lambda e: -e["min_ms"])[:20],
        "over_cpu_first_run_only": sum(p["retimed_ok"] for p in parts),
        "over_memory": len(heavy),
        "over_memory_inputs": sorted(heavy, key=lambda e: -e["peak_bytes"])[:20],
        "slowest": slowest,
        "peak_memory": peak,
        "reproduce": f"tools.fcfuzz.reproduce({kind!r}, {seed}, i)",
        "passed": not findings and not slow and not heavy,
    }


def campaign(kind: str, count: int, seed: int, out_dir: Path, workers: int = 0, progress: bool = True, cpu_base_ms: float = 50.0,
             cpu_us_per_byte: float = 10.0, memory_limit: int = MEMORY_LIMIT, start: int = 0, time_limit: float | None = None,
             checkpoint: Callable[[dict], None] | None = None) -> dict:
    """Run inputs ``start``..``start + count - 1`` of the ``kind`` campaign; returns its report.

    ``workers`` 0 runs in this process (tests); otherwise that many spawned worker processes
    with one BLAS thread and the allocator settings of :mod:`tools.fuzz_measure`. After
    ``time_limit`` seconds (or on SIGTERM / Ctrl-C) no further chunk is waited for and the
    report covers the chunks completed (``stopped_early``); ``checkpoint`` receives the report
    of the chunks completed so far about once a minute.
    """
    tasks = [(kind, seed, a, min(a + CHUNK, start + count), str(out_dir), cpu_base_ms, cpu_us_per_byte, memory_limit)
             for a in range(start, start + count, CHUNK)]
    t0 = time.perf_counter()
    parts: list[dict] = []
    bar = tqdm(total=count, disable=not progress, unit="input", mininterval=2.0, desc=kind)
    last_checkpoint = [t0]

    def done(part: dict) -> bool:
        """Record a finished chunk; True when the time limit says stop."""
        parts.append(part)
        bar.update(part["count"])
        now = time.perf_counter()
        if checkpoint is not None and now - last_checkpoint[0] > 60:
            last_checkpoint[0] = now
            checkpoint({**merge(kind, parts, seed, now - t0, workers), "stopped_early": True})
        return time_limit is not None and now - t0 > time_limit

    stopped = False
    previous = signal.signal(signal.SIGTERM, _interrupt) if threading.current_thread() is threading.main_thread() else None
    try:
        if workers == 0:
            for t in tasks:
                if done(_chunk_task(t)):
                    stopped = True
                    break
        else:
            saved = {k: os.environ.get(k) for k in WORKER_ENV}
            os.environ.update(WORKER_ENV)  # inherited by the spawned workers
            try:
                with multiprocessing.get_context("spawn").Pool(workers, initializer=_init_worker) as pool:
                    for part in pool.imap_unordered(_chunk_task, tasks):
                        if done(part):
                            stopped = True
                            break  # leaving the with-block terminates the workers
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
    except KeyboardInterrupt:
        stopped = True
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    bar.close()
    report = merge(kind, parts, seed, time.perf_counter() - t0, workers)
    report["stopped_early"] = stopped
    return report


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def isolate_peaks(report: dict, count: int) -> None:
    """Measure the campaign's largest-peak inputs again, alone, in a fresh interpreter."""
    suspects = [report["peak_memory"]] + report["over_memory_inputs"]
    seen, out = set(), []
    for s in suspects:
        if "index" not in s or s["index"] in seen or len(out) >= count:
            continue
        seen.add(s["index"])
        m = measure_isolated(report["kind"], reproduce(report["kind"], report["seed"], s["index"]))
        in_campaign = s["peak_bytes"] if "peak_bytes" in s else s["bytes"]  # over_memory rows vs the peak_memory row
        out.append({"index": s["index"], "in_campaign_bytes": in_campaign, **m})
    report["peak_memory_isolated"] = out


# -- report --------------------------------------------------------------------------

def campaigns(report: dict) -> list[str]:
    """The keys of a report that hold a campaign (``fcs``, ``fca``, and combined ones such as ``fca-seed2027``)."""
    return [k for k, v in report.items() if isinstance(v, dict) and "kind" in v and "inputs" in v]


def _mib(n: int | None) -> str:
    return "n/a" if n is None or n < 0 else f"{n / (1 << 20):.1f} MiB"


def markdown(report: dict) -> str:
    """The campaign report as a markdown page (bench/fuzz_report.md)."""
    lines = ["# Fuzz campaign report", "", report.get("summary", ""), "", "## Inputs per parser", "",
             "| Parser | Inputs | Seed | Workers | Wall s | Inputs/s | Largest input | Unexpected exceptions | Over CPU budget (re-timed) "
             "| Over 64 MiB | Slowest input (CPU, min of re-runs) | Peak memory |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in campaigns(report):
        r = report[name]
        timed = r["slowest"] + r["over_cpu_after_retiming"]  # the slowest input may be one over the budget
        s = max(timed, key=lambda e: e.get("min_ms", 0)) if timed else {}
        peak = r["peak_memory"]
        stopped = " (stopped early)" if r.get("stopped_early") else ""
        lines.append(f"| {name} | {r['inputs']:,}{stopped} | {r['seed']} | {r['workers']} | {r['seconds']} | {r['inputs_per_second']} | "
                     f"{r['largest_input_bytes']:,} B | {r['unexpected_exceptions']} ({len(r['distinct_findings'])} distinct) | "
                     f"{r['over_cpu_budget']} (first run only: {r['over_cpu_first_run_only']}) | {r['over_memory']} | "
                     f"{s.get('min_ms', 'n/a')} ms (input {s.get('index')}, {s.get('bytes')} B, {s.get('path')}, budget {s.get('limit_ms')} ms) | "
                     f"{_mib(peak.get('bytes'))} (input {peak.get('index')}) |")
    total = sum(report[k]["inputs"] for k in campaigns(report))
    per_kind = {k: sum(report[c]["inputs"] for c in campaigns(report) if report[c]["kind"] == k) for k in ("fcs", "fca")}
    lines += ["", f"Total: {total:,} inputs ({', '.join(f'{k} {n:,}' for k, n in per_kind.items())}).", ""]
    for kind in campaigns(report):
        r = report[kind]
        lines += [f"## Verdicts per path ({kind})", "", "| Path | " + " | ".join(["verdict: count"]) + " |", "|---|---|"]
        for path, v in r["verdicts_per_path"].items():
            lines.append(f"| {path} | " + ", ".join(f"{k} {n:,}" for k, n in v.items()) + " |")
        lines += ["", "Mutators applied: " + ", ".join(f"{k} {n:,}" for k, n in r["mutators_applied"].items()), ""]
        if r["distinct_findings"]:
            lines += [f"Distinct unexpected exceptions ({kind}):", ""]
            lines += [f"- {f['key']}: {f['count']} inputs, first {f['first_index']} ({'+'.join(f['mutators'])})" for f in r["distinct_findings"]]
            lines.append("")
        iso = r.get("peak_memory_isolated")
        if iso:
            lines += [f"Largest peaks measured again alone in a fresh interpreter ({kind}):", ""]
            lines += [f"- input {m['index']}: campaign {_mib(m.get('in_campaign_bytes'))}, alone "
                      f"{_mib(m.get('peak_bytes')) if 'peak_bytes' in m else m.get('error')}" for m in iso]
            lines.append("")
    wc = report.get("worst_cases")
    if wc:
        lines += ["## Crafted worst case per level limit", "",
                  "Each file is built to be the most expensive that its level allows for one limit, and decoded alone in a fresh "
                  "interpreter (`read_container` + `decode_avatar`; warm-up on a one-Gaussian container first; address space capped "
                  "at 4 GiB, wall time at 60 s). CPU ms is the slower path (decode_avatar includes read_container).", "",
                  "| Level | Limit | Case | File bytes | Verdict | CPU ms | Budget ms | Peak memory | Within target |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for w in wc:
            ok = w.get("within_target")
            lines.append(f"| {w['level']} | {w['limit']} | {w['description']} | {w['bytes']:,} | {w.get('verdict', w.get('error'))} | "
                         f"{w.get('cpu_ms', 'n/a') if not isinstance(w.get('cpu_ms'), float) else round(w['cpu_ms'], 1)} | "
                         f"{round(w['budget_ms'], 1)} | {_mib(w.get('peak_bytes'))} | {'yes' if ok else 'NO'} |")
        lines.append("")
    lines += ["## Method", "", report.get("method", ""), ""]
    return "\n".join(lines)


METHOD = (
    "Target (issue 8): every input of at most 1 MiB returns or raises a registered FcError; peak memory at most 64 MiB above the "
    "worker's resident baseline; CPU time at most 50 ms + 10 us per input byte, per decoding path. "
    "Memory: whole-process resident set (`/proc/self/clear_refs` resets the high-water mark before each input; peak = VmHWM after "
    "minus VmRSS before), with glibc's mmap and trim thresholds fixed at 128 KiB so freed blocks leave the resident set; this sees "
    "numpy, zstd and every C heap, not only Python objects (tracemalloc would not). The largest peaks are measured again alone in a "
    "fresh interpreter. CPU: `time.process_time` per path in single-BLAS-thread workers; an input over the budget is run up to 3 "
    "more times and called slow only if every run is over (one more run suffices when it is over 4x the budget); the slowest "
    "inputs of each chunk are re-timed the same way for the report. Inputs: stream campaign = mutated random valid streams "
    "(refcodec.fcs.fuzzing); container campaign = mutated random valid containers (refcodec.fca.fuzzing.random_container) and the "
    "conformance container vectors of at most 64 KiB, re-framed with valid CRCs, plus zstd bombs and TEXT floods."
)


@entry_point("fcfuzz")
def main(argv: list[str] | None = None) -> int:
    ap = parser(
        "fcfuzz",
        "Mutation-fuzz the FCS and FCA parsers: every input must decode or raise a registered FcError (SPEC 4.1) within "
        "the memory and CPU target. Exit 0 when the campaign passed, 1 when it found a violation.",
    )
    ap.add_argument("--kind", choices=("fcs", "fca", "both"), default="fcs", help="parser to fuzz (default fcs)")
    ap.add_argument("--count", type=int, default=10000, help="inputs of the stream campaign, or of --kind fca (default 10000)")
    ap.add_argument("--fca-count", type=int, default=None, help="inputs of the container campaign with --kind both (default --count)")
    ap.add_argument("--seed", type=int, default=0, help="campaign seed; input i is reproducible from (kind, seed, i)")
    ap.add_argument("--workers", type=int, default=1, help="worker processes (default 1; 0 runs in this process)")
    ap.add_argument("--json", type=Path, default=None, metavar="PATH", help="write the report as JSON to PATH")
    ap.add_argument("--markdown", type=Path, default=None, metavar="PATH", help="write the report as markdown to PATH")
    ap.add_argument("--failures", type=Path, default=Path(tempfile.gettempdir()) / "fcfuzz-failures",
                        help="where failing inputs are saved (default: fcfuzz-failures in the system temp dir)")
    ap.add_argument("--cpu-base-ms", type=float, default=50.0, help="CPU budget per input: this many ms ... (default 50)")
    ap.add_argument("--cpu-us-per-byte", type=float, default=10.0, help="... plus this many us per input byte (default 10)")
    ap.add_argument("--memory-mib", type=float, default=64.0, help="peak memory budget per input above the baseline (default 64)")
    ap.add_argument("--isolate", type=int, default=3, help="largest peaks to measure again in a fresh interpreter (default 3)")
    ap.add_argument("--worst-cases", action="store_true", help="also build and measure the crafted worst case of every container level limit")
    ap.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                        help="stop each campaign after this many seconds and report the inputs completed")
    ap.add_argument("--combine", type=Path, nargs="+", default=[], metavar="JSON",
                        help="take the campaigns (and worst cases) of earlier reports into this report, e.g. a stream run and a container run")
    ap.add_argument("--summary", default="", help="a sentence put at the top of the report (e.g. the commits the campaigns ran on)")
    ap.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    args = ap.parse_args(argv)
    if args.count < 0 or (args.fca_count or 0) < 0 or args.workers < 0:
        ap.error("counts and --workers must not be negative")
    kinds = {"fcs": args.count} if args.kind == "fcs" else {"fca": args.count} if args.kind == "fca" else \
        {"fcs": args.count, "fca": args.count if args.fca_count is None else args.fca_count}
    report: dict = {"method": METHOD}
    passed = True
    for earlier in args.combine:
        try:
            old = json.loads(earlier.read_text())
        except (OSError, ValueError) as exc:
            print(f"fcfuzz: cannot read {earlier}: {exc}", file=sys.stderr)
            return 3
        if "worst_cases" in old:
            report["worst_cases"] = old["worst_cases"]
            passed &= all(w.get("within_target") for w in old["worst_cases"])
        for key in campaigns(old):
            name = key if key not in report else f"{old[key]['kind']}-seed{old[key]['seed']}"
            report[name] = old[key]
            passed &= old[key]["passed"]
    for kind, count in kinds.items():
        if count == 0 or (args.combine and args.count == 0):
            continue
        def checkpoint(partial: dict, kind: str = kind) -> None:
            if args.json:
                write_atomically(args.json, json.dumps({**report, kind: partial, "passed": False, "summary": "checkpoint"}, indent=2, default=str))

        r = campaign(kind, count, args.seed, args.failures / kind, args.workers, not args.no_progress, args.cpu_base_ms, args.cpu_us_per_byte,
                     int(args.memory_mib * (1 << 20)), time_limit=args.time_limit, checkpoint=checkpoint)
        if args.isolate:
            isolate_peaks(r, args.isolate)
        report[kind] = r
        passed &= r["passed"]
        s = r["slowest"][0] if r["slowest"] else {}
        print(f"{kind}: inputs {r['inputs']}  {r['inputs_per_second']} inputs/s  unexpected {r['unexpected_exceptions']} "
              f"({len(r['distinct_findings'])} distinct)  over CPU budget {r['over_cpu_budget']}  over memory {r['over_memory']}  "
              f"slowest {s.get('min_ms')} ms (input {s.get('index')})  peak {_mib(r['peak_memory'].get('bytes'))}")
        print(f"{kind} verdicts ({r['verdicts_path']}):", ", ".join(f"{k} {v}" for k, v in r["verdicts"].items()))
    if args.worst_cases:
        from tools.fuzz_worst import measure_worst_cases

        report["worst_cases"] = measure_worst_cases(args.cpu_base_ms, args.cpu_us_per_byte, int(args.memory_mib * (1 << 20)),
                                                    progress=not args.no_progress)
        bad = [w for w in report["worst_cases"] if not w.get("within_target")]
        passed &= not bad
        print(f"worst cases: {len(report['worst_cases'])} measured, {len(bad)} outside the target")
    total = sum(report[k]["inputs"] for k in campaigns(report))
    report["summary"] = f"{args.summary + ' ' if args.summary else ''}{total:,} inputs; passed: {passed}."
    report["passed"] = passed
    if args.json:
        write_atomically(args.json, json.dumps(report, indent=2, default=str) + "\n")
    if args.markdown:
        write_atomically(args.markdown, markdown(report))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
