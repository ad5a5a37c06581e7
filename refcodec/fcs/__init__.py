"""The per-frame parameter stream (FCS): layout, syntax, encoder, decoder, storage."""

from .decoder import DecodedFrame, FcsDecoder, FrameStatus, decode_file
from .encoder import EncoderConfig, FcsEncoder, build_header, encode_track
from .layout import GroupLayout, SequenceHeader
from .storage import FCS_SIGNATURE, iter_units, read_units, write_file

__all__ = [
    "DecodedFrame",
    "EncoderConfig",
    "FCS_SIGNATURE",
    "FcsDecoder",
    "FcsEncoder",
    "FrameStatus",
    "GroupLayout",
    "build_header",
    "SequenceHeader",
    "decode_file",
    "encode_track",
    "iter_units",
    "read_units",
    "write_file",
]
