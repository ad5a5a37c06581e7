"""Vectors of the nominal ranges of the sequence header (SPEC 4.2 table 4-3, 5.2.1, R-133).

Expected outputs come from the suite's model (model.py); the bytes from its own writer (bits.py).
"""

from __future__ import annotations

import numpy as np

from . import damage as dmg
from .script import HeaderItem
from .vectors import VectorDef, grp, hdr, stream, walk

# ---------------------------------------------------------------------------- nominal ranges
#: registry 4.2's nominal ranges as binary32 (written here from SPEC 4.2's bit patterns)
UNIT_RANGE = (0.0, 1.0)
QUARTER_TURN = (float(np.uint32(0xBFC90FDB).view(np.float32)), float(np.uint32(0x3FC90FDB).view(np.float32)))


def nominal_vectors() -> list[VectorDef]:
    """Ranges taken from the semantic's nominal range instead of f32 pairs (SPEC 4.2, 5.2.1, R-133)."""
    arkit = grp(2, 7, 4, [0.0, -0.25, 0.0, 0.1], [1.0, 1.5, 1.0, 0.9], eg=1, index=[0, 5, 17, 51])
    arkit.nominal = [True, False, True, False]  # explicit pairs where the range is not [0, 1]
    rot = grp(3, 9, 3, QUARTER_TURN[0], QUARTER_TURN[1], eg=2, zf=True)
    rot.nominal = [True, True, True]
    jaw = grp(5, 6, 2, -0.5, 0.5, eg=1)  # a semantic with a nominal range that does not use it
    h = hdr(arkit, rot, jaw, interval=6, header_crc_flag=True)
    q = walk(h, 14, 61)
    out = [VectorDef("y_nominal_ranges", "Ranges from the registry's nominal ranges: an ARKIT52 group with nominal and explicit "
                     "dimensions, a HEAD_ROTATION group all nominal ([f32(-pi/2), f32(pi/2)] by bit pattern), a JAW group "
                     "without the flag.", ["4.2", "5.2.1", "6.5"], ["R-133", "R-30"], stream(h, q, every=6))]
    hu = hdr(grp(0, 8, 2, -1.0, 1.0), interval=4)
    out.append(VectorDef("n_nominal_no_range", "group_nominal_flag 1 on an UNSPECIFIED group, which has no nominal range: E_VALUE.",
                         ["4.2", "5.2.1"], ["R-133"], [dmg.set_element(HeaderItem(hu), None, "group_nominal_flag[0]", 1, "E_VALUE")]))
    return out
