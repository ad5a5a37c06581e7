"""fcfuzz: mutation fuzzing campaign against the FCS decoder.

Every input is a mutated valid stream (see :mod:`refcodec.fcs.fuzzing`). It goes through
``decode_file(strict=True)``, ``decode_file(strict=False)`` and the unit-level
``FcsDecoder`` (units split by the storage layer, each unit fed to ``decode_unit`` in both
modes). Each must either succeed or raise a subclass of ``refcodec.errors.FcError``;
anything else is an unexpected exception: it is printed (input as hex and traceback) and
saved under ``bench/fuzz_failures/``. Input i of a campaign is reproducible from
(--seed, i).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from refcodec.errors import FcError
from refcodec.fcs.decoder import FcsDecoder, decode_file
from refcodec.fcs.fuzzing import mutate, random_stream, split_units

REPO = Path(__file__).resolve().parent.parent
SEED_POOL = 64  # valid streams per campaign, regenerated every POOL_REFRESH inputs
POOL_REFRESH = 2000


def run_one(data: bytes, times: dict[str, float] | None = None) -> dict[str, str]:
    """Run one input through every decoding path; returns path -> verdict.

    A verdict is ``"ok"`` or an FcError class name. Any other exception propagates.
    ``times`` (if given) receives each path's time in ms.
    """
    verdicts = {}
    for strict in (True, False):
        t0 = time.perf_counter()
        try:
            decode_file(data, strict=strict)
            verdicts[f"decode_file_strict={strict}"] = "ok"
        except FcError as err:
            verdicts[f"decode_file_strict={strict}"] = err.error_class
        if times is not None:
            times[f"decode_file_strict={strict}"] = (time.perf_counter() - t0) * 1000
    units = split_units(data)
    for strict in (True, False):
        t0 = time.perf_counter()
        dec = FcsDecoder(strict=strict)
        verdict = "ok"
        for i, u in enumerate(units):
            try:
                dec.decode_unit(u, i)
            except FcError as err:
                verdict = err.error_class
                break
        verdicts[f"decode_unit_strict={strict}"] = verdict
        if times is not None:
            times[f"decode_unit_strict={strict}"] = (time.perf_counter() - t0) * 1000
    return verdicts


def input_for(seed: int, index: int, pool: list[bytes]) -> tuple[bytes, list[str]]:
    """Input ``index`` of the campaign with this seed (deterministic)."""
    rng = random.Random(f"{seed}:{index}")
    base, other = rng.choice(pool), rng.choice(pool)
    if rng.random() < 0.02:
        return base, ["none"]  # valid streams must decode
    return mutate(rng, base, other)


def seed_pool(seed: int, generation: int) -> list[bytes]:
    rng = random.Random(f"pool:{seed}:{generation}")
    return [random_stream(rng) for _ in range(SEED_POOL)]


def save_failure(out_dir: Path, seed: int, index: int, data: bytes, tb: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"seed{seed}_input{index}.fcs"
    path.write_bytes(data)
    path.with_suffix(".txt").write_text(tb)
    return path


def campaign(count: int, seed: int, max_ms: float, out_dir: Path, progress: bool = True) -> dict:
    """Run ``count`` inputs; returns the report."""
    verdicts: Counter = Counter()
    per_path: dict[str, Counter] = {}
    mutators: Counter = Counter()
    unexpected, slow = [], []
    slowest = (0.0, None, None, None)
    slowest_path = (0.0, None, None)
    pool, generation = seed_pool(seed, 0), 0
    start = time.perf_counter()
    for i in tqdm(range(count), disable=not progress, unit="input", mininterval=1.0):
        if i // POOL_REFRESH != generation:
            generation = i // POOL_REFRESH
            pool = seed_pool(seed, generation)
        data, names = input_for(seed, i, pool)
        mutators.update(names)
        t0 = time.perf_counter()
        times: dict[str, float] = {}
        try:
            result = run_one(data, times)
        except Exception:  # noqa: BLE001 - the point of fuzzing: anything that is not an FcError
            tb = traceback.format_exc()
            path = save_failure(out_dir, seed, i, data, tb)
            print(f"\nUNEXPECTED on input {i} ({'+'.join(names)}), saved {path}\n{data.hex()}\n{tb}", file=sys.stderr)
            unexpected.append({"index": i, "mutators": names, "file": str(path.relative_to(REPO) if path.is_relative_to(REPO) else path),
                               "exception": tb.strip().splitlines()[-1]})
            continue
        ms = (time.perf_counter() - t0) * 1000  # all four decoding paths together
        path_ms = max(times.values())
        if path_ms > slowest_path[0]:
            slowest_path = (path_ms, i, max(times, key=times.get))
        if ms > slowest[0]:
            slowest = (ms, i, names, len(data))
        if ms > max_ms:
            slow.append({"index": i, "ms": round(ms, 2), "mutators": names, "bytes": len(data)})
        verdicts[result["decode_file_strict=True"]] += 1
        for path_name, v in result.items():
            per_path.setdefault(path_name, Counter())[v] += 1
    elapsed = time.perf_counter() - start
    return {
        "inputs": count,
        "seed": seed,
        "seconds": round(elapsed, 2),
        "inputs_per_second": round(count / elapsed, 1) if elapsed else None,
        "verdicts_strict": dict(verdicts.most_common()),
        "verdicts_per_path": {p: dict(c.most_common()) for p, c in per_path.items()},
        "mutators_applied": dict(mutators.most_common()),
        "unexpected_exceptions": len(unexpected),
        "unexpected": unexpected[:50],
        "max_ms": max_ms,
        "over_max_ms": len(slow),
        "slow_inputs": slow[:50],
        "time_definition": "ms per input = all four decoding paths run on it, back to back",
        "slowest": {"index": slowest[1], "ms": round(slowest[0], 3), "mutators": slowest[2], "bytes": slowest[3]},
        "slowest_single_path": {"index": slowest_path[1], "ms": round(slowest_path[0], 3), "path": slowest_path[2]},
        "reproduce": "input i: tools.fcfuzz.input_for(seed, i, tools.fcfuzz.seed_pool(seed, i // 2000))",
        "passed": not unexpected and not slow,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="fcfuzz",
        description="Mutation-fuzz the FCS decoder: every input must decode or raise a registered FcError "
                    "(SPEC 4.1). Unexpected exceptions are saved under bench/fuzz_failures/.",
    )
    parser.add_argument("--count", type=int, default=10000, help="number of inputs to try (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="campaign seed; input i is reproducible from (seed, i)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="write the report as JSON to PATH")
    parser.add_argument("--max-ms", type=float, default=100.0, help="flag any input slower than this many ms (default 100)")
    parser.add_argument("--failures", type=Path, default=REPO / "bench" / "fuzz_failures", help="where crashing inputs are saved")
    parser.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    args = parser.parse_args(argv)
    report = campaign(args.count, args.seed, args.max_ms, args.failures, progress=not args.no_progress)
    text = json.dumps(report, indent=2)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    print(f"inputs {report['inputs']}  {report['inputs_per_second']} inputs/s  unexpected {report['unexpected_exceptions']}  "
          f"over {args.max_ms} ms: {report['over_max_ms']}  slowest {report['slowest']['ms']} ms (input {report['slowest']['index']})")
    print("verdicts (decode_file strict):", ", ".join(f"{k} {v}" for k, v in report["verdicts_strict"].items()))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
