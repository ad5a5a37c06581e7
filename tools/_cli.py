"""The command-line contract shared by every FaceCodec tool: exit codes, one-line errors, atomic outputs.

Every console script of pyproject.toml builds its parser with :func:`parser` and wraps its
entry point with :func:`entry_point`, which maps every failure to the contract:

- ``0`` success;
- ``2`` bad command line: an unknown option, a value outside the range the option allows
  (the message names the option and the range);
- ``3`` a file cannot be read or written (missing, a directory, no permission, a missing
  parent directory, or content that is not in a format the tool reads);
- ``16 + code`` the input is rejected with an error class of SPEC 4.1 (spec/errors.toml);
- ``70`` internal error (a bug: the message says so; ``--debug`` shows the traceback);
- ``130`` interrupted (SIGINT), ``143`` terminated (SIGTERM), ``141`` quietly when stdout is
  closed early (a pipe into ``head``).

Errors are one line on stderr, never a traceback (except with ``--debug``). Outputs are
written atomically (:func:`atomic_output`, :func:`atomic_directory`): a temporary file in the
same directory, then :func:`os.replace`, so an interrupted run leaves the old file or nothing.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from refcodec.errors import E_VALUE, FcError

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_IO = 3
#: A rejected input exits with EXIT_FC_ERROR_BASE + the error code of spec/errors.toml.
EXIT_FC_ERROR_BASE = 16
#: An unexpected exception: a bug of the tool (sysexits.h EX_SOFTWARE).
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130
#: stdout closed early (``fcdec --md5 | head``): quiet, as a process killed by SIGPIPE.
EXIT_BROKEN_PIPE = 141
EXIT_TERMINATED = 143

EXIT_CODES_HELP = (
    "exit status: 0 success; 2 bad command line (an option outside its range is named); "
    "3 a file cannot be read or written (missing, a directory, no permission, missing parent directory, unreadable format); "
    f"{EXIT_FC_ERROR_BASE}+code when the input is rejected with an error class of SPEC 4.1 "
    f"(e.g. {EXIT_FC_ERROR_BASE + 13} = E_CRC); {EXIT_INTERNAL} internal error (--debug shows the traceback); "
    f"{EXIT_INTERRUPTED} interrupted. Outputs are written atomically: a failed or interrupted run leaves the old file or none."
)


class CliError(Exception):
    """A failure the tool reports in one line and exits with ``status``."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.message = message
        self.status = status


def usage_error(option: str, message: str) -> CliError:
    """A bad command line (exit 2): ``option`` is the option or argument concerned."""
    return CliError(f"{option}: {message}", EXIT_USAGE)


def file_error(path: str | Path, message: str) -> CliError:
    """A file that cannot be read or written (exit 3)."""
    return CliError(f"{path}: {message}", EXIT_IO)


