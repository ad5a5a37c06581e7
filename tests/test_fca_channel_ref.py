"""Channel references in quantized blocks (SPEC 11.1.3, R-159) and the encoder's quantization by
largest error (refcodec.fca.bounded, informative)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.container import avatars as av
from conformance.container.expected import dequantize
from conformance.container.writer import Sec, build
from conformance.paths import SUITE
from refcodec.errors import FcError
from refcodec.fca import PackConfig, decode_avatar, encode_avatar
from refcodec.fca.bounded import SH_C0
from refcodec.fca.codings import alpha_from_logits
from refcodec.fca.container import decode_usage, read_container
from refcodec.fca.metrics import rotation_angle_error_deg
from refcodec.fca.quantized import channel_ref_block, decode_block_dict, delta_block
from refcodec.fca.syntax import samples
from tests.fca_helpers import full_avatar


def _attr(data: bytes, attribute_id: int):
    return next(s.payload.attribute for s in read_container(data).sections if s.type == b"ATTR" and s.payload.attribute_id == attribute_id)


def test_vector_samples_by_hand():
    """y_channel_refs: the samples worked out by hand in its definition (conformance/container/vectors.py)."""
    data = (SUITE / "container" / "y_channel_refs.fca").read_bytes()
    colour = samples(_attr(data, 1), 3).reshape(3, -1)
    assert colour.tolist() == [[10, 9, 10, 10, 8, 10], [9, 8, 10, 9, 7, 9], [11, 10, 12, 10, 6, 8]]
    scale = samples(_attr(data, 2), 3).reshape(3, -1)
    assert scale.tolist() == [[3, 3, 5, 5, 3, 4], [0, 1, 2, 3, 2, 1], [7, 7, 1, 1, 7, 0]]
    # R-58 on those samples: LOG_SCALE axis 2 spans -6 .. -3 over 7 steps
    got = decode_avatar(data).gaussians.log_scales[:, 2]
    step = np.float32(np.float32(-3.0 - -6.0) / np.float32(7))
    assert got.tolist() == [np.float32(np.float32(-6.0) + np.float32(q) * step) for q in (7, 7, 1, 1, 7, 0)]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 16), st.integers(1, 5), st.integers(1, 40), st.data())
def test_any_references_round_trip(bits, channels, count, data):
    """Property: any valid references give back the samples, in the parser and in the suite's model."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    q = rng.integers(0, 1 << bits, (channels, count))
    refs = [data.draw(st.integers(0, c)) for c in range(channels)]
    block = av.qblock(bits, [-1.0] * channels, [2.0] * channels, q)
    coded = channel_ref_block(block, refs)
    assert coded["q_bits"] == 160 + bits
    secs = [Sec(b"META", av.meta(count))] + [x for x in av.static_attrs(count, 0, 5) if x.payload["attribute_id"] != 1]
    if channels == 3:  # a COLOR_DC block in a real file: parsed by refcodec and the suite's model
        secs.append(Sec(b"ATTR", av.attr(1, coded)))
        parsed = _attr(build(secs).data, 1)
        assert np.array_equal(samples(parsed, 3).reshape(3, -1), q)
    model = dequantize(coded, channels).T
    assert np.array_equal(model.view(np.uint32), decode_block_dict(block, channels).view(np.uint32))
    assert np.array_equal(decode_block_dict(coded, channels).view(np.uint32), model.view(np.uint32))


@pytest.mark.parametrize(("refs", "channel"), [([1, 0, 0], 0), ([0, 2, 0], 1), ([0, 1, 3], 2), ([0, 0, 255], 2)])
def test_reference_to_a_later_channel_is_rejected(refs, channel):
    """R-159: q_channel_ref[c] is at most c; E_VALUE at q_channel_ref, its first byte."""
    block = av.qblock(4, [0.0] * 3, [1.0] * 3, np.zeros((3, 5), np.int64)) | {"q_bits": 164, "q_channel_ref": np.array(refs, np.uint8)}
    secs = [Sec(b"META", av.meta(5)), Sec(b"ATTR", av.attr(1, block))] + [x for x in av.static_attrs(5, 0, 5) if x.payload["attribute_id"] != 1]
    built = build(secs)
    where = built.find("attribute.q_channel_ref", 1)
    with pytest.raises(FcError) as info:
        decode_avatar(built.data)
    assert info.value.error_class == "E_VALUE" and info.value.field.endswith("q_channel_ref")
    assert info.value.byte_offset == where.offset and f"channel {channel}" in str(info.value)


@pytest.mark.parametrize("q_bits", [145, 160, 177, 200])
def test_q_bits_between_and_above_the_ranges_are_rejected(q_bits):
    """R-57: 145..160 and 177.. are no depth of any kind."""
    block = av.qblock(2, [0.0] * 3, [1.0] * 3, np.zeros((3, 1), np.int64)) | {"q_bits": q_bits, "q_channel_ref": np.zeros(3, np.uint8)}
    secs = [av.minimal_sections()[0], Sec(b"ATTR", av.attr(0, block))] + av.minimal_sections()[2:]
    with pytest.raises(FcError) as info:
        decode_avatar(build(secs).data)
    assert info.value.error_class == "E_VALUE" and info.value.field.endswith("q_bits")


