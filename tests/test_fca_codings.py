"""Attribute codings (SPEC 11.7.1): smallest-three rotations (R-150), opacity after the sigmoid (R-151),
and how a coding stands for the attribute it codes (R-152)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.container import avatars as av
from conformance.container.expected import smallest_three_quaternions
from conformance.container.writer import Sec, build
from refcodec.errors import FcError
from refcodec.fca import PackConfig, decode_avatar, encode_avatar
from refcodec.fca.codec import avatar_sections
from refcodec.fca.codings import alpha_from_logits, from_smallest_three, logits_from_alpha, smallest_three
from refcodec.fca.container import SectionToWrite, decode_usage, read_container
from refcodec.fca.metrics import rotation_angle_error_deg
from refcodec.fca.quantized import _Block, decode_block, encode_block, unit_range_block
from tests.fca_helpers import full_avatar


def _s3_file(largest, q, bits=10, lo=(-0.7, -0.7, -0.7), hi=(0.7, 0.7, 0.7)) -> bytes:
    n = len(largest)
    secs = [Sec(b"META", av.meta(n))] + [x for x in av.static_attrs(n, 0, 3) if x.payload["attribute_id"] != 3]
    secs.append(Sec(b"ATTR", {"attribute_id": 6, "largest_component": np.asarray(largest), "attribute": av.qblock(bits, lo, hi, q)}))
    return build(secs).data


def test_s3_decoding_by_hand():
    """R-150: components 0.5, -0.5, 0.5 around a largest w: w = sqrt(1 - 0.75) = 0.5 exactly; all 0.7 -> 1 - 1.47 < 0 -> 0."""
    # 2 bits over [-0.5, 0.5]: step 1/3, samples 0 and 3 give -0.5 and 0.5 exactly.
    data = _s3_file([0, 2, 3], [[3, 0, 3], [0, 3, 3], [3, 3, 3]], bits=2, lo=(-0.5,) * 3, hi=(0.5,) * 3)
    q = decode_avatar(data).gaussians.rotations
    assert q[0].tolist() == [0.5, 0.5, -0.5, 0.5]
    assert q[1].tolist() == [-0.5, 0.5, 0.5, 0.5]
    assert q[2].tolist() == [0.5, 0.5, 0.5, 0.5]
    clamp = decode_avatar(_s3_file([1], [[1023], [1023], [1023]])).gaussians.rotations[0]
    assert clamp[1] == 0.0 and np.allclose(clamp[[0, 2, 3]], 0.7)


def test_s3_largest_component_out_of_range():
    """R-150: largest_component 4 is rejected with E_VALUE at that element."""
    with pytest.raises(FcError) as info:
        decode_avatar(_s3_file([0, 4], [[0, 0], [0, 0], [0, 0]]))
    assert info.value.error_class == "E_VALUE" and info.value.field.endswith("ATTR.largest_component")


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 60), bits=st.integers(4, 16))
def test_s3_matches_the_independent_decoder_and_bounds_the_angle(seed, n, bits):
    """R-150: the reference decoder equals the conformance suite's scalar one bit for bit, and the angle
    error is within what the step allows: |dq| <= sqrt(3) step / 2 for the three coded components plus
    the recomputed one, so the angle (2 asin |dq|, q ~ -q) is below 4 step (binary32 slack included)."""
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n, 4)).astype(np.float32)
    q[np.linalg.norm(q, axis=1) < 1e-3] = [1, 0, 0, 0]
    largest, rest = smallest_three(q)
    assert np.all(rest <= np.float32(0.70711)) and np.all(rest >= np.float32(-0.70711))
    data = encode_avatar(_with_rotations(seed, n, q), PackConfig(rotation_bits=bits))
    sec = next(s for s in read_container(data).all(b"ATTR") if s.payload.attribute_id == 6)
    values = decode_block(sec.payload.attribute, 3)
    ours = from_smallest_three(np.asarray(sec.payload.largest_component), values)
    assert np.array_equal(ours.view(np.uint32), smallest_three_quaternions(sec.payload.largest_component, values.T).view(np.uint32))
    back = decode_avatar(data).gaussians.rotations
    step = float(np.max(np.asarray(sec.payload.attribute.q_max) - np.asarray(sec.payload.attribute.q_min))) / ((1 << bits) - 1)
    bound = np.degrees(4 * step) + 1e-3
    assert rotation_angle_error_deg(q, back).max() <= bound


def _with_rotations(seed: int, n: int, q: np.ndarray):
    avatar = full_avatar(seed % 1000, n=n)
    avatar.gaussians.rotations = q
    return avatar


def test_s3_sign_convention():
    """R-150 encoder: the largest-magnitude component is made positive (q and -q are one rotation)."""
    q = np.array([[0.1, -0.9, 0.2, 0.1], [-0.5, 0.1, 0.1, 0.1], [0.0, 0.0, 0.0, -2.0]], np.float32)
    largest, rest = smallest_three(q)
    assert largest.tolist() == [1, 0, 3]
    back = from_smallest_three(largest, rest)
    assert back[0, 1] > 0 and back[1, 0] > 0 and back[2, 3] == 1.0
    assert rotation_angle_error_deg(q, back).max() < 1e-3


def test_alpha_error_is_half_a_step_in_opacity():
    """R-151: 8-bit OPACITY_ALPHA errs by at most 1/510 in opacity (plus binary32 slack), whatever the logits."""
    avatar = full_avatar(5, n=200)
    avatar.gaussians.opacity_logits = np.linspace(-30, 30, 200).astype(np.float32)
    back = decode_avatar(encode_avatar(avatar, PackConfig(opacity_bits=8)))
    a = 1 / (1 + np.exp(-avatar.gaussians.opacity_logits.astype(np.float64)))
    b = 1 / (1 + np.exp(-back.gaussians.opacity_logits.astype(np.float64)))
    assert np.abs(a - b).max() <= 1 / 510 + 1e-6


@pytest.mark.parametrize("bits", [1, 3, 7, 8, 13, 16])
def test_alpha_block_stays_in_unit_range(bits):
    """R-151: the encoder's block decodes inside [0, 1] even when R-58's rounding would pass 1."""
    values = np.array([0.0, 1.0, 0.3, 0.999999, 1e-8], np.float32)
    block = unit_range_block(values, bits)
    decoded = decode_block(_Block(block), 1)
    assert decoded.min() >= 0 and decoded.max() <= 1


def test_alpha_above_one_is_rejected():
    """R-151: a raw OPACITY_ALPHA of the binary32 just above 1 is rejected with E_VALUE at q_values."""
    secs = av.minimal_sections()[:5] + [Sec(b"ATTR", av.attr(7, av.raw_block([np.nextafter(np.float32(1), np.float32(2))])))]
    with pytest.raises(FcError) as info:
        decode_avatar(build(secs).data)
    assert info.value.error_class == "E_VALUE" and info.value.field.endswith("q_values")


def test_logits_round_trip_through_the_sigmoid():
    """R-151 (informative): logits made from opacities give them back within binary32 rounding, 0 and 1 included."""
    alpha = np.array([0.0, 2.0**-24, 1 / 255, 0.5, 0.99, 1.0], np.float32)
    back = alpha_from_logits(logits_from_alpha(alpha))
    assert np.all(np.isfinite(logits_from_alpha(alpha)))
    assert np.abs(back.astype(np.float64) - alpha).max() <= 2.0**-23


def test_coding_and_plain_attribute_together_is_given_twice():
    """R-152 with R-60: ROTATION and ROTATION_S3 both given -> E_SECTION at the second."""
    secs = av.minimal_sections() + [Sec(b"ATTR", {"attribute_id": 6, "largest_component": [0], "attribute": av.raw_block([0.0, 0.0, 0.0])})]
    with pytest.raises(FcError) as info:
        decode_avatar(build(secs).data)
    assert info.value.error_class == "E_SECTION" and info.value.field == "section[6]:ATTR.attribute_id"


def test_coding_alone_completes_the_attribute_set():
    """R-152 with R-60: OPACITY_ALPHA instead of OPACITY is a complete set; the opacity is its value."""
    secs = av.minimal_sections()[:5] + [Sec(b"ATTR", av.attr(7, av.raw_block([0.25])))]
    logit = decode_avatar(build(secs).data).gaussians.opacity_logits[0]
    assert abs(1 / (1 + np.exp(-float(logit))) - 0.25) < 1e-7


def test_latn_cannot_list_a_coding():
    """R-152: a LATN section listing ROTATION_S3 is rejected with E_VALUE."""
    from conformance.container.vectors import _latn_payload

    m = av.minimal_sections()
    secs = m[:4] + m[5:6] + [Sec(b"LATN", _latn_payload(1, [6], 1, 4, 3))]
    with pytest.raises(FcError) as info:
        decode_avatar(build(secs).data)
    assert info.value.error_class == "E_VALUE" and info.value.field.endswith("latent_attribute_ids")


def test_largest_component_counts_n_decoded_values():
    """R-152 / R-91: ROTATION_S3 charges N (largest_component) + 3N samples + 6 range values, against 4N + 8 for ROTATION."""
    avatar = full_avatar(2, n=40)

    def rotation_values(config):
        secs = avatar_sections(avatar, config)
        rot = [s for s in secs if s.type == b"ATTR" and s.payload["attribute_id"] in (3, 6)]
        others = [s for s in secs if not (s.type == b"ATTR" and s.payload["attribute_id"] in (3, 6))]
        return decode_usage(secs).decoded_values - decode_usage(others).decoded_values, rot

    s3, rot = rotation_values(PackConfig(rotation_bits=10))
    plain, _ = rotation_values(PackConfig.plain())
    assert rot[0].payload["attribute_id"] == 6 and isinstance(rot[0], SectionToWrite)
    assert s3 == 40 + 3 * 40 + 6 and plain == 4 * 40 + 8


# ------------------------------------------------------------------------- delta-coded blocks
def test_undelta_by_hand():
    """R-153: stored 3, 1, 0, 2, 3, 2 at b = 2 are deltas -2, -1, 0, 1, -2, 1: samples 2 (-2 mod 4), 1, 1, 2, 0, 1."""
    from refcodec.fca.syntax import undelta

    assert undelta(np.array([3, 1, 0, 2, 3, 2]), 1, 2).tolist() == [2, 1, 1, 2, 0, 1]
    assert undelta(np.array([1, 65535]), 1, 16).tolist() == [65535, 32767]  # -1 mod 2^16, then - 32768


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), bits=st.integers(1, 16), c=st.integers(1, 4), n=st.integers(1, 50))
def test_delta_block_decodes_to_the_same_values(seed, bits, c, n):
    """R-153: a delta-coded block decodes bit for bit to the values of the plain block; residuals stay below 2^b,
    and the conformance suite's scalar undelta agrees with the reference."""
    from conformance.container.expected import dequantize
    from refcodec.fca.quantized import delta_block

    rng = np.random.default_rng(seed)
    values = rng.normal(size=(c, n)).astype(np.float32)
    plain = encode_block(values, bits)
    delta = delta_block(plain)
    assert delta["q_bits"] == 128 + bits and int(delta["q_values"].max()) < (1 << bits)
    ours = decode_block(_Block(delta), c)
    assert np.array_equal(ours.view(np.uint32), decode_block(_Block(plain), c).view(np.uint32))
    assert np.array_equal(ours.T.view(np.uint32), dequantize(delta, c).view(np.uint32))


