"""construct building blocks shared by the container reader and writer (SPEC 11.1).

Every container structure is declared once, as a construct ``Struct`` in
:mod:`refcodec.fca.syntax`; parsing and building use the same declaration. The pieces here add
what construct lacks: numpy arrays stored as byte planes (SPEC 11.1.2), value checks that raise
the spec's error classes with the field name (subscripts included) and byte offset, and the
mapping of construct's own stream errors to ``E_TRUNCATED``, and the trace ``fcdump`` shows:
:func:`traced` wraps every stored element of a declaration in :class:`Traced`, which records
the element while it is parsed (as :class:`refcodec.bitio.BitReader` does for streams).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from construct import (
    Array,
    Computed,
    Construct,
    IfThenElse,
    ListContainer,
    Pass,
    Renamed,
    Struct,
    Subconstruct,
    evaluate,
    stream_read,
    stream_seek,
    stream_tell,
    stream_write,
)

from ..errors import FcError

#: Context parameter holding the absolute byte offset of the structure's first byte.
BASE = "_fca_base"
#: Context parameter holding the structure's name for error messages (e.g. "section[2]:DEFM").
WHERE = "_fca_where"
#: Context parameter holding the list :class:`Traced` appends a :class:`TracedElement` to (None: no trace).
TRACE = "_fca_trace"
#: Raw bytes a trace keeps of one element (its first bytes); the size is always recorded.
RAW_KEEP = 64
#: Context parameter holding a dict :class:`Traced` updates with the element being read
#: (``start``: its first byte, ``name``: its field name), so a payload that ends inside an element
#: is reported at that element's first byte (SPEC 4.1, R-105; 11.10, R-203).
CURSOR = "_fca_cursor"


def subscripts(context: Any) -> str:
    """``[i][j]`` for the arrays being read or written, outermost first (see :class:`IndexedArray`)."""
    return "".join(f"[{i}]" for i in _index_stack(context))


def _index_stack(context: Any) -> list[int]:
    params = context.get("_params") if hasattr(context, "get") else None
    if params is None:
        return []
    if "_fca_index_stack" not in params:
        params["_fca_index_stack"] = []
    return params["_fca_index_stack"]


class IndexedArray(Array):
    """construct's ``Array`` that also keeps the indices of the items being processed on a
    stack, so errors name ``field[i][j]`` exactly (construct leaves stale ``_index`` values)."""

    def _parse(self, stream, context, path):
        count = evaluate(self.count, context)
        stack = _index_stack(context)
        out = ListContainer()
        for i in range(count):
            context._index = i
            stack.append(i)
            out.append(self.subcon._parsereport(stream, context, path))
            stack.pop()
        return out

    def _build(self, obj, stream, context, path):
        stack = _index_stack(context)
        out = ListContainer()
        for i, item in enumerate(obj):
            context._index = i
            stack.append(i)
            out.append(self.subcon._build(item, stream, context, path))
            stack.pop()
        return out


def _params(context: Any) -> dict:
    return context.get("_params") or {}


def fail(error: type[FcError], message: str, field: str, context: Any, pos: int) -> FcError:
    """An error of class ``error`` for ``field`` at stream position ``pos`` of the structure."""
    params = _params(context)
    where = params.get(WHERE, "")
    base = params.get(BASE, 0)
    name = f"{where}.{field}" if where else field
    return error(message, field=name, bit_offset=8 * (base + pos))


def field_name(context: Any, field: str) -> str:
    """``field`` prefixed with the structure's name (``section[2]:DEFM.morph_name[0]``), as :func:`fail` names it."""
    where = _params(context).get(WHERE, "")
    return f"{where}.{field}" if where else field


class Derived(Computed):
    """A value derived while parsing from earlier elements (it occupies no bytes): the DEFS mesh of SPEC
    11.5.3. Building writes and computes nothing; a :class:`Checked` around it checks only what was parsed."""

    def _build(self, obj, stream, context, path):
        return None


