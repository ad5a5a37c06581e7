"""The Main profile (SPEC 14): range coder, packet units, adaptive state, loss rules.

Expected values come from hand computation (coder bytes and probabilities), from the Baseline
profile (an independent decoding path of the same quantized integers) or from properties.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refcodec.errors import E_CRC, E_EXPGOLOMB, E_RESIDUAL, E_UNIT_SIZE, E_VALUE
from refcodec.fcs.decoder import FcsDecoder, FrameStatus, decode_file
from refcodec.fcs.encoder import EncoderConfig, build_header, encode_track
from refcodec.fcs.layout import UNIT_P_FRAME, GroupLayout, SequenceHeader
from refcodec.fcs.main_encoder import MainEncoder
from refcodec.fcs.main_profile import (
    D_NONZERO,
    D_PREFIX0,
    G_PREFIX,
    G_SIGN,
    UNARY_BINS,
    MainPacket,
    MainState,
    decode_payload,
    encode_payload,
)
from refcodec.fcs.rangecoder import Contexts, RangeDecoder, RangeEncoder
from refcodec.fcs.storage import iter_units, write_file
from refcodec.fcs.syntax import read_unit, write_unit
from refcodec.track import Track, TrackGroup


# -- the range coder (SPEC 14.3) ------------------------------------------------------------------
def test_bypass_bins_by_hand():
    """One bypass 1 leaves [0x7FFFFFFF, 0xFFFFFFFF): the value with most trailing zero bytes is
    0x80000000, so the payload is the single byte 0x80; a bypass 0 leaves [0, 0x7FFFFFFF): value 0,
    empty payload (R-121: the decoder reads zeros). Two 1s: [0xBFFFFFFF, 0xFFFFFFFF) -> 0xC0."""
    for bins, expected in (([1], b"\x80"), ([0], b""), ([1, 1], b"\xc0"), ([0, 1], b"\x40")):
        enc = RangeEncoder()
        for b in bins:
            enc.bypass(b)
        assert enc.finish() == expected
        dec = RangeDecoder(expected)
        assert [dec.bypass() for _ in bins] == bins


def test_context_adaptation_by_hand():
    """R-122: from p = 16384, n = 0 a 0 adds (32768 - 16384) >> 2 = 4096; a following 1 removes
    20480 >> 2 = 5120 (n = 1, shift 2); the fast start ends at n = 2 (shift 3)."""
    ctx = Contexts(1)
    enc = RangeEncoder()
    enc.bin(ctx, 0, 0)
    assert (ctx.p[0], ctx.n[0]) == (20480, 1)
    # the first bound: (0xFFFFFFFF >> 15) * 16384 = 0x1FFFF * 0x4000
    assert enc.rng == 0x1FFFF * 0x4000
    enc.bin(ctx, 0, 1)
    assert (ctx.p[0], ctx.n[0]) == (15360, 2)
    enc.bin(ctx, 0, 1)
    assert ctx.p[0] == 15360 - (15360 >> 3)


def test_counter_saturates_and_probability_stays_inside():
    ctx = Contexts(1)
    enc = RangeEncoder()
    for _ in range(500):
        enc.bin(ctx, 0, 0)
    assert ctx.n[0] == 30 and 1 <= ctx.p[0] <= 32767
    for _ in range(500):
        enc.bin(ctx, 0, 1)
    assert 1 <= ctx.p[0] <= 32767


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 1)), max_size=600), st.floats(0.0, 1.0))
def test_coder_round_trip(ops, skew):
    """Any bin sequence decodes back; the payload never ends with 0 and never exceeds the bytes the
    decoder reads (R-121, R-123); encoder and decoder end with the same rng (R-128)."""
    ops = [(i, b if i else int(skew > 0.5)) for i, b in ops]  # context 0 very skewed, bypass for i == 4
    enc, ce = RangeEncoder(), Contexts(4)
    for i, b in ops:
        enc.bypass(b) if i == 4 else enc.bin(ce, i, b)
    data = enc.finish()
    assert not data.endswith(b"\x00")
    dec, cd = RangeDecoder(data), Contexts(4)
    assert [dec.bypass() if i == 4 else dec.bin(cd, i) for i, _ in ops] == [b for _, b in ops]
    assert len(data) <= dec.consumed()
    assert dec.rng == enc.rng and cd.p == ce.p


# -- whole streams (SPEC 14.1, 14.2) ---------------------------------------------------------------
def _track(frames: int = 97, seed: int = 3) -> Track:
    rng = np.random.default_rng(seed)
    values = np.cumsum(rng.normal(0, 0.02, size=(frames, 7)), axis=0)
    values[20:40] = values[19]  # all-zero frames
    values[50:60, 4:] = values[49, 4:]  # an all-zero group
    values[70, 0] += 3.0  # a jump: escape codes at 10 bits
    return Track(values, [TrackGroup("ARKIT52", ["jawOpen", "mouthClose", "mouthFunnel", "mouthPucker"], [24, 26, 31, 37]),
                          TrackGroup("HEAD_ROTATION", ["x", "y", "z"])], (30, 1))


@pytest.mark.parametrize("packet_frames", [0, 1, 7])
@pytest.mark.parametrize("bits", [3, 10, 16])
def test_main_decodes_like_baseline(packet_frames, bits):
    """R-120: a Main stream decodes to the same frames as the Baseline stream of the same integers
    (decoded by the independent Baseline path), whatever the packetisation."""
    track = _track()
    base = decode_file(encode_track(track, build_header(track, bits, 30), EncoderConfig(30)))
    header = build_header(track, bits, 30, profile_idc=1)
    main = decode_file(encode_track(track, header, EncoderConfig(30, packet_frames=packet_frames)))
    assert main.header.profile_idc == 1
    assert np.array_equal(main.matrix().view(np.uint32), base.matrix().view(np.uint32))
    assert all(f.status == FrameStatus.DECODED for f in main.frames)


def test_main_smaller_than_baseline_on_lam(lam_track):
    base = encode_track(lam_track, build_header(lam_track, 8, 30), EncoderConfig(30))
    main = encode_track(lam_track, build_header(lam_track, 8, 30, profile_idc=1), EncoderConfig(30))
    assert len(main) < 0.85 * len(base)


def test_final_ranges_match_encoder():
    """R-128: the decoder's rng after every frame equals the encoder's."""
    track = _track()
    header = build_header(track, 10, 30, profile_idc=1)
    enc = MainEncoder(header, EncoderConfig(30, packet_frames=4))
    units = [enc.header_unit()] + enc.encode_frames(track.values) + enc.flush()
    frames = decode_file(write_file(units)).frames
    assert [f.final_range for f in frames] == enc.final_ranges
    assert all(0 < r < 1 << 32 for r in enc.final_ranges)


def test_packets_per_intra_period_and_counters():
    """R-125: one packet per I-frame period at packet_frames 0; counters advance by frame_count mod 256."""
    track = _track(frames=300)
    header = build_header(track, 8, 30, profile_idc=1)
    data = encode_track(track, header, EncoderConfig(30))
    packets = [read_unit(u.data, header) for u in list(iter_units(data))[1:]]
    assert [p.frame_count for p in packets] == [30] * 10
    assert all(p.is_intra for p in packets)
    assert [p.frame_counter for p in packets] == [(30 * i) % 256 for i in range(10)]


def test_reset_point_initialises_nonzero_contexts():
    """R-127: NZ contexts start at (2 idx + 1) * 1024 with n = 8, every other context at 16384, n = 0."""
    grp = GroupLayout(0, 8, [0.0], [1.0], [0], nonzero_init=[[0, 15, 7]])
    state = MainState(SequenceHeader([grp], profile_idc=1))
    base = state.dim_base[0] + D_NONZERO
    assert state.ctx.p[base : base + 3] == [1024, 31744, 15360]
    assert state.ctx.n[base : base + 3] == [8, 8, 8]
    others = [i for i in range(len(state.ctx.p)) if not base <= i < base + 3]
    assert {state.ctx.p[i] for i in others} == {16384} and {state.ctx.n[i] for i in others} == {0}


# -- loss (SPEC 7.4, 14.5) -------------------------------------------------------------------------
def _main_units(track: Track, packet_frames: int) -> tuple[SequenceHeader, list[bytes]]:
    header = build_header(track, 8, 30, profile_idc=1)
    enc = MainEncoder(header, EncoderConfig(30, packet_frames=packet_frames))
    return header, [enc.header_unit()] + enc.encode_frames(track.values) + enc.flush()


def _decode_units(units: list[bytes]) -> list:
    dec = FcsDecoder(strict=False)
    return [f for u in units for f in dec.decode_unit(u)]


@pytest.mark.parametrize("lost", [2, 5, 7, 9])
def test_lost_packet_never_corrupts_decoded_frames(lost):
    """R-129, R-130: after a lost packet, P packets are concealed until the next I-frame; every frame
    output as decoded equals the error-free frame; the gap is counted with the modulus 256."""
    track = _track(frames=120)
    _, units = _main_units(track, packet_frames=5)
    clean = _decode_units(units)
    damaged = _decode_units(units[:lost] + units[lost + 1 :])
    assert len(damaged) == len(clean)
    lost_first = (lost - 1) * 5
    next_intra = (lost_first // 30 + 1) * 30
    for i, (a, b) in enumerate(zip(clean, damaged, strict=True)):
        if b.status == FrameStatus.DECODED:
            assert np.array_equal(a.values, b.values)
            assert not lost_first <= i < next_intra
        else:
            assert lost_first <= i < next_intra
    assert [f.status for f in damaged[lost_first : lost_first + 5]] == [FrameStatus.CONCEALED_GAP] * 5


def test_damaged_packet_conceals_its_frames():
    """R-129: a packet failing its CRC is discarded with its frame_count frames (concealed_error)."""
    track = _track(frames=90)
    header = build_header(track, 8, 30, profile_idc=1, frame_crc=True)
    enc = MainEncoder(header, EncoderConfig(30, packet_frames=6))
    units = [enc.header_unit()] + enc.encode_frames(track.values) + enc.flush()
    bad = bytearray(units[3])
    bad[-2] ^= 0x10
    frames = _decode_units(units[:3] + [bytes(bad)] + units[4:])
    assert [f.status for f in frames[12:18]] == [FrameStatus.CONCEALED_ERROR] * 6
    assert all(f.status == FrameStatus.CONCEALED_NO_REFERENCE for f in frames[18:30])
    assert all(f.status == FrameStatus.DECODED for f in frames[30:])
    dec = FcsDecoder(strict=True)
    for u in units[:3]:
        dec.decode_unit(u)
    with pytest.raises(E_CRC):  # strict mode: the first error ends decoding
        dec.decode_unit(bytes(bad))


# -- rejections (SPEC 14.2 - 14.4) -----------------------------------------------------------------
def _one_dim_header() -> SequenceHeader:
    return SequenceHeader([GroupLayout(0, 8, [0.0], [1.0], [0], nonzero_init=[[8, 8, 8]])], profile_idc=1)


def test_frame_count_limit():
    """R-124: unit_type ue '1', frame_counter 0, frame_count_minus1 = 256 as ue(v): 8 zeros then
    257 = '100000001'; rejected with E_VALUE at the element (bit 9)."""
    h = _one_dim_header()
    bits = "1" + "0" * 8 + "0" * 8 + "100000001"
    bits += "0" * (-len(bits) % 8)
    unit = int(bits, 2).to_bytes(len(bits) // 8, "big")
    with pytest.raises(E_VALUE) as err:
        read_unit(unit, h)
    assert (err.value.field, err.value.bit_offset) == ("frame_count_minus1", 9)
    assert isinstance(read_unit(write_unit(MainPacket(UNIT_P_FRAME, 0, 256), h), h), MainPacket)


def test_payload_longer_than_read_is_rejected():
    """R-123: a byte appended after a one-frame payload lies beyond what the decoder reads."""
    h = _one_dim_header()
    state = MainState(h)
    payload, _ = encode_payload([[0]], False, state)
    # frame_zero_flag = 1 at p = 16384 leaves [0x1FFFF * 0x4000, 0xFFFFFFFF) = [0x7FFFC000, ...): value
    # 0x80000000, one byte; rng = 0x80003FFF needs no renormalisation, so the decoder reads 4 bytes
    assert payload == b"\x80"
    rows, _ = decode_payload(MainPacket(UNIT_P_FRAME, 0, 1, payload=b"\x80\x00\x00\x01"), MainState(h))
    assert rows == [[0]]  # 4 bytes: accepted (not canonical, but read)
    with pytest.raises(E_UNIT_SIZE):
        decode_payload(MainPacket(UNIT_P_FRAME, 0, 1, payload=b"\x80\x00\x00\x00\x01"), MainState(h))


def _escape_payload(zero_bins: int) -> bytes:
    """A P-frame of one dimension: nonzero, positive, 12 prefix ones, then ``zero_bins`` escape zeros."""
    h = _one_dim_header()
    state = MainState(h)
    enc, ctx = RangeEncoder(), state.ctx
    enc.bin(ctx, 0, 0)  # frame_zero_flag
    base, gbase = state.dim_base[0], state.group_base[0]
    enc.bin(ctx, base + D_NONZERO, 1)
    enc.bin(ctx, gbase + G_SIGN, 0)
    enc.bin(ctx, base + D_PREFIX0, 1)
    for u in range(1, UNARY_BINS):
        enc.bin(ctx, gbase + G_PREFIX + u, 1)
    for _ in range(zero_bins):
        enc.bypass(0)
    enc.bypass(1)
    for _ in range(zero_bins):
        enc.bypass(0)
    return enc.finish()


def test_escape_limit():
    """R-126: 16 leading zero bins decode (magnitude 12 + 2^16 - 1 + 1), 17 are rejected."""
    h = _one_dim_header()
    rows, _ = decode_payload(MainPacket(UNIT_P_FRAME, 0, 1, payload=_escape_payload(16)), MainState(h))
    assert rows == [[12 + (1 << 16) - 1 + 1]]
    with pytest.raises(E_EXPGOLOMB):
        decode_payload(MainPacket(UNIT_P_FRAME, 0, 1, payload=_escape_payload(17)), MainState(h))


def test_residual_out_of_range_names_the_payload():
    """R-131: q = 0 in the I-frame, then a residual -1: E_RESIDUAL at the payload's offset."""
    h = _one_dim_header()
    payload, _ = encode_payload([[0], [-1]], True, MainState(h))
    unit = write_unit(MainPacket(1, 0, 2, payload=payload), h)
    dec = FcsDecoder(strict=True)
    dec.decode_unit(write_unit(h))
    with pytest.raises(E_RESIDUAL) as err:
        dec.decode_unit(unit)
    assert err.value.field == "residual_nonzero_flag[0][0]"
    assert err.value.bit_offset == 8 * (len(unit) - len(payload))


