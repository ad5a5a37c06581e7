"""Container vectors that separate the readings issue 9 found in chapters 11 and 12.

Each vector is one where two decoders following two readings of the old text would answer
differently; its purpose names the other reading and what it would answer. Like every container
vector, the file is written by :mod:`conformance.container.writer` (damage by element name, CRCs
by zlib), and the expected class and byte offset follow from the damage and the clause cited.
"""

from __future__ import annotations

import struct

import numpy as np

from . import avatars as av
from .definitions import ContainerDef, ExpectedErr, first_error, many_joints, patch_file, valid_file, zstd_meta
from .writer import Built, Sec, build, zstd_frame

#: RFC 8878 3.1.2: a skippable frame (magic 0x184D2A50, little-endian) of 4 user bytes.
SKIPPABLE_FRAME = struct.pack("<II", 0x184D2A50, 4) + b"skip"
EXPRESSION, EYELIDS, ROTATION, OPACITY, COLOR_DC = 1, 8, 3, 4, 1


def _header_prefix(data: bytes, cls: str, element: str, offset: int):
    return lambda: (Built(data), [], ExpectedErr(cls, f"file_header.{element}", offset))


def _stale_crc(sections: list[Sec], suffix: str, new: bytes, cls: str, expected_suffix: str | None = None, section: int | None = None):
    """``new`` written over the element ending in ``suffix`` with no CRC recomputed: the CRC
    protects the element, so the expected answer says which check comes first."""

    def make():
        b = build(sections)
        t = b.find(suffix, section)
        at = b.find(expected_suffix, section) if expected_suffix else t
        return patch_file(b, t.offset, new, fix_crc=False), sections, ExpectedErr(cls, at.field, at.offset)

    return make


def _weights(count: int, scale: float) -> np.ndarray:
    """``count`` binary16 weights from a short cycle (exact in binary16, so the file compresses)."""
    return (np.resize(np.arange(-3, 4, dtype=np.float32), count) * np.float32(scale)).astype(np.float16)


def _layer(n_in: int, n_out: int, act: int, scale: float, mask: bytes | None = None, stored: int | None = None) -> dict:
    layer = {
        "layer_in": n_in,
        "layer_out": n_out,
        "layer_activation": act,
        "layer_weights": _weights(n_in * n_out if stored is None else stored, scale),
        "layer_bias": _weights(n_out, 1 / 16),
    }
    return layer | ({"layer_mask": mask} if mask is not None else {})


def _latn(n: int, ids: list[int], bits: int, scales: list[float], layers: list[dict]) -> dict:
    """A LATN payload chosen here: samples cycle through 0 .. 2^bits - 1, dimension-major."""
    dims = len(scales)
    return {
        "latent_attribute_ids": ids,
        "latent_dims": dims,
        "latent_bits": bits,
        "latent_scale": np.asarray(scales, np.float32),
        "latent_values": np.arange(dims * n, dtype=np.uint16) * 5 % (1 << bits),
        "latent_decoder": {"mlp_layers": layers},
    }


def _attrs(n: int, ids: tuple[int, ...]) -> dict[int, Sec]:
    return {s.payload["attribute_id"]: s for s in av.static_attrs(n, 0, 31) if s.payload["attribute_id"] in ids}


def _two_latn() -> list[Sec]:
    """META, POSITION, LATN(ROTATION), COLOR_DC, LOG_SCALE, LATN(OPACITY): rank 3 types interleaved."""
    n = 3
    a = _attrs(n, (0, 1, 2))
    rot = _latn(n, [ROTATION], 3, [0.5, 0.25], [_layer(2, 4, 2, 1 / 4), _layer(4, 4, 0, 1 / 2)])
    opa = _latn(n, [OPACITY], 2, [0.75], [_layer(1, 3, 1, 1 / 2), _layer(3, 1, 0, 1 / 4)])
    return [Sec(b"META", av.meta(n)), a[0], Sec(b"LATN", rot), a[1], a[2], Sec(b"LATN", opa, zstd=True)]


