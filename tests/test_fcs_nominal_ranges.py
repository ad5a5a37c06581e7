"""Nominal ranges in the sequence header (SPEC 4.2 table 4-3, 5.2.1, R-133).

Expected values: bit patterns written by hand, the binary32 values of table 4-3, and the property
that a header with nominal flags decodes every stream exactly as the same header with the pairs
written out.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import bits_to_bytes

from refcodec.errors import E_VALUE
from refcodec.fcs.decoder import decode_file
from refcodec.fcs.encoder import EncoderConfig, build_header, encode_track, nominal_flags
from refcodec.fcs.layout import GroupLayout, SequenceHeader
from refcodec.fcs.syntax import read_unit, write_unit
from refcodec.spec_tables import nominal_range
from refcodec.track import Track, TrackGroup

# A header by hand: HEAD_ROTATION (3), 2 dims at b = 4, group_nominal_flag 1; dim 0 nominal, dim 1 explicit [-1, 1].
HEADER_BITS = (
    "011"  # unit_type 2
    + "00000001" + "00000000" + "00001010"  # seq_version, profile_idc 0, level_idc 10
    + "0000000000011110" + "0000000000000001" + "0000000000011110"  # 30/1 fps, interval 30
    + "000" + "00" + "0" + "00"  # CRC and binding flags, intra_pred_flag, conceal_extrapolate_flag, xdim_pred_flag, seq_reserved_2bits
    + "00000001"  # num_groups 1
    + "00000011" + "00000001" + "0011" + "0" + "0" + "1" + "0"  # HEAD_ROTATION, 2 dims, b = 4, zero 0, map 0, nominal 1, reserved
    + "0000" + "1"  # dim 0: eg_order 0, range_nominal_flag 1 (no pair)
    + "0000" + "0"  # dim 1: eg_order 0, range_nominal_flag 0, then the pair
    + "10111111100000000000000000000000" + "00111111100000000000000000000000"
)


def _padded(bits: str) -> bytes:
    return bits_to_bytes(bits + "0" * (-len(bits) % 8))


def test_table_4_3_values():
    assert nominal_range(2) == nominal_range(8) == (0.0, 1.0)
    for semantic in (3, 5, 6, 7):  # f32(pi/2) = 0x3FC90FDB, the binary32 nearest to pi/2 (above it)
        lo, hi = nominal_range(semantic)
        assert np.float32(hi).view(np.uint32) == 0x3FC90FDB and np.float32(lo).view(np.uint32) == 0xBFC90FDB
        assert hi > np.pi / 2 and np.float32(np.nextafter(np.float32(hi), np.float32(0))) < np.pi / 2
    assert all(nominal_range(s) is None for s in (0, 1, 4, 9, 255))


def test_nominal_header_by_hand():
    h = read_unit(_padded(HEADER_BITS), None)
    assert isinstance(h, SequenceHeader)
    g = h.groups[0]
    assert g.nominal == [True, False]
    assert np.float32(g.range_min[0]).view(np.uint32) == 0xBFC90FDB and np.float32(g.range_max[0]).view(np.uint32) == 0x3FC90FDB
    assert (g.range_min[1], g.range_max[1]) == (-1.0, 1.0)
    assert write_unit(h) == _padded(HEADER_BITS)


def test_nominal_flag_without_a_nominal_range_is_rejected_at_the_flag():
    bits = HEADER_BITS.replace("00000011" + "00000001" + "0011", "00000100" + "00000001" + "0011", 1)  # HEAD_TRANSLATION
    with pytest.raises(E_VALUE) as ei:
        read_unit(_padded(bits), None)
    # unit_type 3 + 75 + 2 + 3 + num_groups 8 + semantic 8 + dims 8 + depth 4 + 2 flags = bit 113
    assert (ei.value.field, ei.value.bit_offset) == ("group_nominal_flag[0]", 113)


def _track() -> Track:
    rng = np.random.default_rng(2)
    w = np.clip(0.3 + np.cumsum(rng.normal(0, 0.02, size=(50, 3)), axis=0), 0, 1)
    r = np.cumsum(rng.normal(0, 0.01, size=(50, 2)), axis=0)
    return Track(np.concatenate([w, r], axis=1), [TrackGroup("ARKIT52", ["a", "b", "c"], [0, 1, 2]),
                                                  TrackGroup("HEAD_ROTATION", ["x", "y"], [0, 1])], (30, 1))


@pytest.mark.parametrize("profile", [0, 1])
def test_nominal_flags_change_no_decoded_frame_and_save_the_pairs(profile):
    track = _track()
    lo, hi = np.zeros(5), np.ones(5)
    lo[3:], hi[3:] = -np.pi / 2, np.pi / 2
    header = build_header(track, 8, 10, (lo, hi), profile_idc=profile)
    assert header.groups[0].nominal == [True] * 3 and header.groups[1].nominal == [True] * 2
    explicit = build_header(track, 8, 10, (lo, hi), profile_idc=profile)
    for g in explicit.groups:
        g.nominal = None
    with_flags, without = (encode_track(track, h, EncoderConfig(10)) for h in (header, explicit))
    assert np.array_equal(decode_file(with_flags).matrix().view(np.uint32), decode_file(without).matrix().view(np.uint32))
    # 5 pairs of 64 bits replaced by 2 group flags... the group flags are written either way; 5 one-bit flags added
    assert len(write_unit(explicit)) * 8 - len(write_unit(header)) * 8 >= 5 * 64 - 5 - 7


def test_encoder_uses_the_flag_only_where_it_pays():
    g = GroupLayout(2, 8, [0.0, 0.0, 0.1], [1.0, 1.0, 0.9], [0, 0, 0])
    assert nominal_flags(g) == [True, True, False]
    g = GroupLayout(0, 8, [0.0], [1.0], [0])  # UNSPECIFIED: no nominal range
    assert nominal_flags(g) is None
    g = GroupLayout(2, 8, [0.1] * 3, [0.9] * 3, [0] * 3)  # no dimension is nominal
    assert nominal_flags(g) is None
