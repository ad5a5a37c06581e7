"""An independent writer of ``.fca`` files for the conformance suite (SPEC 11.1-11.8, 12.1-12.3).

Built with ``struct``, numpy byte planes, ``zlib.crc32`` and ``zstandard`` only, so that the
container vectors do not come from the reference writer (refcodec.fca.syntax) they test. Every
element written is traced with its absolute byte offset, its ``structure.element`` name of
spec/syntax.toml and its subscripted field name: invalid vectors damage an element found by
name, and their expected error location follows from the trace.

Payloads are dicts with the element names of the syntax tables (the same keys the reference
encoder's payload dicts use, so an encoder-made avatar can be written here too).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

import numpy as np
import zstandard

from . import subdivision as subdivided

SIGNATURE = b"FCA1"
RAW_F32 = 32
#: SPEC 11.3: type -> critical flag of the registry.
CRITICAL = {b"META": 1, b"DEFM": 1, b"DEFR": 1, b"BIND": 1, b"ATTR": 1, b"LATN": 1, b"OMLP": 1, b"TEXT": 0}
#: SPEC 11.7 channel counts (SH_REST depends on sh_degree).
ATTR_CHANNELS = {0: 3, 1: 3, 2: 3, 3: 4, 4: 1, 6: 3, 7: 1}  # 6 ROTATION_S3, 7 OPACITY_ALPHA (SPEC 11.7.1)
#: SPEC 11.5.2 registry (spec/container.toml): name -> (vertices, triangles).
REFERENCED = {b"FLAME2020": (5023, 9976)}


def attr_channels(attr_id: int, sh_degree: int) -> int:
    """Channels of attribute ``attr_id`` at ``sh_degree`` (SPEC 11.7)."""
    return ATTR_CHANNELS[attr_id] if attr_id in ATTR_CHANNELS else 3 * ((sh_degree + 1) ** 2 - 1)


def index_width(limit: int) -> int:
    """SPEC 11.1.2: 2 bytes per index into at most 65536 items, else 4."""
    return 2 if limit <= 65536 else 4


def planes_bytes(values, width: int) -> bytes:
    """SPEC 11.1.2: plane k holds byte k (least significant first) of every value."""
    v = np.asarray(values, np.uint64).reshape(-1)
    return b"".join(((v >> np.uint64(8 * k)) & np.uint64(255)).astype(np.uint8).tobytes() for k in range(width))


@dataclass
class Trace:
    """One written element: absolute byte offset, ``structure.element``, field name with subscripts."""

    offset: int
    element: str
    field: str
    size: int


class PayloadWriter:
    """Writes one payload and traces its elements (offsets relative to the payload)."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.trace: list[Trace] = []

    def put(self, element: str, field_name: str, data: bytes) -> None:
        self.trace.append(Trace(len(self.buf), element, field_name, len(data)))
        self.buf += data

    def u8(self, el: str, f: str, v: int) -> None:
        self.put(el, f, struct.pack("<B", v))

    def u16(self, el: str, f: str, v: int) -> None:
        self.put(el, f, struct.pack("<H", v))

    def s16(self, el: str, f: str, v: int) -> None:
        self.put(el, f, struct.pack("<h", v))

    def u32(self, el: str, f: str, v: int) -> None:
        self.put(el, f, struct.pack("<I", v))

    def f32(self, el: str, f: str, v: float) -> None:
        self.put(el, f, np.float32(v).astype("<f4").tobytes())

    def planes(self, el: str, f: str, values, width: int) -> None:
        self.put(el, f, planes_bytes(values, width))

    def f32planes(self, el: str, f: str, values) -> None:
        self.planes(el, f, np.asarray(values, np.float32).reshape(-1).view(np.uint32), 4)

    def f16planes(self, el: str, f: str, values) -> None:
        self.planes(el, f, np.asarray(values, np.float16).reshape(-1).view(np.uint16), 2)


