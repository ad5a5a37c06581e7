"""The container parser is bounded (SPEC 4.1 R-90, 11.2.1 R-95, 11.3 R-56, 11.7 R-93, 11.9 R-91/R-92, 12.2 R-94).

Every file here is written by hand with struct, zlib.crc32 and zstandard (not with the
library's writer), so the expected classes, fields and offsets follow from the bytes.
"""

from __future__ import annotations

import struct
import tracemalloc
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import zstandard

from refcodec.errors import FcError
from refcodec.fca import container as container_module
from refcodec.fca.codec import decode_avatar
from refcodec.fca.compression import frame_extent
from refcodec.fca.container import read_container
from refcodec.spec_tables import container_levels

HEADER, SECTION_HEADER = 16, 20


# ----------------------------------------------------------------------------- hand-made files
def f32planes(values) -> bytes:
    """SPEC 11.1.2: the binary32 bit patterns as 4 byte planes (least significant plane first)."""
    bits = np.asarray(values, "<f4").reshape(-1).view("<u4")
    return b"".join(((bits >> (8 * k)) & 0xFF).astype(np.uint8).tobytes() for k in range(4))


def f16planes(values) -> bytes:
    bits = np.asarray(values, "<f2").reshape(-1).view("<u2")
    return b"".join(((bits >> (8 * k)) & 0xFF).astype(np.uint8).tobytes() for k in range(2))


def meta(n: int = 1, layout=(), size=(64, 64), pose=None) -> bytes:
    """META (SPEC 11.4): n Gaussians, sh_degree 0, a layout of (semantic, dims), a camera at the origin."""
    body = struct.pack("<IBBHB", n, 0, 0, 0, len(layout)) + b"".join(struct.pack("<BH", s, d) for s, d in layout)
    body += struct.pack("<HHffff", *size, 50.0, 50.0, 32.0, 32.0)
    return body + f32planes(np.eye(4)[:3] if pose is None else pose) + f32planes([0.0, 0.0, 0.0])


def attr(attribute_id: int, values) -> bytes:
    """ATTR (SPEC 11.7) with raw binary32 values (q_bits 32), channel-major [C, N]."""
    return bytes([attribute_id, 32]) + f32planes(values)


def static_attrs(n: int = 1, rotation=(1.0, 0.0, 0.0, 0.0)) -> list[bytes]:
    """POSITION, COLOR_DC, LOG_SCALE, ROTATION, OPACITY of n Gaussians."""
    rot = np.tile(np.asarray(rotation, np.float32)[:, None], (1, n))
    return [
        section(b"ATTR", attr(0, np.zeros((3, n)))),
        section(b"ATTR", attr(1, np.full((3, n), 0.5))),
        section(b"ATTR", attr(2, np.full((3, n), -3.0))),
        section(b"ATTR", attr(3, rot)),
        section(b"ATTR", attr(4, np.zeros((1, n)))),
    ]


CRITICAL = (b"META", b"DEFM", b"DEFR", b"BIND", b"ATTR", b"LATN", b"OMLP")


def section(kind: bytes, raw: bytes, *, critical: bool | None = None, stored: bytes | None = None, raw_size: int | None = None, crc_xor: int = 0):
    """section_header( ) + payload (SPEC 11.2). ``stored`` given: compression 1 with those bytes."""
    critical = kind in CRITICAL if critical is None else critical
    compression = 0 if stored is None else 1
    body = raw if stored is None else stored
    head = kind + struct.pack("<BBHII", int(critical), compression, 0, len(body), len(raw) if raw_size is None else raw_size)
    return head + struct.pack("<I", zlib.crc32(head + body) ^ crc_xor) + body


def zsec(kind: bytes, raw: bytes, **kw) -> bytes:
    return section(kind, raw, stored=zstandard.ZstdCompressor(level=19).compress(raw), **kw)


def fca(sections: list[bytes], level: int = 10) -> bytes:
    head = b"FCA1" + struct.pack("<BBBBHH", 1, 0, level, 0, len(sections), 0)
    return head + struct.pack("<I", zlib.crc32(head)) + b"".join(sections)


def rejected(data: bytes) -> FcError:
    with pytest.raises(FcError) as info:
        decode_avatar(data)
    return info.value


