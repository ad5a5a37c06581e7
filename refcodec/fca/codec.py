"""Avatar <-> container: the reference encoder (with its knobs) and decoder (SPEC chapter 11).

:func:`encode_avatar` chooses quantization per the :class:`PackConfig` knobs and writes the
sections; :func:`decode_avatar` reads a container back into an in-memory
:class:`~refcodec.avatar.model.Avatar` (exact tier: every value follows from the syntax and
the binary32 dequantization formula).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import zstandard

from ..avatar.latents import FitConfig, LatentAttributes, decode_latents, fit_latents
from ..avatar.model import (
    Avatar,
    Binding,
    CoefficientMap,
    DeformationModel,
    Gaussians,
    MorphTargets,
    RenderDefaults,
    Skeleton,
)
from ..avatar.neural import ACTIVATIONS, Dense, Mlp
from ..avatar.offset_mlp import OffsetInput, OffsetMlpDescriptor
from ..errors import E_VALUE
from ..quant import dequant_step
from ..spec_tables import container_levels, semantic_id, semantic_name
from . import syntax
from .bounded import ERROR_KINDS, bounded_attribute
from .budget import DecodeBudget
from .codings import OPACITY_ALPHA_ID, ROTATION_S3_ID, alpha_from_logits, from_smallest_three, logits_from_alpha, smallest_three
from .container import ParsedContainer, SectionToWrite, build_payload, decode_usage, parse_payload, read_container, write_container
from .mesh import decoded_mesh
from .precondition import drop_idle_skeleton, floor_log_scales, floor_opacity, sort_static_gaussians
from .quantized import decode_block, decode_block_dict, delta_block, encode_block, encode_block_in, smaller_block, unit_range_block
from .subdivision import find_subdivision, midpoints, subdivide
from .syntax import OFFSET_ENCODINGS, OUTPUT_MAPPINGS, RAW_F32_BITS, SECTION_HEADER_BYTES, attribute_channels, level_bits, sample_width

ATTRIBUTE_IDS = {"positions": 0, "sh_dc": 1, "log_scales": 2, "rotations": 3, "opacity_logits": 4, "sh_rest": 5}
BINDING_IDS = {"none": 0, "vertex": 1, "triangle": 2}
WEIGHT_ONE = 65535  # skin weights are u16 fractions of 65535 (SPEC 11.5.1)


@dataclass
class PackConfig:
    """Encoder knobs. Bit depths are 1..16, or 32 for raw binary32 (lossless)."""

    position_bits: int = 14
    color_bits: int = 8
    scale_bits: int = 8
    rotation_bits: int = 10  # ROTATION_S3: max 0.2 deg on the LAM Gaussians (8 bits as a plain quaternion: 0.54 deg)
    opacity_bits: int = 8
    sh_rest_bits: int = 8
    vertex_bits: int = 14
    morph_bits: int = 10
    barycentric_bits: int = 16
    zstd_level: int = 19
    morph_max_error: float | None = 1e-4  # metres (0.17 px at 512^2 on the LAM head); None: every target at morph_bits
    latents: FitConfig | None = None  # fit EAGLES-style latents for latent_attributes (SPEC 12.2)
    latent_attributes: tuple[int, ...] = (3, 4)  # ROTATION, OPACITY
    log_scale_floor: float | None = -10.0  # render-neutral preconditioning, see refcodec.fca.precondition
    opacity_floor: bool = True
    drop_idle_skeleton: bool = True
    level_idc: int | None = None  # None: the smallest level the avatar fits
    compress: bool = True
    overrides: dict[str, int] = field(default_factory=dict)
    delta_coding: str = "auto"  # delta-coded samples (SPEC 11.1.3, R-153): "auto" where Zstandard makes them smaller, "always", "never"
    rotation_coding: str = "s3"  # "s3" (ROTATION_S3) or "quaternion" (ROTATION), SPEC 11.7.1
    opacity_coding: str = "alpha"  # "alpha" (OPACITY_ALPHA, after the sigmoid) or "logit" (OPACITY), SPEC 11.7.1
    # "auto": a DEFS section (SPEC 11.5.3) when the mesh is a midpoint subdivision and that is smaller; "subdivision": DEFS
    # whenever the mesh is one; "plain": always DEFM. Raw binary32 vertices always use DEFM (DEFS residuals are not lossless).
    mesh_coding: str = "auto"
    # "morton": the Gaussians of a static avatar (binding none) in Z-order of their positions; "keep": as given
    gaussian_order: str = "morton"
    # largest decoded error per kind of refcodec.fca.bounded.ERROR_KINDS ("position" m, "color", "log_scale",
    # "rotation_deg", "opacity"); a bounded attribute takes the coarsest shared step within it instead of its bits
    max_errors: dict[str, float] = field(default_factory=dict)

    @classmethod
    def lossless(cls) -> PackConfig:
        """Every float stored as raw binary32: the decoded avatar equals the input exactly."""
        return cls(
            *(RAW_F32_BITS,) * 9,
            morph_max_error=None,
            log_scale_floor=None,
            opacity_floor=False,
            drop_idle_skeleton=False,
            rotation_coding="quaternion",
            opacity_coding="logit",
            delta_coding="never",
            gaussian_order="keep",
        )

    @classmethod
    def plain(cls, **knobs) -> PackConfig:
        """The library default before issue 13: ROTATION and OPACITY as plain 8-bit quantized attributes
        (no coding of SPEC 11.7.1) and morph targets within 40 um; ``knobs`` override."""
        old = {"rotation_bits": 8, "rotation_coding": "quaternion", "opacity_coding": "logit", "morph_max_error": 4e-5, "delta_coding": "never",
               "gaussian_order": "keep"}
        return cls(**(old | knobs))

    def bits_for(self, attribute: str) -> int:
        default = {
            "positions": self.position_bits,
            "sh_dc": self.color_bits,
            "log_scales": self.scale_bits,
            "rotations": self.rotation_bits,
            "opacity_logits": self.opacity_bits,
            "sh_rest": self.sh_rest_bits,
        }[attribute]
        return self.overrides.get(attribute, default)


def _pick_level(avatar: Avatar, usage: DecodeBudget | None = None) -> int:
    """The smallest container level whose limits the avatar meets (SPEC 11.9), the decode limits
    of R-91 included when ``usage`` (:func:`~refcodec.fca.container.decode_usage`) is given."""
    d = avatar.deformation
    need = {"max_gaussians": avatar.gaussians.count}
    if usage is not None:
        need |= {
            "max_decoded_values": usage.decoded_values,
            "max_text_entries": usage.text_entries,
            "max_activations": usage.widest_activations,
            "max_latent_macs": usage.latent_macs,
        }
    if d is not None:
        need |= {
            "max_vertices": d.vertex_count,
            "max_triangles": int(d.triangles.shape[0]),
            "max_morph_targets": d.morphs.count,
            "max_joints": d.skeleton.count if d.skeleton is not None else 0,
        }
    for idc, level in sorted(container_levels().items()):
        if all(v <= getattr(level, k) for k, v in need.items()):
            return idc
    raise ValueError(f"avatar exceeds every level: {need}")


# ------------------------------------------------------------------------------------ encoder
def _meta_payload(avatar: Avatar) -> dict:
    r = avatar.render
    return {
        "gaussian_count": avatar.gaussians.count,
        "sh_degree": avatar.gaussians.sh_degree,
        "convention": 0,
        "meta_reserved_16bits": 0,
        "layout_group_count": len(avatar.layout),
        "layout_groups": [{"layout_semantic": semantic_id(name), "layout_dims": dims} for name, dims in avatar.layout],
        "render_width": r.width,
        "render_height": r.height,
        "focal_x": r.fx,
        "focal_y": r.fy,
        "principal_x": r.cx,
        "principal_y": r.cy,
        "camera_to_world": np.asarray(r.camera_to_world, np.float32)[:3].reshape(-1),
        "background": np.asarray(r.background, np.float32),
    }


def _utf8(text: str) -> bytes:
    return text.encode("utf-8")


def _skin_weights(weights: np.ndarray) -> np.ndarray:
    """[V,4] float weights -> u16 fractions of 65535 summing exactly to 65535 per vertex."""
    q = np.rint(np.asarray(weights, np.float64) * WEIGHT_ONE).astype(np.int64)
    top = np.argmax(q, axis=1)
    q[np.arange(q.shape[0]), top] += WEIGHT_ONE - q.sum(axis=1)
    return q


def _morph_precision(idx: np.ndarray, deltas: np.ndarray, config: PackConfig) -> tuple[np.ndarray, np.ndarray, int]:
    """The vertices, deltas and bit depth to store for one morph target (informative encoder choice).

    With ``morph_max_error`` set, vertices moved by less than it are dropped (they decode as
    unmoved) and the bit depth is the smallest whose step is at most twice the error, so every
    decoded delta is within ``morph_max_error`` of the input. Otherwise ``morph_bits`` is used.
    """
    err = config.morph_max_error
    if err is None or config.morph_bits == RAW_F32_BITS:
        return idx, deltas, config.morph_bits
    keep = np.abs(deltas).max(axis=1, initial=0.0) >= err if len(deltas) else np.zeros(0, bool)
    idx, deltas = idx[keep], deltas[keep]
    if len(deltas) == 0:
        return idx, deltas, 1
    width = float((deltas.max(axis=0).astype(np.float64) - deltas.min(axis=0)).max())
    bits = next((b for b in range(1, 17) if width / ((1 << b) - 1) <= 2 * err), 16)
    return idx, deltas, bits


def _gaps(positions: np.ndarray) -> np.ndarray:
    """SPEC 11.5.1, R-62 (and R-156 within a level): the gaps of increasing positions."""
    return np.diff(np.concatenate([[-1], np.asarray(positions, np.int64)])) - 1


def _morph_items(positions: np.ndarray, block: dict) -> dict:
    return {"morph_nnz": len(positions), "morph_index_gaps": _gaps(positions), "morph_deltas": block}


def _morph_name(name: str) -> dict:
    return {"morph_name_length": len(_utf8(name)), "morph_name": _utf8(name)}


def _defm_payload(d: DeformationModel, config: PackConfig) -> dict:
    morphs = []
    for name, idx, deltas in zip(d.morphs.names, d.morphs.indices, d.morphs.deltas, strict=True):
        idx, deltas, bits = _morph_precision(np.asarray(idx, np.int64), np.asarray(deltas, np.float32), config)
        morphs.append(_morph_name(name) | _morph_items(idx, pick_block(encode_block(deltas.T, bits), config)))
    return {
        "vertex_count": d.vertex_count,
        "triangle_count": int(d.triangles.shape[0]),
        "vertices": pick_block(encode_block(d.vertices.T, config.vertex_bits), config),
        "triangles": np.asarray(d.triangles).T.reshape(-1),  # SPEC 11.5.1: corner-major
        "morph_count": d.morphs.count,
        "morphs": morphs,
    } | _model_tail_payload(d)


def _residual_bits(values: np.ndarray, step: float) -> int:
    """The fewest bits (1..16) whose step over the values' widest channel is at most ``step``."""
    width = float((values.max(axis=0).astype(np.float64) - values.min(axis=0)).max()) if len(values) else 0.0
    return next((b for b in range(1, 17) if width / ((1 << b) - 1) <= step), 16)


