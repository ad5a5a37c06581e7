"""Resource measurement for the fuzz campaign: whole-process peak memory and CPU time.

Peak memory is the process's resident set, which sees every allocation that touches memory
(Python objects, numpy arrays, zstd's and other C libraries' heaps), unlike tracemalloc. Per
input, the kernel's high-water mark is reset (``/proc/self/clear_refs``, value 5) and the
input's peak is ``VmHWM`` after the run minus ``VmRSS`` before it. So that freed memory does
not stay resident (and hide a later input's allocations), the allocator is told to return
every block of 128 KiB or more to the kernel at once (``mallopt``: fixed mmap and trim
thresholds). What this does not see: untouched pages (``np.empty`` never written), which cost
no memory. Suspects are measured again alone, in a fresh interpreter (:func:`measure_isolated`).

CPU time is process CPU time (``time.process_time``): other processes on a shared machine do
not inflate it. An input over the limit is timed again several times and judged by the minimum.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: Environment for worker processes: one BLAS thread, and glibc returning large blocks at once.
WORKER_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MALLOC_MMAP_THRESHOLD_": "131072",
    "MALLOC_TRIM_THRESHOLD_": "131072",
}

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def configure_allocator() -> bool:
    """Fixed 128 KiB mmap and trim thresholds (glibc), so freed large blocks leave the RSS.

    Free memory the heap already holds is returned too (``malloc_trim``), so that a process
    that allocated before this call is measured as cleanly as a fresh worker.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = bool(libc.mallopt(_M_MMAP_THRESHOLD, 131072)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, 131072))
        libc.malloc_trim(0)
        return ok
    except (OSError, AttributeError):
        return False


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


class PeakMemory:
    """Whole-process peak resident memory above the level at :meth:`start`, in bytes."""

    def __init__(self) -> None:
        self.available = os.path.exists("/proc/self/clear_refs")
        self.base = 0

    def start(self) -> None:
        if self.available:
            try:
                with open("/proc/self/clear_refs", "w") as f:
                    f.write("5")  # reset VmHWM to the current RSS
            except OSError:
                self.available = False
            self.base = _status_kib("VmRSS:")

    def peak(self) -> int:
        """Bytes of peak RSS above the start (0 where /proc is unavailable)."""
        if not self.available:
            return 0
        return max(0, _status_kib("VmHWM:") - self.base) * 1024


def cpu_limit_ms(size: int, base_ms: float = 50.0, per_byte_us: float = 10.0) -> float:
    """The target's CPU budget for an input of ``size`` bytes (issue 8): 50 ms + 10 us per byte."""
    return base_ms + per_byte_us * size / 1000.0


def cpu_ms(fn, *args) -> float:
    """Process CPU time of ``fn(*args)`` in ms (exceptions are the caller's verdicts, swallowed here)."""
    t0 = time.process_time()
    try:
        fn(*args)
    except Exception:  # noqa: BLE001 - timing only; the verdict was taken on the first run
        pass
    return (time.process_time() - t0) * 1000.0


def retime(fn, data: bytes, repeats: int = 3, limit_ms: float | None = None) -> tuple[float, float]:
    """(min, median) CPU ms of up to ``repeats`` more runs of ``fn(data)``.

    With ``limit_ms``, timing stops at the first run within it (the input is then not slow), and
    after one run that is over four times the limit (no scheduling noise explains that much
    process CPU time).
    """
    times = []
    for _ in range(repeats):
        times.append(cpu_ms(fn, data))
        if limit_ms is not None and (times[-1] <= limit_ms or times[-1] > 4 * limit_ms):
            break
    times.sort()
    return times[0], times[len(times) // 2]


ISOLATED_SCRIPT = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[3])
from tools.fuzz_measure import PeakMemory, configure_allocator
configure_allocator()
from tools.fcfuzz import KINDS
kind = KINDS[sys.argv[1]]
data = open(sys.argv[2], "rb").read()
# warm-up on another input: imports and caches are not the input's cost, its own allocations are
kind.run(open(sys.argv[4], "rb").read() if len(sys.argv) > 4 else kind.pool(0, 0)[0])
mem = PeakMemory()
mem.start()
times = {}
try:
    verdicts = kind.run(data, times)
except MemoryError:
    verdicts = {"all": "MemoryError"}
print(json.dumps({"peak_bytes": mem.peak(), "cpu_ms": max(times.values(), default=None), "path_cpu_ms": times, "verdicts": verdicts,
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def measure_isolated(kind: str, data: bytes, memory_cap: int = 6 << 30, cpu_cap_s: int = 120, warm_up: bytes | None = None) -> dict:
    """Run one input through every path of ``kind`` in a fresh interpreter; its peak and CPU time.

    ``cpu_ms`` is the slowest path's CPU time. The child first decodes ``warm_up`` (default: the
    first input of the campaign's seed pool) so that imports and caches do not count. The child
    is capped (address space ``memory_cap``, wall time ``3 * cpu_cap_s``) so a runaway input
    cannot take the machine; hitting a cap is reported as such.
    """

    def caps() -> None:
        # Address space only: an RLIMIT_CPU timer makes this kernel count process CPU time in whole
        # ticks (time.process_time then reads 0.0 for short runs), so CPU is capped by wall time.
        resource.setrlimit(resource.RLIMIT_AS, (memory_cap, memory_cap))

    files = []
    for blob in (data, warm_up):
        if blob is not None:
            with tempfile.NamedTemporaryFile(suffix=f".{kind}", delete=False) as f:
                f.write(blob)
            files.append(f.name)
    try:
        env = {**os.environ, **WORKER_ENV}
        proc = subprocess.run([sys.executable, "-c", ISOLATED_SCRIPT, kind, files[0], str(REPO), *files[1:]], capture_output=True, text=True,
                              env=env, preexec_fn=caps, timeout=cpu_cap_s * 3)
    except subprocess.TimeoutExpired:
        return {"error": f"wall-clock timeout after {cpu_cap_s * 3} s"}
    finally:
        for name in files:
            os.unlink(name)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        return {"error": f"exit {proc.returncode}: {last}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


__all__ = ["WORKER_ENV", "PeakMemory", "configure_allocator", "cpu_limit_ms", "cpu_ms", "measure_isolated", "retime"]
