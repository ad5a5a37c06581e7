"""Section compression: none, or one Zstandard frame (RFC 8878) with bounded output (SPEC 11.2.1).

A section is decompressed once. Before any output is produced the frame is checked from its
headers alone: one frame, window within the level, declared content size equal to
``raw_size``, and its blocks (RFC 8878 section 3.1.1.2) ending exactly at the end of the stored
payload. The output then grows chunk by chunk as data arrives, and decoding stops as soon as it
would pass ``raw_size``: nothing is allocated for what a header merely declares.
"""

from __future__ import annotations

import zstandard

from ..errors import E_DECOMPRESS

COMPRESSION_NONE = 0
COMPRESSION_ZSTD = 1

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
OUTPUT_CHUNK = 1 << 20
"""Bytes decoded per step; the output buffer grows by at most this much past what arrived."""
_BLOCK_RAW, _BLOCK_RLE, _BLOCK_COMPRESSED = 0, 1, 2


def compress(raw: bytes, level: int, window_log: int) -> bytes:
    """One zstd frame with the content size in its header and a window within ``window_log``."""
    params = zstandard.ZstdCompressionParameters.from_level(level, source_size=len(raw), write_content_size=True)
    if params.window_log > window_log:
        params = zstandard.ZstdCompressionParameters.from_level(level, source_size=len(raw), write_content_size=True, window_log=window_log)
    return zstandard.ZstdCompressor(compression_params=params).compress(raw)


def frame_size(stored: bytes) -> int:
    """Bytes of the Zstandard frame that starts ``stored``, from its block headers (RFC 8878 3.1.1).

    Raises ValueError for a reserved block type or a frame that runs past the data.
    """
    pos = zstandard.frame_header_size(stored)
    while True:
        if pos + 3 > len(stored):
            raise ValueError("the Zstandard frame is incomplete (a block header is missing)")
        head = int.from_bytes(stored[pos : pos + 3], "little")
        last, kind, size = head & 1, (head >> 1) & 3, head >> 3
        if kind not in (_BLOCK_RAW, _BLOCK_RLE, _BLOCK_COMPRESSED):
            raise ValueError("a Zstandard block has the reserved type 3")
        pos += 3 + (1 if kind == _BLOCK_RLE else size)  # an RLE block stores its one byte
        if pos > len(stored):
            raise ValueError("the Zstandard frame is incomplete (a block runs past the payload)")
        if last:
            break
    checksum = stored[4] & 0x04  # Frame_Header_Descriptor bit 2: Content_Checksum_flag
    return pos + (4 if checksum else 0)


def decompress(stored: bytes, raw_size: int, window_log_max: int, field: str, bit_offset: int) -> bytes:
    """Expand one zstd frame to exactly ``raw_size`` bytes, once (SPEC 11.2.1, R-55, R-95).

    Raises E_DECOMPRESS when ``stored`` is not exactly one valid frame, its window exceeds
    ``2^window_log_max``, its declared content size differs from ``raw_size``, or its output is
    longer or shorter than ``raw_size``. The caller has checked ``raw_size`` against the level
    (R-53); the output buffer never exceeds ``raw_size`` plus one chunk.
    """

    def bad(message: str) -> E_DECOMPRESS:
        return E_DECOMPRESS(message, field=field, bit_offset=bit_offset)

    if stored[:4] != ZSTD_MAGIC:  # skippable frames (RFC 8878 3.1.2) and anything else are not one Zstandard frame
        raise bad("the payload does not start with a Zstandard frame")
    try:
        frame = zstandard.get_frame_parameters(stored)
        size = frame_size(stored)
    except (zstandard.ZstdError, ValueError) as exc:
        raise bad(f"not a valid Zstandard frame: {exc}") from None
    if frame.window_size > (1 << window_log_max):
        raise bad(f"window size {frame.window_size} exceeds the level's 2^{window_log_max}")
    if frame.content_size != zstandard.CONTENTSIZE_UNKNOWN and frame.content_size != raw_size:
        raise bad(f"the frame declares {frame.content_size} bytes, the section raw_size is {raw_size}")
    if size != len(stored):
        raise bad(f"{len(stored) - size} bytes follow the Zstandard frame")
    chunks, produced = [], 0
    dctx = zstandard.ZstdDecompressor(max_window_size=1 << window_log_max)
    try:
        with dctx.stream_reader(stored, read_across_frames=False) as reader:
            while produced <= raw_size:
                chunk = reader.read(min(OUTPUT_CHUNK, raw_size + 1 - produced))
                if not chunk:
                    break
                chunks.append(chunk)
                produced += len(chunk)
    except zstandard.ZstdError as exc:
        raise bad(f"corrupt Zstandard data: {exc}") from None
    if produced > raw_size:
        raise bad(f"the frame expands beyond the declared raw_size {raw_size}")
    if produced != raw_size:
        raise bad(f"the frame expands to {produced} bytes, the declared raw_size is {raw_size}")
    return b"".join(chunks)
