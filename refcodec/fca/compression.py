"""Section compression: none, or one Zstandard frame (RFC 8878) with bounded output (SPEC 11.2.1).

Decompression never produces more than the declared raw size plus one byte: a bounded read
comes first, and only then a full pass that checks the frame ends exactly at the payload end.
"""

from __future__ import annotations

import io

import zstandard

from ..errors import E_DECOMPRESS

COMPRESSION_NONE = 0
COMPRESSION_ZSTD = 1


def compress(raw: bytes, level: int, window_log: int) -> bytes:
    """One zstd frame with the content size in its header and a window within ``window_log``."""
    params = zstandard.ZstdCompressionParameters.from_level(level, source_size=len(raw), write_content_size=True)
    if params.window_log > window_log:
        params = zstandard.ZstdCompressionParameters.from_level(level, source_size=len(raw), write_content_size=True, window_log=window_log)
    return zstandard.ZstdCompressor(compression_params=params).compress(raw)


def decompress(stored: bytes, raw_size: int, window_log_max: int, field: str, bit_offset: int) -> bytes:
    """Expand one zstd frame to exactly ``raw_size`` bytes (SPEC 11.2.1, R-55).

    Raises E_DECOMPRESS when ``stored`` is not exactly one valid frame, its window exceeds
    ``2^window_log_max``, its declared content size differs from ``raw_size``, or its output is
    longer or shorter than ``raw_size``.
    """

    def bad(message: str) -> E_DECOMPRESS:
        return E_DECOMPRESS(message, field=field, bit_offset=bit_offset)

    try:
        frame = zstandard.get_frame_parameters(stored)
    except zstandard.ZstdError as exc:
        raise bad(f"not a Zstandard frame: {exc}") from None
    if frame.window_size > (1 << window_log_max):
        raise bad(f"window size {frame.window_size} exceeds the level's 2^{window_log_max}")
    if frame.content_size != zstandard.CONTENTSIZE_UNKNOWN and frame.content_size != raw_size:
        raise bad(f"the frame declares {frame.content_size} bytes, the section raw_size is {raw_size}")
    dctx = zstandard.ZstdDecompressor(max_window_size=1 << window_log_max)
    try:
        # Pass 1 bounds the output: at most raw_size + 1 bytes are ever produced.
        with dctx.stream_reader(io.BytesIO(stored), read_across_frames=False) as reader:
            out = reader.read(raw_size + 1)
        if len(out) > raw_size:
            raise bad(f"the frame expands beyond the declared raw_size {raw_size}")
        if len(out) != raw_size:
            raise bad(f"the frame expands to {len(out)} bytes, the declared raw_size is {raw_size}")
        # Pass 2 (output now known to be bounded) checks that the frame is complete and alone.
        decoder = dctx.decompressobj()
        decoder.decompress(stored)
    except zstandard.ZstdError as exc:
        raise bad(f"corrupt Zstandard data: {exc}") from None
    if not decoder.eof:
        raise bad("the Zstandard frame is incomplete")
    if decoder.unused_data:
        raise bad(f"{len(decoder.unused_data)} bytes follow the Zstandard frame")
    return out
