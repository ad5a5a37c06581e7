"""Bit-level primitives against hand-computed patterns (SPEC 3.1-3.5; R-01, R-02, R-03, R-04).

Every expected bit string below is written out literally, derived by hand from the
definitions (MSB first; ue: z zeros, a 1, z info bits, codeNum = 2^z - 1 + info; se maps
codeNum k to (-1)^(k+1)*ceil(k/2); sek writes x = codeNum + 2^k with BitLength(x)-1-k
leading zeros then x), never produced by the code under test. ``bitstring`` serves as a
second, independent Exp-Golomb implementation.
"""

from __future__ import annotations

import math
import struct

import bitstring
import pytest
from helpers import bits_to_bytes, crc8_ref, leb128_ref
from hypothesis import given
from hypothesis import strategies as st

from refcodec.bitio import (
    MAX_LEADING_ZEROS,
    BitReader,
    BitWriter,
    bits_from_f32,
    code_num_from_signed,
    f32_from_bits,
    signed_from_code_num,
)
from refcodec.checksums import crc8, crc32
from refcodec.errors import E_EXPGOLOMB, E_LEB128, E_PADDING, E_TRUNCATED
from refcodec.leb128 import read_leb128, write_leb128

# ue(v), SPEC 3.2.1 (codeNum -> bits): z = floor(log2(codeNum+1)) zeros, 1, z info bits.
UE = {
    0: "1",
    1: "010",  # z=1, info 0
    2: "011",  # z=1, info 1
    3: "00100",  # z=2, info 00
    4: "00101",
    5: "00110",
    6: "00111",
    7: "0001000",  # z=3, info 000
    8: "0001001",
    9: "0001010",
    10: "0001011",
}

# se(v), SPEC 3.2.2: signed value -> codeNum (k -> (-1)^(k+1) ceil(k/2)).
SE_CODENUM = {0: 0, 1: 1, -1: 2, 2: 3, -2: 4, 3: 5, -3: 6, 4: 7, -4: 8, 5: 9, -5: 10}

# sek(v), SPEC 3.2.3: (k, value) -> bits. codeNum c = se mapping; x = c + 2^k.
SEK = {
    (1, 0): "10",  # c=0, x=2=10b, 2-1-1=0 zeros
    (1, 1): "11",  # c=1, x=3=11b
    (1, -1): "0100",  # c=2, x=4=100b, 1 zero
    (1, 2): "0101",  # c=3, x=5
    (1, -2): "0110",  # c=4, x=6
    (1, 3): "0111",  # c=5, x=7
    (1, -3): "001000",  # c=6, x=8=1000b, 2 zeros
    (2, 0): "100",  # c=0, x=4=100b
    (2, 1): "101",  # c=1, x=5
    (2, -1): "110",  # c=2, x=6
    (2, 2): "111",  # c=3, x=7
    (2, -2): "01000",  # c=4, x=8=1000b, 1 zero
    (2, 5): "01101",  # c=9, x=13=1101b
    (2, -6): "0010000",  # c=12, x=16=10000b, 2 zeros
    (3, 0): "1000",  # c=0, x=8
    (3, 4): "1111",  # c=7, x=15
    (3, -4): "010000",  # c=8, x=16, 1 zero
    (3, 100): "000011001111",  # c=199, x=207=11001111b, 8-1-3=4 zeros
}


def write_bits(fn) -> str:
    """Run ``fn(writer)``, pad to a byte boundary, return the full bit string."""
    w = BitWriter()
    fn(w)
    n = w.at()
    w.byte_alignment()
    data = w.getvalue()
    return "".join(f"{b:08b}" for b in data)[:n] if n else ""


def reader_for(bit_string: str, base_bit: int = 0) -> BitReader:
    pad = "0" * ((-len(bit_string)) % 8)
    return BitReader(bits_to_bytes(bit_string + pad), base_bit)


# --------------------------------------------------------------------------- ue / se / sek
@pytest.mark.parametrize("code_num,pattern", sorted(UE.items()))
def test_ue_write_pattern(code_num, pattern):
    assert write_bits(lambda w: w.ue("x", code_num)) == pattern


@pytest.mark.parametrize("code_num,pattern", sorted(UE.items()))
def test_ue_read_pattern(code_num, pattern):
    r = reader_for(pattern + "1")  # a following bit must not be consumed
    assert r.ue("x") == code_num
    assert r.at() == len(pattern)


def test_ue_concatenated_stream():
    stream = "".join(UE[i] for i in range(11))
    r = reader_for(stream)
    assert [r.ue("x") for _ in range(11)] == list(range(11))
    assert r.at() == len(stream)


