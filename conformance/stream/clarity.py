"""Vectors that separate two readings of the stream text (issue 9 of the independent C decoder).

Each vector here is one where a decoder written from an earlier SPEC.md could read a clause two
ways and the rest of the suite passed either way. The purpose names the reading it rules out.
"""

from __future__ import annotations

import numpy as np

from refcodec.fcs.layout import UNIT_I_FRAME, UNIT_P_FRAME

from . import damage as dmg
from .model import ExpectedError
from .script import HeaderItem
from .vectors import VectorDef, base_header, frame, grp, hdr, stream, walk


def _residual_vectors() -> list[VectorDef]:
    """SPEC 6.4, R-32 and R-101: E_RESIDUAL is a reconstruction check, made after the whole unit is
    parsed (frame_crc included) and after the counter gap of 7.1 is handled."""
    h = base_header(frame_crc_flag=True)
    i0 = [0, 5, 5, 100, 100, 100]
    bad_p = frame(UNIT_P_FRAME, 1, h, [-1, 0, 0, 0, 0, 0], zero=[False, False])
    crc_and_residual = [HeaderItem(h), frame(UNIT_I_FRAME, 0, h, i0), dmg.flip_crc(bad_p, h)]
    gap = [
        HeaderItem(h),
        frame(UNIT_I_FRAME, 0, h, i0),
        frame(UNIT_P_FRAME, 2, h, [-1, 0, 0, 0, 0, 0], zero=[False, False]),  # counter 2: frame 1 was lost
        frame(UNIT_P_FRAME, 3, h, [-1, 1, 0, 0, 0, 0], zero=[False, False]),
        frame(UNIT_I_FRAME, 4, h, [1, 5, 5, 100, 100, 100]),
    ]
    return [
        VectorDef(
            "n_residual_and_crc",
            "A P-frame whose residual leaves [0, 2^b - 1] and whose frame_crc is wrong: E_CRC, because E_RESIDUAL is checked at "
            "reconstruction, after the whole unit (frame_crc included) is parsed; a decoder that checks residuals as it reads them "
            "reports E_RESIDUAL.",
            ["4.1", "5.3.1", "6.4"],
            ["R-07", "R-45", "R-105", "R-19", "R-32", "R-101"],
            crc_and_residual,
        ),
        VectorDef(
            "y_residual_after_gap",
            "After a counter gap, P-frames whose residuals would leave [0, 2^b - 1] against the old reference are concealed "
            "(concealed_gap, then concealed_no_reference) without error: gap handling clears the reference before reconstruction, "
            "so E_RESIDUAL is never checked; a decoder that checks residuals as it reads them rejects the stream.",
            ["6.4", "7.1", "7.2"],
            ["R-32", "R-42", "R-43", "R-101"],
            gap,
        ),
    ]


def _header_vectors() -> list[VectorDef]:
    """SPEC 6.1, R-23 and R-102: binary32 elements compare by bit pattern; an identical repeat keeps
    the ranges in effect, I-frame range updates included."""
    h = hdr(grp(1, 8, 2, 0.0, 1.0, eg=2), grp(3, 8, 3, -0.5, 0.5, eg=2))
    hz = hdr(grp(1, 8, 2, [-0.0, 0.0], 1.0, eg=2), grp(3, 8, 3, -0.5, 0.5, eg=2))
    q = walk(h, 8, 61)
    items = stream(h, q)
    neg_zero = items[:4] + [HeaderItem(hz)] + items[4:]
    upd = {1: ([-0.25] * 3, [0.75] * 3)}
    ru = stream(h, q, updates={0: upd})
    repeated = ru[:4] + [HeaderItem(h)] + ru[4:]
    return [
        VectorDef(
            "y_header_changed_negative_zero",
            "A repeated header that differs only in range_min[0][0] = -0.0 instead of +0.0: it is a different header (binary32 "
            "elements compare by bit pattern), so the decoder resets and the next P-frames are concealed until the I-frame; a "
            "decoder that compares by value keeps decoding them.",
            ["6.1"],
            ["R-23", "R-102"],
            neg_zero,
        ),
        VectorDef(
            "y_header_repeated_range_update",
            "An I-frame with a range update, P-frames, then an identical repeat of the sequence header and more P-frames: the "
            "repeat changes nothing, so the I-frame's updated ranges stay in effect until the next I-frame; a decoder that "
            "restores the sequence ranges at the repeat decodes other values.",
            ["6.1", "6.3"],
            ["R-23", "R-31", "R-102"],
            repeated,
        ),
    ]


def _layout_vectors() -> list[VectorDef]:
    """SPEC 5.2.1, R-14, R-15, R-103, R-104."""
    hu = hdr(grp(0, 6, 3, index=[4, 9, 20]), grp(3, 6, 2, index=[0, 2]))
    h_lvl = hdr(grp(3, 6, 129), level=20)
    return [
        VectorDef(
            "n_value_index_not_increasing_unspecified",
            "group_dim_index 4, 2 in an UNSPECIFIED group (no canonical count, C = 0): the indices must still increase strictly "
            "(E_VALUE); a decoder that applies the ordering only when C > 0 accepts it.",
            ["5.2.1"],
            ["R-07", "R-45", "R-105", "R-15", "R-103"],
            [dmg.set_element(HeaderItem(hu), None, "group_dim_index[0][1]", 2, "E_VALUE")],
        ),
        VectorDef(
            "n_level_dims_over_canonical",
            "A HEAD_ROTATION group (canonical 3) of 129 dimensions in a level 1 stream (limit 128): both R-14 (E_LEVEL) and R-15 "
            "(E_VALUE) fail at group_dim_count_minus1[0]; the level check comes first.",
            ["4.3", "5.2.1"],
            ["R-07", "R-45", "R-105", "R-09", "R-14", "R-15", "R-104"],
            [dmg.set_element(HeaderItem(h_lvl), None, "level_idc", 10, "E_LEVEL", "group_dim_count_minus1[0]")],
        ),
    ]


def _short_file_vectors() -> list[VectorDef]:
    """SPEC 5.5, R-20 and R-100: a file shorter than the signature is E_TRUNCATED, whatever its bytes."""
    items = stream(base_header(), np.zeros((1, 6), np.int64))
    return [
        VectorDef(
            "n_truncated_signature_mismatch",
            "A file of the 2 bytes 'FX': shorter than fcs_signature and already different from 'FCS1'. E_TRUNCATED at bit 0 (the "
            "element cannot be read in full, and reading comes before checking); a decoder that compares the bytes present first "
            "reports E_SIGNATURE.",
            ["4.1", "5.5"],
            ["R-07", "R-45", "R-105", "R-20", "R-100"],
            items,
            post=lambda b: (b"FX", ExpectedError("E_TRUNCATED", None, None, "fcs_signature", file_bit=0)),
        ),
    ]


def clarity_vectors() -> list[VectorDef]:
    """Every vector of this module, in a fixed order."""
    return _residual_vectors() + _header_vectors() + _layout_vectors() + _short_file_vectors()
