"""Container vectors for the reading checks the first set left unexercised.

Found with ``python -m conformance.branch_coverage`` (the container half): value checks of
DEFM, DEFR, BIND, ATTR, the MLP layers, LATN and OMLP, the LATN-side "attribute given twice"
check, a file without META, the two Zstandard failures after the bounded read, and a
coefficient map without bias. Like every container vector, each file is written by
:mod:`conformance.container.writer` and damaged at an element found by name in its trace, so
the expected class and byte offset follow from the damage.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import numpy as np
import zstandard

from . import avatars as av
from .definitions import ContainerDef, ExpectedErr, damaged_file, encoder_avatar, latn_sections, omlp_sections, patch_file, valid_file, zstd_meta
from .writer import Sec, build

#: A binary32 +infinity, little-endian.
F32_INF = struct.pack("<f", float("inf"))


def _latn() -> list[Sec]:
    """Stored LATN for ROTATION (3) and OPACITY (4): a 2-layer decoder 3 -> 16 -> 5."""
    return latn_sections(6, (3, 4), 0, 4, None, False)


def _omlp() -> list[Sec]:
    """Stored OMLP with an ARKIT52 values group (offset_inputs[0]) and a JAW rot6d group ([1])."""
    return [Sec(x.type, x.payload) for x in omlp_sections(9, 0, 3, 1, 0.6)]


def _latent_ids(ids: bytes) -> Callable:
    """LATN ids overwritten; the check covers the whole list, reported at its first byte without subscript."""

    def make():
        secs = _latn()
        b = build(secs)
        t = b.find("latent_attribute_ids[0]")
        return patch_file(b, t.offset, ids), secs, ExpectedErr("E_VALUE", t.field.removesuffix("[0]"), t.offset)

    return make


def _defr_not_utf8():
    """DEFR model_name 'FLAME' 0xFF '020': not UTF-8 (0xFF never occurs in UTF-8)."""
    secs = [Sec(b"META", av.meta(2)), Sec(b"DEFR", {"model_name": b"FLAME\xff020", "model_sha256": bytes(32)})] + av.static_attrs(2, 0, 3)
    b = build(secs)
    t = b.find("model_name", 1)
    return b, secs, ExpectedErr("E_VALUE", t.field, t.offset)


def _attr_then_latn():
    """ROTATION given by an ATTR section, then by the LATN section that follows (same rank 3)."""
    secs = _latn()
    k = next(i for i, s in enumerate(secs) if s.type == b"LATN")
    n = next(s.payload["gaussian_count"] for s in secs if s.type == b"META")
    rot = Sec(b"ATTR", av.attr(3, av.raw_block(np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)).T)))
    secs = secs[:k] + [rot] + secs[k:]
    b = build(secs)
    return b, secs, ExpectedErr("E_SECTION", f"section[{k + 1}]:LATN.latent_attribute_ids", b.section_offsets[k + 1])


def _no_meta():
    """A single unknown ancillary section: skipped, so the file ends without META."""
    secs = [Sec(b"XTRA", raw=b"no meta here", flags=0)]
    return build(secs), secs, ExpectedErr("E_SECTION", "section[0].section_type", 16)


def _meta_raw() -> bytes:
    return bytes(build([Sec(b"META", av.meta())]).raws[0])


def _checksum_frame(raw: bytes) -> bytes:
    """One frame with the content size and a 4-byte XXH64 checksum at its end (RFC 8878 3.1.1)."""
    return zstandard.ZstdCompressor(level=3, write_content_size=True, write_checksum=True).compress(raw)


def _zstd_bad_checksum():
    frame = bytearray(_checksum_frame(_meta_raw()))
    frame[-1] ^= 0xFF  # the content is intact; only its checksum disagrees
    return zstd_meta(_meta_raw(), bytes(frame), "E_DECOMPRESS")


def _zstd_no_checksum():
    """The frame's last 4 bytes (its checksum) cut: the blocks give all raw_size bytes, the frame is incomplete."""
    return zstd_meta(_meta_raw(), _checksum_frame(_meta_raw())[:-4], "E_DECOMPRESS")


def _coeff_no_bias() -> list[Sec]:
    """Two morphs over 3 vertices, a coefficient map from ARKIT52 (52 columns) without bias."""
    rng = np.random.RandomState(31)
    deltas = av.qblock(4, [0] * 3, [1] * 3, [[1, 15], [2, 0], [3, 7]])
    morphs = [
        {"morph_name": b"a", "morph_nnz": 2, "morph_index_gaps": np.array([0, 1]), "morph_deltas": deltas},
        {"morph_name": b"b", "morph_nnz": 1, "morph_index_gaps": np.array([1]), "morph_deltas": av.raw_block([0.25, -0.5, 0.125])},
    ]
    cmap = {"coeff_source": av.ARKIT52, "coeff_columns": 52, "coeff_matrix": rng.randint(-8, 9, (2, 52)).astype(np.float32) / 8, "coeff_bias": None}
    defm = {
        "vertex_count": 3,
        "triangle_count": 1,
        "vertices": av.raw_block([0, 1, 0, 0, 0, 1, 0, 0, 0]),
        "triangles": np.array([0, 1, 2]),
        "morphs": morphs,
        "skeleton": None,
        "coeff_map": cmap,
        "drivers": [],
        "head_pivot": np.zeros(3, np.float32),
    }
    m = av.meta(2, layout=[(av.ARKIT52, 52)])
    return [Sec(b"META", m), Sec(b"DEFM", defm), Sec(b"BIND", {"binding_mode": 1, "binding_index": np.array([2, 0])})] + av.static_attrs(2, 0, 22)


