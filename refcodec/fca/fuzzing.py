"""Deterministic generation and mutation of ``.fca`` containers for fuzzing (``fcfuzz --kind fca``).

The same design as :mod:`refcodec.fcs.fuzzing`: everything is driven by a caller-supplied
:class:`random.Random`, so a (seed, index) pair reproduces an input exactly, and the contract
being fuzzed is SPEC 4.1: any input either decodes or raises a registered
:class:`refcodec.errors.FcError`, within the level's resources (SPEC 11.9).

- :func:`random_container`: valid seed containers with random contents (every section type,
  quantized and raw blocks, embedded and referenced models, skeletons, latents, offset MLPs,
  TEXT and unknown ancillary sections, stored and Zstandard payloads).
- :func:`split_container`, :func:`join_container`, :func:`fix_crcs`: the framing, read without
  any limit and written back with valid CRCs, so mutations reach the payload parsers instead of
  stopping at ``E_CRC``.
- :data:`MUTATORS`: payload bit and byte flips, forged counts and floats, section header and
  file header forgery, section shuffling and splicing, unknown sections, compression toggles,
  zstd bombs and TEXT entry floods; whole-file byte mutations from the stream fuzzer, re-framed.
- :func:`worst_cases` (in :mod:`refcodec.fca.worst_cases`) builds the most expensive file per level limit.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache

import numpy as np
import zstandard

from ..checksums import crc32
from ..errors import FcError
from ..fcs import fuzzing as stream_fuzzing
from ..spec_tables import attributes, canonical_dims, container_levels, group_semantics, referenced_models
from .compression import COMPRESSION_NONE, COMPRESSION_ZSTD
from .container import SectionToWrite, write_container
from .subdivision import subdivide
from .syntax import (
    CRITICAL_FLAG,
    FILE_HEADER_BYTES,
    RAW_F32_BITS,
    SECTION_HEADER_BYTES,
    attribute_channels,
)

Mutator = Callable[[random.Random, bytes, bytes], bytes]

#: Largest raw payload a mutator decompresses to edit it (bombs are built, never expanded).
EDIT_LIMIT = 1 << 20
#: The fuzz target covers inputs of at most 1 MiB; generators that add bulk stay within it.
MAX_INPUT_BYTES = 1 << 20


# -- valid seed containers --------------------------------------------------------------

def random_block(rng: random.Random, channels: int, count: int, scale: float = 1.0) -> dict:
    """A quantized block (SPEC 11.1.3) of random values: 1..16 bits or raw binary32."""
    nrng = np.random.default_rng(rng.getrandbits(32))
    if rng.random() < 0.2:
        return {"q_bits": RAW_F32_BITS, "q_min": None, "q_max": None,
                "q_values": (nrng.normal(0.0, scale, channels * count)).astype(np.float32)}
    bits = rng.randint(1, 16)
    lo = nrng.uniform(-scale, 0.0, channels).astype(np.float32)
    hi = (lo + nrng.uniform(0.0, 2 * scale, channels)).astype(np.float32)
    if rng.random() < 0.1:
        hi = lo.copy()  # constant channels
    q = nrng.integers(0, 1 << bits, channels * count, dtype=np.uint32).astype(np.uint16)
    form = rng.random()
    if form < 0.15:  # delta-coded samples (R-153): any stored value within the depth is valid
        return {"q_bits": 128 + bits, "q_min": lo, "q_max": hi, "q_values": q}
    if form < 0.3 and channels > 0:  # channel references (R-159): each channel refers to itself-or-earlier minus one
        refs = np.array([rng.randint(0, c) for c in range(channels)], np.uint8)
        return {"q_bits": 160 + bits, "q_min": lo, "q_max": hi, "q_channel_ref": refs, "q_values": q}
    return {"q_bits": bits, "q_min": lo, "q_max": hi, "q_values": q}


def random_mlp(rng: random.Random, in_dims: int, out_dims: int, max_layers: int = 3, max_width: int = 12) -> dict:
    """An ``mlp( )`` payload (SPEC 12.1): FP16 weights, optional pruning masks."""
    nrng = np.random.default_rng(rng.getrandbits(32))
    layers, width_in = [], in_dims
    count = rng.randint(1, max_layers)
    for i in range(count):
        width_out = out_dims if i == count - 1 else rng.randint(1, max_width)
        total = width_in * width_out
        mask = None
        stored = total
        if rng.random() < 0.3:
            bits = (nrng.random(total) < 0.6).astype(np.uint8)
            mask = np.packbits(np.concatenate([bits, np.zeros(-total % 8, np.uint8)])).tobytes()
            stored = int(bits.sum())
        layers.append({
            "layer_in": width_in,
            "layer_out": width_out,
            "layer_activation": rng.randrange(4),
            "layer_mask_flag": int(mask is not None),
            "layer_mask": mask,
            "layer_weights": nrng.normal(0, 0.5, stored).astype(np.float16),
            "layer_bias": nrng.normal(0, 0.1, width_out).astype(np.float16),
        })
        width_in = width_out
    return {"mlp_layer_count": count, "mlp_layers": layers}


def _meta(rng: random.Random, n: int, sh: int, layout: list[tuple[int, int]]) -> dict:
    return {
        "gaussian_count": n,
        "sh_degree": sh,
        "convention": 0,
        "meta_reserved_16bits": 0,
        "layout_group_count": len(layout),
        "layout_groups": [{"layout_semantic": s, "layout_dims": d} for s, d in layout],
        "render_width": rng.randint(1, 512),
        "render_height": rng.randint(1, 512),
        "focal_x": rng.uniform(1.0, 800.0),
        "focal_y": rng.uniform(1.0, 800.0),
        "principal_x": rng.uniform(-10.0, 500.0),
        "principal_y": rng.uniform(-10.0, 500.0),
        "camera_to_world": np.array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, rng.uniform(0.1, 3.0)], np.float32),
        "background": np.array([rng.random() for _ in range(3)], np.float32),
    }


def _text(entries: list[tuple[bytes, bytes]]) -> dict:
    return {
        "text_count": len(entries),
        "text_entries": [{"text_key_length": len(k), "text_key": k, "text_value_length": len(v), "text_value": v} for k, v in entries],
    }


_MORPH_NAMES = [b"jawOpen", b"eyeBlinkLeft", b"mouthClose", b"m", "é".encode()]


def _morph_items(rng: random.Random, nrng, size: int) -> dict:
    """Random sorted positions among ``size`` vertices and their deltas (SPEC 11.5.1, R-62)."""
    k = rng.randint(0, size)
    idx = np.sort(nrng.choice(size, k, replace=False))
    return {"morph_nnz": k, "morph_index_gaps": np.diff(np.concatenate([[-1], idx])) - 1, "morph_deltas": random_block(rng, 3, k, 0.01)}


def _defm(rng: random.Random, layout: list[tuple[int, int]]) -> dict:
    nrng = np.random.default_rng(rng.getrandbits(32))
    v, f = rng.randint(3, 24), rng.randint(1, 24)
    names = rng.sample(_MORPH_NAMES, rng.randint(0, 4))  # distinct (R-97)
    morphs = [{"morph_name_length": len(name), "morph_name": name} | _morph_items(rng, nrng, v) for name in names]
    return {
        "vertex_count": v,
        "triangle_count": f,
        "vertices": random_block(rng, 3, v, 0.1),
        "triangles": nrng.integers(0, v, 3 * f),
        "morph_count": len(morphs),
        "morphs": morphs,
    } | _model_tail(rng, nrng, layout, v, len(morphs))


def _defs(rng: random.Random, layout: list[tuple[int, int]]) -> tuple[dict, int, int]:
    """A random subdivided model (SPEC 11.5.3): base mesh, residual blocks and morph items per level; with
    the decoded vertex and triangle counts (R-154)."""
    nrng = np.random.default_rng(rng.getrandbits(32))
    v0, f0, levels = rng.randint(3, 12), rng.randint(1, 8), rng.randint(1, 2)
    base = nrng.integers(0, v0, 3 * f0)
    sub = subdivide(base.reshape(3, -1).T, v0, levels)
    sizes = sub.level_sizes()
    names = rng.sample(_MORPH_NAMES, rng.randint(0, 4))
    morphs = [{"morph_name_length": len(name), "morph_name": name, "morph_levels": [_morph_items(rng, nrng, n) for n in sizes]} for name in names]
    return {
        "base_vertex_count": v0,
        "base_triangle_count": f0,
        "subdivision_levels": levels,
        "base_vertices": random_block(rng, 3, v0, 0.1),
        "base_triangles": base,
        "vertex_residuals": [random_block(rng, 3, n, 0.001) for n in sizes[1:]],
        "morph_count": len(morphs),
        "morphs": morphs,
    } | _model_tail(rng, nrng, layout, sub.vertex_count, len(morphs)), sub.vertex_count, len(sub.triangles)


def _model_tail(rng: random.Random, nrng, layout: list[tuple[int, int]], v: int, morph_count: int) -> dict:
    """Skeleton, coefficient map, drivers and head pivot of a DEFM or DEFS payload of ``v`` vertices."""
    skeleton = None
    if rng.random() < 0.5:
        j = rng.randint(1, 3)
        eye = np.array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], np.float32)
        w0 = nrng.integers(0, 65536, v)
        weights = np.concatenate([w0, 65535 - w0, np.zeros(2 * v, np.int64)])
        skeleton = {
            "joint_count": j,
            "joints": [{"joint_name_length": 2, "joint_name": b"j%d" % i, "joint_parent": i - 1, "rest_local": eye, "inverse_bind": eye}
                       for i in range(j)],
            "vertex_joints": nrng.integers(0, j, 4 * v),
            "vertex_weights": weights,
        }
    coeff = None
    if layout and rng.random() < 0.5:
        sem, dims = rng.choice(layout)
        bias = rng.random() < 0.5
        coeff = {"coeff_source": sem, "coeff_columns": dims, "coeff_matrix": nrng.normal(0, 0.2, morph_count * dims).astype(np.float32),
                 "coeff_bias_flag": int(bias), "coeff_bias": nrng.normal(0, 0.1, morph_count).astype(np.float32) if bias else None}
    drivers = []
    if skeleton is not None:
        drivers = [{"driver_semantic": s, "driver_joint": rng.randrange(skeleton["joint_count"])} for s, d in layout if d == 3 and rng.random() < 0.7]
    return {
        "skeleton_flag": int(skeleton is not None),
        "skeleton": skeleton,
        "coeff_map_flag": int(coeff is not None),
        "coeff_map": coeff,
        "driver_count": len(drivers),
        "drivers": drivers,
        "head_pivot": nrng.normal(0, 0.05, 3).astype(np.float32),
    }


def _offset_mlp(rng: random.Random, layout: list[tuple[int, int]]) -> dict:
    inputs = [(s, 1 if d % 3 == 0 and rng.random() < 0.3 else 0) for s, d in rng.sample(layout, rng.randint(1, len(layout)))]
    freqs = rng.randint(0, 4)
    include = 1 if freqs == 0 else rng.randint(0, 1)
    dims = dict(layout)
    in_dims = 3 * (include + 2 * freqs) + sum(dims[s] * (2 if e else 1) for s, e in inputs)
    return {
        "pe_frequencies": freqs,
        "pe_include_input": include,
        "position_center": np.array([rng.uniform(-1, 1) for _ in range(3)], np.float32),
        "position_scale": rng.uniform(0.1, 10.0),
        "offset_input_count": len(inputs),
        "offset_inputs": [{"offset_semantic": s, "offset_encoding": e} for s, e in inputs],
        "output_mapping": rng.randint(0, 1),
        "position_out_scale": rng.uniform(0, 0.1),
        "rotation_out_scale": rng.uniform(0, 0.1),
        "scale_out_scale": rng.uniform(0, 0.1),
        "offset_network": random_mlp(rng, in_dims, 10, max_width=8),
    }


def _latents(rng: random.Random, n: int, ids: list[int], sh: int) -> dict:
    nrng = np.random.default_rng(rng.getrandbits(32))
    dims, bits = rng.randint(1, 8), rng.randint(1, 16)
    out_dims = sum(attribute_channels(a, sh) for a in ids)
    return {
        "latent_attribute_count": len(ids),
        "latent_attribute_ids": ids,
        "latent_dims": dims,
        "latent_bits": bits,
        "latent_scale": nrng.uniform(0.01, 2.0, dims).astype(np.float32),
        "latent_values": nrng.integers(0, 1 << bits, dims * n, dtype=np.uint32),
        "latent_decoder": random_mlp(rng, dims, out_dims),
    }


def random_layout(rng: random.Random) -> list[tuple[int, int]]:
    """Random distinct layout groups with their canonical (or random) dims."""
    sems = rng.sample(sorted(group_semantics()), rng.randint(0, 4))
    return [(s, canonical_dims(s) or rng.randint(1, 12)) for s in sems]


def random_container(rng: random.Random, level_idc: int = 10) -> bytes:
    """A valid ``.fca`` file with random contents (SPEC chapter 11, 12)."""
    n, sh = rng.randint(1, 48), rng.randint(0, 3)
    layout = random_layout(rng)
    z = lambda: rng.random() < 0.6  # noqa: E731 - per-section compression choice
    sections = [SectionToWrite(b"META", _meta(rng, n, sh, layout), compress=z())]
    if rng.random() < 0.3:
        entries = [(b"source", b"fuzz"), (b"licence", "CC0 ✓".encode()), (b"", b"")][: rng.randint(1, 3)]
        sections.append(SectionToWrite(b"TEXT", _text(entries), compress=z()))
    model = None
    kind = rng.random()
    if kind < 0.4:
        defm = _defm(rng, layout)
        model = (defm["vertex_count"], defm["triangle_count"])
        sections.append(SectionToWrite(b"DEFM", defm, compress=z()))
    elif kind < 0.5:  # SPEC 11.5.3
        defs, vertex_count, triangle_count = _defs(rng, layout)
        model = (vertex_count, triangle_count)
        sections.append(SectionToWrite(b"DEFS", defs, compress=z()))
    elif kind < 0.6:
        name = sorted(referenced_models())[0]
        info = referenced_models()[name]
        model = (info["vertices"], info["triangles"])
        sections.append(SectionToWrite(b"DEFR", {"model_name_length": len(name), "model_name": name.encode(), "model_sha256": rng.randbytes(32)},
                                       compress=z()))
    if model is not None and rng.random() < 0.8:
        mode = rng.choice([1, 2])
        limit = model[0] if mode == 1 else model[1]
        nrng = np.random.default_rng(rng.getrandbits(32))
        sections.append(SectionToWrite(b"BIND", {
            "binding_mode": mode,
            "binding_index": nrng.integers(0, limit, n),
            "barycentric": random_block(rng, 3, n) if mode == 2 else None,
        }, compress=z()))
    # the base attributes; a coding (SPEC 11.7.1, an id with `codes`) would give one of them twice
    with_channels = [a for a in sorted(attributes()) if attribute_channels(a, sh) and not attributes()[a].get("codes")]
    latent_ids = []
    if rng.random() < 0.3:
        latent_ids = sorted(rng.sample([a for a in with_channels if a != 0], rng.randint(1, len(with_channels) - 1)))
        sections.append(SectionToWrite(b"LATN", _latents(rng, n, latent_ids, sh), compress=z()))
    for a in with_channels:
        if a not in latent_ids:
            block = random_block(rng, attribute_channels(a, sh), n)
            sections.append(SectionToWrite(b"ATTR", {"attribute_id": a, "largest_component": None, "attribute": block}, compress=z()))
    if layout and rng.random() < 0.3:
        sections.append(SectionToWrite(b"OMLP", _offset_mlp(rng, layout), compress=z()))
    if rng.random() < 0.2:  # an unknown ancillary section anywhere after META (SPEC 11.3, R-56)
        sections.insert(rng.randint(1, len(sections)), SectionToWrite(b"XTRA", raw=rng.randbytes(rng.randint(0, 64)), compress=z(), critical=False))
    return write_container(sections, level_idc=level_idc, zstd_level=rng.choice([1, 3, 19]))


# -- framing ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RawSection:
    """A section as stored: header fields and the stored payload (no check applied)."""

    type: bytes
    flags: int
    compression: int
    stored: bytes
    raw_size: int
    reserved: int = 0
    stored_size: int | None = None  # None: len(stored)

    def frame(self) -> bytes:
        """Header (with a valid CRC over the header and payload) and payload."""
        size = len(self.stored) if self.stored_size is None else self.stored_size
        head = self.type + struct.pack("<BBHII", self.flags & 0xFF, self.compression & 0xFF, self.reserved, size & 0xFFFFFFFF,
                                       self.raw_size & 0xFFFFFFFF)
        return head + crc32(head + self.stored).to_bytes(4, "little") + self.stored


@dataclass(frozen=True)
class FileHeader:
    """The 16-byte file header's fields (SPEC 11.2)."""

    signature: bytes = b"FCA1"
    version: int = 1
    profile: int = 0
    level: int = 10
    reserved8: int = 0
    section_count: int | None = None  # None: the number of sections
    reserved16: int = 0

    def frame(self, count: int) -> bytes:
        n = count if self.section_count is None else self.section_count
        head = self.signature + struct.pack("<BBBBHH", self.version & 0xFF, self.profile & 0xFF, self.level & 0xFF, self.reserved8 & 0xFF,
                                            n & 0xFFFF, self.reserved16 & 0xFFFF)
        return head + crc32(head).to_bytes(4, "little")