@pytest.fixture(scope="module")
def lam_track():
    from pathlib import Path

    from refcodec.importers import load_track

    return load_track(Path(__file__).resolve().parents[1] / "samples/lam_p2-1/test_expression_1s.json")


# -- tools (fcenc --profile main, fcdec, fcdump) --------------------------------------------------
def test_fcenc_main_fcdec_and_fcdump(tmp_path, capsys):
    """fcenc --profile main writes profile_idc 1; fcdec decodes it to fcenc's own reconstruction; fcdump
    traces the payload elements with the coder state, and the elements' costs add up to the payload size
    within the coder's 4-byte look-ahead and its termination."""
    from refcodec.fcs.inspect import summarize, trace_file
    from refcodec.importers import save_track
    from tools import fcdec, fcdump, fcenc

    track = _track(frames=75)
    src = tmp_path / "t.npz"
    save_track(track, src)
    out = tmp_path / "t.fcs"
    assert fcenc.main([str(src), "-o", str(out), "--profile", "main", "--packet-frames", "10", "--ranges", "data"]) == 0
    data = out.read_bytes()
    result = decode_file(data)
    assert result.header.profile_idc == 1 and len(result.frames) == 75
    assert fcdec.main([str(out), "-o", str(tmp_path / "t.npz.out.npz")]) == 0
    trace = trace_file(data)
    assert trace.error is None
    packets = [u for u in trace.units if u.frame_types]
    assert sum(len(u.frame_types) for u in packets) == 75
    for u in packets:
        payload = next(e for e in u.entries if e.name == "packet_payload")
        cost = sum(b[4] for b in u.bins)
        assert -40 <= cost - len(payload.bits) <= 40
        assert {b[1].split("[")[0] for b in u.bins} <= {"intra_value", "frame_zero_flag", "group_zero_flag", "residual"}
    summary = summarize(trace)
    assert summary["frames_by_type"]["I"] + summary["frames_by_type"]["P"] == 75
    assert {g["group"] for g in summary["groups"]} == {0, 1}
    capsys.readouterr()
    assert fcdump.main([str(out), "--max-units", "2"]) == 0
    text = capsys.readouterr().out
    assert "frame 0 (I) intra_value[0][0]" in text and "rng=" in text


