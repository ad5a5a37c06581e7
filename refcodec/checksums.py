"""CRCs used by the formats (SPEC 3.5).

CRC-32 is the ISO-HDLC CRC (zlib's). CRC-8 is the FLAC/SMBus CRC: polynomial 0x07,
initial value 0, no reflection, no final XOR (check value of "123456789" is 0xF4).
"""

from __future__ import annotations

import zlib


def _crc8_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
        table.append(crc)
    return tuple(table)


_CRC8 = _crc8_table()


def crc8(data: bytes) -> int:
    """CRC-8 (poly 0x07, init 0) of ``data`` (SPEC 3.5)."""
    crc = 0
    for b in data:
        crc = _CRC8[crc ^ b]
    return crc


def crc32(data: bytes) -> int:
    """CRC-32/ISO-HDLC of ``data`` (SPEC 3.5)."""
    return zlib.crc32(data) & 0xFFFFFFFF