def reading_vectors() -> list[ContainerDef]:
    """The vectors of this module, in a fixed order."""
    vfull = encoder_avatar(3, zstd=False, sh=0, skeleton=True, cmap=True)
    d = [
        ContainerDef(
            "y_coeff_no_bias",
            "A coefficient map without bias (coeff_bias_flag 0): no defm.coeff.bias record.",
            ["11.5.1", "11.10"],
            ["R-62", "R-69"],
            valid_file(_coeff_no_bias()),
        )
    ]

    def n(name, purpose, clauses, reqs, make):
        d.append(ContainerDef(name, purpose, clauses, reqs, make))

    n(
        "n_vertex_count_min",
        "vertex_count 2, below the minimum 3: E_VALUE before the vertices are read.",
        ["11.5.1"],
        ["R-68"],
        damaged_file(vfull(), "DEFM.vertex_count", struct.pack("<I", 2), "E_VALUE"),
    )
    n("n_defr_name_utf8", "A DEFR model_name that is not UTF-8.", ["11.5.2"], ["R-64"], _defr_not_utf8)
    n("n_binding_mode_3", "binding_mode 3 (only 0, 1, 2 are defined).", ["11.6"], ["R-60"], damaged_file(vfull(), "binding_mode", b"\x03", "E_VALUE"))
    n(
        "n_attribute_id_unregistered",
        "attribute_id 9, not in the attribute registry.",
        ["11.7"],
        ["R-67"],
        damaged_file(av.minimal_sections(), "attribute_id", b"\x09", "E_VALUE", 1),
    )
    layer = "latent_decoder.mlp_layers"
    zero = b"\0\0"
    n("n_mlp_layer_in_zero", "layer_in 0 in the first decoder layer.", ["12.1"], ["R-70"],
      damaged_file(_latn(), f"{layer}[0].layer_in", zero, "E_VALUE"))
    n("n_mlp_layer_out_zero", "layer_out 0 in the first layer.", ["12.1"], ["R-70"], damaged_file(_latn(), f"{layer}[0].layer_out", zero, "E_VALUE"))
    n(
        "n_mlp_last_width",
        "The last decoder layer gives 4 values; ROTATION and OPACITY need 5.",
        ["12.1", "12.2"],
        ["R-70"],
        damaged_file(_latn(), f"{layer}[1].layer_out", struct.pack("<H", 4), "E_VALUE"),
    )
    n("n_latent_ids_duplicate", "latent_attribute_ids (3, 3): ROTATION listed twice.", ["12.2"], ["R-72"], _latent_ids(b"\x03\x03"))
    n("n_latent_id_position", "latent_attribute_ids (0, 4): POSITION cannot be latent.", ["12.2"], ["R-72"], _latent_ids(b"\x00"))
    n(
        "n_rot6d_dims",
        "offset_encoding rot6d for the ARKIT52 group (52 dims, not a multiple of 3).",
        ["12.3"],
        ["R-76"],
        damaged_file(_omlp(), "offset_encoding[0]", b"\x01", "E_VALUE"),
    )
    n("n_offset_encoding_2", "offset_encoding 2 (only 0 and 1).", ["12.3"], ["R-76"], damaged_file(_omlp(), "offset_encoding[1]", b"\x02", "E_VALUE"))
    n("n_pe_include_2", "pe_include_input 2 (only 0 or 1).", ["12.3"], ["R-76"], damaged_file(_omlp(), "OMLP.pe_include_input", b"\x02", "E_VALUE"))
    n("n_omlp_scale_inf", "position_out_scale +infinity.", ["12.3"], ["R-76"], damaged_file(_omlp(), "OMLP.position_out_scale", F32_INF, "E_VALUE"))
    n("n_attr_and_latn", "ROTATION given by an ATTR section, then again by a LATN section.", ["11.3", "12.2"], ["R-73"], _attr_then_latn)
    n("n_no_meta", "A file whose only section is an unknown ancillary one: no META.", ["11.3"], ["R-56"], _no_meta)
    n("n_zstd_checksum", "A zstd frame whose content checksum does not match its content.", ["11.2.1"], ["R-55"], _zstd_bad_checksum)
    n(
        "n_zstd_incomplete",
        "A zstd frame cut before its 4-byte checksum: all raw_size bytes come out but the frame never ends.",
        ["11.2.1"],
        ["R-55"],
        _zstd_no_checksum,
    )
    return d
