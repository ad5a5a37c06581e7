"""Error classes of the error-class registry (SPEC 4.1, spec/errors.toml).

Every rejection of bad input raises a subclass of :class:`FcError` that names its
registry class, the syntax element being read and the byte and bit offset where the
problem was found. A test checks that this module and spec/errors.toml agree.
"""

from __future__ import annotations


class FcError(Exception):
    """Base of all registered decoding errors.

    Attributes:
        error_class: registry name, e.g. ``"E_TRUNCATED"``.
        code: registry number (``spec/errors.toml``).
        field: the syntax element (with subscripts) being processed, or ``""``.
        bit_offset: absolute bit offset in the input where the error was detected,
            or ``None`` when it does not apply. Inside a Zstandard-compressed section no
            file position exists: it is the first stored payload byte (SPEC 4.1, R-90).
        section_index: the container section whose payload was being parsed, else ``None``.
        payload_bit_offset: bit offset inside that section's decompressed payload, else ``None``.
    """

    error_class = "E_UNKNOWN"
    code = 0

    def __init__(
        self,
        message: str,
        *,
        field: str = "",
        bit_offset: int | None = None,
        section_index: int | None = None,
        payload_bit_offset: int | None = None,
    ):
        self.message = message
        self.field = field
        self.bit_offset = bit_offset
        self.section_index = section_index
        self.payload_bit_offset = payload_bit_offset
        super().__init__(self.describe())

    @property
    def payload_byte_offset(self) -> int | None:
        """Byte of the decompressed section payload that contains the offending bit, or ``None``."""
        return None if self.payload_bit_offset is None else self.payload_bit_offset // 8

    def locate(self, section_index: int, payload_bit_offset: int, bit_offset: int) -> FcError:
        """Set the location of an error found in a section payload (SPEC 4.1, R-90) and return it."""
        self.section_index = section_index
        self.payload_bit_offset = payload_bit_offset
        self.bit_offset = bit_offset
        self.args = (self.describe(),)
        return self

    @property
    def byte_offset(self) -> int | None:
        """Byte that contains the offending bit, or ``None``."""
        return None if self.bit_offset is None else self.bit_offset // 8

    def describe(self) -> str:
        """One-line human-readable description naming class, field and offsets."""
        where = ""
        if self.bit_offset is not None:
            where = f" at byte {self.bit_offset // 8} (bit {self.bit_offset})"
        if self.section_index is not None and self.payload_bit_offset is not None:
            where += f", section {self.section_index} payload byte {self.payload_bit_offset // 8}"
        field = f" in {self.field}" if self.field else ""
        return f"{self.error_class}{field}{where}: {self.message}"

    def to_dict(self) -> dict:
        """Machine-readable form for ``--json`` outputs."""
        return {
            "error_class": self.error_class,
            "code": self.code,
            "field": self.field,
            "byte_offset": self.byte_offset,
            "bit_offset": self.bit_offset,
            "section_index": self.section_index,
            "payload_byte_offset": self.payload_byte_offset,
            "payload_bit_offset": self.payload_bit_offset,
            "message": self.message,
        }


def _define(name: str, code: int, doc: str) -> type[FcError]:
    return type(name, (FcError,), {"error_class": name, "code": code, "__doc__": doc})


# SPEC 4.1: one class per registry entry.
E_TRUNCATED = _define("E_TRUNCATED", 1, "Data ended inside a syntax element.")
E_SIGNATURE = _define("E_SIGNATURE", 2, "Bad file signature.")
E_VERSION = _define("E_VERSION", 3, "Unsupported version.")
E_PROFILE = _define("E_PROFILE", 4, "Unsupported profile.")
E_LEVEL = _define("E_LEVEL", 5, "Undefined level or level limit exceeded.")
E_LEB128 = _define("E_LEB128", 6, "leb128() too long or too large.")
E_EXPGOLOMB = _define("E_EXPGOLOMB", 7, "Exp-Golomb code with more than 31 leading zeros.")
E_VALUE = _define("E_VALUE", 8, "Syntax element value outside its allowed range.")
E_RANGE = _define("E_RANGE", 9, "Invalid quantization range.")
E_RESIDUAL = _define("E_RESIDUAL", 10, "Reconstructed value outside [0, 2^b-1].")
E_PADDING = _define("E_PADDING", 11, "Non-zero alignment bit.")
E_UNIT_SIZE = _define("E_UNIT_SIZE", 12, "Unit size disagrees with its content.")
E_CRC = _define("E_CRC", 13, "CRC mismatch.")
E_NO_SEQUENCE_HEADER = _define("E_NO_SEQUENCE_HEADER", 14, "Frame unit without an active sequence header.")
E_LAYOUT_MISMATCH = _define("E_LAYOUT_MISMATCH", 15, "Stream and avatar do not match.")
E_DECOMPRESS = _define("E_DECOMPRESS", 16, "Bad Zstandard frame or wrong decompressed size.")
E_SECTION = _define("E_SECTION", 17, "Unknown critical, missing, repeated or misplaced section.")

REGISTERED: dict[str, type[FcError]] = {
    cls.error_class: cls
    for cls in (
        E_TRUNCATED, E_SIGNATURE, E_VERSION, E_PROFILE, E_LEVEL, E_LEB128, E_EXPGOLOMB,
        E_VALUE, E_RANGE, E_RESIDUAL, E_PADDING, E_UNIT_SIZE, E_CRC,
        E_NO_SEQUENCE_HEADER, E_LAYOUT_MISMATCH, E_DECOMPRESS, E_SECTION,
    )
}