@pytest.mark.parametrize("value,code_num", sorted(SE_CODENUM.items()))
def test_se_pattern(value, code_num):
    assert signed_from_code_num(code_num) == value
    assert code_num_from_signed(value) == code_num
    assert write_bits(lambda w: w.se("x", value)) == UE[code_num]
    r = reader_for(UE[code_num])
    assert r.se("x") == value
    assert r.at() == len(UE[code_num])


def test_se_codenum_table_from_definition():
    # value = (-1)^(k+1) * ceil(k/2), for codeNum k = 0..10
    for k in range(11):
        assert signed_from_code_num(k) == (-1) ** (k + 1) * math.ceil(k / 2)


@pytest.mark.parametrize("k,value", sorted(SEK))
def test_sek_pattern(k, value):
    pattern = SEK[(k, value)]
    assert write_bits(lambda w: w.sek(k, "x", value)) == pattern
    r = reader_for(pattern + "1")
    assert r.sek(k, "x") == value
    assert r.at() == len(pattern)


def test_sek_array_matches_single_codes():
    orders = [k for k, _ in sorted(SEK)]
    values = [v for _, v in sorted(SEK)]
    stream = "".join(SEK[kv] for kv in sorted(SEK))
    assert write_bits(lambda w: w.sek_array(orders, "r", values)) == stream
    r = reader_for(stream)
    assert r.sek_array(orders, "r") == values
    assert r.at() == len(stream)


def test_sek_order0_is_se():
    for v, c in SE_CODENUM.items():
        assert write_bits(lambda w, v=v: w.sek(0, "x", v)) == UE[c]


def test_expgolomb_against_bitstring_0_to_5000():
    for n in range(5001):
        ref = bitstring.Bits(ue=n).bin
        assert write_bits(lambda w, n=n: w.ue("x", n)) == ref, n
        r = reader_for(ref)
        assert r.ue("x") == n
        assert r.at() == len(ref)


def test_signed_expgolomb_against_bitstring():
    for v in range(-2500, 2501):
        ref = bitstring.Bits(se=v).bin
        assert write_bits(lambda w, v=v: w.se("x", v)) == ref, v
        r = reader_for(ref)
        assert r.se("x") == v
        assert r.at() == len(ref)


def test_bitstring_reads_our_stream():
    values = list(range(0, 300, 7))
    w = BitWriter()
    for v in values:
        w.ue("x", v)
    n = w.at()
    w.byte_alignment()
    s = bitstring.Reader(bitstring.Bits.from_bytes(w.getvalue()))
    assert [s.read_value("ue") for _ in values] == values
    assert s.pos == n


@given(st.integers(0, 15), st.lists(st.integers(-(1 << 20), 1 << 20), min_size=1, max_size=20))
def test_sek_roundtrip_property(k, values):
    w = BitWriter()
    for v in values:
        w.sek(k, "x", v)
    n = w.at()
    w.byte_alignment()
    r = BitReader(w.getvalue())
    assert [r.sek(k, "x") for _ in values] == values
    assert r.at() == n


# --------------------------------------------------------------------------- Exp-Golomb limits
def test_ue_31_leading_zeros_accepted():
    # 31 zeros, a 1, 31 info bits all 1 -> codeNum = 2^31 - 1 + 2^31 - 1 = 2^32 - 2
    pattern = "0" * 31 + "1" + "1" * 31
    r = reader_for(pattern)
    assert r.ue("x") == (1 << 32) - 2
    assert r.at() == 63
    assert write_bits(lambda w: w.ue("x", (1 << 32) - 2)) == pattern
    # smallest 31-zero code
    assert reader_for("0" * 31 + "1" + "0" * 31).ue("x") == (1 << 31) - 1


def test_ue_32_leading_zeros_rejected():
    r = reader_for("101" + "0" * 32 + "1" + "0" * 32, base_bit=40)
    r.u(3, "lead")
    with pytest.raises(E_EXPGOLOMB) as ei:
        r.ue("unit_type")
    assert ei.value.field == "unit_type"
    assert ei.value.bit_offset == 43
    assert MAX_LEADING_ZEROS == 31


def test_writer_refuses_32_leading_zeros():
    with pytest.raises(ValueError):
        BitWriter().ue("x", (1 << 32) - 1)


def test_all_zero_tail_over_31_is_expgolomb_not_truncated():
    # SPEC R-02: more than 31 zeros already read -> E_EXPGOLOMB even at the end of data
    with pytest.raises(E_EXPGOLOMB) as ei:
        BitReader(bytes(5)).ue("x")
    assert ei.value.bit_offset == 0


def test_sek_31_leading_zeros_accepted_and_32_rejected():
    k = 3
    pattern = "0" * 31 + "1" + "0" * (31 + k)  # x = 2^(31+k), codeNum = 2^34 - 8
    r = reader_for(pattern)
    c = (1 << (31 + k)) - (1 << k)
    assert r.sek(k, "x") == signed_from_code_num(c)
    with pytest.raises(E_EXPGOLOMB):
        reader_for("0" * 32 + "1" + "0" * (32 + k)).sek(k, "x")


