"""Encode -> decode round trips over random layouts, ranges and encoder settings (SPEC 5, 6).

Requirements exercised: R-05 and R-30 (bit-exact binary32 dequantization), R-31, R-32, R-33,
R-23 (repeated headers), R-34 (one vector of N binary32 values per frame).

The expected quantized integers are recomputed here from the ranges in effect
(refcodec.quant.quantize is the encoder's informative process; the ranges, the I-frame
schedule and the range updates are derived independently), and the expected floats from
SPEC 6.5 with numpy binary32, compared bitwise.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import expected_step, expected_values, same_f32
from hypothesis import given, settings
from hypothesis import strategies as st

from refcodec.errors import FcError
from refcodec.fcs.decoder import FcsDecoder, FrameStatus, decode_file
from refcodec.fcs.encoder import EncoderConfig, encode_track
from refcodec.fcs.layout import GroupLayout, SequenceHeader
from refcodec.fcs.storage import iter_units, read_units
from refcodec.fcs.syntax import range_error, read_unit, write_unit
from refcodec.quant import quantize
from refcodec.spec_tables import canonical_dims
from refcodec.track import Track, TrackGroup

F32_MAX = float(np.finfo(np.float32).max)


def f32_down(x: np.ndarray) -> np.ndarray:
    """Largest binary32 <= x (elementwise)."""
    out = []
    for v in np.ravel(x):
        f = np.float32(v)
        if float(f) > v:
            f = np.nextafter(f, np.float32(-np.inf))
        out.append(f)
    return np.array(out, dtype=np.float32)


def f32_up(x: np.ndarray) -> np.ndarray:
    """Smallest binary32 >= x (elementwise)."""
    out = []
    for v in np.ravel(x):
        f = np.float32(v)
        if float(f) < v:
            f = np.nextafter(f, np.float32(np.inf))
        out.append(f)
    return np.array(out, dtype=np.float32)


def width_ok(lo: float, hi: float, depth: int = 16) -> bool:
    """A valid range per R-16 (finite width and a finite top level at this bit depth)."""
    return range_error(float(np.float32(lo)), float(np.float32(hi)), depth) is None


def _f(v: float) -> float:
    return float(np.float32(v))


finite32 = st.floats(width=32, allow_nan=False, allow_infinity=False)


@st.composite
def ranges(draw, depth: int = 16):
    kind = draw(st.sampled_from(["any", "equal", "tiny", "unit", "huge", "subnormal"]))
    if kind == "equal":
        a = draw(finite32)
        return a, a
    if kind == "tiny":
        a = np.float32(draw(st.floats(-1e6, 1e6, width=32)))
        b = a
        for _ in range(draw(st.integers(1, 3))):
            b = np.nextafter(b, np.float32(np.inf))
        return float(a), float(b)
    if kind == "unit":
        return draw(st.sampled_from([(0.0, 1.0), (-1.0, 1.0), (-0.0, 0.5), (-3.14159, 3.14159)]))
    if kind == "huge":
        lo = draw(st.floats(_f(-1.7e38), _f(-1e30), width=32))
        hi = draw(st.floats(_f(1e30), _f(1.7e38), width=32))
        return (lo, hi) if width_ok(lo, hi, depth) else (lo / 4, hi / 4)
    if kind == "subnormal":
        lo = np.float32(draw(st.floats(_f(-1e-39), _f(1e-39), width=32)))
        return float(lo), float(lo + np.float32(draw(st.integers(0, 1000)) * 2.0**-149))
    a, b = sorted([draw(finite32), draw(finite32)])
    if not width_ok(a, b, depth):
        return a / 4, b / 4
    return a, b


SEMANTICS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 200]


@st.composite
def group_layouts(draw):
    sem = draw(st.sampled_from(SEMANTICS))
    canon = canonical_dims(sem)
    dims = draw(st.integers(1, min(20, canon) if canon else 20))
    if draw(st.booleans()):
        pool = range(canon) if canon else range(1 << 16)
        index = sorted(draw(st.lists(st.sampled_from(pool) if canon else st.integers(0, 65535), min_size=dims, max_size=dims, unique=True)))
        if canon:
            index = sorted(set(index))
            dims = len(index)
    else:
        index = None
    depth = draw(st.integers(1, 16))
    rr = [draw(ranges(depth)) for _ in range(dims)]
    for lo, hi in rr:
        assert width_ok(lo, hi, depth), (lo, hi)
    eg = [draw(st.integers(0, 15)) for _ in range(dims)]
    return GroupLayout(sem, depth, [float(np.float32(r[0])) for r in rr], [float(np.float32(r[1])) for r in rr], eg,
                       zero_flag_enabled=draw(st.booleans()), dim_index=index)


@st.composite
def streams(draw):
    groups = draw(st.lists(group_layouts(), min_size=1, max_size=6))
    max_intra = draw(st.integers(1, 40))
    header = SequenceHeader(
        groups=groups,
        frame_rate_num=draw(st.integers(1, 60)),
        frame_rate_den=draw(st.integers(1, 3)),
        max_intra_interval=max_intra,
        header_crc_flag=draw(st.booleans()),
        frame_crc_flag=draw(st.booleans()),
        avatar_hash=draw(st.one_of(st.none(), st.integers(0, (1 << 64) - 1))),
        level_idc=draw(st.sampled_from([10, 20, 30])),
    )
    config = EncoderConfig(
        intra_interval=draw(st.integers(1, max_intra)),
        repeat_header=draw(st.booleans()),
        range_update=draw(st.booleans()),
    )
    frames = draw(st.integers(1, 80))
    seed = draw(st.integers(0, 2**32 - 1))
    hold = draw(st.sampled_from([0.0, 0.5, 0.9]))
    return header, config, frames, seed, hold


def make_values(header: SequenceHeader, frames: int, seed: int, hold: float, inside: bool) -> np.ndarray:
    """Random frames around each dimension's range; groups sometimes hold the previous frame."""
    rng = np.random.default_rng(seed)
    lo = np.array([v for g in header.groups for v in g.range_min], dtype=np.float64)
    hi = np.array([v for g in header.groups for v in g.range_max], dtype=np.float64)
    u = rng.uniform(0.0, 1.0, (frames, lo.size)) if inside else rng.uniform(-0.1, 1.1, (frames, lo.size))
    vals = lo + u * (hi - lo)
    start = 0
    for g in header.groups:
        for t in range(1, frames):
            if rng.random() < hold:
                vals[t, start : start + g.dims] = vals[t - 1, start : start + g.dims]
        start += g.dims
    return vals


