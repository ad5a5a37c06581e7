"""The fast paths of the bit reader/writer, encoder and decoder give bit-identical results.

The whole-file paths (``encode_track``, ``decode_file``) use vectorised shortcuts. These
tests pin them against independent slow paths:

- every unit is parsed twice, with a trace (the element-by-element path of ``BitReader``)
  and without one (the fast path), and both parses must agree field by field;
- everything the writer produces parses back to the structure that was written;
- ``decode_file`` equals a unit-by-unit decode built only from traced parses;
- the bytes and decoded matrices of a set of streams (bit depths 1..16, CRCs, zero flags,
  range updates, repeated headers, index maps, forced Exp-Golomb orders) match digests
  recorded before the speed work, so the output stays bit-identical.

No timings here: speed is measured by ``fcbench-stream``.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from refcodec.bitio import _EG_NO_CODE, EG_WINDOW, BitReader, BitWriter, eg_window_table
from refcodec.errors import FcError
from refcodec.fcs.decoder import FcsDecoder, FrameStatus, decode_file
from refcodec.fcs.encoder import EncoderConfig, FcsEncoder, build_header, encode_track
from refcodec.fcs.layout import SequenceHeader
from refcodec.fcs.storage import iter_units
from refcodec.fcs.syntax import FrameUnit, ReservedUnit, read_unit, write_unit
from refcodec.quant import dequantize
from refcodec.spec_tables import max_unit_bytes_any_level
from refcodec.track import Track, TrackGroup


def _walk(rng: np.random.Generator, frames: int, dims: int, scale: float = 0.05, zero_runs: bool = False) -> np.ndarray:
    x = np.cumsum(rng.normal(0.0, scale, size=(frames, dims)), axis=0)
    if zero_runs:  # long stretches where nothing moves (group_zero_flag territory)
        hold = rng.random(frames) < 0.6
        for t in range(1, frames):
            if hold[t]:
                x[t] = x[t - 1]
    return x


def _track(seed: int, sizes: list[tuple[str, int]], frames: int = 97, fps: int = 30, zero_runs: bool = False,
           index_maps: bool = False) -> Track:
    rng = np.random.default_rng(seed)
    groups = []
    for g, (sem, n) in enumerate(sizes):
        dim_index = None
        if index_maps and sem == "UNSPECIFIED":
            dim_index = sorted(rng.choice(200, size=n, replace=False).tolist())
        groups.append(TrackGroup(sem, [f"g{g}d{d}" for d in range(n)], dim_index))
    dims = sum(n for _, n in sizes)
    return Track(_walk(rng, frames, dims, zero_runs=zero_runs), groups, (fps, 1))


def _cases() -> dict[str, tuple[Track, SequenceHeader, EncoderConfig]]:
    """Named (track, header, config) triples covering the syntax's branches."""
    cases = {}
    lam = _track(1, [("ARKIT52", 52), ("HEAD_ROTATION", 3)], frames=131)
    cases["lam8"] = (lam, build_header(lam, 8, 30), EncoderConfig(30))
    # every bit depth 1..16, two groups per header (level 1 allows 8 groups)
    for lo in range(1, 17, 2):
        tr = _track(100 + lo, [("UNSPECIFIED", 5), ("EXPRESSION", 4)], frames=61)
        cases[f"depth{lo}_{lo + 1}"] = (tr, build_header(tr, [lo, lo + 1], 10), EncoderConfig(10))
    tr = _track(2, [("ARKIT52", 20), ("JAW", 3), ("EYES", 6)], frames=80)
    cases["crc"] = (tr, build_header(tr, 10, 16, header_crc=True, frame_crc=True, avatar_hash=0x0123456789ABCDEF), EncoderConfig(16))
    tr = _track(3, [("ARKIT52", 10), ("NECK", 3), ("EYELIDS", 2)], frames=120, zero_runs=True)
    cases["zero_flags"] = (tr, build_header(tr, 6, 30, zero_flags=True), EncoderConfig(30))
    cases["zero_auto"] = (tr, build_header(tr, 6, 30), EncoderConfig(30))
    tr = _track(4, [("ARKIT52", 12), ("HEAD_TRANSLATION", 3)], frames=100)
    cases["range_update"] = (tr, build_header(tr, 9, 25, frame_crc=True), EncoderConfig(25, range_update=True))
    cases["repeat_header"] = (tr, build_header(tr, 7, 20, header_crc=True), EncoderConfig(12, repeat_header=True))
    cases["repeat_and_update"] = (tr, build_header(tr, 12, 20), EncoderConfig(20, repeat_header=True, range_update=True))
    tr = _track(5, [("UNSPECIFIED", 7), ("UNSPECIFIED", 4)], frames=70, index_maps=True)
    cases["index_map"] = (tr, build_header(tr, 11, 30), EncoderConfig(30))
    for k in (0, 3, 15):
        cases[f"eg_order{k}"] = (tr, build_header(tr, 16, 30, eg_orders=k), EncoderConfig(30))
    tr = _track(6, [("ARKIT52", 4)], frames=40)
    cases["intra_only"] = (tr, build_header(tr, 8, 1), EncoderConfig(1))
    return cases


