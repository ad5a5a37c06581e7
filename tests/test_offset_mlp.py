"""Offset MLP: positional encoding, input assembly, output mapping, loading (SPEC 12.3; R-76..R-78)."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

from refcodec.avatar.model import Gaussians
from refcodec.avatar.neural import Dense, Mlp
from refcodec.avatar.offset_mlp import (
    OffsetInput,
    OffsetMlpDescriptor,
    apply_offset_mlp,
    assemble_inputs,
    axis_angle_to_matrix,
    flashavatar_descriptor,
    load_npz,
    load_torch,
    map_outputs,
    positional_encoding,
    synthetic_offset_mlp,
)
from refcodec.errors import E_VALUE


def test_positional_encoding_one_frequency_by_hand():
    p = np.array([[0.5, -1.0, 2.0]], np.float32)
    pe = positional_encoding(p, OffsetMlpDescriptor(pe_frequencies=1))
    expected = [0.5, -1.0, 2.0] + [math.sin(v) for v in (0.5, -1.0, 2.0)] + [math.cos(v) for v in (0.5, -1.0, 2.0)]
    np.testing.assert_allclose(pe[0], expected, atol=1e-6)


def test_positional_encoding_normalises_and_doubles_frequencies():
    desc = OffsetMlpDescriptor(pe_frequencies=2, pe_include_input=False, position_center=np.array([1, 0, 0], np.float32), position_scale=2.0)
    pe = positional_encoding(np.array([[1.25, 0.1, -0.2]], np.float32), desc)
    q = [0.5, 0.2, -0.4]  # (p - c) * 2
    expected = [math.sin(v) for v in q] + [math.cos(v) for v in q] + [math.sin(2 * v) for v in q] + [math.cos(2 * v) for v in q]
    assert desc.pe_dims == 12
    np.testing.assert_allclose(pe[0], expected, atol=1e-6)


def test_rot6d_is_the_first_two_rows():
    r = axis_angle_to_matrix(np.array([[0, 0, math.pi / 2], [0, 0, 0]], np.float32))
    np.testing.assert_allclose(r[0], [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-6)  # 90 degrees about z
    np.testing.assert_array_equal(r[1], np.eye(3))
    desc = OffsetMlpDescriptor(pe_frequencies=0, inputs=(OffsetInput(5, 3, "rot6d"), OffsetInput(8, 2)))
    x = assemble_inputs(desc, np.zeros((2, 3), np.float32), {"JAW": np.array([0, 0, math.pi / 2]), 8: np.array([0.25, 0.75])})
    assert x.shape == (2, 3 + 6 + 2)
    np.testing.assert_allclose(x[1], [0, 0, 0, 0, -1, 0, 1, 0, 0, 0.25, 0.75], atol=1e-6)


def _one_gaussian(rotation=(1, 0, 0, 0), log_scale=-2.0) -> Gaussians:
    g = Gaussians.empty(1)
    g.rotations[0] = rotation
    g.log_scales[0] = log_scale
    g.positions[0] = (0.1, 0.2, 0.3)
    return g


def test_additive_mapping_by_hand():
    desc = OffsetMlpDescriptor(pe_frequencies=1, position_out_scale=0.01, rotation_out_scale=1.0, scale_out_scale=0.2)
    raw = np.zeros((1, 10), np.float32)
    raw[0, 0] = math.atanh(0.5)  # tanh = 0.5 -> x offset 0.005
    raw[0, 6] = math.atanh(0.5)  # rotation delta (1, 0, 0, 0.5)
    raw[0, 9] = math.atanh(-0.5)  # log-scale z - 0.1
    out = map_outputs(desc, raw, _one_gaussian(rotation=(0, 1, 0, 0)))
    np.testing.assert_allclose(out.positions[0], [0.105, 0.2, 0.3], atol=1e-7)
    # i (x) (1 + 0.5k) = i + 0.5 ik = i - 0.5 j, then normalised
    np.testing.assert_allclose(out.rotations[0], np.array([0, 1, -0.5, 0]) / math.sqrt(1.25), atol=1e-6)
    np.testing.assert_allclose(out.log_scales[0], [-2, -2, -2.1], atol=1e-6)


def test_flashavatar_mapping_by_hand():
    desc = OffsetMlpDescriptor(pe_frequencies=1, output_mapping="flashavatar")
    raw = np.zeros((1, 10), np.float32)
    raw[0, 3] = math.atanh(0.5)  # delta (e^0.5, 0, 0, 0): normalises back to the base rotation
    raw[0, 7] = math.atanh(0.5)  # log-scale x times e^0.5
    out = map_outputs(desc, raw, _one_gaussian())
    np.testing.assert_allclose(out.rotations[0], [1, 0, 0, 0], atol=1e-7)
    np.testing.assert_allclose(out.log_scales[0], [-2 * math.exp(0.5), -2, -2], atol=1e-6)


def test_apply_with_a_hand_network():
    # one linear layer that copies the first PE value (x of the anchor) into output 0
    desc = OffsetMlpDescriptor(pe_frequencies=0, inputs=(OffsetInput(8, 2),), position_out_scale=1.0)
    w = np.zeros((10, 5), np.float16)
    w[0, 0] = 1
    w[1, 4] = 1  # second eyelid value -> y offset
    mlp = Mlp([Dense(w, np.zeros(10, np.float16), "none")])
    g = _one_gaussian()
    out = apply_offset_mlp(desc, mlp, np.array([[0.5, 0, 0]], np.float32), {"EYELIDS": np.array([0, 0.25])}, g)
    np.testing.assert_allclose(out.positions[0], [0.1 + math.tanh(0.5), 0.2 + math.tanh(0.25), 0.3], atol=1e-6)
    with pytest.raises(E_VALUE):
        apply_offset_mlp(desc, mlp, np.zeros((1, 3), np.float32), {"JAW": np.zeros(3)}, g)


def test_flashavatar_size():
    desc = flashavatar_descriptor()
    assert desc.input_dims == 171
    desc, mlp = synthetic_offset_mlp(seed=1, hidden=(256,) * 6, desc=desc)
    desc.validate(mlp)
    assert mlp.parameter_count() == 375_562
    rng = np.random.default_rng(0)
    g = Gaussians.empty(64)
    frame = {"EXPRESSION": rng.normal(size=100), "JAW": [0.1, 0, 0], "EYES": np.zeros(6), "EYELIDS": [0, 0]}
    out = apply_offset_mlp(desc, mlp, rng.normal(0, 0.1, (64, 3)).astype(np.float32), frame, g)
    out.validate()


def _state(mlp: Mlp) -> dict[str, np.ndarray]:
    state = {}
    for i, layer in enumerate(mlp.layers):
        state[f"layers.{i}.weight"] = layer.weight.astype(np.float32)
        state[f"layers.{i}.bias"] = layer.bias.astype(np.float32)
    return state


def _same(a: Mlp, b: Mlp) -> None:
    assert [layer.activation for layer in a.layers] == [layer.activation for layer in b.layers]
    for la, lb in zip(a.layers, b.layers, strict=True):
        np.testing.assert_array_equal(la.weight, lb.weight)
        np.testing.assert_array_equal(la.bias, lb.bias)


def test_npz_round_trip():
    _, mlp = synthetic_offset_mlp(seed=2)
    buf = io.BytesIO()
    np.savez(buf, **_state(mlp))
    _same(load_npz(buf.getvalue()), mlp)


def test_npz_with_a_weight_beyond_binary16_is_rejected():
    buf = io.BytesIO()
    np.savez(buf, **{"layers.0.weight": np.array([[1e6]], np.float32), "layers.0.bias": np.zeros(1, np.float32)})
    with pytest.raises(E_VALUE):
        load_npz(buf.getvalue())


def test_torch_state_dict_round_trip(tmp_path):
    torch = pytest.importorskip("torch")
    _, mlp = synthetic_offset_mlp(seed=3)
    path = tmp_path / "offset.pt"
    torch.save({"deformNet." + k: torch.from_numpy(v) for k, v in _state(mlp).items()}, path)
    _same(load_torch(path, prefix="deformNet."), mlp)