def _defs_payload(d: DeformationModel, config: PackConfig, levels: int, base_count: int, base_triangles: np.ndarray) -> dict:
    """SPEC 11.5.3 (informative encoder): the base mesh at ``vertex_bits``, each level's vertex residuals
    at a step no coarser than the base's, morph residuals kept where they exceed ``morph_max_error``;
    every residual is taken against the decoded parents (closed loop), so errors do not add up."""
    sub = subdivide(base_triangles, base_count, levels)
    base = pick_block(encode_block(d.vertices[:base_count].T, config.vertex_bits), config)
    x = np.zeros((sub.vertex_count, 3), np.float32)
    x[:base_count] = decode_block_dict(base, 3).T
    base_step = float(np.max(dequant_step(base["q_min"], base["q_max"], np.full(3, config.vertex_bits))))
    residual_blocks = []
    for start, parents in zip(sub.starts, sub.parents, strict=True):
        pred = midpoints(x, parents)
        r = np.subtract(d.vertices[start : start + len(parents)], pred, dtype=np.float32)
        block = pick_block(encode_block(r.T, _residual_bits(r, base_step)), config)
        residual_blocks.append(block)
        x[start : start + len(parents)] = np.add(pred, decode_block_dict(block, 3).T, dtype=np.float32)
    morphs = []
    for name, idx, deltas in zip(d.morphs.names, d.morphs.indices, d.morphs.deltas, strict=True):
        true = np.zeros((sub.vertex_count, 3), np.float32)
        true[np.asarray(idx, np.int64)] = deltas
        decoded = np.zeros_like(true)
        levels_out = []
        for start, size in zip((0, *sub.starts), sub.level_sizes(), strict=True):
            span = slice(start, start + size)
            pred = decoded[span].copy() if start == 0 else midpoints(decoded, sub.parents[len(levels_out) - 1])
            want = true[span] - pred if start else true[span]
            moved = np.flatnonzero(np.any(want != 0, axis=1))
            pos, values, bits = _morph_precision(moved, want[moved], config)
            block = pick_block(encode_block(values.T, bits), config)
            decoded[span] = pred
            decoded[start + pos] = np.add(decoded[start + pos], decode_block_dict(block, 3).T, dtype=np.float32)
            levels_out.append(_morph_items(pos, block))
        morphs.append(_morph_name(name) | {"morph_levels": levels_out})
    return {
        "base_vertex_count": base_count,
        "base_triangle_count": len(base_triangles),
        "subdivision_levels": levels,
        "base_vertices": base,
        "base_triangles": np.asarray(base_triangles).T.reshape(-1),  # corner-major, as DEFM's
        "vertex_residuals": residual_blocks,
        "morph_count": d.morphs.count,
        "morphs": morphs,
    } | _model_tail_payload(d)