def split_container(data: bytes) -> tuple[FileHeader, list[RawSection], bytes] | None:
    """The header, sections and trailing bytes of a file, or None when the framing is broken.

    No limit or CRC is checked; ``stored_size`` is taken as written.
    """
    if len(data) < FILE_HEADER_BYTES:
        return None
    sig, version, profile, level, r8, count, r16 = struct.unpack("<4sBBBBHH", data[:12])
    header = FileHeader(sig, version, profile, level, r8, None, r16)
    pos, sections = FILE_HEADER_BYTES, []
    for _ in range(count):
        if len(data) - pos < SECTION_HEADER_BYTES:
            return None
        kind, flags, comp, res, stored_size, raw_size = struct.unpack("<4sBBHII", data[pos : pos + 16])
        body = pos + SECTION_HEADER_BYTES
        if stored_size > len(data) - body:
            return None
        sections.append(RawSection(kind, flags, comp, data[body : body + stored_size], raw_size, res))
        pos = body + stored_size
    return header, sections, data[pos:]


def join_container(header: FileHeader, sections: list[RawSection], tail: bytes = b"") -> bytes:
    """A file of these sections: every CRC valid, ``section_count`` = len(sections) unless forged."""
    return header.frame(len(sections)) + b"".join(s.frame() for s in sections) + tail


