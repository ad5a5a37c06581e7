"""Container round trips (SPEC chapter 11): exact when lossless, within half a step when quantized."""

from __future__ import annotations

import numpy as np
import pytest
from fca_helpers import full_avatar
from hypothesis import given, settings
from hypothesis import strategies as st

from refcodec.fca import PackConfig, decode_avatar, encode_avatar
from refcodec.fca.codec import SHARED_SPAN_ATTRIBUTES
from refcodec.fca.container import read_container

#: Quantization only: no encoder simplifications, so errors are bounded by half a step.
NO_PRECONDITIONING = {"morph_max_error": None, "log_scale_floor": None, "opacity_floor": False, "drop_idle_skeleton": False,
                      "gaussian_order": "keep"}
PLAIN = {"rotation_coding": "quaternion", "opacity_coding": "logit"}  # plain ROTATION / OPACITY blocks (no SPEC 11.7.1 coding)
GAUSSIAN_FIELDS = ("positions", "rotations", "log_scales", "opacity_logits", "sh_dc", "sh_rest")


@pytest.mark.parametrize("mode", ["none", "vertex", "triangle"])
def test_lossless_round_trip_is_exact(mode):
    """R-58 with q_bits = 32, R-69: every field comes back bit for bit."""
    avatar = full_avatar(mode=mode)
    back = decode_avatar(encode_avatar(avatar, PackConfig.lossless()))
    assert back.gaussians.equals(avatar.gaussians)
    assert back.binding.equals(avatar.binding)
    assert back.layout == avatar.layout and back.metadata == avatar.metadata
    assert back.render.equals(avatar.render)
    if avatar.deformation is not None:
        d, e = avatar.deformation, back.deformation
        assert np.array_equal(d.vertices, e.vertices) and np.array_equal(d.triangles, e.triangles)
        assert d.morphs.names == e.morphs.names
        for i1, d1, i2, d2 in zip(d.morphs.indices, d.morphs.deltas, e.morphs.indices, e.morphs.deltas, strict=True):
            assert np.array_equal(i1, i2) and np.array_equal(d1, d2)
        assert d.coeff_map.source == e.coeff_map.source and np.array_equal(d.coeff_map.matrix, e.coeff_map.matrix)
        assert np.array_equal(d.coeff_map.bias, e.coeff_map.bias)
        assert d.joint_drivers == e.joint_drivers and np.array_equal(d.head_pivot, e.head_pivot)
        s, t = d.skeleton, e.skeleton
        assert s.joint_names == t.joint_names and np.array_equal(s.parents, t.parents)
        assert np.array_equal(s.rest_local, t.rest_local) and np.array_equal(s.inverse_bind, t.inverse_bind)
        assert np.array_equal(s.vertex_joints, t.vertex_joints)


def test_skin_weights_are_u16_fractions_summing_to_one():
    """R-63: stored weights sum to 65535 per vertex; decoded w = q / 65535 is within 1/65535 of the input."""
    avatar = full_avatar()
    parsed = read_container(encode_avatar(avatar, PackConfig.lossless()))
    q = np.asarray(parsed.first(b"DEFM").payload.skeleton.vertex_weights).reshape(4, -1)
    assert (q.astype(np.int64).sum(axis=0) == 65535).all()
    back = decode_avatar(encode_avatar(avatar, PackConfig.lossless()))
    err = np.abs(back.deformation.skeleton.vertex_weights - avatar.deformation.skeleton.vertex_weights)
    assert err.max() <= 1.0 / 65535 + 1e-7


def _half_steps(values: np.ndarray, bits: int, shared: bool = False) -> np.ndarray:
    """Per-channel half quantization step of [N, C] values, plus binary32 rounding slack; with ``shared``
    every channel has the widest channel's span (the encoder's colour and log-scale blocks, R-159)."""
    v = values.reshape(values.shape[0], -1).astype(np.float64)
    width = v.max(axis=0) - v.min(axis=0)
    if shared:
        width = np.full_like(width, width.max())
    return width / (2**bits - 1) / 2 + 1e-6 * (np.abs(v).max(axis=0) + 1e-30)


@pytest.mark.parametrize("bits", [4, 8, 12, 16])
def test_quantized_attributes_within_half_a_step(bits):
    """R-58: nearest-level quantization over the per-channel range errs by at most step/2."""
    avatar = full_avatar(sh_degree=2)
    config = PackConfig(*(bits,) * 5, sh_rest_bits=bits, vertex_bits=bits, morph_bits=bits, barycentric_bits=bits, **NO_PRECONDITIONING, **PLAIN)
    back = decode_avatar(encode_avatar(avatar, config))
    for name in GAUSSIAN_FIELDS:
        a = getattr(avatar.gaussians, name)
        b = getattr(back.gaussians, name)
        err = np.abs(a - b).reshape(a.shape[0], -1).max(axis=0)
        assert (err <= _half_steps(a, bits, shared=name in SHARED_SPAN_ATTRIBUTES)).all(), name
    d, e = avatar.deformation, back.deformation
    assert (np.abs(d.vertices - e.vertices).max(axis=0) <= _half_steps(d.vertices, bits)).all()
    for d1, d2 in zip(d.morphs.deltas, e.morphs.deltas, strict=True):
        if len(d1):
            assert (np.abs(d1 - d2).max(axis=0) <= _half_steps(d1, bits)).all()


