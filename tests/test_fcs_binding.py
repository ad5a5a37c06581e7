"""The avatar binding hash (SPEC 5.2.1, R-17)."""

import pytest

from refcodec.errors import FcError
from refcodec.fcs.binding import avatar_digest, check_avatar_binding
from refcodec.fcs.layout import GroupLayout, SequenceHeader


def test_digest_is_the_first_8_bytes_of_sha256_big_endian():
    # FIPS 180-2 test vector: SHA-256("abc") = ba7816bf 8f01cfea 414140de ...
    assert avatar_digest(b"abc") == 0xBA7816BF8F01CFEA


def _header(avatar_hash):
    return SequenceHeader(groups=[GroupLayout(0, 8, [0.0], [1.0], [0])], avatar_hash=avatar_hash)


def test_matching_avatar_passes_and_unbound_stream_passes_any_avatar():
    fca = b"FCA1 pretend container"
    check_avatar_binding(_header(avatar_digest(fca)), fca)
    check_avatar_binding(_header(None), b"anything")


def test_other_avatar_is_rejected_with_layout_mismatch():
    """R-17: one changed byte of the avatar changes the digest and the stream is rejected."""
    fca = bytearray(b"FCA1 pretend container")
    header = _header(avatar_digest(bytes(fca)))
    fca[5] ^= 1
    with pytest.raises(FcError) as info:
        check_avatar_binding(header, bytes(fca))
    assert info.value.error_class == "E_LAYOUT_MISMATCH" and info.value.field == "avatar_hash"
