"""Crafted worst cases: for every container level limit, the most expensive file the level allows.

Each builder writes the payload bytes directly from the syntax of SPEC 11.2-12.2 (not through
the reference writer, so that a limit the writer refuses can still be crafted) and compresses
long runs of equal bytes with Zstandard as a stream, so a file that declares hundreds of MiB
is built in little memory and is a few KB long. ``fcfuzz --worst-cases`` decodes each one alone
in a fresh interpreter and reports its CPU time and peak memory (bench/fuzz_report.md).

A payload is a list of segments: ``bytes`` or :class:`Fill` (a byte pattern repeated).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import zstandard

from ..spec_tables import ContainerLevel, container_levels
from .fuzzing import FileHeader, RawSection, join_container
from .syntax import MAX_LATENT_DIMS, MAX_LAYER_WIDTH, attribute_channels, index_width

CHUNK = 1 << 20
DECODED_MARGIN = 4096  # decoded values left for the small arrays and names a builder does not count exactly


@dataclass(frozen=True)
class Fill:
    """``count`` repetitions of ``pattern``."""

    pattern: bytes
    count: int

    def __len__(self) -> int:
        return len(self.pattern) * self.count


Segment = bytes | Fill


def _chunks(segments: list[Segment]) -> Iterator[bytes]:
    for seg in segments:
        if isinstance(seg, Fill):
            per = max(1, CHUNK // max(1, len(seg.pattern)))
            for start in range(0, seg.count, per):
                yield seg.pattern * min(per, seg.count - start)
        elif seg:
            yield seg


def section(kind: bytes, segments: list[Segment], zstd: bool = True, window_log: int | None = None, content_size: bool = True,
            flags: int | None = None) -> RawSection:
    """A section of these payload segments, stored or as one Zstandard frame (streamed)."""
    raw_size = sum(len(s) for s in segments)
    critical = 0 if kind in (b"TEXT", b"XTRA") else 1
    if not zstd:
        return RawSection(kind, critical if flags is None else flags, 0, b"".join(_chunks(segments)), raw_size)
    params = zstandard.ZstdCompressionParameters.from_level(3, source_size=raw_size if content_size else 0, write_content_size=content_size,
                                                             **({"window_log": window_log} if window_log else {}))
    cobj = zstandard.ZstdCompressor(compression_params=params).compressobj(size=raw_size if content_size else -1)
    stored = b"".join(cobj.compress(c) for c in _chunks(segments)) + cobj.flush()
    return RawSection(kind, critical if flags is None else flags, 1, stored, raw_size)


def planes(values, width: int) -> bytes:
    """Byte planes of unsigned integers (SPEC 11.1.2)."""
    v = np.asarray(values, np.uint64)
    return b"".join(((v >> np.uint64(8 * k)) & np.uint64(0xFF)).astype(np.uint8).tobytes() for k in range(width))


def f32planes(values) -> bytes:
    return planes(np.asarray(values, np.float32).view(np.uint32), 4)


def zero_block(channels: int, count: int, bits: int = 8, value: list[float] | None = None) -> list[Segment]:
    """A quantized block with every sample 0 and each channel's range [value, value] (default 0), SPEC 11.1.3."""
    width = 1 if bits <= 8 else 2
    const = f32planes(np.zeros(channels) if value is None else value)
    return [bytes([bits]) + const * 2, Fill(b"\x00", channels * count * width)]


def meta(n: int, sh: int = 0) -> list[Segment]:
    """A META payload: ``n`` Gaussians, no layout, a 64x48 camera (SPEC 11.4)."""
    c2w = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2]
    return [struct.pack("<IBBHB", n, sh, 0, 0, 0) + struct.pack("<HHffff", 64, 48, 50.0, 50.0, 32.0, 24.0) + f32planes(c2w) + f32planes([1, 1, 1])]


def attrs(n: int, sh: int, skip: tuple[int, ...] = (), bits: int = 8, **zstd) -> list[RawSection]:
    """One ATTR section per attribute with channels, all samples 0."""
    identity = {3: [1.0, 0.0, 0.0, 0.0]}  # ROTATION: (1, 0, 0, 0); a zero quaternion is rejected
    return [section(b"ATTR", [bytes([a]), *zero_block(attribute_channels(a, sh), n, bits, identity.get(a))], **zstd)
            for a in range(6) if attribute_channels(a, sh) and a not in skip]


def minimal(n: int = 1, sh: int = 0) -> list[RawSection]:
    return [section(b"META", meta(n, sh)), *attrs(n, sh)]


