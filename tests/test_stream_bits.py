"""The suite's own stream writer (conformance/stream_bits.py) against values from SPEC.md."""

from bitstring import Bits
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.stream.bits import crc8, crc32, exp_golomb_bits, leb128_bytes, signed_code_num, unit_bytes
from conformance.stream.syntax import Element, frame_elements, header_elements
from conformance.stream.vectors import grp
from refcodec.fcs.layout import SequenceHeader
from refcodec.fcs.syntax import FrameUnit, write_unit


def test_crc_check_values_of_spec_3_5():
    assert crc8(b"123456789") == 0xF4
    assert crc32(b"123456789") == 0xCBF43926


def test_ue_patterns_of_spec_3_2_1():
    spec = ["1", "010", "011", "00100", "00101", "00110", "00111", "0001000", "0001001", "0001010", "0001011"]
    assert [exp_golomb_bits(v, 0) for v in range(11)] == spec
    # a second implementation: bitstring's own ue
    assert all(exp_golomb_bits(v, 0) == Bits(ue=v).bin for v in range(300))


def test_sek_by_hand():
    # SPEC 3.2.2: 0, 1, -1, 2, -2 -> codeNum 0, 1, 2, 3, 4
    assert [signed_code_num(v) for v in (0, 1, -1, 2, -2)] == [0, 1, 2, 3, 4]
    # k = 2, value -3: codeNum 6, x = 10 = 0b1010, BitLength 4 -> 4 - 1 - 2 = 1 zero bit
    assert exp_golomb_bits(6, 2) == "01010"
    # k = 0 is se(v): bitstring's se agrees
    assert all(exp_golomb_bits(signed_code_num(v), 0) == Bits(se=v).bin for v in range(-200, 200))


def test_leb128_minimal():
    assert leb128_bytes(0) == b"\x00"
    assert leb128_bytes(127) == b"\x7f"
    assert leb128_bytes(128) == b"\x80\x01"
    assert leb128_bytes(65537) == b"\x81\x80\x04"


def test_unit_bytes_by_hand():
    # a P-frame of one group: unit_type 0 ('1'), frame_counter 5 ('0101'), residual -1 with k 0 ('011'),
    # then 0 alignment bits: 1 0101 011 = 0xAB; frame_crc = CRC-8 of 0xAB
    els = [
        Element("unit", "unit_type", 0, 1, 0, "ue"),
        Element("frame_unit", "frame_counter", 1, 4, 5),
        Element("frame_unit", "residual[0][0]", 5, 3, -1, "sek", 0),
        Element("frame_unit", "frame_crc", 8, 8),
    ]
    assert unit_bytes(els) == bytes([0xAB, crc8(b"\xab")])


# ---- a second implementation: the reference writer must produce the same bytes on valid units
@st.composite
def headers(draw):
    groups = []
    for _ in range(draw(st.integers(1, 3))):
        dims = draw(st.integers(1, 4))
        lo = draw(st.sampled_from([-1.0, -0.0, 0.0, 0.25, -3.5e-39]))
        orders = draw(st.lists(st.integers(0, 15), min_size=dims, max_size=dims))
        index = sorted(draw(st.sets(st.integers(0, 65535), min_size=dims, max_size=dims))) if draw(st.booleans()) else None
        groups.append(grp(0, draw(st.integers(1, 16)), dims, lo, lo + 2.0, eg=orders, zf=draw(st.booleans()), index=index))
    return SequenceHeader(groups=groups, header_crc_flag=draw(st.booleans()), frame_crc_flag=draw(st.booleans()),
                          avatar_hash=draw(st.none() | st.integers(0, 2**64 - 1)), frame_rate_num=draw(st.integers(1, 60)))


@settings(max_examples=60, deadline=None)
@given(headers(), st.data())
def test_the_suite_writer_agrees_with_the_reference_writer(h, data):
    assert unit_bytes(header_elements(h)) == write_unit(h)
    intra = data.draw(st.booleans())
    if intra:
        values = [[data.draw(st.integers(0, (1 << g.bit_depth) - 1)) for _ in range(g.dims)] for g in h.groups]
        f = FrameUnit(1, data.draw(st.integers(0, 15)), values)
    else:
        values = [[data.draw(st.integers(-300, 300)) for _ in range(g.dims)] for g in h.groups]
        zero = [g.zero_flag_enabled and not any(v) for g, v in zip(h.groups, values, strict=True)]
        f = FrameUnit(0, data.draw(st.integers(0, 15)), values, zero_groups=zero)
    assert unit_bytes(frame_elements(f, h)) == write_unit(f, h)
