"""Seeded bugs in the Main-profile decoder (SPEC 14): each is caught by the Main vectors.

Each bug is a small monkeypatch of the reference decoder of the kind an independent
implementation of SPEC 14 gets wrong; the whole suite runs through the runner's in-process
adapter and the named vectors must fail (frame dumps, statuses, the coder's final rng per frame
(R-128) or the error class).
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance import cards
from conformance.adapters import reference_adapter
from conformance.paths import SUITE
from conformance.runner import run_suite
from refcodec.fcs import decoder, main_profile, rangecoder


@pytest.fixture(scope="module")
def suite() -> list[cards.Vector]:
    return [v for v in cards.load_suite(SUITE) if v.card["kind"] == "fcs" and "main" in v.card["name"]]


def _bypass_rounding_up(self):
    """Bug: the bypass bound rounds up, (rng + 1) >> 1."""
    bound = (self.rng + 1) >> 1
    if self.val < bound:
        self.rng = bound
        bit = 0
    else:
        self.val -= bound
        self.rng -= bound
        bit = 1
    if self.rng < rangecoder.RANGE_TOP:
        self._renormalise()
    return bit


def _history_kept(self):
    """Bug: the residual classes of the previous period survive an I-frame (SPEC 14.5)."""
    cls, sgn = getattr(self, "cls", None), getattr(self, "sgn", None)
    self.frame_zero = 0
    self.group_zero = [0] * len(self.groups)
    self.cls = cls if cls is not None else [0] * self.dims
    self.sgn = sgn if sgn is not None else [0] * self.dims


def _momentum_ignored(orig):
    def f(self, h):  # Bug: group_predictor read but not applied
        orig(self, h)
        self._momentum = np.zeros_like(self._momentum)

    return f


BUGS = {
    "fixed_shift_5": ([(rangecoder, "SHIFT", lambda o: [5] * 31)], ["y_main_contexts", "y_main_live"]),
    "no_fast_start": ([(rangecoder, "SHIFT", lambda o: [4] * 14 + o[14:])], ["y_main_contexts"]),
    "shift_6_never_reached": ([(rangecoder, "SHIFT", lambda o: o[:30] + [5])], ["y_main_adapt_extremes"]),
    "renormalise_at_2_16": ([(rangecoder, "RANGE_TOP", lambda o: 1 << 16)], ["y_main_contexts"]),
    "bypass_rounds_up": ([(rangecoder.RangeDecoder, "bypass", lambda o: _bypass_rounding_up)], ["y_main_depths_rice"]),
    "nonzero_init_ignored": ([(main_profile, "init_probability", lambda o: lambda index: 16384)], ["y_main_contexts"]),
    "nonzero_init_count_0": ([(main_profile, "NONZERO_INIT_COUNT", lambda o: 0)], ["y_main_contexts"]),
    "history_kept_across_reset": ([(main_profile.MainState, "clear_history", lambda o: _history_kept)], ["y_main_reset_points"]),
    "counter_modulus_16": ([(decoder, "MAIN_COUNTER_MODULUS", lambda o: 16)], ["y_main_loss_long_packet"]),
    "escape_17_zeros_allowed": ([(main_profile, "MAX_ESCAPE_ZEROS", lambda o: 17)], ["n_main_escape"]),
    "payload_size_unchecked": ([(rangecoder.RangeDecoder, "consumed", lambda o: lambda self: 1 << 30)], ["n_main_payload_too_long"]),
    "momentum_ignored": ([(decoder.FcsDecoder, "_activate", _momentum_ignored)], ["y_main_contexts"]),
    "unary_cap_11": ([(main_profile, "UNARY_BINS", lambda o: 11)], ["y_main_escape_15"]),
}


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_seeded_main_bug_is_caught(bug, suite, monkeypatch):
    patches, catchers = BUGS[bug]
    for obj, attr, make in patches:
        monkeypatch.setattr(obj, attr, make(getattr(obj, attr)))
    results = run_suite(suite, reference_adapter)
    failed = {r.name for r in results if r.result != "pass"}
    assert failed, f"no vector catches {bug}"
    missed = [c for c in catchers if c not in failed]
    assert not missed, f"{bug}: expected {missed} to fail; failed: {sorted(failed)}"
