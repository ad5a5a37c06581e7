"""The suite's own Main writer (conformance/stream/main_bits.py) against the reference encoder.

Two implementations written from SPEC 14 (one with LZMA's carry handling, one with an unbounded
``low``) must give the same bytes for the same quantized values: a difference is a bug in one of them.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.stream.main_bits import WideRangeEncoder, file_bytes, main_stream
from refcodec.fcs.decoder import decode_file
from refcodec.fcs.encoder import EncoderConfig
from refcodec.fcs.layout import GroupLayout, SequenceHeader
from refcodec.fcs.main_encoder import MainEncoder, nonzero_init_indices
from refcodec.fcs.rangecoder import Contexts, RangeDecoder
from refcodec.fcs.storage import write_file

VECTORS = __import__("pathlib").Path(__file__).resolve().parent.parent / "conformance" / "vectors" / "stream"


def _reference_units(h: SequenceHeader, q: np.ndarray, interval: int, packet_frames: int) -> list[bytes]:
    top = np.array([(1 << g.bit_depth) - 1 for g in h.groups for _ in range(g.dims)], np.float64)
    enc = MainEncoder(h, EncoderConfig(interval, packet_frames=packet_frames))
    return [enc.header_unit()] + enc.encode_frames(q / top) + enc.flush()


@st.composite
def streams(draw):
    depths = draw(st.lists(st.integers(1, 16), min_size=1, max_size=3))
    dims = [draw(st.integers(1, 4)) for _ in depths]
    frames = draw(st.integers(1, 40))
    interval = draw(st.integers(1, 16))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    top = np.array([(1 << b) - 1 for b, n in zip(depths, dims, strict=True) for _ in range(n)])
    step = draw(st.sampled_from([0, 1, 3, 1000]))
    moves = rng.integers(-step, step + 1, size=(frames, top.size)) * (rng.random((frames, top.size)) < 0.4)
    q = np.clip(rng.integers(0, top + 1) + np.cumsum(moves, axis=0), 0, top)
    groups, start = [], 0
    intra = draw(st.booleans())
    for b, n in zip(depths, dims, strict=True):
        block = q[:, start : start + n]
        predictor = draw(st.integers(0, 1))
        g = GroupLayout(0, b, [0.0] * n, [1.0] * n, [draw(st.integers(0, min(b, 15))) for _ in range(n)], n > 1 and draw(st.booleans()),
                        nonzero_init=nonzero_init_indices(block, interval, predictor), predictor=predictor)
        if intra:
            g.intra_centers = [int(rng.integers(0, (1 << b))) for _ in range(n)]
        groups.append(g)
        start += n
    h = SequenceHeader(groups, max_intra_interval=interval, frame_crc_flag=draw(st.booleans()), profile_idc=1, intra_pred_flag=intra)
    if draw(st.booleans()):  # cross-dimension references (SPEC 5.2.1, R-224): any earlier dimension, either sign
        h.xdim_pred_flag, j = True, 0
        for g in groups:
            g.xdim = [None] * g.dims
            for d in range(g.dims):
                if j and rng.random() < 0.6:
                    g.xdim[d] = (int(rng.integers(0, j)), int(rng.integers(0, 2)))
                j += 1
    return h, q, interval, draw(st.sampled_from([0, 1, 2, 7]))


@settings(max_examples=60, deadline=None)
@given(streams())
def test_independent_writer_equals_the_reference_encoder(case):
    h, q, interval, packet_frames = case
    ours = main_stream(h, q, interval, packet_frames)
    assert ours == _reference_units(h, q, interval, packet_frames)
    decoded = np.stack([f.quantized for f in decode_file(file_bytes(ours)).frames])
    assert np.array_equal(decoded, q)


def test_wide_encoder_round_trips_through_the_normative_decoder():
    """Random bins and bypass bins through the unbounded-low encoder, read back by SPEC 14.3.2's decoder."""
    rng = np.random.default_rng(5)
    plan = [(int(rng.integers(0, 3)), int(rng.random() < rng.random())) for _ in range(3000)]  # (context or bypass, bit)
    enc, ctx = WideRangeEncoder(), [[16384, 0] for _ in range(3)]
    for c, bit in plan:
        if c == 2:
            enc.encode_bypass(bit)
        else:
            enc.encode_bin(ctx[c], bit)
    data = enc.payload()
    dec, dctx = RangeDecoder(data), Contexts(3)
    got = [dec.bypass() if c == 2 else dec.bin(dctx, c) for c, _ in plan]
    assert got == [b for _, b in plan]
    assert not data.endswith(b"\0")


def test_range_update_packets_equal_the_reference_vector():
    """y_main_range_update_one_group (written by the reference encoder) rebuilt by the suite's writer."""
    data = (VECTORS / "y_main_range_update_one_group.fcs").read_bytes()
    res = decode_file(data)
    q = np.stack([f.quantized for f in res.frames])
    ours = main_stream(res.header, q, 10, 5, updates={10: {1: ([0.0, 0.0], [2.0, 2.0])}})
    assert file_bytes(ours) == data == write_file(ours)
