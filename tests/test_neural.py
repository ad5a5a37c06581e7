"""FP16 MLPs evaluated in binary32 (SPEC 12.1, 12.4; R-70, R-71, R-78)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from refcodec.avatar.neural import Dense, Mlp, prune
from refcodec.errors import E_VALUE


def _f16(a) -> np.ndarray:
    return np.asarray(a, np.float16)


def test_two_layer_by_hand():
    # Layer 1: relu([[1, 2], [-1, 0.5]] x + [0.5, -1]); layer 2: [2, -1] h + 0.25.
    # x = (1, 1):  h = relu(3.5, -1.5) = (3.5, 0);  y = 7 - 0 + 0.25 = 7.25
    # x = (-2, 1): h = relu(0.5, 1.5) = (0.5, 1.5); y = 1 - 1.5 + 0.25 = -0.25
    mlp = Mlp([Dense(_f16([[1, 2], [-1, 0.5]]), _f16([0.5, -1]), "relu"), Dense(_f16([[2, -1]]), _f16([0.25]), "none")])
    mlp.validate(in_dims=2, out_dims=1)
    y = mlp.evaluate(np.array([[1, 1], [-2, 1]], np.float32))
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, np.array([[7.25], [-0.25]], np.float32))


@pytest.mark.parametrize("activation, fn", [("tanh", math.tanh), ("sigmoid", lambda v: 1 / (1 + math.exp(-v)))])
def test_activations_match_the_formula(activation, fn):
    x = np.array([[-20.0], [-1.5], [0.0], [0.75], [3.0], [100.0]], np.float32)
    y = Mlp([Dense(_f16([[1]]), _f16([0]), activation)]).evaluate(x)
    expected = np.array([[fn(float(v))] for v in x[:, 0]])
    np.testing.assert_allclose(y, expected, rtol=0, atol=2e-7)


def test_every_finite_binary16_converts_exactly():
    bits = np.arange(1 << 16, dtype=np.uint32)
    sign, exp, frac = bits >> 15, (bits >> 10) & 0x1F, bits & 0x3FF
    finite = exp != 31
    # IEEE 754 binary16: subnormal frac * 2^-24, normal (1 + frac/1024) * 2^(exp-15)
    value = np.where(exp == 0, frac * 2.0**-24, (1 + frac / 1024.0) * np.exp2(exp.astype(np.float64) - 15)) * np.where(sign, -1.0, 1.0)
    w = bits[finite].astype(np.uint16).view(np.float16)
    layer = Dense(w.reshape(-1, 1), np.zeros(w.size, np.float16), "none")
    y = layer.evaluate(np.ones((1, 1), np.float32))[0]
    np.testing.assert_array_equal(y.astype(np.float64), value[finite])


def test_prune_keeps_the_largest_and_evaluates_with_zeros():
    rng = np.random.default_rng(3)
    w = rng.normal(size=(10, 12)).astype(np.float16)
    mlp = Mlp([Dense(w, _f16(rng.normal(size=10)), "tanh")])
    pruned = prune(mlp, 0.4)
    layer = pruned.layers[0]
    assert layer.stored_count() == 120 - 48 and pruned.stored_weight_count() == 72
    kept, dropped = np.abs(w[layer.mask].astype(np.float32)), np.abs(w[~layer.mask].astype(np.float32))
    assert kept.min() >= dropped.max()
    assert np.all(layer.weight[~layer.mask] == 0)
    pruned.validate()
    x = rng.normal(size=(7, 12)).astype(np.float32)
    dense = np.where(layer.mask, w, 0).astype(np.float64)
    expected = np.tanh(x.astype(np.float64) @ dense.T + mlp.layers[0].bias.astype(np.float64))
    np.testing.assert_allclose(pruned.evaluate(x), expected, atol=1e-5)


def test_mask_bits_and_stored_weights_round_trip():
    layer = Dense(_f16([[1.5, 0, -2]]), _f16([0.5]), "relu", np.array([[True, False, True]]))
    assert layer.mask_bits() == bytes([0b10100000])  # row-major bit k is bit 7 - k%8 of byte k//8
    np.testing.assert_array_equal(layer.stored_weights(), _f16([1.5, -2]))
    back = Dense.from_stored(3, 1, "relu", layer.stored_weights(), layer.bias, layer.mask_bits())
    np.testing.assert_array_equal(back.weight, layer.weight)
    np.testing.assert_array_equal(back.mask, layer.mask)
    with pytest.raises(E_VALUE):
        Dense.from_stored(3, 1, "relu", _f16([1, 2, 3]), layer.bias, layer.mask_bits())


def test_validate_rejects_bad_layers():
    good = Dense(_f16([[1, 2]]), _f16([0]), "none")
    with pytest.raises(E_VALUE, match="layer_in"):
        Mlp([good, Dense(_f16([[1, 2]]), _f16([0]), "none")]).validate()
    with pytest.raises(E_VALUE):
        Mlp([Dense(_f16([[np.nan, 2]]), _f16([0]), "none")]).validate()
    with pytest.raises(E_VALUE):
        Mlp([Dense(_f16([[1, 2]]), _f16([0]), "swish")]).validate()
    with pytest.raises(E_VALUE):
        Mlp([Dense(_f16([[1, 2]]), _f16([0]), "none", np.array([[True, False]]))]).validate()
    with pytest.raises(E_VALUE):
        Mlp([good]).evaluate(np.zeros((3, 5), np.float32))


def test_summation_order_stays_within_the_tolerance():
    """SPEC 12.4, R-78: binary32 evaluation vs binary64 of a FlashAvatar-size network."""
    rng = np.random.default_rng(0)
    widths = [171] + [256] * 6 + [10]
    layers = [
        Dense(
            rng.normal(0, math.sqrt(2 / widths[i]), (widths[i + 1], widths[i])).astype(np.float16), _f16(rng.normal(0, 0.01, widths[i + 1])), "relu"
        )
        for i in range(7)
    ]
    layers[-1].activation = "none"
    mlp = Mlp(layers)
    assert mlp.parameter_count() == 375_562
    x = rng.uniform(-1, 1, (256, 171)).astype(np.float32)
    y32, y64 = mlp.evaluate(x), mlp.evaluate_f64(x)
    assert np.all(np.abs(y32 - y64) <= 1e-4 * (1 + np.abs(y64)))
