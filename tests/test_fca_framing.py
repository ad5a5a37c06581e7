"""Container framing and bad input (SPEC 11.2, 11.3): hand-built bytes, forged sizes, zstd bombs,
section handling, and fuzzing. Expected CRCs come from zlib (a second CRC-32 implementation)."""

from __future__ import annotations

import struct
import tracemalloc
import zlib

import numpy as np
import pytest
import zstandard
from fca_helpers import full_avatar
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refcodec.errors import FcError
from refcodec.fca import PackConfig, decode_avatar, encode_avatar
from refcodec.fca.codec import avatar_sections
from refcodec.fca.container import SectionToWrite, read_container, write_container


def file_header(section_count: int, level: int = 10, version: int = 1) -> bytes:
    head = b"FCA1" + struct.pack("<BBBBHH", version, 0, level, 0, section_count, 0)
    return head + struct.pack("<I", zlib.crc32(head))


def section(kind: bytes, payload: bytes, critical: int = 1, zstd: bool = False, raw_size: int | None = None) -> bytes:
    stored = zstandard.ZstdCompressor(level=3).compress(payload) if zstd else payload
    raw = len(payload) if raw_size is None else raw_size
    head = kind + struct.pack("<BBHII", critical, int(zstd), 0, len(stored), raw)
    return head + struct.pack("<I", zlib.crc32(head + stored)) + stored


def planes(values, width: int) -> bytes:
    v = np.asarray(values, np.uint64)
    return b"".join(bytes(((v >> np.uint64(8 * k)) & np.uint64(255)).astype(np.uint8)) for k in range(width))


def f32planes(values) -> bytes:
    return planes(np.asarray(values, np.float32).view(np.uint32), 4)


def meta_payload(n: int = 1, sh_degree: int = 0) -> bytes:
    out = struct.pack("<IBBHB", n, sh_degree, 0, 0, 0)  # no layout groups
    out += struct.pack("<HHffff", 64, 48, 50.0, 50.0, 32.0, 24.0)
    c2w = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2]
    return out + f32planes(c2w) + f32planes([1.0, 1.0, 1.0])


def raw_attr(attr_id: int, values) -> bytes:
    return bytes([attr_id, 32]) + f32planes(values)


def minimal_file(extra: list[bytes] | None = None, zstd_meta: bool = False) -> bytes:
    """One static Gaussian, every attribute raw binary32, built by hand from SPEC 11."""
    sections = [section(b"META", meta_payload(), zstd=zstd_meta)] + (extra or [])
    sections += [
        section(b"ATTR", raw_attr(0, [0.5, -1.0, 2.0])),
        section(b"ATTR", raw_attr(1, [0.1, 0.2, 0.3])),
        section(b"ATTR", raw_attr(2, [-4.0, -4.5, -5.0])),
        section(b"ATTR", raw_attr(3, [1.0, 0.0, 0.0, 0.0])),
        section(b"ATTR", raw_attr(4, [2.0])),
    ]
    return file_header(len(sections)) + b"".join(sections)


def error_of(data: bytes) -> FcError:
    with pytest.raises(FcError) as info:
        decode_avatar(data)
    return info.value


def test_hand_built_file_decodes():
    avatar = decode_avatar(minimal_file(zstd_meta=True))
    g = avatar.gaussians
    assert g.count == 1 and g.sh_degree == 0
    assert g.positions.tolist() == [[0.5, -1.0, 2.0]] and g.opacity_logits.tolist() == [2.0]
    assert g.rotations.tolist() == [[1.0, 0.0, 0.0, 0.0]]
    assert avatar.render.width == 64 and avatar.render.camera_to_world[2, 3] == 2.0 and avatar.binding.mode == "none"