# ----------------------------------------------------------------------------- parser
class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (exit 2) instead of the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parser(prog: str, description: str, epilog: str = "", defaults_help: bool = False) -> argparse.ArgumentParser:
    """The argument parser of a tool: raw description, the exit-status epilogue, ``--debug``.

    ``defaults_help`` appends every option's default to its help text.
    """
    ap = _Parser(
        prog=prog,
        description=description,
        epilog=(epilog.rstrip("\n") + "\n\n" if epilog else "") + EXIT_CODES_HELP,
        formatter_class=_DefaultsRawFormatter if defaults_help else argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--debug", action="store_true", help="on an internal error, print the Python traceback")
    return ap


class _DefaultsRawFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    pass


# ----------------------------------------------------------------------------- option types
def int_range(lo: int, hi: int | None = None) -> Callable[[str], int]:
    """argparse type: an integer in ``lo..hi`` (``hi`` None: no upper bound)."""

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < lo or (hi is not None and value > hi):
            allowed = f"{lo}..{hi}" if hi is not None else f">= {lo}"
            raise argparse.ArgumentTypeError(f"{value} is outside the allowed range {allowed}")
        return value

    convert.__name__ = "integer"
    return convert


def float_range(lo: float | None = None, hi: float | None = None, lo_open: bool = False) -> Callable[[str], float]:
    """argparse type: a finite number in [lo, hi] (``lo_open``: strictly above ``lo``)."""

    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        low_bad = lo is not None and (value <= lo if lo_open else value < lo)
        if not math.isfinite(value) or low_bad or (hi is not None and value > hi):
            left = "finite" if lo is None else f"{'>' if lo_open else '>='} {lo:g}"
            right = "" if hi is None else f" and <= {hi:g}"
            raise argparse.ArgumentTypeError(f"{text} is not allowed: the value must be {left}{right}")
        return value

    convert.__name__ = "number"
    return convert


# ----------------------------------------------------------------------------- entry point
def entry_point(prog: str) -> Callable[[Callable[[list[str] | None], int]], Callable[[list[str] | None], int]]:
    """Wrap a tool's ``main(argv) -> int`` so that every failure follows the contract.

    ``SystemExit`` (argparse's exit 2, an explicit status) passes through unchanged.
    """

    def wrap(body: Callable[[list[str] | None], int]) -> Callable[[list[str] | None], int]:
        @functools.wraps(body)
        def main(argv: list[str] | None = None) -> int:
            args = sys.argv[1:] if argv is None else list(argv)
            debug = "--debug" in args
            with _sigterm_as_exit():
                try:
                    return body(argv)
                except CliError as exc:
                    return _report(prog, exc.message, exc.status)
                except FcError as err:
                    return _report(prog, err.describe(), EXIT_FC_ERROR_BASE + err.code)
                except KeyboardInterrupt:
                    return _report(prog, "interrupted", EXIT_INTERRUPTED)
                except BrokenPipeError:
                    _silence_stdout()
                    return EXIT_BROKEN_PIPE
                except OSError as exc:
                    if debug:
                        traceback.print_exc()
                    return _report(prog, os_error_text(exc), EXIT_IO)
                except Exception as exc:  # noqa: BLE001 - the contract's last resort: one line, a documented status
                    if _is_render_error(exc):
                        if exc.from_caller:  # SPEC 13.3, R-83: the caller's camera, orbit, backend or parameters
                            return _report(prog, f"{exc.field}: {exc.message}", EXIT_USAGE)
                        # a renderer input the file carries (not an option) is a bad value
                        return _report(prog, f"E_VALUE in {exc.field}: {exc.message}", EXIT_FC_ERROR_BASE + E_VALUE.code)
                    if debug:
                        traceback.print_exc()
                    hint = "" if debug else "; rerun with --debug for the traceback"
                    return _report(prog, f"internal error: {type(exc).__name__}: {_one_line(str(exc))} (a bug{hint})", EXIT_INTERNAL)

        return main

    return wrap


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (captured in tests)
        pass


def _is_render_error(exc: Exception) -> bool:
    render = sys.modules.get("refcodec.render.errors")
    return render is not None and isinstance(exc, render.RenderError)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _report(prog: str, message: str, status: int) -> int:
    print(f"{prog}: error: {_one_line(message)}", file=sys.stderr)
    return status


def os_error_text(exc: OSError) -> str:
    """``path: reason`` of an OSError, without Python's ``[Errno n]`` decoration."""
    reason = exc.strerror or str(exc)
    name = exc.filename if exc.filename is not None else ""
    return f"{name}: {reason}" if name else reason


@contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """SIGTERM ends the run through the normal unwinding, so atomic outputs clean up."""
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _on_sigterm(signum, frame) -> None:
    raise SystemExit(EXIT_TERMINATED)


# ----------------------------------------------------------------------------- files
def unreadable(path: str | Path, exc: Exception) -> CliError:
    """Exit 3 for an input whose content the tool cannot read (the reader's message names the field)."""
    message = str(exc)
    return CliError(message if message.startswith(str(path)) else f"{path}: {message}", EXIT_IO)


def read_input(path: str | Path) -> bytes:
    """Read a whole input file, or raise :class:`CliError` (exit 3) saying why not."""
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise file_error(path, f"cannot read: {exc.strerror or exc}") from None


def check_output(path: str | Path, option: str = "-o") -> Path:
    """Check before any work that ``path`` can be written as a file (exit 3 if not)."""
    path = Path(path)
    parent = path.parent
    if path.is_dir():
        raise file_error(path, f"cannot write {option}: it is a directory")
    if not parent.is_dir():
        raise file_error(path, f"cannot write {option}: the directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise file_error(path, f"cannot write {option}: no permission to write in {parent}")
    if path.exists() and not os.access(path, os.W_OK):
        raise file_error(path, f"cannot write {option}: no permission")
    return path


def make_out_dir(path: str | Path, option: str = "--out") -> Path:
    """Create an output directory (and its parents), or exit 3 saying why not."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise file_error(path, f"cannot write {option}: it exists and is not a directory") from None
    except OSError as exc:
        raise file_error(path, f"cannot create {option}: {exc.strerror or exc}") from None
    return path


def _new_file_mode(path: Path) -> int:
    if path.exists():
        return path.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def atomic_output(path: str | Path, option: str = "-o") -> Iterator[Path]:
    """Yield a temporary path next to ``path`` (same suffix); on success it replaces ``path``.

    On any exception (including KeyboardInterrupt and SystemExit) the temporary file is
    removed and ``path`` is left as it was.
    """
    path = check_output(path, option)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, _new_file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(path: str | Path, data: bytes | str, option: str = "-o") -> None:
    """Write ``data`` (bytes, or text as UTF-8) to ``path`` atomically."""
    blob = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_output(path, option) as tmp:
        tmp.write_bytes(blob)


@contextmanager
def atomic_directory(path: str | Path, stale: str = "*", option: str = "-o") -> Iterator[Path]:
    """Yield a temporary directory next to ``path``; on success its files become ``path``'s.

    A new ``path`` is renamed into place in one step. An existing directory keeps its other
    files: those matching ``stale`` (a previous run's output) are removed, then the new files
    are moved in. On any exception the temporary directory is removed and ``path`` is untouched.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise file_error(path, f"cannot write {option}: it exists and is not a directory")
    parent = path.parent
    if not parent.is_dir():
        raise file_error(path, f"cannot write {option}: the directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise file_error(path, f"cannot write {option}: no permission to write in {parent}")
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent))
    try:
        yield tmp
        if not path.exists():
            os.chmod(tmp, 0o777 & ~_umask())
            os.replace(tmp, path)
            return
        for old in path.glob(stale):
            if old.is_file():
                old.unlink()
        for new in sorted(tmp.iterdir()):
            os.replace(new, path / new.name)
        tmp.rmdir()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


# ----------------------------------------------------------------------------- output
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
    if hasattr(value, "tolist"):  # numpy arrays of any size and numpy scalars
        return jsonable(value.tolist())
    return value


def json_text(obj: Any) -> str:
    """``obj`` as indented JSON text with a final newline."""
    return json.dumps(jsonable(obj), indent=2, allow_nan=False) + "\n"


def print_json(obj: Any) -> None:
    """Print ``obj`` as indented JSON on stdout."""
    sys.stdout.write(json_text(obj))


def fail(err: FcError, as_json: bool) -> int:
    """Report a rejected input on stderr (or as JSON on stdout) and return its exit status."""
    if as_json:
        print_json({"ok": False, "error": err.to_dict()})
    else:
        print(f"error: {err.describe()}", file=sys.stderr)
    return EXIT_FC_ERROR_BASE + err.code