# --------------------------------------------------------------------------- truncation
def test_truncated_exp_golomb_without_terminator():
    # 8 zero bits only (fewer than 32): E_TRUNCATED at the code's first bit
    with pytest.raises(E_TRUNCATED) as ei:
        BitReader(b"\x00", base_bit=16).ue("unit_type")
    assert ei.value.bit_offset == 16
    assert ei.value.field == "unit_type"


def test_truncated_exp_golomb_info_bits():
    # "101" read as u(3), then "00001" needs 4 info bits but 0 remain -> offset 3
    r = BitReader(bits_to_bytes("101 00001"))
    r.u(3, "a")
    with pytest.raises(E_TRUNCATED) as ei:
        r.ue("b")
    assert ei.value.bit_offset == 3
    assert ei.value.field == "b"


def test_truncated_sek_info_bits():
    # k=2: "1" then 2 bits needed; only 1 left after 7 bits read
    r = BitReader(bits_to_bytes("0000000 1"))
    r.u(7, "a")
    with pytest.raises(E_TRUNCATED) as ei:
        r.sek(2, "res")
    assert ei.value.bit_offset == 7


def test_truncated_sek_array_reports_element():
    r = BitReader(bits_to_bytes("1 1 0001 00"), base_bit=8)  # k=0: 0, 1; third code truncated
    with pytest.raises(E_TRUNCATED) as ei:
        r.sek_array([0, 0, 0], "residual[2]")
    assert ei.value.bit_offset == 8 + 2
    assert ei.value.field == "residual[2][2]"


def test_truncated_u():
    r = BitReader(b"\xff\xff", base_bit=800)
    r.u(12, "a")
    with pytest.raises(E_TRUNCATED) as ei:
        r.u(5, "b")
    assert ei.value.bit_offset == 812
    assert ei.value.field == "b"


def test_truncated_f32():
    r = BitReader(b"\x3f\x80\x00")
    with pytest.raises(E_TRUNCATED) as ei:
        r.f32("range_min[0][0]")
    assert ei.value.bit_offset == 0


def test_truncated_u_array():
    r = BitReader(b"\xff", base_bit=8)
    with pytest.raises(E_TRUNCATED) as ei:
        r.u_array(3, 3, "quant_value[0]")
    assert ei.value.bit_offset == 8 + 6
    assert ei.value.field.startswith("quant_value[0]")


# --------------------------------------------------------------------------- u(n), f32
@pytest.mark.parametrize(
    "n,value,pattern",
    [
        (1, 1, "1"),
        (1, 0, "0"),
        (3, 5, "101"),
        (4, 2, "0010"),
        (8, 0xA5, "10100101"),
        (16, 1, "0000000000000001"),
        (16, 0xFFFF, "1" * 16),
        (32, 0x80000001, "1" + "0" * 30 + "1"),
        (64, 1 << 63, "1" + "0" * 63),
    ],
)
def test_u_patterns(n, value, pattern):
    assert write_bits(lambda w: w.u(n, "x", value)) == pattern
    r = reader_for(pattern)
    assert r.u(n, "x") == value
    assert r.at() == n


def test_u_msb_first_across_bytes():
    # u(3)=5, u(9)=0x1FF, u(4)=0 -> 101 111111111 0000 = 0xBF 0xF0
    r = BitReader(b"\xbf\xf0")
    assert (r.u(3, "a"), r.u(9, "b"), r.u(4, "c")) == (5, 0x1FF, 0)


def test_u_writer_rejects_out_of_range():
    with pytest.raises(ValueError):
        BitWriter().u(3, "x", 8)
    with pytest.raises(ValueError):
        BitWriter().u(3, "x", -1)


F32_PATTERNS = [
    (1.0, 0x3F800000),  # sign 0, exponent 127, fraction 0
    (-2.5, 0xC0200000),  # -1.25 * 2^1: sign 1, exponent 128, fraction .01
    (2.0**-149, 0x00000001),  # smallest subnormal
    (2.0**-126 - 2.0**-149, 0x007FFFFF),  # largest subnormal
    (math.inf, 0x7F800000),
    (-math.inf, 0xFF800000),
    (-0.0, 0x80000000),
    (0.0, 0x00000000),
    (3.4028234663852886e38, 0x7F7FFFFF),  # largest finite
]


@pytest.mark.parametrize("value,pattern", F32_PATTERNS)
def test_f32_patterns(value, pattern):
    assert bits_from_f32(value) == pattern
    got = f32_from_bits(pattern)
    assert got == value and math.copysign(1, got) == math.copysign(1, value)
    assert write_bits(lambda w: w.f32("x", value)) == format(pattern, "032b")
    r = BitReader(pattern.to_bytes(4, "big"))
    v = r.f32("x")
    assert struct.pack(">f", v) == pattern.to_bytes(4, "big")