def _model_tail_payload(d: DeformationModel) -> dict:
    """The elements DEFM and DEFS share after the morph targets (SPEC 11.5.1)."""
    skeleton = None
    s = d.skeleton
    if s is not None:
        skeleton = {
            "joint_count": s.count,
            "joints": [
                {
                    "joint_name_length": len(_utf8(n)),
                    "joint_name": _utf8(n),
                    "joint_parent": int(s.parents[j]),
                    "rest_local": s.rest_local[j][:3].reshape(-1),
                    "inverse_bind": s.inverse_bind[j][:3].reshape(-1),
                }
                for j, n in enumerate(s.joint_names)
            ],
            "vertex_joints": np.asarray(s.vertex_joints).T.reshape(-1),
            "vertex_weights": _skin_weights(s.vertex_weights).T.reshape(-1),
        }
    coeff = None
    if d.coeff_map is not None:
        cm = d.coeff_map
        coeff = {
            "coeff_source": semantic_id(cm.source),
            "coeff_columns": cm.matrix.shape[1],
            "coeff_matrix": cm.matrix.reshape(-1),
            "coeff_bias_flag": int(cm.bias is not None),
            "coeff_bias": cm.bias,
        }
    drivers = [{"driver_semantic": semantic_id(g), "driver_joint": s.index(j)} for g, j in d.joint_drivers.items()]
    return {
        "skeleton_flag": int(skeleton is not None),
        "skeleton": skeleton,
        "coeff_map_flag": int(coeff is not None),
        "coeff_map": coeff,
        "driver_count": len(drivers),
        "drivers": drivers,
        "head_pivot": d.head_pivot,
    }