def _block(w: PayloadWriter, field_name: str, b: dict, channels: int, count: int) -> None:
    """SPEC 11.1.3 quantized_block( ) of ``channels`` x ``count`` values."""
    w.u8("quantized_block.q_bits", f"{field_name}.q_bits", b["q_bits"])
    if b["q_bits"] == RAW_F32:
        w.f32planes("quantized_block.q_values", f"{field_name}.q_values", b["q_values"])
        return
    w.f32planes("quantized_block.q_min", f"{field_name}.q_min", b["q_min"])
    w.f32planes("quantized_block.q_max", f"{field_name}.q_max", b["q_max"])
    if 161 <= b["q_bits"] <= 176:  # one reference byte per channel (other values above 160 are rejected at q_bits)
        w.planes("quantized_block.q_channel_ref", f"{field_name}.q_channel_ref", b["q_channel_ref"], 1)
    # 129..144: delta-coded samples of q_bits - 128 bits; 161..176: with channel references, q_bits - 160 bits
    bits = b["q_bits"] - 160 if b["q_bits"] >= 161 else b["q_bits"] - 128 if b["q_bits"] > 128 else b["q_bits"]
    w.planes("quantized_block.q_values", f"{field_name}.q_values", b["q_values"], 1 if bits <= 8 else 2)


def meta(p: dict) -> PayloadWriter:
    """SPEC 11.4 meta_section( )."""
    w, s = PayloadWriter(), "meta_section"
    w.u32(f"{s}.gaussian_count", "gaussian_count", p["gaussian_count"])
    w.u8(f"{s}.sh_degree", "sh_degree", p["sh_degree"])
    w.u8(f"{s}.convention", "convention", p.get("convention", 0))
    w.u16(f"{s}.meta_reserved_16bits", "meta_reserved_16bits", p.get("meta_reserved_16bits", 0))
    w.u8(f"{s}.layout_group_count", "layout_group_count", len(p["layout_groups"]))
    for g, grp in enumerate(p["layout_groups"]):
        w.u8(f"{s}.layout_semantic", f"layout_semantic[{g}]", grp["layout_semantic"])
        w.u16(f"{s}.layout_dims", f"layout_dims[{g}]", grp["layout_dims"])
    w.u16(f"{s}.render_width", "render_width", p["render_width"])
    w.u16(f"{s}.render_height", "render_height", p["render_height"])
    for k in ("focal_x", "focal_y", "principal_x", "principal_y"):
        w.f32(f"{s}.{k}", k, p[k])
    w.f32planes(f"{s}.camera_to_world", "camera_to_world", p["camera_to_world"])
    w.f32planes(f"{s}.background", "background", p["background"])
    return w


def text(p: dict) -> PayloadWriter:
    """SPEC 11.8 text_section( )."""
    w, s = PayloadWriter(), "text_section"
    w.u16(f"{s}.text_count", "text_count", len(p["text_entries"]))
    for i, e in enumerate(p["text_entries"]):
        w.u8(f"{s}.text_key_length", f"text_key_length[{i}]", len(e["text_key"]))
        w.put(f"{s}.text_key", f"text_key[{i}]", e["text_key"])
        w.u16(f"{s}.text_value_length", f"text_value_length[{i}]", len(e["text_value"]))
        w.put(f"{s}.text_value", f"text_value[{i}]", e["text_value"])
    return w


def defm(p: dict) -> PayloadWriter:
    """SPEC 11.5.1 defm_section( ) and skeleton( )."""
    w, s = PayloadWriter(), "defm_section"
    v, f = p["vertex_count"], p["triangle_count"]
    w.u32(f"{s}.vertex_count", "vertex_count", v)
    w.u32(f"{s}.triangle_count", "triangle_count", f)
    w.trace.append(Trace(len(w.buf), f"{s}.vertices", "vertices", 0))
    _block(w, "vertices", p["vertices"], 3, v)
    w.planes(f"{s}.triangles", "triangles", p["triangles"], index_width(v))
    w.u16(f"{s}.morph_count", "morph_count", len(p["morphs"]))
    for t, m in enumerate(p["morphs"]):
        w.u8(f"{s}.morph_name_length", f"morph_name_length[{t}]", len(m["morph_name"]))
        w.put(f"{s}.morph_name", f"morph_name[{t}]", m["morph_name"])
        _morph_items(w, s, f"[{t}]", m, index_width(v))
    _model_tail(w, s, p)
    return w


