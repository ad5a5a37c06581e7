"""Expected outputs of container vectors, computed from the payload dicts the suite writes.

Exact tier (SPEC 11.10, table 11-2, R-69): the canonical dump records, each value taken from
the dicts (the encoder's integers and ranges) and dequantized here with the binary32 formula
of SPEC 11.1.3 / 6.5 (R-58), one rounded numpy float32 operation at a time; nothing comes from
the reference decoder. Tolerance tier (SPEC 12.4, R-79): the raw MLP outputs of LATN decoders
(R-74) and of the offset MLP (R-77) evaluated in binary64 by a dense evaluator written here.
"""

from __future__ import annotations

import hashlib
import struct

import numpy as np

from refcodec import detmath as dm

from . import subdivision as subdivided
from .writer import REFERENCED, attr_channels

ATTR_NAMES = {0: "positions", 1: "sh_dc", 2: "log_scales", 3: "rotations", 4: "opacity_logits", 5: "sh_rest"}
_TYPES = {"u": "<u4", "i": "<i4", "f": "<f4", "h": "<u2"}


def dequantize(block: dict, channels: int) -> np.ndarray:
    """Item-major [N, C] binary32 values of a quantized block (SPEC 11.1.3, R-58)."""
    if block["q_bits"] == 32:
        return np.asarray(block["q_values"], np.float32).reshape(channels, -1).T
    bits = block["q_bits"]
    q = np.asarray(block["q_values"], np.int64).reshape(channels, -1)
    if bits > 128:  # delta-coded, undone one sample at a time
        refs = block["q_channel_ref"] if bits >= 161 else [0] * channels
        bits -= 160 if bits >= 161 else 128
        rows = [_undelta_channel(row, bits) for row in q]
        for c, k in enumerate(int(x) for x in refs):  # in channel order, add the referenced channel's samples
            if k:
                rows[c] = [(a + b) % (1 << bits) for a, b in zip(rows[k - 1], rows[c], strict=True)]
        q = np.array(rows, np.int64).reshape(channels, -1)
    lo = np.asarray(block["q_min"], np.float32).reshape(channels, 1)
    hi = np.asarray(block["q_max"], np.float32).reshape(channels, 1)
    levels = np.float32((1 << bits) - 1)  # exact: at most 65535
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        step = np.divide(np.subtract(hi, lo, dtype=np.float32), levels, dtype=np.float32)
        x = np.add(lo, np.multiply(q.astype(np.float32), step, dtype=np.float32), dtype=np.float32)
    return x.T


def smallest_three_quaternions(largest, rest: np.ndarray) -> np.ndarray:
    """SPEC 11.7.1, R-150, one Gaussian at a time: [N, 4] quaternions from the largest-component
    index and the three decoded components ``rest`` [N, 3]; the missing one is
    sqrt(max(0, 1 - ((a0 a0 + a1 a1) + a2 a2))), each operation rounded to binary32."""
    f = np.float32
    out = np.zeros((len(rest), 4), np.float32)
    for i, (k, (a0, a1, a2)) in enumerate(zip(np.asarray(largest, np.int64), np.asarray(rest, np.float32), strict=True)):
        s = f(f(f(a0 * a0) + f(a1 * a1)) + f(a2 * a2))
        m = f(np.sqrt(max(f(f(1) - s), f(0))))
        slots = [c for c in range(4) if c != k]
        out[i, k] = m
        out[i, slots] = (a0, a1, a2)
    return out


def _undelta_channel(stored, bits: int) -> list[int]:
    """SPEC 11.1.3, R-153 for one channel: d = r / 2 for even r, -(r + 1) / 2 for odd r; q = (previous + d) mod 2^bits, from 0."""
    out, prev = [], 0
    for r in (int(x) for x in stored):
        d = r // 2 if r % 2 == 0 else -(r + 1) // 2
        prev = (prev + d) % (1 << bits)
        out.append(prev)
    return out


def record(name: str, kind: str, values) -> bytes:
    """One dump record: name, 0, type byte, u32 count, little-endian values (SPEC 11.10)."""
    if kind == "b":
        payload = bytes(values)
        return name.encode() + b"\0b" + struct.pack("<I", len(payload)) + payload
    if kind == "h":
        arr = np.asarray(values, np.float16).reshape(-1).view(np.uint16)
    else:
        arr = np.asarray(values).reshape(-1)
    payload = arr.astype(_TYPES[kind]).tobytes()
    return name.encode() + b"\0" + kind.encode() + struct.pack("<I", arr.size) + payload


