"""Standard 3D Gaussian Splatting PLY files, both ways.

The layout is the one written by the original 3DGS code (Kerbl et al. 2023,
``GaussianModel.save_ply``) and read by common viewers (SuperSplat, antimatter15/splat,
mkkellogg GaussianSplats3D): one ``vertex`` element of ``float`` properties, in this order::

    x y z  nx ny nz  f_dc_0..2  f_rest_0..(3K-1)  opacity  scale_0..2  rot_0..3

- ``f_dc_*`` are degree-0 SH coefficients (``rgb = 0.5 + C0 * f_dc``);
- ``f_rest_*`` are **channel-major**: ``f_rest[c*K + k]`` is coefficient ``k`` (1..K of the
  higher orders, K = 3, 8, 15 for degree 1..3) of colour channel ``c``;
- ``opacity`` is a logit, ``scale_*`` are natural-log scales, ``rot_*`` is a quaternion
  w, x, y, z (not necessarily normalised);
- the normals are unused and written as zeros.

Reading accepts ``binary_little_endian 1.0`` only, any scalar property type, extra
properties (ignored) and further elements of fixed-size properties after ``vertex``.
Every rejection raises :class:`PlyError` (a ValueError) naming the header line or property
and the byte offset; sizes are checked against the file size before anything is allocated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import SH_REST_COUNT, Avatar, Binding, Gaussians, RenderDefaults

MAX_HEADER_BYTES = 65536
"""A 3DGS header is about 1.5 KB; anything longer than this is not a splat file."""

PLY_SCALAR_TYPES = {
    "char": "i1",
    "int8": "i1",
    "uchar": "u1",
    "uint8": "u1",
    "short": "<i2",
    "int16": "<i2",
    "ushort": "<u2",
    "uint16": "<u2",
    "int": "<i4",
    "int32": "<i4",
    "uint": "<u4",
    "uint32": "<u4",
    "float": "<f4",
    "float32": "<f4",
    "double": "<f8",
    "float64": "<f8",
}

REQUIRED = ("x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3")


class PlyError(ValueError):
    """A malformed or unsupported PLY file.

    Attributes:
        field: the header item or property concerned (e.g. ``"format"``, ``"rot_2"``).
        offset: byte offset in the file where the problem was found, or None.
    """

    def __init__(self, message: str, *, field: str = "", offset: int | None = None):
        self.field = field
        self.offset = offset
        where = f" at byte {offset}" if offset is not None else ""
        super().__init__(f"PLY{f' {field}' if field else ''}{where}: {message}")


def property_names(sh_degree: int) -> list[str]:
    """The 3DGS property names, in the original order, for an SH degree 0..3."""
    rest = [f"f_rest_{i}" for i in range(3 * SH_REST_COUNT[sh_degree])]
    return [
        "x",
        "y",
        "z",
        "nx",
        "ny",
        "nz",
        "f_dc_0",
        "f_dc_1",
        "f_dc_2",
        *rest,
        "opacity",
        "scale_0",
        "scale_1",
        "scale_2",
        "rot_0",
        "rot_1",
        "rot_2",
        "rot_3",
    ]


@dataclass
class _Element:
    name: str
    count: int
    dtype: np.dtype


def _parse_header(data: bytes) -> tuple[list[_Element], int]:
    """Elements declared by the header, and the byte offset of the body."""
    if not data.startswith(b"ply\n") and not data.startswith(b"ply\r\n"):
        raise PlyError("file does not start with 'ply'", field="magic", offset=0)
    end = data.find(b"\nend_header", 0, MAX_HEADER_BYTES)
    nl = data.find(b"\n", end + 1) if end >= 0 else -1
    if end < 0 or nl < 0 or data[end + 1 : nl].rstrip(b"\r") != b"end_header":
        raise PlyError(f"no 'end_header' line in the first {MAX_HEADER_BYTES} bytes", field="header", offset=0)
    body = nl + 1
    try:
        text = data[: end + 1].decode("ascii")
    except UnicodeDecodeError as exc:
        raise PlyError("header is not ASCII", field="header", offset=exc.start) from exc
    elements: list[tuple[str, int, list[tuple[str, str]]]] = []
    fmt = None
    lines = text.split("\n")
    pos = len(lines[0]) + 1
    for raw in lines[1:]:
        line_pos, pos = pos, pos + len(raw) + 1
        line = raw.strip()
        words = line.split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        if words[0] == "format":
            if words[1:] != ["binary_little_endian", "1.0"]:
                raise PlyError(f"unsupported format {' '.join(words[1:])!r} (only binary_little_endian 1.0)", field="format", offset=line_pos)
            fmt = words[1]
        elif words[0] == "element":
            if len(words) != 3 or not words[2].isdigit():
                raise PlyError(f"bad element line {line!r}", field="element", offset=line_pos)
            elements.append((words[1], int(words[2]), []))
        elif words[0] == "property":
            if not elements:
                raise PlyError("property before any element", field="property", offset=line_pos)
            if len(words) >= 2 and words[1] == "list":
                raise PlyError(f"list property {words[-1]!r} of element {elements[-1][0]!r} is not supported", field=words[-1], offset=line_pos)
            if len(words) != 3 or words[1] not in PLY_SCALAR_TYPES:
                raise PlyError(f"bad property line {line!r}", field="property", offset=line_pos)
            if any(n == words[2] for n, _ in elements[-1][2]):
                raise PlyError(f"property {words[2]!r} declared twice", field=words[2], offset=line_pos)
            elements[-1][2].append((words[2], PLY_SCALAR_TYPES[words[1]]))
        else:
            raise PlyError(f"unknown header keyword {words[0]!r}", field="header", offset=line_pos)
    if fmt is None:
        raise PlyError("no format line", field="format", offset=0)
    out = [_Element(n, c, np.dtype(props)) for n, c, props in elements]
    return out, body


def read_ply_gaussians(data: bytes) -> Gaussians:
    """Parse a 3DGS PLY held in memory into :class:`Gaussians` (attributes as stored).

    Raises:
        PlyError: bad header, missing property, non-float data that is not finite,
            truncated body or a vertex count the file cannot hold.
    """
    data = bytes(data)
    elements, body = _parse_header(data)
    vertex = next((e for e in elements if e.name == "vertex"), None)
    if vertex is None:
        raise PlyError("no 'vertex' element", field="vertex", offset=0)
    names = set(vertex.dtype.names or ())
    for p in REQUIRED:
        if p not in names:
            raise PlyError(f"missing property {p!r}", field=p, offset=0)
    rest = sorted((n for n in names if n.startswith("f_rest_")), key=lambda s: int(s[7:]) if s[7:].isdigit() else -1)
    if [f"f_rest_{i}" for i in range(len(rest))] != rest:
        raise PlyError("f_rest_* properties must be numbered 0..M-1 without gaps", field="f_rest", offset=0)
    degree = next((d for d, k in SH_REST_COUNT.items() if 3 * k == len(rest)), None)
    if degree is None:
        raise PlyError(f"{len(rest)} f_rest properties; expected 0, 9, 24 or 45 (SH degree 0..3)", field="f_rest", offset=0)
    # Locate the vertex element and check every declared size against the file before reading.
    start = body
    for e in elements:
        size = e.count * e.dtype.itemsize
        if start + size > len(data):
            raise PlyError(
                f"{e.count} {e.name} records of {e.dtype.itemsize} bytes need {size} bytes from byte {start}, file has {len(data) - start}",
                field=e.name,
                offset=len(data),
            )
        if e is vertex:
            vstart = start
        start += size
    if start != len(data):
        raise PlyError(f"{len(data) - start} bytes after the last element", field="body", offset=start)
    rec = np.frombuffer(data, vertex.dtype, vertex.count, vstart)

    def cols(props: list[str]) -> np.ndarray:
        out = np.empty((vertex.count, len(props)), np.float32)
        for i, p in enumerate(props):
            with np.errstate(over="ignore", invalid="ignore"):  # a double beyond float32 becomes inf, rejected below
                out[:, i] = rec[p]
            bad = np.flatnonzero(~np.isfinite(out[:, i]))
            if bad.size:
                row = int(bad[0])
                raise PlyError(
                    f"value {rec[p][row]!r} of vertex {row} is not finite (or out of float32 range)",
                    field=p,
                    offset=vstart + row * vertex.dtype.itemsize + vertex.dtype.fields[p][1],
                )
        return out

    k = SH_REST_COUNT[degree]
    rot = cols(["rot_0", "rot_1", "rot_2", "rot_3"])
    zero = np.flatnonzero(~np.any(rot != 0.0, axis=1))
    if zero.size:
        raise PlyError(f"vertex {int(zero[0])} has a zero quaternion", field="rot_0", offset=vstart + int(zero[0]) * vertex.dtype.itemsize)
    return Gaussians(
        positions=cols(["x", "y", "z"]),
        rotations=rot,
        log_scales=cols(["scale_0", "scale_1", "scale_2"]),
        opacity_logits=cols(["opacity"])[:, 0].copy(),
        sh_dc=cols(["f_dc_0", "f_dc_1", "f_dc_2"]),
        # channel-major f_rest[c*K + k] -> [gaussian, k, c]
        sh_rest=np.ascontiguousarray(cols(rest).reshape(vertex.count, 3, k).transpose(0, 2, 1)),
        sh_degree=degree,
    )


def read_ply(data: bytes) -> Avatar:
    """A static avatar (binding ``none``, no deformation model) from a 3DGS PLY in memory.

    The render defaults frame the Gaussians' bounds from +z (the file carries no camera).
    """
    g = read_ply_gaussians(data)
    render = RenderDefaults.framing(g.positions) if g.count else RenderDefaults()
    avatar = Avatar(gaussians=g, binding=Binding("none"), render=render, metadata={"source": "3DGS PLY"})
    avatar.validate()
    return avatar


def write_ply(gaussians: Gaussians) -> bytes:
    """World-space Gaussians as a standard 3DGS PLY (binary little-endian, float32).

    Write a drivable avatar after :func:`refcodec.avatar.deform.animate` (e.g. neutral
    parameters), which returns world-space Gaussians.
    """
    g = gaussians
    g.validate()
    n = g.count
    k = SH_REST_COUNT[g.sh_degree]
    names = property_names(g.sh_degree)
    header = "ply\nformat binary_little_endian 1.0\nelement vertex {}\n{}end_header\n".format(n, "".join(f"property float {p}\n" for p in names))
    table = np.concatenate(
        [
            g.positions,
            np.zeros((n, 3), np.float32),
            g.sh_dc,
            g.sh_rest.transpose(0, 2, 1).reshape(n, 3 * k),  # [gaussian, k, c] -> channel-major
            g.opacity_logits[:, None],
            g.log_scales,
            g.rotations,
        ],
        axis=1,
    ).astype("<f4")
    return header.encode("ascii") + table.tobytes()


def export_ply(avatar: Avatar, params: np.ndarray | dict[str, np.ndarray] | None = None) -> bytes:
    """The avatar posed by one frame of stream parameters (None = neutral) as a 3DGS PLY."""
    from .deform import animate

    return write_ply(animate(avatar, params))
