"""Bit reader and writer for the bit-level payloads (SPEC 3.1-3.3).

Bits are read and written MSB-first (SPEC 3.1, R-01). The payload is held as one Python
integer, so reading ``u(n)`` is a shift and a mask; this keeps the reference decoder both
readable and fast. Both classes expose the same element methods (``u``, ``ue``, ``se``,
``sek``, ``f32``) so one syntax declaration (``refcodec.fcs.syntax``) drives reading,
writing and tracing alike.
"""

from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

from .errors import E_EXPGOLOMB, E_PADDING, E_TRUNCATED, FcError

#: SPEC 3.2, R-02: an Exp-Golomb code may have at most this many leading zero bits.
MAX_LEADING_ZEROS = 31

#: Width in bits of the look-up window of :meth:`BitReader.sek_array`.
EG_WINDOW = 16
_EG_LEN_BITS = 40
_EG_LEN_MASK = (1 << _EG_LEN_BITS) - 1
_EG_NO_CODE = _EG_LEN_MASK  # "length" of a window that holds no whole code: longer than any unit


@cache
def eg_window_table(k: int) -> array:
    """Decoding table of sek(v) codes of order ``k`` that fit in :data:`EG_WINDOW` bits.

    Entry ``w`` (the next EG_WINDOW bits, MSB first) is ``(value << 40) | length`` of the code
    that starts the window, or ``_EG_NO_CODE`` when the window does not hold a whole code.
    """
    parts = [np.array([_EG_NO_CODE])]  # the all-zero window
    for zeros in range(EG_WINDOW - 1, -1, -1):  # windows w in [2^(W-1-zeros), 2^(W-zeros))
        length = 2 * zeros + 1 + k  # SPEC 3.2: zeros, a 1, then zeros + k more bits
        if length > EG_WINDOW:
            parts.append(np.full(1 << (EG_WINDOW - 1 - zeros), _EG_NO_CODE))
            continue
        code_num = np.arange(1 << (zeros + k), 1 << (zeros + k + 1), dtype=np.int64) - (1 << k)
        value = np.where(code_num & 1, (code_num + 1) >> 1, -(code_num >> 1))  # Table 3-1
        parts.append(np.repeat((value << _EG_LEN_BITS) | length, 1 << (EG_WINDOW - length)))  # any trailing bits
    table = array("q")
    table.frombytes(np.concatenate(parts).astype(np.int64).tobytes())
    return table


class _EgCodeStrings(dict):
    """``(v << 4) | k`` -> the sek(v) code of order k as a string of '0'/'1' (SPEC 3.2).

    Filled on demand; only small values are kept, so the cache stays bounded.
    """

    def __missing__(self, key: int) -> str:
        value, k = key >> 4, key & 15
        x = code_num_from_signed(value) + (1 << k)
        zeros = x.bit_length() - 1 - k
        if zeros > MAX_LEADING_ZEROS:
            raise ValueError(f"residual {value} too large for Exp-Golomb")
        code = "0" * zeros + format(x, "b")
        if -4096 < value < 4096:
            self[key] = code
        return code


_EG_CODES = _EgCodeStrings()


@lru_cache(maxsize=256)
def _eg_tables(orders: tuple[int, ...]) -> tuple[array, ...]:
    return tuple(eg_window_table(k) for k in orders)


@dataclass(frozen=True)
class TraceEntry:
    """One syntax element as ``fcdump`` shows it (absolute bit offset, raw bits, value)."""

    bit_offset: int
    name: str
    descriptor: str
    bits: str
    value: object


def signed_from_code_num(code_num: int) -> int:
    """SPEC 3.2 Table 3-1: map codeNum k to (-1)^(k+1) * ceil(k/2)."""
    return (code_num + 1) >> 1 if code_num & 1 else -(code_num >> 1)


def code_num_from_signed(value: int) -> int:
    """Inverse of :func:`signed_from_code_num`."""
    return 2 * value - 1 if value > 0 else -2 * value


def f32_from_bits(bits: int) -> float:
    """Interpret a 32-bit pattern as IEEE-754 binary32 (SPEC 3.3)."""
    return struct.unpack(">f", bits.to_bytes(4, "big"))[0]


def bits_from_f32(value: float) -> int:
    """The binary32 bit pattern of ``value`` (which must be representable)."""
    return int.from_bytes(struct.pack(">f", value), "big")


