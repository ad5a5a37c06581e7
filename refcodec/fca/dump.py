"""Canonical dump of a container's exact tier (SPEC 11.10, R-69).

The dump is a sequence of records, one per exact-tier item of the decoded container: section by
section in file order, and within a section in the row order of SPEC table 11-2 (R-205); names
may repeat (R-206). Each record is::

    name (UTF-8) | 0x00 | type (1 byte: b'u' uint32, b'i' int32, b'f' binary32, b'h' binary16 bits, b'b' bytes)
    | count (u32 LE) | count values, little-endian (1 byte each for b'b')

A conformance vector's expected output is the MD5 of the whole dump plus one MD5 per record,
so an implementer sees the first record where they disagree. Values that come out of a neural
decoder (LATN outputs, offset MLP) are tolerance tier and are not in the dump; the latent
samples, scales and binary16 weights that produce them are.
"""

from __future__ import annotations

import hashlib
import struct

import numpy as np

from .codec import ATTRIBUTE_IDS
from .codings import OPACITY_ALPHA_ID, ROTATION_S3_ID, from_smallest_three
from .container import ParsedContainer
from .mesh import decoded_mesh
from .quantized import decode_block
from .syntax import attribute_channels

_TYPES = {"u": np.dtype("<u4"), "i": np.dtype("<i4"), "f": np.dtype("<f4"), "h": np.dtype("<u2")}
_ATTR_NAMES = {v: k for k, v in ATTRIBUTE_IDS.items()}


def _record(name: str, kind: str, values) -> bytes:
    if kind == "b":
        payload = bytes(values)
        count = len(payload)
    else:
        arr = np.asarray(values)
        if kind == "h":
            arr = np.asarray(values, np.float16).view(np.uint16)
        payload = np.ascontiguousarray(arr.astype(_TYPES[kind]).reshape(-1)).tobytes()
        count = len(payload) // _TYPES[kind].itemsize
    return name.encode("utf-8") + b"\0" + kind.encode() + struct.pack("<I", count) + payload


def _mlp_records(prefix: str, p) -> list[tuple[str, str, object]]:
    out: list[tuple[str, str, object]] = [(f"{prefix}.layer_count", "u", [p.mlp_layer_count])]
    for i, layer in enumerate(p.mlp_layers):
        mask = np.unpackbits(np.frombuffer(layer.layer_mask, np.uint8))[: layer.layer_in * layer.layer_out] if layer.layer_mask else None
        weights = np.zeros(layer.layer_in * layer.layer_out, np.float16)
        if mask is None:
            weights[:] = layer.layer_weights
        else:
            weights[mask.astype(bool)] = layer.layer_weights
        out += [
            (f"{prefix}.{i}.shape", "u", [layer.layer_out, layer.layer_in, layer.layer_activation]),
            (f"{prefix}.{i}.weight", "h", weights),
            (f"{prefix}.{i}.bias", "h", layer.layer_bias),
        ]
    return out


def _block(block, channels: int) -> np.ndarray:
    """Item-major [N, C] values of a quantized block (SPEC 11.1.3, R-58)."""
    return decode_block(block, channels).T