def fix_crcs(data: bytes) -> bytes:
    """``data`` with the header CRC and every section CRC recomputed where the framing allows."""
    out = bytearray(data)
    if len(out) >= FILE_HEADER_BYTES:
        out[12:16] = crc32(bytes(out[:12])).to_bytes(4, "little")
        count = int.from_bytes(out[8:10], "little")
        pos = FILE_HEADER_BYTES
        for _ in range(count):
            if len(out) - pos < SECTION_HEADER_BYTES:
                break
            size = int.from_bytes(out[pos + 8 : pos + 12], "little")
            body = pos + SECTION_HEADER_BYTES
            if size > len(out) - body:
                break
            out[pos + 16 : pos + 20] = crc32(bytes(out[pos : pos + 16]) + bytes(out[body : body + size])).to_bytes(4, "little")
            pos = body + size
    return bytes(out)


def raw_payload(sec: RawSection) -> bytes | None:
    """The decompressed payload when it is small enough to edit (None otherwise or when corrupt)."""
    if sec.compression != COMPRESSION_ZSTD:
        return sec.stored
    if sec.raw_size > EDIT_LIMIT:
        return None
    try:
        with zstandard.ZstdDecompressor(max_window_size=1 << 27).stream_reader(sec.stored, read_across_frames=False) as reader:
            out = reader.read(EDIT_LIMIT + 1)
    except zstandard.ZstdError:
        return None
    return out if len(out) <= EDIT_LIMIT else None


