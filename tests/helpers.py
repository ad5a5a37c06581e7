"""Helpers for the FCS tests, written independently of refcodec's own code paths.

Nothing here calls the codec's bit writer, quantizer or dequantizer: expected values are
computed from the SPEC's definitions so that the tests check the code, not themselves.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

from refcodec.errors import REGISTERED, FcError


def bits(text: str) -> str:
    """A literal bit string: keeps 0/1, drops spaces, '|' and '#'-comments (per line)."""
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        out.append(re.sub(r"[^01]", "", line))
    return "".join(out)


def bits_to_bytes(text: str) -> bytes:
    """Bytes of a literal bit string (its length must be a multiple of 8)."""
    s = bits(text)
    assert len(s) % 8 == 0, f"{len(s)} bits is not a whole number of bytes"
    return int(s, 2).to_bytes(len(s) // 8, "big") if s else b""


def bytes_to_bits(data: bytes) -> str:
    """MSB-first bit string of ``data``."""
    return "".join(f"{b:08b}" for b in data)


def crc8_ref(data: bytes) -> int:
    """Bitwise CRC-8 (poly 0x07, init 0, no reflection, no final XOR), SPEC 3.5."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def crc32_ref(data: bytes) -> int:
    """CRC-32/ISO-HDLC (SPEC 3.5): zlib's."""
    return zlib.crc32(data) & 0xFFFFFFFF


def leb128_ref(value: int) -> bytes:
    """Minimal leb128 written from the definition (SPEC 3.2.4)."""
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def fcs_file(units: list[bytes]) -> bytes:
    """A .fcs file: 'FCS1' then leb128(size) + unit for every unit (SPEC 5.5)."""
    out = bytearray(b"FCS1")
    for u in units:
        out += leb128_ref(len(u)) + u
    return bytes(out)


def f32(x) -> np.float32:
    """Round to binary32."""
    return np.float32(x)


def expected_step(rmin, rmax, bit_depth) -> np.ndarray:
    """SPEC 6.5: step = f32( f32(max - min) / f32(2^b - 1) ), elementwise, binary32 only."""
    rmin = np.asarray(rmin, dtype=np.float32)
    rmax = np.asarray(rmax, dtype=np.float32)
    levels = np.asarray([float((1 << int(b)) - 1) for b in np.ravel(bit_depth)], dtype=np.float32).reshape(np.shape(bit_depth))
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        width = np.subtract(rmax, rmin, dtype=np.float32)
        return np.divide(width, levels, dtype=np.float32)


def expected_values(q, rmin, rmax, bit_depth) -> np.ndarray:
    """SPEC 6.5: x = f32( min + f32( f32(q) * step ) ), one rounded binary32 op at a time."""
    step = expected_step(rmin, rmax, bit_depth)
    qf = np.asarray(q, dtype=np.int64).astype(np.float32)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        prod = np.multiply(qf, step, dtype=np.float32)
        return np.add(np.asarray(rmin, dtype=np.float32), prod, dtype=np.float32)


def same_f32(a, b) -> bool:
    """Bitwise equality of two binary32 arrays (distinguishes -0/+0, compares NaN payloads)."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    b = np.ascontiguousarray(b, dtype=np.float32)
    return a.shape == b.shape and bool(np.array_equal(a.view(np.uint32), b.view(np.uint32)))


def check_error(err: BaseException, data_len_bytes: int | None = None) -> None:
    """An error is a registered FcError with a sensible bit offset."""
    assert isinstance(err, FcError), f"{type(err).__name__}: {err}"
    assert err.error_class in REGISTERED, err.error_class
    assert type(err) is REGISTERED[err.error_class]
    assert err.bit_offset is not None, f"{err.error_class} without bit_offset: {err}"
    assert err.bit_offset >= 0
    if data_len_bytes is not None:
        assert err.bit_offset <= data_len_bytes * 8, (err.bit_offset, data_len_bytes)