def test_f32_nan_reads_as_nan():
    assert math.isnan(BitReader(bytes.fromhex("7fc00000")).f32("x"))
    assert math.isnan(BitReader(bytes.fromhex("ff800001")).f32("x"))


def test_f32_unaligned():
    # "1" then 1.0 then 7 zero bits
    r = BitReader(bits_to_bytes("1 00111111100000000000000000000000 0000000"))
    assert r.u(1, "a") == 1
    assert r.f32("x") == 1.0


# --------------------------------------------------------------------------- alignment
def test_alignment_zero_bits_accepted():
    r = BitReader(bits_to_bytes("1 0000000 1"  "0000000"))
    r.u(1, "a")
    r.byte_alignment()
    assert r.at() == 8
    r.byte_alignment()  # already aligned: reads nothing
    assert r.at() == 8


# SPEC 4.1, R-105: located at the first alignment bit that is 1 (bit 0 of the unit is "a")
@pytest.mark.parametrize("padding,bad_at", [("0000001", 7), ("1000000", 1), ("0100000", 2)])
def test_alignment_nonzero_rejected(padding, bad_at):
    r = BitReader(bits_to_bytes("1" + padding), base_bit=64)
    r.u(1, "a")
    with pytest.raises(E_PADDING) as ei:
        r.byte_alignment()
    assert ei.value.field == "alignment_zero_bit"
    assert ei.value.bit_offset == 64 + bad_at


def test_writer_alignment_pads_zero():
    w = BitWriter()
    w.u(3, "a", 7)
    w.byte_alignment()
    assert w.getvalue() == b"\xe0"


def test_writer_getvalue_requires_alignment():
    w = BitWriter()
    w.u(3, "a", 7)
    with pytest.raises(ValueError):
        w.getvalue()


# --------------------------------------------------------------------------- leb128
@pytest.mark.parametrize(
    "value,code",
    [
        (0, b"\x00"),
        (1, b"\x01"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (300, b"\xac\x02"),  # 300 = 0b10_0101100 -> 0xAC 0x02
        (16384, b"\x80\x80\x01"),
        ((1 << 32) - 1, b"\xff\xff\xff\xff\x0f"),
    ],
)
def test_leb128_patterns(value, code):
    assert write_leb128(value) == code
    assert leb128_ref(value) == code
    assert read_leb128(b"\xaa" + code + b"\xbb", 1) == (value, len(code))


def test_leb128_non_minimal_8_bytes_accepted():
    assert read_leb128(b"\x80" * 7 + b"\x00", 0) == (0, 8)
    assert read_leb128(b"\x81" + b"\x80" * 6 + b"\x00", 0) == (1, 8)


def test_leb128_nine_byte_code_rejected():
    with pytest.raises(E_LEB128) as ei:
        read_leb128(b"\x00\x00" + b"\x80" * 8 + b"\x00", 2)
    assert ei.value.bit_offset == 16


@pytest.mark.parametrize("code", [b"\x80\x80\x80\x80\x10", b"\xff\xff\xff\xff\x1f", b"\xff" * 7 + b"\x7f"])
def test_leb128_value_too_large(code):
    with pytest.raises(E_LEB128) as ei:
        read_leb128(code, 0)
    assert ei.value.bit_offset == 0


@pytest.mark.parametrize("code,at", [(b"", 0), (b"\x80", 8), (b"\xff\xff\xff", 24)])
def test_leb128_truncated(code, at):
    with pytest.raises(E_TRUNCATED) as ei:
        read_leb128(code, 0)
    assert ei.value.bit_offset == at


def test_leb128_writer_range():
    with pytest.raises(ValueError):
        write_leb128(1 << 32)
    with pytest.raises(ValueError):
        write_leb128(-1)


@given(st.integers(0, (1 << 32) - 1))
def test_leb128_roundtrip(v):
    code = write_leb128(v)
    assert code == leb128_ref(v)
    assert read_leb128(code, 0) == (v, len(code))


# --------------------------------------------------------------------------- CRCs
def test_crc_check_values():
    assert crc8(b"123456789") == 0xF4
    assert crc32(b"123456789") == 0xCBF43926
    assert crc8(b"") == 0
    assert crc32(b"") == 0
    assert crc8(b"\x00") == 0
    assert crc8(b"\x01") == 0x07  # one step of the polynomial
    assert crc8(b"\x80") == 0x89  # 0x80 -> 0x07 after 1 shift, then 7 more shifts: 0x0E,0x1C,0x38,0x70,0xE0,0xC7,0x89


@given(st.binary(max_size=64))
def test_crc8_matches_bitwise_reference(data):
    assert crc8(data) == crc8_ref(data)