class BitReader:
    """MSB-first reader over one byte string.

    Args:
        data: the payload.
        base_bit: absolute bit offset of ``data[0]`` in the enclosing file, so that errors
            and traces report file offsets.
        trace: when a list is given, every element read is appended as a TraceEntry.
    """

    reading = True

    def __init__(self, data: bytes, base_bit: int = 0, trace: list[TraceEntry] | None = None):
        self.data = data
        self.nbits = len(data) * 8
        self.value = int.from_bytes(data, "big")
        self.pos = 0
        self.base_bit = base_bit
        self.trace = trace

    # -- helpers -----------------------------------------------------------------
    def at(self) -> int:
        """Absolute bit offset of the next bit to be read."""
        return self.base_bit + self.pos

    def bits_left(self) -> int:
        """Number of unread bits."""
        return self.nbits - self.pos

    def _take(self, n: int, name: str) -> int:
        if self.pos + n > self.nbits:
            raise E_TRUNCATED(
                f"needs {n} bits, only {self.nbits - self.pos} left", field=name, bit_offset=self.at()
            )
        self.pos += n
        return (self.value >> (self.nbits - self.pos)) & ((1 << n) - 1)

    def _record(self, start: int, name: str, descriptor: str, value: object) -> None:
        n = self.pos - start
        raw = (self.value >> (self.nbits - self.pos)) & ((1 << n) - 1)
        bits = format(raw, f"0{n}b") if n else ""
        self.trace.append(TraceEntry(self.base_bit + start, name, descriptor, bits, value))

    # -- descriptors ---------------------------------------------------------------
    def u(self, n: int, name: str, value: int | None = None) -> int:
        """``u(n)``: unsigned integer, MSB first (SPEC 3.2)."""
        start = self.pos
        v = self._take(n, name)
        if self.trace is not None:
            self._record(start, name, f"u({n})", v)
        return v

    def _exp_golomb(self, k: int, name: str) -> int:
        """k-th order Exp-Golomb codeNum (SPEC 3.2, R-02)."""
        remaining = self.nbits - self.pos
        tail = self.value & ((1 << remaining) - 1)
        zeros = remaining - tail.bit_length()
        if zeros > MAX_LEADING_ZEROS:
            raise E_EXPGOLOMB(
                f"{min(zeros, remaining)} leading zero bits (at most {MAX_LEADING_ZEROS} allowed)",
                field=name,
                bit_offset=self.at(),
            )
        if tail == 0:
            raise E_TRUNCATED("Exp-Golomb code without its terminating 1 bit", field=name, bit_offset=self.at())
        if 2 * zeros + 1 + k > remaining:
            raise E_TRUNCATED("Exp-Golomb code runs past the end of the unit", field=name, bit_offset=self.at())
        self.pos += zeros
        return self._take(zeros + 1 + k, name) - (1 << k)

    def ue(self, name: str, value: int | None = None) -> int:
        """``ue(v)``: zero-order unsigned Exp-Golomb."""
        start = self.pos
        v = self._exp_golomb(0, name)
        if self.trace is not None:
            self._record(start, name, "ue(v)", v)
        return v

    def se(self, name: str, value: int | None = None) -> int:
        """``se(v)``: zero-order signed Exp-Golomb."""
        return self.sek(0, name)

    def sek(self, k: int, name: str, value: int | None = None) -> int:
        """``sek(v)``: signed k-th order Exp-Golomb (``se(v)`` when k = 0)."""
        start = self.pos
        v = signed_from_code_num(self._exp_golomb(k, name))
        if self.trace is not None:
            self._record(start, name, "se(v)" if k == 0 else "sek(v)", v)
        return v

    def sek_array(self, orders: list[int], name: str, values: list[int] | None = None) -> list[int]:
        """Read one ``sek(v)`` per entry of ``orders`` (the P-frame hot path).

        Without a trace, codes of at most :data:`EG_WINDOW` bits are decoded with one table
        look-up each (:func:`eg_window_table`); a longer code, a code that runs past the end
        and a bad code are handed to :meth:`sek`, which decodes or raises the exact error.
        """
        if self.trace is not None:
            return [self.sek(k, f"{name}[{i}]") for i, k in enumerate(orders)]
        tables = _eg_tables(tuple(orders))
        val = self.value << EG_WINDOW  # zero padding, so every window is whole
        mask = (1 << EG_WINDOW) - 1
        out: list[int] = []
        append = out.append
        count = len(orders)
        while True:
            sh = self.nbits - self.pos  # window = the EG_WINDOW bits from self.pos
            for t in tables[len(out):]:
                e = t[(val >> sh) & mask]
                if sh < (e & _EG_LEN_MASK):
                    break  # long, bad or overrunning code: decode it the exact way
                sh -= e & _EG_LEN_MASK
                append(e >> _EG_LEN_BITS)
            self.pos = self.nbits - sh
            if len(out) == count:
                return out
            append(self.sek(orders[len(out)], f"{name}[{len(out)}]"))

    def u_array(self, n: int, count: int, name: str, values: list[int] | None = None) -> list[int]:
        """Read ``count`` values of ``u(n)``."""
        if self.trace is not None or self.pos + n * count > self.nbits:
            return [self.u(n, f"{name}[{i}]") for i in range(count)]
        mask = (1 << n) - 1
        out = []
        for _ in range(count):
            self.pos += n
            out.append((self.value >> (self.nbits - self.pos)) & mask)
        return out

    def f32(self, name: str, value: float | None = None) -> float:
        """``f32``: IEEE-754 binary32, most significant byte first within the payload."""
        start = self.pos
        v = f32_from_bits(self._take(32, name))
        if self.trace is not None:
            self._record(start, name, "f32", v)
        return v

    def byte_alignment(self, name: str = "alignment_zero_bit") -> None:
        """Read zero bits up to the next byte boundary (SPEC 3.3, R-03)."""
        n = (-self.pos) % 8
        if n:
            start = self.pos
            v = self._take(n, name)
            if self.trace is not None:
                self._record(start, name, f"f({n})", v)
            if v:  # SPEC 4.1, R-105: located at the first alignment_zero_bit that is 1
                first_one = start + n - v.bit_length()
                raise E_PADDING(f"alignment bits are {v:0{n}b}, must be zero", field=name, bit_offset=self.base_bit + first_one)


