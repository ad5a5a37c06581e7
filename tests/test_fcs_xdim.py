"""Cross-dimension prediction (SPEC 5.2.1, 6.4, 9.5): the header fields (R-224), the reconstruction of
residuals from coded values (R-225) and the encoder's choice of references.

Expected values are hand-made bit patterns and hand-computed residuals, or properties (the references
never change what a stream decodes to); the conformance vectors (y_xdim, y_main_xdim, n_xdim_*) are
checked against a decoder patched to ignore the references, which must fail them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from helpers import bits_to_bytes
from hypothesis import given, settings
from hypothesis import strategies as st

from refcodec.errors import E_VALUE
from refcodec.fcs import decoder as decoder_module
from refcodec.fcs.decoder import FcsDecoder, decode_file
from refcodec.fcs.encoder import EncoderConfig, build_header, encode_track
from refcodec.fcs.layout import SequenceHeader
from refcodec.fcs.syntax import read_unit, write_unit
from refcodec.fcs.xdim import _log2_fixed, choose_references, coded_from_residuals, residuals_from_coded
from refcodec.track import Track, TrackGroup

VECTORS = Path(__file__).resolve().parent.parent / "conformance" / "vectors" / "stream"
RANGE_0_7 = "0" * 32 + "01000000111000000000000000000000"  # f32 0.0, 7.0

# A Baseline header by hand (SPEC 5.2): one EXPRESSION group of 3 dims at b = 3, xdim_pred_flag 1.
HEAD = (
    "011"  # unit_type 2
    + "00000001" + "00000000" + "00001010"  # seq_version 1, profile_idc 0, level_idc 10
    + "0000000000011110" + "0000000000000001" + "0000000000011110"  # 30/1 fps, max_intra_interval 30
    + "000" + "0" + "0" + "1" + "00"  # CRC and binding flags, intra_pred 0, conceal_extrapolate 0, xdim_pred_flag 1, reserved
    + "00000001" + "00000001" + "00000010" + "0010" + "0" + "0" + "0" + "0"  # 1 group, EXPRESSION, 3 dims, b = 3, flags
    + "0000" + "0" + RANGE_0_7  # dim 0: eg_order 0, no reference
    + "0000" + "1"  # dim 1: eg_order 0, xdim_ref_flag 1 ...
)
DIM1_DELTA_AT = len(HEAD)
HEADER_BITS = (
    HEAD + "1" + "1" + RANGE_0_7  # ... xdim_ref_delta ue 0 -> dimension 0, sign 1 (negated)
    + "0000" + "1" + "010" + "0" + RANGE_0_7  # dim 2: xdim_ref_delta ue 1 -> dimension 2 - 1 - 1 = 0, sign +1
)
I_FRAME_BITS = "010" + "0000" + "0" + "011" + "100" + "010"  # I-frame: q = 3, 4, 2
# P-frame: unit_type 0 ("1"), counter 1, coded values +1, 0, -1 as sek(v) order 0 ("010", "1", "011")
P_FRAME_BITS = "1" + "0001" + "010" + "1" + "011"


def _padded(bits: str) -> bytes:
    return bits_to_bytes(bits + "0" * (-len(bits) % 8))


def test_header_fields_by_hand():
    """R-224: references read from the bits, and written back to the same bits."""
    h = read_unit(_padded(HEADER_BITS), None)
    assert isinstance(h, SequenceHeader) and h.xdim_pred_flag
    assert h.groups[0].xdim == [None, (0, 1), (1, 0)]
    assert write_unit(h) == _padded(HEADER_BITS)


def test_reconstruction_by_hand():
    """R-225: residuals 1, 0 + (-1)(1) = -1, -1 + (+1)(1) = 0 from coded 1, 0, -1; q = 3+1, 4-1, 2+0."""
    dec = FcsDecoder()
    dec.decode_unit(_padded(HEADER_BITS))
    (i_frame,) = dec.decode_unit(_padded(I_FRAME_BITS))
    (p_frame,) = dec.decode_unit(_padded(P_FRAME_BITS))
    assert i_frame.quantized.tolist() == [3, 4, 2]  # the I-frame is not affected
    assert p_frame.quantized.tolist() == [4, 3, 2]


def test_reference_before_the_first_dimension_is_rejected():
    """R-224: dimension 1 with xdim_ref_delta 1 names dimension -1: E_VALUE at the element's first bit."""
    bits = HEAD + "010" + "0" + RANGE_0_7 + "0000" + "0" + RANGE_0_7
    with pytest.raises(E_VALUE) as info:
        read_unit(_padded(bits), None)
    assert (info.value.field, info.value.bit_offset) == ("xdim_ref_delta[0][1]", DIM1_DELTA_AT)


