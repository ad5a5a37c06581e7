"""Definitions the container vector modules share: the vector record, the expected error,
and the builders of valid and damaged files (conformance/container/vectors.py, reading.py and
clarity.py all use them; keeping them here keeps those modules free of import cycles)."""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import avatars as av
from .writer import Built, Sec, build


@dataclass
class ExpectedErr:
    """Expected rejection: class, field and (when the damaged element lies in a stored payload or a header) byte offset."""

    error_class: str
    field: str
    byte_offset: int | None


@dataclass
class ContainerDef:
    """One container vector. ``make`` returns the built file and, for rejections, the expected error."""

    name: str
    purpose: str
    clauses: list[str]
    requirements: list[str]
    make: Callable[[], tuple[Built, list[Sec], ExpectedErr | None]]
    accept_errors: tuple[str, ...] = ()
    neural: bool = False  # tolerance tier: LATN / OMLP raw outputs
    render: bool = False  # reference renders
    frames: int = 2  # parameter frames for OMLP and renders


def valid_file(sections: list[Sec], **kw) -> Callable:
    """A decodable vector: the file built from ``sections`` with no expected error."""
    return lambda: (build(sections, **kw), sections, None)


def error_at(b: Built, suffix: str, cls: str, section: int | None = None, delta: int = 0) -> ExpectedErr:
    """The expected error at the first byte of the element ending in ``suffix`` (plus ``delta``)."""
    t = b.find(suffix, section)
    return ExpectedErr(cls, t.field, t.offset + delta)


def patch_file(b: Built, offset: int, new: bytes, fix_crc: bool = True) -> Built:
    """``b`` with ``new`` written at ``offset`` and the CRC of the section holding it recomputed (zlib)."""
    import zlib

    data = bytearray(b.data)
    data[offset : offset + len(new)] = new
    if fix_crc:
        for pos in reversed(b.section_offsets):
            if pos <= offset:
                stored = struct.unpack_from("<I", data, pos + 8)[0]
                data[pos + 16 : pos + 20] = struct.pack("<I", zlib.crc32(bytes(data[pos : pos + 16]) + bytes(data[pos + 20 : pos + 20 + stored])))
                break
        else:
            data[12:16] = struct.pack("<I", zlib.crc32(bytes(data[:12])))
    return Built(bytes(data), b.trace, b.section_offsets, b.body_offsets, b.raws)


def damaged_file(sections: list[Sec], suffix: str, new: bytes, cls: str, section: int | None = None, write_delta: int = 0, **kw) -> Callable:
    """A valid file with the element ending in ``suffix`` overwritten by ``new`` at ``write_delta``
    bytes into it (CRC recomputed); the error is expected at the element's first byte."""

    def make():
        b = build(sections, **kw)
        t = b.find(suffix, section)
        return patch_file(b, t.offset + write_delta, new), sections, ExpectedErr(cls, t.field, t.offset)

    return make


def first_error(secs: list[Sec], suffix: str, section: int, cls: str, **kw) -> Callable:
    """A file whose first error is the element ending in ``suffix`` of ``section``, located at its first byte."""
    def make():
        b = build(secs, **kw)
        t = b.find(suffix, section)
        return b, secs, ExpectedErr(cls, t.field, t.offset)

    return make


def zstd_meta(meta_raw: bytes, stored: bytes, cls: str, raw_size: int | None = None):
    """A file whose META section is Zstandard-compressed with the given stored bytes; the error is at the payload."""
    secs = [
        Sec(b"META", raw=meta_raw, compression=1, stored=stored, raw_size=raw_size if raw_size is not None else len(meta_raw))
    ] + av.minimal_sections()[1:]
    b = build(secs)
    return b, secs, ExpectedErr(cls, "section[0].payload", b.body_offsets[0])


def encoder_avatar(seed: int, zstd: bool = True, **kw):
    """Sections of a small synthetic avatar packed by the reference encoder (a valid payload source)."""
    from refcodec.fca import PackConfig

    return lambda cfg=None: av.encoder_sections(av.small_avatar(seed, **kw), cfg or PackConfig.plain(), zstd=zstd)


