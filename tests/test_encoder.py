"""Encoder obligations of SPEC 5 (R-24, R-25, R-12) and its guidance choices (SPEC 9)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refcodec.fcs.encoder import EncoderConfig, FcsEncoder, best_eg_order, build_header, encode_track, expgolomb_bits
from refcodec.fcs.layout import SequenceHeader
from refcodec.fcs.storage import iter_units
from refcodec.fcs.syntax import FrameUnit, read_unit
from refcodec.track import Track, TrackGroup


def _units(data: bytes) -> list:
    active, out = None, []
    for u in iter_units(data):
        unit = read_unit(u.data, active)
        if isinstance(unit, SequenceHeader):
            active = unit
        out.append(unit)
    return out


@settings(max_examples=40, deadline=None, derandomize=True)
@given(frames=st.integers(1, 70), interval=st.integers(1, 20), repeat=st.booleans(), update=st.booleans())
def test_intra_interval_counter_and_header_placement(frames, interval, repeat, update):
    """R-24: first frame I, I distance <= max_intra_interval; R-25: counter +1 mod 16; R-12: reserved bits 0."""
    values = np.sin(np.arange(frames)[:, None] * 0.3 + np.arange(3))
    track = Track(values, [TrackGroup("HEAD_ROTATION", ["x", "y", "z"])], (30, 1))
    header = build_header(track, 9, intra_interval=interval)
    units = _units(encode_track(track, header, EncoderConfig(interval, repeat, update)))
    assert isinstance(units[0], SequenceHeader) and units[0].reserved_bits == 0 and units[0].group_reserved_bits == [0]
    frames_out = [u for u in units if isinstance(u, FrameUnit)]
    assert len(frames_out) == frames
    intra = [i for i, f in enumerate(frames_out) if f.is_intra]
    assert intra[0] == 0
    assert all(b - a <= interval for a, b in zip(intra, intra[1:], strict=False))
    assert [f.frame_counter for f in frames_out] == [i % 16 for i in range(frames)]
    headers_at = [i for i, u in enumerate(units) if isinstance(u, SequenceHeader)]
    assert len(headers_at) == (len(intra) if repeat else 1)
    if repeat:  # every repeated header directly precedes an I-frame
        assert all(isinstance(units[i + 1], FrameUnit) and units[i + 1].is_intra for i in headers_at)
    assert all(f.range_update_flag == update for f in frames_out if f.is_intra)


def test_ranges_cover_the_data_after_binary32_rounding():
    values = np.array([[0.1, -1e-7, 3.3333333333], [0.7, 2e-7, 3.3333333334]])
    track = Track(values, [TrackGroup("UNSPECIFIED", ["a", "b", "c"])])
    g = build_header(track, 8).groups[0]
    assert np.all(np.array(g.range_min, np.float64) <= values.min(0))
    assert np.all(np.array(g.range_max, np.float64) >= values.max(0))
    assert all(np.float32(v) == v for v in g.range_min + g.range_max)


def test_expgolomb_length_formula_matches_the_writer():
    from refcodec.bitio import BitWriter

    for k in range(5):
        for r in range(-40, 41):
            w = BitWriter()
            w.sek(k, "r", r)
            assert expgolomb_bits(np.array([r]), k)[0] == w.pos


def test_best_order_minimises_bits():
    r = np.array([0] * 50 + [1, -1] * 5)
    assert best_eg_order(r) == 0
    wide = np.arange(-60, 61)
    costs = [expgolomb_bits(wide, k).sum() for k in range(16)]
    assert best_eg_order(wide) == int(np.argmin(costs)) and best_eg_order(wide) > 0


def test_encoder_rejects_bad_input():
    track = Track(np.zeros((2, 3)), [TrackGroup("HEAD_ROTATION", ["x", "y", "z"])])
    header = build_header(track, 8, intra_interval=5)
    enc = FcsEncoder(header)
    with pytest.raises(ValueError, match="shape"):
        enc.encode_frame(np.zeros(4))
    with pytest.raises(ValueError, match="intra_interval"):
        FcsEncoder(header, EncoderConfig(intra_interval=6))
    with pytest.raises(ValueError, match="bit depth"):
        build_header(track, 17)