class Checked(Subconstruct):
    """A field whose parsed (and built) value must satisfy ``check(value, context)``.

    ``check`` returns None when the value is valid, else ``(error class, message)``. The error
    names the field with its array subscripts and the offset of its first byte.
    """

    def __init__(self, subcon: Construct, check: Callable[[Any, Any], tuple[type[FcError], str] | None]):
        super().__init__(subcon)
        self.check = check

    def _verify(self, value: Any, context: Any, pos: int, path: str) -> None:
        verdict = self.check(value, context)
        if verdict is not None:
            error, message = verdict
            name = path.rsplit("->", 1)[-1].strip()  # the Renamed wrapper's name ends the path
            raise fail(error, message, f"{name}{subscripts(context)}", context, pos)

    def _parse(self, stream, context, path):
        pos = stream_tell(stream, path)
        value = self.subcon._parsereport(stream, context, path)
        self._verify(value, context, pos, path)
        return value

    def _build(self, obj, stream, context, path):
        if isinstance(self.subcon, Derived):  # nothing was parsed, nothing to check
            return None
        pos = stream_tell(stream, path)
        self._verify(obj, context, pos, path)
        return self.subcon._build(obj, stream, context, path)


@dataclass(frozen=True)
class TracedElement:
    """One syntax element as the parser read it (SPEC 11.1.1), recorded by :class:`Traced`.

    ``start`` and ``size`` are byte positions in the bytes being parsed: the file header, a
    section header, or a section's (decompressed) payload, whose first byte is reported at the
    absolute file offset ``base`` (``BASE``). ``raw`` keeps the first :data:`RAW_KEEP` bytes.
    A ``derived`` entry is a value computed from earlier elements (SPEC 12.1's MLP input and
    output sizes): it occupies no bytes and is not part of the bitstream.
    """

    where: str
    base: int
    name: str
    path: str
    leaf: Construct
    start: int
    size: int
    raw: bytes
    value: Any
    derived: bool = False


#: One step of a syntax path: an element or sub-structure name, and whether it is an array (takes a subscript).
PathStep = tuple[str, bool]


def _fill(template: tuple[PathStep, ...], indices: list[int]) -> str:
    """``morphs[0].morph_deltas.q_bits`` from the static steps and the indices being parsed."""
    parts, it = [], iter(indices)
    for name, is_array in template:
        parts.append(f"{name}[{next(it, '?')}]" if is_array else name)
    return ".".join(parts)


class Traced(Subconstruct):
    """A stored element that, while parsed with the ``TRACE`` parameter set, appends a
    :class:`TracedElement` for itself: where it starts, its size, raw bytes and value.

    It records before any enclosing :class:`Checked` verifies the value, so a trace that stops
    at an error still shows the offending element. Building and sizing pass straight through.
    """

    def __init__(self, subcon: Construct, template: tuple[PathStep, ...], derived: bool = False):
        super().__init__(subcon)
        self.template = template
        self.derived = derived

    def _parse(self, stream, context, path):
        params = _params(context)
        cursor = params.get(CURSOR)
        if cursor is not None and not self.derived:  # the element being read, should the data end inside it
            cursor["start"] = stream_tell(stream, path)
            cursor["name"] = f"{self.template[-1][0]}{subscripts(context)}" if self.template else ""
        trace = params.get(TRACE)
        if trace is not None:
            return self._record(trace, stream, context, path)
        return self.subcon._parsereport(stream, context, path)

    def _record(self, trace: list, stream, context, path):
        """Parse the element and append its TracedElement to ``trace``."""
        start = stream_tell(stream, path)
        value = self.subcon._parsereport(stream, context, path)
        end = stream_tell(stream, path)
        stream_seek(stream, start, 0, path)
        raw = stream_read(stream, min(end - start, RAW_KEEP), path)
        stream_seek(stream, end, 0, path)
        params = _params(context)
        trace.append(
            TracedElement(
                where=params.get(WHERE, ""),
                base=params.get(BASE, 0),
                name=field_name(context, f"{self.template[-1][0]}{subscripts(context)}"),
                path=_fill(self.template, _index_stack(context)),
                leaf=self.subcon,
                start=start,
                size=end - start,
                raw=raw,
                value=value,
                derived=self.derived,
            )
        )
        return value

    def _build(self, obj, stream, context, path):
        return self.subcon._build(obj, stream, context, path)

    def _sizeof(self, context, path):
        return self.subcon._sizeof(context, path)