def _weights_per_mlp() -> list[Sec]:
    """Two LATN decoders of 65,520 and 60,300 weights (layer_in x layer_out, biases apart): each
    within level 10's max_mlp_weights 65,536, together above it; the first is above it with its
    1,009 biases."""
    n = 2
    a = _attrs(n, (0, 2, 3))
    opa = _latn(n, [OPACITY], 4, [1 / 64] * 64, [_layer(64, 1008, 1, 2**-10), _layer(1008, 1, 0, 2**-10)])
    col = _latn(n, [COLOR_DC], 4, [1 / 64] * 64, [_layer(64, 900, 2, 2**-10), _layer(900, 3, 0, 2**-8)])
    return [Sec(b"META", av.meta(n)), a[0], a[2], a[3], Sec(b"LATN", opa, zstd=True), Sec(b"LATN", col, zstd=True)]


def _masked_dense() -> list[Sec]:
    """A LATN decoder whose layer 0 is 64 x 1100 = 70,400 dense weights (over 65,536) of which the
    mask keeps 64 (the first row): the limit counts layer_in x layer_out, not the stored weights."""
    n = 2
    a = _attrs(n, (0, 1, 2, 3))
    mask = bytes([0xFF] * 8) + bytes((64 * 1100 + 7) // 8 - 8)
    layers = [_layer(64, 1100, 1, 2**-6, mask=mask, stored=64), _layer(1100, 1, 0, 2**-10)]
    return [Sec(b"META", av.meta(n))] + [a[k] for k in (0, 1, 2, 3)] + [Sec(b"LATN", _latn(n, [OPACITY], 4, [1 / 64] * 64, layers), zstd=True)]


def _skinned(layout, drivers, joint_names=None, coeff_map=None, morphs=None) -> list[Sec]:
    """META with ``layout``, a 3-joint DEFM over 3 vertices (from the level-10 joints vector), vertex binding, 2 Gaussians."""
    secs = many_joints(3)
    defm = dict(secs[1].payload)
    if joint_names is not None:
        defm["skeleton"] = dict(defm["skeleton"])
        defm["skeleton"]["joints"] = [dict(j, joint_name=name) for j, name in zip(defm["skeleton"]["joints"], joint_names, strict=True)]
    defm["drivers"] = [{"driver_semantic": s, "driver_joint": j} for s, j in drivers]
    if coeff_map is not None:
        defm["coeff_map"], defm["morphs"] = coeff_map, morphs
    return [Sec(b"META", av.meta(2, layout=layout)), Sec(b"DEFM", defm), secs[2]] + av.static_attrs(2, 0, 21)


def _coeff_bias_nan() -> list[Sec]:
    morphs = [
        {"morph_name": name, "morph_nnz": 1, "morph_index_gaps": np.array([t]), "morph_deltas": av.qblock(2, [0, 0, 0], [1, 1, 1], [[1], [2], [3]])}
        for t, name in enumerate((b"a", b"b"))
    ]
    cmap = {
        "coeff_source": EXPRESSION,
        "coeff_columns": 3,
        "coeff_matrix": np.arange(6, dtype=np.float32),
        "coeff_bias": np.array([0.5, np.nan], np.float32),
    }
    return _skinned([(EXPRESSION, 3)], [], coeff_map=cmap, morphs=morphs)


def clarity_vectors() -> list[ContainerDef]:
    """Vectors for the container points of issue 9 (SPEC 11.10 R-200..R-207, 12.1, 12.2)."""
    m = av.minimal_sections
    good = build(m()).data
    meta_raw = bytes(build([Sec(b"META", av.meta())]).raws[0])
    v2 = good[:4] + b"\x02" + good[5:]
    text_secs = (
        m()[:1]
        + [Sec(b"TEXT", {"text_entries": [{"text_key": b"k", "text_value": b"first"}, {"text_key": b"k", "text_value": b"second"}]})]
        + m()[1:3]
        + [Sec(b"TEXT", {"text_entries": [{"text_key": b"k", "text_value": b"third"}, {"text_key": b"", "text_value": b"empty key"}]}, zstd=True)]
        + m()[3:]
    )
    text_flagged = m()[:1] + [Sec(b"TEXT", {"text_entries": []})] + m()[1:]

    def c(name, purpose, clauses, reqs, make, **kw):
        return ContainerDef(name, purpose, clauses, reqs, make, **kw)

    return [
        # --- short files and the file header (point 15, 16)
        c(
            "n_header_cut_signature",
            "A 3-byte file 'FCA': E_TRUNCATED located at fca_signature, byte 0 (not at byte 3, where the data ends).",
            ["11.2", "11.10"],
            ["R-50", "R-201"],
            _header_prefix(good[:3], "E_TRUNCATED", "fca_signature", 0),
        ),
        c(
            "n_header_short_signature",
            "An 8-byte file starting 'FCA2': the signature is read in full and wrong, so E_SIGNATURE (a decoder that checks the "
            "16-byte length first answers E_TRUNCATED).",
            ["11.2", "11.10"],
            ["R-50", "R-201"],
            _header_prefix(b"FCA2" + good[4:8], "E_SIGNATURE", "fca_signature", 0),
        ),
        c(
            "n_header_short_version",
            "A 10-byte file with fca_version 2: E_VERSION at byte 4, before the header's end is missed (not E_TRUNCATED).",
            ["11.2", "11.10"],
            ["R-50", "R-201"],
            _header_prefix(v2[:10], "E_VERSION", "fca_version", 4),
        ),
        c(
            "n_version_stale_crc",
            "fca_version 2 with the header_crc of version 1: header_crc is checked after the elements it protects, so E_VERSION, not E_CRC.",
            ["11.2", "11.10"],
            ["R-50", "R-52", "R-201"],
            lambda: (Built(v2), [], ExpectedErr("E_VERSION", "file_header.fca_version", 4)),
        ),
        # --- section headers (points 4, 16)
        c(
            "n_compression_stale_crc",
            "compression 2 in the third section header with its section_crc unchanged: the header's values are checked before the "
            "CRC, so E_VALUE at compression, not E_CRC.",
            ["11.2", "11.10"],
            ["R-55", "R-54", "R-202"],
            _stale_crc(m(), "section[2].compression", b"\x02", "E_VALUE"),
        ),
        c(
            "n_critical_flag_stale_crc",
            "A TEXT section whose critical flag is set after its CRC was computed: the CRC (R-54) comes before the registry checks "
            "(R-56), so E_CRC, not the E_VALUE of the critical flag at section_flags.",
            ["11.2", "11.3", "11.10"],
            ["R-54", "R-56", "R-202"],
            _stale_crc(text_flagged, "section[1].section_flags", b"\x01", "E_CRC", expected_suffix="section[1].section_crc"),
        ),
        c(
            "n_first_section_critical_text",
            "A TEXT section flagged critical as the first section: 'META first, whatever the type and flags' comes before the "
            "critical-flag check, so E_SECTION at section_type, not E_VALUE at section_flags.",
            ["11.3", "11.10"],
            ["R-56", "R-202"],
            first_error([Sec(b"TEXT", {"text_entries": []}, flags=1)] + m(), "section[0].section_type", None, "E_SECTION"),
        ),
        # --- zstd frames (point 18)
        c(
            "n_zstd_skippable_before",
            "A skippable frame (RFC 8878 3.1.2) before META's Zstandard frame: not 'one Zstandard frame' (a decoder that lets "
            "libzstd skip it accepts a file every other decoder rejects).",
            ["11.2.1"],
            ["R-55", "R-204"],
            lambda: zstd_meta(meta_raw, SKIPPABLE_FRAME + zstd_frame(meta_raw), "E_DECOMPRESS"),
        ),
        c(
            "n_zstd_skippable_after",
            "A skippable frame after META's Zstandard frame, inside the stored payload.",
            ["11.2.1"],
            ["R-55", "R-204"],
            lambda: zstd_meta(meta_raw, zstd_frame(meta_raw) + SKIPPABLE_FRAME, "E_DECOMPRESS"),
        ),
        # --- the canonical dump (points 1, 2, 3, 7)
        c(
            "y_text_repeated_key",
            "Key 'k' three times (twice in one TEXT section, once in a later zstd TEXT section) and an empty key: one text.<key> "
            "record per entry, in file order where each TEXT section sits, names repeated (a decoder that keeps TEXT as a map "
            "loses records).",
            ["11.8", "11.10"],
            ["R-69", "R-200", "R-205", "R-206"],
            valid_file(text_secs),
        ),
        c(
            "y_latn_two_sections",
            "Two LATN sections (ROTATION, then OPACITY) interleaved with ATTR sections: each section's records where the section "
            "sits (attr.positions, latn.*, attr.sh_dc, attr.log_scales, latn.*), the latn.* names repeated; 3- and 2-bit latents, "
            "tanh and relu decoders.",
            ["11.10", "12.1", "12.2", "12.4"],
            ["R-69", "R-72", "R-73", "R-74", "R-79", "R-205", "R-206"],
            valid_file(_two_latn()),
            neural=True,
        ),
        # --- MLP weight limit (point 17)
        c(
            "y_mlp_weights_per_mlp",
            "Two LATN decoders of 65,520 and 60,300 weights at level 10 (max_mlp_weights 65,536): valid, because the limit is per "
            "MLP and counts layer_in x layer_out without biases (summed over the container, or with the first decoder's 1,009 "
            "biases, it would be exceeded).",
            ["12.1", "11.9"],
            ["R-70", "R-207"],
            valid_file(_weights_per_mlp()),
            neural=True,
        ),
        c(
            "n_mlp_weights_masked",
            "A decoder layer of 64 x 1100 = 70,400 weights of which the mask keeps 64: E_LEVEL at its layer_out (the limit counts "
            "dense weights, not the stored ones, and is checked before the mask is read).",
            ["12.1", "11.9"],
            ["R-70", "R-207"],
            first_error(_masked_dense(), "mlp_layers[0].layer_out", 5, "E_LEVEL"),
        ),
        # --- missing rules (point 18)
        c(
            "y_driver_expression3",
            "driver_semantic names an EXPRESSION layout group of 3 dimensions: valid (a '3-dimensional layout group' is any META "
            "group whose layout_dims is 3, whatever its semantic).",
            ["11.5.1"],
            ["R-69", "R-208"],
            valid_file(_skinned([(EXPRESSION, 3)], [(EXPRESSION, 2)])),
        ),
        c(
            "n_driver_two_dims",
            "driver_semantic names the EYELIDS layout group (2 dimensions): E_VALUE.",
            ["11.5.1"],
            ["R-208"],
            first_error(_skinned([(EYELIDS, 2)], [(EYELIDS, 0)]), "driver_semantic[0]", 1, "E_VALUE"),
        ),
        c(
            "n_joint_name_utf8",
            "A joint_name that is not UTF-8 (0xFF): E_VALUE.",
            ["11.5.1"],
            ["R-208"],
            first_error(_skinned([], [], joint_names=[b"root", b"j\xff", b"tip"]), "joint_name[1]", 1, "E_VALUE"),
        ),
        c(
            "n_coeff_bias_nan",
            "A coefficient-map bias with a NaN: E_VALUE (coeff_bias shall be finite like coeff_matrix).",
            ["11.5.1"],
            ["R-208"],
            first_error(_coeff_bias_nan(), "coeff_map.coeff_bias", 1, "E_VALUE"),
        ),
    ]
