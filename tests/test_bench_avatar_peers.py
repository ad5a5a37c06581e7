"""The peer benchmark's one error measure (tools/bench_avatar_peers.py) and the session rate of fcbench-avatar, on hand-made values."""

from __future__ import annotations

import numpy as np

from refcodec.avatar.model import Gaussians
from refcodec.avatar.ply import write_ply
from tools.bench_avatar import session_rates
from tools.bench_avatar_peers import SH_C0, gaussian_errors, read_float_ply


def _ply(positions, rotations, dc, opacity, scales) -> dict:
    g = Gaussians.empty(len(positions), 0)
    g.positions, g.rotations = np.asarray(positions, np.float32), np.asarray(rotations, np.float32)
    g.sh_dc, g.opacity_logits, g.log_scales = np.asarray(dc, np.float32), np.asarray(opacity, np.float32), np.asarray(scales, np.float32)
    return read_float_ply(write_ply(g))


def test_errors_by_hand():
    """0.5 mm (a 3-4-5 triangle), 10 degrees about x, f_dc + 0.1 (colour 0.1 SH_C0), opacity 0.5 -> 0.75 (logit ln 3),
    log-scale 0.5 off; an axis below e^-10 m is left out of the scale error (its 7.0 difference is not reported)."""
    half = np.radians(10.0) / 2
    ref = _ply([[0, 0, 0], [1, 1, 1]], [[1, 0, 0, 0], [0, 0, 0, 2]], [[0, 0, 0], [0.5, 0.5, 0.5]], [0, 1], [[-5, -5, -5], [-12, -4, -4]])
    got = _ply([[0.0003, 0.0004, 0], [1, 1, 1]], [[np.cos(half), np.sin(half), 0, 0], [0, 0, 0, -1]], [[0.1, 0, 0], [0.5, 0.5, 0.5]],
               [np.log(3.0), 1], [[-5.5, -5, -5], [-5, -4, -4]])
    e = gaussian_errors(ref, got)
    assert abs(e["position_m"] - 0.0005) < 1e-8
    assert abs(e["rotation_deg"] - 10.0) < 1e-4  # the second pair is q and -q/2: the same rotation
    assert abs(e["colour"] - 0.1 * SH_C0) < 1e-7 and e["colour_over_0.1"] == 0
    assert abs(e["opacity"] - 0.25) < 1e-7
    assert abs(e["log_scale"] - 0.5) < 1e-7
    assert e["order_kept"]


def test_reader_keeps_infinite_logits():
    """SPZ decodes opacity 0 as a logit of -inf: the peer reader keeps it (opacity 0 after the sigmoid)."""
    header = b"ply\nformat binary_little_endian 1.0\nelement vertex 2\nproperty float opacity\nproperty float x\nend_header\n"
    cols = read_float_ply(header + np.array([[-np.inf, 1.0], [2.0, 3.0]], "<f4").tobytes())
    assert cols["opacity"][0] == -np.inf and cols["x"].tolist() == [1.0, 3.0]


def test_session_rate_by_hand():
    """750,000 bytes over 10 minutes = 10 kbit/s, plus the 3 kbit/s stream."""
    assert abs(session_rates(750_000)["10"] - 13.0) < 1e-12 and abs(session_rates(750_000)["60"] - (100 / 60 + 3)) < 1e-12
