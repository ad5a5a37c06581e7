"""Seeded container decoder bugs: each broken variant of the reference reader fails some vector.

Each bug is a monkeypatch of the reference container reader or its canonical dump (the
mistakes an independent implementation makes); the whole container suite runs through the
runner's in-process adapter and the named vectors must fail.
"""

from __future__ import annotations

import fnmatch
import io

import numpy as np
import pytest
import zstandard

from conformance import cards
from conformance.adapters import reference_adapter
from conformance.container.writer import fix_crcs, section_headers
from conformance.paths import SUITE
from conformance.runner import run_suite
from refcodec.fca import compression, constructs, container, dump


@pytest.fixture(scope="module")
def suite() -> list[cards.Vector]:
    return [v for v in cards.load_suite(SUITE) if v.card["kind"] == "fca"]


def _records_patch(orig, pattern: str, fn):
    """The dump's records with ``fn`` applied to the values of records whose name matches ``pattern``."""

    def records(parsed):
        return [(n, k, fn(np.asarray(v)) if fnmatch.fnmatchcase(n, pattern) else v) for n, k, v in orig(parsed)]

    return records


def _xyzw(v):  # Bug: quaternions dumped (x, y, z, w) instead of (w, x, y, z)
    return np.roll(np.asarray(v).reshape(-1, 4), -1, axis=1)


def _crc_ignored(orig):
    def read(data, *a, **k):  # Bug: CRCs never compared (as if every stored CRC were right)
        return orig(fix_crcs(bytes(data)), *a, **k)

    return read


def _planes_high_first(self, stream, context, path):  # Bug: byte planes read most significant first
    from construct import evaluate, stream_read

    n, w = int(evaluate(self.count, context)), int(evaluate(self.width, context))
    raw = np.frombuffer(stream_read(stream, n * w, path), np.uint8).reshape(w, n)
    out = np.zeros(n, self.DTYPES[w])
    for k in range(w):
        out |= raw[w - 1 - k].astype(out.dtype) << (8 * k)
    return out


def _gaps_off_by_one(v):  # Bug: idx[k] = idx[k-1] + gap[k] (the +1 forgotten)
    v = np.asarray(v, np.int64)
    return v - np.arange(v.size)


def _weights_65536(v):  # Bug: skin weight = q / 65536
    return (np.asarray(v, np.float32) * np.float32(65535)) / np.float32(65536)


def _unbounded(stored, raw_size, window_log_max, field, bit_offset):
    """Bug: decompress everything, then keep raw_size bytes (no bound, no size check)."""
    try:
        out = zstandard.ZstdDecompressor(max_window_size=1 << 31).stream_reader(io.BytesIO(stored), read_across_frames=True).read()
    except zstandard.ZstdError as exc:
        raise compression.E_DECOMPRESS(str(exc), field=field, bit_offset=bit_offset) from None
    return out[:raw_size].ljust(raw_size, b"\0")


def _skip_unknown_critical(orig):
    def read(data, *a, **k):  # Bug: an unknown critical section treated as ancillary
        buf = bytearray(data)
        known = {b"META", b"DEFM", b"DEFR", b"BIND", b"ATTR", b"LATN", b"OMLP", b"TEXT"}
        for pos, kind, flags, _s, _r in section_headers(bytes(buf)):
            if kind not in known:
                buf[pos + 4] = flags & 0xFE
        return orig(fix_crcs(bytes(buf)) if bytes(buf) != bytes(data) else bytes(data), *a, **k)

    return read


BUGS = {
    "quaternion_xyzw": (
        lambda mp: mp.setattr(dump, "records", _records_patch(dump.records, "attr.rotations", _xyzw)),
        {"y_minimal_raw", "y_qbits_1_8"},
    ),
    "crc_ignored": (lambda mp: mp.setattr(container, "read_container", _crc_ignored(container.read_container)), {"n_header_crc", "n_section_crc"}),
    "planes_high_first": (lambda mp: mp.setattr(constructs.Planes, "_parse", _planes_high_first), {"y_minimal_raw", "y_qbits_9_16"}),
    "gaps_off_by_one": (
        lambda mp: mp.setattr(dump, "records", _records_patch(dump.records, "defm.morph.*.indices", _gaps_off_by_one)),
        {"y_vertex_full"},
    ),
    "weights_65536": (lambda mp: mp.setattr(dump, "records", _records_patch(dump.records, "defm.skin.weights", _weights_65536)), {"y_vertex_full"}),
    "zstd_unbounded": (lambda mp: mp.setattr(container, "decompress", _unbounded), {"n_zstd_expands"}),
    "unknown_critical_skipped": (
        lambda mp: mp.setattr(container, "read_container", _skip_unknown_critical(container.read_container)),
        {"n_unknown_critical"},
    ),
}


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_seeded_container_bug_is_caught(bug, suite, monkeypatch):
    patch, must_fail = BUGS[bug]
    patch(monkeypatch)
    results = {r.name: r for r in run_suite([v for v in suite if v.card["expected"]["tier"] == "exact" or v.name in must_fail], reference_adapter)}
    failed = {n for n, r in results.items() if r.result != "pass"}
    assert must_fail <= failed, f"{bug}: expected {sorted(must_fail)} to fail, failed: {sorted(failed)}"