def test_references_are_charged_as_decoded_values():
    """R-159 with R-91: q_channel_ref adds C decoded values to the block's count."""
    q = np.arange(30).reshape(3, 10) % 7
    block = av.qblock(4, [0.0] * 3, [1.0] * 3, q)

    def usage(b):
        secs = [Sec(b"META", av.meta(10)), Sec(b"ATTR", av.attr(1, b))] + [x for x in av.static_attrs(10, 0, 5) if x.payload["attribute_id"] != 1]
        return decode_usage(read_container(build(secs).data).sections).decoded_values

    assert usage(channel_ref_block(block, [0, 1, 1])) == usage(delta_block(block)) + 3


def test_encoder_links_channels_that_move_together():
    """The reference encoder refers green to red and blue to green when they move together, and the
    linked block is smaller than the delta-coded one; the values decode as without references."""
    rng = np.random.default_rng(4)
    red = np.cumsum(rng.normal(0, 0.05, 3000))
    green = red + rng.normal(0, 0.004, 3000)
    avatar = full_avatar(2, n=3000)
    dc = np.stack([red, green, green + rng.normal(0, 0.004, 3000)], 1).astype(np.float32)
    import dataclasses

    avatar = dataclasses.replace(avatar, gaussians=dataclasses.replace(avatar.gaussians, sh_dc=dc))
    linked = encode_avatar(avatar, PackConfig())
    block = _attr(linked, 1)
    assert block.q_bits == 160 + 8 and list(block.q_channel_ref)[1:] != [0, 0]
    assert len(linked) < len(encode_avatar(avatar, PackConfig(delta_coding="always")))


SPZ_LIKE = {"position": 2e-4, "color": 0.0037, "log_scale": 0.031, "rotation_deg": 0.22, "opacity": 0.002}


@pytest.mark.parametrize("scale", [1.0, 0.25])
def test_max_errors_bound_every_gaussian(scale):
    """PackConfig.max_errors: every decoded Gaussian within each bound, measured independently
    (Euclidean position, colour = SH_C0 |f_dc error|, rotation angle, opacity after the sigmoid);
    the step is the coarsest that passes, so the worst error is more than half the bound."""
    bounds = {k: v * scale for k, v in SPZ_LIKE.items()}
    avatar = full_avatar(7, n=2000, mode="none", sh_degree=0)
    g = avatar.gaussians
    config = PackConfig(max_errors=bounds, log_scale_floor=None, opacity_floor=False, gaussian_order="keep")
    back = decode_avatar(encode_avatar(avatar, config)).gaussians
    errors = {
        "position": float(np.sqrt(((back.positions.astype(np.float64) - g.positions) ** 2).sum(1)).max()),
        "color": SH_C0 * float(np.abs(back.sh_dc.astype(np.float64) - g.sh_dc).max()),
        "log_scale": float(np.abs(back.log_scales.astype(np.float64) - g.log_scales).max()),
        "rotation_deg": float(rotation_angle_error_deg(g.rotations, back.rotations).max()),
        "opacity": float(np.abs(alpha_from_logits(back.opacity_logits).astype(np.float64) - alpha_from_logits(g.opacity_logits)).max()),
    }
    for kind, bound in bounds.items():
        assert errors[kind] <= bound * (1 + 1e-6), kind
        assert errors[kind] > bound / 2, kind


def test_max_error_too_small_for_16_bits_is_refused():
    """A bound that would need more than 16 bits is an error, not a silent overflow."""
    avatar = full_avatar(7, n=50, mode="none", sh_degree=0)
    with pytest.raises(ValueError, match="16"):
        encode_avatar(avatar, PackConfig(max_errors={"position": 1e-12}, gaussian_order="keep"))


def test_rotation_bound_formula():
    """The rotation check: for unit quaternions of one sign, angle = 4 asin(|q - q'| / 2)."""
    rng = np.random.default_rng(3)
    q = rng.normal(size=(500, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    p = q + rng.normal(0, 1e-3, q.shape)
    p /= np.linalg.norm(p, axis=1, keepdims=True)
    direct = np.degrees(2 * np.arccos(np.clip(np.abs((q * p).sum(1)), 0, 1)))
    via_chord = np.degrees(4 * np.arcsin(np.linalg.norm(q - p, axis=1) / 2))
    assert np.allclose(direct, via_chord, atol=1e-6) and math.isfinite(direct.max())


def test_checks_on_decoded_values_see_the_references():
    """R-93 on a ROTATION block with references: the checks that decode a block during the parse
    (R-93, R-151) undo references too: channels referring to channel 0 reproduce it, and a
    quaternion that references make all zero is rejected with E_VALUE (a regression: the check once
    lost q_channel_ref and raised AttributeError)."""
    def rotation_file(stored_first_channel):
        q = np.array([stored_first_channel, [0, 0], [0, 0], [0, 0]])  # channels 1..3 = channel 0 (refs 1)
        block = av.qblock(2, [0.0] * 4, [1.0] * 4, q) | {"q_bits": 162, "q_channel_ref": np.array([0, 1, 1, 1], np.uint8)}
        secs = [Sec(b"META", av.meta(2))] + [x for x in av.static_attrs(2, 0, 5) if x.payload["attribute_id"] != 3]
        return build(secs + [Sec(b"ATTR", av.attr(3, block))]).data

    rotations = decode_avatar(rotation_file([2, 0])).gaussians.rotations  # samples 1, 1 in every channel: f32(1 x f32(1 / 3))
    assert rotations.tolist() == [[np.float32(1) / np.float32(3)] * 4] * 2
    with pytest.raises(FcError) as info:
        decode_avatar(rotation_file([2, 1]))  # samples 1, 0: Gaussian 1 is (0, 0, 0, 0) in all four channels
    assert info.value.error_class == "E_VALUE" and info.value.field.endswith("q_values")
