"""Rate-distortion encoder (refcodec.rdo, SPEC 9.4): sensitivity, allocation, dead zone, hold,
prediction, basis and quality search on synthetic models (no renders)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from fca_helpers import full_avatar

from refcodec.avatar.deform import morph_weights
from refcodec.fcs.decoder import decode_file
from refcodec.quant import dequant_step, quantize
from refcodec.rdo import RdoSettings, allocate, encode, learn_basis, measure, predict, project, search_quality, with_basis
from refcodec.rdo.basis import arkit_view, basis_of
from refcodec.rdo.predict import eight_bit_square_error
from refcodec.rdo.problem import Problem, layout_values
from refcodec.rdo.quantize import quantize_sequence
from refcodec.rdo.sensitivity import Sensitivity, operating_points
from refcodec.spec_tables import arkit52_names
from refcodec.track import Track, TrackGroup

LAYOUT = [("ARKIT52", 52), ("HEAD_ROTATION", 3)]


def linear_model(seed: int = 0, samples: int = 60, dims: int = 55, inert: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """A linear 'renderer' image = A x + b whose last ``inert`` samples never respond."""
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 0.01, (samples + inert, dims)).astype(np.float32)
    a[samples:] = 0
    b = rng.uniform(0.2, 0.8, samples + inert).astype(np.float32)
    return a, b


def smooth_track(seed: int = 1, frames: int = 120, dims: int = 55) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None]
    phase = rng.uniform(0, 2 * np.pi, dims)
    v = 0.3 + 0.25 * np.sin(t / rng.uniform(4, 20, dims) + phase)
    v[:, 52:] = 0.1 * np.sin(t / 9.0 + phase[52:])  # head rotation, radians
    return v


def test_measure_recovers_a_linear_renderer():
    a, b = linear_model()
    values = smooth_track()
    sens = measure(lambda x: a.astype(np.float64) @ x + b, values, points=2)
    # inert samples are left out; the finite differences of a linear map are its matrix
    assert sens.total_samples == a.shape[0]
    assert np.array_equal(sens.samples, np.arange(60))
    assert np.allclose(sens.jacobians[0], a[:60], atol=2e-5)
    assert np.allclose(sens.gram(), (a.astype(np.float64).T @ a) / a.shape[0], rtol=1e-3, atol=1e-7)


def test_operating_points_are_track_frames_along_the_main_direction():
    v = np.zeros((9, 2))
    v[:, 0] = np.arange(9)  # the main direction is axis 0; three slices of three frames -> middles 1, 4, 7
    pts = operating_points(v, 3)
    assert sorted(pts[:, 0].tolist()) == [1.0, 4.0, 7.0]


@pytest.mark.parametrize(("err", "expected"),
                         [(0.0, 0.0), (1 / 255, 1.0), (0.5 / 255, 0.5), (1.5 / 255, 2.25 + 0.25), (-0.25 / 255, 0.0625 + 0.1875)])
def test_eight_bit_error_formula(err, expected):
    # E^2 + f(1 - f): a quarter-level error flips the rounding of a quarter of the samples, etc.
    assert eight_bit_square_error(np.array([err]))[0] == pytest.approx(expected, rel=1e-5)


def test_eight_bit_error_matches_rounding_of_uniform_values():
    rng = np.random.default_rng(3)
    s = rng.uniform(0.1, 0.9, 400_000)
    for err in (0.3 / 255, 1.7 / 255, 4.2 / 255):
        actual = np.mean((np.round(255 * (s + err)) - np.round(255 * s)) ** 2)
        assert eight_bit_square_error(np.array([err]))[0] == pytest.approx(actual, rel=0.01)


def test_prediction_of_a_linear_renderer_is_exact_in_float():
    a, b = linear_model(seed=5)
    values = smooth_track(seed=6)
    sens = measure(lambda x: a.astype(np.float64) @ x + b, values, points=1)
    decoded = values + np.random.default_rng(7).normal(0, 0.01, values.shape)
    pred = predict(sens, values, decoded, frames=np.arange(len(values)))
    direct = np.mean(((decoded - values) @ a.T.astype(np.float64)) ** 2)  # a second implementation: the full image error
    assert pred.mse_float == pytest.approx(direct, rel=1e-3)
    assert pred.psnr_float == pytest.approx(10 * math.log10(1 / direct), abs=0.01)


def test_allocation_meets_the_budget_and_is_minimal():
    values = smooth_track(frames=200)
    weights = np.geomspace(1e-6, 1e-1, 55)
    mse = 1e-5
    alloc = allocate(values, LAYOUT, weights, mse)
    share = mse / 55
    steps = alloc.steps(LAYOUT)
    kept = alloc.keep
    # every sent dimension quantizes within its share (uniform error: step^2 / 12 per unit sensitivity)
    assert np.all(weights[kept] * steps[kept] ** 2 / 12 <= share * (1 + 1e-5))
    # every dimension left out costs less than its share
    assert np.all(weights[~kept] * np.mean(values[:, ~kept] ** 2, axis=0) <= share)
    # ranges cover the data, and level 0 sits on the minimum
    assert np.all(alloc.range_min[kept] <= values[:, kept].min(axis=0))
    assert np.all(alloc.range_max[kept] >= values[:, kept].max(axis=0))
    # one bit less in either group would break some dimension's share
    for g, (a, b) in enumerate([(0, 52), (52, 55)]):
        depth = alloc.bit_depths[g] - 1
        if depth < 1:
            continue
        width = np.ptp(values[:, a:b], axis=0)
        coarser = width / ((1 << depth) - 1)
        assert np.any(kept[a:b] & (weights[a:b] * coarser**2 / 12 > share))


def test_plain_settings_quantize_to_the_nearest_level():
    values = smooth_track(frames=90)
    gram = np.diag(np.full(55, 1e-3))
    alloc = allocate(values, LAYOUT, np.diag(gram), 1e-5)
    q = quantize_sequence(values, LAYOUT, alloc, gram, RdoSettings(1e-5))
    depth = alloc.depth_per_dim(LAYOUT)
    # the reference encoder's rule (SPEC 9.1)
    nearest = quantize(values, alloc.range_min, dequant_step(alloc.range_min, alloc.range_max, depth), depth)
    assert np.array_equal(q[:, alloc.keep], nearest[:, alloc.keep])


def test_dead_zone_keeps_a_level_until_the_value_moves_far_enough():
    layout = [("HEAD_ROTATION", 3)]
    x = np.zeros((6, 3))
    x[:, 0] = [0.0, 0.6, 0.7, 0.8, 2.0, 0.0]
    x[:, 1] = [0.0, 10.0, 0.0, 0.0, 0.0, 0.0]  # range 0..10
    alloc = allocate(x, layout, np.ones(3), 1e-9)
    step = float(alloc.steps(layout)[0])
    x[:, 0] *= step  # in steps: 0, 0.6, 0.7, 0.8, 2.0, 0
    q = quantize_sequence(x, layout, alloc, np.eye(3), RdoSettings(1e-9, deadzone=0.75, intra_interval=30))
    # 0.6 and 0.7 steps stay on level 0 (inside the dead zone); 0.8 moves to the nearest level 1; 2.0 -> 2; 0 -> 0
    assert q[:, 0].tolist() == [0, 0, 0, 1, 2, 0]


def test_hold_never_exceeds_its_budget():
    values = smooth_track(frames=150)
    rng = np.random.default_rng(2)
    j = rng.normal(0, 0.03, (30, 55))
    gram = j.T @ j / 30
    settings = RdoSettings(2e-5, deadzone=0.5, hold=1.0)
    alloc = allocate(values, LAYOUT, np.diag(gram), settings.mse)
    q = quantize_sequence(values, LAYOUT, alloc, gram, settings)
    plain = quantize_sequence(values, LAYOUT, alloc, gram, RdoSettings(2e-5))
    step = alloc.steps(LAYOUT).astype(np.float32)
    recon = alloc.range_min + q.astype(np.float32) * step
    held_frames = 0
    for t in range(1, len(q)):
        if t % settings.intra_interval == 0:
            continue
        for a, b in [(0, 52), (52, 55)]:
            if np.array_equal(q[t, a:b], q[t - 1, a:b]) and not np.array_equal(plain[t, a:b], q[t - 1, a:b]):
                held_frames += 1
                e = np.where(alloc.keep[a:b], values[t, a:b] - recon[t - 1, a:b], 0)
                assert e @ gram[a:b, a:b] @ e <= settings.hold * settings.mse * (1 + 1e-9)
    assert held_frames > 0  # the test exercises holding


@pytest.mark.parametrize("profile, idc", [("main", 1), ("baseline", 0)])
def test_encode_gives_a_stream_of_the_profile_the_decoder_reads(profile, idc):
    values = smooth_track(frames=60)
    values[:, 10] = 0.0  # a weight that never moves is not sent
    gram = np.diag(np.full(55, 1e-3))
    coded = encode(values, LAYOUT, gram, RdoSettings(1e-5, deadzone=0.75, hold=0.5, profile=profile), (30, 1))
    result = decode_file(coded.data)
    h = result.header
    assert h.profile_idc == idc
    assert len(result.frames) == 60
    assert h.groups[0].dim_index is not None and 10 not in h.groups[0].dim_index
    assert np.all(coded.decoded[:, 10] == 0)
    assert coded.kbps == pytest.approx(len(coded.data) * 8 / 2.0 / 1000)
    with pytest.raises(ValueError, match="profile"):
        encode(values, LAYOUT, gram, RdoSettings(1e-5, profile="extended"))


def test_main_codes_the_same_levels_in_fewer_bits():
    """The profiles code the same chosen levels (identical decoded frames); Main's adaptive coder is smaller."""
    values = smooth_track(frames=90)
    gram = np.diag(np.full(55, 1e-3))
    main, base = (encode(values, LAYOUT, gram, RdoSettings(1e-5, deadzone=0.75, hold=0.5, profile=p), (30, 1)) for p in ("main", "baseline"))
    assert np.array_equal(main.decoded.view(np.uint32), base.decoded.view(np.uint32))
    assert len(main.data) < len(base.data)