def test_quantized_block_by_hand():
    """R-58: 2-bit samples over [0, 3]: step = 1, values q; 10-bit sample planes low byte first."""
    attr = bytes([4, 2]) + f32planes([0.0]) + f32planes([3.0]) + bytes([2])
    extra_attr = section(b"ATTR", attr)
    data = minimal_file()
    data = data[: len(data) - len(section(b"ATTR", raw_attr(4, [2.0])))] + extra_attr
    assert decode_avatar(data).gaussians.opacity_logits.tolist() == [2.0]
    # 10 bits over [-1, 1]: step = f32(2/1023); q = 0x2A5 = 677 stored as planes [0xA5], [0x02]
    attr = bytes([4, 10]) + f32planes([-1.0]) + f32planes([1.0]) + bytes([0xA5, 0x02])
    data = data[: len(data) - len(extra_attr)] + section(b"ATTR", attr)
    step = np.float32(2.0) / np.float32(1023)
    assert decode_avatar(data).gaussians.opacity_logits[0] == np.float32(-1.0) + np.float32(677) * step


@pytest.mark.parametrize(
    ("mutate", "error_class", "field"),
    [
        (lambda d: b"FCA2" + d[4:], "E_SIGNATURE", "fca_signature"),
        (lambda d: d[:10], "E_TRUNCATED", "fca_reserved_16bits"),
        (lambda d: file_header(6, version=2) + d[16:], "E_VERSION", "fca_version"),
        (lambda d: file_header(6, level=11) + d[16:], "E_LEVEL", "level_idc"),
        (lambda d: d[:12] + bytes([d[12] ^ 1]) + d[13:], "E_CRC", "header_crc"),
        (lambda d: file_header(0) + d[16:], "E_SECTION", "section_count"),
        (lambda d: file_header(17) + d[16:], "E_LEVEL", "section_count"),
        (lambda d: file_header(7) + d[16:], "E_TRUNCATED", "section[6].section_type"),
        (lambda d: d + b"\0", "E_UNIT_SIZE", "fca_file"),
    ],
)
def test_header_errors(mutate, error_class, field):
    """R-50, R-51, R-52, R-59."""
    err = error_of(mutate(minimal_file()))
    assert err.error_class == error_class and err.field.endswith(field), err


@pytest.mark.parametrize(
    ("data", "error_class", "field", "byte"),
    [
        (b"", "E_TRUNCATED", "fca_signature", 0),
        (b"FCA", "E_TRUNCATED", "fca_signature", 0),  # cut inside the signature: located at its first byte
        (b"FCB1\x01", "E_SIGNATURE", "fca_signature", 0),  # read in full before the file ends
        (b"FCA1\x02\x00", "E_VERSION", "fca_version", 4),
        (b"FCA1\x01\x00\x0a\x00\x01", "E_TRUNCATED", "section_count", 8),
        (b"FCA1\x01\x00\x0a\x00\x01\x00\x00\x00\x00", "E_TRUNCATED", "header_crc", 12),
    ],
)
def test_short_file_header(data, error_class, field, byte):
    """SPEC 11.10, R-201: the file header is read element by element; a file that ends inside an
    element is E_TRUNCATED at that element's first byte, after the checks of the elements before it."""
    err = error_of(data)
    assert (err.error_class, err.field, err.byte_offset) == (error_class, f"file_header.{field}", byte), err


def test_stale_header_crc_does_not_hide_a_value_error():
    """SPEC 11.10, R-201: header_crc is checked after the elements it protects, so a damaged
    version byte is E_VERSION, not E_CRC."""
    data = bytearray(minimal_file())
    data[4] = 2
    err = error_of(bytes(data))
    assert (err.error_class, err.byte_offset) == ("E_VERSION", 4), err


def _stale(data: bytes, at: int, value: int) -> bytes:
    """``data`` with byte ``at`` set to ``value`` and no CRC recomputed."""
    return data[:at] + bytes([value]) + data[at + 1 :]


