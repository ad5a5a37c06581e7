"""Vectors of the loss-resilience tools of the Baseline profile (SPEC 5.2, 5.3, 7.2; R-220,
R-221, R-223): intra-predicted I-frames and extrapolated concealment.

Expected outputs come from the suite's model (model.py); the bytes from its own writer (bits.py).
"""

from __future__ import annotations

import numpy as np

from . import damage as dmg
from .script import HeaderItem
from .vectors import VectorDef, frame, grp, hdr, stream, walk

C_INTRA = ["5.2.1", "5.3.1", "6.4"]
C_CONCEAL = ["7.1", "7.2", "7.3", "8.1"]


def intra_header(**kw):
    """Two groups (6 and 10 bits) with intra prediction: centers at the bottom, the middle and the top."""
    g0 = grp(1, 6, 3, -1.0, 1.0, eg=[1, 1, 0])
    g1 = grp(3, 10, 3, -0.5, 0.5, eg=2, zf=True)
    g0.intra_centers, g0.intra_orders = [0, 31, 63], [0, 3, 5]
    g1.intra_centers, g1.intra_orders = [512, 0, 1023], [7, 0, 15]
    return hdr(g0, g1, intra_pred_flag=True, **kw)


def intra_vectors() -> list[VectorDef]:
    """Decodable intra-predicted I-frames (values at 0 and 2^b - 1 from every center) and rejections."""
    h = intra_header(interval=4)
    q = walk(h, 16, 31)
    q[0] = [0, 63, 63, 1023, 1023, 0]  # the largest differences from each center, both signs
    q[4] = [63, 0, 0, 0, 0, 1023]
    q[8] = [0, 31, 63, 512, 0, 1023]  # every difference 0
    upd = {12: {1: ([-1.0, -1.0, -1.0], [2.0, 2.0, 2.0])}}  # centers stay quantized values under new ranges
    out = [VectorDef("y_intra_pred", "I-frames predicted from intra_center (R-220, R-221): differences up to 2^b - 1 of "
                     "both signs, all-zero differences, orders 0 to 15, and a range update (the centers are quantized "
                     "values and do not change).", C_INTRA + ["6.3"], ["R-220", "R-221", "R-31", "R-33"],
                     stream(h, q, every=4, updates=upd))]
    hp = intra_header(interval=4, profile_idc=0)
    for name, row, what in (
        ("n_intra_residual_range_high", [0, 33, 0, 0, 0, 0], "31 + 33 = 64 > 63"),
        ("n_intra_residual_range_low", [0, 0, 0, 0, -1, 0], "0 - 1 = -1 < 0"),
    ):
        items = [HeaderItem(hp), frame(1, 0, hp, row)]
        out.append(VectorDef(name, f"An intra-predicted value leaves [0, 2^b - 1] ({what}): E_RESIDUAL at the intra_residual (R-221).",
                             C_INTRA, ["R-221", "R-105"], items))
    # resilient: a failing intra-predicted I-frame after a gap is a damaged unit: no gap frames
    hr = intra_header(interval=4, frame_crc_flag=True)
    qr = walk(hr, 12, 32)
    items = stream(hr, qr, every=4)
    bad = frame(1, 8, hr, [0, 40, 0, 0, 0, 0])  # 31 + 40 > 63
    items = items[:7] + [bad] + items[10:]  # frames 6 and 7 lost, then the I-frame at 8 is out of range
    out.append(VectorDef("y_intra_pred_damaged_after_gap", "Frames 6 and 7 lost, then an I-frame whose intra-predicted value "
                         "leaves the range: one concealed_error frame and no gap frames (the check precedes the gap, R-221); "
                         "the expected counter advances by one (to 7), so frame 9 shows a gap of 2, and the P-frames wait for "
                         "the next I-frame.", C_INTRA + C_CONCEAL, ["R-221", "R-40", "R-107"], items, mode="resilient"))
    return out


def extrapolation_vectors() -> list[VectorDef]:
    """Concealment by extrapolation (R-223): gaps, damaged units, P-frames without reference, clamping."""
    h = hdr(grp(1, 6, 3, -1.0, 1.0, eg=[2, 2, 2]), grp(3, 10, 2, -0.5, 0.5, eg=4, zf=True), interval=8,
            frame_crc_flag=True, conceal_extrapolate_flag=True)
    n = 24
    q = np.zeros((n, 5), np.int64)
    t = np.arange(n)
    q[:, 0] = np.clip(5 * t, 0, 63)  # rises into the top: 2 q1 - q2 is clamped at 63
    q[:, 1] = np.clip(68 - 5 * t, 0, 63)  # falls to the bottom: clamped at 0
    q[:, 2] = 30 + (t % 3)  # small moves
    q[:, 3] = 500 + 37 * (t % 5)
    q[:, 4] = 1000 - 3 * t
    full = stream(h, q, every=8)
    hd, fr = full[0], full[1:]

    def keep(drop=(), bad=None):
        return [hd] + [bad[i] if bad and i in bad else f for i, f in enumerate(fr) if i not in drop]

    vs = [
        ("y_conceal_extrapolate_gap", "Frames 5-6 lost: the gap frames and the P-frame 7 (no reference) all "
         "get the extrapolation 2 q4 - q3 of frames 3 and 4, clamped to [0, 2^b - 1] (R-223).", keep([5, 6])),
        ("y_conceal_extrapolate_clamp", "Frames 14-15 lost, where dimension 0 has reached the top and dimension 1 the "
         "bottom: the extrapolation clamps at 63 and 0.", keep([14, 15])),
        ("y_conceal_extrapolate_after_i", "Frame 9 lost right after the I-frame at 8: no pair (an I-frame starts a new one), "
         "so the concealed frames hold frame 8 (R-41).", keep([9])),
        ("y_conceal_extrapolate_damaged", "P-frame 12 fails its CRC: the concealed_error and concealed_no_reference frames "
         "extrapolate frames 10 and 11.", keep(bad={12: dmg.flip_crc(fr[12], h)})),
        ("y_conceal_extrapolate_restart", "Frames 3 and 6 lost: after the I-frame at 8 the pair restarts; a loss at 11 "
         "extrapolates frames 9 and 10.", keep([3, 6, 11])),
    ]
    return [VectorDef(name, purpose, C_CONCEAL, ["R-223", "R-41", "R-42", "R-43"], items, mode="resilient")
            for name, purpose, items in vs]


def loss_tool_vectors() -> list[VectorDef]:
    """Every vector of this module, in a fixed order."""
    return intra_vectors() + extrapolation_vectors()


