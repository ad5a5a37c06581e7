"""The issue-9 container vectors separate the two readings of each clarified clause (R-200..R-209).

Each case patches the reference container decoder to follow the reading SPEC.md now rules out,
runs the container suite through the runner, and requires the vectors written for that clause
to fail (the unpatched decoder passes every vector: tests/test_conformance_container.py). The
MLP weight vectors are checked by counting their weights under each reading instead.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from conformance import cards
from conformance.adapters import reference_adapter
from conformance.container.clarity import clarity_vectors
from conformance.paths import SUITE
from conformance.runner import run_suite
from refcodec.errors import E_CRC, E_TRUNCATED
from refcodec.fca import compression, container, dump
from refcodec.spec_tables import container_levels


@pytest.fixture(scope="module")
def suite() -> list[cards.Vector]:
    return [v for v in cards.load_suite(SUITE) if v.card["kind"] == "fca"]


def _failing(suite: list[cards.Vector]) -> set[str]:
    return {r.name for r in run_suite(suite, reference_adapter) if r.result != "pass"}


def _length_first(orig):
    def read(data, *a, **kw):  # R-201 misread: a header shorter than 16 bytes is E_TRUNCATED before any check
        if len(data) < 16:
            raise E_TRUNCATED("short header", field="file_header", bit_offset=8 * len(data))
        return orig(data, *a, **kw)

    return read


def _crc_first(orig):
    def read(data, *a, **kw):  # R-201 misread: header_crc checked before the values it protects
        import zlib

        if len(data) >= 16 and struct.unpack_from("<I", data, 12)[0] != zlib.crc32(data[:12]):
            raise E_CRC("header CRC", field="file_header.header_crc", bit_offset=96)
        return orig(data, *a, **kw)

    return read


def _skip_skippable(orig):
    def decompress(stored, *a, **kw):  # R-204 misread: skippable frames are skipped as libzstd does
        magic, size = struct.unpack_from("<II", stored, 0)
        if magic & 0xFFFFFFF0 == 0x184D2A50:
            stored = stored[8 + size :]
        tail = stored.find(struct.pack("<I", 0x184D2A50))
        return orig(stored[:tail] if tail > 0 else stored, *a, **kw)

    return decompress


def _table_order(orig):
    rank = ["meta", "text", "defm", "defr", "bind", "attr", "latn", "omlp"]

    def records(parsed):  # R-205 misread: records in the order of the table's rows across sections
        return sorted(orig(parsed), key=lambda r: rank.index(r[0].split(".")[0]))

    return records


def _names_as_keys(orig):
    def records(parsed):  # R-206 misread: one record per name, the last one kept
        out: dict[str, tuple] = {}
        for r in orig(parsed):
            out[r[0]] = r
        return list(out.values())

    return records


@pytest.mark.parametrize(
    ("target", "name", "patch", "vectors"),
    [
        (container, "read_container", _length_first, {"n_header_short_signature", "n_header_short_version"}),
        (container, "read_container", _crc_first, {"n_version_stale_crc"}),
        (compression, "decompress", _skip_skippable, {"n_zstd_skippable_before", "n_zstd_skippable_after"}),
        (dump, "records", _table_order, {"y_latn_two_sections", "y_text_repeated_key"}),
        (dump, "records", _names_as_keys, {"y_latn_two_sections", "y_text_repeated_key"}),
    ],
)
def test_the_other_reading_fails_its_vectors(suite, monkeypatch, target, name, patch, vectors):
    """SPEC 11.10 R-201, R-204, R-205, R-206: each misreading fails the vectors written for it."""
    monkeypatch.setattr(target, name, patch(getattr(target, name)))
    if target is compression:
        monkeypatch.setattr(container, "decompress", compression.decompress)
    assert vectors <= _failing(suite)


def test_skipping_text_fails_its_vectors(suite, monkeypatch):
    """SPEC 11.10 R-200: a decoder that skips TEXT as an unknown ancillary section accepts a bad
    TEXT value and dumps no text records."""
    registry = container.section_types()
    monkeypatch.setattr(container, "section_types", lambda: {k: v for k, v in registry.items() if k != b"TEXT"})
    assert {"n_text_utf8", "y_text_ancillary", "y_text_repeated_key"} <= _failing(suite)


def _mlps(name: str) -> list[list[dict]]:
    d = next(d for d in clarity_vectors() if d.name == name)
    _, secs, _ = d.make()
    return [s.payload["latent_decoder"]["mlp_layers"] for s in secs if s.type == b"LATN"]


def test_mlp_weight_vectors_separate_the_readings():
    """SPEC 12.1 R-207: the limit is per MLP, on layer_in x layer_out, biases apart. The valid
    vector exceeds it summed over the container or with biases; the invalid one is within it
    counting the stored (unmasked) weights."""
    limit = container_levels()[10].max_mlp_weights
    dense = [sum(x["layer_in"] * x["layer_out"] for x in mlp) for mlp in _mlps("y_mlp_weights_per_mlp")]
    biases = [sum(x["layer_out"] for x in mlp) for mlp in _mlps("y_mlp_weights_per_mlp")]
    assert max(dense) <= limit < sum(dense) and dense[0] + biases[0] > limit
    (masked,) = _mlps("n_mlp_weights_masked")
    stored = sum(int(np.asarray(x["layer_weights"]).size) for x in masked)
    assert masked[0]["layer_in"] * masked[0]["layer_out"] > limit >= stored
