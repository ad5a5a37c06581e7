"""The loss-resilience tools of the parameter stream (SPEC 5.2.1, 5.3.1, 7.2, 14.4.2): intra centers
(R-220), Baseline intra residuals (R-221), Main intra signs (R-222), extrapolated concealment (R-223).

Expected values are computed by hand (bit patterns, the extrapolation formula on integers) or are
properties (intra prediction never changes what a stream decodes to); the conformance vectors
(conformance/stream/loss_tools.py, main_vectors.py) are checked against a decoder patched to the
other reading, which must fail them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import bits_to_bytes, same_f32

from refcodec.errors import E_RESIDUAL
from refcodec.fcs.decoder import FcsDecoder, FrameStatus, decode_file, decode_file_partial
from refcodec.fcs.encoder import EncoderConfig, build_header, encode_track
from refcodec.fcs.fuzzing import join_units, split_units
from refcodec.fcs.layout import SequenceHeader
from refcodec.fcs.syntax import read_unit, write_unit
from refcodec.track import Track, TrackGroup

VECTORS = Path(__file__).resolve().parent.parent / "conformance" / "vectors" / "stream"

# A header by hand (SPEC 5.2): 30 fps, one EXPRESSION group of 2 dims at b = 3, intra prediction.
HEADER_BITS = (
    "011"  # unit_type 2
    + "00000001" + "00000000" + "00001010"  # seq_version 1, profile_idc 0, level_idc 10
    + "0000000000011110" + "0000000000000001" + "0000000000011110"  # 30/1 fps, max_intra_interval 30
    + "0" + "0" + "0"  # header_crc_flag, frame_crc_flag, avatar_binding_flag
    + "1" + "0" + "0" + "00"  # intra_pred_flag 1, conceal_extrapolate_flag 0, xdim_pred_flag 0, seq_reserved_2bits
    + "00000001" + "00000001" + "00000001" + "0010" + "0" + "0" + "00"  # 1 group, EXPRESSION, 2 dims, b = 3, flags
    + "0000" + "011" + "0000"  # dim 0: eg_order 0, intra_center 3, intra_order 0
    + "0" * 32 + "01000000111000000000000000000000"  # range [0.0, 7.0]
    + "0001" + "111" + "0001"  # dim 1: eg_order 1, intra_center 7, intra_order 1
    + "10111111100000000000000000000000" + "00111111100000000000000000000000"  # range [-1.0, 1.0]
)
# An I-frame: unit_type 1 = ue "010", frame_counter 0, range_update_flag 0, then two sek(v):
# dim 0: 5 - 3 = +2, order 0: codeNum 3 -> "00100"; dim 1: 0 - 7 = -7, order 1: codeNum 14,
# x = 14 + 2 = 16 = 0b10000, 5 bits -> 3 zeros + "10000" = "00010000".
I_FRAME_BITS = "010" + "0000" + "0" + "00100" + "00010000"


def _padded(bits: str) -> bytes:
    return bits_to_bytes(bits + "0" * (-len(bits) % 8))


def test_intra_prediction_by_hand():
    h = read_unit(_padded(HEADER_BITS), None)
    assert isinstance(h, SequenceHeader) and h.intra_pred_flag and not h.conceal_extrapolate_flag
    assert h.groups[0].intra_centers == [3, 7] and h.groups[0].intra_orders == [0, 1]
    assert write_unit(h) == _padded(HEADER_BITS)  # the writer produces the hand-made bits
    dec = FcsDecoder()
    dec.decode_unit(_padded(HEADER_BITS))
    (frame,) = dec.decode_unit(_padded(I_FRAME_BITS))
    assert frame.quantized.tolist() == [5, 0]
    # SPEC 6.5: dim 0 step 1.0 -> 5.0; dim 1 q = 0 -> -1.0
    assert same_f32(frame.values, np.array([5.0, -1.0], np.float32))


def test_intra_residual_out_of_range_is_located_at_the_element():
    # dim 1: +1 from center 7 at b = 3 -> 8 > 7; order 1: codeNum 1, x = 3 = 0b11, no leading zero -> "11"
    bad = "010" + "0000" + "0" + "00100" + "11"
    dec = FcsDecoder()
    dec.decode_unit(_padded(HEADER_BITS))
    with pytest.raises(E_RESIDUAL) as ei:
        dec.decode_unit(_padded(bad))
    assert (ei.value.field, ei.value.bit_offset) == ("intra_residual[0][1]", 3 + 4 + 1 + 5)


def _track(frames: int = 60, seed: int = 3) -> Track:
    rng = np.random.default_rng(seed)
    values = np.clip(0.5 + np.cumsum(rng.normal(0, 0.03, size=(frames, 5)), axis=0), 0, 1)
    return Track(values, [TrackGroup("ARKIT52", ["eyeBlinkLeft", "jawOpen", "mouthClose"], [8, 24, 26]),
                          TrackGroup("HEAD_ROTATION", ["x", "y"], [0, 1])], (30, 1))


@pytest.mark.parametrize("profile", [0, 1])
@pytest.mark.parametrize("interval", [1, 3, 30])
def test_intra_prediction_never_changes_the_decoded_frames(profile, interval):
    track = _track()
    cfg = EncoderConfig(interval, packet_frames=1 if profile else 0)
    plain = decode_file(encode_track(track, build_header(track, 8, interval, profile_idc=profile), cfg)).matrix()
    header = build_header(track, 8, interval, profile_idc=profile, intra_pred=True)
    assert header.intra_pred_flag and all(g.intra_centers for g in header.groups)
    predicted = decode_file(encode_track(track, header, cfg)).matrix()
    assert np.array_equal(plain.view(np.uint32), predicted.view(np.uint32))


def test_intra_prediction_makes_baseline_i_frames_cheaper():
    """Values resting near one level (two frames stretch the range to [0, 1]): a difference from the
    median needs a few bits where u(8) needs 8, so I-frames every 3 frames cost less."""
    track = _track(90)
    rng = np.random.default_rng(4)
    track.values[:] = 0.5 + rng.normal(0, 0.01, size=track.values.shape)
    track.values[0], track.values[1] = 0.0, 1.0
    sizes = [len(encode_track(track, build_header(track, 8, 3, intra_pred=p), EncoderConfig(3))) for p in (False, True)]
    assert sizes[1] < sizes[0] - 30  # about 3.5 bits saved on each of 150 I-frame values, less 8 bytes of centers and orders


def _extrapolated(q1: np.ndarray, q2: np.ndarray, top: np.ndarray) -> np.ndarray:
    """SPEC 7.2, R-223 by its formula: min(max(2 q1 - q2, 0), 2^b - 1)."""
    return np.minimum(np.maximum(2 * q1 - q2, 0), top)


@pytest.mark.parametrize("profile", [0, 1])
def test_concealed_frames_extrapolate_the_last_two_decoded_frames(profile):
    track = _track(40, seed=9)
    header = build_header(track, 8, 20, profile_idc=profile, conceal_extrapolate=True)
    units = split_units(encode_track(track, header, EncoderConfig(20, packet_frames=1)))
    lossless = decode_file(join_units(units))
    lost = {7, 8, 21}  # a run of two, then a loss right after the I-frame at 20 (no pair: held)
    damaged = decode_file_partial(join_units([u for i, u in enumerate(units) if i - 1 not in lost]))
    q = np.stack([f.quantized for f in lossless.frames])
    top = np.array([255] * 5)
    dec = FcsDecoder()
    dec.decode_unit(units[0])
    for t, frame in enumerate(damaged.frames):
        if frame.status == FrameStatus.DECODED:
            continue
        if 7 <= t < 20:
            expected_q = _extrapolated(q[6], q[5], top)
            dec._ranges = dec._seq_ranges
            assert same_f32(frame.values, dec._dequantize(expected_q)), t
        else:  # frames 21..39 follow the I-frame at 20 whose successor was lost: hold frame 20
            assert same_f32(frame.values, lossless.frames[20].values), t
    assert {f.status for f in damaged.frames[7:20]} >= {FrameStatus.CONCEALED_GAP, FrameStatus.CONCEALED_NO_REFERENCE}
    # the extrapolation differs from holding here, so the test can see the tool work
    assert not same_f32(damaged.frames[7].values, lossless.frames[6].values)


def _card(name: str) -> dict:
    return json.loads((VECTORS / f"{name}.json").read_text())


def _md5s(result) -> list[str]:
    import hashlib

    return [hashlib.md5(np.asarray(f.values, "<f4").tobytes()).hexdigest() for f in result.frames]


@pytest.mark.parametrize("name", ["y_conceal_extrapolate_gap", "y_conceal_extrapolate_clamp", "y_conceal_extrapolate_damaged",
                                  "y_conceal_extrapolate_restart", "y_main_conceal_extrapolate"])
def test_extrapolation_vectors_fail_a_decoder_that_holds(name, monkeypatch):
    card = _card(name)
    data = (VECTORS / card["file"]).read_bytes()
    expected = [f["md5"] for f in card["expected"]["frames"]]
    assert _md5s(decode_file_partial(data)) == expected
    original = FcsDecoder._activate

    def holding(self, h):
        h.conceal_extrapolate_flag = False
        original(self, h)

    monkeypatch.setattr(FcsDecoder, "_activate", holding)
    assert _md5s(decode_file_partial(data)) != expected


def test_extrapolation_clamps_at_both_ends():
    """y_conceal_extrapolate_clamp: the unclamped 2 q1 - q2 leaves [0, 63] in dimensions 0 and 1."""
    data = (VECTORS / "y_conceal_extrapolate_clamp.fcs").read_bytes()
    units = split_units(data)
    q = np.stack([f.quantized for f in decode_file(join_units(units[:15])).frames])  # frames 0..13 arrive
    raw = 2 * q[13] - q[12]
    assert raw[0] > 63 and raw[1] < 0


def test_a_failing_intra_frame_after_a_gap_outputs_no_gap_frames():
    """R-221: the check precedes the gap (the other reading would output two concealed_gap frames first)."""
    card = _card("y_intra_pred_damaged_after_gap")
    res = decode_file_partial((VECTORS / card["file"]).read_bytes())
    statuses = [f.status.value for f in res.frames]
    assert statuses == [f["status"] for f in card["expected"]["frames"]]
    assert statuses[6] == "concealed_error" and statuses[7:9] == ["concealed_gap", "concealed_gap"]
    assert len(res.frames) == 12
