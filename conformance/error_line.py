"""The optional machine-readable error line of the decoder CLI contract (conformance/README.md).

A decoder that rejects its input may print, on standard error, one line

    FCERROR <class> byte=<n> bit=<b> field=<element>

``<class>`` is the error class (spec/errors.toml); ``byte`` the offset in the file of the byte
holding the first bit of the element (R-105); ``bit`` that bit within the byte, 0 being the most
significant (SPEC 3.1), so the absolute bit offset is ``8 * byte + bit``; ``field`` the element
with its subscripts, to the end of the line. ``byte=``, ``bit=`` and ``field=`` may each be
left out (in this order otherwise); ``bit=`` needs ``byte=``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from refcodec.errors import FcError

PREFIX = "FCERROR"
_LINE = re.compile(r"^FCERROR (?P<cls>E_[A-Z0-9_]+)(?: byte=(?P<byte>\d+)(?: bit=(?P<bit>[0-7]))?)?(?: field=(?P<field>\S.*))?$")


@dataclass(frozen=True)
class ErrorLine:
    """A parsed error line."""

    error_class: str
    byte_offset: int | None = None
    bit_offset: int | None = None  # absolute: 8 * byte + bit, when both are given
    field: str | None = None


def format_error_line(err: FcError) -> str:
    """The error line of a registered error (without a newline)."""
    parts = [PREFIX, err.error_class]
    if err.bit_offset is not None:
        parts += [f"byte={err.bit_offset // 8}", f"bit={err.bit_offset % 8}"]
    if err.field:
        parts.append(f"field={err.field}")
    return " ".join(parts)


def parse_error_line(text: str) -> ErrorLine | None:
    """The last well-formed error line of a decoder's standard error, or None when there is none.

    A line that starts with ``FCERROR`` but does not follow the format raises ValueError.
    """
    found = None
    for line in text.splitlines():
        line = line.rstrip("\r")
        if not line.startswith(PREFIX + " "):
            continue
        m = _LINE.match(line)
        if m is None:
            raise ValueError(f"malformed error line {line!r}")
        byte = None if m["byte"] is None else int(m["byte"])
        bit = None if byte is None or m["bit"] is None else 8 * byte + int(m["bit"])
        found = ErrorLine(m["cls"], byte, bit, m["field"])
    return found
