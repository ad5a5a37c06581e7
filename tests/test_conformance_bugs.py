"""Seeded decoder bugs: the suite catches deliberately broken variants of the reference decoder.

Each bug is a small monkeypatch of the reference decoder (the kind of mistake an independent
implementation makes: wrong rounding, an off-by-one in Exp-Golomb, a check left out, a rule of
SPEC 6-7 misread). The whole suite runs through the runner's in-process adapter, and at least
one vector must fail; the vectors expected to catch each bug are named, so the test also shows
that the suite catches it for the right reason.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance import cards
from conformance.adapters import reference_adapter
from conformance.paths import SUITE
from conformance.runner import run_suite
from refcodec import bitio
from refcodec.errors import E_VALUE
from refcodec.fcs import decoder, layout, syntax


@pytest.fixture(scope="module")
def suite() -> list[cards.Vector]:
    return [v for v in cards.load_suite(SUITE) if v.card["kind"] == "fcs"]


def _f64_dequantize(self, q):
    """Bug: SPEC 6.5 evaluated in binary64 and rounded once (what a fused or wide evaluation gives)."""
    r = self._ranges
    lo, hi = r.range_min.astype(np.float64), r.range_max.astype(np.float64)
    return (lo + q * ((hi - lo) / ((1 << self._depth_for_bug) - 1))).astype(np.float32)


def _ftz_dequantize(orig):
    def f(self, q):
        x = orig(self, q)
        return np.where(np.abs(x) < np.float32(1.17549435e-38), np.float32(0.0) * np.sign(x), x).astype(np.float32)

    return f


def _zero_shortcut(orig):
    def f(self, q):  # Bug: level 0 returns min itself (-0 stays -0; SPEC 6.5 gives -0 + +0 = +0)
        return np.where(q == 0, self._ranges.range_min, orig(self, q)).astype(np.float32)

    return f


def _sek_off_by_one(orig):
    def f(self, k, name, value=None):  # Bug: codeNum read one too high for codes longer than one bit
        v = orig(self, k, name, value)
        return v + (1 if v > 1 else -1 if v < -1 else 0)

    return f


def _slow_sek_array(self, orders, name, values=None):
    return [self.sek(k, f"{name}[{i}]") for i, k in enumerate(orders)]


def _crc_ignored(io, bits, name, fn):
    io.u(bits, name, 0 if io.reading else fn(io.getvalue()))  # Bug: read, never compared


def _u_zero_flag_inverted(orig):
    def f(self, n, name, value=None):
        v = orig(self, n, name, value)
        return v ^ 1 if name.startswith("group_zero_flag[") else v  # Bug: flag polarity misread

    return f


def _no_gap(orig):
    def f(self, fu, *a):
        self._expected = None  # Bug: frame_counter never compared (SPEC 7.1)
        return orig(self, fu, *a)

    return f


def _sticky_update(orig):
    def f(self, fu, *a):
        out = orig(self, fu, *a)
        if fu.unit_type == 1 and fu.range_update_flag:
            self._seq_ranges = self._ranges  # Bug: an update outlives its I-frame period (SPEC 6.3)
        return out

    return f


def _zeros_concealment(orig):
    def f(self, status, unit_index, error=None):
        fr = orig(self, status, unit_index, error)
        fr.values = np.zeros_like(fr.values)  # Bug: conceal with zeros instead of the last good vector
        return fr

    return f


def _reserved_is_error(orig):
    def f(data, active, base_bit=0, trace=None):
        unit = orig(data, active, base_bit, trace)
        if isinstance(unit, syntax.ReservedUnit):
            raise E_VALUE("reserved unit_type", field="unit_type", bit_offset=base_bit)  # Bug: R-11 ignored
        return unit

    return f


def _key_with_reserved_bits(orig):
    def f(self):
        return orig(self) + (self.reserved_bits, tuple(self.group_reserved_bits))  # Bug: reserved bits compared

    return f


def _top_check_off(self_top):
    return np.full_like(self_top, np.iinfo(np.uint64).max)


BUGS = {
    # name: (patches [(object, attribute, new value or wrapper of the original)], vectors that must catch it)
    "dequantize_binary64": ([(decoder.FcsDecoder, "_dequantize", lambda o: _f64_wrapper)], ["y_dequant_exactness"]),
    "flush_subnormals": ([(decoder.FcsDecoder, "_dequantize", _ftz_dequantize)], ["y_range_subnormal"]),
    "level_zero_returns_min": ([(decoder.FcsDecoder, "_dequantize", _zero_shortcut)], ["y_range_negative_zero"]),
    "expgolomb_32_zeros_allowed": ([(bitio, "MAX_LEADING_ZEROS", lambda o: 32)], ["n_expgolomb_residual", "n_expgolomb_unit_type"]),
    "expgolomb_30_zeros_max": ([(bitio, "MAX_LEADING_ZEROS", lambda o: 30)], ["n_residual_eg31"]),
    "expgolomb_codenum_off_by_one": (
        [(bitio.BitReader, "sek", _sek_off_by_one), (bitio.BitReader, "sek_array", lambda o: _slow_sek_array)],
        ["y_bitdepth_08", "y_gop_long"],
    ),
    "crc_ignored": ([(syntax, "_crc_field", lambda o: _crc_ignored)], ["n_crc_frame", "n_crc_header", "n_crc_frame_payload"]),
    "range_update_ignored": ([(layout.ActiveRanges, "with_updates", lambda o: lambda self, groups, updates: self)], ["y_range_update"]),
    "range_update_sticky": ([(decoder.FcsDecoder, "_decode_frame", _sticky_update)], ["y_range_update"]),
    "counter_gap_ignored": ([(decoder.FcsDecoder, "_decode_frame", _no_gap)], ["y_gap_strict", "y_loss_drop_p"]),
    "zero_flag_inverted": ([(bitio.BitReader, "u", _u_zero_flag_inverted)], ["y_zero_flags"]),
    "conceal_with_zeros": ([(decoder.FcsDecoder, "_concealed", _zeros_concealment)], ["y_loss_drop_p", "y_gap_strict"]),
    "reserved_unit_rejected": ([(syntax, "read_unit", _reserved_is_error)], ["y_reserved_units"]),
    "repeat_with_other_reserved_bits_resets": ([(layout.SequenceHeader, "layout_key", _key_with_reserved_bits)], ["y_header_reserved_bits"]),
    "residual_range_unchecked": ([(decoder.FcsDecoder, "_activate", lambda o: _no_top_check(o))], ["n_residual_over", "n_residual_under"]),
    "unit_size_limit_unchecked": ([(decoder.FcsDecoder, "max_unit_bytes", lambda o: lambda self: 1 << 32)], ["n_level_unit_size"]),
}


def _f64_wrapper(self, q):
    self._depth_for_bug = np.array([g.bit_depth for g in self.header.groups for _ in range(g.dims)], np.int64)
    return _f64_dequantize(self, q)


def _no_top_check(orig):
    def f(self, h):
        orig(self, h)
        self._top_unsigned = _top_check_off(self._top_unsigned)  # Bug: q outside [0, 2^b - 1] accepted
        self._top = np.full_like(self._top, 1 << 40)

    return f


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_seeded_bug_is_caught(bug, suite, monkeypatch):
    patches, catchers = BUGS[bug]
    for obj, attr, make in patches:
        monkeypatch.setattr(obj, attr, make(getattr(obj, attr)))
    # read_unit is imported by name into the decoder module: patch it there too
    if any(attr == "read_unit" for _, attr, _ in patches):
        monkeypatch.setattr(decoder, "read_unit", syntax.read_unit)
    results = run_suite(suite, reference_adapter)
    failed = {r.name for r in results if r.result != "pass"}
    assert failed, f"no vector catches {bug}"
    missed = [c for c in catchers if c not in failed]
    assert not missed, f"{bug}: expected {missed} to fail; failed: {sorted(failed)[:10]}"
