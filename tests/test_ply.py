"""3DGS PLY reader and writer (refcodec.avatar.ply): exact round trips, a hand-written file,
the original 3DGS property order, and every rejection with its field and offset."""

from __future__ import annotations

import struct
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from refcodec.avatar.deform import animate
from refcodec.avatar.model import Gaussians
from refcodec.avatar.ply import PlyError, export_ply, read_ply, read_ply_gaussians, write_ply

LAM_ZIP = Path(__file__).resolve().parents[1] / "samples/lam_p2-1/p2-1.zip"

# The property list of the original 3DGS save_ply for SH degree 1 (f_rest: 3 channels x 3 coefficients).
DEGREE1_NAMES = (
    "x y z nx ny nz f_dc_0 f_dc_1 f_dc_2 " + " ".join(f"f_rest_{i}" for i in range(9)) + " opacity scale_0 scale_1 scale_2 rot_0 rot_1 rot_2 rot_3"
).split()


def random_gaussians(n: int, degree: int, seed: int) -> Gaussians:
    rng = np.random.default_rng(seed)
    k = {0: 0, 1: 3, 2: 8, 3: 15}[degree]

    def f(*shape: int) -> np.ndarray:
        return rng.normal(size=shape).astype(np.float32)

    return Gaussians(f(n, 3), f(n, 4) + np.float32(3.0), f(n, 3), f(n), f(n, 3), f(n, k, 3), degree)


def ply(header_lines: list[str], body: bytes) -> bytes:
    return ("\n".join(["ply", *header_lines, "end_header"]) + "\n").encode() + body


def minimal_header(n: int, extra: list[str] | None = None) -> list[str]:
    props = "x y z f_dc_0 f_dc_1 f_dc_2 opacity scale_0 scale_1 scale_2 rot_0 rot_1 rot_2 rot_3".split()
    return ["format binary_little_endian 1.0", f"element vertex {n}", *(extra or []), *[f"property float {p}" for p in props]]


# ------------------------------------------------------------------------------ round trips
@pytest.mark.parametrize("degree", [0, 1, 2, 3])
def test_round_trip_is_exact(degree: int) -> None:
    g = random_gaussians(37, degree, seed=degree)
    back = read_ply_gaussians(write_ply(g))
    assert back.sh_degree == degree
    for name in ("positions", "rotations", "log_scales", "opacity_logits", "sh_dc", "sh_rest"):
        a, b = getattr(g, name), getattr(back, name)
        assert b.dtype == np.float32 and np.array_equal(a, b), name


def test_empty_round_trip() -> None:
    g = Gaussians.empty(0, 2)
    back = read_ply_gaussians(write_ply(g))
    assert back.count == 0 and back.sh_degree == 2


def test_writer_uses_the_3dgs_property_order_and_channel_major_f_rest() -> None:
    g = Gaussians.empty(1, 1)
    g.positions[0] = [1, 2, 3]
    g.sh_dc[0] = [4, 5, 6]
    # sh_rest[gaussian, coefficient k, channel c] = 10*c + k  ->  f_rest_{3c+k} = 10c + k
    g.sh_rest[0] = np.array([[10 * c + k for c in range(3)] for k in range(3)], np.float32)
    g.opacity_logits[0] = 7
    g.log_scales[0] = [8, 9, 10]
    g.rotations[0] = [11, 12, 13, 14]
    data = write_ply(g)
    head, body = data.split(b"end_header\n")
    lines = head.decode().splitlines()
    assert lines[:3] == ["ply", "format binary_little_endian 1.0", "element vertex 1"]
    assert lines[3:] == [f"property float {p}" for p in DEGREE1_NAMES]
    values = struct.unpack(f"<{len(DEGREE1_NAMES)}f", body)
    expected = [1, 2, 3, 0, 0, 0, 4, 5, 6, 0, 1, 2, 10, 11, 12, 20, 21, 22, 7, 8, 9, 10, 11, 12, 13, 14]
    assert list(values) == expected


# ------------------------------------------------------------------------- hand-written input
def test_reads_a_hand_written_file_with_comments_extra_properties_and_other_types() -> None:
    # Properties in an unusual order, a double, an extra uchar property, no normals, degree 1.
    names = ["rot_0", "rot_1", "rot_2", "rot_3", "x", "y", "z", "opacity", "scale_0", "scale_1", "scale_2", "f_dc_0", "f_dc_1", "f_dc_2"]
    names += [f"f_rest_{i}" for i in range(9)]
    header = ["format binary_little_endian 1.0", "comment written by hand", "element vertex 2", "property uchar label"]
    header += [f"property {'double' if p == 'x' else 'float'} {p}" for p in names]
    rows = []
    for v in range(2):
        vals = [1.0, 0.0, 0.0, float(v), 0.5 + v, -1.0, 2.0, 0.25, -3.0, -4.0, -5.0, 0.1, 0.2, 0.3]
        vals += [100.0 * v + i for i in range(9)]
        fmt = "<B" + "".join("d" if p == "x" else "f" for p in names)
        rows.append(struct.pack(fmt, 7, *vals))
    g = read_ply_gaussians(ply(header, b"".join(rows)))
    assert g.count == 2 and g.sh_degree == 1
    assert g.positions.tolist() == [[0.5, -1.0, 2.0], [1.5, -1.0, 2.0]]
    assert g.rotations.tolist() == [[1, 0, 0, 0], [1, 0, 0, 1]]
    assert g.opacity_logits.tolist() == [0.25, 0.25]
    assert g.log_scales.tolist() == [[-3, -4, -5]] * 2
    np.testing.assert_array_equal(g.sh_dc, np.float32([[0.1, 0.2, 0.3]] * 2))
    # f_rest_{3c+k} -> sh_rest[k, c]: for vertex 1, coefficient k of channel c is 100 + 3c + k.
    assert g.sh_rest[1].tolist() == [[100 + 3 * c + k for c in range(3)] for k in range(3)]


