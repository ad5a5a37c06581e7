"""The ``.fcs`` storage framing (SPEC 5.5) is traced by the reader that parses it.

``fcs_signature`` and every ``unit_size[i]`` come from ``iter_units`` itself; here they are
checked against the file: the leb128 bytes are decoded from their definition (SPEC 3.2.4),
and the framing and the units together tile the file.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import bytes_to_bits, leb128_ref

from refcodec.fcs.encoder import EncoderConfig, build_header, encode_track
from refcodec.fcs.inspect import trace_file
from refcodec.fcs.storage import iter_units
from refcodec.track import Track, TrackGroup
from tools import fcdump


def leb128_value(raw: bytes) -> int:
    """SPEC 3.2.4: little-endian groups of 7 bits; the top bit says another byte follows."""
    assert all(b & 0x80 for b in raw[:-1]) and not raw[-1] & 0x80
    return sum((b & 0x7F) << (7 * i) for i, b in enumerate(raw))


@pytest.fixture(scope="module")
def stream() -> bytes:
    rng = np.random.default_rng(5)
    values = np.clip(rng.uniform(0, 1, (12, 52)), 0, 1)
    track = Track(values, [TrackGroup("ARKIT52", [f"c{i}" for i in range(52)], list(range(52)))], (30, 1))
    return encode_track(track, build_header(track, [10], intra_interval=6), EncoderConfig(intra_interval=6))


def test_framing_trace_tiles_the_file(stream):
    """signature (4 bytes), then per unit: its leb128 size, whose value is the unit's length; nothing else."""
    trace: list = []
    units = list(iter_units(stream, trace=trace))
    assert trace[0].name == "fcs_signature" and trace[0].bit_offset == 0 and trace[0].bits == bytes_to_bits(b"FCS1")
    sizes = trace[1:]
    assert [e.name for e in sizes] == [f"unit_size[{i}]" for i in range(len(units))]
    assert any(len(e.bits) > 8 for e in sizes)  # the sequence header needs a two-byte leb128
    pos = 4
    for e, unit in zip(sizes, units, strict=True):
        assert e.bit_offset == 8 * pos and e.descriptor == "leb128()"
        raw = int(e.bits, 2).to_bytes(len(e.bits) // 8, "big")
        assert raw == stream[pos : pos + len(raw)] == leb128_ref(e.value) and leb128_value(raw) == e.value == len(unit.data)
        pos += len(raw) + e.value
    assert pos == len(stream)


def test_fcdump_shows_the_rejected_unit_size(stream, tmp_path, capsys):
    """A unit_size of 0 (R-21, E_VALUE) is in the trace, and fcdump prints it before the error."""
    units = list(iter_units(stream))
    cut = units[2].byte_offset + len(units[2].data)  # after unit 2: a zero-size unit 3
    bad = stream[:cut] + b"\x00" + stream[cut:]
    trace = trace_file(bad)
    assert trace.error is not None and trace.error.error_class == "E_VALUE" and trace.error.field == "unit_size[3]"
    last = trace.file_entries[-1]
    assert last.name == "unit_size[3]" and last.value == 0 and last.bit_offset == 8 * cut == trace.error.bit_offset
    path = tmp_path / "bad.fcs"
    path.write_bytes(bad)
    assert fcdump.main([str(path)]) == 16 + 8
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2].split()[:2] == [str(8 * cut), "unit_size[3]"] and lines[-1].startswith("ERROR E_VALUE in unit_size[3]")


def test_bad_signature_is_traced_then_rejected(stream):
    trace = trace_file(b"FCA1" + stream[4:])
    assert trace.error.error_class == "E_SIGNATURE"
    assert [(e.name, e.bits) for e in trace.file_entries] == [("fcs_signature", bytes_to_bits(b"FCA1"))]
