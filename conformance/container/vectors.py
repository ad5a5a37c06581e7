"""Container (.fca) vector definitions: decodable, implementation-defined and invalid.

Each definition gives the sections (payload dicts) and framing options of one file; invalid
ones damage a named element (found in the writer's trace) so that the expected error class,
field and byte offset follow from the damage, not from the decoder under test.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import numpy as np
import zstandard

from . import avatars as av
from .definitions import (
    ContainerDef,
    ExpectedErr,
    damaged_file,
    encoder_avatar,
    first_error,
    latn_sections,
    many_joints,
    omlp_sections,
    patch_file,
    valid_file,
    zstd_meta,
)
from .writer import Built, Sec, build, zstd_frame


# ------------------------------------------------------------------------------- avatars
def _flame_sections() -> list[Sec]:
    n = 6
    defr = {"model_name": b"FLAME2020", "model_sha256": bytes(range(32))}
    bind = {"binding_mode": 1, "binding_index": np.array([0, 5022, 100, 2511, 4000, 7])}
    secs = [Sec(b"META", av.meta(n, 0, layout=[(1, 100), (av.JAW, 3)])), Sec(b"DEFR", defr), Sec(b"BIND", bind)]
    return secs + av.static_attrs(n, 0, 12)


def _flame_triangle() -> list[Sec]:
    n = 4
    bind = {
        "binding_mode": 2,
        "binding_index": np.array([0, 9975, 5000, 1]),
        "barycentric": av.qblock(6, [0, 0, 0], [1, 1, 1], np.array([[63, 0, 21, 10], [0, 63, 21, 20], [0, 0, 21, 33]])),
    }
    defr = {"model_name": b"FLAME2020", "model_sha256": b"\xff" * 32}
    return [Sec(b"META", av.meta(n, 0)), Sec(b"DEFR", defr), Sec(b"BIND", bind, zstd=True)] + av.static_attrs(n, 0, 13)


def valid_vectors() -> list[ContainerDef]:
    """y_ vectors: every section type, binding mode, model kind, q_bits, storage and option."""
    from refcodec.fca import PackConfig

    enc = encoder_avatar
    v = [
        ContainerDef(
            "y_minimal_raw",
            "One static Gaussian, every attribute raw binary32 (q_bits 32), stored sections, no BIND (mode 0): the smallest decodable container.",
            ["11.1.3", "11.2", "11.3", "11.4", "11.7"],
            ["R-50", "R-52", "R-54", "R-56", "R-57", "R-58", "R-59", "R-60", "R-69", "R-205"],
            valid_file(av.minimal_sections()),
        ),
        ContainerDef(
            "y_text_ancillary",
            "TEXT sections and two unknown ancillary sections (critical flag 0), one stored and one zstd, which a decoder skips; META is zstd.",
            ["11.2", "11.2.1", "11.3", "11.8"],
            ["R-55", "R-56", "R-69", "R-200", "R-205", "R-209"],
            valid_file(
                [
                    Sec(b"META", av.meta(), zstd=True),
                    Sec(b"XTRA", raw=b"\x00\xffanything at all", flags=0),
                    Sec(
                        b"TEXT",
                        {
                            "text_entries": [
                                {"text_key": b"source", "text_value": b"conformance"},
                                {"text_key": b"licence", "text_value": "CC0 ✓".encode()},
                            ]
                        },
                    ),
                ]
                + av.minimal_sections()[1:4]
                + [Sec(b"Z9Z9", raw=bytes(300), flags=0, zstd=True), Sec(b"TEXT", {"text_entries": []})]
                + av.minimal_sections()[4:]
            ),
        ),
        ContainerDef(
            "y_reserved_bits",
            "Nonzero reserved fields (fca_reserved_8bits/16bits, section_reserved_16bits, "
            "meta_reserved_16bits, section_flags bits 1-7): decoders ignore them (R-12).",
            ["11.2", "11.4"],
            ["R-50", "R-69"],
            valid_file(
                [Sec(b"META", av.meta() | {"meta_reserved_16bits": 0xBEEF}, reserved=0x1234, flags=0xFF)]
                + [Sec(s.type, s.payload, reserved=7, flags=0x81) for s in av.minimal_sections()[1:]],
                reserved=(0x5A, 0xA55A),
            ),
        ),
        ContainerDef(
            "y_zstd_no_content_size",
            "Zstandard sections whose frames do not declare a content size (allowed; the output must still be raw_size bytes).",
            ["11.2.1"],
            ["R-55", "R-69"],
            valid_file(
                [Sec(s.type, s.payload, stored=None) for s in av.minimal_sections()[:1]]
                + [s for s in av.minimal_sections()[1:]]
                + [Sec(b"TEXT", {"text_entries": [{"text_key": b"notes", "text_value": b"x" * 200}]})],
            ),
        ),
        ContainerDef(
            "y_vertex_full",
            "Encoder-made avatar, vertex binding (mode 1), embedded DEFM with morphs, skeleton (2 joints, skin weights), "
            "coefficient map with bias, a JAW driver, SH degree 1, TEXT; zstd sections.",
            ["11.1.2", "11.1.3", "11.2.1", "11.4", "11.5.1", "11.6", "11.7", "11.8", "13.1", "13.2", "13.3", "13.4", "13.5"],
            ["R-55", "R-58", "R-62", "R-63", "R-65", "R-66", "R-69", "R-80", "R-81", "R-82", "R-83", "R-84", "R-85", "R-86", "R-87", "R-88", "R-89"],
            lambda: valid_file(enc(1)())(),
            render=True,
        ),
        ContainerDef(
            "y_triangle_map",
            "Encoder-made avatar, triangle binding (mode 2) with barycentrics, coefficient map, no skeleton, SH degree 2; stored sections.",
            ["11.5.1", "11.6", "11.7"],
            ["R-58", "R-62", "R-65", "R-66", "R-69", "R-80", "R-81", "R-82", "R-84", "R-85", "R-86", "R-88", "R-89"],
            lambda: valid_file(enc(2, zstd=False, mode="triangle", sh=2, skeleton=False)(PackConfig.plain(compress=False)))(),
            render=True,
        ),
        ContainerDef(
            "y_vertex_plain",
            "Embedded model without skeleton or coefficient map (morphs only), SH degree 0, vertex binding.",
            ["11.5.1", "11.6"],
            ["R-62", "R-69"],
            lambda: valid_file(enc(3, sh=0, skeleton=False, cmap=False)())(),
        ),
        ContainerDef(
            "y_defr_flame_vertex",
            "Referenced model DEFR 'FLAME2020' (5023 vertices: binding indices up to 5022, 2-byte index width) with vertex binding.",
            ["11.5.2", "11.6"],
            ["R-64", "R-65", "R-69"],
            valid_file(_flame_sections()),
        ),
        ContainerDef(
            "y_defr_flame_triangle",
            "Referenced model with triangle binding (indices up to 9975) and 6-bit barycentrics in a zstd BIND section.",
            ["11.5.2", "11.6"],
            ["R-64", "R-65", "R-58", "R-69"],
            valid_file(_flame_triangle()),
        ),
        ContainerDef(
            "y_bind_mode0",
            "An explicit BIND section with binding_mode 0 (no index, no model needed).",
            ["11.6"],
            ["R-60", "R-69"],
            valid_file([av.minimal_sections()[0], Sec(b"BIND", {"binding_mode": 0})] + av.minimal_sections()[1:]),
        ),
        ContainerDef(
            "y_qbits_1_8",
            "q_bits 1..8 (one-byte samples) and 32 in one file: POSITION 1, COLOR_DC 2, LOG_SCALE 3, ROTATION 4, "
            "OPACITY 5, SH_REST 6, vertices 7, morph deltas 8, barycentrics 32.",
            ["11.1.2", "11.1.3"],
            ["R-57", "R-58", "R-69"],
            lambda: valid_file(
                enc(4, mode="triangle", sh=1)(
                    PackConfig.plain(
                        position_bits=1,
                        color_bits=2,
                        scale_bits=3,
                        rotation_bits=4,
                        opacity_bits=5,
                        sh_rest_bits=6,
                        vertex_bits=7,
                        morph_bits=8,
                        barycentric_bits=32,
                        morph_max_error=None,
                    )
                )
            )(),
        ),
        ContainerDef(
            "y_qbits_9_16",
            "q_bits 9..16 (two-byte samples in two byte planes): POSITION 9 .. SH_REST 14, vertices 15, morph deltas and barycentrics 16.",
            ["11.1.2", "11.1.3"],
            ["R-57", "R-58", "R-69"],
            lambda: valid_file(
                enc(5, mode="triangle", sh=1)(
                    PackConfig.plain(
                        position_bits=9,
                        color_bits=10,
                        scale_bits=11,
                        rotation_bits=12,
                        opacity_bits=13,
                        sh_rest_bits=14,
                        vertex_bits=15,
                        morph_bits=16,
                        barycentric_bits=16,
                        morph_max_error=None,
                    )
                )
            )(),
        ),
        ContainerDef(
            "y_qbits_edges",
            "Quantized blocks at range edges: min = max (step 0), negative ranges, -0 as a minimum, every sample 0 or 2^b - 1.",
            ["11.1.3"],
            ["R-58", "R-69"],
            valid_file(
                [Sec(b"META", av.meta(3))]
                + [
                    Sec(b"ATTR", av.attr(0, av.qblock(16, [-0.0, 2.5, -7.0], [1.0, 2.5, -3.0], [[0, 65535, 1], [0, 65535, 1], [0, 65535, 32768]]))),
                    Sec(b"ATTR", av.attr(1, av.qblock(1, [-1.0, 0.0, -0.0], [1.0, 1e-30, 0.0], [[0, 1, 1], [1, 0, 1], [0, 1, 0]]))),
                    Sec(b"ATTR", av.attr(2, av.raw_block([-3.0, -1e-40, -4.0, 0.0, -5.0, -6.0, -7, -8, -9]))),
                    Sec(
                        b"ATTR",
                        av.attr(3, av.qblock(12, [0.5, -1, -1, -1], [1, 1, 1, 1], [[4095, 0, 1], [0, 2048, 7], [1, 2, 3], [4095, 4095, 4095]])),
                    ),
                    Sec(b"ATTR", av.attr(4, av.qblock(13, [-1e30], [1e30], [[0, 8191, 4096]]))),
                ]
            ),
        ),
        ContainerDef(
            "y_latn",
            "Latent-coded ROTATION and OPACITY (LATN, 4-bit latents, 3 dims, unmasked 2-layer binary16 decoder fitted "
            "by the reference encoder); the raw decoder outputs are tolerance tier.",
            ["12.1", "12.2", "12.4"],
            ["R-70", "R-71", "R-72", "R-73", "R-74", "R-75", "R-79", "R-69"],
            lambda: valid_file(latn_sections(6, (3, 4), 0, 4, None, True))(),
            neural=True,
        ),
        ContainerDef(
            "y_latn_pruned_all",
            "LATN for every non-position attribute at SH degree 1 (COLOR_DC, LOG_SCALE, ROTATION, OPACITY, "
            "SH_REST), 10-bit latents (two byte planes), pruned decoder (layer masks).",
            ["12.1", "12.2", "12.4"],
            ["R-70", "R-71", "R-72", "R-73", "R-74", "R-75", "R-79", "R-69", "R-210"],
            lambda: valid_file(latn_sections(7, (1, 2, 3, 4, 5), 1, 10, 0.5, False))(),
            neural=True,
        ),
        ContainerDef(
            "y_omlp",
            "Offset MLP (OMLP) with input included, 2 frequencies, an ARKIT52 values group and a JAW rot6d group, additive "
            "mapping, unmasked; raw outputs for 2 frames (tolerance tier) and renders.",
            ["12.1", "12.3", "12.4"],
            ["R-70", "R-71", "R-76", "R-77", "R-78", "R-79", "R-69", "R-80", "R-88", "R-89", "R-205"],
            lambda: valid_file(omlp_sections(8, 1, 2, 0, None))(),
            neural=True,
            render=True,
        ),
        ContainerDef(
            "y_omlp_pruned_flashavatar",
            "Offset MLP without the input in its encoding (3 frequencies), flashavatar mapping, pruned layers (masks with padding bits 0).",
            ["12.1", "12.3", "12.4"],
            ["R-70", "R-71", "R-76", "R-77", "R-78", "R-79", "R-69"],
            lambda: valid_file(omlp_sections(9, 0, 3, 1, 0.6))(),
            neural=True,
        ),
    ]
    return v + level_vectors()


def _many_morphs(count: int) -> list[Sec]:
    morphs = [
        {
            "morph_name": f"m{t}".encode(),
            "morph_nnz": 1,
            "morph_index_gaps": np.array([t % 3]),
            "morph_deltas": av.qblock(2, [0, 0, 0], [1, 1, 1], [[t % 4], [1], [2]]),
        }
        for t in range(count)
    ]
    defm = many_joints(1)[1].payload | {"morphs": morphs, "skeleton": None}
    return [Sec(b"META", av.meta(2)), Sec(b"DEFM", defm, zstd=True), Sec(b"BIND", {"binding_mode": 1, "binding_index": np.array([2, 0])})]


def level_vectors() -> list[ContainerDef]:
    """Level limits (SPEC 11.9): the maximum of level 10, and i_ vectors above it."""
    attrs = av.static_attrs(2, 0, 21)
    return [
        ContainerDef(
            "y_level10_max_joints",
            "16 joints (level 10's max_joints) in a chain, the maximum a level-10 decoder must "
            "accept; skin weights at the 65535 sum with 1/65535 steps.",
            ["11.5.1", "11.9"],
            ["R-63", "R-68", "R-69", "R-205"],
            valid_file(many_joints(16) + attrs),
        ),
        ContainerDef(
            "i_level20_joints",
            "17 joints at level 20: a decoder supporting level 20 decodes it; one supporting only level 10 may reject the level.",
            ["11.9"],
            ["R-68", "R-69"],
            valid_file(many_joints(17) + attrs, level=20),
            accept_errors=("E_LEVEL",),
        ),
        ContainerDef(
            "i_level20_morphs",
            "65 morph targets (above level 10's 64) at level 20.",
            ["11.9", "11.5.1"],
            ["R-62", "R-68", "R-69"],
            valid_file(_many_morphs(65) + attrs, level=20),
            accept_errors=("E_LEVEL",),
        ),
        ContainerDef(
            "i_level30",
            "A small avatar declaring level 30: decoders supporting lower levels only may reject it.",
            ["11.9"],
            ["R-69"],
            valid_file(av.minimal_sections(), level=30),
            accept_errors=("E_LEVEL",),
        ),
    ]


# ------------------------------------------------------------------------------- invalid
def _header_err(data: bytes, cls: str, fld: str, off: int) -> Callable:
    return lambda: (Built(data), [], ExpectedErr(cls, fld, off))


def _framing(sections: list[Sec], cls: str, fld: str, off_fn, **kw) -> Callable:
    def make():
        b = build(sections, **kw)
        return b, sections, ExpectedErr(cls, fld, off_fn(b))

    return make


def _zstd_window_frame(raw: bytes) -> bytes:
    """Streamed (size unknown), so the frame header keeps the 2^24 window descriptor."""
    params = zstandard.ZstdCompressionParameters(window_log=24, write_content_size=False)
    obj = zstandard.ZstdCompressor(compression_params=params).compressobj()
    return obj.compress(raw) + obj.flush()


def _zstd_no_size(raw: bytes) -> bytes:
    return zstandard.ZstdCompressor(level=3, write_content_size=False).compress(raw)


def invalid_vectors() -> list[ContainerDef]:
    """n_ vectors: every error class a container can raise, with hand-made damage."""
    m = av.minimal_sections
    meta_raw = bytes(build([Sec(b"META", av.meta())]).raws[0])
    good = build(m()).data
    d = []

    def n(name, purpose, clauses, reqs, make):
        d.append(ContainerDef(name, purpose, clauses, reqs, make))

    # --- file header (SPEC 11.2, R-50..R-52)
    n(
        "n_truncated_header",
        "A 10-byte file: it ends before fca_reserved_16bits, the element located (R-201).",
        ["11.2", "11.10"],
        ["R-50", "R-201"],
        _header_err(good[:10], "E_TRUNCATED", "file_header.fca_reserved_16bits", 10),
    )
    n(
        "n_signature",
        "fca_signature 'FCA2'.",
        ["11.2"],
        ["R-50"],
        _framing(m(), "E_SIGNATURE", "file_header.fca_signature", lambda b: 0, signature=b"FCA2"),
    )
    n("n_version", "fca_version 2.", ["11.2"], ["R-50"], _framing(m(), "E_VERSION", "file_header.fca_version", lambda b: 4, version=2))
    n("n_profile", "profile_idc 9 (not in 4.3).", ["11.2"], ["R-50"], _framing(m(), "E_PROFILE", "file_header.profile_idc", lambda b: 5, profile=9))
    n(
        "n_level_idc",
        "level_idc 15 (not in the container level table).",
        ["11.2", "11.9"],
        ["R-50"],
        _framing(m(), "E_LEVEL", "file_header.level_idc", lambda b: 6, level=15),
    )
    n(
        "n_section_count_zero",
        "section_count 0.",
        ["11.2"],
        ["R-51"],
        _framing([], "E_SECTION", "file_header.section_count", lambda b: 8, section_count=0),
    )
    n(
        "n_section_count_level",
        "section_count 17, above level 10's max_sections 16 (checked before any section is read).",
        ["11.2", "11.9"],
        ["R-51", "R-68"],
        _framing(m(), "E_LEVEL", "file_header.section_count", lambda b: 8, section_count=17),
    )
    n(
        "n_header_crc",
        "header_crc off by one.",
        ["11.2"],
        ["R-52"],
        lambda: (
            patch_file(build(m()), 12, struct.pack("<I", struct.unpack_from("<I", good, 12)[0] ^ 1), False),
            m(),
            ExpectedErr("E_CRC", "file_header.header_crc", 12),
        ),
    )
    # --- section headers and sizes (R-53, R-54, R-59)
    n(
        "n_truncated_section_header",
        "The file ends 8 bytes into the second section header, at its stored_size (R-202).",
        ["11.2", "11.10"],
        ["R-53", "R-202"],
        lambda: (
            Built(good[: build(m()).section_offsets[1] + 8]),
            m(),
            ExpectedErr("E_TRUNCATED", "section[1].stored_size", build(m()).section_offsets[1] + 8),
        ),
    )
    n(
        "n_stored_size_forged",
        "A small file whose first section declares stored_size = raw_size = 0x7FFFFFF0 (2 GiB) while "
        "level 10 allows 16 MiB: E_LEVEL at raw_size before anything is read, although stored_size, read first, "
        "also exceeds the bytes left (R-202: the bytes-left check comes after raw_size's).",
        ["11.2", "11.9", "11.10"],
        ["R-53", "R-68", "R-202"],
        _forged_size(m()),
    )
    n(
        "n_raw_size_4gib",
        "A zstd META declares raw_size 0xFFFFFFFF (4 GiB) in a file of a few hundred bytes: E_LEVEL (max_section_bytes) before decompressing.",
        ["11.2", "11.9"],
        ["R-53", "R-68"],
        lambda: _sized(m(), 0, raw_size=0xFFFFFFFF, zstd=True, cls="E_LEVEL", fld="section[0].raw_size", delta=12),
    )
    n(
        "n_stored_size_past_end",
        "stored_size larger than the bytes left in the file: E_TRUNCATED before reading.",
        ["11.2"],
        ["R-53"],
        lambda: _sized(m(), 5, stored_size=1000, raw_size=1000, cls="E_TRUNCATED", fld="section[5].stored_size", delta=8),
    )
    n(
        "n_stored_raw_mismatch",
        "A stored (compression 0) section whose raw_size differs from stored_size.",
        ["11.2"],
        ["R-53"],
        lambda: _sized(m(), 1, raw_size=99, cls="E_VALUE", fld="section[1].raw_size", delta=12),
    )
    n(
        "n_total_bytes_level",
        "Three 16 MiB ancillary zstd sections then a fourth: the raw sizes add up past level 10's max_total_bytes (64 MiB).",
        ["11.2", "11.9"],
        ["R-53", "R-209"],
        _total_over(),
    )
    n("n_section_crc", "One payload byte of the second section flipped (section_crc no longer matches).", ["11.2"], ["R-54"], lambda: _crc_flip(m()))
    n(
        "n_compression_2",
        "compression 2 (undefined).",
        ["11.2"],
        ["R-55"],
        lambda: _sized(m(), 2, compression=2, cls="E_VALUE", fld="section[2].compression", delta=5),
    )
    n(
        "n_section_type_chars",
        "section_type 'at+r' (not A-Z, 0-9).",
        ["11.2"],
        ["R-56"],
        lambda: _typed(m(), 1, b"at+r", 1, "E_VALUE", "section[1].section_type"),
    )
    n(
        "n_critical_flag_text",
        "A TEXT section flagged critical (registry says ancillary).",
        ["11.2", "11.3"],
        ["R-56"],
        lambda: _sized(m()[:1] + [Sec(b"TEXT", {"text_entries": []}, flags=1)] + m()[1:], 1, cls="E_VALUE", fld="section[1].section_flags", delta=4),
    )
    n(
        "n_payload_trailing",
        "Two bytes after the META syntax inside its payload.",
        ["11.2"],
        ["R-59"],
        lambda: _raw_meta(meta_raw + b"\0\0", "E_UNIT_SIZE", "section[0]:META", len(meta_raw)),
    )
    n(
        "n_payload_short",
        "A META payload that ends inside camera_to_world: located at the element's first byte (R-203), not where the data ends.",
        ["11.2", "11.10"],
        ["R-59", "R-203"],
        lambda: _raw_meta(meta_raw[:40], "E_TRUNCATED", "section[0]:META.", META_C2W_AT, exact_field=False),
    )
    n(
        "n_file_trailing",
        "Three bytes after the last section.",
        ["11.2"],
        ["R-59"],
        _framing(m(), "E_UNIT_SIZE", "fca_file", lambda b: len(b.data) - 3, tail=b"abc"),
    )
    # --- zstd (R-55)
    z = lambda stored, cls="E_DECOMPRESS", **kw: lambda: zstd_meta(meta_raw, stored, cls, **kw)  # noqa: E731
    n(
        "n_zstd_expands",
        "A zstd META frame (no content size) that expands past raw_size: a decoder stops at raw_size + 1 bytes.",
        ["11.2.1"],
        ["R-55"],
        z(_zstd_no_size(meta_raw + bytes(5000)), raw_size=len(meta_raw)),
    )
    n(
        "n_zstd_content_size",
        "The frame declares a content size other than raw_size.",
        ["11.2.1"],
        ["R-55"],
        z(zstd_frame(meta_raw + b"\0"), raw_size=len(meta_raw)),
    )
    n(
        "n_zstd_short",
        "The frame (no content size) expands to fewer bytes than raw_size.",
        ["11.2.1"],
        ["R-55"],
        z(_zstd_no_size(meta_raw[:-4]), raw_size=len(meta_raw)),
    )
    n("n_zstd_trailing", "Bytes after the zstd frame inside the stored payload.", ["11.2.1"], ["R-55"], z(zstd_frame(meta_raw) + b"\x00\x01"))
    n(
        "n_zstd_two_frames",
        "Two zstd frames in one payload (only one is allowed).",
        ["11.2.1"],
        ["R-55"],
        z(_zstd_no_size(meta_raw[:50]) + _zstd_no_size(meta_raw[50:])),
    )
    n("n_zstd_window", "A frame whose window (2^24) exceeds level 10's 2^23.", ["11.2.1", "11.9"], ["R-55"], z(_zstd_window_frame(meta_raw)))
    n("n_zstd_corrupt", "Not a zstd frame at all (bad magic).", ["11.2.1"], ["R-55"], z(b"\x00" * 20 + meta_raw))
    # --- section order and registry (R-56, R-60, R-73)
    s = lambda secs, idx, cls, fld: lambda: _order(secs, idx, cls, fld)  # noqa: E731
    n(
        "n_unknown_critical",
        "An unknown section 'XTRA' with the critical flag set.",
        ["11.3"],
        ["R-56"],
        s(m()[:2] + [Sec(b"XTRA", raw=b"1234", flags=1)] + m()[2:], 2, "E_SECTION", "section[2].section_type"),
    )
    n(
        "n_meta_not_first",
        "An ATTR section before META.",
        ["11.3"],
        ["R-56"],
        s([m()[1], m()[0]] + m()[2:], 0, "E_SECTION", "section[0].section_type"),
    )
    n(
        "n_text_first",
        "A TEXT section before META (ancillary sections may only follow META).",
        ["11.3"],
        ["R-56"],
        s([Sec(b"TEXT", {"text_entries": []})] + m(), 0, "E_SECTION", "section[0].section_type"),
    )
    n("n_meta_repeated", "Two META sections.", ["11.3"], ["R-56"], s(m()[:1] + m(), 1, "E_SECTION", "section[1].section_type"))
    n(
        "n_rank_order",
        "BIND (rank 2) after an ATTR (rank 3).",
        ["11.3"],
        ["R-56"],
        s(m()[:2] + [Sec(b"BIND", {"binding_mode": 0})] + m()[2:], 2, "E_SECTION", "section[2].section_type"),
    )
    n(
        "n_defm_and_defr",
        "DEFR after DEFM (same rank, not repeatable).",
        ["11.3", "11.5.2"],
        ["R-56"],
        s(
            encoder_avatar(3, zstd=False, sh=0, skeleton=False, cmap=False)()[:3]
            + [Sec(b"DEFR", {"model_name": b"FLAME2020", "model_sha256": bytes(32)})],
            3,
            "E_SECTION",
            "section[3].section_type",
        ),
    )
    n("n_attr_twice", "OPACITY given by two ATTR sections.", ["11.3"], ["R-60"], s(m() + [m()[5]], 6, "E_SECTION", "section[6]:ATTR.attribute_id"))
    n("n_attr_missing", "No ROTATION attribute.", ["11.3"], ["R-60"], lambda: _missing(m()[:4] + m()[5:]))
    n("n_latn_and_attr", "ROTATION given by a LATN section and an ATTR section.", ["11.3", "12.2"], ["R-73"], lambda: _latn_twice())
    n(
        "n_bind_without_model",
        "BIND with vertex mode and no DEFM/DEFR.",
        ["11.3", "11.6"],
        ["R-60"],
        damaged_file(m()[:1] + [Sec(b"BIND", {"binding_mode": 0})] + m()[1:], "BIND.binding_mode", b"\x01", "E_SECTION", 1),
    )
    # --- payload values (R-57..R-67)
    raw_attrs = m()
    n("n_qbits_17", "q_bits 17 in a ROTATION block.", ["11.1.3"], ["R-57"], damaged_file(raw_attrs, "attribute.q_bits", b"\x11", "E_VALUE", 4))
    n("n_qbits_0", "q_bits 0 in a POSITION block.", ["11.1.3"], ["R-57"], damaged_file(raw_attrs, "attribute.q_bits", b"\x00", "E_VALUE", 1))
    q8 = [Sec(b"META", av.meta(3))] + av.static_attrs(3, 0, 5, {4: 3})
    n(
        "n_qvalue_over",
        "A 3-bit OPACITY sample of 8 (above 2^3 - 1).",
        ["11.1.3"],
        ["R-57"],
        damaged_file(q8, "attribute.q_values", b"\x08", "E_VALUE", 5),
    )
    n(
        "n_qrange",
        "q_min > q_max (R-16 applied to a block): E_RANGE located at q_max, the element that completes the pairs (R-203).",
        ["11.1.3"],
        ["R-57", "R-203"],
        damaged_file(q8, "attribute.q_max", b"\xc0", "E_RANGE", 5, write_delta=3),  # located at q_max (R-203)
    )
    n("n_raw_nan", "A NaN in a q_bits 32 block.", ["11.1.3"], ["R-57"], lambda: _nan())
    n(
        "n_sh_rest_degree0",
        "An SH_REST ATTR section at sh_degree 0 (0 channels).",
        ["11.7"],
        ["R-67"],
        damaged_file(raw_attrs, "attribute_id", b"\x05", "E_VALUE", 5),
    )
    vfull = encoder_avatar(3, zstd=False, sh=0, skeleton=True, cmap=True)
    n(
        "n_morph_gaps",
        "Morph index gaps reaching vertex 10 of 10 vertices (R-62).",
        ["11.5.1"],
        ["R-62"],
        damaged_file(vfull(), "morph_index_gaps[1]", b"\x01", "E_VALUE"),
    )
    n("n_skin_weights", "Skin weights of vertex 0 sum to 65534.", ["11.5.1"], ["R-63"], lambda: _weights(vfull()))
    n(
        "n_coeff_source",
        "coeff_source HEAD_TRANSLATION (4), a group the META layout does not have.",
        ["11.5.1"],
        ["R-61"],
        damaged_file(vfull(), "coeff_map.coeff_source", b"\x04", "E_LAYOUT_MISMATCH"),
    )
    n("n_defr_unregistered", "DEFR names 'FLAME2023' (not registered).", ["11.5.2"], ["R-64"], lambda: _defr_name())
    n("n_bind_index", "A binding index of 10 with 10 vertices.", ["11.6"], ["R-65"], damaged_file(vfull(), "binding_index", b"\x0a", "E_VALUE"))
    n(
        "n_vertex_count_level",
        "vertex_count 2^20 in a small DEFM at level 10 (max 65536): E_LEVEL before the vertices are read.",
        ["11.5.1", "11.9"],
        ["R-68"],
        damaged_file(vfull(), "DEFM.vertex_count", struct.pack("<I", 1 << 20), "E_LEVEL"),
    )
    n(
        "n_gaussian_count_level",
        "gaussian_count 0x00FFFFFF at level 10.",
        ["11.4", "11.9"],
        ["R-68"],
        damaged_file(m(), "META.gaussian_count", struct.pack("<I", 0xFFFFFF), "E_LEVEL", 0),
    )
    n(
        "n_text_utf8",
        "A TEXT value that is not UTF-8: a conforming decoder reads TEXT (R-200), so E_VALUE.",
        ["11.8"],
        ["R-59", "R-200"],
        damaged_file(
            m()[:1] + [Sec(b"TEXT", {"text_entries": [{"text_key": b"k", "text_value": b"ok"}]})] + m()[1:], "text_value[0]", b"\xff", "E_VALUE", 1
        ),
    )
    # --- neural sections (R-70, R-72, R-76)
    lat = lambda: latn_sections(6, (3, 4), 0, 4, None, False)  # noqa: E731
    omlp = lambda: [Sec(x.type, x.payload) for x in omlp_sections(9, 0, 3, 1, 0.6)]  # noqa: E731
    n("n_mask_padding", "A layer mask with a padding bit set past layer_in x layer_out.", ["12.1"], ["R-70"], lambda: _mask_pad(omlp()))
    n(
        "n_mlp_chain",
        "layer_in of layer 1 differs from layer_out of layer 0.",
        ["12.1"],
        ["R-70"],
        damaged_file(lat(), "latent_decoder.mlp_layers[1].layer_in", b"\x11", "E_VALUE"),
    )
    n(
        "n_mlp_weights_level",
        "A decoder declaring 4096 x 4096 weights in layer 1 (over level 10's max_mlp_weights): E_LEVEL at layer_out before any weight is read.",
        ["12.1", "11.9"],
        ["R-70", "R-68"],
        lambda: _mlp_budget(lat()),
    )
    n("n_latent_bits", "latent_bits 17.", ["12.2"], ["R-72"], damaged_file(lat(), "latent_bits", b"\x11", "E_VALUE"))
    n(
        "n_offset_semantic",
        "offset_semantic HEAD_TRANSLATION (4), not in the layout.",
        ["12.3"],
        ["R-76"],
        damaged_file(omlp(), "offset_semantic[0]", b"\x04", "E_LAYOUT_MISMATCH"),
    )
    n("n_pe_frequencies", "pe_frequencies 17.", ["12.3"], ["R-76"], damaged_file(omlp(), "OMLP.pe_frequencies", b"\x11", "E_VALUE"))
    return d


def _sized(sections, idx, cls, fld, delta, zstd=False, **forge) -> tuple:
    secs = [Sec(**{**s.__dict__, **({"zstd": True} if zstd and i == idx else {}), **(forge if i == idx else {})}) for i, s in enumerate(sections)]
    b = build(secs)
    return b, secs, ExpectedErr(cls, fld, b.section_offsets[idx] + delta)


def _forged_size(sections):
    def make():
        return _sized(sections, 0, "E_LEVEL", "section[0].raw_size", 12, stored_size=0x7FFFFFF0, raw_size=0x7FFFFFF0)

    return make


def _typed(sections, idx, kind, flags, cls, fld):
    secs = list(sections)
    secs[idx] = Sec(kind, raw=build([sections[0], sections[idx]]).raws[1], flags=flags)
    b = build(secs)
    return b, secs, ExpectedErr(cls, fld, b.section_offsets[idx])


def _crc_flip(sections):
    b = build(sections)
    at = b.body_offsets[1] + 3
    data = bytearray(b.data)
    data[at] ^= 0x40
    return (
        Built(bytes(data), b.trace, b.section_offsets, b.body_offsets, b.raws),
        sections,
        ExpectedErr("E_CRC", "section[1].section_crc", b.section_offsets[1] + 16),
    )


#: Payload offset of camera_to_world in av.meta() (no layout group): 4 + 1 + 1 + 2 + 1 + 2 + 2 + 4 x 4 (SPEC 11.4).
META_C2W_AT = 29


def _raw_meta(raw: bytes, cls: str, fld: str, rel: int, exact_field: bool = True):
    secs = [Sec(b"META", raw=raw)] + av.minimal_sections()[1:]
    b = build(secs)
    at = b.body_offsets[0] + rel
    return b, secs, ExpectedErr(cls, fld if exact_field else "section[0]:META.camera_to_world", at)


def _total_over():
    def make():
        big = Sec(b"PADX", raw=bytes(16 << 20), flags=0, zstd=True)
        secs = av.minimal_sections()[:1] + [big, big, big, big] + av.minimal_sections()[1:]
        b = build(secs)
        return b, secs, ExpectedErr("E_LEVEL", "section[4].raw_size", b.section_offsets[4] + 12)

    return make


def _order(secs, idx, cls, fld):
    b = build(secs)
    return b, secs, ExpectedErr(cls, fld, b.section_offsets[idx])


def _missing(secs):
    b = build(secs)
    return b, secs, ExpectedErr("E_SECTION", "fca_file", len(b.data))


def _latn_twice():
    secs = [Sec(x.type, x.payload) for x in latn_sections(6, (3, 4), 0, 4, None, False)]
    secs.append(Sec(b"ATTR", av.attr(3, av.raw_block(np.tile([1.0, 0, 0, 0], (20, 1)).T))))
    b = build(secs)
    return b, secs, ExpectedErr("E_SECTION", f"section[{len(secs) - 1}]:ATTR.attribute_id", b.section_offsets[-1])


def _nan():
    """COLOR_DC value 1 (of 3) becomes the quiet NaN 0x7FC00000: byte k of it lies in plane k."""
    secs = av.minimal_sections()
    b = build(secs)
    t = b.find("attribute.q_values", 2)
    for k, byte in enumerate(b"\x00\x00\xc0\x7f"):
        b = patch_file(b, t.offset + 3 * k + 1, bytes([byte]))
    return b, secs, ExpectedErr("E_VALUE", t.field, t.offset)


def _weights(secs):
    b = build(secs)
    t = b.find("skeleton.vertex_weights", 2)
    data = bytes(b.data)
    lo = data[t.offset]  # low byte of vertex 0, slot 0 (plane 0)
    new = bytes([(lo - 1) % 256]) if lo else None
    if new is None:  # borrow: take one from another slot's low byte that is nonzero
        raise AssertionError("pick another seed: low byte of weight 0 is 0")
    return patch_file(b, t.offset, new), secs, ExpectedErr("E_VALUE", t.field, t.offset)


def _defr_name():
    secs = [Sec(b"META", av.meta(2)), Sec(b"DEFR", {"model_name": b"FLAME2023", "model_sha256": bytes(32)})] + av.static_attrs(2, 0, 3)
    b = build(secs)
    t = b.find("model_name", 1)
    return b, secs, ExpectedErr("E_VALUE", t.field, t.offset)


def _mask_pad(secs):
    b = build(secs)
    t = b.find("mlp_layers[0].layer_mask", len(secs) - 1)
    last = t.offset + t.size - 1  # layer 0 has 76 x 23 = 1748 bits: 4 padding bits in the last byte
    byte = b.data[last]
    return patch_file(b, last, bytes([byte | 0x01])), secs, ExpectedErr("E_PADDING", t.field, t.offset)


def _mlp_budget(secs):
    """Layer count 3 and layer 1 declared 16 -> 4096: 3 x 16 + 16 x 4096 = 65584 weights > 65536."""
    b = build(secs)
    t0 = b.find("latent_decoder.mlp_layer_count")
    data = patch_file(b, t0.offset, b"\x03")
    tl = b.find("latent_decoder.mlp_layers[1].layer_out")
    data = patch_file(data, tl.offset, struct.pack("<H", 4096))
    return data, secs, ExpectedErr("E_LEVEL", tl.field, tl.offset)


def _latn_payload(n: int, ids: list[int], dims: int, hidden: int, outputs: int, scale: float = 1.0, bits: int = 1) -> dict:
    """A LATN payload chosen here: every latent sample 0 and a dims -> hidden -> outputs decoder of 1/4 weights."""
    return {
        "latent_attribute_ids": ids,
        "latent_dims": dims,
        "latent_bits": bits,
        "latent_scale": np.full(dims, scale, np.float32),
        "latent_values": np.zeros(dims * n, np.uint16),
        "latent_decoder": {
            "mlp_layers": [
                {"layer_in": dims, "layer_out": hidden, "layer_activation": 1, "layer_weights": np.full(dims * hidden, 0.25, np.float16),
                 "layer_bias": np.zeros(hidden, np.float16)},
                {"layer_in": hidden, "layer_out": outputs, "layer_activation": 0, "layer_weights": np.full(hidden * outputs, 0.25, np.float16),
                 "layer_bias": np.zeros(outputs, np.float16)},
            ]
        },
    }


def _text_payload(count: int) -> dict:
    return {"text_entries": [{"text_key": b"", "text_value": b""}] * count}


def bound_vectors() -> list[ContainerDef]:
    """What a decoder holds after decoding (SPEC 11.9, R-91, R-92), section order (R-56), values (R-93, R-94)."""
    m = av.minimal_sections
    meta64k = Sec(b"META", av.meta(65536), zstd=True)
    rot_zero = m()
    rot_zero[4] = Sec(b"ATTR", av.attr(3, av.raw_block([[0.0], [0.0], [0.0], [0.0]])))
    texts = [Sec(b"TEXT", _text_payload(600)), Sec(b"TEXT", _text_payload(425))]
    big_latn = [Sec(b"LATN", _latn_payload(65536, [a], 64, 4, w), zstd=True) for a, w in ((1, 3), (2, 3))]
    overflow = m()[:4] + m()[5:6] + [Sec(b"LATN", _latn_payload(1, [3], 1, 4, 4, scale=3e38, bits=2))]

    def n(name, purpose, clauses, reqs, make):
        return ContainerDef(name, purpose, clauses, reqs, make)

    return [
        n(
            "n_ancillary_before_meta",
            "An unknown ancillary section (ZZZZ, critical 0) before META: META must be first whatever the section (not an AttributeError).",
            ["11.3"],
            ["R-56"],
            lambda: _order([Sec(b"ZZZZ", raw=b"x", flags=0)] + m(), 0, "E_SECTION", "section[0].section_type"),
        ),
        n(
            "n_text_entries_level",
            "Two TEXT sections of 600 and 425 empty entries: 1025 in all, over level 10's max_text_entries 1024, at the second text_count.",
            ["11.8", "11.9"],
            ["R-91", "R-92"],
            first_error(m()[:1] + texts + m()[1:], "TEXT.text_count", 2, "E_LEVEL"),
        ),
        n(
            "n_decoded_values_level",
            "Two LATN sections of 64 latent dimensions for 65,536 Gaussians (a few hundred bytes of zstd each): "
            "the second one's 65,536 x 64 latent samples bring the decoded values past level 10's max_decoded_values 2^23.",
            ["12.2", "11.9"],
            ["R-90", "R-91", "R-92"],
            first_error([meta64k] + big_latn, "latent_values", 2, "E_LEVEL"),
        ),
        n(
            "n_activations_level",
            "The issue's 376-byte repro: 65,536 Gaussians through a 1 -> 4096 -> 1 decoder (8,192 weights) holds 65,536 x 4096 "
            "activations, over level 10's max_activations 2^23: E_LEVEL at layer 0's layer_out, before its weights.",
            ["12.1", "11.9"],
            ["R-91", "R-92"],
            first_error([meta64k, Sec(b"LATN", _latn_payload(65536, [4], 1, 4096, 1), zstd=True)], "mlp_layers[0].layer_out", 1, "E_LEVEL"),
        ),
        n(
            "n_latent_macs_level",
            "65,536 Gaussians through a 64 -> 128 layer: 2^23 activations (at the limit) but 2^29 multiply-adds, over level 10's "
            "max_latent_macs 2^26: E_LEVEL at layer 0's layer_out.",
            ["12.2", "11.9"],
            ["R-91", "R-92"],
            first_error([meta64k, Sec(b"LATN", _latn_payload(65536, [4], 64, 128, 1), zstd=True)], "mlp_layers[0].layer_out", 1, "E_LEVEL"),
        ),
        n(
            "y_ancillary_not_decompressed",
            "An unknown ancillary section marked zstd whose stored bytes are no Zstandard frame and whose raw_size is 1 MiB: "
            "a decoder checks its CRC and skips it without decompressing (a decoder that decompresses it rejects a valid file).",
            ["11.2.1", "11.3"],
            ["R-54", "R-56", "R-95"],
            valid_file(m()[:1] + [Sec(b"ZZZZ", raw=b"", compression=1, stored=b"not a zstd frame", raw_size=1 << 20, flags=0)] + m()[1:]),
        ),
        n(
            "i_level20_text_entries",
            "1025 TEXT entries (above level 10's max_text_entries 1024) at level 20: a level-20 decoder decodes it.",
            ["11.8", "11.9"],
            ["R-91"],
            valid_file(m()[:1] + texts + m()[1:], level=20),
        ),
        n(
            "n_rotation_zero",
            "A ROTATION attribute whose one quaternion is (0, 0, 0, 0).",
            ["11.7"],
            ["R-93"],
            first_error(rot_zero, "attribute.q_values", 4, "E_VALUE"),
        ),
        n(
            "n_camera_not_rotation",
            "META's camera_to_world scaled by 2: a default camera no renderer accepts (R-83) is rejected by the decoder.",
            ["11.4"],
            ["R-97"],
            first_error([Sec(b"META", av.meta(c2w=[2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 2]))] + m()[1:], "META.camera_to_world", 0, "E_VALUE"),
        ),
        n(
            "n_latent_input_overflow",
            "latent_scale 3e38 with a 2-bit latent of -2: the decoder input -6e38 is not a binary32.",
            ["12.2"],
            ["R-94"],
            first_error(overflow, "latent_values", 5, "E_VALUE"),
        ),
    ]


# ------------------------------------------------------------------ attribute codings (11.7.1)
def _s3_attr(largest, q, bits: int = 10, lo=(-0.7, -0.7, -0.9), hi=(0.7, 0.7, 0.9)) -> Sec:
    """A ROTATION_S3 section: largest-component indices and 3 x N samples chosen here."""
    return Sec(b"ATTR", {"attribute_id": 6, "largest_component": np.asarray(largest), "attribute": av.qblock(bits, lo, hi, q)})


def _coded_sections() -> list[Sec]:
    """Five Gaussians: every largest-component index, a missing component clamped at 0 (three components
    at +-0.9 / +-0.7: the sum of squares exceeds 1), opacities 0 and 1 at the ends of [0, 1]."""
    n = 5
    top = 1023
    s3 = _s3_attr([0, 1, 2, 3, 0], [[512, 0, top, 300, top], [511, 0, top, 700, 0], [512, 0, top, 1000, top]])
    alpha = Sec(b"ATTR", av.attr(7, av.qblock(8, [0.0], [1.0], [[0, 255, 128, 1, 254]])))
    return [Sec(b"META", av.meta(n))] + [x for x in av.static_attrs(n, 0, 21) if x.payload["attribute_id"] in (0, 1, 2)] + [s3, alpha]


def coding_vectors() -> list[ContainerDef]:
    """Smallest-three rotations and opacity after the sigmoid (SPEC 11.7.1, R-150..R-152)."""
    from refcodec.fca import PackConfig

    m = av.minimal_sections
    coded = _coded_sections()
    big_alpha = coded[:-1] + [Sec(b"ATTR", av.attr(7, av.qblock(8, [0.0], [1.5], [[0, 255, 128, 1, 170]])))]
    raw_alpha = m()[:5] + [Sec(b"ATTR", av.attr(7, av.raw_block([1.0000001])))]
    bad_index = coded[:4] + [_s3_attr([0, 1, 4, 3, 0], np.zeros((3, 5), np.int64))] + coded[5:]
    both = m() + [_s3_attr([0], [[0], [0], [0]], lo=(0.0,) * 3, hi=(0.0,) * 3)]

    def n(name, purpose, clauses, reqs, make, **kw):
        return ContainerDef(name, purpose, clauses, reqs, make, **kw)

    def latn_coding():
        secs = m()[:4] + m()[5:6] + [Sec(b"LATN", _latn_payload(1, [6], 1, 4, 3))]
        b = build(secs)
        t = b.find("latent_attribute_ids[0]")  # the check covers the list: reported at its first byte, no subscript
        return b, secs, ExpectedErr("E_VALUE", t.field.removesuffix("[0]"), t.offset)

    def twice():
        b = build(both)
        return b, both, ExpectedErr("E_SECTION", f"section[{len(both) - 1}]:ATTR.attribute_id", b.section_offsets[-1])

    return [
        n(
            "y_attr_codings",
            "ROTATION_S3 (10-bit components, every largest-component index, one missing component clamped at 0) and "
            "OPACITY_ALPHA (8 bits over [0, 1], both ends) for five Gaussians; stored sections.",
            ["11.7", "11.7.1"],
            ["R-69", "R-150", "R-151", "R-152"],
            valid_file(coded),
        ),
        n(
            "y_attr_codings_encoder",
            "Encoder-made avatar with the library default (ROTATION_S3 at 10 bits, OPACITY_ALPHA at 8), vertex binding, zstd sections.",
            ["11.7", "11.7.1"],
            ["R-69", "R-150", "R-151"],
            lambda: valid_file(encoder_avatar(7)(PackConfig()))(),
        ),
        n(
            "n_largest_component_range",
            "A ROTATION_S3 largest_component of 4 (a quaternion has components 0..3).",
            ["11.7.1"],
            ["R-150"],
            first_error(bad_index, "ATTR.largest_component", 4, "E_VALUE"),
        ),
        n(
            "n_opacity_alpha_range",
            "OPACITY_ALPHA over [0, 1.5]: a sample decodes above 1.",
            ["11.7.1"],
            ["R-151"],
            first_error(big_alpha, "attribute.q_values", 5, "E_VALUE"),
        ),
        n(
            "n_opacity_alpha_raw",
            "A raw binary32 OPACITY_ALPHA of 1.0000001 (the next binary32 above 1).",
            ["11.7.1"],
            ["R-151"],
            first_error(raw_alpha, "attribute.q_values", 5, "E_VALUE"),
        ),
        n(
            "n_rotation_and_s3",
            "ROTATION given twice: by an ATTR ROTATION section and by an ATTR ROTATION_S3 section.",
            ["11.3", "11.7.1"],
            ["R-60", "R-152"],
            twice,
        ),
        n(
            "n_latn_coding_id",
            "A LATN section listing ROTATION_S3 (codings are ATTR forms only).",
            ["11.7.1", "12.2"],
            ["R-152"],
            latn_coding,
        ),
    ]


def delta_vectors() -> list[ContainerDef]:
    """Delta-coded quantized blocks (SPEC 11.1.3, R-153)."""
    from refcodec.fca import PackConfig

    n = 6
    # POSITION b = 2 (q_bits 130): channel 0 stores 3, 1, 0, 2, 3, 2 = deltas -2, -1, 0, 1, -2, 1: samples 2 (-2 mod 4), 1, 1, 2, 0, 1.
    pos = av.qblock(2, [-1.0, 0.0, 0.5], [1.0, 1.0, 0.75], [[3, 1, 0, 2, 3, 2], [0, 0, 0, 0, 0, 1], [1, 1, 1, 1, 1, 1]]) | {"q_bits": 130}
    # COLOR_DC b = 16 (q_bits 144): two-byte residuals, a wrap below 0 (sample 0 - 1 -> 65535) and the largest residual 65535.
    col = av.qblock(16, [0.0, -1.0, 0.25], [1.0, 1.0, 0.5], [[1, 2, 65535, 0, 4, 3], [65535, 0, 0, 0, 0, 2], [0, 1, 3, 5, 7, 9]]) | {"q_bits": 144}
    rest = [x for x in av.static_attrs(n, 0, 31) if x.payload["attribute_id"] in (2, 3, 4)]
    secs = [Sec(b"META", av.meta(n)), Sec(b"ATTR", av.attr(0, pos)), Sec(b"ATTR", av.attr(1, col))] + rest
    over = [Sec(b"META", av.meta(n)), Sec(b"ATTR", av.attr(0, pos | {"q_values": np.array([[3, 1, 0, 2, 3, 8]] + [[0] * 6] * 2).reshape(-1)}))]
    return [
        ContainerDef(
            "y_delta_blocks",
            "Delta-coded blocks written here: POSITION at b = 2 (one-byte residuals, wrapping mod 4) and COLOR_DC at b = 16 "
            "(two-byte residuals, wrapping below 0 and at 65535); stored sections.",
            ["11.1.3"],
            ["R-57", "R-58", "R-69", "R-153"],
            valid_file(secs),
        ),
        ContainerDef(
            "y_delta_blocks_encoder",
            "Encoder-made avatar with every quantized block delta-coded (vertices, morph deltas, attributes); zstd sections.",
            ["11.1.3", "11.5.1", "11.7"],
            ["R-69", "R-153"],
            lambda: valid_file(encoder_avatar(8, n=60, v=40)(PackConfig(delta_coding="always")))(),
        ),
        ContainerDef(
            "n_qbits_145",
            "q_bits 145 (a delta-coded block of 17 bits).",
            ["11.1.3"],
            ["R-57"],
            damaged_file(secs, "attribute.q_bits", b"\x91", "E_VALUE", 1),
        ),
        ContainerDef(
            "n_qbits_128",
            "q_bits 128 (a delta-coded block of 0 bits).",
            ["11.1.3"],
            ["R-57"],
            damaged_file(secs, "attribute.q_bits", b"\x80", "E_VALUE", 1),
        ),
        ContainerDef(
            "n_delta_residual_range",
            "A stored residual of 8 (item 5) in a delta-coded block of b = 2: residuals, like samples, are at most 2^b - 1.",
            ["11.1.3"],
            ["R-57", "R-153"],
            first_error(over + secs[2:], "attribute.q_values", 1, "E_VALUE"),
        ),
    ]




def channel_ref_vectors() -> list[ContainerDef]:
    """Delta-coded blocks with channel references (SPEC 11.1.3, R-159)."""
    from refcodec.fca import PackConfig

    n = 6
    # COLOR_DC b = 8 (q_bits 168), references 0, 1, 2 (green from red, blue from green):
    #   red   stores 20, 1, 2, 0, 3, 4 -> d 10, -1, 1, 0, -2, 2  -> D = q = 10, 9, 10, 10, 8, 10
    #   green stores 1, 0, 2, 1, 0, 0  -> d -1, 0, 1, -1, 0, 0  -> D = 255, 255, 0, 255, 255, 255 -> q = red + D mod 256 = 9, 8, 10, 9, 7, 9
    #   blue  stores 4, 0, 0, 1, 3, 0  -> d 2, 0, 0, -1, -2, 0  -> D = 2, 2, 2, 1, 255, 255     -> q = green + D mod 256 = 11, 10, 12, 10, 6, 8
    col = av.qblock(8, [-1.0, -1.0, -1.0], [1.0, 1.0, 1.0], [[20, 1, 2, 0, 3, 4], [1, 0, 2, 1, 0, 0], [4, 0, 0, 1, 3, 0]])
    col |= {"q_bits": 168, "q_channel_ref": np.array([0, 1, 2], np.uint8)}
    # LOG_SCALE b = 3 (q_bits 163), references 0, 0, 1 (axis 2 from axis 0, axis 1 on its own):
    #   axis 0 stores 6, 0, 4, 0, 3, 2 -> d 3, 0, 2, 0, -2, 1 -> q = 3, 3, 5, 5, 3, 4
    #   axis 1 stores 0, 2, 2, 2, 1, 1 -> d 0, 1, 1, 1, -1, -1 -> q = 0, 1, 2, 3, 2, 1
    #   axis 2 stores 7, 0, 0, 0, 0, 0 -> d -4 -> D = 4 (all) -> q = axis 0 + 4 mod 8 = 7, 7, 1, 1, 7, 0 (wrapping)
    scl = av.qblock(3, [-8.0, -7.0, -6.0], [-4.0, -3.5, -3.0], [[6, 0, 4, 0, 3, 2], [0, 2, 2, 2, 1, 1], [7, 0, 0, 0, 0, 0]])
    scl |= {"q_bits": 163, "q_channel_ref": np.array([0, 0, 1], np.uint8)}
    others = [x for x in av.static_attrs(n, 0, 37) if x.payload["attribute_id"] in (0, 3, 4)]
    secs = [Sec(b"META", av.meta(n)), Sec(b"ATTR", av.attr(1, col)), Sec(b"ATTR", av.attr(2, scl))] + others
    rot = av.qblock(2, [0.0] * 4, [1.0] * 4, [[2, 1], [0, 0], [0, 0], [0, 0]]) | {"q_bits": 162, "q_channel_ref": np.array([0, 1, 1, 1], np.uint8)}
    zero_rotation = [Sec(b"META", av.meta(2))] + [x for x in av.static_attrs(2, 0, 5) if x.payload["attribute_id"] != 3]
    zero_rotation.append(Sec(b"ATTR", av.attr(3, rot)))

    def encoder_made():  # colours whose channels move together (a skin): green near red, blue near green
        import dataclasses

        avatar = av.small_avatar(9, n=400, v=40)
        rng = np.random.RandomState(9)
        red = rng.normal(0.0, 1.0, 400)
        green = red + rng.normal(0.0, 0.05, 400)
        dc = np.stack([red, green, green + rng.normal(0.0, 0.05, 400)], 1).astype(np.float32)
        avatar = dataclasses.replace(avatar, gaussians=dataclasses.replace(avatar.gaussians, sh_dc=dc))
        return valid_file(av.encoder_sections(avatar, PackConfig()))()

    return [
        ContainerDef(
            "y_channel_refs",
            "Channel references written here: COLOR_DC at b = 8 (green from red, blue from green: a chain) and LOG_SCALE at "
            "b = 3 (axis 2 from axis 0, wrapping mod 8; axis 1 on its own); stored sections.",
            ["11.1.3"],
            ["R-57", "R-58", "R-153", "R-159"],
            valid_file(secs),
        ),
        ContainerDef(
            "y_channel_refs_encoder",
            "Encoder-made avatar (fcpack defaults: each block plain, delta-coded or with channel references, whichever "
            "Zstandard makes smallest; colour and log-scale channels over one span); zstd sections.",
            ["11.1.3", "11.7"],
            ["R-153", "R-159"],
            encoder_made,
        ),
        ContainerDef(
            "n_channel_ref_self",
            "q_channel_ref of channel 1 is 2: a channel refers to itself, not an earlier channel.",
            ["11.1.3"],
            ["R-159"],
            damaged_file(secs, "attribute.q_channel_ref", b"\x00\x02\x02", "E_VALUE", 1),
        ),
        ContainerDef(
            "n_channel_ref_first",
            "q_channel_ref of channel 0 is 1: the first channel has no earlier channel to refer to.",
            ["11.1.3"],
            ["R-159"],
            damaged_file(secs, "attribute.q_channel_ref", b"\x01", "E_VALUE", 2),
        ),
        ContainerDef(
            "n_channel_ref_zero_rotation",
            "A ROTATION block at b = 2 whose channels 1..3 refer to channel 0 (references 0, 1, 1, 1) and store zero differences; "
            "channel 0 stores 2, 1 (samples 1, 0), so Gaussian 1 decodes to (0, 0, 0, 0): R-93 applies to the samples after R-159.",
            ["11.1.3", "11.7"],
            ["R-93", "R-159"],
            first_error(zero_rotation, "attribute.q_values", 5, "E_VALUE"),
        ),
        ContainerDef(
            "n_qbits_177",
            "q_bits 177 (a block with channel references of 17 bits).",
            ["11.1.3"],
            ["R-57"],
            damaged_file(secs, "attribute.q_bits", b"\xb1", "E_VALUE", 1),
        ),
        ContainerDef(
            "n_qbits_160",
            "q_bits 160 (a block with channel references of 0 bits).",
            ["11.1.3"],
            ["R-57"],
            damaged_file(secs, "attribute.q_bits", b"\xa0", "E_VALUE", 1),
        ),
    ]


# ------------------------------------------------------------------ branch-coverage vectors (H10)
# Vectors that reach the reading branches the hardening of R-90..R-97 left without one
# (conformance/branch_coverage.json). The Zstandard frames are written here byte by byte
# from RFC 8878 (3.1.1: magic, Frame_Header_Descriptor, Window_Descriptor, 3-byte block
# headers), not by a compressor, so each one has exactly the defect its vector names.
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ZSTD_HEADER_NO_SIZE = _ZSTD_MAGIC + b"\x00\x00"
"""Frame_Header_Descriptor 0 (no content size, no checksum, no dictionary, not single
segment), then Window_Descriptor 0: a 1 KiB window (RFC 8878 3.1.1.1.2)."""
_RAW, _RESERVED = 0, 3


def _zstd_block(kind: int, size: int, last: bool = True) -> bytes:
    """A block header (RFC 8878 3.1.1.2): Last_Block bit 0, Block_Type bits 1-2, Block_Size bits 3-23, little-endian."""
    return (int(last) | kind << 1 | size << 3).to_bytes(3, "little")


def coverage_vectors() -> list[ContainerDef]:
    """n_ vectors for reading branches that had none: the block walk of R-95, raw_size 0, META values (R-97), R-72, R-76."""
    m = av.minimal_sections
    meta_raw = bytes(build([Sec(b"META", av.meta())]).raws[0])
    lat = lambda: latn_sections(6, (3, 4), 0, 4, None, False)  # noqa: E731
    omlp = lambda: [Sec(x.type, x.payload) for x in omlp_sections(9, 0, 3, 1, 0.6)]  # noqa: E731
    z = lambda stored, raw_size=None: lambda: zstd_meta(meta_raw, stored, "E_DECOMPRESS", raw_size)  # noqa: E731

    def n(name, purpose, clauses, reqs, make):
        return ContainerDef(name, purpose, clauses, reqs, make)

    return [
        n(
            "n_zstd_no_block",
            "A Zstandard frame header (magic, descriptor, window) and no block header after it.",
            ["11.2.1"],
            ["R-55", "R-95"],
            z(_ZSTD_HEADER_NO_SIZE),
        ),
        n(
            "n_zstd_block_reserved",
            "A Zstandard frame whose one block has the reserved Block_Type 3 (RFC 8878 3.1.1.2.2).",
            ["11.2.1"],
            ["R-55", "R-95"],
            z(_ZSTD_HEADER_NO_SIZE + _zstd_block(_RESERVED, 0)),
        ),
        n(
            "n_zstd_block_overrun",
            "A Zstandard frame whose last block, a raw block of 200 bytes, runs past the stored payload (10 bytes follow its header).",
            ["11.2.1"],
            ["R-55", "R-95"],
            z(_ZSTD_HEADER_NO_SIZE + _zstd_block(_RAW, 200) + meta_raw[:10]),
        ),
        n(
            "n_zstd_blocks_short",
            "A frame without content size whose one raw block holds 10 bytes, for a raw_size of the whole META payload: "
            "its blocks cannot give raw_size bytes, so it is rejected before any output is allocated.",
            ["11.2.1"],
            ["R-55", "R-95"],
            z(_ZSTD_HEADER_NO_SIZE + _zstd_block(_RAW, 10) + meta_raw[:10], raw_size=len(meta_raw)),
        ),
        n(
            "n_zstd_raw_size_zero",
            "A compressed META with raw_size 0 whose frame (no content size) holds a 1-byte raw block: it expands past raw_size 0.",
            ["11.2.1"],
            ["R-55", "R-95"],
            z(_ZSTD_HEADER_NO_SIZE + _zstd_block(_RAW, 1) + b"\x00", raw_size=0),
        ),
        n(
            "n_layout_semantic_twice",
            "META lists the group EXPRESSION (1) twice in its layout.",
            ["11.4"],
            ["R-97"],
            first_error([Sec(b"META", av.meta(layout=[(1, 10), (1, 10)]))] + m()[1:], "META.layout_semantic[1]", 0, "E_VALUE"),
        ),
        n(
            "n_layout_semantic_reserved",
            "META's layout group has layout_semantic 9, not a group semantic of SPEC 4.2 (ids 0..8).",
            ["4.2", "11.4"],
            ["R-90"],
            first_error([Sec(b"META", av.meta(layout=[(9, 1)]))] + m()[1:], "META.layout_semantic[0]", 0, "E_VALUE"),
        ),
        n(
            "n_render_width_zero",
            "META's render_width 0 (1 to 8192).",
            ["11.4"],
            ["R-97"],
            first_error([Sec(b"META", av.meta(size=(0, 48)))] + m()[1:], "META.render_width", 0, "E_VALUE"),
        ),
        n(
            "n_render_height_over",
            "META's render_height 8193 (1 to 8192), with render_width 1 so that the product is within 2^24.",
            ["11.4"],
            ["R-97"],
            first_error([Sec(b"META", av.meta(size=(1, 8193)))] + m()[1:], "META.render_height", 0, "E_VALUE"),
        ),
        n(
            "n_camera_nan",
            "META's camera_to_world with a NaN translation (binary32 quiet NaN): not finite.",
            ["11.4"],
            ["R-97"],
            first_error([Sec(b"META", av.meta(c2w=[1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, np.nan]))] + m()[1:], "META.camera_to_world", 0, "E_VALUE"),
        ),
        n(
            "n_latent_sample_over",
            "A 4-bit latent sample of 16 (above 2^4 - 1) in a stored LATN section.",
            ["12.2"],
            ["R-72"],
            damaged_file(lat(), "latent_values", b"\x10", "E_VALUE"),
        ),
        n(
            "n_offset_semantic_twice",
            "The offset MLP lists ARKIT52 (2) twice (its second input, JAW, rewritten): a group of the layout, so E_VALUE, not E_LAYOUT_MISMATCH.",
            ["12.3"],
            ["R-76"],
            damaged_file(omlp(), "offset_semantic[1]", bytes([av.ARKIT52]), "E_VALUE"),
        ),
    ]

