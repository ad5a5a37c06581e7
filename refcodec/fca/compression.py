"""Section compression: none, or one Zstandard frame (RFC 8878) with bounded output (SPEC 11.2.1).

A section is decompressed once. Before any output is produced the frame is checked from its
headers alone: one frame, window within the level, declared content size equal to
``raw_size``, and its blocks (RFC 8878 section 3.1.1.2) ending exactly at the end of the stored
payload and able to produce ``raw_size`` bytes. Only then is one output buffer of ``raw_size``
allocated, and decoding fails as soon as it would pass it: nothing is allocated for what a
header merely declares, and the output is never copied.
"""

from __future__ import annotations

import zstandard

from ..errors import E_DECOMPRESS

COMPRESSION_NONE = 0
COMPRESSION_ZSTD = 1

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
MAX_BLOCK_OUTPUT = 1 << 17
"""RFC 8878 3.1.1.2.4: no block decompresses to more than 128 KiB."""
_BLOCK_RAW, _BLOCK_RLE, _BLOCK_COMPRESSED = 0, 1, 2


def compress(raw: bytes, level: int, window_log: int) -> bytes:
    """One zstd frame with the content size in its header and a window within ``window_log``."""
    params = zstandard.ZstdCompressionParameters.from_level(level, source_size=len(raw), write_content_size=True)
    if params.window_log > window_log:
        params = zstandard.ZstdCompressionParameters.from_level(level, source_size=len(raw), write_content_size=True, window_log=window_log)
    return zstandard.ZstdCompressor(compression_params=params).compress(raw)


def frame_extent(stored: bytes) -> tuple[int, int]:
    """(bytes of the Zstandard frame that starts ``stored``, the most output its blocks can give),
    from the block headers alone (RFC 8878 3.1.1.2): a raw or RLE block gives its Block_Size, a
    compressed block at most 128 KiB.

    Raises ValueError for a reserved block type or a frame that runs past the data.
    """
    pos, bound = zstandard.frame_header_size(stored), 0
    while True:
        if pos + 3 > len(stored):
            raise ValueError("the Zstandard frame is incomplete (a block header is missing)")
        head = int.from_bytes(stored[pos : pos + 3], "little")
        last, kind, size = head & 1, (head >> 1) & 3, head >> 3
        if kind not in (_BLOCK_RAW, _BLOCK_RLE, _BLOCK_COMPRESSED):
            raise ValueError("a Zstandard block has the reserved type 3")
        pos += 3 + (1 if kind == _BLOCK_RLE else size)  # an RLE block stores its one byte
        bound += MAX_BLOCK_OUTPUT if kind == _BLOCK_COMPRESSED else size
        if pos > len(stored):
            raise ValueError("the Zstandard frame is incomplete (a block runs past the payload)")
        if last:
            break
    checksum = stored[4] & 0x04  # Frame_Header_Descriptor bit 2: Content_Checksum_flag
    return pos + (4 if checksum else 0), bound


def decompress(stored: bytes, raw_size: int, window_log_max: int, field: str, bit_offset: int) -> bytes:
    """Expand one zstd frame to exactly ``raw_size`` bytes, once (SPEC 11.2.1, R-55, R-95).

    Raises E_DECOMPRESS when ``stored`` is not exactly one valid frame, its window exceeds
    ``2^window_log_max``, its declared content size differs from ``raw_size``, or its output is
    longer or shorter than ``raw_size``. The caller has checked ``raw_size`` against the level
    (R-53). The output buffer is allocated once, and only when the frame's blocks can produce
    ``raw_size`` bytes: a small frame declaring a large size is rejected before any allocation.
    """

    def bad(message: str) -> E_DECOMPRESS:
        return E_DECOMPRESS(message, field=field, bit_offset=bit_offset)

    if stored[:4] != ZSTD_MAGIC:  # SPEC R-204: skippable frames (RFC 8878 3.1.2) and anything else are not one Zstandard frame
        raise bad("the payload does not start with a Zstandard frame")
    try:
        frame = zstandard.get_frame_parameters(stored)
        size, bound = frame_extent(stored)
    except (zstandard.ZstdError, ValueError) as exc:
        raise bad(f"not a valid Zstandard frame: {exc}") from None
    if frame.window_size > (1 << window_log_max):
        raise bad(f"window size {frame.window_size} exceeds the level's 2^{window_log_max}")
    if frame.content_size != zstandard.CONTENTSIZE_UNKNOWN and frame.content_size != raw_size:
        raise bad(f"the frame declares {frame.content_size} bytes, the section raw_size is {raw_size}")
    if size != len(stored):
        raise bad(f"{len(stored) - size} bytes follow the Zstandard frame")
    if bound < raw_size:
        raise bad(f"the frame's blocks give at most {bound} bytes, the declared raw_size is {raw_size}")
    dctx = zstandard.ZstdDecompressor(max_window_size=1 << window_log_max)
    try:
        # at most raw_size bytes are produced: a frame that would give more fails here
        out = dctx.decompress(stored, max_output_size=raw_size) if raw_size else _empty_frame(dctx, stored)
    except zstandard.ZstdError as exc:
        message = str(exc)
        if "did not decompress full frame" in message:
            raise bad(f"the frame expands beyond the declared raw_size {raw_size}") from None
        raise bad(f"corrupt Zstandard data: {message}") from None
    if len(out) != raw_size:
        raise bad(f"the frame expands to {len(out)} bytes, the declared raw_size is {raw_size}")
    return out


def _empty_frame(dctx: zstandard.ZstdDecompressor, stored: bytes) -> bytes:
    """The output of a frame that must be empty, read with a one-byte bound."""
    with dctx.stream_reader(stored, read_across_frames=False) as reader:
        return reader.read(1)
