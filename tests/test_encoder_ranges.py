"""Encoder range choices (SPEC 9.1, 14.7): nominal ranges where the data fit, near-constant noise dimensions."""

from __future__ import annotations

import math

import numpy as np

from refcodec.fcs.decoder import decode_file
from refcodec.fcs.encoder_ranges import choose_ranges, flatten_noise, noise_dimensions
from refcodec.importers import save_track
from refcodec.track import Track, TrackGroup


def _track(arkit_values: np.ndarray, rotation: np.ndarray) -> Track:
    return Track(np.concatenate([arkit_values, rotation], axis=1),
                 [TrackGroup("ARKIT52", ["cheekPuff", "jawOpen"], [5, 24]), TrackGroup("HEAD_ROTATION", ["x", "y", "z"])], (30, 1))


def test_auto_uses_nominal_ranges_where_the_data_fit():
    rng = np.random.default_rng(1)
    track = _track(rng.uniform(0.1, 0.6, size=(20, 2)), rng.uniform(-0.2, 0.2, size=(20, 3)))
    rmin, rmax, sources = choose_ranges(track, "auto")
    assert sources == ["nominal", "nominal"]
    assert rmin.tolist() == [0.0, 0.0, -math.pi / 2] * 1 + [-math.pi / 2] * 2
    assert rmax.tolist() == [1.0, 1.0] + [math.pi / 2] * 3
    # a rotation beyond a quarter turn: that group falls back to its data range
    rot = rng.uniform(-0.2, 0.2, size=(20, 3))
    rot[3, 1] = 2.0
    rmin, rmax, sources = choose_ranges(_track(rng.uniform(0.1, 0.6, size=(20, 2)), rot), "auto")
    assert sources == ["nominal", "data"] and rmax[3] == 2.0
    assert choose_ranges(track, "data")[2] == ["data", "data"]


def test_noise_dimensions_are_below_one_nominal_step():
    """At 8 bits a step of [0, 1] is 1/255: cheekPuff varying by 1e-6 is noise, jawOpen is not, and a
    rotation (nominal width pi) varying by 0.01 < pi/255 is noise too."""
    rng = np.random.default_rng(2)
    arkit = np.stack([0.25 + 1e-6 * rng.standard_normal(30), rng.uniform(0, 0.5, 30)], axis=1)
    rot = np.stack([rng.uniform(-0.3, 0.3, 30), 0.1 + 0.005 * rng.uniform(-1, 1, 30), np.zeros(30)], axis=1)
    track = _track(arkit, rot)
    noisy = noise_dimensions(track, [8, 8])
    assert noisy.tolist() == [True, False, False, True, False]  # a constant column is not noise
    rmin, rmax, _ = choose_ranges(track, "auto")
    fmin, fmax = flatten_noise(rmin, rmax, track.values, noisy)
    assert fmin[0] == fmax[0] == float(np.float32(track.values.mean(axis=0)[0])) and fmin[1] == 0.0


def test_fcenc_defaults_warn_and_code_noise_as_constants(tmp_path, capsys):
    from tools import fcenc

    rng = np.random.default_rng(3)
    arkit = np.stack([0.25 + 1e-6 * rng.standard_normal(40), rng.uniform(0, 0.5, 40)], axis=1)
    track = _track(arkit, rng.uniform(-0.3, 0.3, size=(40, 3)))
    src = tmp_path / "t.npz"
    save_track(track, src)
    out = tmp_path / "t.fcs"
    assert fcenc.main([str(src), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "1 near-constant noise dimension(s) coded as constants: cheekPuff" in err
    decoded = decode_file(out.read_bytes())
    assert decoded.header.profile_idc == 1
    assert decoded.header.groups[0].range_min[1] == 0.0 and decoded.header.groups[0].range_max[1] == 1.0
    assert np.ptp(decoded.matrix()[:, 0]) == 0.0  # the noise column decodes to one constant
    assert abs(float(decoded.matrix()[0, 0]) - 0.25) < 1e-5
    assert fcenc.main([str(src), "-o", str(out), "--noise-dims", "drop"]) == 0
    assert decode_file(out.read_bytes()).header.total_dims == 4
