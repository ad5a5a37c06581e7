"""leb128() as in AV1 (SPEC 3.2, R-04): at most 8 bytes, value at most 2^32 - 1."""

from __future__ import annotations

from .errors import E_LEB128, E_TRUNCATED

MAX_LEB128_BYTES = 8
MAX_LEB128_VALUE = (1 << 32) - 1


def read_leb128(data: bytes, pos: int, name: str = "leb128") -> tuple[int, int]:
    """Decode a leb128() at byte ``pos``; return ``(value, bytes_used)``.

    Raises E_TRUNCATED if the data ends inside the code and E_LEB128 if the code is longer
    than 8 bytes or its value exceeds 2^32 - 1.
    """
    value = 0
    for i in range(MAX_LEB128_BYTES):
        if pos + i >= len(data):
            raise E_TRUNCATED("data ends inside leb128()", field=name, bit_offset=(pos + i) * 8)
        byte = data[pos + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if value > MAX_LEB128_VALUE:
                raise E_LEB128(f"value {value} exceeds 2^32-1", field=name, bit_offset=pos * 8)
            return value, i + 1
    raise E_LEB128(f"longer than {MAX_LEB128_BYTES} bytes", field=name, bit_offset=pos * 8)


def write_leb128(value: int) -> bytes:
    """Minimal leb128() encoding of ``value`` (0 <= value <= 2^32 - 1)."""
    if not 0 <= value <= MAX_LEB128_VALUE:
        raise ValueError(f"leb128 value {value} out of range")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
