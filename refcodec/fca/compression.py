"""Section compression: none, or one Zstandard frame (RFC 8878) with bounded output (SPEC 11.2.1).

Decompression never produces more than the declared raw size plus one bounded step: the
frame is fed in small pieces and decoding stops as soon as the output passes ``raw_size``.
"""

from __future__ import annotations

import zstandard

from ..errors import E_DECOMPRESS

COMPRESSION_NONE = 0
COMPRESSION_ZSTD = 1
_FEED = 256  # input bytes per step: bounds the output of one step (RLE blocks expand ~32768:1)


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
    decoder = zstandard.ZstdDecompressor(max_window_size=1 << window_log_max).decompressobj()
    out = bytearray()
    try:
        for start in range(0, len(stored), _FEED):
            out += decoder.decompress(stored[start : start + _FEED])
            if len(out) > raw_size:
                raise bad(f"the frame expands beyond the declared raw_size {raw_size}")
            if decoder.eof and (decoder.unused_data or start + _FEED < len(stored)):
                raise bad("bytes follow the Zstandard frame")
    except zstandard.ZstdError as exc:
        raise bad(f"corrupt Zstandard data: {exc}") from None
    if not decoder.eof:
        raise bad("the Zstandard frame is incomplete")
    if len(out) != raw_size:
        raise bad(f"the frame expands to {len(out)} bytes, the declared raw_size is {raw_size}")
    return bytes(out)
