"""Measure the crafted worst case of every container level limit (``fcfuzz --worst-cases``).

Each file of :mod:`refcodec.fca.worst_cases` is decoded alone in a fresh interpreter
(``read_container`` and ``decode_avatar``, after a warm-up on a one-Gaussian container), with
its address space and CPU time capped so that a runaway case is reported, not suffered.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tqdm import tqdm

from refcodec.fca.worst_cases import BUILDERS, file, minimal
from refcodec.spec_tables import container_levels
from tools.fuzz_measure import cpu_limit_ms, measure_isolated

MEMORY_CAP = 4 << 30
CPU_CAP_S = 20


def measure_one(level: int, limit: str, cpu_base_ms: float, cpu_us_per_byte: float, memory_limit: int) -> dict:
    """Build and measure one case; the row of the report."""
    description, build = BUILDERS[limit]
    data = build(container_levels()[level])
    m = measure_isolated("fca", data, memory_cap=MEMORY_CAP, cpu_cap_s=CPU_CAP_S, warm_up=file(10, minimal()))
    budget = cpu_limit_ms(len(data), cpu_base_ms, cpu_us_per_byte)
    row = {"level": level, "limit": limit, "description": description, "bytes": len(data), "budget_ms": budget, **m}
    if "verdicts" in m:
        verdicts = set(m["verdicts"].values())
        row["verdict"] = "/".join(sorted(verdicts))
        row["within_target"] = m["peak_bytes"] <= memory_limit and m["cpu_ms"] <= budget and "MemoryError" not in verdicts
    else:
        row["within_target"] = False
    return row


def measure_worst_cases(cpu_base_ms: float = 50.0, cpu_us_per_byte: float = 10.0, memory_limit: int = 64 << 20, progress: bool = True,
                        workers: int = 2) -> list[dict]:
    """Every (level, limit) case, measured two at a time; rows in level then limit order."""
    jobs = [(lv, name) for lv in sorted(container_levels()) for name in BUILDERS]
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(measure_one, lv, name, cpu_base_ms, cpu_us_per_byte, memory_limit) for lv, name in jobs]
        return [f.result() for f in tqdm(futures, disable=not progress, desc="worst cases")]


__all__ = ["measure_one", "measure_worst_cases"]