@cache
def traced(declaration: Construct) -> Construct:
    """A copy of ``declaration`` with every stored element (and derived value) wrapped in
    :class:`Traced`; parsing it is parsing ``declaration``, plus the trace when asked for.

    Structures, conditions and wrappers (``Renamed``, arrays, :class:`Checked`, any other
    ``Subconstruct``) are copied with their contents instrumented; every other construct is a
    stored element (an integer, float, byte string or byte-plane array) and gets traced whole.
    """
    return _instrument(declaration, ())


def _instrument(con: Construct, template: tuple[PathStep, ...]) -> Construct:
    if isinstance(con, Computed):
        return Traced(con, template, derived=True)
    if con is Pass:
        return con
    if isinstance(con, Struct):
        return Struct(*(_instrument(sub, template) for sub in con.subcons))
    if isinstance(con, IfThenElse):
        new = copy.copy(con)
        new.thensubcon, new.elsesubcon = _instrument(con.thensubcon, template), _instrument(con.elsesubcon, template)
        return new
    if isinstance(con, Subconstruct):
        if isinstance(con, Renamed):  # names the next step of the syntax path
            template = (*template, (con.name, False))
        elif isinstance(con, Array) and template:  # its items take a subscript
            template = (*template[:-1], (template[-1][0], True))
        new = copy.copy(con)
        new.subcon = _instrument(con.subcon, template)
        return new
    return Traced(con, template)


class Planes(Construct):
    """``count`` unsigned integers of ``width`` bytes, stored as byte planes (SPEC 11.1.2).

    Plane k holds byte k (least significant first) of every value, so similar magnitudes sit
    together for the entropy coder. Parses to a numpy ``uint8/16/32`` array.
    """

    DTYPES = {1: np.uint8, 2: np.uint16, 4: np.uint32}

    def __init__(self, count, width):
        super().__init__()
        self.count = count
        self.width = width

    def _parse(self, stream, context, path):
        n, w = int(evaluate(self.count, context)), int(evaluate(self.width, context))
        raw = np.frombuffer(stream_read(stream, n * w, path), np.uint8).reshape(w, n)
        out = np.zeros(n, self.DTYPES[w])
        for k in range(w):
            out |= raw[k].astype(out.dtype) << (8 * k)
        return out

    def _build(self, obj, stream, context, path):
        n, w = int(evaluate(self.count, context)), int(evaluate(self.width, context))
        values = np.asarray(obj).astype(np.uint64).reshape(-1)
        if values.shape[0] != n:
            raise ValueError(f"{path}: expected {n} values, got {values.shape[0]}")
        planes = np.stack([((values >> np.uint64(8 * k)) & np.uint64(0xFF)).astype(np.uint8) for k in range(w)])
        stream_write(stream, planes.tobytes(), n * w, path)
        return obj

    def _sizeof(self, context, path):
        return int(evaluate(self.count, context)) * int(evaluate(self.width, context))


class F32Array(Construct):
    """``count`` little-endian binary32 values, stored as 4 byte planes (SPEC 11.1.2)."""

    def __init__(self, count):
        super().__init__()
        self.planes = Planes(count, 4)

    def _parse(self, stream, context, path):
        return self.planes._parse(stream, context, path).view(np.float32)

    def _build(self, obj, stream, context, path):
        bits = np.ascontiguousarray(np.asarray(obj, np.float32).reshape(-1)).view(np.uint32)
        self.planes._build(bits, stream, context, path)
        return obj

    def _sizeof(self, context, path):
        return self.planes._sizeof(context, path)


class F16Array(Construct):
    """``count`` little-endian binary16 values, stored as 2 byte planes (SPEC 11.1.2)."""

    def __init__(self, count):
        super().__init__()
        self.planes = Planes(count, 2)

    def _parse(self, stream, context, path):
        return self.planes._parse(stream, context, path).view(np.float16)

    def _build(self, obj, stream, context, path):
        bits = np.ascontiguousarray(np.asarray(obj, np.float16).reshape(-1)).view(np.uint16)
        self.planes._build(bits, stream, context, path)
        return obj

    def _sizeof(self, context, path):
        return self.planes._sizeof(context, path)