CASES = _cases()

#: sha256 of (file bytes, decoded binary32 matrix) per case, recorded before the speed work.
GOLDEN: dict[str, tuple[str, str]] = {
    'crc': ('a6a3e0d00a1772a9c83842325ce165aa', '39a856a1ddd5c7ae466095e115939cae'),
    'depth11_12': ('a07dc04482ec0c66ea500d45ee710db7', 'c10f9e8a8f7e95feb38262fb73bb1b28'),
    'depth13_14': ('164595cc02f2fed24820466a77c7cf72', '21bceeda12fc73898f4348e5fa1791f0'),
    'depth15_16': ('9a8b90055b81a99dbda5dd75274c675d', '71ce83303b1aa073afba0f1fb279dff0'),
    'depth1_2': ('64e2a2d9be09e1d43094821f14e3807c', 'c7df4c690c961076951581312e1594fc'),
    'depth3_4': ('77d01f923091a66bfebc4cc0b4c72604', 'ebda904c1399f948ce5b78efeb5e3c19'),
    'depth5_6': ('2f52cbb61516d341e89fc5bdea1931e1', '6b429ff44e6cf98058577c49674f40b2'),
    'depth7_8': ('44005a162fbb299fc76baf10fe3985e2', '80e49c40d5e9b26e32e705afb3b99cda'),
    'depth9_10': ('01297e2361ce401503c78ef1f372bb23', 'c9972aacb45e605606eb5d4f2170b707'),
    'eg_order0': ('7ea92626952885420b2403923df15515', '168e52abe8350e587ec312346abe4fb0'),
    'eg_order15': ('aa8b00d7d8d78b909a0f995b5caa9709', '168e52abe8350e587ec312346abe4fb0'),
    'eg_order3': ('9e317ce8a82aa461e72677996c1d3813', '168e52abe8350e587ec312346abe4fb0'),
    'index_map': ('5c3eef13227a59e1c6c3144bd7281cbd', '2af248228eac58315e2599e9a3279944'),
    'intra_only': ('abd235133b9b15674f75ac0b336344b3', '6c30b7109da1f0c0ab1198a001d8cec0'),
    'lam8': ('2b4042628493de0452e0148951a30ee0', '779a6ce603f4f5f17b6277b5f03c1950'),
    'range_update': ('f8291bc05606064da8dd0c1e17ec5aff', '08e2fc8ecff9a0923ee12f321c4af56d'),
    'repeat_and_update': ('7b044ae7a0f0e8525f5d342987ab0d96', '51b6036048c45651d666dcb59bf555b8'),
    'repeat_header': ('474cb5b4b55a570dc6b846ddc413bdde', 'faa1e222fe04c618784912109a752d20'),
    'zero_auto': ('304b47f4d9ccaa8939d11fb8206f5e30', 'b4f75759c33869b4919c0773f361cdde'),
    'zero_flags': ('304b47f4d9ccaa8939d11fb8206f5e30', 'b4f75759c33869b4919c0773f361cdde'),
}