@pytest.mark.parametrize("q_bits", [128, 145, 255])
def test_delta_q_bits_outside_129_144_are_rejected(q_bits):
    """R-57: 129..144 are the delta-coded depths; 128 and 145 are not."""
    block = av.qblock(2, [0.0] * 3, [1.0] * 3, np.zeros((3, 1), np.int64)) | {"q_bits": q_bits}
    secs = [av.minimal_sections()[0], Sec(b"ATTR", av.attr(0, block))] + av.minimal_sections()[2:]
    with pytest.raises(FcError) as info:
        decode_avatar(build(secs).data)
    assert info.value.error_class == "E_VALUE" and info.value.field.endswith("q_bits")


def test_delta_residual_above_the_depth_is_rejected():
    """R-57 with R-153: a residual of 4 at b = 2 is rejected, like a sample of 4."""
    block = av.qblock(2, [0.0] * 3, [1.0] * 3, np.array([[4], [0], [0]])) | {"q_bits": 130}
    secs = [av.minimal_sections()[0], Sec(b"ATTR", av.attr(0, block))] + av.minimal_sections()[2:]
    with pytest.raises(FcError) as info:
        decode_avatar(build(secs).data)
    assert info.value.error_class == "E_VALUE" and info.value.field.endswith("q_values")