def test_section_check_order():
    """SPEC 11.10, R-202: header values before the sizes' file checks, sizes before the CRC, the CRC
    before META-first, registry and flags; each case has two failing checks and names the first."""
    meta = section(b"META", meta_payload())
    text = section(b"TEXT", b"\0\0", critical=0)
    second = 16 + len(meta)
    with_text = minimal_file([text])
    cases = [
        # compression 2 with a stale CRC: the header value (step 1) before the CRC (step 4)
        (_stale(with_text, second + 5, 2), "E_VALUE", "section[1].compression", second + 5),
        # TEXT flagged critical with a stale CRC: the CRC (step 4) before the flag (step 7)
        (_stale(with_text, second + 4, 1), "E_CRC", "section[1].section_crc", second + 16),
        # a critical TEXT first: META-first (step 5) before the flag (step 7)
        (file_header(2) + section(b"TEXT", b"\0\0", critical=1) + meta, "E_SECTION", "section[0].section_type", 16),
    ]
    head = b"META" + struct.pack("<BBHII", 1, 0, 0, 0x7FFFFFF0, 0x7FFFFFF0)  # both sizes forged
    cases.append((file_header(1) + head + struct.pack("<I", 0) + b"x" * 8, "E_LEVEL", "section[0].raw_size", 16 + 12))  # step 1 before 2
    for data, error_class, field, byte in cases:
        err = error_of(data)
        assert (err.error_class, err.field, err.byte_offset) == (error_class, field, byte), err


def test_section_crc_mismatch_names_the_section():
    """R-54: one flipped payload bit."""
    data = bytearray(minimal_file())
    data[16 + 20 + 3] ^= 0x10
    err = error_of(bytes(data))
    assert err.error_class == "E_CRC" and err.field == "section[0].section_crc" and err.byte_offset == 16 + 16


def test_forged_raw_size_is_rejected_before_allocation():
    """R-53: a 1 KB file that declares a 4 GiB section is rejected by the level check, and
    decoding allocates almost nothing."""
    payload = bytes(1000)
    head = b"META" + struct.pack("<BBHII", 1, 1, 0, len(payload), 0xFFFFFFFF)
    forged = file_header(1) + head + struct.pack("<I", zlib.crc32(head + payload)) + payload
    tracemalloc.start()
    err = error_of(forged)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert err.error_class == "E_LEVEL" and err.field == "section[0].raw_size"
    assert peak < 1 << 20


def test_forged_stored_size_is_truncation():
    head = b"META" + struct.pack("<BBHII", 1, 0, 0, 0x7FFFFFFF, 0x7FFFFFFF)
    err = error_of(file_header(1) + head + struct.pack("<I", 0))
    assert err.error_class in ("E_LEVEL", "E_TRUNCATED")
    head = b"META" + struct.pack("<BBHII", 1, 0, 0, 5000, 5000)
    err = error_of(file_header(1) + head + struct.pack("<I", 0) + bytes(100))
    assert err.error_class == "E_TRUNCATED" and err.field == "section[0].stored_size"


