"""Latent attributes: decoding by hand, storage mapping, deterministic fitting (SPEC 12.2; R-72..R-75)."""

from __future__ import annotations

import numpy as np
import pytest

from refcodec.avatar.latents import (
    OPACITY,
    ROTATION,
    SH_REST,
    FitConfig,
    LatentAttributes,
    decode_latents,
    fit_latents,
    untrained_latents,
)
from refcodec.avatar.neural import Dense, Mlp
from refcodec.errors import E_VALUE


def _linear(w, b) -> Mlp:
    return Mlp([Dense(np.asarray(w, np.float16), np.asarray(b, np.float16), "none")])


def test_decode_by_hand():
    # x = latent * 0.25; rotation = normalize(x, 1, 0, 0); opacity logit = 2x + 0.5
    latents = np.array([[-4], [-1], [0], [3]], np.int32)
    mlp = _linear([[1], [0], [0], [0], [2]], [0, 1, 0, 0, 0.5])
    lat = LatentAttributes((ROTATION, OPACITY), 3, latents, np.array([0.25], np.float32), mlp)
    out = decode_latents(lat)
    x = latents[:, 0] * 0.25
    norm = np.sqrt(x * x + 1)
    np.testing.assert_allclose(out[ROTATION], np.stack([x / norm, 1 / norm, 0 * x, 0 * x], axis=1), atol=1e-7)
    np.testing.assert_allclose(out[OPACITY], 2 * x + 0.5, atol=0)


def test_zero_quaternion_decodes_to_identity():
    lat = LatentAttributes((ROTATION,), 2, np.array([[1]], np.int32), np.array([1], np.float32), _linear([[0]] * 4, [0] * 4))
    np.testing.assert_array_equal(decode_latents(lat)[ROTATION], [[1, 0, 0, 0]])


def test_sh_rest_is_coefficient_major():
    # sh_degree 1: 9 outputs = 3 coefficients x 3 channels; output k -> coefficient k // 3, channel k % 3
    bias = np.arange(9) * 0.5
    lat = LatentAttributes((SH_REST,), 4, np.zeros((2, 1), np.int32), np.array([1], np.float32), _linear([[0]] * 9, bias), sh_degree=1)
    sh = decode_latents(lat)[SH_REST]
    assert sh.shape == (2, 3, 3)
    assert sh[1, 2, 0] == 3.0 and sh[0, 0, 2] == 1.0  # output 6 and output 2


def test_stored_values_are_offset_binary():
    lat = LatentAttributes((OPACITY,), 3, np.array([[-4, 3], [0, -1]], np.int32), np.ones(2, np.float32), _linear([[0, 0]], [0]))
    stored = lat.stored_values()
    np.testing.assert_array_equal(stored, [[0, 4], [7, 3]])  # [L, N]: latent + 2^(3-1)
    np.testing.assert_array_equal(LatentAttributes.latents_from_stored(stored, 3, 2), lat.latents)


def test_validate_rejects_out_of_range_latents_and_bad_ids():
    mlp = _linear([[1]], [0])
    with pytest.raises(E_VALUE, match="latents"):
        LatentAttributes((OPACITY,), 3, np.array([[4]], np.int32), np.ones(1, np.float32), mlp).validate()
    with pytest.raises(E_VALUE):
        LatentAttributes((0,), 3, np.array([[1]], np.int32), np.ones(1, np.float32), mlp).validate()
    with pytest.raises(E_VALUE):
        LatentAttributes((OPACITY,), 3, np.array([[1]], np.int32), np.ones(1, np.float32), _linear([[1]] * 4, [0] * 4)).validate()


def _problem(n: int = 1500):
    rng = np.random.default_rng(11)
    # rotations clustered around a few axes, as trained avatars' are not uniform either
    base = rng.normal(size=(6, 4))
    q = base[rng.integers(0, 6, n)] + 0.15 * rng.normal(size=(n, 4))
    return {ROTATION: q.astype(np.float32), OPACITY: rng.normal(0, 2, n).astype(np.float32)}


def _mean_angle(q_ref: np.ndarray, q: np.ndarray) -> float:
    a = q_ref / np.linalg.norm(q_ref, axis=1, keepdims=True)
    return float(np.degrees(2 * np.arccos(np.clip(np.abs(np.sum(a * q, axis=1)), 0, 1))).mean())


def test_fit_is_deterministic_and_beats_the_untrained_decoder():
    targets = _problem()
    cfg = FitConfig.fast()
    a = fit_latents(targets, (ROTATION, OPACITY), cfg)
    b = fit_latents(targets, (ROTATION, OPACITY), cfg)
    np.testing.assert_array_equal(a.latents, b.latents)
    for la, lb in zip(a.mlp.layers, b.mlp.layers, strict=True):
        np.testing.assert_array_equal(la.weight, lb.weight)
        np.testing.assert_array_equal(la.bias, lb.bias)
    lo, hi = -(1 << (cfg.latent_bits - 1)), (1 << (cfg.latent_bits - 1)) - 1
    assert a.latents.min() >= lo and a.latents.max() <= hi
    fitted = decode_latents(a)
    start = decode_latents(untrained_latents(targets, (ROTATION, OPACITY), cfg))
    assert _mean_angle(targets[ROTATION], fitted[ROTATION]) < 0.5 * _mean_angle(targets[ROTATION], start[ROTATION])
    sig = lambda v: 1 / (1 + np.exp(-v.astype(np.float64)))  # noqa: E731
    err_fit = np.abs(sig(fitted[OPACITY]) - sig(targets[OPACITY])).mean()
    err_start = np.abs(sig(start[OPACITY]) - sig(targets[OPACITY])).mean()
    assert err_fit < 0.5 * err_start
