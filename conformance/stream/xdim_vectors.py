"""Vectors of cross-dimension prediction (SPEC 5.2.1, 6.4; R-224, R-225) in both profiles.

Baseline vectors are written by the suite's bit writer (script.py applies the references to the
residuals, written from the text) and checked by its model (model.py undoes them); the Main ones
by the suite's range-coder writer (main_bits.py) and model (range_coder_model.py).
"""

from __future__ import annotations

import numpy as np

from . import damage as dmg
from .script import HeaderItem
from .vectors import VectorDef, frame, grp, hdr, stream

CLAUSES = ["5.2.1", "6.4"]


def xdim_header(**kw):
    """Two groups: dimension 1 follows 0, 2 follows 1 negated (a chain), 3 (group 1) follows 0, 5 follows 3 negated."""
    g0 = grp(1, 6, 3, -1.0, 1.0, eg=[1, 1, 1])
    g1 = grp(3, 10, 3, -0.5, 0.5, eg=2, zf=True)
    g0.xdim = [None, (0, 0), (0, 1)]  # j=1 -> 0, j=2 -> 1 (sign 1: negated)
    g1.xdim = [(2, 0), None, (1, 1)]  # j=3 -> 0 across groups, j=5 -> 3 negated
    return hdr(g0, g1, xdim_pred_flag=True, **kw)


def coupled_walk(frames: int, seed: int) -> np.ndarray:
    """Quantized vectors whose dimensions move together as the references say, with small departures,
    and a frame (5) where group 1 moves only as its references predict: its coded values are all zero."""
    rng = np.random.RandomState(seed)
    q = np.zeros((frames, 6), np.int64)
    q[0] = [20, 30, 40, 500, 400, 600]
    for t in range(1, frames):
        r0 = int(rng.randint(-3, 4))
        extra = rng.randint(-1, 2, size=6) * (rng.rand(6) < 0.4)
        r = np.array([r0, r0, -r0, r0, 0, -r0]) + extra
        if t == 5:
            r = np.array([2, 2, -2, 2, 0, -2])
        q[t] = np.clip(q[t - 1] + r, 0, [63, 63, 63, 1023, 1023, 1023])
    return q


def xdim_vectors() -> list[VectorDef]:
    """Decodable references (chains, across groups, negated, an all-zero coded group that moves) and rejections."""
    h = xdim_header(interval=8)
    q = coupled_walk(20, 7)
    out = [VectorDef("y_xdim", "Cross-dimension prediction in Baseline: dimension 1 codes its residual minus dimension 0's, "
                     "2 plus dimension 1's (a chain through a dimension that itself has a reference), 3 minus dimension 0's "
                     "(another group), 5 plus dimension 3's; at frame 5 group 1's coded values are all 0 (group_zero_flag 1) "
                     "although it moves.", CLAUSES, ["R-224", "R-225", "R-32"], stream(h, q, every=8))]
    valid = xdim_header(interval=8)
    valid.groups[0].xdim = [None, None, (1, 0)]  # j = 2 -> 2 - 1 - 1 = 0, written ue(v) "010"
    damaged = dmg.set_element(HeaderItem(valid), None, "xdim_ref_delta[0][2]", 0b011, "E_VALUE")  # ue(v) "011" = 2: j = -1
    out.append(VectorDef("n_xdim_ref_delta", "xdim_ref_delta 2 on dimension 2 names dimension 2 - 1 - 2 = -1: E_VALUE at that "
                         "element.", ["5.2.1"], ["R-224"], [damaged]))
    hr = xdim_header(interval=8)
    items = [HeaderItem(hr), frame(1, 0, hr, [60, 30, 62, 500, 400, 600]), frame(0, 1, hr, [1, -4, 0, 0, 0, 0], zero=[False, False])]
    out.append(VectorDef("n_xdim_residual_range", "A P-frame coding 1, -4, 0, 0, 0, 0: residuals 1, -4 + 1 = -3, 0 - (-3) = 3, "
                         "0 + 1 = 1, 0, 0 - 1 = -1, so dimension 2, which codes 0, reaches 62 + 3 = 65 > 63: E_RESIDUAL at "
                         "residual[0][2] (the range check applies to the reconstructed values).", CLAUSES, ["R-225", "R-32"], items))
    return out