@pytest.mark.parametrize("max_error", [1e-3, 1e-4, 1e-6])
def test_morph_max_error_bounds_every_delta(max_error):
    """Encoder knob: every decoded delta (dropped vertices decode as 0) is within max_error."""
    avatar = full_avatar(5, v=20)
    back = decode_avatar(encode_avatar(avatar, PackConfig(morph_max_error=max_error)))
    v = avatar.deformation.vertex_count
    dense_in = avatar.deformation.morphs.dense(v)
    dense_out = back.deformation.morphs.dense(v)
    assert np.abs(dense_in - dense_out).max() <= max_error * (1 + 1e-5)
    kept = sum(back.deformation.morphs.nnz())
    assert kept == int(sum((np.abs(d).max(axis=1) >= max_error).sum() for d in avatar.deformation.morphs.deltas))


def test_referenced_model_round_trip():
    """A DEFR section names a registered model; BIND indices are bounded by its counts (R-64, R-65)."""
    from refcodec.fca.codec import _meta_payload, avatar_sections
    from refcodec.fca.container import SectionToWrite, write_container

    avatar = full_avatar(mode="none", sh_degree=0)
    sections = avatar_sections(avatar, PackConfig())
    defr = {"model_name_length": 9, "model_name": b"FLAME2020", "model_sha256": bytes(range(32))}
    bind = {
        "binding_mode": 2,
        "binding_index": np.arange(40) * 200,
        "barycentric": {"q_bits": 32, "q_min": None, "q_max": None, "q_values": np.full(120, 1 / 3, np.float32)},
    }
    assert _meta_payload(avatar)["gaussian_count"] == 40
    sections = sections[:1] + [SectionToWrite(b"DEFR", defr), SectionToWrite(b"BIND", bind)] + sections[1:]
    parsed = read_container(write_container(sections))
    p = parsed.first(b"DEFR").payload
    assert p.model_name == b"FLAME2020" and p.model_sha256 == bytes(range(32))
    assert np.array_equal(parsed.first(b"BIND").payload.binding_index, np.arange(40) * 200)


small_ints = st.integers(min_value=1, max_value=30)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n=small_ints,
    v=st.integers(3, 20),
    mode=st.sampled_from(["none", "vertex", "triangle"]),
    sh=st.integers(0, 3),
    skel=st.booleans(),
    cmap=st.booleans(),
    bits=st.sampled_from([1, 3, 8, 11, 16, 32]),
)
def test_random_avatars_round_trip(seed, n, v, mode, sh, skel, cmap, bits):
    """Hypothesis: random small avatars decode exactly (32 bits) or within half a step."""
    avatar = full_avatar(seed, n, v, mode, sh, skel, cmap)
    config = PackConfig(*(bits,) * 9, **NO_PRECONDITIONING, **PLAIN)
    back = decode_avatar(encode_avatar(avatar, config))
    for name in GAUSSIAN_FIELDS:
        a, b = getattr(avatar.gaussians, name), getattr(back.gaussians, name)
        if bits == 32:
            assert np.array_equal(a, b), name
        else:
            assert (np.abs(a - b).reshape(n, -1).max(axis=0) <= _half_steps(a, bits, shared=name in SHARED_SPAN_ATTRIBUTES)).all(), name
    assert back.binding.mode == avatar.binding.mode
    if avatar.binding.index is not None:
        assert np.array_equal(back.binding.index, avatar.binding.index)


def test_preconditioning_changes_only_what_it_states():
    """log-scales below the floor rise to it, invisible opacities stay below 1/255, the rest is untouched
    (lossless storage isolates the preconditioning); a driven skeleton is kept."""
    avatar = full_avatar(9, n=50)
    g = avatar.gaussians
    g.log_scales[:10] = -20.0
    g.opacity_logits[:5] = -30.0
    config = PackConfig(*(32,) * 9, morph_max_error=None, log_scale_floor=-10.0, opacity_floor=True, drop_idle_skeleton=True, **PLAIN)
    back = decode_avatar(encode_avatar(avatar, config)).gaussians
    assert (back.log_scales[:10] == -10.0).all() and np.array_equal(back.log_scales[10:], np.maximum(g.log_scales[10:], -10.0))
    sig = 1 / (1 + np.exp(-back.opacity_logits[:5].astype(np.float64)))
    assert (sig < 1 / 255).all() and np.array_equal(back.opacity_logits[5:], np.maximum(g.opacity_logits[5:], back.opacity_logits[:5].min()))
    assert decode_avatar(encode_avatar(avatar, config)).deformation.skeleton is not None  # JAW drives a joint


def test_idle_identity_skeleton_is_dropped():
    avatar = full_avatar(10, n=20)
    d = avatar.deformation
    d.joint_drivers = {}
    s = d.skeleton
    s.rest_local[:] = np.eye(4, dtype=np.float32)
    s.inverse_bind[:] = np.eye(4, dtype=np.float32)
    assert decode_avatar(encode_avatar(avatar, PackConfig())).deformation.skeleton is None
    s.rest_local[1, 0, 3] = 0.01  # joint 1 now moves its vertices at rest: kept
    assert decode_avatar(encode_avatar(avatar, PackConfig())).deformation.skeleton is not None
