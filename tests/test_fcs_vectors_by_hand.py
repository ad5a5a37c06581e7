"""A tiny FCS stream written out bit by bit, and hand-built invalid units (SPEC 5, 6).

Requirements exercised: R-07 (class, field, offset of every rejection), R-08 (profile),
R-09 (level), R-10 (version), R-11 (reserved units), R-12 (reserved bits), R-13 (zero values),
R-14 (level limits), R-15 (index maps), R-16 (ranges), R-18 (leftover bytes), R-19 (CRCs),
R-20/R-22 (no sequence header), R-30 (dequantization), R-31 (range updates), R-32 (E_RESIDUAL),
R-33 (I-frame values).

The stream: one group (semantic 1 = EXPRESSION, 2 dimensions, bit depth 3), ranges
dim 0: [0, 7] (step exactly 1), dim 1: [-1, 1] (step 2/7 in binary32); one I-frame with
quantized values (5, 2) and one P-frame with residuals (-2, +3) -> (3, 5).
Every element's bits are written literally with the element's name; the expected floats
are computed here with numpy float32 from SPEC 6.5, one rounded operation at a time.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import bits, bits_to_bytes, crc8_ref, crc32_ref, same_f32

from refcodec.errors import (
    E_CRC,
    E_EXPGOLOMB,
    E_LEVEL,
    E_NO_SEQUENCE_HEADER,
    E_PADDING,
    E_PROFILE,
    E_RANGE,
    E_RESIDUAL,
    E_TRUNCATED,
    E_UNIT_SIZE,
    E_VALUE,
    E_VERSION,
)
from refcodec.fcs.decoder import FcsDecoder, FrameStatus, decode_file
from refcodec.fcs.encoder import EncoderConfig, FcsEncoder
from refcodec.fcs.layout import GroupLayout, SequenceHeader
from refcodec.fcs.storage import write_file
from refcodec.fcs.syntax import FrameUnit, ReservedUnit, read_unit, write_unit

# ----------------------------------------------------------------------------- the header
# (element name, bits). Offsets (bits from the unit start) are given where tests use them.
HEADER = [
    ("unit_type", "011"),  # ue(v) 2: one zero, 1, info 1            @0
    ("seq_version", "00000001"),  # u(8) 1                            @3
    ("profile_idc", "00000000"),  # u(8) 0                            @11
    ("level_idc", "00001010"),  # u(8) 10                             @19
    ("frame_rate_num", "0000000000011110"),  # u(16) 30               @27
    ("frame_rate_den", "0000000000000001"),  # u(16) 1                @43
    ("max_intra_interval", "0000000000011110"),  # u(16) 30           @59
    ("header_crc_flag", "0"),  # @75
    ("frame_crc_flag", "0"),  # @76
    ("avatar_binding_flag", "0"),  # @77
    ("intra_pred_flag", "0"),  # @78
    ("conceal_extrapolate_flag", "0"),  # @79
    ("xdim_pred_flag", "0"),  # @80
    ("seq_reserved_2bits", "00"),  # @81
    ("num_groups", "00000001"),  # u(8) 1                             @83
    ("group_semantic[0]", "00000001"),  # EXPRESSION (any dims)       @91
    ("group_dim_count_minus1[0]", "00000001"),  # 2 dims              @99
    ("group_bit_depth_minus1[0]", "0010"),  # b = 3                   @107
    ("group_zero_flag_enabled[0]", "0"),  # @111
    ("group_index_map_flag[0]", "0"),  # @112
    ("group_nominal_flag[0]", "0"),  # @113
    ("group_reserved_1bit[0]", "0"),  # @114
    ("eg_order[0][0]", "0000"),  # k = 0                              @115
    ("range_min[0][0]", "00000000000000000000000000000000"),  # 0.0 = 0x00000000      @119
    ("range_max[0][0]", "01000000111000000000000000000000"),  # 7.0 = 0x40E00000      @151
    ("eg_order[0][1]", "0001"),  # k = 1                              @183
    ("range_min[0][1]", "10111111100000000000000000000000"),  # -1.0 = 0xBF800000     @187
    ("range_max[0][1]", "00111111100000000000000000000000"),  # 1.0 = 0x3F800000      @219
    ("alignment_zero_bit", "00000"),  # 251 bits so far -> 5 zero bits to 256
]

I_FRAME = [
    ("unit_type", "010"),  # ue(v) 1
    ("frame_counter", "0000"),  # u(4) 0
    ("range_update_flag", "0"),
    ("quant_value[0][0]", "101"),  # u(3) 5
    ("quant_value[0][1]", "010"),  # u(3) 2
    ("alignment_zero_bit", "00"),  # 14 bits -> 16
]

P_FRAME = [
    ("unit_type", "1"),  # ue(v) 0
    ("frame_counter", "0001"),  # u(4) 1
    ("residual[0][0]", "00101"),  # se(v) -2: codeNum 4 = 00101           @5
    ("residual[0][1]", "0111"),  # sek k=1 +3: codeNum 5, x = 7 = 111b, 1 zero   @10
    ("alignment_zero_bit", "00"),  # 14 bits -> 16
]


def assemble(elements, **replace) -> str:
    """Bit string of the elements, with some replaced by name (``range_min[0][0]`` -> ``range_min_0_0``)."""
    out = []
    names = set()
    for name, b in elements:
        key = name.replace("[", "_").replace("]", "")
        names.add(key)
        out.append(bits(replace.get(key, b)))
    assert set(replace) <= names, set(replace) - names
    return "".join(out)


def offset_of(elements, name: str) -> int:
    pos = 0
    for n, b in elements:
        if n == name:
            return pos
        pos += len(b)
    raise KeyError(name)


def with_crc32(bit_string: str) -> bytes:
    data = bits_to_bytes(bit_string)
    return data + crc32_ref(data).to_bytes(4, "big")


def with_crc8(bit_string: str) -> bytes:
    data = bits_to_bytes(bit_string)
    return data + bytes([crc8_ref(data)])


HEADER_BYTES = bits_to_bytes(assemble(HEADER))
I_BYTES = bits_to_bytes(assemble(I_FRAME))
P_BYTES = bits_to_bytes(assemble(P_FRAME))
CRC_HEADER_BYTES = with_crc32(assemble(HEADER, header_crc_flag="1", frame_crc_flag="1"))
CRC_I_BYTES = with_crc8(assemble(I_FRAME))
CRC_P_BYTES = with_crc8(assemble(P_FRAME))

# The file: "FCS1", then leb128(size) + unit. Sizes 32, 2, 2 are one-byte leb128 codes.
FILE = b"FCS1" + b"\x20" + HEADER_BYTES + b"\x02" + I_BYTES + b"\x02" + P_BYTES
CRC_FILE = b"FCS1" + b"\x24" + CRC_HEADER_BYTES + b"\x03" + CRC_I_BYTES + b"\x03" + CRC_P_BYTES
P_UNIT_BASE_BIT = (4 + 1 + 32 + 1 + 2 + 1) * 8  # 328
CRC_P_UNIT_BASE_BIT = (4 + 1 + 36 + 1 + 3 + 1) * 8  # 368

# The encoder's input: values that quantize to (5, 2) and (3, 5).
X = np.array([[5.0, -1.0 + 2 * 2 / 7], [3.0, -1.0 + 5 * 2 / 7]])


def make_header(crc: bool) -> SequenceHeader:
    return SequenceHeader(
        groups=[GroupLayout(1, 3, [0.0, -1.0], [7.0, 1.0], [0, 1])],
        frame_rate_num=30, frame_rate_den=1, max_intra_interval=30,
        header_crc_flag=crc, frame_crc_flag=crc, level_idc=10,
    )


def expected_frames() -> np.ndarray:
    """SPEC 6.5 by hand in binary32."""
    f = np.float32
    rmin = [f(0.0), f(-1.0)]
    rmax = [f(7.0), f(1.0)]
    out = []
    for q in [(5, 2), (3, 5)]:
        row = []
        for d in range(2):
            step = f(f(rmax[d] - rmin[d]) / f(7))
            row.append(f(rmin[d] + f(f(q[d]) * step)))
        out.append(row)
    return np.array(out, dtype=np.float32)


# ----------------------------------------------------------------------------- valid stream
def test_literal_sizes():
    assert len(assemble(HEADER)) == 256 and len(HEADER_BYTES) == 32
    assert len(I_BYTES) == 2 and len(P_BYTES) == 2
    assert I_BYTES == bytes([0b01000000, 0b10101000])
    assert P_BYTES == bytes([0b10001001, 0b01011100])
    assert offset_of(HEADER, "num_groups") == 83
    assert offset_of(HEADER, "range_min[0][0]") == 119
    assert offset_of(HEADER, "range_min[0][1]") == 187


@pytest.mark.parametrize("crc", [False, True])
def test_writer_produces_the_literal_units(crc):
    h = make_header(crc)
    exp_h, exp_i, exp_p = (CRC_HEADER_BYTES, CRC_I_BYTES, CRC_P_BYTES) if crc else (HEADER_BYTES, I_BYTES, P_BYTES)
    assert write_unit(h) == exp_h
    assert write_unit(FrameUnit(1, 0, [[5, 2]]), h) == exp_i
    assert write_unit(FrameUnit(0, 1, [[-2, 3]], zero_groups=[False]), h) == exp_p


@pytest.mark.parametrize("crc", [False, True])
def test_encoder_produces_the_literal_file(crc):
    enc = FcsEncoder(make_header(crc), EncoderConfig(intra_interval=30))
    units = [enc.header_unit()]
    for x in X:
        units.extend(enc.encode_frame(x))
    assert write_file(units) == (CRC_FILE if crc else FILE)


@pytest.mark.parametrize("crc", [False, True])
def test_decode_literal_file(crc):
    res = decode_file(CRC_FILE if crc else FILE, strict=True)
    assert len(res.frames) == 2
    assert [f.status for f in res.frames] == [FrameStatus.DECODED] * 2
    assert [f.frame_type for f in res.frames] == ["I", "P"]
    assert [f.quantized.tolist() for f in res.frames] == [[5, 2], [3, 5]]
    exp = expected_frames()
    assert same_f32(res.matrix(), exp)
    assert exp[:, 0].tolist() == [5.0, 3.0]  # step 1 on [0, 7]
    h = res.header
    assert h.groups[0].bit_depth == 3 and h.groups[0].eg_orders == [0, 1]
    assert h.header_crc_flag is crc and h.frame_crc_flag is crc
    assert [e.kind for e in res.events] == ["sequence_header", "I", "P"]


def test_literal_crc_values_are_spec_crcs():
    # CRC-32 over the 32 bytes preceding header_crc; CRC-8 over the 2 bytes preceding frame_crc.
    assert int.from_bytes(CRC_HEADER_BYTES[32:], "big") == crc32_ref(CRC_HEADER_BYTES[:32])
    assert CRC_I_BYTES[2] == crc8_ref(CRC_I_BYTES[:2])


def test_reserved_bits_ignored():
    h = read_unit(bits_to_bytes(assemble(HEADER, seq_reserved_2bits="01", group_reserved_1bit_0="1")), None)
    assert isinstance(h, SequenceHeader)
    res = decode_file(b"FCS1\x20" + bits_to_bytes(assemble(HEADER, seq_reserved_2bits="11")) + FILE[37:])
    assert same_f32(res.matrix(), expected_frames())


def test_reserved_unit_is_ignored():
    reserved = bits_to_bytes("00100 000" + "11111111")  # ue(v) 3, then anything
    assert isinstance(read_unit(reserved, None), ReservedUnit)
    f = b"FCS1\x20" + HEADER_BYTES + b"\x02" + I_BYTES + b"\x02" + reserved + b"\x02" + P_BYTES
    for strict in (True, False):
        res = decode_file(f, strict=strict)
        assert same_f32(res.matrix(), expected_frames())
        assert [e.kind for e in res.events] == ["sequence_header", "I", "reserved", "P"]


def test_avatar_hash_parsed():
    h = assemble(HEADER, avatar_binding_flag="1")
    # insert avatar_hash u(64) after seq_reserved_2bits (@83); then re-pad: 315 bits -> 320
    cut = offset_of(HEADER, "num_groups")
    hash_bits = format(0x0123456789ABCDEF, "064b")
    s = h[:cut] + hash_bits + h[cut:-5] + "00000"
    hdr = read_unit(bits_to_bytes(s), None)
    assert hdr.avatar_hash == 0x0123456789ABCDEF
    assert write_unit(hdr) == bits_to_bytes(s)


# ----------------------------------------------------------------------------- invalid units
F32_8 = "01000001000000000000000000000000"  # 8.0 = 0x41000000
F32_NAN = "01111111110000000000000000000000"  # 0x7FC00000
F32_INF = "01111111100000000000000000000000"  # 0x7F800000
F32_M3E38 = "11111111011000011110010011000000"  # about -3.0e38 (0xFF61E4C0)
F32_P3E38 = "01111111011000011110010011000000"  # about +3.0e38


HEADER_CASES = [
    # (replacement, error, field, bit offset in the unit)
    (dict(seq_version="00000010"), E_VERSION, "seq_version", 3),
    (dict(profile_idc="00000010"), E_PROFILE, "profile_idc", 11),
    (dict(level_idc="01100011"), E_LEVEL, "level_idc", 19),  # 99
    (dict(frame_rate_num="0" * 16), E_VALUE, "frame_rate_num", 27),
    (dict(frame_rate_den="0" * 16), E_VALUE, "frame_rate_den", 43),
    (dict(frame_rate_num="0000000000111101"), E_LEVEL, "frame_rate_den", 43),  # 61 fps > 60 of level 10
    (dict(max_intra_interval="0" * 16), E_VALUE, "max_intra_interval", 59),
    (dict(num_groups="00000000"), E_VALUE, "num_groups", 83),
    (dict(num_groups="00001001"), E_LEVEL, "num_groups", 83),  # 9 > 8 groups of level 10
    (dict(group_dim_count_minus1_0="10000000"), E_LEVEL, "group_dim_count_minus1[0]", 99),  # 129 > 128
    (dict(group_semantic_0="00001000", group_dim_count_minus1_0="00000010"), E_VALUE, "group_dim_count_minus1[0]", 99),  # EYELIDS: 3 > 2
    # a range pair is located at range_max, 32 bits after range_min
    (dict(range_min_0_0=F32_8), E_RANGE, "range_max[0][0]", 119 + 32),  # 8 > 7
    (dict(range_max_0_1=F32_NAN), E_RANGE, "range_max[0][1]", 187 + 32),
    (dict(range_min_0_1=F32_NAN), E_RANGE, "range_max[0][1]", 187 + 32),
    (dict(range_max_0_0=F32_INF), E_RANGE, "range_max[0][0]", 119 + 32),
    (dict(range_min_0_0=F32_M3E38, range_max_0_0=F32_P3E38), E_RANGE, "range_max[0][0]", 119 + 32),  # width overflows
    (dict(alignment_zero_bit="00001"), E_PADDING, "alignment_zero_bit", 251 + 4),  # the first 1 bit
]


@pytest.mark.parametrize("replace,err,field,at", HEADER_CASES, ids=[f"{c[2]}-{c[1].__name__}-{i}" for i, c in enumerate(HEADER_CASES)])
def test_invalid_header(replace, err, field, at):
    unit = bits_to_bytes(assemble(HEADER, **replace))
    with pytest.raises(err) as ei:
        read_unit(unit, None)
    assert (ei.value.field, ei.value.bit_offset) == (field, at)
    # inside a file the offset is absolute: the unit starts at byte 5
    for strict in (True, False):
        if strict:
            with pytest.raises(err) as ei:
                decode_file(b"FCS1\x20" + unit + FILE[37:], strict=True)
            assert (ei.value.field, ei.value.bit_offset) == (field, 40 + at)
        else:
            res = decode_file(b"FCS1\x20" + unit + FILE[37:], strict=False)
            assert res.frames == [] and res.events[0].kind == "error" and res.events[0].error_class == err.error_class


def test_index_map_not_increasing():
    # group_index_map_flag = 1: each dimension starts with group_dim_index u(16)
    s = assemble(HEADER[:19]) + "1" + "00"  # ... index_map_flag = 1, reserved 00        (115 bits)
    s += "0000000000000011" + "0000" + "0" * 32 + bits(dict(HEADER)["range_max[0][0]"])  # index 3, k 0, [0, 7]    @115
    s += "0000000000000011" + "0001" + bits(dict(HEADER)["range_min[0][1]"]) + bits(dict(HEADER)["range_max[0][1]"])  # index 3 again      @199
    s += "0" * ((-len(s)) % 8)
    with pytest.raises(E_VALUE) as ei:
        read_unit(bits_to_bytes(s), None)
    assert (ei.value.field, ei.value.bit_offset) == ("group_dim_index[0][1]", 199)


def test_index_map_beyond_canonical():
    # HEAD_ROTATION (3) with dim index 3 (>= canonical 3)
    s = assemble(HEADER[:15]) + "00000011" + "00000000" + "0010" + "0" + "1" + "00"  # 1 dim      @115
    s += "0000000000000011" + "0000" + "0" * 32 + bits(dict(HEADER)["range_max[0][0]"])
    s += "0" * ((-len(s)) % 8)
    with pytest.raises(E_VALUE) as ei:
        read_unit(bits_to_bytes(s), None)
    assert (ei.value.field, ei.value.bit_offset) == ("group_dim_index[0][0]", 115)


def test_header_truncated():
    with pytest.raises(E_TRUNCATED) as ei:
        read_unit(HEADER_BYTES[:-4], None)
    assert ei.value.field == "range_max[0][1]" and ei.value.bit_offset == 219


def test_header_trailing_byte():
    with pytest.raises(E_UNIT_SIZE) as ei:
        read_unit(HEADER_BYTES + b"\x00", None)
    assert ei.value.bit_offset == 256


def test_header_bad_crc():
    bad = CRC_HEADER_BYTES[:-1] + bytes([CRC_HEADER_BYTES[-1] ^ 0x01])
    with pytest.raises(E_CRC) as ei:
        read_unit(bad, None)
    assert (ei.value.field, ei.value.bit_offset) == ("header_crc", 256)
    # a flipped payload bit (frame_rate_num 30 -> 31) is also caught by the CRC
    bad = bytearray(CRC_HEADER_BYTES)
    bad[5] ^= 0x02  # byte 5 holds bits 40..47; frame_rate_num's LSB is bit 42
    with pytest.raises(E_CRC):
        read_unit(bytes(bad), None)


H = make_header(False)
HC = make_header(True)


def test_residual_out_of_range_above():
    p = bits_to_bytes(assemble(P_FRAME, residual_0_0="00110"))  # +3: codeNum 5 -> q = 8 > 7
    with pytest.raises(E_RESIDUAL) as ei:
        decode_file(FILE[:41] + p)
    assert (ei.value.field, ei.value.bit_offset) == ("residual[0][0]", P_UNIT_BASE_BIT + 5)


def test_residual_out_of_range_below():
    p = bits_to_bytes(assemble(P_FRAME, residual_0_1="001000", alignment_zero_bit=""))  # k=1, -3: codeNum 6, x=8 -> q = -1; 16 bits, no padding
    with pytest.raises(E_RESIDUAL) as ei:
        decode_file(FILE[:40] + bytes([len(p)]) + p)
    assert (ei.value.field, ei.value.bit_offset) == ("residual[0][1]", P_UNIT_BASE_BIT + 10)


def test_frame_nonzero_padding():
    i = bits_to_bytes(assemble(I_FRAME, alignment_zero_bit="01"))
    with pytest.raises(E_PADDING) as ei:
        read_unit(i, H, base_bit=304)
    assert (ei.value.field, ei.value.bit_offset) == ("alignment_zero_bit", 304 + 15)  # the bit that is 1


def test_frame_trailing_byte():
    with pytest.raises(E_UNIT_SIZE) as ei:
        read_unit(I_BYTES + b"\x00", H)
    assert (ei.value.field, ei.value.bit_offset) == ("unit_size", 16)
    with pytest.raises(E_UNIT_SIZE) as ei:
        decode_file(FILE[:37] + b"\x03" + I_BYTES + b"\x00")
    assert ei.value.bit_offset == (38 + 2) * 8


def test_frame_truncated():
    with pytest.raises(E_TRUNCATED) as ei:
        read_unit(I_BYTES[:1], H)
    # unit_type (3) + frame_counter (4) + range_update_flag (1) = 8 bits; quant_value[0][0] needs 3 more
    assert ei.value.field.startswith("quant_value[0]") and ei.value.bit_offset == 8


def test_frame_bad_crc():
    bad = CRC_P_BYTES[:-1] + bytes([CRC_P_BYTES[-1] ^ 0x80])
    with pytest.raises(E_CRC) as ei:
        read_unit(bad, HC)
    assert (ei.value.field, ei.value.bit_offset) == ("frame_crc", 16)
    with pytest.raises(E_CRC) as ei:
        decode_file(CRC_FILE[:-4] + b"\x03" + bad)
    assert (ei.value.field, ei.value.bit_offset) == ("frame_crc", CRC_P_UNIT_BASE_BIT + 16)


def test_frame_crc_missing_is_truncated():
    with pytest.raises(E_TRUNCATED) as ei:
        read_unit(CRC_I_BYTES[:2], HC)
    assert (ei.value.field, ei.value.bit_offset) == ("frame_crc", 16)


def test_unit_before_header():
    with pytest.raises(E_NO_SEQUENCE_HEADER) as ei:
        read_unit(I_BYTES, None, base_bit=40)
    assert (ei.value.field, ei.value.bit_offset) == ("unit_type", 40)
    f = b"FCS1\x02" + I_BYTES + b"\x20" + HEADER_BYTES
    with pytest.raises(E_NO_SEQUENCE_HEADER) as ei:
        decode_file(f, strict=True)
    assert ei.value.bit_offset == 40
    # resilient: the frame is discarded without output, the header is then decoded
    res = decode_file(f + b"\x02" + I_BYTES, strict=False)
    assert [e.kind for e in res.events] == ["error", "sequence_header", "I"]
    assert res.events[0].error_class == "E_NO_SEQUENCE_HEADER"
    assert len(res.frames) == 1 and res.frames[0].quantized.tolist() == [5, 2]


def test_unit_type_expgolomb_overflow():
    unit = bytes(4) + b"\x80"  # 32 zero bits then a 1
    with pytest.raises(E_EXPGOLOMB) as ei:
        read_unit(unit, H, base_bit=8)
    assert (ei.value.field, ei.value.bit_offset) == ("unit_type", 8)
    # 31 zeros is a (reserved) unit type: ignored
    assert isinstance(read_unit(bytes(3) + b"\x01" + b"\x00" * 4, H), ReservedUnit)


def test_resilient_decoder_single_units():
    dec = FcsDecoder(strict=False)
    assert dec.decode_unit(HEADER_BYTES) == []
    out = dec.decode_unit(bits_to_bytes(assemble(I_FRAME, alignment_zero_bit="11")))
    assert [f.status for f in out] == [FrameStatus.CONCEALED_ERROR]
    assert same_f32(out[0].values, np.zeros(2, np.float32))
    assert out[0].error.error_class == "E_PADDING"


# ----------------------------------------------------------------------------- range updates
I_FRAME_UPDATE = [
    ("unit_type", "010"),  # ue(v) 1
    ("frame_counter", "0000"),
    ("range_update_flag", "1"),
    ("range_update_group_flag[0]", "1"),  # @8
    ("range_min[0][0]", "00111111100000000000000000000000"),  # 1.0 = 0x3F800000   @9
    ("range_max[0][0]", "01000001000000000000000000000000"),  # 8.0 = 0x41000000   @41
    ("range_min[0][1]", "00000000000000000000000000000000"),  # 0.0                @73
    ("range_max[0][1]", "00111111000000000000000000000000"),  # 0.5 = 0x3F000000   @105
    ("quant_value[0][0]", "101"),  # 5                                            @137
    ("quant_value[0][1]", "010"),  # 2
    ("alignment_zero_bit", "0"),  # 143 bits -> 144
]
I_FRAME_2 = [  # a later I-frame without update: the sequence ranges are back in effect
    ("unit_type", "010"),
    ("frame_counter", "0010"),  # 2
    ("range_update_flag", "0"),
    ("quant_value[0][0]", "101"),
    ("quant_value[0][1]", "010"),
    ("alignment_zero_bit", "00"),
]


def _dequant(q, rmin, rmax):
    f = np.float32
    return [f(f(rmin[d]) + f(f(q[d]) * f(f(f(rmax[d]) - f(rmin[d])) / f(7)))) for d in range(2)]


def test_range_update_by_hand():
    upd = bits_to_bytes(assemble(I_FRAME_UPDATE))
    i2 = bits_to_bytes(assemble(I_FRAME_2))
    assert len(upd) == 18
    data = b"FCS1\x20" + HEADER_BYTES + b"\x12" + upd + b"\x02" + P_BYTES + b"\x02" + i2
    res = decode_file(data)
    exp = np.array([_dequant((5, 2), (1.0, 0.0), (8.0, 0.5)),  # the update's ranges
                    _dequant((3, 5), (1.0, 0.0), (8.0, 0.5)),  # still in effect for the P-frame
                    _dequant((5, 2), (0.0, -1.0), (7.0, 1.0))], dtype=np.float32)  # reverted
    assert same_f32(res.matrix(), exp)
    assert exp[0].tolist() == [6.0, np.float32(np.float32(2) * np.float32(np.float32(0.5) / np.float32(7)))]
    # the writer produces the same unit
    h = make_header(False)
    assert write_unit(FrameUnit(1, 0, [[5, 2]], range_update_flag=True, range_updates={0: ([1.0, 0.0], [8.0, 0.5])}), h) == upd


@pytest.mark.parametrize("replace,field,at", [
    # located at range_max, 32 bits after range_min
    (dict(range_min_0_0=F32_8, range_max_0_0="00111111100000000000000000000000"), "range_max[0][0]", 9 + 32),  # 8 > 1
    (dict(range_max_0_1=F32_NAN), "range_max[0][1]", 73 + 32),
    (dict(range_min_0_1="11111111100000000000000000000000"), "range_max[0][1]", 73 + 32),  # -inf
])
def test_range_update_invalid(replace, field, at):
    with pytest.raises(E_RANGE) as ei:
        read_unit(bits_to_bytes(assemble(I_FRAME_UPDATE, **replace)), H, base_bit=8)
    assert (ei.value.field, ei.value.bit_offset) == (field, 8 + at)


def test_range_update_flag_without_groups_keeps_sequence_ranges():
    # range_update_flag = 1 but range_update_group_flag[0] = 0: no update
    unit = bits_to_bytes("010" "0000" "1" "0" "101" "010" "0")
    res = decode_file(b"FCS1\x20" + HEADER_BYTES + b"\x02" + unit)
    assert same_f32(res.matrix(), expected_frames()[:1])


def test_writer_p_frame_default_zero_groups():
    """A FrameUnit built without zero flags is written with every flag 0."""
    assert write_unit(FrameUnit(0, 1, [[-2, 3]]), H) == P_BYTES
