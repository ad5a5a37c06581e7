"""Container syntax: one construct declaration per structure, for reading and writing.

SPEC chapter 11; the element names and order equal SPEC.md's syntax tables and
``spec/syntax.toml`` (a test compares them). Parsing needs, as construct parameters, the
level limits (``level``) and what earlier sections declared (``meta``, ``defm``); see
:mod:`refcodec.fca.reader`.
"""

from __future__ import annotations

import numpy as np
from construct import (
    Bytes,
    Computed,
    Container,
    Float32l,
    If,
    IfThenElse,
    Int8ul,
    Int16sl,
    Int16ul,
    Int32ul,
    Struct,
    evaluate,
    this,
)

from ..errors import E_LAYOUT_MISMATCH, E_LEVEL, E_PADDING, E_PROFILE, E_RANGE, E_SECTION, E_SIGNATURE, E_VALUE, E_VERSION
from ..fcs.syntax import range_error
from ..quant import dequant_step, dequantize
from ..spec_tables import attributes, canonical_dims, container_levels, group_semantics, profiles, referenced_models
from .budget import Counted, budget_of
from .constructs import Checked, Derived, F16Array, F32Array, IndexedArray, Planes
from .subdivision import MAX_LEVELS as MAX_SUBDIVISION_LEVELS
from .subdivision import MorphTarget, positions, reconstruct_morph, reconstruct_vertices, subdivide

SIGNATURE = b"FCA1"
VERSION = 1
RAW_F32_BITS = 32  # q_bits value meaning "binary32 values stored as they are" (SPEC 11.1.3)
MAX_MLP_LAYERS = 8
ACTIVATIONS = ("none", "relu", "tanh", "sigmoid")


# ------------------------------------------------------------------------------ check helpers
def _level(ctx):
    return ctx._params.level


def _meta(ctx):
    return ctx._params.meta


def _defm(ctx):
    return ctx._params.defm


def _ok_if(cond, error, message):
    return None if cond else (error, message)


def _max(limit_name: str, error=E_LEVEL, minimum: int = 0):
    """Check ``minimum <= value <= level.<limit_name>``."""

    def check(v, ctx):
        limit = getattr(_level(ctx), limit_name)
        if v < minimum:
            return E_VALUE, f"{v} is below the minimum {minimum}"
        return _ok_if(v <= limit, error, f"{v} exceeds the level's {limit_name} {limit}")

    return check


def _one_of(allowed, error=E_VALUE):
    return lambda v, ctx: _ok_if(v in allowed, error, f"{v} is not one of {sorted(allowed)}")


def _finite(v, ctx):
    return _ok_if(bool(np.all(np.isfinite(v))), E_VALUE, "contains NaN or infinity")


def _utf8(v, ctx):
    try:
        v.decode("utf-8")
    except UnicodeDecodeError as exc:
        return E_VALUE, f"not UTF-8 ({exc.reason} at byte {exc.start})"
    return None


def index_width(limit: int) -> int:
    """Bytes per index into ``limit`` items: 2 when limit <= 65536, else 4 (SPEC 11.1.2)."""
    return 2 if limit <= 65536 else 4


def sample_width(bits: int) -> int:
    """Bytes per quantized sample of ``bits`` bits (SPEC 11.1.3)."""
    return 1 if bits <= 8 else 2


def attribute_channels(attribute_id: int, sh_degree: int) -> int:
    """Channels of a Gaussian attribute (SPEC 11.7); SH_REST has 3 x ((d+1)^2 - 1)."""
    channels = attributes()[attribute_id]["channels"]
    return 3 * ((sh_degree + 1) ** 2 - 1) if channels < 0 else channels


def _below(limit_fn, what):
    def check(v, ctx):
        limit = limit_fn(ctx)
        bad = np.flatnonzero(np.asarray(v) >= limit)
        return None if bad.size == 0 else (E_VALUE, f"element {bad[0]} is {int(v[bad[0]])}, not below the {what} {limit}")

    return check


# ------------------------------------------------------------------------- array descriptors
def planes(count, width) -> Counted:
    """``planes(n)`` (SPEC 11.1.2); its n values are charged to the level's max_decoded_values (R-91)."""
    return Counted(Planes(count, width), count)


def f32planes(count) -> Counted:
    """``f32planes(n)`` (SPEC 11.1.2), charged like :func:`planes`."""
    return Counted(F32Array(count), count)