def _bind_payload(b: Binding, config: PackConfig) -> dict:
    mode = BINDING_IDS[b.mode]
    return {
        "binding_mode": mode,
        "binding_index": None if mode == 0 else np.asarray(b.index),
        "barycentric": pick_block(encode_block(b.barycentric.T, config.barycentric_bits), config) if mode == 2 else None,
    }


def precondition(avatar: Avatar, config: PackConfig) -> Avatar:
    """The render-neutral simplifications the config asks for (:mod:`refcodec.fca.precondition`)."""
    if config.log_scale_floor is not None:
        avatar = floor_log_scales(avatar, config.log_scale_floor)
    if config.opacity_floor and config.opacity_coding == "logit":  # OPACITY_ALPHA's range is [0, 1] anyway
        avatar = floor_opacity(avatar)
    if config.drop_idle_skeleton:
        avatar = drop_idle_skeleton(avatar)
    if config.gaussian_order == "morton":
        avatar = sort_static_gaussians(avatar)
    return avatar


def avatar_sections(avatar: Avatar, config: PackConfig) -> list[SectionToWrite]:
    """The sections of ``avatar`` in the order SPEC 11.3 requires."""
    avatar.validate()
    avatar = precondition(avatar, config)
    z = config.compress
    sections = [SectionToWrite(b"META", _meta_payload(avatar), compress=z)]
    if avatar.metadata:
        entries = [
            {"text_key_length": len(_utf8(k)), "text_key": _utf8(k), "text_value_length": len(_utf8(v)), "text_value": _utf8(v)}
            for k, v in avatar.metadata.items()
        ]
        sections.append(SectionToWrite(b"TEXT", {"text_count": len(entries), "text_entries": entries}, compress=z))
    if avatar.deformation is not None:
        sections.append(_model_section(avatar.deformation, config, sections[0]))
    if avatar.binding.mode != "none":
        sections.append(SectionToWrite(b"BIND", _bind_payload(avatar.binding, config), compress=z))
    g = avatar.gaussians
    latent_ids: tuple[int, ...] = ()
    if config.latents is not None:
        latent_ids = tuple(a for a in config.latent_attributes if attribute_channels(a, g.sh_degree))
        sections.append(SectionToWrite(b"LATN", _latent_payload(g, latent_ids, config.latents), compress=z))
    for attr, attr_id in ATTRIBUTE_IDS.items():
        channels = attribute_channels(attr_id, g.sh_degree)
        if channels == 0 or attr_id in latent_ids:
            continue
        sections.append(SectionToWrite(b"ATTR", attr_payload(g, attr, config), compress=z))
    if avatar.offset_mlp is not None:
        sections.append(SectionToWrite(b"OMLP", _offset_payload(*avatar.offset_mlp), compress=z))
    return sections