class BitWriter:
    """MSB-first writer, the mirror of :class:`BitReader` (same element methods)."""

    reading = False
    trace = None

    def __init__(self) -> None:
        self.acc = 0
        self.pos = 0

    def at(self) -> int:
        """Number of bits written so far."""
        return self.pos

    def u(self, n: int, name: str, value: int | None = None) -> int:
        """Write ``value`` as ``u(n)``."""
        if value is None or not 0 <= value < (1 << n):
            raise ValueError(f"{name}: value {value!r} does not fit u({n})")
        self.acc = (self.acc << n) | value
        self.pos += n
        return value

    def _exp_golomb(self, code_num: int, k: int, name: str) -> None:
        x = code_num + (1 << k)
        length = x.bit_length()
        zeros = length - 1 - k
        if zeros > MAX_LEADING_ZEROS:
            raise ValueError(f"{name}: value needs {zeros} leading zeros (max {MAX_LEADING_ZEROS})")
        self.acc = (self.acc << (zeros + length)) | x
        self.pos += zeros + length

    def ue(self, name: str, value: int | None = None) -> int:
        """Write ``value`` as ``ue(v)``."""
        if value is None or value < 0:
            raise ValueError(f"{name}: ue(v) needs a non-negative value, got {value!r}")
        self._exp_golomb(value, 0, name)
        return value

    def se(self, name: str, value: int | None = None) -> int:
        """Write ``value`` as ``se(v)``."""
        return self.sek(0, name, value)

    def sek(self, k: int, name: str, value: int | None = None) -> int:
        """Write ``value`` as signed k-th order Exp-Golomb."""
        if value is None:
            raise ValueError(f"{name}: missing value")
        self._exp_golomb(code_num_from_signed(value), k, name)
        return value

    def sek_array(self, orders: list[int], name: str, values: list[int] | None = None) -> list[int]:
        """Write one ``sek(v)`` per entry (the P-frame hot path: cached code strings, one join)."""
        if values is None or len(values) != len(orders):
            raise ValueError(f"{name}: expected {len(orders)} values")
        try:
            bits = "".join([_EG_CODES[(v << 4) | k] for k, v in zip(orders, values, strict=True)])
        except ValueError as err:
            raise ValueError(f"{name}: {err}") from None
        if bits:
            self.acc = (self.acc << len(bits)) | int(bits, 2)
            self.pos += len(bits)
        return values

    def u_array(self, n: int, count: int, name: str, values: list[int] | None = None) -> list[int]:
        """Write ``count`` values as ``u(n)``."""
        if values is None or len(values) != count:
            raise ValueError(f"{name}: expected {count} values")
        for v in values:
            self.u(n, name, v)
        return values

    def f32(self, name: str, value: float | None = None) -> float:
        """Write ``value`` as binary32."""
        if value is None:
            raise ValueError(f"{name}: missing value")
        self.u(32, name, bits_from_f32(value))
        return f32_from_bits(bits_from_f32(value))

    def byte_alignment(self, name: str = "alignment_zero_bit") -> None:
        """Pad with zero bits to a byte boundary."""
        n = (-self.pos) % 8
        self.acc <<= n
        self.pos += n

    def getvalue(self) -> bytes:
        """The bytes written; the writer must be byte aligned."""
        if self.pos % 8:
            raise ValueError("writer is not byte aligned")
        return self.acc.to_bytes(self.pos // 8, "big")


__all__ = [
    "BitReader",
    "BitWriter",
    "FcError",
    "TraceEntry",
    "MAX_LEADING_ZEROS",
    "signed_from_code_num",
    "code_num_from_signed",
    "f32_from_bits",
    "bits_from_f32",
]
