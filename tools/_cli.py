"""Shared command-line conventions of the FaceCodec tools: exit codes, errors, JSON."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from refcodec.errors import FcError

EXIT_OK = 0
EXIT_IO = 3
#: A rejected input exits with EXIT_FC_ERROR_BASE + the error code of spec/errors.toml.
EXIT_FC_ERROR_BASE = 16

EXIT_CODES_HELP = (
    "exit status: 0 success; 2 bad command line; 3 file not found or unreadable; "
    f"{EXIT_FC_ERROR_BASE}+code when the input is rejected with an error class of SPEC 4.1 "
    f"(e.g. {EXIT_FC_ERROR_BASE + 13} = E_CRC)."
)


def jsonable(value: Any) -> Any:
    """Make a value JSON-safe (non-finite floats become strings, bytes become hex)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "item"):
        return jsonable(value.item())
    return value


def print_json(obj: Any) -> None:
    """Print ``obj`` as indented JSON on stdout."""
    json.dump(jsonable(obj), sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def fail(err: FcError, as_json: bool) -> int:
    """Report a rejected input on stderr (or as JSON on stdout) and return its exit status."""
    if as_json:
        print_json({"ok": False, "error": err.to_dict()})
    else:
        print(f"error: {err.describe()}", file=sys.stderr)
    return EXIT_FC_ERROR_BASE + err.code


def read_input(path: str) -> bytes:
    """Read a file or exit with EXIT_IO and a clear message."""
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror}", file=sys.stderr)
        raise SystemExit(EXIT_IO) from exc