def test_read_ply_gives_a_static_avatar() -> None:
    data = write_ply(random_gaussians(5, 0, seed=9))
    avatar = read_ply(data)
    assert avatar.binding.mode == "none" and avatar.deformation is None
    assert avatar.gaussians.equals(read_ply_gaussians(data))
    # A static avatar animates to itself, and export writes the same file back.
    assert animate(avatar, None).equals(avatar.gaussians)
    assert export_ply(avatar) == data


# ------------------------------------------------------------------------------- bad input
def _one_vertex_body() -> bytes:
    return struct.pack("<14f", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0)


BAD = {
    "magic": (b"plx\nformat binary_little_endian 1.0\nend_header\n", "magic", 0),
    "ascii": (ply(["format ascii 1.0", "element vertex 0"], b""), "format", 4),
    "big endian": (ply(["format binary_big_endian 1.0", "element vertex 0"], b""), "format", 4),
    "no end_header": (b"ply\nformat binary_little_endian 1.0\nelement vertex 1\n", "header", 0),
    "no format": (ply(["element vertex 0", "property float x"], b""), "format", 0),
    "unknown keyword": (ply(["format binary_little_endian 1.0", "vertex 3"], b""), "header", 36),
    "bad count": (ply(["format binary_little_endian 1.0", "element vertex -1"], b""), "element", 36),
    # offsets: "ply\n" is 4 bytes, the format line 32, "element vertex 0\n" 17: line 3 starts at 36, line 4 at 53.
    "bad type": (ply(["format binary_little_endian 1.0", "element vertex 0", "property half x"], b""), "property", 53),
    "list property": (ply(["format binary_little_endian 1.0", "element vertex 0", "property list uchar int idx"], b""), "idx", 53),
    "duplicate": (ply([*minimal_header(0), "property float x"], b""), "x", None),
    "no vertex element": (ply(["format binary_little_endian 1.0", "element face 0"], b""), "vertex", 0),
    "missing rot_2": (ply([h for h in minimal_header(0) if h != "property float rot_2"], b""), "rot_2", 0),
    "missing f_dc_1": (ply([h for h in minimal_header(0) if h != "property float f_dc_1"], b""), "f_dc_1", 0),
    "f_rest gap": (ply(minimal_header(0, ["property float f_rest_0", "property float f_rest_2"]), b""), "f_rest", 0),
    "f_rest count": (ply(minimal_header(0, [f"property float f_rest_{i}" for i in range(5)]), b""), "f_rest", 0),
    "trailing bytes": (ply(minimal_header(1), _one_vertex_body() + b"\0"), "body", None),
    "zero quaternion": (ply(minimal_header(1), struct.pack("<14f", *[0.0] * 14)), "rot_0", None),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_names_the_field(case: str) -> None:
    data, field, offset = BAD[case]
    with pytest.raises(PlyError) as err:
        read_ply_gaussians(data)
    assert isinstance(err.value, ValueError)
    assert err.value.field == field, str(err.value)
    if offset is not None:
        assert err.value.offset == offset, str(err.value)
    assert field in str(err.value)


def test_truncated_body_reports_where_the_data_ends() -> None:
    full = ply(minimal_header(2), _one_vertex_body() * 2)
    cut = full[:-5]
    with pytest.raises(PlyError) as err:
        read_ply_gaussians(cut)
    assert err.value.field == "vertex" and err.value.offset == len(cut)
    assert "112 bytes" in str(err.value)  # 2 records x 14 floats x 4 bytes


def test_absurd_vertex_count_is_rejected_before_allocating() -> None:
    data = ply(minimal_header(10**15), _one_vertex_body())
    t0 = time.perf_counter()
    with pytest.raises(PlyError) as err:
        read_ply_gaussians(data)
    assert time.perf_counter() - t0 < 1.0  # no attempt to allocate 56 PB
    assert err.value.field == "vertex"


def test_non_finite_value_names_property_and_byte() -> None:
    body = _one_vertex_body() + struct.pack("<14f", 0, 0, 0, 0, 0, 0, float("nan"), 0, 0, 0, 1, 0, 0, 0)
    data = ply(minimal_header(2), body)
    with pytest.raises(PlyError) as err:
        read_ply_gaussians(data)
    # minimal_header order: x y z f_dc_0 f_dc_1 f_dc_2 opacity ...: opacity is float 6 of vertex 1.
    assert err.value.field == "opacity"
    assert err.value.offset == data.index(b"end_header\n") + 11 + 56 + 6 * 4


def test_double_out_of_float32_range_is_rejected() -> None:
    header = ["format binary_little_endian 1.0", "element vertex 1", "property double x"] + minimal_header(1)[3:]
    body = struct.pack("<d13f", 1e300, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0)
    with pytest.raises(PlyError) as err:
        read_ply_gaussians(ply(header, body))
    assert err.value.field == "x"


# --------------------------------------------------------------------------------- real data
@pytest.mark.skipif(not LAM_ZIP.exists(), reason="samples/lam_p2-1/p2-1.zip not present")
def test_lam_offset_ply_is_rewritten_byte_for_byte() -> None:
    # LAM wrote offset.ply with plyfile in the 3DGS layout (zero normals); our writer must
    # reproduce the same bytes from what our reader parsed.
    original = zipfile.ZipFile(LAM_ZIP).read("p2-1/offset.ply")
    g = read_ply_gaussians(original)
    assert g.count == 20018 and g.sh_degree == 0
    assert write_ply(g) == original