def _model_section(d: DeformationModel, config: PackConfig, meta: SectionToWrite) -> SectionToWrite:
    """DEFM, or DEFS for a midpoint-subdivided mesh as ``config.mesh_coding`` asks (SPEC 11.5.1, 11.5.3)."""
    plain = SectionToWrite(b"DEFM", _defm_payload(d, config), compress=config.compress)
    lossless = RAW_F32_BITS in (config.vertex_bits, config.morph_bits)
    found = None if config.mesh_coding == "plain" or lossless else find_subdivision(d.triangles, d.vertex_count)
    if found is None:
        return plain
    subdivided = SectionToWrite(b"DEFS", _defs_payload(d, config, *found), compress=config.compress)
    if config.mesh_coding == "subdivision":
        return subdivided
    return min((plain, subdivided), key=lambda sec: _stored_size(sec, meta, config))


def _stored_size(sec: SectionToWrite, meta: SectionToWrite, config: PackConfig) -> int:
    """The bytes ``sec`` would take in the file (Zstandard at the config's level when compressed)."""
    top = container_levels()[max(container_levels())]
    params = {"level": top, "meta": parse_payload(syntax.META, build_payload(b"META", meta.payload, level=top), 0, "META", level=top), "defm": None}
    raw = build_payload(sec.type, sec.payload, **params)
    return len(zstandard.ZstdCompressor(level=config.zstd_level).compress(raw)) if config.compress else len(raw)


def pick_block(block: dict, config: PackConfig) -> dict:
    """The block, or its delta-coded form: always, never, or ("auto") when that compresses smaller in zstd sections (SPEC 11.1.3, R-153)."""
    if config.delta_coding == "always" and block["q_bits"] != RAW_F32_BITS:
        return delta_block(block)
    if config.delta_coding != "auto" or not config.compress:
        return block
    zstd = zstandard.ZstdCompressor(level=min(config.zstd_level, 9))  # an estimate: the section is compressed once more, whole

    def size(b: dict) -> int:
        q = np.asarray(b["q_values"], np.uint16)
        width = sample_width(level_bits(b["q_bits"]))
        return len(zstd.compress(b"".join(((q >> (8 * k)) & 255).astype(np.uint8).tobytes() for k in range(width))))

    return smaller_block(block, size)


def _bound_for(attr: str, config: PackConfig) -> float | None:
    """The config's largest error for ``attr`` (refcodec.fca.bounded.ERROR_KINDS), or None (bits decide)."""
    for kind, (field_name, _) in ERROR_KINDS.items():
        if field_name == attr and kind in config.max_errors:
            return config.max_errors[kind]
    return None