def byte_string(length) -> Counted:
    """``b(n)`` inside a payload; its bytes are charged as ceil(n / 4) decoded values (SPEC 11.9, R-91)."""
    return Counted(Bytes(length), lambda ctx: (int(evaluate(length, ctx)) + 3) // 4)


def f16planes(count) -> Counted:
    """``f16planes(n)`` (SPEC 11.1.2), charged like :func:`planes`."""
    return Counted(F16Array(count), count)


# -------------------------------------------------------------------------- quantized block
def _both(first, second):
    return lambda v, ctx: first(v, ctx) or second(v, ctx)


DELTA_FLAG = 0x80  # q_bits 129..144: delta-coded samples of q_bits - 128 bits (SPEC 11.1.3, R-153)
CHANNEL_REF_FLAG = 0x20  # with DELTA_FLAG, q_bits 161..176: delta-coded with channel references


def level_bits(q_bits: int) -> int:
    """Bits per sample of a quantized block: ``q_bits``, ``q_bits - 128`` when delta-coded (SPEC 11.1.3, R-153)
    or ``q_bits - 160`` with channel references (R-159)."""
    return q_bits - 160 if has_channel_refs(q_bits) else q_bits - 128 if q_bits > 128 else q_bits


def has_channel_refs(q_bits: int) -> bool:
    """Whether a block of this ``q_bits`` carries ``q_channel_ref`` (161..176, SPEC 11.1.3, R-159)."""
    return q_bits >= 161


def undelta(stored: np.ndarray, channels: int, bits: int) -> np.ndarray:
    """SPEC 11.1.3, R-153: samples [C * N] from delta-coded ones. Per channel, d = unzigzag(r) and
    q[i] = (q[i-1] + d) mod 2^bits with q[-1] = 0 (integer arithmetic: every decoder agrees)."""
    r = np.asarray(stored, np.int64).reshape(channels, -1)
    d = np.where(r & 1, -((r + 1) >> 1), r >> 1)
    return (np.cumsum(d, axis=1) & ((1 << bits) - 1)).reshape(-1)  # a running sum mod 2^bits is the sum mod 2^bits


def add_channel_refs(differences: np.ndarray, refs, bits: int) -> np.ndarray:
    """SPEC 11.1.3, R-159: samples [C, N] from channel differences D [C, N]: in channel order,
    q[c] = D[c] when refs[c] is 0, else (q[refs[c] - 1] + D[c]) mod 2^bits."""
    q = np.array(differences, np.int64)
    for c, k in enumerate(refs):
        if k:
            q[c] = (q[int(k) - 1] + q[c]) & ((1 << bits) - 1)
    return q


def samples(block, channels: int) -> np.ndarray:
    """The integer samples [C * N] of a quantized (not raw) block: stored ones, or undone deltas (R-153)
    and channel references (R-159)."""
    q = np.asarray(block.q_values)
    if not block.q_bits & DELTA_FLAG:
        return q
    bits = level_bits(block.q_bits)
    d = undelta(q, channels, bits)
    if has_channel_refs(block.q_bits):
        d = add_channel_refs(d.reshape(channels, -1), block.q_channel_ref, bits).reshape(-1)
    return d


def _q_bits(v, ctx):
    ok = 1 <= v <= 16 or v == RAW_F32_BITS or 129 <= v <= 144 or 161 <= v <= 176
    return _ok_if(ok, E_VALUE, f"q_bits {v} is not 1..16, 32, 129..144 or 161..176")


def _q_channel_refs(v, ctx):
    bad = np.flatnonzero(np.asarray(v, np.int64) > np.arange(len(v)))
    return None if bad.size == 0 else (E_VALUE, f"channel {bad[0]} refers to channel {int(v[bad[0]]) - 1}, not an earlier one (R-159)")


def _q_ranges(v, ctx):
    bits = level_bits(ctx.q_bits)
    for c, (lo, hi) in enumerate(zip(ctx.q_min, v, strict=True)):
        why = range_error(float(lo), float(hi), bits)
        if why:
            return E_RANGE, f"channel {c}: {why}"
    return None


def _q_values(v, ctx):
    top = (1 << level_bits(ctx.q_bits)) - 1
    bad = np.flatnonzero(v > top)
    return None if bad.size == 0 else (E_VALUE, f"value {int(v[bad[0]])} at sample {bad[0]} exceeds {top} (R-57, R-153)")


def dequantized(block, channels: int) -> np.ndarray:
    """Values [C, N] float32 of a quantized block's context or Container (SPEC 11.1.3, R-58)."""
    if block.q_bits == RAW_F32_BITS:
        return np.asarray(block.q_values, np.float32).reshape(channels, -1)
    step = dequant_step(np.asarray(block.q_min, np.float32), np.asarray(block.q_max, np.float32), np.full(channels, level_bits(block.q_bits)))
    return dequantize(samples(block, channels).reshape(channels, -1), np.asarray(block.q_min, np.float32)[:, None], step[:, None])


def quantized_block(channels, count, values_check=None) -> Struct:
    """SPEC 11.1.3: ``channels`` x ``count`` values, quantized (1..16 bits) or raw binary32.

    ``channels`` and ``count`` are context functions of the enclosing structure;
    ``values_check(values, ctx)`` is an extra check of ``q_values`` (as :class:`Checked`).
    """
    n = lambda ctx: channels(ctx._) * count(ctx._)  # noqa: E731
    raw_check, q_check = _finite, _q_values
    if values_check is not None:
        raw_check, q_check = _both(_finite, values_check), _both(_q_values, values_check)
    channel_refs = If(lambda ctx: has_channel_refs(ctx.q_bits), Checked(planes(lambda ctx: channels(ctx._), 1), _q_channel_refs))
    channel_refs.flagbuildnone = True  # blocks without references may leave the key out
    return Struct(
        "q_bits" / Checked(Int8ul, _q_bits),
        "q_min" / If(this.q_bits != RAW_F32_BITS, f32planes(lambda ctx: channels(ctx._))),
        "q_max" / If(this.q_bits != RAW_F32_BITS, Checked(f32planes(lambda ctx: channels(ctx._)), _q_ranges)),
        "q_channel_ref" / channel_refs,
        "q_values"
        / IfThenElse(
            this.q_bits == RAW_F32_BITS,
            Checked(f32planes(n), raw_check),
            Checked(planes(n, lambda ctx: sample_width(level_bits(ctx.q_bits))), q_check),
        ),
    )


# ------------------------------------------------------------------------------ file framing
def _container_level(v, ctx):
    return _ok_if(v in container_levels(), E_LEVEL, f"level_idc {v} is not defined (allowed {sorted(container_levels())})")


def _section_count(v, ctx):
    limit = container_levels()[ctx.level_idc].max_sections
    return _ok_if(1 <= v <= limit, E_LEVEL if v else E_SECTION, f"section_count {v} is not 1..{limit}")


FILE_HEADER = Struct(  # SPEC 11.2, R-50..R-52
    "fca_signature" / Checked(Bytes(4), lambda v, ctx: _ok_if(v == SIGNATURE, E_SIGNATURE, f"{v!r} is not {SIGNATURE!r}")),
    "fca_version" / Checked(Int8ul, lambda v, ctx: _ok_if(v == VERSION, E_VERSION, f"version {v}, only {VERSION} is defined")),
    "profile_idc" / Checked(Int8ul, lambda v, ctx: _ok_if(v in profiles(), E_PROFILE, f"profile_idc {v} is not defined")),
    "level_idc" / Checked(Int8ul, _container_level),
    "fca_reserved_8bits" / Int8ul,
    "section_count" / Checked(Int16ul, _section_count),
    "fca_reserved_16bits" / Int16ul,
    "header_crc" / Int32ul,
)
FILE_HEADER_BYTES = 16


def _section_type(v, ctx):
    ok = all(48 <= c <= 57 or 65 <= c <= 90 for c in v)
    return _ok_if(ok, E_VALUE, f"section_type {v!r} is not four characters A-Z or 0-9")


def _raw_size(v, ctx):
    limit = _level(ctx).max_section_bytes
    if v > limit:
        return E_LEVEL, f"raw_size {v} exceeds the level's max_section_bytes {limit}"
    return _ok_if(
        ctx.compression != 0 or v == ctx.stored_size, E_VALUE, f"raw_size {v} differs from stored_size {ctx.stored_size} of a stored section"
    )


SECTION_HEADER = Struct(  # SPEC 11.2, R-53..R-55
    "section_type" / Checked(Bytes(4), _section_type),
    "section_flags" / Int8ul,
    "compression" / Checked(Int8ul, _one_of({0, 1})),
    "section_reserved_16bits" / Int16ul,
    "stored_size" / Int32ul,
    "raw_size" / Checked(Int32ul, _raw_size),
    "section_crc" / Int32ul,
)
SECTION_HEADER_BYTES = 20
CRITICAL_FLAG = 0x01


# ----------------------------------------------------------------------------------- META
def _distinct(name: str):
    """A check that the values of one array field are distinct (SPEC 11.4, 11.5.1, R-97)."""
    key = f"_seen_{name}"

    def check(v, ctx):
        if ctx._index == 0:  # construct arrays expose no earlier items while parsing
            ctx._[key] = set()
        seen = ctx._[key]
        if v in seen:
            return E_VALUE, f"{name} {v!r} appears twice"
        seen.add(v)
        return None

    return check


def _semantic(v, ctx):
    if v not in group_semantics():
        return E_VALUE, f"layout_semantic {v} is reserved"
    return _distinct("layout_semantic")(v, ctx)


MAX_RENDER_SIDE = 8192
MAX_RENDER_PIXELS = 1 << 24


def _render_width(v, ctx):
    """SPEC 11.4, R-97: the default image is one every renderer accepts (R-83)."""
    return _ok_if(1 <= v <= MAX_RENDER_SIDE, E_VALUE, f"{v} is not 1..{MAX_RENDER_SIDE}")


def _render_height(v, ctx):
    if not 1 <= v <= MAX_RENDER_SIDE:
        return E_VALUE, f"{v} is not 1..{MAX_RENDER_SIDE}"
    return _ok_if(ctx.render_width * v <= MAX_RENDER_PIXELS, E_VALUE, f"{ctx.render_width} x {v} exceeds {MAX_RENDER_PIXELS} pixels")


def _camera_pose(v, ctx):
    """SPEC 11.4, R-97: finite, and the 3x3 part a rotation (orthonormal within 1e-4, determinant > 0, in binary64)."""
    if not np.all(np.isfinite(v)):
        return E_VALUE, "contains NaN or infinity"
    r = np.asarray(v, np.float64).reshape(3, 4)[:, :3]
    ok = np.allclose(r.T @ r, np.eye(3), rtol=0.0, atol=1e-4) and np.linalg.det(r) > 0
    return _ok_if(bool(ok), E_VALUE, "the 3x3 part is not a rotation")


def _layout_dims(v, ctx):
    canon = canonical_dims(ctx.layout_semantic) if ctx.layout_semantic in group_semantics() else 0
    return _ok_if(v >= 1 and (canon == 0 or v == canon), E_VALUE, f"layout_dims {v} must be {canon or 'at least 1'}")


def _positive(v, ctx):
    return _ok_if(np.isfinite(v) and v > 0, E_VALUE, f"{v} is not a positive finite number")


META = Struct(  # SPEC 11.4, R-56..R-58, R-97
    "gaussian_count" / Checked(Int32ul, _max("max_gaussians", minimum=1)),
    "sh_degree" / Checked(Int8ul, _one_of({0, 1, 2, 3})),
    "convention" / Checked(Int8ul, _one_of({0})),
    "meta_reserved_16bits" / Int16ul,
    "layout_group_count" / Int8ul,
    "layout_groups"
    / IndexedArray(
        this.layout_group_count,
        Struct(
            "layout_semantic" / Checked(Int8ul, _semantic),
            "layout_dims" / Checked(Int16ul, _layout_dims),
        ),
    ),
    "render_width" / Checked(Int16ul, _render_width),
    "render_height" / Checked(Int16ul, _render_height),
    "focal_x" / Checked(Float32l, _positive),
    "focal_y" / Checked(Float32l, _positive),
    "principal_x" / Checked(Float32l, _finite),
    "principal_y" / Checked(Float32l, _finite),
    "camera_to_world" / Checked(f32planes(12), _camera_pose),
    "background" / Checked(f32planes(3), lambda v, ctx: _ok_if(bool(np.all((v >= 0) & (v <= 1))), E_VALUE, "must lie in [0, 1]")),
)


# ----------------------------------------------------------------------------------- TEXT
def _text_count(v, ctx):
    """SPEC 11.9, R-91: TEXT entries of all TEXT sections count against max_text_entries, before any is read."""
    budget = budget_of(ctx)
    why = budget.charge("max_text_entries", v) if budget is not None else None
    return None if why is None else (E_LEVEL, why)


TEXT = Struct(  # SPEC 11.8; read by every conforming decoder
    "text_count" / Checked(Int16ul, _text_count),
    "text_entries"
    / IndexedArray(
        this.text_count,
        Struct(
            "text_key_length" / Int8ul,
            "text_key" / Checked(byte_string(this.text_key_length), _utf8),
            "text_value_length" / Int16ul,
            "text_value" / Checked(byte_string(this.text_value_length), _utf8),
        ),
    ),
)


# ----------------------------------------------------------------------------------- DEFM
def _last_position(gaps: np.ndarray) -> int:
    """SPEC 11.5.1, R-62: idx[K-1] = sum of the gaps + K - 1 (-1 for no gap)."""
    return int(gaps.astype(np.int64).sum()) + len(gaps) - 1 if len(gaps) else -1


def _gaps(v, ctx):
    """SPEC 11.5.1, R-62: the last moved vertex is below vertex_count."""
    vc, last = ctx._.vertex_count, _last_position(v)
    return _ok_if(last < vc, E_VALUE, f"the gaps reach vertex {last}, not below vertex_count {vc}")


def _weights(v, ctx):
    vc = ctx._.vertex_count
    sums = v.astype(np.int64).reshape(4, vc).sum(axis=0)
    bad = np.flatnonzero(sums != 65535)
    return None if bad.size == 0 else (E_VALUE, f"the weights of vertex {bad[0]} sum to {sums[bad[0]]}, not 65535")


def _parent(v, ctx):
    j = ctx._index
    return _ok_if(-1 <= v < j, E_VALUE, f"joint_parent {v} of joint {j} is not -1 or an earlier joint")


def _layout_semantics(ctx) -> dict[int, int]:
    return {g.layout_semantic: g.layout_dims for g in _meta(ctx).layout_groups}


def _coeff_source(v, ctx):
    return _ok_if(v in _layout_semantics(ctx), E_LAYOUT_MISMATCH, f"coeff_source {v} is not a group of the layout")


def _coeff_columns(v, ctx):
    dims = _layout_semantics(ctx).get(ctx.coeff_source)
    return _ok_if(v == dims, E_VALUE, f"coeff_columns {v} differ from the group's {dims} dims")


def _driver_semantic(v, ctx):
    """SPEC 11.5.1, R-208: a META layout group with layout_dims 3, whatever its semantic."""
    return _ok_if(
        v in _layout_semantics(ctx) and _layout_semantics(ctx)[v] == 3, E_VALUE, f"driver_semantic {v} is not a 3-dimensional group of the layout"
    )


def _driver_joint(v, ctx):
    skel = ctx._.skeleton
    count = skel.joint_count if skel is not None else 0
    return _ok_if(v < count, E_VALUE, f"driver_joint {v} is not one of the {count} joints")


def _nnz(v, ctx):
    return _ok_if(v <= ctx._.vertex_count, E_VALUE, f"morph_nnz {v} exceeds vertex_count {ctx._.vertex_count}")


def _flag(v, ctx):
    return _ok_if(v in (0, 1), E_VALUE, f"flag {v} is not 0 or 1")


SKELETON = Struct(
    "joint_count" / Checked(Int8ul, _max("max_joints", minimum=1)),
    "joints"
    / IndexedArray(
        this.joint_count,
        Struct(
            "joint_name_length" / Int8ul,
            "joint_name" / Checked(byte_string(this.joint_name_length), _utf8),
            "joint_parent" / Checked(Int16sl, _parent),
            "rest_local" / Checked(f32planes(12), _finite),
            "inverse_bind" / Checked(f32planes(12), _finite),
        ),
    ),
    "vertex_joints" / Checked(planes(4 * this._.vertex_count, 1), _below(lambda ctx: ctx.joint_count, "joint_count")),
    "vertex_weights" / Checked(planes(4 * this._.vertex_count, 2), _weights),
)

def _model_tail() -> list:
    """The elements DEFM and DEFS share after the morph targets (SPEC 11.5.1, 11.5.3); they read
    the decoded ``vertex_count`` of their section."""
    return [
        "skeleton_flag" / Checked(Int8ul, _flag),
        "skeleton" / If(this.skeleton_flag == 1, SKELETON),
        "coeff_map_flag" / Checked(Int8ul, _flag),
        "coeff_map"
        / If(
            this.coeff_map_flag == 1,
            Struct(
                "coeff_source" / Checked(Int8ul, _coeff_source),
                "coeff_columns" / Checked(Int16ul, _coeff_columns),
                "coeff_matrix" / Checked(f32planes(lambda ctx: ctx._.morph_count * ctx.coeff_columns), _finite),
                "coeff_bias_flag" / Checked(Int8ul, _flag),
                "coeff_bias" / If(this.coeff_bias_flag == 1, Checked(f32planes(lambda ctx: ctx._.morph_count), _finite)),
            ),
        ),
        "driver_count" / Int8ul,
        "drivers"
        / IndexedArray(
            this.driver_count,
            Struct(
                "driver_semantic" / Checked(Int8ul, _driver_semantic),
                "driver_joint" / Checked(Int8ul, _driver_joint),
            ),
        ),
        "head_pivot" / Checked(f32planes(3), _finite),
    ]


DEFM = Struct(  # SPEC 11.5, R-59..R-63
    "vertex_count" / Checked(Int32ul, _max("max_vertices", minimum=3)),
    "triangle_count" / Checked(Int32ul, _max("max_triangles", minimum=1)),
    "vertices" / quantized_block(lambda ctx: 3, lambda ctx: ctx.vertex_count),
    "triangles"
    / Checked(planes(3 * this.triangle_count, lambda ctx: index_width(ctx.vertex_count)), _below(lambda ctx: ctx.vertex_count, "vertex_count")),
    "morph_count" / Checked(Int16ul, _max("max_morph_targets")),
    "morphs"
    / IndexedArray(
        this.morph_count,
        Struct(
            "morph_name_length" / Int8ul,
            "morph_name" / Checked(byte_string(this.morph_name_length), _both(_utf8, _distinct("morph_name"))),
            "morph_nnz" / Checked(Int32ul, _nnz),
            "morph_index_gaps" / Checked(planes(this.morph_nnz, lambda ctx: index_width(ctx._.vertex_count)), _gaps),
            "morph_deltas" / quantized_block(lambda ctx: 3, lambda ctx: ctx.morph_nnz),
        ),
    ),
    *_model_tail(),
)


# ----------------------------------------------------------------------------------- DEFS
def _subdivision_levels(v, ctx):
    """SPEC 11.5.3, R-154: 1..4 levels whose triangles fit the level; the derived indices are charged (R-157)."""
    if not 1 <= v <= MAX_SUBDIVISION_LEVELS:
        return E_VALUE, f"subdivision_levels {v} is not 1..{MAX_SUBDIVISION_LEVELS}"
    triangles, limit = ctx.base_triangle_count * 4**v, _level(ctx).max_triangles
    if triangles > limit:
        return E_LEVEL, f"{ctx.base_triangle_count} base triangles subdivided {v} times make {triangles}, over the level's max_triangles {limit}"
    budget = budget_of(ctx)
    why = budget.charge("max_decoded_values", 3 * (triangles - ctx.base_triangle_count)) if budget is not None else None
    return None if why is None else (E_LEVEL, why)


def _base_triangles(v, ctx):
    """SPEC 11.5.3: indices below base_vertex_count; the subdivided mesh's vertex count within the level (R-154)."""
    why = _below(lambda c: c.base_vertex_count, "base_vertex_count")(v, ctx)
    if why:
        return why
    sub = subdivide(np.asarray(v, np.int64).reshape(3, -1).T, ctx.base_vertex_count, ctx.subdivision_levels)
    ctx["_subdivision"] = sub  # read back by the Computed element "subdivision": computed once, when parsing and building
    limit = _level(ctx).max_vertices
    return _ok_if(sub.vertex_count <= limit, E_LEVEL, f"the subdivided mesh has {sub.vertex_count} vertices, over the level's max_vertices {limit}")


def _level_size(ctx) -> int:
    """Items of level ``l`` (the index of the morph level being read): V_0, then n_1 .. n_L (R-154)."""
    return ctx._._.subdivision.level_sizes()[ctx._index]


def _level_nnz(v, ctx):
    size = _level_size(ctx)
    return _ok_if(v <= size, E_VALUE, f"morph_nnz {v} exceeds the {size} vertices of level {ctx._index}")


def _level_gaps(v, ctx):
    """SPEC 11.5.3, R-156: the last position is below the level's vertex count."""
    size, last = _level_size(ctx), _last_position(v)
    return _ok_if(last < size, E_VALUE, f"the gaps reach position {last}, not below the {size} vertices of level {ctx._index}")


def _dense_morphs(v, ctx):
    """SPEC 11.5.3, R-157: every morph target of a DEFS section is charged as 3 x vertex_count decoded values."""
    why = _max("max_morph_targets")(v, ctx)
    if why:
        return why
    budget = budget_of(ctx)
    charge = budget.charge("max_decoded_values", 3 * v * ctx.vertex_count) if budget is not None else None
    return None if charge is None else (E_LEVEL, charge)


def _defs_vertices(ctx) -> np.ndarray:
    """SPEC 11.5.3, R-155: the decoded [V, 3] vertices (derived while parsing, so nothing re-derives them)."""
    residuals = [dequantized(r, 3).T for r in ctx.vertex_residuals]
    return reconstruct_vertices(ctx.subdivision, dequantized(ctx.base_vertices, 3).T, residuals)


def _defs_morph(ctx) -> MorphTarget:
    """SPEC 11.5.3, R-156: one decoded morph target (indices, [K, 3] deltas)."""
    items = [(positions(x.morph_index_gaps), dequantized(x.morph_deltas, 3).T) for x in ctx.morph_levels]
    return reconstruct_morph(ctx._.subdivision, items)


def _finite_rows(what: str):
    """SPEC 11.5.3, R-158: every decoded vertex or displacement is finite (a binary32 sum can overflow)."""

    def check(v, ctx):
        values, vertices = (v.deltas, v.indices) if isinstance(v, MorphTarget) else (v, None)
        bad = np.flatnonzero(~np.all(np.isfinite(values), axis=1))
        if bad.size == 0:
            return None
        index = bad[0] if vertices is None else vertices[bad[0]]
        return E_VALUE, f"the {what} of vertex {index} overflows binary32"

    return check


DEFS = Struct(  # SPEC 11.5.3, R-154..R-158
    "base_vertex_count" / Checked(Int32ul, _max("max_vertices", minimum=3)),
    "base_triangle_count" / Checked(Int32ul, _max("max_triangles", minimum=1)),
    "subdivision_levels" / Checked(Int8ul, _subdivision_levels),
    "base_vertices" / quantized_block(lambda ctx: 3, lambda ctx: ctx.base_vertex_count),
    "base_triangles"
    / Checked(planes(3 * this.base_triangle_count, lambda ctx: index_width(ctx.base_vertex_count)), _base_triangles),
    "subdivision" / Computed(lambda ctx: ctx._subdivision),
    "vertex_count" / Computed(lambda ctx: ctx.subdivision.vertex_count),
    "triangle_count" / Computed(lambda ctx: len(ctx.subdivision.triangles)),
    "vertex_residuals"
    / IndexedArray(this.subdivision_levels, quantized_block(lambda ctx: 3, lambda ctx: len(ctx.subdivision.parents[ctx._index]))),
    "decoded_vertices" / Checked(Derived(_defs_vertices), _finite_rows("position")),
    "morph_count" / Checked(Int16ul, _dense_morphs),
    "morphs"
    / IndexedArray(
        this.morph_count,
        Struct(
            "morph_name_length" / Int8ul,
            "morph_name" / Checked(byte_string(this.morph_name_length), _both(_utf8, _distinct("morph_name"))),
            "morph_levels"
            / IndexedArray(
                this._.subdivision_levels + 1,
                Struct(
                    "morph_nnz" / Checked(Int32ul, _level_nnz),
                    "morph_index_gaps" / Checked(planes(this.morph_nnz, lambda ctx: index_width(ctx._._.vertex_count)), _level_gaps),
                    "morph_deltas" / quantized_block(lambda ctx: 3, lambda ctx: ctx.morph_nnz),
                ),
            ),
            "decoded_morph" / Checked(Derived(_defs_morph), _finite_rows("displacement")),
        ),
    ),
    *_model_tail(),
)


# ----------------------------------------------------------------------------------- DEFR
def _model_name(v, ctx):
    why = _utf8(v, ctx)
    if why:
        return why
    return _ok_if(v.decode("utf-8") in referenced_models(), E_VALUE, f"model {v!r} is not registered ({sorted(referenced_models())})")


DEFR = Struct(  # SPEC 11.5.2, R-64
    "model_name_length" / Int8ul,
    "model_name" / Checked(byte_string(this.model_name_length), _model_name),
    "model_sha256" / byte_string(32),
)


# ----------------------------------------------------------------------------------- BIND
def _binding_limit(ctx) -> int:
    d = _defm(ctx)
    return d.vertex_count if ctx.binding_mode == 1 else d.triangle_count


def _binding_mode(v, ctx):
    if v not in (0, 1, 2):
        return E_VALUE, f"binding_mode {v} is not 0, 1 or 2"
    return _ok_if(v == 0 or _defm(ctx) is not None, E_SECTION, f"binding_mode {v} needs a DEFM or DEFR section before BIND")


BIND = Struct(  # SPEC 11.6, R-65, R-66
    "binding_mode" / Checked(Int8ul, _binding_mode),
    "binding_index"
    / If(
        this.binding_mode != 0,
        Checked(
            planes(lambda ctx: _meta(ctx).gaussian_count, lambda ctx: index_width(_binding_limit(ctx))),
            _below(_binding_limit, "vertex or triangle count"),
        ),
    ),
    "barycentric" / If(this.binding_mode == 2, quantized_block(lambda ctx: 3, lambda ctx: _meta(ctx).gaussian_count)),
)


# ----------------------------------------------------------------------------------- ATTR
def _attribute_id(v, ctx):
    if v not in attributes():
        return E_VALUE, f"attribute_id {v} is not registered"
    return _ok_if(attribute_channels(v, _meta(ctx).sh_degree) > 0, E_VALUE, f"attribute {v} has no channels at sh_degree {_meta(ctx).sh_degree}")


def _rotations_not_zero(v, ctx):
    """SPEC 11.7, R-93: no decoded ROTATION quaternion is (0, 0, 0, 0) (it has no direction to normalise)."""
    if ctx._.attribute_id != ROTATION_ID:
        return None
    values = dequantized(_with_values(ctx, v), 4)
    zero = np.flatnonzero(~np.any(values != 0, axis=0))
    return None if zero.size == 0 else (E_VALUE, f"the quaternion of Gaussian {zero[0]} is (0, 0, 0, 0)")


def _with_values(ctx, values):
    """The block's context fields with ``q_values`` (checks run before construct stores the value)."""
    return Container(q_bits=ctx.q_bits, q_min=ctx.get("q_min"), q_max=ctx.get("q_max"), q_channel_ref=ctx.get("q_channel_ref"), q_values=values)


ROTATION_ID = 3
ROTATION_S3_ID = 6  # SPEC 11.7.1, R-150
OPACITY_ALPHA_ID = 7  # SPEC 11.7.1, R-151


def _alpha_in_unit_range(v, ctx):
    """SPEC 11.7.1, R-151: every decoded OPACITY_ALPHA value lies in [0, 1]."""
    if ctx._.attribute_id != OPACITY_ALPHA_ID:
        return None
    values = dequantized(_with_values(ctx, v), 1)
    bad = np.flatnonzero(~((values >= 0) & (values <= 1)).reshape(-1))
    return None if bad.size == 0 else (E_VALUE, f"the opacity of Gaussian {bad[0]} is {float(values.reshape(-1)[bad[0]])}, not in [0, 1]")


ATTR = Struct(  # SPEC 11.7, R-67, R-93, R-150..R-152
    "attribute_id" / Checked(Int8ul, _attribute_id),
    "largest_component"
    / If(
        this.attribute_id == ROTATION_S3_ID,
        Checked(planes(lambda ctx: _meta(ctx).gaussian_count, 1), _below(lambda ctx: 4, "component count")),
    ),
    "attribute"
    / quantized_block(
        lambda ctx: attribute_channels(ctx.attribute_id, _meta(ctx).sh_degree),
        lambda ctx: _meta(ctx).gaussian_count,
        _both(_rotations_not_zero, _alpha_in_unit_range),
    ),
)


# ------------------------------------------------------------------------------- MLP (12.1)
ACTIVATIONS = ("none", "relu", "tanh", "sigmoid")
MAX_MLP_LAYERS = 8
MAX_LAYER_WIDTH = 4096


def _layer_count(v, ctx):
    return _ok_if(1 <= v <= MAX_MLP_LAYERS, E_VALUE, f"mlp_layer_count {v} is not 1..{MAX_MLP_LAYERS}")


def _layer_in(v, ctx):
    """SPEC 12.1, R-70: layer 0 takes the MLP's input; layer l takes layer l-1's output."""
    if not 1 <= v <= MAX_LAYER_WIDTH:
        return E_VALUE, f"layer_in {v} is not 1..{MAX_LAYER_WIDTH}"
    if ctx._index == 0:  # running totals live in the MLP's context: construct arrays expose no earlier items while parsing
        ctx._["_mlp_prev_out"], ctx._["_mlp_weights"] = ctx._.mlp_input_dims, 0
    expected = ctx._["_mlp_prev_out"]
    return _ok_if(v == expected, E_VALUE, f"layer_in {v} differs from the {expected} values feeding layer {ctx._index}")


def _layer_out(v, ctx):
    """SPEC 12.1, R-70, R-68: widths, the final output size, and the level's weight budget."""
    if not 1 <= v <= MAX_LAYER_WIDTH:
        return E_VALUE, f"layer_out {v} is not 1..{MAX_LAYER_WIDTH}"
    if ctx._index == ctx._.mlp_layer_count - 1 and v != ctx._.mlp_output_dims:
        return E_VALUE, f"the last layer gives {v} values, the MLP must give {ctx._.mlp_output_dims}"
    used = ctx._["_mlp_weights"] + ctx.layer_in * v  # SPEC 12.1, R-207: per MLP, dense in x out, biases apart
    ctx._["_mlp_prev_out"], ctx._["_mlp_weights"] = v, used
    limit = _level(ctx).max_mlp_weights
    if used > limit:
        return E_LEVEL, f"{used} weights exceed the level's max_mlp_weights {limit}"
    budget = budget_of(ctx)
    if budget is None:  # the writer's checks (build_payload) run without a budget
        return None
    n = _meta(ctx).gaussian_count  # SPEC 11.9, R-91, R-92: activations first, then (latent decoders) multiply-adds
    why = budget.activations(n * max(ctx.layer_in, v))
    if why is None and "latent_dims" in ctx._._:  # a LATN decoder runs once per Gaussian at decode time
        why = budget.charge("max_latent_macs", n * ctx.layer_in * v)
    return None if why is None else (E_LEVEL, why)


def mask_count(ctx) -> int:
    """Stored weights of a layer: the set bits of its mask, or in x out without one (SPEC 12.1)."""
    if ctx.layer_mask_flag:
        bits = np.unpackbits(np.frombuffer(ctx.layer_mask, np.uint8))[: ctx.layer_in * ctx.layer_out]
        return int(bits.sum())
    return ctx.layer_in * ctx.layer_out


def _mask_padding(v, ctx):
    used = ctx.layer_in * ctx.layer_out
    spare = np.unpackbits(np.frombuffer(v, np.uint8))[used:]
    return _ok_if(not spare.any(), E_PADDING, "mask bits past in x out are not zero")


MLP_LAYER = Struct(
    "layer_in" / Checked(Int16ul, _layer_in),
    "layer_out" / Checked(Int16ul, _layer_out),
    "layer_activation" / Checked(Int8ul, _one_of(set(range(len(ACTIVATIONS))))),
    "layer_mask_flag" / Checked(Int8ul, _flag),
    "layer_mask" / If(this.layer_mask_flag == 1, Checked(byte_string(lambda ctx: (ctx.layer_in * ctx.layer_out + 7) // 8), _mask_padding)),
    "layer_weights" / Checked(f16planes(mask_count), _finite),
    "layer_bias" / Checked(f16planes(this.layer_out), _finite),
)


def mlp(input_dims, output_dims) -> Struct:
    """SPEC 12.1: a dense MLP of FP16 weights; ``input_dims``/``output_dims`` are context functions."""
    return Struct(
        "mlp_input_dims" / Computed(lambda ctx: input_dims(ctx._)),
        "mlp_output_dims" / Computed(lambda ctx: output_dims(ctx._)),
        "mlp_layer_count" / Checked(Int8ul, _layer_count),
        "mlp_layers" / IndexedArray(this.mlp_layer_count, MLP_LAYER),
    )


# ---------------------------------------------------------------------------- LATN (12.2)
MAX_LATENT_DIMS = 64


def _latent_ids(v, ctx):
    """SPEC 12.2, R-72: registered, distinct, not POSITION, with channels at this SH degree."""
    ids = list(v)
    if len(set(ids)) != len(ids) or any(a not in attributes() or a == 0 or "codes" in attributes()[a] for a in ids):
        return E_VALUE, f"{ids} are not distinct registered non-position attribute ids (codings excluded, R-152)"
    empty = [a for a in ids if attribute_channels(a, _meta(ctx).sh_degree) == 0]
    return _ok_if(not empty, E_VALUE, f"attribute {empty[:1]} has no channels at sh_degree {_meta(ctx).sh_degree}")


def latent_output_dims(ctx) -> int:
    """Decoder outputs: the channels of the listed attributes (SPEC 12.2)."""
    return sum(attribute_channels(a, _meta(ctx).sh_degree) for a in ctx.latent_attribute_ids)


def _latent_values(v, ctx):
    """SPEC 12.2, R-72, R-94: samples fit latent_bits, and every decoder input f32(latent) x scale is finite."""
    # latent_dims >= 1 and gaussian_count >= 1 (SPEC 11.4, 12.2): the array is never empty
    if int(v.max()) >= 1 << ctx.latent_bits:
        return E_VALUE, f"a sample exceeds 2^{ctx.latent_bits} - 1"
    per_dim = v.reshape(ctx.latent_dims, -1)
    offset = 1 << (ctx.latent_bits - 1)
    extremes = np.stack([per_dim.min(axis=1), per_dim.max(axis=1)]).astype(np.int64) - offset  # |x| is largest at an extreme latent
    with np.errstate(over="ignore"):
        inputs = extremes.astype(np.float32) * np.asarray(ctx.latent_scale, np.float32)
    bad = np.flatnonzero(~np.all(np.isfinite(inputs), axis=0))
    return None if bad.size == 0 else (E_VALUE, f"latent dimension {bad[0]} times its latent_scale overflows binary32")


LATN = Struct(  # SPEC 12.2, R-72..R-75, R-94
    "latent_attribute_count" / Checked(Int8ul, lambda v, ctx: _ok_if(1 <= v <= len(attributes()), E_VALUE, f"{v} is not 1..{len(attributes())}")),
    "latent_attribute_ids" / Checked(IndexedArray(this.latent_attribute_count, Int8ul), _latent_ids),
    "latent_dims" / Checked(Int8ul, lambda v, ctx: _ok_if(1 <= v <= MAX_LATENT_DIMS, E_VALUE, f"latent_dims {v} is not 1..{MAX_LATENT_DIMS}")),
    "latent_bits" / Checked(Int8ul, lambda v, ctx: _ok_if(1 <= v <= 16, E_VALUE, f"latent_bits {v} is not 1..16")),
    "latent_scale" / Checked(f32planes(this.latent_dims), _finite),
    "latent_values"  # 1-byte samples up to 8 bits, else 2
    / Checked(planes(lambda ctx: ctx.latent_dims * _meta(ctx).gaussian_count, lambda ctx: sample_width(ctx.latent_bits)), _latent_values),
    "latent_decoder" / mlp(lambda ctx: ctx.latent_dims, latent_output_dims),
)


# ---------------------------------------------------------------------------- OMLP (12.3)
MAX_PE_FREQUENCIES = 16
OFFSET_OUTPUTS = 10
OFFSET_ENCODINGS = ("values", "rot6d")
OUTPUT_MAPPINGS = ("additive", "flashavatar")


def _offset_semantic(v, ctx):
    """SPEC 12.3, R-76: a layout group, listed once."""
    dims = _layout_semantics(ctx)
    if v not in dims:
        return E_LAYOUT_MISMATCH, f"offset_semantic {v} is not a group of the avatar's layout"
    if ctx._index == 0:  # construct arrays expose no earlier items while parsing
        ctx._["_offset_seen"] = set()
    seen = ctx._["_offset_seen"]
    if v in seen:  # a repeat is E_VALUE (the section's own defect), not E_LAYOUT_MISMATCH
        return E_VALUE, f"offset_semantic {v} is listed twice"
    seen.add(v)
    return None


def _offset_encoding(v, ctx):
    if v not in (0, 1):
        return E_VALUE, f"offset_encoding {v} is not 0 or 1"
    dims = _layout_semantics(ctx)[ctx.offset_semantic]
    return _ok_if(v == 0 or dims % 3 == 0, E_VALUE, f"rot6d needs a multiple of 3 dims, the group has {dims}")


def _pe_include(v, ctx):
    if v not in (0, 1):
        return E_VALUE, f"pe_include_input {v} is not 0 or 1"
    return _ok_if(v == 1 or ctx.pe_frequencies >= 1, E_VALUE, "the positional encoding is empty (no frequencies, no input)")


def offset_input_dims(ctx) -> int:
    """SPEC 12.3, R-76: D = 3 (pe_include_input + 2F) + sum of the groups' widths."""
    dims = _layout_semantics(ctx)
    groups = sum(dims[g["offset_semantic"]] * (2 if g["offset_encoding"] == 1 else 1) for g in ctx.offset_inputs)
    return 3 * (ctx.pe_include_input + 2 * ctx.pe_frequencies) + groups


def _finite_scalar(v, ctx):
    return _ok_if(bool(np.isfinite(v)), E_VALUE, f"{v} is not finite")


OMLP = Struct(  # SPEC 12.3, R-76..R-78
    "pe_frequencies" / Checked(Int8ul, lambda v, ctx: _ok_if(v <= MAX_PE_FREQUENCIES, E_VALUE, f"{v} is not 0..{MAX_PE_FREQUENCIES}")),
    "pe_include_input" / Checked(Int8ul, _pe_include),
    "position_center" / Checked(f32planes(3), _finite),
    "position_scale" / Checked(Float32l, _finite_scalar),
    "offset_input_count" / Int8ul,
    "offset_inputs"
    / IndexedArray(
        this.offset_input_count,
        Struct(
            "offset_semantic" / Checked(Int8ul, _offset_semantic),
            "offset_encoding" / Checked(Int8ul, _offset_encoding),
        ),
    ),
    "output_mapping" / Checked(Int8ul, _one_of({0, 1})),
    "position_out_scale" / Checked(Float32l, _finite_scalar),
    "rotation_out_scale" / Checked(Float32l, _finite_scalar),
    "scale_out_scale" / Checked(Float32l, _finite_scalar),
    "offset_network" / mlp(offset_input_dims, lambda ctx: OFFSET_OUTPUTS),
)