def defs(p: dict, total: int) -> PayloadWriter:
    """SPEC 11.5.3 defs_section( ); ``total`` is the decoded vertex count, whose index width sizes the morph gaps."""
    w, s = PayloadWriter(), "defs_section"
    v0 = p["base_vertex_count"]
    w.u32(f"{s}.base_vertex_count", "base_vertex_count", v0)
    w.u32(f"{s}.base_triangle_count", "base_triangle_count", p["base_triangle_count"])
    w.u8(f"{s}.subdivision_levels", "subdivision_levels", p["subdivision_levels"])
    w.trace.append(Trace(len(w.buf), f"{s}.base_vertices", "base_vertices", 0))
    _block(w, "base_vertices", p["base_vertices"], 3, v0)
    w.planes(f"{s}.base_triangles", "base_triangles", p["base_triangles"], index_width(v0))
    for level, block in enumerate(p["vertex_residuals"]):
        w.trace.append(Trace(len(w.buf), f"{s}.vertex_residuals", f"vertex_residuals[{level}]", 0))
        _block(w, f"vertex_residuals[{level}]", block, 3, len(block["q_values"]) // 3)
    w.u16(f"{s}.morph_count", "morph_count", len(p["morphs"]))
    for t, m in enumerate(p["morphs"]):
        w.u8(f"{s}.morph_name_length", f"morph_name_length[{t}]", len(m["morph_name"]))
        w.put(f"{s}.morph_name", f"morph_name[{t}]", m["morph_name"])
        for level, items in enumerate(m["morph_levels"]):
            _morph_items(w, s, f"[{t}][{level}]", items, index_width(total))
    _model_tail(w, s, p)
    return w


def _morph_items(w: PayloadWriter, s: str, at: str, items: dict, width: int) -> None:
    """morph_nnz, morph_index_gaps and morph_deltas of one target (DEFM) or one level of a target (DEFS)."""
    w.u32(f"{s}.morph_nnz", f"morph_nnz{at}", items["morph_nnz"])
    w.planes(f"{s}.morph_index_gaps", f"morph_index_gaps{at}", items["morph_index_gaps"], width)
    w.trace.append(Trace(len(w.buf), f"{s}.morph_deltas", f"morph_deltas{at}", 0))
    _block(w, f"morph_deltas{at}", items["morph_deltas"], 3, items["morph_nnz"])


def _model_tail(w: PayloadWriter, s: str, p: dict) -> None:
    """The elements after the morph targets, common to defm_section( ) and defs_section( ) (SPEC 11.5.1, 11.5.3)."""
    sk = p.get("skeleton")
    w.u8(f"{s}.skeleton_flag", "skeleton_flag", p.get("skeleton_flag", int(sk is not None)))
    if sk is not None:
        w.trace.append(Trace(len(w.buf), f"{s}.skeleton", "skeleton", 0))
        k = "skeleton"
        w.u8(f"{k}.joint_count", "skeleton.joint_count", len(sk["joints"]))
        for j, jt in enumerate(sk["joints"]):
            w.u8(f"{k}.joint_name_length", f"skeleton.joint_name_length[{j}]", len(jt["joint_name"]))
            w.put(f"{k}.joint_name", f"skeleton.joint_name[{j}]", jt["joint_name"])
            w.s16(f"{k}.joint_parent", f"skeleton.joint_parent[{j}]", jt["joint_parent"])
            w.f32planes(f"{k}.rest_local", f"skeleton.rest_local[{j}]", jt["rest_local"])
            w.f32planes(f"{k}.inverse_bind", f"skeleton.inverse_bind[{j}]", jt["inverse_bind"])
        w.planes(f"{k}.vertex_joints", "skeleton.vertex_joints", sk["vertex_joints"], 1)
        w.planes(f"{k}.vertex_weights", "skeleton.vertex_weights", sk["vertex_weights"], 2)
    cm = p.get("coeff_map")
    w.u8(f"{s}.coeff_map_flag", "coeff_map_flag", int(cm is not None))
    if cm is not None:
        w.u8(f"{s}.coeff_source", "coeff_map.coeff_source", cm["coeff_source"])
        w.u16(f"{s}.coeff_columns", "coeff_map.coeff_columns", cm["coeff_columns"])
        w.f32planes(f"{s}.coeff_matrix", "coeff_map.coeff_matrix", cm["coeff_matrix"])
        w.u8(f"{s}.coeff_bias_flag", "coeff_map.coeff_bias_flag", int(cm.get("coeff_bias") is not None))
        if cm.get("coeff_bias") is not None:
            w.f32planes(f"{s}.coeff_bias", "coeff_map.coeff_bias", cm["coeff_bias"])
    w.u8(f"{s}.driver_count", "driver_count", len(p["drivers"]))
    for k, d in enumerate(p["drivers"]):
        w.u8(f"{s}.driver_semantic", f"driver_semantic[{k}]", d["driver_semantic"])
        w.u8(f"{s}.driver_joint", f"driver_joint[{k}]", d["driver_joint"])
    w.f32planes(f"{s}.head_pivot", "head_pivot", p["head_pivot"])


def defr(p: dict) -> PayloadWriter:
    """SPEC 11.5.2 defr_section( )."""
    w, s = PayloadWriter(), "defr_section"
    w.u8(f"{s}.model_name_length", "model_name_length", len(p["model_name"]))
    w.put(f"{s}.model_name", "model_name", p["model_name"])
    w.put(f"{s}.model_sha256", "model_sha256", p["model_sha256"])
    return w


def bind(p: dict, n: int, limit: int) -> PayloadWriter:
    """SPEC 11.6 bind_section( ); ``limit`` is V (mode 1) or F (mode 2) for the index width."""
    w, s = PayloadWriter(), "bind_section"
    w.u8(f"{s}.binding_mode", "binding_mode", p["binding_mode"])
    if p["binding_mode"] != 0:
        w.planes(f"{s}.binding_index", "binding_index", p["binding_index"], index_width(limit))
    if p["binding_mode"] == 2:
        w.trace.append(Trace(len(w.buf), f"{s}.barycentric", "barycentric", 0))
        _block(w, "barycentric", p["barycentric"], 3, n)
    return w


def attr(p: dict, n: int, sh_degree: int) -> PayloadWriter:
    """SPEC 11.7 attr_section( )."""
    w, s = PayloadWriter(), "attr_section"
    w.u8(f"{s}.attribute_id", "attribute_id", p["attribute_id"])
    if p["attribute_id"] == 6:  # SPEC 11.7.1: ROTATION_S3 sends the index of the largest component first
        w.planes(f"{s}.largest_component", "largest_component", p["largest_component"], 1)
    w.trace.append(Trace(len(w.buf), f"{s}.attribute", "attribute", 0))
    _block(w, "attribute", p["attribute"], attr_channels(p["attribute_id"], sh_degree), n)
    return w


def mlp(w: PayloadWriter, prefix: str, p: dict) -> None:
    """SPEC 12.1 mlp( ) and mlp_layer( )."""
    w.u8("mlp.mlp_layer_count", f"{prefix}.mlp_layer_count", len(p["mlp_layers"]))
    w.trace.append(Trace(len(w.buf), "mlp.mlp_layers", f"{prefix}.mlp_layers", 0))
    for i, layer in enumerate(p["mlp_layers"]):
        f, s = f"{prefix}.mlp_layers[{i}]", "mlp_layer"
        w.u16(f"{s}.layer_in", f"{f}.layer_in", layer["layer_in"])
        w.u16(f"{s}.layer_out", f"{f}.layer_out", layer["layer_out"])
        w.u8(f"{s}.layer_activation", f"{f}.layer_activation", layer["layer_activation"])
        w.u8(f"{s}.layer_mask_flag", f"{f}.layer_mask_flag", int(layer.get("layer_mask") is not None))
        if layer.get("layer_mask") is not None:
            w.put(f"{s}.layer_mask", f"{f}.layer_mask", layer["layer_mask"])
        w.f16planes(f"{s}.layer_weights", f"{f}.layer_weights", layer["layer_weights"])
        w.f16planes(f"{s}.layer_bias", f"{f}.layer_bias", layer["layer_bias"])


def latn(p: dict, n: int) -> PayloadWriter:
    """SPEC 12.2 latn_section( )."""
    w, s = PayloadWriter(), "latn_section"
    ids = list(p["latent_attribute_ids"])
    w.u8(f"{s}.latent_attribute_count", "latent_attribute_count", len(ids))
    for i, a in enumerate(ids):
        w.u8(f"{s}.latent_attribute_ids", f"latent_attribute_ids[{i}]", a)
    w.u8(f"{s}.latent_dims", "latent_dims", p["latent_dims"])
    w.u8(f"{s}.latent_bits", "latent_bits", p["latent_bits"])
    w.f32planes(f"{s}.latent_scale", "latent_scale", p["latent_scale"])
    w.planes(f"{s}.latent_values", "latent_values", p["latent_values"], 1 if p["latent_bits"] <= 8 else 2)
    w.trace.append(Trace(len(w.buf), f"{s}.latent_decoder", "latent_decoder", 0))
    mlp(w, "latent_decoder", p["latent_decoder"])
    return w


def omlp(p: dict) -> PayloadWriter:
    """SPEC 12.3 omlp_section( )."""
    w, s = PayloadWriter(), "omlp_section"
    w.u8(f"{s}.pe_frequencies", "pe_frequencies", p["pe_frequencies"])
    w.u8(f"{s}.pe_include_input", "pe_include_input", p["pe_include_input"])
    w.f32planes(f"{s}.position_center", "position_center", p["position_center"])
    w.f32(f"{s}.position_scale", "position_scale", p["position_scale"])
    w.u8(f"{s}.offset_input_count", "offset_input_count", len(p["offset_inputs"]))
    for k, i in enumerate(p["offset_inputs"]):
        w.u8(f"{s}.offset_semantic", f"offset_semantic[{k}]", i["offset_semantic"])
        w.u8(f"{s}.offset_encoding", f"offset_encoding[{k}]", i["offset_encoding"])
    w.u8(f"{s}.output_mapping", "output_mapping", p["output_mapping"])
    for k in ("position_out_scale", "rotation_out_scale", "scale_out_scale"):
        w.f32(f"{s}.{k}", k, p[k])
    w.trace.append(Trace(len(w.buf), f"{s}.offset_network", "offset_network", 0))
    mlp(w, "offset_network", p["offset_network"])
    return w


@dataclass
class Sec:
    """A section to write: a payload dict (or ``raw`` bytes) and framing options/forgeries.

    ``stored`` replaces the stored payload (a crafted zstd frame); ``raw_size``/``stored_size``
    replace the declared sizes; ``crc`` the section CRC (else computed with zlib).
    """

    type: bytes
    payload: dict | None = None
    raw: bytes | None = None
    zstd: bool = False
    flags: int | None = None
    compression: int | None = None
    stored: bytes | None = None
    raw_size: int | None = None
    stored_size: int | None = None
    crc: int | None = None
    reserved: int = 0


@dataclass
class Built:
    """A written file, its element trace and where each section starts."""

    data: bytes
    trace: list[Trace] = field(default_factory=list)
    section_offsets: list[int] = field(default_factory=list)
    body_offsets: list[int] = field(default_factory=list)
    raws: list[bytes] = field(default_factory=list)

    def find(self, field_suffix: str, section: int | None = None) -> Trace:
        """The first traced element whose field (``section[i]:TYPE.name``) ends with ``field_suffix``."""
        for t in self.trace:
            if t.field.endswith(field_suffix) and (section is None or t.field.startswith(f"section[{section}]:")):
                return t
        raise KeyError(field_suffix)


def zstd_frame(raw: bytes, level: int = 19) -> bytes:
    """One Zstandard frame with the content size (SPEC 11.2.1)."""
    return zstandard.ZstdCompressor(level=level, write_content_size=True).compress(raw)


def payload_writer(sec: Sec, state: dict) -> PayloadWriter:
    """Serialize ``sec.payload`` with what earlier sections declared (``state``: n, sh, V, F)."""
    p, kind = sec.payload, sec.type
    if kind == b"META":
        state.update(n=p["gaussian_count"], sh=p["sh_degree"])
        return meta(p)
    if kind == b"TEXT":
        return text(p)
    if kind == b"DEFM":
        state.update(v=p["vertex_count"], f=p["triangle_count"])
        return defm(p)
    if kind == b"DEFS":  # the decoded counts follow from the base triangles (R-154, independent model)
        tris = np.asarray(p["base_triangles"]).reshape(3, -1).T
        parents, triangles = subdivided.subdivide(tris.tolist(), p["base_vertex_count"], p["subdivision_levels"])
        vertex_count = p["base_vertex_count"] + sum(len(level) for level in parents)
        state.update(v=vertex_count, f=len(triangles))
        return defs(p, vertex_count)
    if kind == b"DEFR":
        state.update(zip(("v", "f"), REFERENCED.get(p["model_name"], (0, 0)), strict=True))
        return defr(p)
    if kind == b"BIND":
        return bind(p, state["n"], state["v"] if p["binding_mode"] == 1 else state.get("f", 0))
    if kind == b"ATTR":
        return attr(p, state["n"], state["sh"])
    if kind == b"LATN":
        return latn(p, state["n"])
    if kind == b"OMLP":
        return omlp(p)
    raise ValueError(f"no payload syntax for {kind!r}")


def build(
    sections: list[Sec],
    level: int = 10,
    profile: int = 0,
    version: int = 1,
    signature: bytes = SIGNATURE,
    section_count: int | None = None,
    header_crc: int | None = None,
    reserved: tuple[int, int] = (0, 0),
    tail: bytes = b"",
) -> Built:
    """The file (SPEC 11.2): header, then each section header + stored payload, CRCs by zlib."""
    count = len(sections) if section_count is None else section_count
    head = signature + struct.pack("<BBBBHH", version, profile, level, reserved[0], count, reserved[1])
    out = Built(b"")
    out.trace += [
        Trace(0, "file_header.fca_signature", "file_header.fca_signature", 4),
        Trace(4, "file_header.fca_version", "file_header.fca_version", 1),
        Trace(5, "file_header.profile_idc", "file_header.profile_idc", 1),
        Trace(6, "file_header.level_idc", "file_header.level_idc", 1),
        Trace(7, "file_header.fca_reserved_8bits", "file_header.fca_reserved_8bits", 1),
        Trace(8, "file_header.section_count", "file_header.section_count", 2),
        Trace(10, "file_header.fca_reserved_16bits", "file_header.fca_reserved_16bits", 2),
        Trace(12, "file_header.header_crc", "file_header.header_crc", 4),
    ]
    data = bytearray(head + struct.pack("<I", zlib.crc32(head) if header_crc is None else header_crc))
    state: dict = {"n": 0, "sh": 0, "v": 0, "f": 0}
    for i, sec in enumerate(sections):
        where = f"section[{i}]"
        if sec.raw is not None:
            raw, sub = sec.raw, []
        else:
            w = payload_writer(sec, state)
            raw, sub = bytes(w.buf), w.trace
        compression = sec.compression if sec.compression is not None else int(sec.zstd)
        stored = sec.stored if sec.stored is not None else (zstd_frame(raw) if sec.zstd else raw)
        flags = CRITICAL.get(sec.type, 1) if sec.flags is None else sec.flags
        stored_size = len(stored) if sec.stored_size is None else sec.stored_size
        raw_size = len(raw) if sec.raw_size is None else sec.raw_size
        h16 = sec.type + struct.pack("<BBHII", flags, compression, sec.reserved, stored_size, raw_size)
        crc = zlib.crc32(h16 + stored) if sec.crc is None else sec.crc
        pos = len(data)
        out.section_offsets.append(pos)
        out.body_offsets.append(pos + 20)
        out.raws.append(raw)
        names = ["section_type", "section_flags", "compression", "section_reserved_16bits", "stored_size", "raw_size", "section_crc"]
        sizes = [4, 1, 1, 2, 4, 4, 4]
        at = pos
        for nm, sz in zip(names, sizes, strict=True):
            out.trace.append(Trace(at, f"section_header.{nm}", f"{where}.{nm}", sz))
            at += sz
        out.trace.append(Trace(pos + 20, "fca_file.section_payload", f"{where}.payload", len(stored)))
        label = f"{where}:{sec.type.decode('latin-1')}"
        if compression == 0:  # offsets inside a stored payload are file offsets
            out.trace += [Trace(pos + 20 + t.offset, t.element, f"{label}.{t.field}", t.size) for t in sub]
        else:  # inside a zstd payload only the elements are known, at the payload's offset
            out.trace += [Trace(pos + 20, t.element, f"{label}.{t.field}", t.size) for t in sub]
        data += h16 + struct.pack("<I", crc) + stored
    out.data = bytes(data) + tail
    return out


def fix_crcs(data: bytes) -> bytes:
    """``data`` with the header CRC and every section CRC recomputed (walking the declared sizes
    while they fit): what a decoder that ignores CRCs effectively reads."""
    buf = bytearray(data)
    if len(buf) >= 16:
        buf[12:16] = struct.pack("<I", zlib.crc32(bytes(buf[:12])))
    pos = 16
    count = struct.unpack_from("<H", buf, 8)[0] if len(buf) >= 10 else 0
    for _ in range(count):
        if pos + 20 > len(buf):
            break
        stored_size = struct.unpack_from("<I", buf, pos + 8)[0]
        end = pos + 20 + stored_size
        if end > len(buf):
            break
        buf[pos + 16 : pos + 20] = struct.pack("<I", zlib.crc32(bytes(buf[pos : pos + 16]) + bytes(buf[pos + 20 : end])))
        pos = end
    return bytes(buf)


def section_headers(data: bytes) -> list[tuple[int, bytes, int, int, int]]:
    """(offset, type, flags, stored_size, raw_size) of each section header that fits in ``data``."""
    out, pos = [], 16
    count = struct.unpack_from("<H", data, 8)[0]
    for _ in range(count):
        if pos + 20 > len(data):
            break
        kind, flags, _comp, _res, stored, raw = struct.unpack_from("<4sBBHII", data, pos)
        out.append((pos, kind, flags, stored, raw))
        pos += 20 + stored
    return out