def with_payload(sec: RawSection, raw: bytes, compression: int | None = None, content_size: bool = True) -> RawSection:
    """``sec`` holding ``raw``, stored or as one Zstandard frame; sizes consistent."""
    method = sec.compression if compression is None else compression
    if method == COMPRESSION_ZSTD:
        stored = zstandard.ZstdCompressor(level=3, write_content_size=content_size).compress(raw)
        return replace(sec, compression=COMPRESSION_ZSTD, stored=stored, raw_size=len(raw), stored_size=None)
    return replace(sec, compression=method, stored=raw, raw_size=len(raw), stored_size=None)


# -- mutators --------------------------------------------------------------------------

def _pick(rng: random.Random, data: bytes) -> tuple[FileHeader, list[RawSection], bytes, int] | None:
    parts = split_container(data)
    if parts is None or not parts[1]:
        return None
    return (*parts, rng.randrange(len(parts[1])))


def _edit_payload(rng: random.Random, data: bytes, edit: Callable[[random.Random, bytearray, bytes], bytearray]) -> bytes:
    """Apply ``edit`` to the raw payload of a random section; re-frame with valid sizes and CRCs."""
    picked = _pick(rng, data)
    if picked is None:
        return stream_fuzzing.bit_flip(rng, data, b"")
    header, sections, tail, i = picked
    raw = raw_payload(sections[i])
    if raw is None:
        return data
    sections[i] = with_payload(sections[i], bytes(edit(rng, bytearray(raw), sections[i].type)))
    return join_container(header, sections, tail)


