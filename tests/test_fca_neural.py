"""Neural sections of the container (SPEC chapter 12): LATN and OMLP round trips, their
syntax errors, and the tolerance tier of the latent decoder (R-79) against a binary64 evaluation."""

from __future__ import annotations

import numpy as np
import pytest
from fca_helpers import full_avatar

from refcodec.avatar.latents import FitConfig, latent_range
from refcodec.avatar.neural import prune
from refcodec.avatar.offset_mlp import OffsetInput, synthetic_offset_mlp
from refcodec.errors import FcError
from refcodec.fca import PackConfig, decode_avatar, encode_avatar
from refcodec.fca.codec import avatar_sections, mlp_from_payload
from refcodec.fca.container import SectionToWrite, read_container, write_container


def _latent_avatar():
    return full_avatar(7, n=60, v=8, sh_degree=1)


@pytest.fixture(scope="module")
def latent_file():
    return encode_avatar(_latent_avatar(), PackConfig(latents=FitConfig.fast(), latent_attributes=(3, 4, 5)))


def test_latent_section_replaces_attr_sections(latent_file):
    """R-73: the attributes a LATN section gives have no ATTR section."""
    parsed = read_container(latent_file)
    assert sorted(s.payload.attribute_id for s in parsed.all(b"ATTR")) == [0, 1, 2]
    (latn,) = parsed.all(b"LATN")
    assert list(latn.payload.latent_attribute_ids) == [3, 4, 5]
    n, dims, bits = 60, latn.payload.latent_dims, latn.payload.latent_bits
    assert latn.payload.latent_values.shape == (dims * n,) and int(latn.payload.latent_values.max()) < 1 << bits


def test_latent_decoding_is_within_the_tolerance_of_a_binary64_evaluation(latent_file):
    """R-74, R-75, R-79: x = f32(u - 2^(b-1)) * scale; outputs split per attribute; rotation normalised."""
    parsed = read_container(latent_file)
    p = parsed.first(b"LATN").payload
    n = 60
    u = np.asarray(p.latent_values, np.int64).reshape(p.latent_dims, n).T
    lo, _ = latent_range(p.latent_bits)
    x = (u + lo).astype(np.float64) * np.asarray(p.latent_scale, np.float64)  # exact in binary64
    ref = mlp_from_payload(p.latent_decoder).evaluate_f64(x)
    got = decode_avatar(latent_file).gaussians
    q = ref[:, 0:4] / np.linalg.norm(ref[:, 0:4], axis=1, keepdims=True)
    tol = lambda r: 1e-4 * (1 + np.abs(r)) * 4  # noqa: E731  (normalisation may amplify by |q|^-1 ~ small factors)
    assert (np.abs(got.rotations - q) <= tol(q)).all()
    assert (np.abs(got.opacity_logits - ref[:, 4]) <= tol(ref[:, 4])).all()
    assert (np.abs(got.sh_rest.reshape(n, -1) - ref[:, 5:14]) <= tol(ref[:, 5:14])).all()


def test_latent_fit_beats_the_mean(latent_file):
    """The fitted decoder explains the rotations better than their mean would (a property, not a fixed number)."""
    avatar = _latent_avatar()
    got = decode_avatar(latent_file).gaussians
    target = avatar.gaussians.rotations / np.linalg.norm(avatar.gaussians.rotations, axis=1, keepdims=True)
    target *= np.sign(target[:, :1] + 1e-12)
    got_q = got.rotations * np.sign(got.rotations[:, :1] + 1e-12)
    assert np.abs(got_q - target).mean() < np.abs(target - target.mean(axis=0)).mean()


def test_attribute_in_latn_and_attr_is_rejected(latent_file):
    """R-73: ROTATION given by LATN and by an ATTR section."""
    parsed = read_container(latent_file)
    avatar = _latent_avatar()
    extra = [s for s in avatar_sections(avatar, PackConfig.plain()) if s.type == b"ATTR" and s.payload["attribute_id"] == 3]
    secs = [SectionToWrite(s.type, raw=s.raw) for s in parsed.sections] + extra
    with pytest.raises(FcError) as info:
        read_container(write_container(secs))
    assert info.value.error_class == "E_SECTION" and "attribute_id" in info.value.field


def _offset_avatar(pruned: float = 0.0):
    avatar = full_avatar(3, n=30, v=8, sh_degree=0)
    desc, mlp = synthetic_offset_mlp(4, pe_frequencies=3, inputs=(OffsetInput(2, 52), OffsetInput(5, 3, "rot6d")), hidden=(16,))
    avatar.offset_mlp = (desc, prune(mlp, pruned) if pruned else mlp)
    return avatar