def _digest(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()[:32]


def _golden_pair(name: str) -> tuple[str, str]:
    track, header, config = CASES[name]
    data = encode_track(track, header, config)
    mat = decode_file(data).matrix()
    return _digest(data), _digest(np.ascontiguousarray(mat, dtype="<f4").tobytes())


def _same_unit(a, b) -> None:
    assert type(a) is type(b)
    if isinstance(a, SequenceHeader):
        assert a.layout_key() == b.layout_key()
        assert (a.reserved_bits, a.group_reserved_bits) == (b.reserved_bits, b.group_reserved_bits)
    elif isinstance(a, FrameUnit):
        assert (a.unit_type, a.frame_counter, a.range_update_flag) == (b.unit_type, b.frame_counter, b.range_update_flag)
        assert [list(map(int, v)) for v in a.values] == [list(map(int, v)) for v in b.values]
        assert list(map(bool, a.zero_groups)) == list(map(bool, b.zero_groups))
        assert {g: (np.float32(m).tobytes(), np.float32(M).tobytes()) for g, (m, M) in a.range_updates.items()} == \
               {g: (np.float32(m).tobytes(), np.float32(M).tobytes()) for g, (m, M) in b.range_updates.items()}
    else:
        assert a.unit_type == b.unit_type


def _traced_parse(data: bytes):
    """Every unit parsed with and without a trace; both must agree. Returns [(unit, trace, stored)]."""
    limit = max_unit_bytes_any_level()
    active = None
    out = []
    for su in iter_units(data, lambda: limit):
        trace: list = []
        slow = read_unit(su.data, active, su.byte_offset * 8, trace)
        fast = read_unit(su.data, active, su.byte_offset * 8)
        _same_unit(slow, fast)
        # the trace covers the unit bit for bit
        assert sum(len(t.bits) for t in trace) == len(su.data) * 8
        assert "".join(t.bits for t in trace) == "".join(f"{b:08b}" for b in su.data)
        if isinstance(slow, SequenceHeader):
            active = slow
        out.append((slow, trace, su))
    return out


def _reference_decode(data: bytes) -> np.ndarray:
    """A plain decode of an error-free file built only from traced parses (no gaps/errors)."""
    active = None
    ranges = None
    ref = None
    rows = []
    for unit, _trace, _su in _traced_parse(data):
        if isinstance(unit, SequenceHeader):
            if active is None or unit.layout_key() != active.layout_key():
                active, ref = unit, None
            continue
        if isinstance(unit, ReservedUnit):
            continue
        flat = np.array([v for vals in unit.values for v in vals], dtype=np.int64)
        if unit.is_intra:
            mins = [unit.range_updates[g][0] if g in unit.range_updates else grp.range_min for g, grp in enumerate(active.groups)]
            maxs = [unit.range_updates[g][1] if g in unit.range_updates else grp.range_max for g, grp in enumerate(active.groups)]
            rmin = np.array([v for m in mins for v in m], np.float32)
            rmax = np.array([v for m in maxs for v in m], np.float32)
            depth = [grp.bit_depth for grp in active.groups for _ in range(grp.dims)]
            levels = np.array([(1 << b) - 1 for b in depth], np.float32)
            ranges = (rmin, (rmax - rmin) / levels)
            q = flat
        else:
            q = ref + flat
        ref = q
        rows.append(dequantize(q, *ranges))
    return np.stack(rows)


@pytest.mark.parametrize("name", sorted(CASES))
def test_fast_parse_equals_traced_parse(name):
    track, header, config = CASES[name]
    data = encode_track(track, header, config)
    parsed = _traced_parse(data)
    assert sum(isinstance(u, FrameUnit) for u, _, _ in parsed) == track.frames


@pytest.mark.parametrize("name", sorted(CASES))
def test_decode_file_equals_reference_decode(name):
    track, header, config = CASES[name]
    data = encode_track(track, header, config)
    res = decode_file(data)
    assert all(f.status == FrameStatus.DECODED for f in res.frames)
    mat = res.matrix()
    assert mat.dtype == np.float32
    assert mat.tobytes() == _reference_decode(data).tobytes()
    # resilient mode and the unit-level decoder agree on an error-free file
    assert decode_file(data, strict=False).matrix().tobytes() == mat.tobytes()
    dec = FcsDecoder(strict=True)
    rows = [f.values for su in iter_units(data, dec.max_unit_bytes) for f in dec.decode_unit(su.data, su.index, su.byte_offset * 8)]
    assert np.stack(rows).tobytes() == mat.tobytes()


@pytest.mark.parametrize("name", sorted(CASES))
def test_encode_track_equals_frame_by_frame_encoder(name):
    """The whole-track encoder writes the same bytes as the frame-by-frame (live) encoder."""
    track, header, config = CASES[name]
    data = encode_track(track, header, config)
    enc = FcsEncoder(header, config)
    units = [enc.header_unit()]
    interval = enc.config.intra_interval
    for t in range(track.frames):
        update = None
        if config.range_update and t % interval == 0:
            gop = track.values[t : t + interval]
            update = {g: (gop[:, sl].min(axis=0).tolist(), gop[:, sl].max(axis=0).tolist()) for g, sl in enumerate(track.group_slices())}
        units.extend(enc.encode_frame(track.values[t], range_update=update))
    assert [su.data for su in iter_units(data, lambda: max_unit_bytes_any_level())] == units


@pytest.mark.parametrize("name", sorted(CASES))
def test_written_units_parse_back(name):
    """write_unit(read_unit(x)) == x for every unit: the writer mirrors the reader."""
    track, header, config = CASES[name]
    data = encode_track(track, header, config)
    for unit, _trace, su in _traced_parse(data):
        active = unit if isinstance(unit, SequenceHeader) else header
        if isinstance(unit, SequenceHeader):
            assert write_unit(unit) == su.data
        elif isinstance(unit, FrameUnit):
            assert write_unit(unit, active) == su.data


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_digests(name):
    if name not in GOLDEN:
        pytest.skip("no digest recorded")
    assert _golden_pair(name) == GOLDEN[name], f"{name}: output is no longer bit-identical to the recorded stream"


def test_errors_keep_class_field_and_offset():
    """Corruptions hit the same error (class, field, bit offset) with and without a trace."""
    track, header, config = CASES["crc"]
    data = encode_track(track, header, config)
    units = list(iter_units(data, lambda: max_unit_bytes_any_level()))
    hdr = read_unit(units[0].data, None)
    seen = set()
    for su in units[1:12]:
        for bit in range(0, len(su.data) * 8, 3):
            bad = bytearray(su.data)
            bad[bit // 8] ^= 0x80 >> (bit % 8)
            for cut in (len(bad), max(1, len(bad) - 1)):
                outcomes = []
                for trace in (None, []):
                    try:
                        read_unit(bytes(bad[:cut]), hdr, su.byte_offset * 8, trace)
                        outcomes.append(None)
                    except FcError as e:
                        outcomes.append((type(e), e.field, e.bit_offset))
                assert outcomes[0] == outcomes[1]
                if outcomes[0]:
                    seen.add(outcomes[0][0].__name__)
    assert {"E_CRC", "E_TRUNCATED"} <= seen


@pytest.mark.parametrize(("k", "stride"), [(0, 1), (1, 3), (2, 5), (7, 5), (15, 1)])
def test_window_table_matches_exact_reader(k, stride):
    """Every entry of the sek_array look-up table equals the bit-by-bit Exp-Golomb reader."""
    table = eg_window_table(k)
    assert len(table) == 1 << EG_WINDOW
    for w in range(0, 1 << EG_WINDOW, stride):
        r = BitReader(w.to_bytes(EG_WINDOW // 8, "big"))
        try:
            value, length = r.sek(k, "x"), r.pos
        except FcError:
            value, length = None, None
        e = table[w]
        if length is None:
            assert e == _EG_NO_CODE
        else:
            assert (e >> 40, e & ((1 << 40) - 1)) == (value, length), w


def test_sek_array_long_codes_and_resume():
    """Codes longer than the window are read the exact way and the fast loop resumes after them."""
    w = BitWriter()
    orders = [0, 3, 0, 15, 1, 0, 2, 0]
    values = [0, 40000, -1, -65535, 7, 300, -2, 0]
    w.sek_array(orders, "r", values)
    w.byte_alignment()
    r = BitReader(w.getvalue())
    assert r.sek_array(orders, "r") == values
    assert r.bits_left() < 8