def test_encoder_delta_modes():
    """R-153 encoder: "always" delta-codes every quantized block, "never" none, "auto" only where zstd gains; all decode alike."""
    from refcodec.fca.codec import pick_block

    smooth = np.cumsum(np.ones((3, 4000), np.float32), axis=1)  # a ramp: deltas are all 1
    noise = np.random.default_rng(1).normal(size=(3, 4000)).astype(np.float32)
    assert pick_block(encode_block(smooth[:1], 12), PackConfig())["q_bits"] == 128 + 12
    # three equal ramps: channels 1 and 2 differ from channel 0 by 0 (ties keep the lower reference)
    linked = pick_block(encode_block(smooth, 12), PackConfig())
    assert linked["q_bits"] == 160 + 12 and list(linked["q_channel_ref"]) == [0, 1, 1]
    assert pick_block(encode_block(noise, 12), PackConfig())["q_bits"] == 12
    assert pick_block(encode_block(noise, 12), PackConfig(delta_coding="always"))["q_bits"] == 128 + 12
    assert pick_block(encode_block(smooth, 12), PackConfig(delta_coding="never"))["q_bits"] == 12
    avatar = full_avatar(3, n=30)
    a = decode_avatar(encode_avatar(avatar, PackConfig(delta_coding="always"))).gaussians
    b = decode_avatar(encode_avatar(avatar, PackConfig(delta_coding="never"))).gaussians
    assert all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("positions", "rotations", "log_scales", "opacity_logits", "sh_dc"))