def records(parsed: ParsedContainer) -> list[tuple[str, str, object]]:
    """(name, type, values) of every exact-tier item: sections in file order, each in the row order of SPEC table 11-2 (R-205)."""
    meta = parsed.first(b"META").payload
    n = meta.gaussian_count
    out: list[tuple[str, str, object]] = [
        ("meta.counts", "u", [n, meta.sh_degree, meta.convention]),
        ("meta.layout", "u", [x for g in meta.layout_groups for x in (g.layout_semantic, g.layout_dims)]),
        (
            "meta.render",
            "f",
            [
                meta.render_width,
                meta.render_height,
                meta.focal_x,
                meta.focal_y,
                meta.principal_x,
                meta.principal_y,
                *meta.camera_to_world,
                *meta.background,
            ],
        ),
    ]
    for sec in parsed.sections:
        p = sec.payload
        if sec.skipped or p is None:
            continue
        kind = sec.type
        if kind == b"TEXT":
            for e in p.text_entries:
                out.append((f"text.{e.text_key.decode('utf-8')}", "b", e.text_value))
        elif kind in (b"DEFM", b"DEFS"):  # a DEFS section dumps the model it decodes to, as DEFM records
            v = p.vertex_count
            mesh = decoded_mesh(p)
            out += [("defm.vertices", "f", mesh.vertices), ("defm.triangles", "u", mesh.triangles)]
            for t, (name, idx, deltas) in enumerate(mesh.morphs):
                out += [(f"defm.morph.{t}.name", "b", name), (f"defm.morph.{t}.indices", "u", idx), (f"defm.morph.{t}.deltas", "f", deltas)]
            if p.skeleton is not None:
                s = p.skeleton
                for j, joint in enumerate(s.joints):
                    out += [
                        (f"defm.joint.{j}.name", "b", joint.joint_name),
                        (f"defm.joint.{j}.parent", "i", [joint.joint_parent]),
                        (f"defm.joint.{j}.rest_local", "f", joint.rest_local),
                        (f"defm.joint.{j}.inverse_bind", "f", joint.inverse_bind),
                    ]
                weights = np.asarray(s.vertex_weights).reshape(4, v).T.astype(np.float32) / np.float32(65535)
                out += [("defm.skin.joints", "u", np.asarray(s.vertex_joints).reshape(4, v).T), ("defm.skin.weights", "f", weights)]
            if p.coeff_map is not None:
                c = p.coeff_map
                out += [("defm.coeff.source", "u", [c.coeff_source, c.coeff_columns]), ("defm.coeff.matrix", "f", c.coeff_matrix)]
                if c.coeff_bias is not None:
                    out.append(("defm.coeff.bias", "f", c.coeff_bias))
            out += [
                ("defm.drivers", "u", [x for d in p.drivers for x in (d.driver_semantic, d.driver_joint)]),
                ("defm.head_pivot", "f", p.head_pivot),
            ]
        elif kind == b"DEFR":
            out += [("defr.name", "b", p.model_name), ("defr.sha256", "b", p.model_sha256)]
        elif kind == b"BIND":
            out.append(("bind.mode", "u", [p.binding_mode]))
            if p.binding_mode:
                out.append(("bind.index", "u", p.binding_index))
            if p.binding_mode == 2:
                out.append(("bind.barycentric", "f", _block(p.barycentric, 3)))
        elif kind == b"ATTR":
            channels = attribute_channels(p.attribute_id, meta.sh_degree)
            if p.attribute_id == ROTATION_S3_ID:  # SPEC 11.7.1, R-150: the reconstructed quaternions
                out.append(("attr.rotations", "f", from_smallest_three(p.largest_component, decode_block(p.attribute, 3))))
            elif p.attribute_id == OPACITY_ALPHA_ID:  # SPEC 11.7.1, R-151: the opacities themselves
                out.append(("attr.opacities", "f", _block(p.attribute, channels)))
            else:
                out.append((f"attr.{_ATTR_NAMES[p.attribute_id]}", "f", _block(p.attribute, channels)))
        elif kind == b"LATN":
            out += [
                ("latn.attributes", "u", list(p.latent_attribute_ids)),
                ("latn.scale", "f", p.latent_scale),
                ("latn.samples", "u", np.asarray(p.latent_values).reshape(p.latent_dims, n).T),
            ]
            out += _mlp_records("latn.decoder", p.latent_decoder)
        elif kind == b"OMLP":
            out += [
                ("omlp.encoding", "u", [p.pe_frequencies, p.pe_include_input, p.output_mapping]),
                ("omlp.inputs", "u", [x for i in p.offset_inputs for x in (i.offset_semantic, i.offset_encoding)]),
                ("omlp.scales", "f", [*p.position_center, p.position_scale, p.position_out_scale, p.rotation_out_scale, p.scale_out_scale]),
            ]
            out += _mlp_records("omlp.network", p.offset_network)
    return out


def canonical_dump(parsed: ParsedContainer) -> bytes:
    """The canonical dump bytes (SPEC 11.10, R-69)."""
    return b"".join(_record(name, kind, values) for name, kind, values in records(parsed))


def record_md5s(parsed: ParsedContainer) -> list[tuple[str, str]]:
    """(record name, MD5 of the record bytes) in dump order."""
    return [(name, hashlib.md5(_record(name, kind, values)).hexdigest()) for name, kind, values in records(parsed)]