def test_learned_basis_is_g_orthonormal_and_exact_on_low_rank_data():
    rng = np.random.default_rng(4)
    basis_true = rng.normal(size=(52, 3))
    w = rng.normal(size=(100, 3)) @ basis_true.T + rng.uniform(0, 1, 52)
    a = rng.normal(size=(80, 52))
    gram = a.T @ a / 80
    basis = learn_basis(w, gram, 3)
    g = gram + 1e-6 * np.mean(np.diag(gram)) * np.eye(52)
    assert np.allclose(basis.matrix.T @ g @ basis.matrix, np.eye(3), atol=1e-8)
    c = project(w, basis, gram)
    assert np.allclose(c @ basis.matrix.T + basis.mean, w, atol=1e-8)  # rank-3 data is reproduced exactly


def test_avatar_with_basis_drives_its_morphs_through_the_coefficient_map():
    avatar = full_avatar(with_map=False)
    rng = np.random.default_rng(8)
    w = rng.uniform(0, 1, (50, 52))
    basis = learn_basis(w, np.eye(52), 4)
    pca = with_basis(avatar, basis)
    assert pca.layout[0] == ("EXPRESSION", 4)
    c = rng.normal(size=4)
    # SPEC 13.1, R-81 through the reference deformation: w = M c + bias for the named morph targets
    got = morph_weights(pca, {"EXPRESSION": c.astype(np.float32)})
    names = list(arkit52_names())
    expected = [basis.matrix[names.index(n)] @ c + basis.mean[names.index(n)] for n in avatar.deformation.morphs.names]
    assert np.allclose(got, expected, atol=1e-5)
    back = basis_of(pca)
    assert back is not None and np.allclose(back.matrix[names.index("jawOpen")], basis.matrix[names.index("jawOpen")], atol=1e-6)
    assert arkit_view(pca).layout[0] == ("ARKIT52", 52)


