"""The small glTF/GLB reader (refcodec.avatar.gltf) on a GLB built by hand in this file.

Every expected value below is written out by hand from the bytes the test packs.
"""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from refcodec.avatar.gltf import Gltf


def pad4(b: bytes, fill: bytes = b"\0") -> bytes:
    return b + fill * (-len(b) % 4)


def glb(doc: dict, binary: bytes) -> bytes:
    """A GLB container: 12-byte header, JSON chunk (space padded), BIN chunk (zero padded)."""
    j = pad4(json.dumps(doc).encode(), b" ")
    b = pad4(binary)
    body = struct.pack("<II", len(j), 0x4E4F534A) + j + struct.pack("<II", len(b), 0x004E4942) + b
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


# Buffer layout (byte offsets):
#   0..35   POSITION: 3 x VEC3 float32  (0,0,0) (1,0,0) (0,1,0)
#  36..39   sparse indices uint16: 0, 2
#  40..63   sparse values: 2 x VEC3 float32 (0.5,0,0) (0,0,-1)
#  64..71   interleaved uint8 VEC2 with byteStride 4: (255, 0) pad pad (128, 127) pad pad
#  72..75   sparse indices uint8 for the dense-base accessor: 1 (+3 padding)
#  76..87   one VEC3 float32 value (9, 9, 9)
BINARY = (
    struct.pack("<9f", 0, 0, 0, 1, 0, 0, 0, 1, 0)
    + struct.pack("<2H", 0, 2)
    + struct.pack("<6f", 0.5, 0, 0, 0, 0, -1)
    + bytes([255, 0, 0xEE, 0xEE, 128, 127, 0xEE, 0xEE])
    + bytes([1, 0, 0, 0])
    + struct.pack("<3f", 9, 9, 9)
)

assert len(BINARY) == 88

DOC = {
    "asset": {"version": "2.0"},
    "buffers": [{"byteLength": len(BINARY)}],
    "bufferViews": [
        {"buffer": 0, "byteOffset": 0, "byteLength": 36},
        {"buffer": 0, "byteOffset": 36, "byteLength": 4},
        {"buffer": 0, "byteOffset": 40, "byteLength": 24},
        {"buffer": 0, "byteOffset": 64, "byteLength": 8, "byteStride": 4},
        {"buffer": 0, "byteOffset": 72, "byteLength": 1},
        {"buffer": 0, "byteOffset": 76, "byteLength": 12},
    ],
    "accessors": [
        {"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3"},
        # A morph-target style sparse accessor: no bufferView, so zeros before substitution.
        {
            "componentType": 5126,
            "count": 3,
            "type": "VEC3",
            "sparse": {"count": 2, "indices": {"bufferView": 1, "componentType": 5123}, "values": {"bufferView": 2}},
        },
        {"bufferView": 3, "componentType": 5121, "count": 2, "type": "VEC2", "normalized": True},
        # Sparse substitution on top of a dense base (the POSITION view).
        {
            "bufferView": 0,
            "componentType": 5126,
            "count": 3,
            "type": "VEC3",
            "sparse": {"count": 1, "indices": {"bufferView": 4, "componentType": 5121}, "values": {"bufferView": 5}},
        },
        {"bufferView": 1, "componentType": 5123, "count": 2, "type": "SCALAR"},
    ],
    "nodes": [
        {"name": "root", "children": [1], "translation": [1, 2, 3], "scale": [2, 2, 2]},
        # 90 degrees about +z: x,y,z,w = (0, 0, sin 45, cos 45)
        {"name": "child", "rotation": [0, 0, 0.7071067811865476, 0.7071067811865476], "translation": [1, 0, 0]},
        {"name": "matrix", "matrix": [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 5, 6, 7, 1]},
    ],
}


@pytest.fixture(scope="module")
def gltf() -> Gltf:
    return Gltf.from_glb(glb(DOC, BINARY))


def test_dense_accessor(gltf: Gltf) -> None:
    assert gltf.accessor(0).tolist() == [[0, 0, 0], [1, 0, 0], [0, 1, 0]]
    assert gltf.accessor(4).tolist() == [0, 2]  # SCALAR comes back 1-D


def test_sparse_accessor_without_buffer_view_is_zeros_plus_substitution(gltf: Gltf) -> None:
    assert gltf.accessor(1).tolist() == [[0.5, 0, 0], [0, 0, 0], [0, 0, -1]]
    idx, vals = gltf.sparse_accessor(1)
    assert idx.tolist() == [0, 2]
    assert vals.tolist() == [[0.5, 0, 0], [0, 0, -1]]


def test_sparse_substitution_over_a_dense_base(gltf: Gltf) -> None:
    assert gltf.accessor(3).tolist() == [[0, 0, 0], [9, 9, 9], [0, 1, 0]]
    assert gltf.sparse_accessor(3) is None  # has a bufferView: not a pure sparse accessor


def test_strided_normalized_uint8(gltf: Gltf) -> None:
    # unsigned normalized: c / 255; the padding bytes 0xEE are skipped by the stride.
    got = gltf.accessor(2)
    np.testing.assert_array_equal(got, np.float32([[1.0, 0.0], [128 / 255, 127 / 255]]))
    assert gltf.accessor(2, normalize=False).tolist() == [[255, 0], [128, 127]]


def test_node_transforms(gltf: Gltf) -> None:
    assert gltf.node_parents() == [-1, 0, -1]
    world = gltf.node_world_matrices()
    # root: T(1,2,3) S(2); child: T(1,0,0) Rz(90). child world maps its origin to
    # root @ (1,0,0) = (2*1+1, 2, 3) = (3, 2, 3), and its x axis to 2 * (0, 1, 0).
    np.testing.assert_allclose(world[1] @ [0, 0, 0, 1], [3, 2, 3, 1], atol=1e-12)
    np.testing.assert_allclose(world[1] @ [1, 0, 0, 0], [0, 2, 0, 0], atol=1e-12)
    np.testing.assert_allclose(world[2][:3, 3], [5, 6, 7])  # matrix is column-major


BROKEN = {
    "bad magic": lambda b: b"glTX" + b[4:],
    "bad version": lambda b: b[:4] + struct.pack("<I", 1) + b[8:],
    "length beyond data": lambda b: b[:8] + struct.pack("<I", len(b) + 4) + b[12:],
    "too short": lambda b: b[:16],
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_container_raises_value_error(case: str) -> None:
    with pytest.raises(ValueError, match="GLB"):
        Gltf.from_glb(BROKEN[case](glb(DOC, BINARY)))


def test_view_too_short_and_unsorted_sparse_indices() -> None:
    doc = json.loads(json.dumps(DOC))
    doc["accessors"][0]["count"] = 4  # 48 bytes from a 36-byte view
    with pytest.raises(ValueError, match="too short"):
        Gltf.from_glb(glb(doc, BINARY)).accessor(0)
    unsorted = BINARY[:36] + struct.pack("<2H", 2, 0) + BINARY[40:]
    with pytest.raises(ValueError, match="strictly increasing"):
        Gltf.from_glb(glb(DOC, unsorted)).accessor(1)