def text(entries: int, value: bytes = b"") -> list[Segment]:
    one = b"\x00" + struct.pack("<H", len(value)) + value
    return [struct.pack("<H", entries), Fill(one, entries)]


def defm(v: int, f: int, morphs: int = 0, nnz: int = 0, joints: int = 0) -> list[Segment]:
    """A DEFM payload: ``v`` vertices at 0, ``f`` triangles (0, 0, 0), ``morphs`` targets moving
    vertices 0..nnz-1, an optional skeleton of ``joints`` joints with every vertex on joint 0."""
    iw = index_width(v)
    out: list[Segment] = [struct.pack("<II", v, f), *zero_block(3, v), Fill(b"\x00", 3 * f * iw), struct.pack("<H", morphs)]
    for t in range(morphs):
        name = b"m%d" % t
        out += [bytes([len(name)]) + name + struct.pack("<I", nnz), Fill(b"\x00", nnz * iw), *zero_block(3, nnz)]
    if joints:
        eye = f32planes([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0])
        out.append(b"\x01" + bytes([joints]))
        for j in range(joints):
            name = b"j%d" % j
            out.append(bytes([len(name)]) + name + struct.pack("<h", j - 1) + eye + eye)
        # vertex_joints all 0; vertex_weights slot 0 = 65535, slots 1..3 = 0 (two byte planes)
        out += [Fill(b"\x00", 4 * v), Fill(b"\xff", v), Fill(b"\x00", 3 * v), Fill(b"\xff", v), Fill(b"\x00", 3 * v)]
    else:
        out.append(b"\x00")
    out.append(b"\x00" + b"\x00" + f32planes([0, 0, 0]))  # no coefficient map, no drivers, head_pivot
    return out


def bind_vertex(n: int, v: int) -> list[Segment]:
    return [b"\x01", Fill(b"\x00", n * index_width(v))]


def f16planes_zero(count: int) -> list[Segment]:
    return [Fill(b"\x00", 2 * count)]


def mlp(widths: list[int]) -> list[Segment]:
    """An ``mlp( )`` (SPEC 12.1) of these layer widths, relu layers, all weights 0."""
    out: list[Segment] = [bytes([len(widths) - 1])]
    for a, b in zip(widths, widths[1:], strict=False):
        out += [struct.pack("<HHBB", a, b, 1, 0), *f16planes_zero(a * b), *f16planes_zero(b)]
    return out


def latn(n: int, ids: list[int], sh: int, dims: int, hidden: list[int], bits: int = 8) -> list[Segment]:
    """A LATN payload (SPEC 12.2): ``dims`` latents of ``n`` Gaussians, decoder dims -> hidden -> outputs."""
    outs = sum(attribute_channels(a, sh) for a in ids)
    width = 1 if bits <= 8 else 2
    return [bytes([len(ids), *ids, dims, bits]) + f32planes(np.ones(dims)), Fill(b"\x00", dims * n * width), *mlp([dims, *hidden, outs])]


def file(level: int, sections: list[RawSection]) -> bytes:
    return join_container(FileHeader(level=level), sections)


# -- one builder per level limit ----------------------------------------------------------