def expected_stream(header: SequenceHeader, config: EncoderConfig, vals: np.ndarray):
    """(is_intra, q, rmin, rmax) per frame, from SPEC 6.3 and the encoder's documented choices."""
    depth = np.array([g.bit_depth for g in header.groups for _ in range(g.dims)], dtype=np.int64)
    seq_min = np.array([v for g in header.groups for v in g.range_min], dtype=np.float32)
    seq_max = np.array([v for g in header.groups for v in g.range_max], dtype=np.float32)
    n = config.intra_interval
    out = []
    rmin, rmax = seq_min, seq_max
    for t in range(vals.shape[0]):
        intra = t % n == 0
        if intra:
            if config.range_update:
                gop = vals[t : t + n]
                rmin, rmax = f32_down(gop.min(axis=0)), f32_up(gop.max(axis=0))
            else:
                rmin, rmax = seq_min, seq_max
        q = quantize(vals[t], rmin, expected_step(rmin, rmax, depth), depth)
        out.append((intra, q, rmin, rmax, depth))
    return out


def track_for(header: SequenceHeader, vals: np.ndarray) -> Track:
    return Track(vals, [TrackGroup("UNSPECIFIED", [f"d{i}" for i in range(g.dims)]) for g in header.groups],
                 (header.frame_rate_num, header.frame_rate_den))