def test_zstd_frame_expanding_beyond_raw_size():
    """R-55: a frame of 1 MiB of zeros in a section declaring 64 raw bytes."""
    bomb = zstandard.ZstdCompressor(level=19, write_content_size=False).compress(bytes(1 << 20))
    head = b"META" + struct.pack("<BBHII", 1, 1, 0, len(bomb), 64)
    data = file_header(1) + head + struct.pack("<I", zlib.crc32(head + bomb)) + bomb
    tracemalloc.start()
    err = error_of(data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert err.error_class == "E_DECOMPRESS" and "beyond" in err.message
    assert peak < 1 << 20  # stopped long before the 1 MiB were produced


@pytest.mark.parametrize("case", ["declared_size", "short", "trailing", "garbage", "window"])
def test_zstd_violations(case):
    """R-55: content size differs, output too short, bytes after the frame, not a frame, window."""
    meta = meta_payload()
    if case == "declared_size":
        sec = section(b"META", meta, zstd=True, raw_size=len(meta) + 1)
    elif case == "short":
        frame = zstandard.ZstdCompressor(write_content_size=False).compress(meta)
        head = b"META" + struct.pack("<BBHII", 1, 1, 0, len(frame), len(meta) + 8)
        sec = head + struct.pack("<I", zlib.crc32(head + frame)) + frame
    elif case == "trailing":
        frame = zstandard.ZstdCompressor().compress(meta) + b"\0\0"
        head = b"META" + struct.pack("<BBHII", 1, 1, 0, len(frame), len(meta))
        sec = head + struct.pack("<I", zlib.crc32(head + frame)) + frame
    elif case == "garbage":
        head = b"META" + struct.pack("<BBHII", 1, 1, 0, 8, len(meta))
        sec = head + struct.pack("<I", zlib.crc32(head + b"notzstd!")) + b"notzstd!"
    else:
        params = zstandard.ZstdCompressionParameters(window_log=24, write_content_size=False)
        streaming = zstandard.ZstdCompressor(compression_params=params).compressobj()  # streaming keeps the 2^24 window
        frame = streaming.compress(meta) + streaming.flush()
        assert zstandard.get_frame_parameters(frame).window_size == 1 << 24
        head = b"META" + struct.pack("<BBHII", 1, 1, 0, len(frame), len(meta))
        sec = head + struct.pack("<I", zlib.crc32(head + frame)) + frame
    err = error_of(file_header(1) + sec)
    assert err.error_class == "E_DECOMPRESS", err


def test_unknown_ancillary_section_is_skipped_and_unknown_critical_rejected():
    """R-56."""
    data = minimal_file([section(b"ZZZ9", b"anything at all", critical=0)])
    parsed = read_container(data)
    assert [s.name for s in parsed.sections if s.skipped] == ["ZZZ9"]
    assert decode_avatar(data).gaussians.count == 1
    err = error_of(minimal_file([section(b"ZZZ9", b"anything", critical=1)]))
    assert err.error_class == "E_SECTION" and err.field == "section[1].section_type"


@pytest.mark.parametrize(
    ("sections", "field"),
    [
        (lambda: [section(b"ATTR", raw_attr(4, [1.0])), section(b"META", meta_payload())], "section[0].section_type"),
        (lambda: [section(b"META", meta_payload()), section(b"META", meta_payload())], "section[1].section_type"),
        (
            lambda: [section(b"META", meta_payload()), section(b"ATTR", raw_attr(4, [1.0])), section(b"ATTR", raw_attr(4, [1.0]))],
            "section[2]:ATTR.attribute_id",
        ),
        (lambda: [section(b"META", meta_payload()), section(b"ATTR", raw_attr(4, [1.0]))], "fca_file"),
        (lambda: [section(b"META", meta_payload()), section(b"BIND", bytes([1, 0, 0]))], "section[1]:BIND.binding_mode"),
        (lambda: [section(b"META", meta_payload()), section(b"TEXT", b"\0\0", critical=1)], "section[1].section_flags"),
    ],
)
def test_section_order_and_presence(sections, field):
    """R-56, R-60: META first, no repeats, each attribute once, BIND needs a model."""
    secs = sections()
    err = error_of(file_header(len(secs)) + b"".join(secs))
    assert err.error_class in ("E_SECTION", "E_VALUE") and err.field == field, err


@pytest.mark.parametrize(
    ("payload", "error_class", "field"),
    [
        (lambda: bytes([4, 17]) + bytes(9), "E_VALUE", "q_bits"),
        (lambda: bytes([4, 8]) + f32planes([1.0]) + f32planes([0.0]) + bytes(1), "E_RANGE", "q_max"),
        (lambda: bytes([4, 8]) + f32planes([np.nan]) + f32planes([0.0]) + bytes(1), "E_RANGE", "q_max"),
        (lambda: bytes([4, 3]) + f32planes([0.0]) + f32planes([1.0]) + bytes([8]), "E_VALUE", "q_values"),
        (lambda: bytes([4, 32]) + f32planes([np.inf]), "E_VALUE", "q_values"),
        (lambda: bytes([9, 32]) + f32planes([1.0]), "E_VALUE", "attribute_id"),
        (lambda: bytes([5, 32]), "E_VALUE", "attribute_id"),
        (lambda: bytes([4, 32]) + f32planes([1.0]) + b"x", "E_UNIT_SIZE", "ATTR"),
        (lambda: bytes([4, 32]) + b"\0\0", "E_TRUNCATED", "ATTR.q_values"),
    ],
)
def test_payload_errors_name_the_field(payload, error_class, field):
    """R-57, R-59, R-67, R-16 inside a container, with the payload offset."""
    data = minimal_file()
    last = section(b"ATTR", raw_attr(4, [2.0]))
    data = data[: len(data) - len(last)] + section(b"ATTR", payload())
    err = error_of(data)
    assert err.error_class == error_class and field in err.field, err
    assert err.byte_offset is not None and len(minimal_file()) - len(last) <= err.byte_offset <= len(data)


def test_declared_counts_are_checked_against_the_level():
    """R-68: a gaussian_count over the level's limit, before the ATTR arrays are read."""
    meta = bytearray(meta_payload())
    meta[0:4] = struct.pack("<I", 65537)
    err = error_of(file_header(1) + section(b"META", bytes(meta)))
    assert err.error_class == "E_LEVEL" and err.field == "section[0]:META.gaussian_count"


@pytest.fixture(scope="module")
def valid_files():
    small = full_avatar(1, n=12, v=6, sh_degree=1)
    return [
        encode_avatar(small),
        encode_avatar(small, PackConfig.lossless()),
        encode_avatar(full_avatar(2, 8, 5, "triangle", 0)),
        minimal_file(zstd_meta=True),
    ]


def _decode_or_registered_error(data: bytes) -> None:
    try:
        decode_avatar(data)
    except FcError as err:
        assert err.error_class.startswith("E_") and err.bit_offset is not None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_truncations_and_bit_flips(valid_files, data):
    """Any truncation or set of bit flips either decodes or raises a registered error class."""
    base = bytearray(data.draw(st.sampled_from(valid_files)))
    if data.draw(st.booleans()):
        base = base[: data.draw(st.integers(0, len(base) - 1))]
    for _ in range(data.draw(st.integers(0, 4))):
        if base:
            i = data.draw(st.integers(0, len(base) - 1))
            base[i] ^= 1 << data.draw(st.integers(0, 7))
    _decode_or_registered_error(bytes(base))


@settings(max_examples=200, deadline=None)
@given(blob=st.binary(max_size=300))
def test_fuzz_arbitrary_bytes(blob):
    _decode_or_registered_error(blob)
    _decode_or_registered_error(file_header(3) + blob)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_fuzz_payload_mutations_with_valid_crcs(data):
    """Mutate a decompressed payload, then re-frame it with correct CRCs so the payload parser
    itself is exercised (CRCs would otherwise catch nearly every flip)."""
    avatar = full_avatar(3, n=6, v=5, sh_degree=1)
    sections = avatar_sections(avatar, PackConfig())
    target = data.draw(st.integers(0, len(sections) - 1))
    parsed = read_container(write_container(sections))
    raw = bytearray(parsed.sections[target].raw)
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    secs = [
        SectionToWrite(s.type, raw=bytes(raw) if k == target else s.raw, compress=data.draw(st.booleans())) for k, s in enumerate(parsed.sections)
    ]
    try:
        blob = write_container(secs)
    except FcError:
        return  # the writer's own checks refused the payload it would have to re-parse
    _decode_or_registered_error(blob)
