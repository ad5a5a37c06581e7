"""Loss process (SPEC 7): dropped, damaged and reordered units, checked frame by frame.

Requirements exercised: R-40, R-41, R-42, R-43, R-44 (an I-frame resumes decoding), R-45
(strict and resilient modes), R-22/R-23 (sequence header repeats and changes), R-11, R-31.

A known track is encoded unit by unit. Each scenario feeds some of the units (dropped,
damaged, extra headers) to the decoder, in strict and resilient mode, and compares the
output sequence (count, statuses, values bitwise) with what SPEC 6-7 prescribe, computed
here by a small model of the rules from the intact decode:

- gap n = (counter - expected) mod 16 > 0: n concealed_gap frames first, reference := none;
- P-frame with no reference: one concealed_no_reference frame, reference stays none;
- I-frame: decoded, restores the reference, sets the active ranges (sequence ranges
  replaced by its own updates);
- damaged frame unit (resilient): one concealed_error frame, reference := none, expected
  counter + 1; damaged header: discarded; strict mode: the first error raises;
- concealed frame = last good vector (zeros if none); a different header resets everything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from helpers import crc32_ref, expected_values, same_f32

from refcodec.errors import FcError
from refcodec.fcs.decoder import FcsDecoder, FrameStatus, decode_file
from refcodec.fcs.encoder import EncoderConfig, FcsEncoder
from refcodec.fcs.layout import GroupLayout, SequenceHeader
from refcodec.fcs.storage import write_file
from refcodec.fcs.syntax import write_unit

INTERVAL = 10
N = 48
UPDATE_AT = 20  # the I-frame at t=20 carries a range update of group 0
UPDATE = {0: ([-0.5, -0.5, -0.5], [0.75, 0.75, 0.75])}  # binary32-exact


def make_header(**kw) -> SequenceHeader:
    args = dict(max_intra_interval=INTERVAL, frame_crc_flag=True, header_crc_flag=True)
    args.update(kw)
    return SequenceHeader(
        groups=[GroupLayout(1, 6, [-1.0] * 3, [1.0] * 3, [1, 1, 0]),
                GroupLayout(3, 10, [-0.5] * 3, [0.5] * 3, [2, 2, 2], zero_flag_enabled=True)],
        **args)


def make_values(n: int = N) -> np.ndarray:
    t = np.arange(n)[:, None]
    g0 = 0.6 * np.sin(0.15 * t + np.array([0.0, 1.0, 2.0]))
    g1 = 0.3 * np.cos(0.05 * t + np.array([0.5, 1.5, 2.5]))
    g1[25:33] = g1[24]  # held: P-frames with group_zero_flag
    return np.concatenate([g0, g1], axis=1)


@dataclass
class Truth:
    intra: bool
    counter: int
    q: np.ndarray
    values: np.ndarray
    rmin: np.ndarray
    rmax: np.ndarray
    residual: np.ndarray | None


@dataclass
class Stream:
    header: bytes
    frames: list[bytes]  # frame unit of frame t
    truth: list[Truth]
    depth: np.ndarray


def build_stream(header: SequenceHeader, values: np.ndarray, interval: int, updates: dict[int, dict]) -> Stream:
    enc = FcsEncoder(header, EncoderConfig(intra_interval=interval))
    frames = []
    for t, x in enumerate(values):
        units = enc.encode_frame(x, range_update=updates.get(t))
        assert len(units) == 1
        frames.append(units[0])
    hdr = enc.header_unit()
    # the truth: the intact stream's decode (checked bit-exactly by the round-trip tests),
    # with the ranges each I-frame puts in effect derived from SPEC 6.3 here.
    res = decode_file(write_file([hdr] + frames), strict=True)
    assert [f.status for f in res.frames] == [FrameStatus.DECODED] * len(values)
    depth = np.array([g.bit_depth for g in header.groups for _ in range(g.dims)])
    seq_min = np.array([v for g in header.groups for v in g.range_min], np.float32)
    truth = []
    rmin = rmax = None
    for t, f in enumerate(res.frames):
        intra = t % interval == 0
        assert f.frame_type == ("I" if intra else "P")
        if intra:
            mins = [updates.get(t, {}).get(g, (grp.range_min, grp.range_max))[0] for g, grp in enumerate(header.groups)]
            maxs = [updates.get(t, {}).get(g, (grp.range_min, grp.range_max))[1] for g, grp in enumerate(header.groups)]
            rmin = np.array([v for m in mins for v in m], np.float32)
            rmax = np.array([v for m in maxs for v in m], np.float32)
        assert same_f32(f.values, expected_values(f.quantized, rmin, rmax, depth))
        residual = None if intra else f.quantized - truth[-1].q
        truth.append(Truth(intra, t % 16, f.quantized, f.values, rmin, rmax, residual))
    if UPDATE_AT in updates:
        assert not np.array_equal(truth[UPDATE_AT].rmin, seq_min)
    return Stream(hdr, frames, truth, depth)


@pytest.fixture(scope="module")
def stream() -> Stream:
    return build_stream(make_header(), make_values(), INTERVAL, {UPDATE_AT: UPDATE})


def corrupt_crc(unit: bytes) -> bytes:
    """Flip one bit of the frame_crc byte: the unit then fails with E_CRC."""
    return unit[:-1] + bytes([unit[-1] ^ 0x10])


# ----------------------------------------------------------------------------- the model
def model(items, s: Stream, strict: bool):
    """Expected [(status, values)] and the error class that stops a strict decoder (or None).

    items: ("H", key) a header (same key = identical header), ("Hbad",) a damaged header,
    ("R",) a reserved unit, ("F", t) frame t intact, ("Fbad", t, cls) frame t damaged.
    """
    dims = len(s.depth)
    out = []
    key = ref = last = expected = rmin = rmax = None

    def held():
        return last.copy() if last is not None else np.zeros(dims, np.float32)

    def bump():
        return None if expected is None else (expected + 1) % 16

    for item in items:
        kind = item[0]
        if kind == "H":
            if item[1] != key:
                key, ref, last, expected, rmin, rmax = item[1], None, None, None, None, None
            continue
        if kind == "R":
            continue
        if kind == "Hbad":
            if strict:
                return out, "header-error"
            continue
        t = item[1]
        tr = s.truth[t]
        if kind == "Fbad":
            if strict:
                return out, item[2]
            out.append((FrameStatus.CONCEALED_ERROR, held()))
            ref, expected = None, bump()
            continue
        if expected is not None:
            gap = (tr.counter - expected) % 16
            if gap:
                out.extend((FrameStatus.CONCEALED_GAP, held()) for _ in range(gap))
                ref = None
        if tr.intra:
            q = tr.q
            rmin, rmax = tr.rmin, tr.rmax
        elif ref is None:
            out.append((FrameStatus.CONCEALED_NO_REFERENCE, held()))
            expected = (tr.counter + 1) % 16
            continue
        else:
            q = ref + tr.residual
            if np.any(q < 0) or np.any(q > (1 << s.depth) - 1):
                if strict:
                    return out, "E_RESIDUAL"
                out.append((FrameStatus.CONCEALED_ERROR, held()))
                ref, expected = None, bump()
                continue
        v = expected_values(q, rmin, rmax, s.depth)
        out.append((FrameStatus.DECODED, v))
        ref, last, expected = q, v, (tr.counter + 1) % 16
    return out, None


def units_for(items, s: Stream, headers: dict) -> list[bytes]:
    out = []
    for item in items:
        kind = item[0]
        if kind == "H":
            out.append(headers[item[1]])
        elif kind == "Hbad":
            h = bytearray(headers["A"])
            h[3] ^= 0x01  # inside the frame rates: caught by header_crc
            out.append(bytes(h))
        elif kind == "R":
            out.append(bytes([0b00100101, 0xAB]))  # unit_type 3: reserved
        elif kind == "F":
            out.append(s.frames[item[1]])
        else:
            out.append(corrupt_crc(s.frames[item[1]]))
    return out


def run_scenario(items, s: Stream, headers: dict | None = None):
    headers = headers or {"A": s.header}
    units = units_for(items, s, headers)
    for strict in (True, False):
        want, want_err = model(items, s, strict)
        dec = FcsDecoder(strict=strict)
        got, err = [], None
        for i, u in enumerate(units):
            try:
                got.extend(dec.decode_unit(u, i))
            except FcError as e:
                err = e
                break
        assert [f.status for f in got] == [w[0] for w in want], f"strict={strict}"
        for i, (f, (_, v)) in enumerate(zip(got, want, strict=True)):
            assert same_f32(f.values, v), f"strict={strict}, output frame {i}"
        if want_err is None:
            assert err is None, f"strict={strict}: unexpected {err}"
        else:
            assert err is not None, f"strict={strict}: expected {want_err}"
            if want_err != "header-error":
                assert err.error_class == want_err
        # the whole-file API agrees
        if want_err is None:
            res = decode_file(write_file(units), strict=strict)
            assert [f.status for f in res.frames] == [w[0] for w in want]
            assert all(same_f32(f.values, w[1]) for f, w in zip(res.frames, want, strict=True))
        elif strict:
            with pytest.raises(FcError) as ei:
                decode_file(write_file(units), strict=True)
            assert ei.value.error_class == err.error_class
    return model(items, s, False)[0]


def frames(ts) -> list[tuple]:
    return [("F", t) for t in ts]


# ----------------------------------------------------------------------------- scenarios
def test_intact(stream):
    out = run_scenario([("H", "A")] + frames(range(N)), stream)
    assert len(out) == N and all(st == FrameStatus.DECODED for st, _ in out)


def test_drop_one_p_frame(stream):
    items = [("H", "A")] + frames(t for t in range(N) if t != 5)
    out = run_scenario(items, stream)
    assert len(out) == N
    sts = [st for st, _ in out]
    assert sts[5] == FrameStatus.CONCEALED_GAP
    assert sts[6:10] == [FrameStatus.CONCEALED_NO_REFERENCE] * 4
    assert sts[10] == FrameStatus.DECODED
    for i in range(5, 10):  # all hold frame 4, bitwise
        assert same_f32(out[i][1], stream.truth[4].values)


def test_drop_several_p_frames(stream):
    items = [("H", "A")] + frames(t for t in range(N) if t not in (3, 4, 5, 13))
    out = run_scenario(items, stream)
    sts = [st for st, _ in out]
    assert len(out) == N
    assert sts[3:6] == [FrameStatus.CONCEALED_GAP] * 3
    assert sts[13] == FrameStatus.CONCEALED_GAP


def test_corrupt_p_frame_crc(stream):
    items = [("H", "A")] + frames(range(7)) + [("Fbad", 7, "E_CRC")] + frames(range(8, N))
    out = run_scenario(items, stream)
    sts = [st for st, _ in out]
    assert len(out) == N
    assert sts[7] == FrameStatus.CONCEALED_ERROR
    assert sts[8:10] == [FrameStatus.CONCEALED_NO_REFERENCE] * 2
    assert sts[10] == FrameStatus.DECODED
    assert same_f32(out[9][1], stream.truth[6].values)


def test_corrupt_i_frame_crc(stream):
    items = [("H", "A")] + frames(range(10)) + [("Fbad", 10, "E_CRC")] + frames(range(11, N))
    out = run_scenario(items, stream)
    sts = [st for st, _ in out]
    assert len(out) == N
    assert sts[10] == FrameStatus.CONCEALED_ERROR
    assert sts[11:20] == [FrameStatus.CONCEALED_NO_REFERENCE] * 9
    assert sts[20] == FrameStatus.DECODED


def test_corrupt_payload_bit_any_error_is_concealed(stream):
    """A flipped payload bit of a CRC-protected P-frame: some error, one concealed frame."""
    for bit in range(1, len(stream.frames[3]) * 8):
        u = bytearray(stream.frames[3])
        u[bit // 8] ^= 0x80 >> (bit % 8)
        dec = FcsDecoder(strict=False)
        out = [f for x in [stream.header, *stream.frames[:3], bytes(u), stream.frames[4]] for f in dec.decode_unit(x)]
        sts = [f.status for f in out]
        assert sts == [FrameStatus.DECODED] * 3 + [FrameStatus.CONCEALED_ERROR, FrameStatus.CONCEALED_NO_REFERENCE], (bit, sts)
        assert all(same_f32(f.values, stream.truth[2].values) for f in out[3:])
        with pytest.raises(FcError):
            _strict_run([stream.header, *stream.frames[:3], bytes(u)])


def test_unit_type_flip_to_reserved_is_a_silent_loss(stream):
    """Flipping the first bit of a P-frame (unit_type '1' -> '0') can make its unit_type a reserved
    value: the unit is then skipped without any check (SPEC 5.1, R-11) and the loss is only seen
    as a counter gap at the next frame. Here '0' + frame_counter 0011 reads as ue(v) = 5."""
    u = bytearray(stream.frames[3])
    assert u[0] >> 3 == 0b10011  # unit_type '1', frame_counter 3
    u[0] ^= 0x80
    items_units = [stream.header, *stream.frames[:3], bytes(u), *stream.frames[4:]]
    for strict in (True, False):
        res = decode_file(write_file(items_units), strict=strict)
        assert [e.kind for e in res.events][4] == "reserved"
        want, _ = model([("H", "A")] + frames(t for t in range(N) if t != 3), stream, strict)
        assert [f.status for f in res.frames] == [w[0] for w in want]
        assert res.frames[3].status == FrameStatus.CONCEALED_GAP


def _strict_run(units):
    dec = FcsDecoder(strict=True)
    for u in units:
        dec.decode_unit(u)


def test_drop_i_frame(stream):
    items = [("H", "A")] + frames(t for t in range(N) if t != 10)
    out = run_scenario(items, stream)
    sts = [st for st, _ in out]
    assert len(out) == N
    assert sts[10] == FrameStatus.CONCEALED_GAP
    assert sts[11:20] == [FrameStatus.CONCEALED_NO_REFERENCE] * 9
    assert sts[20] == FrameStatus.DECODED
    assert all(same_f32(v, stream.truth[9].values) for _, v in out[10:20])


def test_drop_first_i_frame_conceals_with_zeros(stream):
    items = [("H", "A")] + frames(range(1, N))
    out = run_scenario(items, stream)
    sts = [st for st, _ in out]
    # the expected counter is unknown before the first frame: no gap is seen
    assert len(out) == N - 1
    assert sts[:9] == [FrameStatus.CONCEALED_NO_REFERENCE] * 9
    assert all(same_f32(v, np.zeros(6, np.float32)) for _, v in out[:9])
    assert not any(np.signbit(v).any() for _, v in out[:9])  # +0.0
    assert sts[9] == FrameStatus.DECODED


def test_lost_range_update_i_frame(stream):
    """Frames after a lost range-update I-frame are dropped; the next I-frame reverts to the sequence ranges."""
    items = [("H", "A")] + frames(t for t in range(N) if t != UPDATE_AT)
    out = run_scenario(items, stream)
    sts = [st for st, _ in out]
    assert sts[UPDATE_AT] == FrameStatus.CONCEALED_GAP
    assert sts[UPDATE_AT + 1 : UPDATE_AT + INTERVAL] == [FrameStatus.CONCEALED_NO_REFERENCE] * (INTERVAL - 1)
    assert sts[UPDATE_AT + INTERVAL] == FrameStatus.DECODED
    # frame 30 decodes with the sequence ranges, exactly as in the intact stream
    t30 = stream.truth[UPDATE_AT + INTERVAL]
    assert same_f32(out[UPDATE_AT + INTERVAL][1], t30.values)
    assert same_f32(t30.rmin, np.array([-1.0] * 3 + [-0.5] * 3, np.float32))
    assert not same_f32(stream.truth[UPDATE_AT].rmin, t30.rmin)


def test_drop_16_frames_undetected(stream):
    """16 lost frames wrap the 4-bit counter: undetectable (SPEC 7.1).

    Frames 3..18 are lost (the I-frame at 10 among them). Frame 19 carries counter 3, which is
    what the decoder expects after frame 2: no gap is seen, and its residual (q19 - q18) is
    applied to the old reference q2 with the ranges of the I-frame at 0. The output is a
    "decoded" frame with wrong values, or E_RESIDUAL if the sum leaves [0, 2^b - 1].
    """
    items = [("H", "A")] + frames(t for t in range(N) if not 3 <= t <= 18)
    out = run_scenario(items, stream)
    assert len(out) == N - 16
    assert out[3][0] == FrameStatus.DECODED  # frame 19, wrongly reconstructed
    q = stream.truth[2].q + stream.truth[19].residual
    assert same_f32(out[3][1], expected_values(q, stream.truth[0].rmin, stream.truth[0].rmax, stream.depth))
    assert not same_f32(out[3][1], stream.truth[19].values)
    assert out[4][0] == FrameStatus.DECODED and same_f32(out[4][1], stream.truth[20].values)  # the I-frame at 20 resynchronises


def test_drop_16_frames_residual_out_of_range():
    """The same wrap, but the stale reference makes the sum negative: E_RESIDUAL.

    Strict mode stops there; resilient mode conceals it (concealed_error), drops nothing else
    and resumes at the next I-frame, whose counter matches the incremented expected counter.
    """
    vals = np.zeros((25, 6))
    vals[:, 0] = np.where(np.arange(25) <= 2, -1.0, 0.5)  # q = 0 up to frame 2, then mid-range
    vals[19, 0] = 0.0  # frame 19: residual < 0 against frame 18
    s = build_stream(make_header(max_intra_interval=20), vals, 20, {})
    assert s.truth[19].residual[0] < 0 and s.truth[2].q[0] == 0
    items = [("H", "A")] + frames(t for t in range(25) if not 3 <= t <= 18)
    out = run_scenario(items, s)
    assert [st for st, _ in out] == [FrameStatus.DECODED] * 3 + [FrameStatus.CONCEALED_ERROR] + [FrameStatus.DECODED] * 5
    strict_out, err = model(items, s, True)
    assert err == "E_RESIDUAL" and len(strict_out) == 3


def test_repeated_identical_header_has_no_effect(stream):
    items = [("H", "A")] + frames(range(15)) + [("H", "A")] + frames(range(15, N))
    out = run_scenario(items, stream)
    assert [st for st, _ in out] == [FrameStatus.DECODED] * N


def test_repeated_header_with_other_reserved_bits_and_crc_has_no_effect(stream):
    h = bytearray(stream.header)
    # seq_reserved_2bits: unit_type (3 bits) + 78 bits of fields before them -> bits 81..82
    for bit in range(81, 83):
        h[bit // 8] ^= 0x80 >> (bit % 8)
    body = bytes(h[:-4])
    h2 = body + crc32_ref(body).to_bytes(4, "big")
    assert h2 != stream.header
    items = [("H", "A")] + frames(range(15)) + [("H", "A2")] + frames(range(15, N))
    dec_items = [("H", "A")] + frames(range(15)) + [("H", "A")] + frames(range(15, N))  # the model: same header
    units = units_for(items, stream, {"A": stream.header, "A2": h2})
    for strict in (True, False):
        res = decode_file(write_file(units), strict=strict)
        want, _ = model(dec_items, stream, strict)
        assert [f.status for f in res.frames] == [w[0] for w in want] == [FrameStatus.DECODED] * N


def test_different_header_resets_decoder(stream):
    other = write_unit(make_header(max_intra_interval=INTERVAL + 1))  # same frame syntax, different header
    items = [("H", "A")] + frames(range(15)) + [("H", "B")] + frames(range(15, N))
    out = run_scenario(items, stream, {"A": stream.header, "B": other})
    sts = [st for st, _ in out]
    assert len(out) == N
    assert sts[15:20] == [FrameStatus.CONCEALED_NO_REFERENCE] * 5  # no reference, counter unknown
    assert all(same_f32(v, np.zeros(6, np.float32)) for _, v in out[15:20])  # last good forgotten
    assert sts[20:] == [FrameStatus.DECODED] * (N - 20)


def test_damaged_header_discarded(stream):
    items = [("H", "A")] + frames(range(12)) + [("Hbad",)] + frames(range(12, N))
    out = run_scenario(items, stream)
    assert [st for st, _ in out] == [FrameStatus.DECODED] * N


def test_reserved_units_change_nothing(stream):
    items = [("H", "A"), ("R",)] + frames(range(5)) + [("R",), ("R",)] + frames(range(5, N))
    out = run_scenario(items, stream)
    assert [st for st, _ in out] == [FrameStatus.DECODED] * N


def test_corruption_then_gap(stream):
    """A damaged unit advances the expected counter by one; a loss right after is a gap of 1."""
    items = [("H", "A")] + frames(range(4)) + [("Fbad", 4, "E_CRC")] + frames(range(6, N))
    out = run_scenario(items, stream)
    sts = [st for st, _ in out]
    assert len(out) == N
    assert sts[4:6] == [FrameStatus.CONCEALED_ERROR, FrameStatus.CONCEALED_GAP]


def test_reordered_frames(stream):
    """Frames 5 and 6 swapped: a gap of 1 before 6; then counter 5 against expected 7 is a gap
    of 14 (then 5 itself, without reference); then 7 against expected 6 is a gap of 1."""
    items = [("H", "A")] + frames([0, 1, 2, 3, 4, 6, 5]) + frames(range(7, N))
    out = run_scenario(items, stream)
    sts = [st for st, _ in out]
    assert sts[5] == FrameStatus.CONCEALED_GAP
    assert sts[6] == FrameStatus.CONCEALED_NO_REFERENCE
    assert sts[7:21] == [FrameStatus.CONCEALED_GAP] * 14
    assert sts[21] == FrameStatus.CONCEALED_NO_REFERENCE
    assert sts[22] == FrameStatus.CONCEALED_GAP
    assert len(out) == N + 16


def test_every_single_drop_matches_model(stream):
    for drop in range(N):
        run_scenario([("H", "A")] + frames(t for t in range(N) if t != drop), stream)


def test_every_single_corruption_matches_model(stream):
    for bad in range(0, N, 3):
        run_scenario([("H", "A")] + frames(range(bad)) + [("Fbad", bad, "E_CRC")] + frames(range(bad + 1, N)), stream)


def test_random_loss_patterns_match_model(stream):
    rng = np.random.default_rng(11)
    for _ in range(40):
        items = [("H", "A")]
        for t in range(N):
            r = rng.random()
            if r < 0.15:
                continue
            items.append(("Fbad", t, "E_CRC") if r < 0.22 else ("F", t))
            if rng.random() < 0.03:
                items.append(("R",))
        run_scenario(items, stream)
