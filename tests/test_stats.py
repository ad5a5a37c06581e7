"""Rate statistics: entropy bound and coded residual extraction."""

from __future__ import annotations

import numpy as np
import pytest

from refcodec.fcs.decoder import decode_file
from refcodec.fcs.encoder import EncoderConfig, build_header, encode_track
from refcodec.fcs.stats import coded_p_residuals, zero_order_entropy_bits
from refcodec.quant import quantize
from refcodec.track import Track, TrackGroup


def test_entropy_hand_computed():
    # column 0: two symbols, equiprobable -> 1 bit each (4 bits); column 1: constant -> 0 bits;
    # column 2: p = (1/2, 1/4, 1/4) -> 2*1 + 1*2 + 1*2 = 6 bits
    r = np.array([[0, 5, 1], [0, 5, 1], [1, 5, 2], [1, 5, 3]])
    assert zero_order_entropy_bits(r) == pytest.approx(4 + 0 + 6)


def test_coded_residuals_are_the_p_frame_differences():
    rng = np.random.default_rng(0)
    values = np.cumsum(rng.normal(0, 0.1, (23, 4)), axis=0)
    track = Track(values, [TrackGroup("UNSPECIFIED", list("abcd"))], (25, 1))
    header = build_header(track, 7, intra_interval=10)
    result = decode_file(encode_track(track, header, EncoderConfig(intra_interval=10)))
    g = header.groups[0]
    q = quantize(values, np.float32(g.range_min), (np.float32(g.range_max) - np.float32(g.range_min)) / np.float32(127), 7)
    expected = np.diff(q, axis=0)[[t - 1 for t in range(1, 23) if t % 10]]  # frames 10 and 20 are I-frames
    assert np.array_equal(coded_p_residuals(result), expected)