@pytest.mark.parametrize("pruned", [0.0, 0.5])
def test_offset_mlp_round_trip_is_exact(pruned):
    """R-70, R-76: the descriptor and every binary16 weight, bias and mask bit come back exactly."""
    avatar = _offset_avatar(pruned)
    back = decode_avatar(encode_avatar(avatar, PackConfig()))
    (d1, m1), (d2, m2) = avatar.offset_mlp, back.offset_mlp
    assert d1.pe_frequencies == d2.pe_frequencies and d1.inputs == d2.inputs and d1.output_mapping == d2.output_mapping
    assert np.array_equal(d1.position_center, d2.position_center) and np.float32(d1.position_scale) == np.float32(d2.position_scale)
    for a, b in zip(m1.layers, m2.layers, strict=True):
        assert np.array_equal(a.weight.view(np.uint16), b.weight.view(np.uint16)) and np.array_equal(a.bias.view(np.uint16), b.bias.view(np.uint16))
        assert a.activation == b.activation and (a.mask is None) == (b.mask is None)
        if a.mask is not None:
            assert np.array_equal(a.mask, b.mask)
    if pruned:
        assert sum(layer.stored_count() for layer in m2.layers) < sum(layer.weight.size for layer in m2.layers)


def test_offset_group_outside_the_layout_is_a_layout_mismatch():
    """R-76: an offset input whose semantic the avatar's layout lacks (EYES, 7)."""
    avatar = _offset_avatar()
    raw = _valid_omlp_raw(avatar)
    # bytes: pe_frequencies, pe_include_input, 12 bytes center, 4 bytes scale, count, then semantic of input 0
    bad = bytearray(raw)
    assert bad[18] == 2 and bad[19] == 2  # offset_input_count, offset_semantic[0] = ARKIT52
    bad[19] = 7
    err = _read_with_omlp(avatar, bytes(bad))
    assert err.error_class == "E_LAYOUT_MISMATCH" and err.field.endswith("offset_semantic[0]")


def test_layer_input_mismatch_and_weight_budget():
    """R-70: layer_in of layer 0 must equal D; R-68: the level's weight budget is checked before the weights."""
    avatar = _offset_avatar()
    raw = _valid_omlp_raw(avatar)
    at = 18 + 1 + 2 * 2 + 1 + 12  # count, 2 inputs x (semantic, encoding), output_mapping, 3 scales -> mlp_layer_count
    bad = bytearray(raw)
    layer0 = at + 1  # layer_in of layer 0 follows mlp_layer_count
    count = bad[at]
    assert 1 <= count <= 8
    d = int.from_bytes(bad[layer0 : layer0 + 2], "little")
    bad[layer0 : layer0 + 2] = (d + 1).to_bytes(2, "little")
    err = _read_with_omlp(avatar, bytes(bad))
    assert err.error_class == "E_VALUE" and "layer_in" in err.field
    bad = bytearray(raw)
    bad[layer0 + 2 : layer0 + 4] = (4000).to_bytes(2, "little")  # layer_out 4000: D * 4000 > 65536 at level 10
    err = _read_with_omlp(avatar, bytes(bad))
    assert err.error_class == "E_LEVEL" and "layer_out" in err.field


def _valid_omlp_raw(avatar) -> bytes:
    parsed = read_container(encode_avatar(avatar, PackConfig(compress=False)))
    return parsed.first(b"OMLP").raw


def _read_with_omlp(avatar, raw: bytes) -> FcError:
    parsed = read_container(encode_avatar(avatar, PackConfig(compress=False)))
    secs = [SectionToWrite(s.type, raw=raw if s.type == b"OMLP" else s.raw, compress=False) for s in parsed.sections]
    data = write_container(secs)  # the writer re-parses only META/DEFM/DEFR, so a bad OMLP payload still gets framed
    with pytest.raises(FcError) as info:
        read_container(data)
    return info.value


def test_animate_applies_the_offset_mlp_per_frame():
    """R-77, R-78: with an offset MLP the Gaussians depend on the frame's ARKIT52 values; at the
    anchors the correction equals apply_offset_mlp on the stored attributes, then the binding."""
    from refcodec.avatar.deform import animate, bind, canonical_anchors, deform_mesh
    from refcodec.avatar.offset_mlp import apply_offset_mlp

    avatar = _offset_avatar()
    neutral = animate(avatar, None)
    params = np.zeros(sum(d for _, d in avatar.layout), np.float32)
    params[:52] = 0.8
    moved = animate(avatar, params)
    assert not np.allclose(neutral.positions, moved.positions)
    desc, mlp = avatar.offset_mlp
    groups = avatar.split_params(params)
    corrected = apply_offset_mlp(desc, mlp, canonical_anchors(avatar), groups, avatar.gaussians)
    from dataclasses import replace

    from refcodec.avatar.deform import morph_weights

    mesh = deform_mesh(avatar.deformation, morph_weights(avatar, groups), {"head": groups["JAW"]}, groups.get("HEAD_ROTATION"))
    expected = bind(replace(avatar, gaussians=corrected), mesh)
    assert np.allclose(moved.positions, expected.positions, atol=1e-6)