@pytest.mark.parametrize(("predictor", "expected"), [(0, [10, 14, 14, 13, 11]), (1, [10, 14, 16, 16, 14])])
def test_predictors_by_hand(predictor, expected):
    """R-132: residuals 4, 0, -1, -2 after an I-frame value 10. Predictor 0: 14, 14, 13, 11. Momentum:
    the first P-frame uses the reference alone (14); then 14 + floor(4 / 2) = 16; 16 + floor(2 / 2) + -1 = 16;
    16 + floor(0 / 2) - 2 = 14."""
    grp = GroupLayout(0, 8, [0.0], [1.0], [0], nonzero_init=[[8, 8, 8]], predictor=predictor)
    h = SequenceHeader([grp], profile_idc=1)
    payload, _ = encode_payload([[10], [4], [0], [-1], [-2]], True, MainState(h))
    dec = FcsDecoder()
    dec.decode_unit(write_unit(h))
    frames = dec.decode_unit(write_unit(MainPacket(1, 0, 5, payload=payload), h))
    assert [int(f.quantized[0]) for f in frames] == expected


def test_momentum_rounds_down():
    """R-132: floor((q1 - q2) / 2) for a negative change: 20 -> 15 gives pred 15 + floor(-5 / 2) = 12."""
    grp = GroupLayout(0, 8, [0.0], [1.0], [0], nonzero_init=[[8, 8, 8]], predictor=1)
    h = SequenceHeader([grp], profile_idc=1)
    payload, _ = encode_payload([[20], [-5], [0]], True, MainState(h))
    dec = FcsDecoder()
    dec.decode_unit(write_unit(h))
    assert [int(f.quantized[0]) for f in dec.decode_unit(write_unit(MainPacket(1, 0, 3, payload=payload), h))] == [20, 15, 12]