def test_the_hand_made_avatar_decodes():
    avatar = decode_avatar(fca([section(b"META", meta()), *static_attrs()]))
    assert avatar.gaussians.count == 1
    assert avatar.gaussians.rotations.tolist() == [[1.0, 0.0, 0.0, 0.0]]
    assert avatar.gaussians.log_scales.tolist() == [[-3.0, -3.0, -3.0]]


# ------------------------------------------------------------------------- section order
@pytest.mark.parametrize("first", [b"ZZZZ", b"TEXT", b"ATTR", b"LATN", b"OMLP", b"BIND", b"DEFM"])
def test_meta_is_first_whatever_the_first_section(first):
    """SPEC 11.3, R-56: unknown ancillary, TEXT or a critical section before META is E_SECTION, never AttributeError."""
    junk = section(first, b"\x00" * 7, critical=first not in (b"ZZZZ", b"TEXT"))
    err = rejected(fca([junk, section(b"ATTR", attr(3, np.ones((4, 1)))), section(b"META", meta()), *static_attrs()]))
    assert (err.error_class, err.field, err.byte_offset) == ("E_SECTION", "section[0].section_type", HEADER)


def test_unknown_ancillary_then_attr_is_a_registered_error():
    """The issue's repro: unknown ancillary, then ATTR (which needs META's counts)."""
    err = rejected(fca([section(b"ZZZZ", b"x", critical=False), *static_attrs()]))
    assert err.error_class == "E_SECTION"


# ----------------------------------------------------------------------------- zstd
def test_unknown_ancillary_section_is_not_decompressed():
    """R-56, R-95: garbage declared as zstd in an unknown ancillary section is skipped unread."""
    bogus = section(b"ZZZZ", b"", stored=b"this is not a zstd frame", raw_size=1 << 20, critical=False)
    avatar = decode_avatar(fca([section(b"META", meta()), bogus, *static_attrs()]))
    assert avatar.gaussians.count == 1


def test_unknown_ancillary_section_crc_is_still_checked():
    bogus = section(b"ZZZZ", b"", stored=b"not zstd", raw_size=8, critical=False, crc_xor=1)
    at = HEADER + SECTION_HEADER + len(meta())
    err = rejected(fca([section(b"META", meta()), bogus, *static_attrs()]))
    assert (err.error_class, err.field, err.byte_offset) == ("E_CRC", "section[1].section_crc", at + 16)


def test_each_known_section_is_decompressed_once(monkeypatch):
    calls = []
    real = container_module.decompress

    def counting(stored, raw_size, *args):
        calls.append(raw_size)
        return real(stored, raw_size, *args)

    monkeypatch.setattr(container_module, "decompress", counting)
    attrs = [attr(0, np.zeros((3, 1))), attr(1, np.ones((3, 1))), attr(2, np.ones((3, 1))), attr(3, np.ones((4, 1))), attr(4, np.ones((1, 1)))]
    junk = section(b"ZZZZ", bytes(1000), stored=zstandard.ZstdCompressor().compress(bytes(1000)), critical=False)
    decode_avatar(fca([zsec(b"META", meta()), junk] + [zsec(b"ATTR", a) for a in attrs]))
    assert calls == [len(meta())] + [len(a) for a in attrs]  # META and the five ATTRs once each, the unknown one never


