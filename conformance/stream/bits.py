"""An independent bit writer for the stream vectors (SPEC 3.1, 3.2, 3.5, 5).

The stream vectors are not written by the reference writer (``refcodec.fcs.syntax.write_unit``
and ``refcodec.bitio.BitWriter``) they test. A unit is written here from the element list of
:mod:`conformance.stream.syntax` (the walk over the syntax tables of SPEC 5): each element's
value is turned into bits by its descriptor with ``bitstring``, MSB first, and the CRCs are
computed with ``zlib.crc32`` and a CRC-8 written from its polynomial. So a bug of the
reference writer shows up as a failing vector instead of being mirrored in the suite.
"""

from __future__ import annotations

import struct
import zlib

from bitstring import BitArray, Bits

from .syntax import Element

CRC8_POLY = 0x07  # SPEC 3.5: x^8 + x^2 + x + 1, init 0, no reflection, no final XOR


def crc8(data: bytes) -> int:
    """CRC-8 of SPEC 3.5, bit by bit from the polynomial (check value of b"123456789": 0xF4)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ CRC8_POLY) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def crc32(data: bytes) -> int:
    """CRC-32 of SPEC 3.5 (ISO-HDLC, as zlib)."""
    return zlib.crc32(data) & 0xFFFFFFFF


def exp_golomb_bits(code_num: int, k: int) -> str:
    """k-th order Exp-Golomb code of ``code_num`` (SPEC 3.2.1, 3.2.3): x = codeNum + 2^k written
    in BitLength(x) bits after BitLength(x) - 1 - k zero bits."""
    x = code_num + (1 << k)
    n = x.bit_length()
    return "0" * (n - 1 - k) + format(x, f"0{n}b")


def signed_code_num(value: int) -> int:
    """SPEC 3.2.2: codeNum of a signed value (0, 1, -1, 2, -2 -> 0, 1, 2, 3, 4)."""
    return 2 * value - 1 if value > 0 else -2 * value


def element_bits(e: Element) -> str:
    """The bits of one element with a known value, by its descriptor (SPEC 3.2)."""
    if e.descriptor == "ue":
        return exp_golomb_bits(int(e.value), 0)
    if e.descriptor == "sek":
        return exp_golomb_bits(signed_code_num(int(e.value)), e.k)
    if e.descriptor == "f32":
        return format(struct.unpack(">I", struct.pack(">f", float(e.value)))[0], "032b")
    if e.descriptor == "f":
        return "0" * e.nbits
    value = int(e.value)
    if not 0 <= value < (1 << e.nbits):
        raise ValueError(f"{e.name} = {value} does not fit u({e.nbits})")
    return format(value, f"0{e.nbits}b")


def unit_bytes(elements: list[Element]) -> bytes:
    """Serialise one unit from its elements in bitstream order (SPEC 5.1-5.4).

    ``header_crc`` and ``frame_crc`` (value None) are computed over the bytes before them
    (SPEC 5.2.1, 5.3.1, R-19). Every element must start where the walk says it starts.
    """
    s = BitArray()
    for e in elements:
        if len(s) != e.offset:
            raise AssertionError(f"{e.name} at bit {len(s)}, the syntax walk says {e.offset}")
        if e.name in ("header_crc", "frame_crc") and e.value is None:
            body = s.tobytes()  # byte aligned here (SPEC 3.3)
            value = crc32(body) if e.name == "header_crc" else crc8(body)
            s.append(Bits(uint=value, length=e.nbits))
            continue
        bits = element_bits(e)
        if len(bits) != e.nbits:
            raise AssertionError(f"{e.name}: {len(bits)} bits written, the walk says {e.nbits}")
        s.append(Bits(bin=bits))
    if len(s) % 8:
        raise AssertionError("a unit ends on a byte boundary (SPEC 3.3)")
    return s.tobytes()


def leb128_bytes(value: int) -> bytes:
    """Minimal leb128() of SPEC 3.2.4: 7 bits per byte, least significant group first."""
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)