def _block(attr: str, values: np.ndarray, config: PackConfig, largest: np.ndarray | None = None) -> dict:
    """The quantized block of ``values`` [C, N]: within the config's error bound for ``attr`` when it
    has one, else at its bits (when the form is chosen by size, the colour and log-scale channels over
    one shared span, so that they can refer to each other, R-159), then in the form Zstandard makes smallest."""
    bound = _bound_for(attr, config)
    bits = config.bits_for(attr)
    if bound is not None and bits != RAW_F32_BITS and values.shape[1]:
        block = bounded_attribute(attr, values, bound, largest)
    elif attr == "opacity_logits" and config.opacity_coding == "alpha":
        block = unit_range_block(values, bits)
    elif attr in SHARED_SPAN_ATTRIBUTES and bits != RAW_F32_BITS and values.shape[1] and config.delta_coding == "auto":
        lo = values.min(axis=1)
        span = np.max(values.max(axis=1) - lo)
        block = encode_block_in(values, bits, lo, (lo + span).astype(np.float32))
    else:
        block = encode_block(values, bits)
    return pick_block(block, config)


#: Attributes whose channels share units, quantized over one span so that channel references (R-159) fit them.
SHARED_SPAN_ATTRIBUTES = ("sh_dc", "log_scales")


def attr_payload(g: Gaussians, attr: str, config: PackConfig) -> dict:
    """The ``attr_section( )`` of one attribute, in the coding the config asks for (SPEC 11.7, 11.7.1)."""
    if attr == "rotations" and config.rotation_coding == "s3":  # SPEC 11.7.1, R-150
        largest, rest = smallest_three(g.rotations)
        return {"attribute_id": ROTATION_S3_ID, "largest_component": largest, "attribute": _block(attr, rest, config, largest)}
    if attr == "opacity_logits" and config.opacity_coding == "alpha":  # SPEC 11.7.1, R-151
        alpha = alpha_from_logits(g.opacity_logits).reshape(1, -1)
        return {"attribute_id": OPACITY_ALPHA_ID, "largest_component": None, "attribute": _block(attr, alpha, config)}
    values = getattr(g, attr).reshape(g.count, -1).T  # [C, N]; SH_REST: coefficient-major, channel-minor (SPEC 11.7)
    return {"attribute_id": ATTRIBUTE_IDS[attr], "largest_component": None, "attribute": _block(attr, values, config)}


def attr_values(payload, channels: int) -> tuple[str, np.ndarray]:
    """The Gaussians field and its values [N, C] an ATTR payload gives (SPEC 11.7, 11.7.1)."""
    values = decode_block(payload.attribute, channels)
    if payload.attribute_id == ROTATION_S3_ID:  # SPEC 11.7.1, R-150
        return "rotations", from_smallest_three(np.asarray(payload.largest_component), values)
    if payload.attribute_id == OPACITY_ALPHA_ID:  # SPEC 11.7.1, R-151: the model keeps logits
        return "opacity_logits", logits_from_alpha(values.T)
    return next(k for k, v in ATTRIBUTE_IDS.items() if v == payload.attribute_id), values.T


# ------------------------------------------------------------------------- neural sections
def mlp_payload(mlp: Mlp) -> dict:
    """The ``mlp( )`` syntax of an Mlp (SPEC 12.1)."""
    return {
        "mlp_layer_count": len(mlp.layers),
        "mlp_layers": [
            {
                "layer_in": layer.in_dims,
                "layer_out": layer.out_dims,
                "layer_activation": layer.activation_id,
                "layer_mask_flag": int(layer.mask is not None),
                "layer_mask": layer.mask_bits() if layer.mask is not None else None,
                "layer_weights": layer.stored_weights(),
                "layer_bias": layer.bias,
            }
            for layer in mlp.layers
        ],
    }


def mlp_from_payload(p) -> Mlp:
    """An Mlp from its parsed ``mlp( )`` (SPEC 12.1; masked-out weights are +0)."""
    return Mlp(
        [
            Dense.from_stored(x.layer_in, x.layer_out, ACTIVATIONS[x.layer_activation], x.layer_weights, x.layer_bias, x.layer_mask)
            for x in p.mlp_layers
        ]
    )