def test_declared_raw_size_is_not_allocated():
    """R-95: a ~200-byte file declaring 16 MiB (level 10's max_section_bytes) allocates what the frame yields, not 16 MiB."""
    frame = zstandard.ZstdCompressor(write_content_size=False).compress(meta())
    data = fca([section(b"META", meta(), stored=frame, raw_size=16 << 20), *static_attrs()])
    assert len(data) < 600
    tracemalloc.start()
    try:
        err = rejected(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (err.error_class, err.field, err.byte_offset) == ("E_DECOMPRESS", "section[0].payload", HEADER + SECTION_HEADER)
    assert peak < 2 << 20


def test_a_bomb_stops_at_raw_size():
    """R-55: a frame of 32 MiB of zeros in a section declaring len(META) bytes: rejected with the output bounded."""
    bomb = zstandard.ZstdCompressor(level=3, write_content_size=False).compress(bytes(32 << 20))
    data = fca([section(b"META", meta(), stored=bomb), *static_attrs()])
    tracemalloc.start()
    try:
        err = rejected(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert err.error_class == "E_DECOMPRESS"
    assert peak < 4 << 20


def _frame(raw: bytes, **kw) -> bytes:
    return zstandard.ZstdCompressor(**kw).compress(raw)


@pytest.mark.parametrize(
    "name, stored",
    [
        ("trailing byte", _frame(meta()) + b"\x00"),
        ("two frames", _frame(meta()[:40]) + _frame(meta()[40:])),
        ("skippable frame first", b"\x50\x2a\x4d\x18" + struct.pack("<I", 0) + _frame(meta())),
        ("truncated", _frame(meta())[:-3]),
        ("bad checksum", _frame(meta(), write_checksum=True)[:-1] + b"\x00"),
    ],
)
def test_not_exactly_one_frame_is_e_decompress(name, stored):
    err = rejected(fca([section(b"META", meta(), stored=stored), *static_attrs()]))
    assert (err.error_class, err.field, err.byte_offset) == ("E_DECOMPRESS", "section[0].payload", HEADER + SECTION_HEADER), name


@pytest.mark.parametrize("size", [0, 1, 1000, 300_000])
@pytest.mark.parametrize("checksum", [False, True])
def test_frame_size_is_the_whole_frame(size, checksum):
    """frame_extent walks RFC 8878 block headers; for one frame it is the frame's length."""
    raw = (np.arange(size) % 251).astype(np.uint8).tobytes()
    frame = _frame(raw, write_checksum=checksum)
    assert frame_extent(frame + b"trailing")[0] == len(frame)


# --------------------------------------------------------------------------- error location
def test_error_in_a_stored_payload_has_file_and_payload_offsets():
    """R-90: a stored ATTR with one byte too many: the file offset is the true one."""
    sections = [section(b"META", meta()), *static_attrs()]
    extra = attr(4, np.zeros((1, 1))) + b"\x00"
    sections[5] = section(b"ATTR", extra)
    body = HEADER + sum(len(s) for s in sections[:5]) + SECTION_HEADER
    err = rejected(fca(sections))
    assert err.error_class == "E_UNIT_SIZE"
    assert (err.section_index, err.payload_byte_offset, err.byte_offset) == (5, len(extra) - 1, body + len(extra) - 1)


def test_error_in_a_zstd_payload_is_at_the_payload_start():
    """R-90: inside a zstd section the absolute offset is the first stored byte; the payload offset locates the problem."""
    extra = attr(4, np.zeros((1, 1))) + b"\x00"
    sections = [section(b"META", meta()), *static_attrs()[:4], zsec(b"ATTR", extra)]
    body = HEADER + sum(len(s) for s in sections[:5]) + SECTION_HEADER
    err = rejected(fca(sections))
    assert err.error_class == "E_UNIT_SIZE"
    assert (err.section_index, err.payload_bit_offset, err.bit_offset) == (5, 8 * (len(extra) - 1), 8 * body)
    assert f"at byte {body} (bit {8 * body}), section 5 payload byte {len(extra) - 1}:" in str(err)
    d = err.to_dict()
    assert (d["section_index"], d["payload_byte_offset"], d["payload_bit_offset"]) == (5, len(extra) - 1, 8 * (len(extra) - 1))


def test_errors_outside_payloads_have_no_payload_offset():
    err = rejected(fca([section(b"META", meta(), crc_xor=1)]))
    assert err.error_class == "E_CRC" and err.section_index is None and err.payload_bit_offset is None


# ------------------------------------------------------------------------------ levels
def _small_level(monkeypatch, **limits):
    levels = {idc: replace(lv, **limits) if idc == 10 else lv for idc, lv in container_levels().items()}
    monkeypatch.setattr(container_module, "container_levels", lambda: levels)


def test_decoded_values_are_counted_before_each_array(monkeypatch):
    """R-91: META's 12 + 3 values and the ATTRs' 3 + 3 + 3 + 4 make 28; OPACITY's 1 more is over a limit of 28."""
    data = fca([section(b"META", meta()), *static_attrs()])
    _small_level(monkeypatch, max_decoded_values=29)
    decode_avatar(data)
    _small_level(monkeypatch, max_decoded_values=28)
    err = rejected(data)
    body = HEADER + SECTION_HEADER + len(meta()) + 4 * SECTION_HEADER + len(attr(0, np.zeros((3, 1)))) * 3 + len(attr(3, np.zeros((4, 1))))
    body += SECTION_HEADER
    assert err.error_class == "E_LEVEL" and err.field == "section[5]:ATTR.q_values"
    assert (err.section_index, err.payload_byte_offset, err.byte_offset) == (5, 2, body + 2)  # after attribute_id and q_bits


def text(count: int) -> bytes:
    return struct.pack("<H", count) + b"\x00\x00\x00" * count  # empty keys and values


def test_text_entries_are_counted_across_sections():
    """R-91: level 10 allows 1024 TEXT entries in all; 600 + 424 pass, 600 + 425 fail at the second text_count."""
    base = [section(b"META", meta()), *static_attrs()]
    decode_avatar(fca(base[:1] + [section(b"TEXT", text(600)), section(b"TEXT", text(424))] + base[1:]))
    err = rejected(fca(base[:1] + [section(b"TEXT", text(600)), section(b"TEXT", text(425))] + base[1:]))
    at = HEADER + len(base[0]) + len(section(b"TEXT", text(600))) + SECTION_HEADER
    assert (err.error_class, err.field, err.byte_offset, err.section_index, err.payload_byte_offset) == (
        "E_LEVEL",
        "section[2]:TEXT.text_count",
        at,
        2,
        0,
    )


def latn(n: int, hidden: int, scale: float = 1.0, bits: int = 1, weight: float = 0.5, dims: int = 1) -> bytes:
    """LATN (SPEC 12.2): OPACITY from ``dims`` latent dimensions through a dims -> hidden -> 1 decoder (relu, then none)."""
    lat = struct.pack("<BBBB", 1, 4, dims, bits) + f32planes(np.full(dims, scale)) + bytes(dims * n * (1 if bits <= 8 else 2))
    layer0 = struct.pack("<HHBB", dims, hidden, 1, 0) + f16planes(np.full(dims * hidden, weight)) + f16planes(np.zeros(hidden))
    layer1 = struct.pack("<HHBB", hidden, 1, 0, 0) + f16planes(np.full(hidden, weight)) + f16planes([0.0])
    return lat + b"\x02" + layer0 + layer1


def test_activations_bound_the_issue_repro():
    """R-91: the issue's 376-byte file: 65,536 Gaussians through 1 -> 4096 -> 1 (8,192 weights, within
    max_mlp_weights) needs 65,536 x 4096 = 2^28 activations, over level 10's 2^23: E_LEVEL at layer 0's
    layer_out, before any weight is read."""
    n = 65536
    data = fca([zsec(b"META", meta(n)), zsec(b"LATN", latn(n, 4096))])
    assert len(data) < 2000
    err = rejected(data)
    layer0_out = 4 + 4 + n + 1 + 2  # counts, ids, dims, bits; latent_scale; one-byte samples; mlp_layer_count; layer_in
    assert (err.error_class, err.section_index, err.payload_byte_offset) == ("E_LEVEL", 1, layer0_out)
    assert "max_activations" in err.message


def test_latent_multiply_adds_are_bounded():
    """R-91: 65,536 x 64 -> 128 is 2^29 multiply-adds (activations 65,536 x 128 = 2^23, at the limit), over 2^26."""
    n = 65536
    err = rejected(fca([zsec(b"META", meta(n)), zsec(b"LATN", latn(n, 128, dims=64))]))
    layer0_out = 4 + 4 * 64 + 64 * n + 1 + 2
    assert (err.error_class, err.section_index, err.payload_byte_offset) == ("E_LEVEL", 1, layer0_out)
    assert "max_latent_macs" in err.message


def test_network_at_the_limits_decodes_in_bounded_memory():
    """R-91 at equality (65,536 x 128 activations = 2^23; 2 x 65,536 x 128 = 2^24 multiply-adds) decodes, and the
    chunked evaluation (12.4) holds far less than the 32 MiB of 65,536 x 128 binary32 activations."""
    n = 65536
    attrs = [s for i, s in enumerate(static_attrs(n)) if i != 4]  # OPACITY comes from LATN
    data = fca([zsec(b"META", meta(n)), zsec(b"LATN", latn(n, 128))] + attrs)
    tracemalloc.start()
    try:
        avatar = decode_avatar(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # latent 0 -> z = -1 (1 bit: u - 2^0), x = -1; relu(-0.5) = 0 for every hidden unit, output 0
    assert np.array_equal(avatar.gaussians.opacity_logits, np.zeros(n, np.float32))
    assert peak < 24 << 20


# ----------------------------------------------------------------------------- values
@pytest.mark.parametrize("quantized", [False, True])
def test_all_zero_quaternion_is_rejected_by_the_decoder(quantized):
    """R-93: a ROTATION of four zeros, raw or quantized (q_min = q_max = 0), is E_VALUE at q_values."""
    sections = [section(b"META", meta()), *static_attrs(1)]
    if quantized:
        block = bytes([3, 8]) + f32planes(np.zeros(4)) + f32planes(np.zeros(4)) + bytes(4)
        q_values_at = 2 + 16 + 16  # after attribute_id, q_bits and 4 binary32 each of q_min and q_max
    else:
        block, q_values_at = attr(3, np.zeros((4, 1))), 2
    sections[4] = section(b"ATTR", block)
    err = rejected(fca(sections))
    assert (err.error_class, err.field, err.section_index, err.payload_byte_offset) == ("E_VALUE", "section[4]:ATTR.q_values", 4, q_values_at)


def test_overflowing_latent_input_is_rejected():
    """R-94: latent_scale 3e38 with latent z = -2 (2 bits, sample 0) gives -6e38, not a binary32."""
    n = 4
    attrs = [s for i, s in enumerate(static_attrs(n)) if i != 4]
    err = rejected(fca([section(b"META", meta(n)), section(b"LATN", latn(n, 4, scale=3e38, bits=2))] + attrs))
    assert (err.error_class, err.field, err.section_index, err.payload_byte_offset) == ("E_VALUE", "section[1]:LATN.latent_values", 1, 8)


def test_non_finite_latent_output_is_rejected():
    """R-94: a finite input (z = -1, scale 3e38 -> -3e38) through weights -65504 overflows: E_VALUE, not NaN rotations."""
    n = 4
    attrs = [s for i, s in enumerate(static_attrs(n)) if i != 4]
    data = fca([section(b"META", meta(n)), section(b"LATN", latn(n, 4, scale=3e38, bits=1, weight=-65504.0))] + attrs)
    read_container(data)  # the syntax is valid
    err = rejected(data)
    assert (err.error_class, err.field, err.section_index) == ("E_VALUE", "section[1]:LATN.latent_decoder", 1)


LAM = Path(__file__).resolve().parents[1] / "samples" / "lam_p2-1" / "p2-1.zip"


@pytest.mark.skipif(not LAM.exists(), reason="samples/lam_p2-1/p2-1.zip not present")
def test_the_lam_avatar_fits_its_level():
    """R-91 limits leave room for the real avatar: LAM (20,018 Gaussians, 51 morphs) packed with the defaults."""
    from refcodec.avatar.loading import load_avatar
    from refcodec.fca.codec import encode_avatar

    parsed = read_container(encode_avatar(load_avatar(LAM)))
    b, level = parsed.budget, parsed.level
    assert parsed.header.level_idc == 10
    # at least 3 + 3 + 3 + 4 + 1 attribute values per Gaussian and 3 per base vertex (LAM: V = N = 20,018)
    assert (14 + 3) * 20018 <= b.decoded_values <= level.max_decoded_values
    assert b.text_entries <= level.max_text_entries and b.latent_macs == 0


# ------------------------------------------------------------- what the decoder guarantees
@pytest.mark.parametrize(
    "name, payload, field, at",
    [
        ("layout semantic twice", meta(layout=((3, 3), (3, 3))), "layout_semantic[1]", 9 + 3),
        ("width above 8192", meta(size=(8193, 64)), "render_width", 9),
        ("2^25 pixels", meta(size=(8192, 4096)), "render_height", 11),
        ("pose scaled by 2", meta(pose=2 * np.eye(4)[:3]), "camera_to_world", 9 + 4 + 16),
        ("pose a reflection", meta(pose=np.diag([1.0, 1.0, -1.0, 1.0])[:3]), "camera_to_world", 9 + 4 + 16),
    ],
)
def test_meta_that_a_renderer_would_refuse_is_rejected_by_the_decoder(name, payload, field, at):
    """R-97 (R-83's camera): 9 bytes of counts precede the layout; width, height, then 4 binary32 precede the pose."""
    err = rejected(fca([section(b"META", payload), *static_attrs()]))
    assert (err.error_class, err.field, err.section_index, err.payload_byte_offset) == ("E_VALUE", f"section[0]:META.{field}", 0, at), name


def test_morph_name_twice_is_rejected():
    """R-97: a DEFM of 3 vertices, 1 triangle and two morph targets both named "a"."""
    defm = struct.pack("<II", 3, 1) + bytes([32]) + f32planes(np.eye(3)) + bytes([0, 1, 2, 0, 0, 0])  # corner-major, 2-byte planes
    morph = bytes([1]) + b"a" + struct.pack("<I", 0) + bytes([32])  # no moved vertex: empty gaps and deltas
    defm += struct.pack("<H", 2) + morph + morph + bytes([0, 0, 0]) + f32planes([0.0, 0.0, 0.0])
    err = rejected(fca([section(b"META", meta()), section(b"DEFM", defm), *static_attrs()]))
    second_name = 8 + 1 + 36 + 6 + 2 + len(morph) + 1
    assert (err.error_class, err.field, err.section_index, err.payload_byte_offset) == ("E_VALUE", "section[1]:DEFM.morph_name[1]", 1, second_name)


def test_byte_strings_count_as_decoded_values(monkeypatch):
    """R-91: b(n) adds ceil(n / 4): META's 15 values, key "ab" (1) and a 9-byte value (3) make 19."""
    entry = struct.pack("<HB", 1, 2) + b"ab" + struct.pack("<H", 9) + b"123456789"
    data = fca([section(b"META", meta()), section(b"TEXT", entry), *static_attrs()])
    _small_level(monkeypatch, max_decoded_values=19 + 14)  # 14: the five ATTRs after it
    decode_avatar(data)
    _small_level(monkeypatch, max_decoded_values=18)
    err = rejected(data)
    assert (err.error_class, err.field, err.section_index, err.payload_byte_offset) == ("E_LEVEL", "section[1]:TEXT.text_value[0]", 1, 2 + 1 + 2 + 2)


def test_blocks_that_cannot_give_raw_size_are_rejected_before_decoding():
    """R-95: one RLE block of 1000 zero bytes (hand-made frame: magic, descriptor 0, window byte, one block) declared as 5000 bytes."""
    block = (1000 << 3) | (1 << 1) | 1  # Block_Size 1000, RLE, last block
    frame = bytes.fromhex("28b52ffd") + bytes([0x00, 0x00]) + block.to_bytes(3, "little") + b"\x00"
    assert zstandard.ZstdDecompressor().decompressobj().decompress(frame) == bytes(1000)  # the frame is valid
    assert frame_extent(frame)[0] == len(frame)
    err = rejected(fca([section(b"META", bytes(5000), stored=frame), *static_attrs()]))
    assert (err.error_class, err.byte_offset) == ("E_DECOMPRESS", HEADER + SECTION_HEADER) and "at most 1000 bytes" in err.message


def test_the_encoder_picks_a_level_whose_decode_limits_hold():
    """R-91: 1,100 TEXT entries (over level 10's 1,024) make the encoder choose level 20, and the file decodes."""
    from fca_helpers import full_avatar

    from refcodec.fca.codec import encode_avatar

    avatar = full_avatar()
    avatar.metadata = {f"k{i}": "" for i in range(1100)}
    data = encode_avatar(avatar)
    assert data[6] == 20  # level_idc
    assert len(decode_avatar(data).metadata) == 1100