def test_coding_inverts_reconstruction():
    """coded_from_residuals is the inverse of R-225 for chains, negations and references across the layout."""
    rng = np.random.default_rng(5)
    refs = [None, (0, -1), (1, 1), None, (0, 1), (4, -1)]
    r = rng.integers(-50, 50, size=(30, 6))
    assert np.array_equal(residuals_from_coded(coded_from_residuals(r, refs), refs), r)


def _track(values: np.ndarray) -> Track:
    dims = values.shape[1]
    return Track(values, [TrackGroup("EXPRESSION", [f"e{i}" for i in range(dims - 2)]), TrackGroup("JAW", ["x", "y"], [0, 1])], (30, 1))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), profile=st.sampled_from([0, 1]), frames=st.integers(2, 50))
def test_references_never_change_what_a_stream_decodes_to(seed, profile, frames):
    """Property: any valid references give the same quantized frames as none (both profiles, packets and momentum)."""
    rng = np.random.default_rng(seed)
    base = np.cumsum(rng.normal(0, 0.05, size=(frames, 1)), axis=0)
    values = np.concatenate([base, -base, base * 0.5, rng.normal(0, 0.3, (frames, 1)), base + 0.01, rng.normal(0, 0.1, (frames, 1))], axis=1)
    track = _track(values)
    plain = build_header(track, 7, intra_interval=9, profile_idc=profile)
    with_refs = build_header(track, 7, intra_interval=9, profile_idc=profile)
    with_refs.xdim_pred_flag = True
    flat = [None] + [(int(d), int(s)) if rng.random() < 0.6 else None for d, s in ((rng.integers(0, j), rng.integers(0, 2)) for j in range(1, 6))]
    with_refs.groups[0].xdim, with_refs.groups[1].xdim = flat[:4], flat[4:]
    config = EncoderConfig(intra_interval=9, packet_frames=4)
    q0 = np.stack([f.quantized for f in decode_file(encode_track(track, plain, config)).frames])
    q1 = np.stack([f.quantized for f in decode_file(encode_track(track, with_refs, config)).frames])
    assert np.array_equal(q0, q1)


def test_fixed_point_logarithm():
    """The encoder's integer log2 is within 2^-16 of the true one (it never touches the float unit)."""
    for n in [1, 2, 3, 7, 100, 4095, 65537, 10**9, 2**40 + 1]:
        assert abs(_log2_fixed(n) / 65536 - math.log2(n)) < 2 / 65536


def test_choose_references_finds_coupled_dimensions():
    """A dimension that mirrors another (negated) gets it as a reference; an independent one gets none."""
    rng = np.random.default_rng(2)
    r0 = rng.integers(-6, 7, 400)
    r = np.stack([r0, -r0 + (rng.random(400) < 0.1), rng.integers(-6, 7, 400), r0], axis=1)
    assert choose_references(r) == [None, (0, -1), None, (0, 1)]


def test_encoder_chooses_references_on_a_real_track():
    """The LAM track: references are chosen (SPEC 9.5), the stream is smaller, and it decodes to the same frames."""
    from refcodec.importers import load_track

    track = load_track(Path(__file__).resolve().parent.parent / "samples/lam_p2-1/test_expression_1s.json")
    sizes, frames = [], []
    for xdim in (False, True):
        header = build_header(track, 8, 30, profile_idc=1, xdim=xdim)
        data = encode_track(track, header, EncoderConfig(30))
        sizes.append(len(data))
        frames.append(np.stack([f.quantized for f in decode_file(data).frames]))
    assert header.xdim_pred_flag and sizes[1] < 0.8 * sizes[0]
    assert np.array_equal(frames[0], frames[1])


@pytest.mark.parametrize("name", ["y_xdim", "y_main_xdim", "n_xdim_residual_range"])
def test_vectors_tell_a_decoder_that_ignores_references(name, monkeypatch):
    """A decoder that adds the coded values as residuals (ignoring R-225) fails the vectors."""
    data = (VECTORS / f"{name}.fcs").read_bytes()
    card = json.loads((VECTORS / f"{name}.json").read_text())
    monkeypatch.setattr(decoder_module, "residuals_from_coded", lambda coded, refs: np.asarray(coded, np.int64))
    try:
        result = decode_file(data)
    except Exception as exc:  # the patched decoder may reject a stream the spec accepts
        assert card["verdict"] == "decode", exc
        return
    if card["verdict"] == "reject":
        return  # the patched decoder accepted what the spec rejects: the vector told them apart
    md5s = [line.split()[0] for line in (VECTORS / card["expected"]["md5_file"]).read_text().splitlines()]
    from conformance.stream.model import frame_md5

    assert [frame_md5(f.values) for f in result.frames] != md5s