def test_layout_values_map_by_semantic_and_canonical_index():
    track = Track(np.array([[1.0, 2.0, 3.0, 4.0, 5.0]]), [TrackGroup("HEAD_ROTATION", ["x", "y", "z"]), TrackGroup("ARKIT52", ["a", "b"], [0, 51])])
    v = layout_values(track, LAYOUT)
    assert v[0, 0] == 4.0 and v[0, 51] == 5.0 and v[0, 52:].tolist() == [1.0, 2.0, 3.0] and v[0, 1:51].sum() == 0


def test_quality_search_meets_its_target_at_the_least_rate_found():
    a, b = linear_model(seed=9, samples=200)
    values = smooth_track(seed=10, frames=90)
    sens = measure(lambda x: a.astype(np.float64) @ x + b, values, points=1)
    problem = Problem(values, LAYOUT, sens, (30, 1))
    low = search_quality(problem, 45.0, grid=((0.5, 0.0), (0.75, 0.5)))
    high = search_quality(problem, 55.0, grid=((0.5, 0.0), (0.75, 0.5)))
    assert low.prediction.psnr_8bit >= 45.0 and high.prediction.psnr_8bit >= 55.0
    assert len(low.coded.data) <= len(high.coded.data)
    # the prediction is the model's: recomputing it from the decoded values gives the same number
    again = predict(sens, values, low.coded.decoded)
    assert again.psnr_8bit == pytest.approx(low.prediction.psnr_8bit)


def test_calibrated_search_applies_the_measured_offset():
    """A calibration saying the model is 3 dB conservative lets the search pick a smaller stream whose
    calibrated prediction still meets the target; the offset reported is the one measured last."""
    a, b = linear_model(seed=9, samples=200)
    values = smooth_track(seed=10, frames=90)
    sens = measure(lambda x: a.astype(np.float64) @ x + b, values, points=1)
    problem = Problem(values, LAYOUT, sens, (30, 1))
    grid = ((0.5, 0.0), (0.75, 0.5))
    plain = search_quality(problem, 45.0, grid=grid)
    seen = []

    def calibrate(decoded):
        seen.append(decoded)
        return 3.0

    calibrated = search_quality(problem, 45.0, grid=grid, calibrate=calibrate)
    assert len(seen) == 2 and calibrated.prediction.calibration_db == 3.0
    assert calibrated.prediction.psnr_8bit >= 45.0
    assert predict(sens, values, calibrated.coded.decoded).psnr_8bit == pytest.approx(calibrated.prediction.psnr_8bit - 3.0)
    assert len(calibrated.coded.data) < len(plain.coded.data)
    assert calibrated.prediction.psnr_float == predict(sens, values, calibrated.coded.decoded).psnr_float  # float not calibrated


def test_sensitivity_round_trips_through_its_cache_bytes():
    sens = Sensitivity(np.ones((1, 2)), np.arange(3), np.arange(6, dtype=np.float32).reshape(1, 3, 2), 10)
    again = Sensitivity.from_bytes(sens.to_bytes())
    assert np.array_equal(again.jacobians, sens.jacobians) and again.total_samples == 10
    assert np.allclose(again.gram(), np.array([[0 + 4 + 16, 0 + 6 + 20], [6 + 20, 1 + 9 + 25]]) / 10)