def _latent_payload(g: Gaussians, ids: tuple[int, ...], fit: FitConfig) -> dict:
    targets = {ATTRIBUTE_IDS[name]: getattr(g, name).reshape(g.count, -1) for name in ATTRIBUTE_IDS}
    lat = fit_latents(targets, ids, fit, sh_degree=g.sh_degree)
    return {
        "latent_attribute_count": len(ids),
        "latent_attribute_ids": list(ids),
        "latent_dims": lat.latent_dims,
        "latent_bits": lat.latent_bits,
        "latent_scale": lat.latent_scale,
        "latent_values": lat.stored_values().reshape(-1),
        "latent_decoder": mlp_payload(lat.mlp),
    }


def _offset_payload(desc: OffsetMlpDescriptor, mlp: Mlp) -> dict:
    return {
        "pe_frequencies": desc.pe_frequencies,
        "pe_include_input": int(desc.pe_include_input),
        "position_center": np.asarray(desc.position_center, np.float32),
        "position_scale": float(desc.position_scale),
        "offset_input_count": len(desc.inputs),
        "offset_inputs": [{"offset_semantic": i.semantic, "offset_encoding": OFFSET_ENCODINGS.index(i.encoding)} for i in desc.inputs],
        "output_mapping": OUTPUT_MAPPINGS.index(desc.output_mapping),
        "position_out_scale": float(desc.position_out_scale),
        "rotation_out_scale": float(desc.rotation_out_scale),
        "scale_out_scale": float(desc.scale_out_scale),
        "offset_network": mlp_payload(mlp),
    }


def _offset_from_payload(p, layout: dict[int, int]) -> tuple[OffsetMlpDescriptor, Mlp]:
    """SPEC 12.3: the descriptor (group dims from META's layout) and the network."""
    desc = OffsetMlpDescriptor(
        pe_frequencies=p.pe_frequencies,
        inputs=tuple(OffsetInput(i.offset_semantic, layout[i.offset_semantic], OFFSET_ENCODINGS[i.offset_encoding]) for i in p.offset_inputs),
        pe_include_input=bool(p.pe_include_input),
        position_center=np.asarray(p.position_center, np.float32),
        position_scale=float(p.position_scale),
        output_mapping=OUTPUT_MAPPINGS[p.output_mapping],
        position_out_scale=float(p.position_out_scale),
        rotation_out_scale=float(p.rotation_out_scale),
        scale_out_scale=float(p.scale_out_scale),
    )
    return desc, mlp_from_payload(p.offset_network)


def encode_avatar(avatar: Avatar, config: PackConfig | None = None) -> bytes:
    """The ``.fca`` file of ``avatar`` (SPEC chapter 11)."""
    config = config or PackConfig()
    sections = avatar_sections(avatar, config)
    level = config.level_idc if config.level_idc is not None else _pick_level(precondition(avatar, config), decode_usage(sections))
    return write_container(sections, level_idc=level, zstd_level=config.zstd_level)


# ------------------------------------------------------------------------------------ decoder
def _text(b: bytes) -> str:
    return b.decode("utf-8")


def _render(meta) -> RenderDefaults:
    c2w = np.eye(4, dtype=np.float32)
    c2w[:3] = np.asarray(meta.camera_to_world, np.float32).reshape(3, 4)
    return RenderDefaults(
        meta.render_width,
        meta.render_height,
        float(meta.focal_x),
        float(meta.focal_y),
        float(meta.principal_x),
        float(meta.principal_y),
        c2w,
        tuple(float(x) for x in meta.background),
    )


def _deformation(p) -> DeformationModel:
    """The model of a parsed DEFM or DEFS payload (SPEC 11.5.1, 11.5.3)."""
    v = p.vertex_count
    mesh = decoded_mesh(p)
    skeleton = None
    if p.skeleton is not None:
        s = p.skeleton
        j = s.joint_count

        def mat(rows) -> np.ndarray:
            out = np.zeros((j, 4, 4), np.float32)
            out[:, :3] = np.asarray(rows, np.float32).reshape(j, 3, 4)
            out[:, 3, 3] = 1.0
            return out

        skeleton = Skeleton(
            [_text(x.joint_name) for x in s.joints],
            np.array([x.joint_parent for x in s.joints], np.int32),
            mat([x.rest_local for x in s.joints]),
            mat([x.inverse_bind for x in s.joints]),
            np.asarray(s.vertex_joints, np.int32).reshape(4, v).T.copy(),
            (np.asarray(s.vertex_weights).reshape(4, v).T.astype(np.float32) / np.float32(WEIGHT_ONE)),
        )
    coeff = None
    if p.coeff_map is not None:
        cm = p.coeff_map
        coeff = CoefficientMap(
            semantic_name(cm.coeff_source),
            np.asarray(cm.coeff_matrix, np.float32).reshape(p.morph_count, cm.coeff_columns),
            None if cm.coeff_bias is None else np.asarray(cm.coeff_bias, np.float32),
        )
    drivers = {semantic_name(d.driver_semantic): skeleton.joint_names[d.driver_joint] for d in p.drivers}
    return DeformationModel(
        vertices=mesh.vertices,
        triangles=mesh.triangles,
        morphs=MorphTargets([_text(name) for name, _, _ in mesh.morphs], [i for _, i, _ in mesh.morphs], [d for _, _, d in mesh.morphs]),
        skeleton=skeleton,
        coeff_map=coeff,
        joint_drivers=drivers,
        head_pivot=np.asarray(p.head_pivot, np.float32),
    )


