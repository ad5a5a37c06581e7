"""The issue-9 vectors separate the two readings of each clarified clause (R-100..R-104).

Each case patches the reference decoder to follow the reading SPEC.md now rules out, runs the
whole stream suite through the runner, and requires the vector written for that clause to fail
(and the unpatched decoder passes every vector: tests/test_conformance.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance import cards
from conformance.adapters import reference_adapter
from conformance.paths import SUITE
from conformance.runner import run_suite
from refcodec import bitio
from refcodec.errors import E_RESIDUAL, E_SIGNATURE, E_VALUE, FcError
from refcodec.fcs import decoder, layout, storage, syntax
from refcodec.spec_tables import canonical_dims


@pytest.fixture(scope="module")
def suite() -> list[cards.Vector]:
    return [v for v in cards.load_suite(SUITE) if v.card["kind"] == "fcs"]


def _key_by_value(orig):
    def f(self):  # R-102 misread: binary32 ranges compared by value (-0.0 == +0.0)
        key = orig(self)
        return key[:-1] + (tuple((g.semantic, tuple(g.range_min), tuple(g.range_max), tuple(g.eg_orders)) for g in self.groups),)

    return f


def _repeat_restores_ranges(orig):
    def f(self, h):  # R-102 misread: an identical repeat restores the sequence ranges
        if h.layout_key() == self._key:
            self._ranges = self._seq_ranges
        return orig(self, h)

    return f


def _residual_while_reading(orig):
    def f(self, data, unit_index=None, base_bit=0):  # R-101 misread: E_RESIDUAL as each residual is read
        if self.strict and self.header is not None and self._ref is not None:
            saved = syntax._crc_field
            syntax._crc_field = lambda io, bits, name, fn: io.u(bits, name)  # the residuals come before frame_crc
            try:
                unit = syntax.read_unit(data, self.header, base_bit)
            except FcError:
                unit = None
            finally:
                syntax._crc_field = saved
            if isinstance(unit, syntax.FrameUnit) and not unit.is_intra:
                q = self._ref + np.array([v for g in unit.values for v in g], np.int64)
                if ((q < 0) | (q > self._top)).any():  # before the counter gap is handled
                    raise E_RESIDUAL("residual out of range", field="residual", bit_offset=base_bit)
        return orig(self, data, unit_index, base_bit)

    return f


class _Semantics:
    """Records the last group_semantic read, for the bugs below."""

    last = 0

    @classmethod
    def reader(cls, orig):
        def f(self, n, name, value=None):
            v = orig(self, n, name, value)
            if name.startswith("group_semantic["):
                cls.last = v
            return v

        return f


def _order_only_with_canonical(orig):
    def f(io, ok, err, message, name, at=None):  # R-103 misread: indices ordered only when C > 0
        if not ok and "not greater than previous" in message and canonical_dims(_Semantics.last) == 0:
            return None
        return orig(io, ok, err, message, name, at)

    return f


def _canonical_before_level(orig):
    def f(io, ok, err, message, name, at=None):  # R-104 misread: R-15 checked before R-14
        if not ok and name.startswith("group_dim_count_minus1[") and err.__name__ == "E_LEVEL":
            dims = int(message.split()[2]) if message.startswith("total dimensions") else 0
            c = canonical_dims(_Semantics.last)
            if c and dims > c:
                return orig(io, False, E_VALUE, "dimensions exceed the canonical count", name, at)
        return orig(io, ok, err, message, name, at)

    return f


def _signature_bytes_first(orig):
    def f(data, *a, **kw):  # R-100 misread: the bytes present are compared before the length
        if len(data) < 4 and data != storage.FCS_SIGNATURE[: len(data)]:
            raise E_SIGNATURE("signature mismatch", field="fcs_signature", bit_offset=0)
        return orig(data, *a, **kw)

    return f


READINGS = {
    "header_repeat_compared_by_value": ([(layout.SequenceHeader, "layout_key", _key_by_value)], ["y_header_changed_negative_zero"]),
    "repeat_restores_sequence_ranges": ([(decoder.FcsDecoder, "_activate", _repeat_restores_ranges)], ["y_header_repeated_range_update"]),
    "residual_checked_while_reading": (
        [(decoder.FcsDecoder, "decode_unit", _residual_while_reading)],
        ["n_residual_and_crc", "y_residual_after_gap"],
    ),
    "index_order_only_with_canonical": (
        [(bitio.BitReader, "u", _Semantics.reader), (syntax, "_require", _order_only_with_canonical)],
        ["n_value_index_not_increasing_unspecified"],
    ),
    "canonical_before_level": (
        [(bitio.BitReader, "u", _Semantics.reader), (syntax, "_require", _canonical_before_level)],
        ["n_level_dims_over_canonical"],
    ),
    "short_signature_compared_first": ([(decoder, "iter_units", _signature_bytes_first)], ["n_truncated_signature_mismatch"]),
}


@pytest.mark.parametrize("reading", sorted(READINGS))
def test_the_other_reading_fails_its_vector(reading, suite, monkeypatch):
    patches, catchers = READINGS[reading]
    for obj, attr, make in patches:
        monkeypatch.setattr(obj, attr, make(getattr(obj, attr)))
    results = run_suite([v for v in suite if v.name in catchers or v.name.startswith("y_header_")], reference_adapter)
    failed = {r.name for r in results if r.result != "pass"}
    assert set(catchers) <= failed, f"{reading}: {sorted(set(catchers) - failed)} pass under the other reading"