def check_roundtrip(header, config, vals):
    data = encode_track(track_for(header, vals), header, config)
    exp = expected_stream(header, config, vals)
    res = decode_file(data, strict=True)
    assert res.header.layout_key() == header.layout_key()
    assert len(res.frames) == len(exp)
    for t, (f, (intra, q, rmin, rmax, depth)) in enumerate(zip(res.frames, exp, strict=True)):
        assert f.status == FrameStatus.DECODED, t
        assert f.frame_type == ("I" if intra else "P"), t
        assert f.quantized.tolist() == q.tolist(), t
        assert same_f32(f.values, expected_values(q, rmin, rmax, depth)), t
    # units: header, then (repeated header before every later I-frame) + frame unit
    kinds = [e.kind for e in res.events]
    want = ["sequence_header"]
    for t, (intra, *_rest) in enumerate(exp):
        if intra and t > 0 and config.repeat_header:
            want.append("sequence_header")
        want.append("I" if intra else "P")
    assert kinds == want
    # the same, unit by unit
    dec = FcsDecoder(strict=True)
    frames = []
    for u in iter_units(data):
        frames.extend(dec.decode_unit(u.data, u.index, u.byte_offset * 8))
    assert len(frames) == len(res.frames)
    for a, b in zip(frames, res.frames, strict=True):
        assert a.status == b.status and a.frame_type == b.frame_type
        assert a.quantized.tolist() == b.quantized.tolist()
        assert same_f32(a.values, b.values)
    # and without offsets, from read_units (what a network receiver gets)
    dec = FcsDecoder(strict=False)
    frames = [f for u in read_units(data) for f in dec.decode_unit(u)]
    assert same_f32(np.stack([f.values for f in frames]), res.matrix())
    # the resilient decoder agrees on a valid stream
    assert same_f32(decode_file(data, strict=False).matrix(), res.matrix())


@settings(max_examples=150)
@given(streams())
def test_roundtrip(stream):
    header, config, frames, seed, hold = stream
    vals = make_values(header, frames, seed, hold, inside=config.range_update)
    check_roundtrip(header, config, vals)


@settings(max_examples=25)
@given(st.integers(1, 16), st.integers(1, 30), st.integers(0, 2**32 - 1))
def test_roundtrip_full_scale_residuals(depth, frames, seed):
    """Alternating extremes: residuals of +-(2^b - 1), the largest a P-frame can carry."""
    top = (1 << depth) - 1
    header = SequenceHeader(groups=[GroupLayout(1, depth, [0.0, -1.0], [float(top), 1.0], [0, 15], zero_flag_enabled=True)],
                            max_intra_interval=64, level_idc=10)
    rng = np.random.default_rng(seed)
    x0 = np.where(np.arange(frames) % 2 == 0, 0.0, float(top))
    x1 = rng.choice([-1.0, 1.0], frames)
    check_roundtrip(header, EncoderConfig(intra_interval=64), np.stack([x0, x1], axis=1))


def test_roundtrip_arkit52_full_layout():
    header = SequenceHeader(groups=[GroupLayout(2, 8, [0.0] * 52, [1.0] * 52, [1] * 52, zero_flag_enabled=True),
                                    GroupLayout(3, 12, [-3.14159] * 3, [3.14159] * 3, [3] * 3)],
                            max_intra_interval=30, frame_crc_flag=True, header_crc_flag=True)
    vals = make_values(header, 70, 7, 0.5, inside=False)
    check_roundtrip(header, EncoderConfig(intra_interval=30, repeat_header=True, range_update=True), vals)


def test_min_equals_max_decodes_to_min():
    header = SequenceHeader(groups=[GroupLayout(0, 16, [-0.0, 2.5, 1e-45], [-0.0, 2.5, 1e-45], [0, 0, 0])])
    data = encode_track(track_for(header, np.array([[5.0, -7.0, 3.0]] * 3)), header, EncoderConfig(intra_interval=2))
    res = decode_file(data)
    # step = 0; x = min + 0*0: -0 + +0 = +0 (SPEC 6.5)
    assert same_f32(res.matrix(), np.array([[0.0, 2.5, 1e-45]] * 3, dtype=np.float32))
    assert [f.quantized.tolist() for f in res.frames] == [[0, 0, 0]] * 3


def test_range_whose_top_level_overflows_is_rejected():
    """R-16: f32(max - min) is finite here, but x(127) = f32(min + f32(127 * step)) rounds to +inf,
    so the range is invalid at 7 bits and valid at 1 bit (x(1) = min + (max - min))."""
    mx = np.finfo(np.float32).max
    rmin = np.float32(1.7083754e38)
    assert np.isfinite(np.float32(mx - rmin))
    step = np.float32(mx - rmin) / np.float32(127)
    with np.errstate(over="ignore"):
        assert np.isposinf(rmin + np.float32(127) * step)  # the formula of SPEC 6.5, by hand
    for bits, ok in ((7, False), (1, True)):
        header = SequenceHeader(groups=[GroupLayout(0, bits, [float(rmin)], [float(mx)], [0])])
        if ok:
            assert read_unit(write_unit(header), None).groups[0].range_max == [float(mx)]
        else:
            with pytest.raises(FcError) as info:
                write_unit(header)
            assert info.value.error_class == "E_RANGE" and info.value.field == "range_max[0][0]"