def avatar_from_container(parsed: ParsedContainer, release: bool = False) -> Avatar:
    """Build the in-memory avatar from parsed sections (SPEC 11.4-11.8).

    With ``release`` the TEXT payloads are dropped from ``parsed`` as their strings are made, so
    text is not held twice (as parsed bytes and as ``str``)."""
    meta = parsed.first(b"META").payload
    n = meta.gaussian_count
    g = Gaussians.empty(n, meta.sh_degree)
    seen = set()
    for sec in parsed.all(b"ATTR"):
        attr_id = sec.payload.attribute_id
        name, values = attr_values(sec.payload, attribute_channels(attr_id, meta.sh_degree))  # [N, C]
        setattr(g, name, np.ascontiguousarray(values.reshape(getattr(g, name).shape), dtype=np.float32))
        seen.add(attr_id)
    for sec in parsed.all(b"LATN"):  # SPEC 12.2, R-74, R-75 (tolerance tier)
        p = sec.payload
        lat = LatentAttributes(
            tuple(p.latent_attribute_ids),
            p.latent_bits,
            LatentAttributes.latents_from_stored(p.latent_values, p.latent_bits, n),
            np.asarray(p.latent_scale, np.float32),
            mlp_from_payload(p.latent_decoder),
            meta.sh_degree,
        )
        for attr_id, values in decode_latents(lat).items():
            if not np.all(np.isfinite(values)):  # SPEC 12.2, R-94: no NaN or infinity is passed on
                raise E_VALUE(
                    f"the latent decoder gives a value that is not finite for attribute {attr_id}",
                    field=f"section[{sec.index}]:LATN.latent_decoder",
                    bit_offset=8 * (sec.offset + SECTION_HEADER_BYTES),
                    section_index=sec.index,
                )
            name = next(k for k, v in ATTRIBUTE_IDS.items() if v == attr_id)
            setattr(g, name, np.ascontiguousarray(values.reshape(getattr(g, name).shape), dtype=np.float32))
    model = parsed.first(b"DEFM") or parsed.first(b"DEFS")  # at most one of them
    deformation = _deformation(model.payload) if model is not None else None
    binding = Binding()
    bind = parsed.first(b"BIND")
    if bind is not None and bind.payload.binding_mode != 0:
        p = bind.payload
        mode = {v: k for k, v in BINDING_IDS.items()}[p.binding_mode]
        bary = np.ascontiguousarray(decode_block(p.barycentric, 3).T) if p.barycentric is not None else None
        binding = Binding(mode, np.asarray(p.binding_index, np.int64), bary)
    metadata = {}
    for sec in parsed.all(b"TEXT"):
        for e in sec.payload.text_entries:
            metadata[_text(e.text_key)] = _text(e.text_value)
        if release:
            sec.payload = None
    layout = [(semantic_name(x.layout_semantic), x.layout_dims) for x in meta.layout_groups]
    omlp = parsed.first(b"OMLP")
    offset = _offset_from_payload(omlp.payload, {x.layout_semantic: x.layout_dims for x in meta.layout_groups}) if omlp is not None else None
    return Avatar(g, deformation, binding, layout, _render(meta), metadata, offset)


def decode_avatar(data: bytes) -> Avatar:
    """Read a ``.fca`` file into an Avatar; raises an FcError subclass for malformed input."""
    return avatar_from_container(read_container(data, keep_raw=False), release=True)  # nothing is held twice