def _sections(lv: ContainerLevel) -> bytes:
    entries = getattr(lv, "max_text_entries", 65535)
    count = lv.max_sections - 6
    per = max(0, min(65535, entries // max(1, count)))
    return file(lv.idc, [*minimal(), *[section(b"TEXT", text(per)) for _ in range(count)]])


def _section_bytes(lv: ContainerLevel) -> bytes:
    """A known section (TEXT values of zero bytes, which are UTF-8) of max_section_bytes."""
    value_len = 65535
    entries = min(65535, (lv.max_section_bytes - 2) // (3 + value_len))
    return file(lv.idc, [*minimal(), section(b"TEXT", text(entries, bytes(value_len)))])


def _total_bytes(lv: ContainerLevel) -> bytes:
    """Unknown ancillary zstd sections filling max_total_bytes exactly (a decoder skips them unread)."""
    base = minimal()
    left = lv.max_total_bytes - sum(s.raw_size for s in base)
    sizes = []
    while left > 0 and len(sizes) < lv.max_sections - len(base):
        sizes.append(min(lv.max_section_bytes, left))
        left -= sizes[-1]
    return file(lv.idc, [base[0], *[section(b"XTRA", [Fill(b"\x00", n)]) for n in sizes], *base[1:]])


def _gaussians(lv: ContainerLevel) -> bytes:
    """max_gaussians at SH degree 3, every attribute with 8-bit samples (decoded: 4 bytes each)."""
    n = lv.max_gaussians
    return file(lv.idc, [section(b"META", meta(n, 3)), *attrs(n, 3)])


def _vertices(lv: ContainerLevel) -> bytes:
    """max_vertices with a one-joint skeleton (joints and weights per vertex) and vertex binding."""
    v = lv.max_vertices
    return file(lv.idc, [section(b"META", meta(1)), section(b"DEFM", defm(v, 1, joints=1)), section(b"BIND", bind_vertex(1, v)), *attrs(1, 0)])


def _triangles(lv: ContainerLevel) -> bytes:
    return file(lv.idc, [section(b"META", meta(1)), section(b"DEFM", defm(3, lv.max_triangles)), *attrs(1, 0)])


def _morph_targets(lv: ContainerLevel) -> bytes:
    """max_morph_targets, each moving as many vertices as max_section_bytes and max_decoded_values leave (8-bit deltas)."""
    v, t = lv.max_vertices, lv.max_morph_targets
    per_vertex = index_width(v) + 3
    fixed = 64 + 3 * v + t * 40
    by_bytes = (lv.max_section_bytes - fixed) // (t * per_vertex)
    by_values = (lv.max_decoded_values - DECODED_MARGIN - 3 * v - 300) // t // 4 - 2  # K gaps + 3K deltas + 6 range values
    nnz = max(1, min(v, by_bytes, by_values))
    return file(lv.idc, [section(b"META", meta(1)), section(b"DEFM", defm(v, 1, morphs=t, nnz=nnz)), *attrs(1, 0)])


def _joints(lv: ContainerLevel) -> bytes:
    v = lv.max_vertices
    return file(lv.idc, [section(b"META", meta(1)), section(b"DEFM", defm(v, 1, joints=lv.max_joints)), *attrs(1, 0)])


def _widest(lv: ContainerLevel, n: int) -> int:
    """The widest layer ``n`` Gaussians may have under max_activations (R-91)."""
    return max(1, min(MAX_LAYER_WIDTH, lv.max_activations // n))


def _mlp_weights(lv: ContainerLevel) -> bytes:
    """A LATN decoder of max_mlp_weights weights (64 latents, two equal hidden layers), for as many
    Gaussians as max_latent_macs and max_activations then allow."""
    dims, outs = MAX_LATENT_DIMS, 3
    w = int((-(dims + outs) + ((dims + outs) ** 2 + 4 * lv.max_mlp_weights) ** 0.5) / 2)  # dims*w + w*w + w*outs <= limit
    w = max(1, min(MAX_LAYER_WIDTH, w))
    n = max(1, min(lv.max_gaussians, lv.max_latent_macs // (dims * w + w * w + w * outs), lv.max_activations // w))
    return file(lv.idc, [section(b"META", meta(n)), *attrs(n, 0, skip=(1,)), section(b"LATN", latn(n, [1], 0, dims, [w, w]))])


def _activations(lv: ContainerLevel) -> bytes:
    """max_gaussians through 1 -> W -> 3 with W as wide as max_activations (and the multiply-adds) allow."""
    n = lv.max_gaussians
    w = max(1, min(_widest(lv, n), lv.max_latent_macs // (4 * n), lv.max_mlp_weights // 4))
    return file(lv.idc, [section(b"META", meta(n)), *attrs(n, 0, skip=(1,)), section(b"LATN", latn(n, [1], 0, 1, [w]))])


def _latent_macs(lv: ContainerLevel) -> bytes:
    """A deep LATN decoder (64 latents, 7 hidden layers at the widest the activations allow) for as
    many Gaussians as max_latent_macs allows: the most multiply-adds per Gaussian."""
    dims, outs, hidden = MAX_LATENT_DIMS, 3, 7
    n = lv.max_gaussians
    w = 1
    for _ in range(8):  # n and the width depend on each other: a few rounds settle them
        k, lin = hidden - 1, dims + outs  # weights: k*w*w + lin*w <= max_mlp_weights
        w = max(1, min(_widest(lv, n), int((-lin + (lin * lin + 4 * k * lv.max_mlp_weights) ** 0.5) / (2 * k))))
        per = dims * w + (hidden - 1) * w * w + w * outs
        n = max(1, min(lv.max_gaussians, lv.max_latent_macs // per))
    return file(lv.idc, [section(b"META", meta(n)), *attrs(n, 0, skip=(1,)), section(b"LATN", latn(n, [1], 0, dims, [w] * hidden))])


def _decoded_values(lv: ContainerLevel) -> bytes:
    """max_gaussians at SH degree 3, then morph targets filling max_decoded_values (8-bit samples:
    each stored byte decodes to a binary32 value)."""
    n, v, t = lv.max_gaussians, lv.max_vertices, lv.max_morph_targets
    used = 15 + 118 + 59 * n + 6 + 3 * v + 3 + 3 + DECODED_MARGIN  # META arrays, ATTR blocks, vertices, one triangle, pivot, names
    per_morph_values = (lv.max_decoded_values - used) // t  # K gaps + 6 range values + 3K deltas
    per_morph_bytes = (lv.max_section_bytes - 64 - 3 * v - 2 * 3) // t - 40
    k = max(0, min(v, (per_morph_values - 6) // 4, per_morph_bytes // (index_width(v) + 3)))
    return file(lv.idc, [section(b"META", meta(n, 3)), section(b"DEFM", defm(v, 1, morphs=t, nnz=k)), *attrs(n, 3)])


def _text_entries(lv: ContainerLevel) -> bytes:
    """max_text_entries TEXT entries with values as long as the byte limits allow."""
    entries = lv.max_text_entries
    by_bytes = (lv.max_total_bytes - min(1 << 20, lv.max_total_bytes // 4)) // entries - 3
    by_values = 4 * ((lv.max_decoded_values - DECODED_MARGIN) // entries)  # a value of n bytes counts ceil(n / 4)
    value_len = max(0, min(65535, by_bytes, by_values))
    per_section = min(entries, 65535, (lv.max_section_bytes - 2) // (3 + value_len))
    sections, left = [], entries
    while left > 0 and len(sections) < lv.max_sections - 6:
        k = min(per_section, left)
        sections.append(section(b"TEXT", text(k, bytes(value_len))))
        left -= k
    return file(lv.idc, [*minimal(), *sections])


def _zstd_window(lv: ContainerLevel) -> bytes:
    """The Gaussians of the level in frames with the largest window and no declared content size."""
    n = lv.max_gaussians
    z = {"window_log": lv.max_zstd_window_log, "content_size": False}
    return file(lv.idc, [section(b"META", meta(n, 3), **z), *attrs(n, 3, **z)])


#: limit name (a column of SPEC 11.9) -> (what the file does, builder); every column has one.
BUILDERS: dict[str, tuple[str, Callable[[ContainerLevel], bytes]]] = {
    "max_sections": ("max_sections sections, TEXT sections filling the rest", _sections),
    "max_section_bytes": ("one TEXT section of max_section_bytes (65,535-byte values)", _section_bytes),
    "max_total_bytes": ("unknown ancillary zstd sections of max_section_bytes up to max_total_bytes", _total_bytes),
    "max_gaussians": ("max_gaussians, SH degree 3, 8-bit samples", _gaussians),
    "max_vertices": ("max_vertices, one-joint skeleton, vertex binding", _vertices),
    "max_triangles": ("max_triangles on 3 vertices", _triangles),
    "max_morph_targets": ("max_morph_targets, each moving as many vertices as the section bytes allow", _morph_targets),
    "max_joints": ("max_joints on max_vertices", _joints),
    "max_mlp_weights": ("LATN decoder of max_mlp_weights weights (64 -> W -> W -> 3), Gaussians up to max_latent_macs", _mlp_weights),
    "max_zstd_window_log": ("max_gaussians at SH degree 3 in frames of the largest window, no content size", _zstd_window),
    "max_decoded_values": ("max_gaussians at SH degree 3 and morph targets up to max_decoded_values", _decoded_values),
    "max_text_entries": ("max_text_entries TEXT entries, values as long as the byte limits allow", _text_entries),
    "max_activations": ("max_gaussians through a 1 -> W -> 3 LATN decoder, W as wide as max_activations allows", _activations),
    "max_latent_macs": ("64 -> 7 hidden layers -> 3 LATN decoder at max_latent_macs", _latent_macs),
}


def worst_cases(level_idc: int) -> dict[str, bytes]:
    """The crafted file of each limit at this level."""
    lv = container_levels()[level_idc]
    return {name: build(lv) for name, (_, build) in BUILDERS.items()}


__all__ = ["BUILDERS", "Fill", "defm", "file", "latn", "meta", "minimal", "mlp", "planes", "section", "text", "worst_cases"]