def latn_sections(seed: int, ids: tuple[int, ...], sh: int, bits: int, prune: float | None, zstd: bool) -> list[Sec]:
    """Sections of a small avatar with a fitted latent (LATN) section, optionally pruned."""
    from refcodec.avatar.latents import FitConfig
    from refcodec.avatar.neural import prune as prune_mlp
    from refcodec.fca import PackConfig
    from refcodec.fca.codec import mlp_from_payload, mlp_payload

    fit = FitConfig(latent_dims=3, latent_bits=bits, hidden=(16,), iters=200, refine_passes=1, seed=seed)
    secs = av.encoder_sections(av.small_avatar(seed, n=20, sh=sh), PackConfig.plain(latents=fit, latent_attributes=ids), zstd=zstd)
    if prune is not None:  # SPEC 12.1: a pruned decoder (mask + the kept weights)
        lat = next(s for s in secs if s.type == b"LATN")
        from types import SimpleNamespace

        layers = [SimpleNamespace(**x) for x in lat.payload["latent_decoder"]["mlp_layers"]]
        pruned = prune_mlp(mlp_from_payload(SimpleNamespace(mlp_layers=layers)), prune)
        lat.payload["latent_decoder"] = mlp_payload(pruned)
    return secs


def omlp_sections(seed: int, include: int, freqs: int, mapping: int, prune: float | None, n: int = 16, mode0: bool = True) -> list[Sec]:
    """Static Gaussians (binding mode 0, so the canonical anchors are the positions) with an offset MLP."""
    from refcodec.avatar.neural import prune as prune_mlp
    from refcodec.avatar.offset_mlp import OffsetInput, OffsetMlpDescriptor, synthetic_offset_mlp
    from refcodec.fca.codec import _offset_payload

    inputs = (OffsetInput(av.ARKIT52, 52), OffsetInput(av.JAW, 3, "rot6d"))
    desc = OffsetMlpDescriptor(
        freqs,
        inputs,
        pe_include_input=bool(include),
        position_center=np.array([0.0, 0.01, 0.0], np.float32),
        position_scale=4.0,
        output_mapping=("additive", "flashavatar")[mapping],
        position_out_scale=0.005,
        rotation_out_scale=0.05,
        scale_out_scale=0.1,
    )
    desc, mlp = synthetic_offset_mlp(seed, desc=desc, hidden=(23, 24), output_gain=0.5)
    if prune is not None:
        mlp = prune_mlp(mlp, prune)
    layout = [(av.ARKIT52, 52), (av.HEAD_ROTATION, 3), (av.JAW, 3)]
    c2w = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0.3]
    m = av.meta(n, 0, layout=layout, size=(64, 64), focal=(90.0, 90.0), principal=(32.0, 32.0), c2w=c2w, bg=(0.1, 0.1, 0.1))
    secs = [Sec(b"META", m), Sec(b"BIND", {"binding_mode": 0})] + av.static_attrs(n, 0, seed, {0: 32, 2: 32})
    return secs + [Sec(b"OMLP", _offset_payload(desc, mlp), zstd=True)]


def many_joints(count: int) -> list[Sec]:
    """A DEFM with ``count`` joints (a chain) over 3 vertices, raw binary32 vertices."""
    eye = np.array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], np.float32)
    joints = [{"joint_name": f"j{j}".encode(), "joint_parent": j - 1, "rest_local": eye, "inverse_bind": eye} for j in range(count)]
    sk = {
        "joints": joints,
        "vertex_joints": np.array([0, 1, 2] + [0] * 9),
        "vertex_weights": np.array([65535, 30000, 1] + [0, 35535, 65534] + [0] * 6),
    }
    defm = {
        "vertex_count": 3,
        "triangle_count": 1,
        "vertices": av.raw_block([0, 1, 0, 0, 0, 1, 0, 0, 0]),
        "triangles": np.array([0, 1, 2]),
        "morphs": [],
        "skeleton": sk,
        "coeff_map": None,
        "drivers": [],
        "head_pivot": np.zeros(3, np.float32),
    }
    return [Sec(b"META", av.meta(2)), Sec(b"DEFM", defm, zstd=True), Sec(b"BIND", {"binding_mode": 1, "binding_index": np.array([2, 0])})]