def payload_bit_flip(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Flip 1..4 bits of one section's raw payload (recompressed, CRC fixed)."""

    def edit(rng, raw, kind):
        for _ in range(rng.randint(1, 4)):
            if raw:
                bit = rng.randrange(len(raw) * 8)
                raw[bit // 8] ^= 0x80 >> (bit % 8)
        return raw

    return _edit_payload(rng, data, edit)


def payload_resize(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Truncate, extend, insert into or delete from one section's raw payload."""

    def edit(rng, raw, kind):
        k = rng.randrange(4)
        at = rng.randrange(len(raw) + 1)
        if k == 0:
            return raw[:at]
        if k == 1:
            return raw + rng.randbytes(rng.randint(1, 8))
        if k == 2:
            return raw[:at] + rng.randbytes(rng.randint(1, 8)) + raw[at:]
        return raw[:at] + raw[at + rng.randint(1, 8) :]

    return _edit_payload(rng, data, edit)


def _count_values(rng: random.Random, width: int) -> int:
    top = (1 << (8 * width)) - 1
    lv = rng.choice(list(container_levels().values()))
    limits = [lv.max_gaussians, lv.max_vertices, lv.max_triangles, lv.max_morph_targets, lv.max_joints, lv.max_mlp_weights, 4096, 65535]
    limit = rng.choice(limits)
    return min(top, rng.choice([0, 1, 2, 3, 255, 256, 4096, 4097, top, top - 1, limit, limit + 1, rng.randrange(top + 1)]))


#: Byte offsets of the leading counts of each payload (SPEC 11.4-12.3) and their widths.
COUNT_FIELDS = {
    b"META": [(0, 4), (4, 1), (8, 1)],  # gaussian_count, sh_degree, layout_group_count
    b"DEFM": [(0, 4), (4, 4), (8, 1)],  # vertex_count, triangle_count, vertices.q_bits
    b"TEXT": [(0, 2), (2, 1)],  # text_count, first key length
    b"LATN": [(0, 1), (1, 1)],  # latent_attribute_count, first id
    b"BIND": [(0, 1)],
    b"ATTR": [(0, 1), (1, 1)],  # attribute_id, q_bits
    b"DEFR": [(0, 1)],
    b"OMLP": [(0, 1), (1, 1), (20, 1)],  # pe_frequencies, pe_include_input, offset_input_count
}


def forge_count(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Overwrite a count (a known leading one, or u8/u16/u32 anywhere) with a boundary value."""

    def edit(rng, raw, kind):
        fields = COUNT_FIELDS.get(kind, [])
        if fields and rng.random() < 0.5:
            at, width = rng.choice(fields)
        else:
            width = rng.choice([1, 2, 4])
            at = rng.randrange(len(raw) + 1)
        if at + width > len(raw):
            return raw
        raw[at : at + width] = _count_values(rng, width).to_bytes(width, "little")
        return raw

    return _edit_payload(rng, data, edit)


SPECIAL_F32 = [float("nan"), float("inf"), -float("inf"), 3.0e38, -3.0e38, 1.0e38, 2.0**-149, -0.0, 0.0, 65504.0, 1.0e-30]
SPECIAL_F16 = [0x7C00, 0xFC00, 0x7E00, 0x7BFF, 0xFBFF, 0x0001, 0x8000]


def forge_float(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Overwrite 4 (binary32) or 2 (binary16) bytes of a payload with NaN, infinity, huge or tiny values."""

    def edit(rng, raw, kind):
        if rng.random() < 0.7:
            if len(raw) < 4:
                return raw
            at = rng.randrange(len(raw) - 3)
            raw[at : at + 4] = struct.pack("<f", rng.choice(SPECIAL_F32))
        elif len(raw) >= 2:
            at = rng.randrange(len(raw) - 1)
            raw[at : at + 2] = rng.choice(SPECIAL_F16).to_bytes(2, "little")
        return raw

    return _edit_payload(rng, data, edit)


def forge_section_header(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Rewrite one section header field: sizes, type, flags, compression (CRC fixed)."""
    picked = _pick(rng, data)
    if picked is None:
        return data
    header, sections, tail, i = picked
    s = sections[i]
    k = rng.randrange(7)
    if k == 0:
        s = replace(s, raw_size=rng.choice([0, 1, s.raw_size - 1, s.raw_size + 1, 1 << 24, (1 << 24) + 1, 1 << 28, (1 << 32) - 1]))
    elif k == 1:
        s = replace(s, stored_size=rng.choice([0, len(s.stored) + 1, len(s.stored) - 1 if s.stored else 0, (1 << 32) - 1]))
    elif k == 2:
        kinds = [b"META", b"DEFM", b"DEFR", b"BIND", b"ATTR", b"LATN", b"OMLP", b"TEXT", b"ZZZZ", b"meta", b"\x00\x00\x00\x00"]
        s = replace(s, type=rng.choice(kinds))
    elif k == 3:
        s = replace(s, flags=s.flags ^ rng.choice([CRITICAL_FLAG, 0x80, 0xFE]))
    elif k == 4:
        s = replace(s, compression=rng.choice([0, 1, 2, 255]))
    elif k == 5:
        s = replace(s, reserved=rng.randrange(1 << 16))
    else:
        raw = raw_payload(s)
        if raw is not None:
            s = with_payload(s, raw, COMPRESSION_NONE if s.compression == COMPRESSION_ZSTD else COMPRESSION_ZSTD, content_size=rng.random() < 0.7)
    sections[i] = s
    return join_container(header, sections, tail)


def forge_file_header(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Rewrite a file header field: section_count, level, version, profile, signature (CRC fixed)."""
    parts = split_container(data)
    if parts is None:
        return fix_crcs(stream_fuzzing.byte_flip(rng, data, other))
    header, sections, tail = parts
    k = rng.randrange(5)
    if k == 0:
        header = replace(header, section_count=rng.choice([0, len(sections) - 1, len(sections) + 1, 16, 17, 64, 65, 255, 256, 65535]))
    elif k == 1:
        header = replace(header, level=rng.choice([0, 10, 20, 30, 31, 255]))
    elif k == 2:
        header = replace(header, version=rng.choice([0, 2, 255]))
    elif k == 3:
        header = replace(header, profile=rng.choice([1, 255]))
    else:
        header = replace(header, signature=rng.choice([b"FCS1", b"FCA2", b"\x00" * 4]))
    return join_container(header, sections, tail)


def shuffle_sections(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Drop, duplicate, swap or move sections (order rules, repeats, missing META or attributes)."""
    picked = _pick(rng, data)
    if picked is None:
        return data
    header, sections, tail, i = picked
    k = rng.randrange(4)
    if k == 0:
        del sections[i]
    elif k == 1:
        sections.insert(rng.randrange(len(sections) + 1), sections[i])
    elif k == 2:
        j = rng.randrange(len(sections))
        sections[i], sections[j] = sections[j], sections[i]
    else:
        sections.insert(rng.randrange(len(sections) + 1), sections.pop(i))
    return join_container(header, sections, tail)


def splice_sections(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Sections of ``other`` spliced into ``data`` (counts of one avatar, arrays of another)."""
    a, b = split_container(data), split_container(other)
    if a is None or b is None or not b[1]:
        return data
    header, sections, tail = a
    j = rng.randrange(len(b[1]))
    sections[rng.randrange(len(sections) + 1) : rng.randrange(len(sections) + 1)] = b[1][j : j + rng.randint(1, 3)]
    return join_container(header, sections, tail)


def insert_unknown_section(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """An unknown section (ancillary or critical), anywhere, including before META."""
    parts = split_container(data)
    if parts is None:
        return data
    header, sections, tail = parts
    raw = rng.randbytes(rng.randint(0, 256))
    sec = with_payload(RawSection(rng.choice([b"XTRA", b"ZZ99", b"Q000"]), rng.choice([0, 0, 0, CRITICAL_FLAG]), 0, b"", 0), raw,
                       rng.choice([COMPRESSION_NONE, COMPRESSION_ZSTD]))
    sections.insert(rng.randrange(len(sections) + 1), sec)
    return join_container(header, sections, tail)


@cache
def zstd_bomb_frame(raw_size: int, window_log: int | None = None, content_size: bool = True) -> bytes:
    """One Zstandard frame of ``raw_size`` zero bytes (a few KB even for hundreds of MB)."""
    params = zstandard.ZstdCompressionParameters.from_level(3, source_size=raw_size if content_size else 0, write_content_size=content_size,
                                                             **({"window_log": window_log} if window_log else {}))
    cctx = zstandard.ZstdCompressor(compression_params=params)
    chunk = bytes(1 << 20)
    out = cctx.compressobj(size=raw_size if content_size else -1)
    parts = []
    for start in range(0, raw_size, len(chunk)):
        parts.append(out.compress(chunk[: min(len(chunk), raw_size - start)]))
    parts.append(out.flush())
    return b"".join(parts)


def zstd_bomb(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """A section whose small Zstandard frame expands to up to the level's limits (or beyond its raw_size)."""
    parts = split_container(data)
    if parts is None:
        return data
    header, sections, tail = parts
    lv = container_levels().get(header.level, container_levels()[10])
    size = rng.choice([1 << 20, 1 << 22, lv.max_section_bytes, lv.max_section_bytes + 1, min(lv.max_section_bytes * 2, 1 << 29)])
    frame = zstd_bomb_frame(size, rng.choice([None, lv.max_zstd_window_log, lv.max_zstd_window_log + 1]), rng.random() < 0.7)
    declared = rng.choice([size, size, size - 1, 1 << 10, lv.max_section_bytes])
    if rng.random() < 0.2:
        frame += rng.choice([frame, b"\x00" * 4])  # a second frame, or trailing bytes
    if sections and rng.random() < 0.4:  # replace a known section's payload
        i = rng.randrange(len(sections))
        sections[i] = replace(sections[i], compression=COMPRESSION_ZSTD, stored=frame, raw_size=declared, stored_size=None)
    else:
        kind = rng.choice([b"XTRA", b"TEXT"])
        sec = RawSection(kind, 0, COMPRESSION_ZSTD, frame, declared)
        sections.insert(rng.randrange(len(sections) + 1), sec)
    return join_container(header, sections, tail)


@cache
def text_flood_payload(entries: int, key: bytes = b"", value: bytes = b"") -> bytes:
    """A TEXT payload of ``entries`` identical entries (SPEC 11.8): a count that costs per entry."""
    one = bytes([len(key)]) + key + len(value).to_bytes(2, "little") + value
    return entries.to_bytes(2, "little") + one * entries


def text_flood(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """TEXT sections of up to 65,535 entries each, stored or zstd (the count-forging generator for TEXT)."""
    parts = split_container(data)
    if parts is None:
        return data
    header, sections, tail = parts
    entries = rng.choice([65535, 65535, 20000, 4096])
    raw = text_flood_payload(entries, rng.choice([b"", b"k"]), rng.choice([b"", b"v"]))
    sec = with_payload(RawSection(b"TEXT", 0, 0, b"", 0), raw, rng.choice([COMPRESSION_NONE, COMPRESSION_ZSTD, COMPRESSION_ZSTD]))
    room = (MAX_INPUT_BYTES - len(data)) // (SECTION_HEADER_BYTES + len(sec.stored))
    for _ in range(min(rng.randint(1, 16), room)):
        sections.insert(rng.randint(min(1, len(sections)), len(sections)), sec)
    return join_container(header, sections, tail)


def _reframed(name: str) -> Mutator:
    """A whole-file byte mutator of the stream fuzzer, followed (mostly) by CRC repair."""
    inner = stream_fuzzing.MUTATORS[name]

    def mutator(rng: random.Random, data: bytes, other: bytes) -> bytes:
        out = inner(rng, data, other)
        return fix_crcs(out) if rng.random() < 0.85 else out

    mutator.__name__ = f"file_{name}"
    mutator.__doc__ = f"{inner.__doc__.splitlines()[0]} (whole file), then CRCs repaired (mostly)."
    return mutator


MUTATORS: dict[str, Mutator] = {
    "payload_bit_flip": payload_bit_flip,
    "payload_resize": payload_resize,
    "forge_count": forge_count,
    "forge_float": forge_float,
    "forge_section_header": forge_section_header,
    "forge_file_header": forge_file_header,
    "shuffle_sections": shuffle_sections,
    "splice_sections": splice_sections,
    "insert_unknown_section": insert_unknown_section,
    "zstd_bomb": zstd_bomb,
    "text_flood": text_flood,
    **{f"file_{n}": _reframed(n) for n in ("bit_flip", "byte_flip", "truncate", "insert_bytes", "delete_bytes")},
}

#: Mutators that make large (cheaply stored) inputs; drawn less often so the campaign stays fast.
HEAVY = {"zstd_bomb", "text_flood"}


def mutate(rng: random.Random, data: bytes, other: bytes = b"", max_steps: int = 3) -> tuple[bytes, list[str]]:
    """Apply 1..max_steps random mutators (heavy ones rarely); returns the input and the mutators' names."""
    names = []
    light = [n for n in MUTATORS if n not in HEAVY]
    for _ in range(rng.randint(1, max_steps)):
        name = rng.choice(sorted(HEAVY)) if rng.random() < 0.04 else rng.choice(light)
        data = MUTATORS[name](rng, data, other)
        names.append(name)
    return data, names


__all__ = [
    "COUNT_FIELDS",
    "EDIT_LIMIT",
    "FcError",
    "FileHeader",
    "HEAVY",
    "MAX_INPUT_BYTES",
    "MUTATORS",
    "Mutator",
    "RawSection",
    "fix_crcs",
    "join_container",
    "mutate",
    "random_block",
    "random_container",
    "random_layout",
    "random_mlp",
    "raw_payload",
    "split_container",
    "text_flood_payload",
    "with_payload",
    "zstd_bomb_frame",
]
