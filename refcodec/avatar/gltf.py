"""A small glTF 2.0 / GLB reader: just what the avatar importers need.

Supports: the GLB container (12-byte header, JSON chunk, optional BIN chunk), embedded
buffers (the GLB BIN chunk, or base64 ``data:`` URIs), and accessors with ``byteOffset``,
``byteStride``, every ``componentType``, ``normalized`` and **sparse** substitution (glTF 2.0
section 3.6.2.3: an accessor with no ``bufferView`` is all zeros before substitution).
Node transforms (matrix, or T * R * S with rotation stored x,y,z,w) are returned as 4x4
column-vector matrices.  External ``.bin`` files are not supported (raise ValueError).
"""

from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

GLB_MAGIC = b"glTF"
CHUNK_JSON = 0x4E4F534A
CHUNK_BIN = 0x004E4942

COMPONENT_DTYPES = {
    5120: np.dtype("<i1"),
    5121: np.dtype("<u1"),
    5122: np.dtype("<i2"),
    5123: np.dtype("<u2"),
    5125: np.dtype("<u4"),
    5126: np.dtype("<f4"),
}
TYPE_COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}


@dataclass
class Gltf:
    """A parsed glTF document: its JSON and its binary buffers."""

    json: dict[str, Any]
    buffers: list[bytes]

    # ---------------------------------------------------------------- loading
    @classmethod
    def from_glb(cls, data: bytes) -> Gltf:
        """Parse a GLB file held in memory."""
        if len(data) < 20:
            raise ValueError("GLB: file shorter than the 12-byte header plus a chunk header")
        magic, version, length = struct.unpack_from("<4sII", data, 0)
        if magic != GLB_MAGIC:
            raise ValueError(f"GLB: bad magic {magic!r}")
        if version != 2:
            raise ValueError(f"GLB: unsupported container version {version}")
        if length > len(data):
            raise ValueError(f"GLB: header length {length} exceeds the data ({len(data)} bytes)")
        pos, doc, bin_chunk = 12, None, None
        while pos + 8 <= length:
            clen, ctype = struct.unpack_from("<II", data, pos)
            pos += 8
            if pos + clen > length:
                raise ValueError(f"GLB: chunk of {clen} bytes at offset {pos - 8} runs past the end")
            chunk = data[pos : pos + clen]
            if ctype == CHUNK_JSON and doc is None:
                doc = json.loads(chunk.decode("utf-8"))
            elif ctype == CHUNK_BIN and bin_chunk is None:
                bin_chunk = bytes(chunk)
            pos += clen
        if doc is None:
            raise ValueError("GLB: no JSON chunk")
        return cls._with_buffers(doc, bin_chunk)

    @classmethod
    def from_json(cls, text: str | bytes) -> Gltf:
        """Parse a .gltf JSON document whose buffers are embedded as data URIs."""
        return cls._with_buffers(json.loads(text), None)

    @classmethod
    def _with_buffers(cls, doc: dict, bin_chunk: bytes | None) -> Gltf:
        bufs = []
        for i, b in enumerate(doc.get("buffers", [])):
            uri = b.get("uri")
            if uri is None:
                if bin_chunk is None or i != 0:
                    raise ValueError(f"glTF: buffers[{i}] has no uri and there is no GLB BIN chunk")
                data = bin_chunk
            elif uri.startswith("data:"):
                data = base64.b64decode(uri.split(",", 1)[1])
            else:
                raise ValueError(f"glTF: external buffer {uri!r} is not supported")
            if len(data) < b["byteLength"]:
                raise ValueError(f"glTF: buffers[{i}] holds {len(data)} bytes, byteLength says {b['byteLength']}")
            bufs.append(data)
        return cls(doc, bufs)

    # -------------------------------------------------------------- accessors
    def _view_elements(self, view_index: int, byte_offset: int, count: int, dtype: np.dtype, ncomp: int) -> np.ndarray:
        """Read ``count`` elements of ``ncomp`` components from a bufferView, honouring byteStride."""
        view = self.json["bufferViews"][view_index]
        buf = self.buffers[view["buffer"]]
        start = view.get("byteOffset", 0) + byte_offset
        elem = dtype.itemsize * ncomp
        stride = view.get("byteStride") or elem
        if stride < elem:
            raise ValueError(f"glTF: bufferViews[{view_index}] byteStride {stride} < element size {elem}")
        need = 0 if count == 0 else (count - 1) * stride + elem
        if byte_offset + need > view["byteLength"] or start + need > len(buf):
            raise ValueError(f"glTF: bufferViews[{view_index}] too short for {count} elements")
        if count == 0:
            return np.zeros((0, ncomp), dtype)
        raw = np.frombuffer(buf, np.uint8, need, start)
        if stride == elem:
            return raw.view(dtype).reshape(count, ncomp).copy()
        rows = np.lib.stride_tricks.as_strided(raw, shape=(count, elem), strides=(stride, 1))
        return np.ascontiguousarray(rows).view(dtype).reshape(count, ncomp)

    def accessor(self, index: int, normalize: bool = True) -> np.ndarray:
        """Accessor ``index`` as [count, ncomp] (SCALAR: [count]).

        ``normalized`` integer accessors are mapped to float32 per the spec when ``normalize``
        (signed: ``max(c / (2^(b-1)-1), -1)``, unsigned: ``c / (2^b-1)``); otherwise the raw
        component type is returned.  Sparse values replace the listed elements.
        """
        acc = self.json["accessors"][index]
        dtype = COMPONENT_DTYPES.get(acc["componentType"])
        if dtype is None:
            raise ValueError(f"glTF: accessors[{index}] has unknown componentType {acc['componentType']}")
        ncomp = TYPE_COMPONENTS[acc["type"]]
        count = acc["count"]
        if "bufferView" in acc:
            out = self._view_elements(acc["bufferView"], acc.get("byteOffset", 0), count, dtype, ncomp)
        else:
            out = np.zeros((count, ncomp), dtype)
        sp = acc.get("sparse")
        if sp is not None:
            n = sp["count"]
            idx_dtype = COMPONENT_DTYPES[sp["indices"]["componentType"]]
            if idx_dtype.kind != "u":
                raise ValueError(f"glTF: accessors[{index}].sparse.indices must be unsigned")
            idx = self._view_elements(sp["indices"]["bufferView"], sp["indices"].get("byteOffset", 0), n, idx_dtype, 1)[:, 0]
            vals = self._view_elements(sp["values"]["bufferView"], sp["values"].get("byteOffset", 0), n, dtype, ncomp)
            if n and (int(idx.max()) >= count or np.any(np.diff(idx.astype(np.int64)) <= 0)):
                raise ValueError(f"glTF: accessors[{index}].sparse.indices must be strictly increasing and < count")
            out[idx.astype(np.int64)] = vals
        if acc.get("normalized") and normalize and dtype.kind in "iu":
            bits = dtype.itemsize * 8
            if dtype.kind == "u":
                out = (out.astype(np.float32) / np.float32(2**bits - 1)).astype(np.float32)
            else:
                out = np.maximum(out.astype(np.float32) / np.float32(2 ** (bits - 1) - 1), np.float32(-1.0))
        return out[:, 0] if acc["type"] == "SCALAR" else out

    def sparse_accessor(self, index: int) -> tuple[np.ndarray, np.ndarray] | None:
        """For a sparse accessor with no bufferView: its (indices, values) without densifying."""
        acc = self.json["accessors"][index]
        sp = acc.get("sparse")
        if sp is None or "bufferView" in acc:
            return None
        dtype = COMPONENT_DTYPES[acc["componentType"]]
        ncomp = TYPE_COMPONENTS[acc["type"]]
        n = sp["count"]
        ind = sp["indices"]
        idx = self._view_elements(ind["bufferView"], ind.get("byteOffset", 0), n, COMPONENT_DTYPES[ind["componentType"]], 1)[:, 0]
        vals = self._view_elements(sp["values"]["bufferView"], sp["values"].get("byteOffset", 0), n, dtype, ncomp)
        return idx.astype(np.int64), vals

    # ------------------------------------------------------------------ nodes
    def node_local_matrix(self, index: int) -> np.ndarray:
        """Local 4x4 transform (float64) of node ``index``: its ``matrix`` or T * R * S."""
        node = self.json["nodes"][index]
        if "matrix" in node:
            return np.array(node["matrix"], np.float64).reshape(4, 4).T  # stored column-major
        m = np.eye(4)
        x, y, z, w = node.get("rotation", [0.0, 0.0, 0.0, 1.0])
        r = np.array(
            [
                [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
            ]
        )
        m[:3, :3] = r * np.array(node.get("scale", [1.0, 1.0, 1.0]))[None, :]
        m[:3, 3] = node.get("translation", [0.0, 0.0, 0.0])
        return m

    def node_parents(self) -> list[int]:
        """Parent index of every node (-1 for roots)."""
        parents = [-1] * len(self.json.get("nodes", []))
        for i, n in enumerate(self.json.get("nodes", [])):
            for c in n.get("children", []):
                parents[c] = i
        return parents

    def node_world_matrices(self) -> np.ndarray:
        """[nodes,4,4] float64 world transforms at rest."""
        parents = self.node_parents()
        out: list[np.ndarray | None] = [None] * len(parents)

        def world(i: int, depth: int = 0) -> np.ndarray:
            if depth > len(parents):
                raise ValueError("glTF: node hierarchy has a cycle")
            if out[i] is None:
                local = self.node_local_matrix(i)
                out[i] = local if parents[i] < 0 else world(parents[i], depth + 1) @ local
            return out[i]

        return np.stack([world(i) for i in range(len(parents))]) if parents else np.zeros((0, 4, 4))