def mlp_weights(layer: dict) -> np.ndarray:
    """[out, in] binary16 weights of a layer: stored ones where the mask bit (MSB first) is 1, +0 elsewhere (SPEC 12.1)."""
    n_in, n_out = layer["layer_in"], layer["layer_out"]
    stored = np.asarray(layer["layer_weights"], np.float16).reshape(-1)
    if layer.get("layer_mask") is None:
        return stored.reshape(n_out, n_in)
    mask = layer["layer_mask"]
    bits = [(mask[k // 8] >> (7 - k % 8)) & 1 for k in range(n_in * n_out)]
    out = np.zeros(n_in * n_out, np.float16)
    out[np.flatnonzero(bits)] = stored
    return out.reshape(n_out, n_in)


def _mlp_records(prefix: str, p: dict) -> list[bytes]:
    out = [record(f"{prefix}.layer_count", "u", [len(p["mlp_layers"])])]
    for i, layer in enumerate(p["mlp_layers"]):
        out += [
            record(f"{prefix}.{i}.shape", "u", [layer["layer_out"], layer["layer_in"], layer["layer_activation"]]),
            record(f"{prefix}.{i}.weight", "h", mlp_weights(layer)),
            record(f"{prefix}.{i}.bias", "h", layer["layer_bias"]),
        ]
    return out


def dump_records(sections: list[tuple[bytes, dict | None]]) -> list[tuple[str, bytes]]:
    """(record name, record bytes) of the canonical dump, from (type, payload dict) in file order.

    Sections with no payload dict (unknown ancillary ones) contribute nothing.
    """
    meta = next(p for t, p in sections if t == b"META")
    n, sh = meta["gaussian_count"], meta["sh_degree"]
    recs = [
        record("meta.counts", "u", [n, sh, meta.get("convention", 0)]),
        record("meta.layout", "u", [x for g in meta["layout_groups"] for x in (g["layout_semantic"], g["layout_dims"])]),
        record(
            "meta.render",
            "f",
            np.array(
                [meta["render_width"], meta["render_height"], meta["focal_x"], meta["focal_y"], meta["principal_x"], meta["principal_y"]]
                + list(np.asarray(meta["camera_to_world"], np.float32))
                + list(np.asarray(meta["background"], np.float32)),
                np.float32,
            ),
        ),
    ]
    v = 0
    for kind, p in sections:
        if p is None or kind == b"META":
            continue
        if kind == b"TEXT":
            recs += [record(f"text.{e['text_key'].decode()}", "b", e["text_value"]) for e in p["text_entries"]]
        elif kind in (b"DEFM", b"DEFS"):
            v, mesh = _mesh_records(kind, p)
            recs += mesh
            sk = p.get("skeleton")
            if sk is not None:
                for j, jt in enumerate(sk["joints"]):
                    recs += [
                        record(f"defm.joint.{j}.name", "b", jt["joint_name"]),
                        record(f"defm.joint.{j}.parent", "i", [jt["joint_parent"]]),
                        record(f"defm.joint.{j}.rest_local", "f", np.asarray(jt["rest_local"], np.float32)),
                        record(f"defm.joint.{j}.inverse_bind", "f", np.asarray(jt["inverse_bind"], np.float32)),
                    ]
                q = np.asarray(sk["vertex_weights"], np.int64).reshape(4, v).T  # slot-major -> vertex-major
                weights = np.divide(q.astype(np.float32), np.float32(65535), dtype=np.float32)
                recs += [record("defm.skin.joints", "u", np.asarray(sk["vertex_joints"]).reshape(4, v).T), record("defm.skin.weights", "f", weights)]
            cm = p.get("coeff_map")
            if cm is not None:
                recs += [
                    record("defm.coeff.source", "u", [cm["coeff_source"], cm["coeff_columns"]]),
                    record("defm.coeff.matrix", "f", np.asarray(cm["coeff_matrix"], np.float32)),
                ]
                if cm.get("coeff_bias") is not None:
                    recs.append(record("defm.coeff.bias", "f", np.asarray(cm["coeff_bias"], np.float32)))
            recs += [
                record("defm.drivers", "u", [x for d in p["drivers"] for x in (d["driver_semantic"], d["driver_joint"])]),
                record("defm.head_pivot", "f", np.asarray(p["head_pivot"], np.float32)),
            ]
        elif kind == b"DEFR":
            assert p["model_name"] in REFERENCED
            recs += [record("defr.name", "b", p["model_name"]), record("defr.sha256", "b", p["model_sha256"])]
        elif kind == b"BIND":
            recs.append(record("bind.mode", "u", [p["binding_mode"]]))
            if p["binding_mode"]:
                recs.append(record("bind.index", "u", np.asarray(p["binding_index"])))
            if p["binding_mode"] == 2:
                recs.append(record("bind.barycentric", "f", dequantize(p["barycentric"], 3)))
        elif kind == b"ATTR":
            a = p["attribute_id"]
            if a == 6:  # SPEC 11.7.1, R-150
                recs.append(record("attr.rotations", "f", smallest_three_quaternions(p["largest_component"], dequantize(p["attribute"], 3))))
            elif a == 7:  # SPEC 11.7.1, R-151: the opacities as decoded
                recs.append(record("attr.opacities", "f", dequantize(p["attribute"], 1)))
            else:
                recs.append(record(f"attr.{ATTR_NAMES[a]}", "f", dequantize(p["attribute"], attr_channels(a, sh))))
        elif kind == b"LATN":
            recs += [
                record("latn.attributes", "u", list(p["latent_attribute_ids"])),
                record("latn.scale", "f", np.asarray(p["latent_scale"], np.float32)),
                record("latn.samples", "u", np.asarray(p["latent_values"]).reshape(p["latent_dims"], n).T),
            ]
            recs += _mlp_records("latn.decoder", p["latent_decoder"])
        elif kind == b"OMLP":
            recs += [
                record("omlp.encoding", "u", [p["pe_frequencies"], p["pe_include_input"], p["output_mapping"]]),
                record("omlp.inputs", "u", [x for i in p["offset_inputs"] for x in (i["offset_semantic"], i["offset_encoding"])]),
                record(
                    "omlp.scales",
                    "f",
                    np.array(
                        [
                            *np.asarray(p["position_center"], np.float32),
                            p["position_scale"],
                            p["position_out_scale"],
                            p["rotation_out_scale"],
                            p["scale_out_scale"],
                        ],
                        np.float32,
                    ),
                ),
            ]
            recs += _mlp_records("omlp.network", p["offset_network"])
    return [(r.split(b"\0", 1)[0].decode(), r) for r in recs]


def _positions(gaps) -> list[int]:
    """R-62 (and R-156 within a level): idx[k] = idx[k-1] + gap[k] + 1 from idx[-1] = -1."""
    out, last = [], -1
    for g in np.asarray(gaps, np.int64):
        last = last + int(g) + 1
        out.append(last)
    return out


def _mesh_records(kind: bytes, p: dict) -> tuple[int, list[bytes]]:
    """(decoded vertex count, the defm.vertices/triangles/morph records) of a DEFM or DEFS payload."""
    if kind == b"DEFM":
        triangles = np.asarray(p["triangles"]).reshape(3, -1).T  # corner-major -> triangle-major
        verts = dequantize(p["vertices"], 3)
        morphs = [(m["morph_name"], np.array(_positions(m["morph_index_gaps"]), np.int64), dequantize(m["morph_deltas"], 3)) for m in p["morphs"]]
    else:  # SPEC 11.5.3 through the independent model
        v0 = p["base_vertex_count"]
        base = np.asarray(p["base_triangles"]).reshape(3, -1).T.tolist()
        parents, tri_list = subdivided.subdivide(base, v0, p["subdivision_levels"])
        triangles = np.array(tri_list, np.int64).reshape(-1, 3)
        verts = subdivided.vertices(dequantize(p["base_vertices"], 3), parents, [dequantize(b, 3) for b in p["vertex_residuals"]])
        morphs = []
        for m in p["morphs"]:
            items = [(_positions(x["morph_index_gaps"]), dequantize(x["morph_deltas"], 3)) for x in m["morph_levels"]]
            morphs.append((m["morph_name"], *subdivided.morph(v0, parents, items)))
    recs = [record("defm.vertices", "f", verts), record("defm.triangles", "u", triangles)]
    for t, (name, idx, deltas) in enumerate(morphs):
        recs += [record(f"defm.morph.{t}.name", "b", name), record(f"defm.morph.{t}.indices", "u", idx)]
        recs.append(record(f"defm.morph.{t}.deltas", "f", deltas))
    return len(verts), recs


def dump_md5s(recs: list[tuple[str, bytes]]) -> tuple[str, list[dict]]:
    """MD5 of the whole dump and ``{"name", "md5", "size"}`` per record."""
    whole = hashlib.md5(b"".join(r for _, r in recs)).hexdigest()
    return whole, [{"name": name, "md5": hashlib.md5(r).hexdigest(), "size": len(r)} for name, r in recs]


# ----------------------------------------------------------------------------- tolerance tier
# The references are committed bytes: binary64 through refcodec.detmath (fixed-order sums, polynomial
# tanh/exp/sin/cos), never BLAS or numpy's SIMD transcendental functions, so they regenerate
# identically on every machine.
_ACT64 = {0: lambda v: v, 1: lambda v: np.maximum(v, 0.0), 2: dm.tanh, 3: dm.sigmoid}


def mlp_f64(p: dict, x: np.ndarray) -> np.ndarray:
    """SPEC 12.1 evaluated in binary64 (the reference of R-79): ``x`` [M, in] -> [M, out]."""
    y = np.asarray(x, np.float64)
    for layer in p["mlp_layers"]:
        w = mlp_weights(layer).astype(np.float64)
        b = np.asarray(layer["layer_bias"], np.float16).astype(np.float64)
        y = _ACT64[layer["layer_activation"]](dm.matmul(y, w.T) + b)
    return y


def latent_inputs(p: dict, n: int) -> np.ndarray:
    """SPEC 12.2, R-74: x[n][j] = f32(u[j][n] - 2^(b-1)) * latent_scale[j], one binary32 product."""
    u = np.asarray(p["latent_values"], np.int64).reshape(p["latent_dims"], n).T
    z = (u - (1 << (p["latent_bits"] - 1))).astype(np.float32)
    return np.multiply(z, np.asarray(p["latent_scale"], np.float32), dtype=np.float32)


def _rot6d(r: np.ndarray) -> np.ndarray:
    """SPEC 12.3 R-77 rot6d of one axis-angle triple (binary64 here: an input, tolerance tier)."""
    r = r.astype(np.float64)
    t2 = float(dm.sum_cols(r * r))
    k = np.array([[0, -r[2], r[1]], [r[2], 0, -r[0]], [-r[1], r[0], 0]])
    if np.sqrt(t2) < 1e-4:
        a, b = 1 - t2 / 6, 0.5 - t2 / 24
    else:
        t = np.sqrt(t2)
        a, b = float(dm.sin(t)) / t, (1 - float(dm.cos(t))) / t2
    m = np.eye(3) + a * k + b * dm.matmul(k, k)
    return m[:2].reshape(-1)


def offset_inputs(p: dict, anchors: np.ndarray, frame_groups: dict[int, np.ndarray]) -> np.ndarray:
    """SPEC 12.3, R-77: [N, D] inputs for one frame (binary32 where the clause says so)."""
    c = np.asarray(p["position_center"], np.float32)
    pp = np.multiply(np.subtract(anchors.astype(np.float32), c, dtype=np.float32), np.float32(p["position_scale"]), dtype=np.float32)
    cols = [pp] if p["pe_include_input"] else []
    for k in range(p["pe_frequencies"]):
        s = pp * np.float32(2.0**k)  # exact
        cols += [dm.sin(s.astype(np.float64)), dm.cos(s.astype(np.float64))]
    n = anchors.shape[0]
    for i in p["offset_inputs"]:
        vals = np.asarray(frame_groups[i["offset_semantic"]], np.float32)
        if i["offset_encoding"] == 1:
            vals = np.concatenate([_rot6d(vals[3 * t : 3 * t + 3]) for t in range(len(vals) // 3)])
        cols.append(np.broadcast_to(np.asarray(vals, np.float64), (n, len(vals))))
    return np.concatenate([np.asarray(col, np.float64) for col in cols], axis=1)


def within_bound(y: np.ndarray, ref: np.ndarray) -> tuple[bool, float]:
    """R-79: |y - y_ref| <= 1e-4 (1 + |y_ref|) everywhere; also the largest ratio to the bound."""
    y, ref = np.asarray(y, np.float64), np.asarray(ref, np.float64)
    if y.shape != ref.shape or not np.all(np.isfinite(y)):
        return False, float("inf")
    ratio = np.abs(y - ref) / (1e-4 * (1 + np.abs(ref)))
    worst = float(ratio.max()) if ratio.size else 0.0
    return worst <= 1.0, worst
