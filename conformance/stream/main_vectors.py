"""Conformance vectors of the Main profile (SPEC 14).

The bytes come from the suite's own writer (:mod:`conformance.stream.main_bits`, written from SPEC 14
with an unbounded-precision range encoder), except four: the two range-update vectors, which the
reference encoder writes from real values (``y_main_range_update``, ``y_main_range_update_one_group``),
and the invalid vectors, whose bins are placed by hand; every expected output (frame dumps, statuses, the coder's final
``rng`` per frame, the per-unit report or the error) comes from the suite's second decoder,
:mod:`conformance.stream.range_coder_model`, which is written from SPEC.md alone. Before a vector is
written the model's quantized values are also checked against what the encoder was given.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from refcodec.fcs.encoder import EncoderConfig, build_header, encode_track
from refcodec.fcs.layout import GroupLayout, SequenceHeader
from refcodec.fcs.main_encoder import MainEncoder, best_rice_parameter, nonzero_init_indices, prediction_residuals
from refcodec.fcs.main_profile import (
    CTX_FRAME_ZERO,
    D_NONZERO,
    D_PREFIX0,
    G_INTRA,
    G_PREFIX,
    G_SIGN,
    UNARY_BINS,
    MainPacket,
    MainState,
    encode_payload,
)
from refcodec.fcs.rangecoder import RangeEncoder
from refcodec.fcs.storage import write_file
from refcodec.fcs.syntax import write_unit
from refcodec.track import Track, TrackGroup

from .. import cards
from .main_bits import main_stream
from .model import frame_md5
from .range_coder_model import decode_main

BASE_CLAUSES = ["14", "14.2", "14.3.2", "14.4", "14.5"]


@dataclass
class MainVector:
    """One Main-profile vector: its file and what it is for."""

    name: str
    purpose: str
    requirements: list[str]
    data: bytes
    mode: str = "strict"
    clauses: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- building blocks
def _header(depths: list[int], dims: list[int], q: np.ndarray, interval: int, zero_flags: list[bool] | None = None,
            rice: list[list[int]] | None = None, frame_crc: bool = False, predictors: list[int] | None = None) -> SequenceHeader:
    """A Main header over [0, 1] ranges whose Rice parameters and nonzero_init suit ``q``."""
    groups, start = [], 0
    for g, (b, n) in enumerate(zip(depths, dims, strict=True)):
        block = q[:, start : start + n]
        res = np.diff(block, axis=0)[(np.arange(1, len(block)) % interval) != 0]
        k = rice[g] if rice else [best_rice_parameter(res[:, d]) for d in range(n)]
        predictor = predictors[g] if predictors else 0
        res = prediction_residuals(block, interval, predictor)[0][(np.arange(len(block)) % interval) != 0]
        if not rice:
            k = [best_rice_parameter(res[:, d]) for d in range(n)]
        groups.append(GroupLayout(0, b, [0.0] * n, [1.0] * n, k, bool(zero_flags[g]) if zero_flags else n > 1,
                                  nonzero_init=nonzero_init_indices(block, interval, predictor), predictor=predictor))
        start += n
    return SequenceHeader(groups, max_intra_interval=interval, frame_crc_flag=frame_crc, profile_idc=1)


def _walk(frames: int, dims: int, top: np.ndarray, seed: int, step: int = 2) -> np.ndarray:
    rng = np.random.RandomState(seed)
    q = np.zeros((frames, dims), np.int64)
    q[0] = rng.randint(0, top + 1)
    for t in range(1, frames):
        move = rng.randint(-step, step + 1, size=dims) * (rng.rand(dims) < 0.5)
        q[t] = np.clip(q[t - 1] + move, 0, top)
    return q


def _units(h: SequenceHeader, q: np.ndarray, packet_frames: int = 0, repeat_header: bool = False) -> list[bytes]:
    """The units of quantized values ``q``, written by the suite's own Main writer (main_bits.py), not by
    the reference encoder; tests/test_main_bits.py checks that the two agree byte for byte."""
    return main_stream(h, q, h.max_intra_interval, packet_frames, repeat_header)


def _vector(name: str, purpose: str, reqs: list[str], units: list[bytes], mode: str = "strict", clauses=()) -> MainVector:
    return MainVector(name, purpose, reqs, write_file(units), mode, list(clauses))


def _packet(h: SequenceHeader, unit_type: int, counter: int, count: int, payload: bytes) -> bytes:
    return write_unit(MainPacket(unit_type, counter, count, payload=payload), h)


# ----------------------------------------------------------------------------- the vectors
def decodable_vectors() -> list[MainVector]:
    """Every context path, adaptation extremes, packetisations, reset points."""
    out = []
    depths, dims = [8, 10], [5, 3]
    top = np.array([255] * 5 + [1023] * 3)
    q = _walk(48, 8, top, seed=11)
    q[10:16] = q[9]  # all-zero frames (frame_zero_flag, F[1])
    q[20:30, 5:] = q[19, 5:]  # an all-zero group (group_zero_flag, GZ[g][1])
    q[33, 0] = 255 - q[32, 0] if q[32, 0] < 128 else 0  # a jump: prefix 12 and escape
    q[33, 0] = min(max(q[33, 0], 0), 255)
    h = _header(depths, dims, q, 16, predictors=[1, 0])
    out.append(_vector("y_main_contexts", "Two groups, one packet per I-frame period: intra lengths, frame and group zero flags, "
                       "nonzero/sign/prefix contexts of every class, an escape; group 0 predicts with momentum.",
                       ["R-120", "R-122", "R-127", "R-128", "R-125", "R-132"], _units(h, q)))
    out.append(_vector("y_main_live", "The same frames, one frame per packet: the adaptive state runs on across packets.",
                       ["R-120", "R-125", "R-127", "R-128"], _units(h, q, packet_frames=1)))
    out.append(_vector("y_main_packets_of_5", "The same frames in packets of five: packets that start mid-period and run across no reset point.",
                       ["R-120", "R-125", "R-128"], _units(h, q, packet_frames=5)))
    # bit depths 1 and 16 and Rice parameters
    top = np.array([1, 1, 65535, 65535, 7])
    q = _walk(40, 5, top, seed=12, step=3)
    q[:, 2] = np.clip(q[0, 2] + np.cumsum(np.random.RandomState(3).randint(-900, 900, 40)), 0, 65535)
    h = _header([1, 16, 3], [2, 2, 1], q, 20)
    out.append(_vector("y_main_depths_rice", "Bit depths 1, 16 and 3: intra lengths 0..16, 15 mantissa bins, large Rice parameters "
                       "with suffix bins, single-dimension groups without the group flag.", ["R-120", "R-127", "R-128"], _units(h, q),
                       clauses=["5.2.1"]))
    # adaptation extremes: 256 frames of one packet, long runs saturate the counters and probabilities
    top = np.array([255] * 4)
    q = np.zeros((256, 4), np.int64)
    q[:, 0] = 100
    q[128:, 1] = np.arange(128) % 200  # a dimension that moves by one every frame
    q[200:, 2] = 255  # one jump after a long run of zeros
    h = _header([8], [4], q, 256, zero_flags=[True])
    out.append(_vector("y_main_adapt_extremes", "One packet of 256 frames (frame_count_minus1 255): 127 all-zero frames saturate the "
                       "counters and drive p to its extreme, then sudden changes.", ["R-122", "R-124", "R-128"], _units(h, q)))
    # repeated header and reset points, frame CRC
    top = np.array([255] * 6)
    q = _walk(60, 6, top, seed=13)
    h = _header([8], [6], q, 12, frame_crc=True)
    out.append(_vector("y_main_reset_points", "I-frame every 12 frames with the sequence header repeated before each, frame CRCs: "
                       "the state is reset at every I packet.", ["R-127", "R-128", "R-23"], _units(h, q, repeat_header=True),
                       clauses=["6.1", "7.4"]))
    # range updates at I packets, real values
    values = np.cumsum(np.random.RandomState(14).normal(0, 0.03, size=(45, 4)), axis=0)
    track = Track(values, [TrackGroup("UNSPECIFIED", ["a", "b"]), TrackGroup("JAW", ["x", "y"])], (30, 1))
    h = build_header(track, [7, 9], 15, profile_idc=1)
    data = encode_track(track, h, EncoderConfig(15, range_update=True, packet_frames=8))
    out.append(MainVector("y_main_range_update", "I packets with range updates for every group (SPEC 6.3 applied to packets), "
                          "packets of 8 frames within 15-frame periods.", ["R-31", "R-128"], data, clauses=["6.3"]))
    return out


def loss_vectors() -> list[MainVector]:
    """Lost and damaged packets (resilient, SPEC 7.4, 14.5)."""
    top = np.array([255] * 6)
    q = _walk(72, 6, top, seed=21)
    h = _header([8], [6], q, 24, frame_crc=True)
    units = _units(h, q, packet_frames=6)  # header, then 12 packets: I at packets 0, 4, 8
    out = [
        _vector("y_main_loss_p_packet", "The third P packet of a period is lost: a gap of 6 frames, the rest of the period concealed "
                "without decoding (no reference), decoding resumes at the next I packet.", ["R-125", "R-129", "R-130"],
                units[:3] + units[4:], "resilient", ["7.1", "7.4"]),
        _vector("y_main_loss_i_packet", "An I packet is lost: its period is concealed; later decoded frames equal the error-free ones.",
                ["R-129", "R-130"], units[:5] + units[6:], "resilient", ["7.1", "7.4"]),
    ]
    whole = _units(h, q)  # header, then three packets of one 24-frame period each
    out.append(_vector("y_main_loss_long_packet", "A whole 24-frame I packet is lost: the gap of 24 frames is only visible "
                       "with the Main counter modulus 256.", ["R-125", "R-129", "R-130"], whole[:2] + whole[3:], "resilient", ["7.1", "7.4"]))
    # a repeated header with a bad CRC-32 (discarded), and a packet cut after its first byte (one concealed frame)
    hc = _header([8], [6], q, 24, frame_crc=True)
    hc.header_crc_flag = True
    with_crc = _units(hc, q, packet_frames=6)
    bad_header = bytearray(with_crc[0])
    bad_header[-1] ^= 0x01
    out.append(_vector("y_main_damaged_units", "A repeated sequence header whose CRC fails is discarded without output; a packet "
                       "cut to one byte (its frame counter unreadable) is one concealed frame; the following P packets wait "
                       "for the next I packet.", ["R-129", "R-19", "R-40"],
                       with_crc[:3] + [bytes(bad_header), with_crc[3][:1]] + with_crc[4:], "resilient", ["7.3", "7.4"]))
    bad = bytearray(units[6])
    bad[len(bad) // 2] ^= 0x21
    out.append(_vector("y_main_damaged_packet", "A P packet with a damaged payload fails its CRC: its 6 frames are concealed "
                       "(concealed_error), then P packets wait for the next I packet.", ["R-129", "R-130", "R-19"],
                       units[:6] + [bytes(bad)] + units[7:], "resilient", ["7.3", "7.4"]))
    return out


def _one_dim(depth: int = 8) -> SequenceHeader:
    return SequenceHeader([GroupLayout(0, depth, [0.0], [1.0], [0], nonzero_init=[[8, 8, 8]])], profile_idc=1)


def _escape_payload(h: SequenceHeader, zeros: int) -> bytes:
    """Bins placed by hand (SPEC 14.4): an I-frame of value 0 (one intra_length bin 0), then a P-frame
    whose residual is positive with 12 prefix ones and an escape of ``zeros`` zero bins, a one and
    ``zeros`` zero bins (escape value 2^zeros - 1)."""
    state = MainState(h)
    enc, ctx = RangeEncoder(), state.ctx
    gb, db = state.group_base[0], state.dim_base[0]
    enc.bin(ctx, gb + G_INTRA, 0)  # intra_length 0
    enc.bin(ctx, CTX_FRAME_ZERO, 0)  # F[0]
    enc.bin(ctx, db + D_NONZERO, 1)  # NZ[0][0]
    enc.bin(ctx, gb + G_SIGN, 0)  # SG[0][0]
    enc.bin(ctx, db + D_PREFIX0, 1)  # P0[0][0]
    for u in range(1, UNARY_BINS):
        enc.bin(ctx, gb + G_PREFIX + u, 1)  # PU[0][0][u]
    enc.bypass_bits(0, zeros)
    enc.bypass(1)
    enc.bypass_bits(0, zeros)
    return enc.finish()


def invalid_vectors() -> list[MainVector]:
    """Rejections of SPEC 14 (strict)."""
    h = _one_dim()
    head = write_unit(h)
    bits = "1" + "0" * 8 + "0" * 8 + "100000001"  # P packet, counter 0, frame_count_minus1 = 256
    bits += "0" * (-len(bits) % 8)
    too_many = int(bits, 2).to_bytes(len(bits) // 8, "big")
    intra, _ = encode_payload([[0], [0]], True, MainState(h))
    below, _ = encode_payload([[0], [-1]], True, MainState(h))
    return [
        _vector("n_main_frame_count", "frame_count_minus1 = 256 exceeds 255.", ["R-124"], [head, too_many], clauses=["14.2"]),
        _vector("n_main_payload_too_long", "Bytes after what the range decoder reads.", ["R-123"],
                [head, _packet(h, 1, 0, 2, intra + b"\x00" * 6 + b"\x01")], clauses=["14.3.2"]),
        _vector("n_main_escape", "Bins placed by hand: an escape with 17 leading zero bins.", ["R-126"],
                [write_unit(_one_dim(16)), _packet(_one_dim(16), 1, 0, 2, _escape_payload(_one_dim(16), 17))], clauses=["14.4.3"]),
        _vector("n_main_residual", "A residual of -1 below q = 0.", ["R-131", "R-32"], [head, _packet(h, 1, 0, 2, below)],
                clauses=["6.4", "14.4.2"]),
    ]


def y_main_escape_15() -> MainVector:
    h = _one_dim(16)
    return _vector("y_main_escape_15", "Bins placed by hand: an escape with 15 leading zero bins at bit depth 16, "
                   "residual 12 + 2^15 - 1 + 1 = 32780 (the longest escape a valid residual needs).",
                   ["R-126"], [write_unit(h), _packet(h, 1, 0, 2, _escape_payload(h, 15))], clauses=["14.4.3"])


def loss_tool_vectors() -> list[MainVector]:
    """The loss-resilience tools in the Main profile: intra prediction (R-220, R-222) and
    extrapolated concealment (R-223)."""
    top = np.array([255] * 4 + [1023] * 2)
    q = _walk(36, 6, top, seed=41, step=3)
    q[0] = [0, 255, 128, 255, 0, 1023]  # the largest differences of both signs from the centers below
    q[12] = [255, 0, 128, 0, 1023, 0]
    q[24] = [0, 255, 128, 255, 0, 1023]
    h = _header([8, 10], [4, 2], q, 12, frame_crc=True)
    h.intra_pred_flag = True
    h.groups[0].intra_centers, h.groups[1].intra_centers = [255, 0, 128, 0], [1023, 0]
    out = [_vector("y_main_intra_pred", "I packets with intra prediction: magnitudes up to 2^b - 1 and signs of both kinds "
                   "(bypass intra_sign_flag), a zero difference without a sign, centers at 0, the middle and 2^b - 1.",
                   ["R-220", "R-222", "R-128"], _units(h, q, packet_frames=4), clauses=["5.2.1"])]
    hx = _header([8, 10], [4, 2], q, 12, frame_crc=True)
    hx.conceal_extrapolate_flag = True
    units = _units(hx, q, packet_frames=1)  # header, then one frame per packet: frame t is units[1 + t]
    bad = bytearray(units[1 + 20])
    bad[-1] ^= 0x5A  # frame_crc
    lost = {5, 6, 13, 30, 31}
    kept = [units[0]] + [bytes(bad) if t == 20 else u for t, u in enumerate(units[1:]) if t not in lost]
    out.append(_vector("y_main_conceal_extrapolate", "One frame per packet, conceal_extrapolate_flag: frames 5-6 lost (the gap "
                       "frames and the P packets up to the I packet at 12 extrapolate frames 3 and 4), frame 13 lost right after "
                       "an I packet (no pair: held), a damaged packet at 20, frames 30-31 lost.",
                       ["R-223", "R-129", "R-130"], kept, "resilient", ["7.2", "7.4"]))
    hi = _one_dim()
    hi.intra_pred_flag = True
    hi.groups[0].intra_centers = [200]
    above, _ = encode_payload([[100], [0]], True, MainState(hi))
    out.append(_vector("n_main_intra_range", "An intra-predicted value 200 + 100 = 300 above 2^8 - 1 = 255: E_RESIDUAL at "
                       "intra_length, reported at the payload (R-222).", ["R-222"], [write_unit(hi), _packet(hi, 1, 0, 2, above)],
                       clauses=["14.4.2"]))
    return out


def coverage_vectors() -> list[MainVector]:
    """Paths of the reference decoder no other Main vector reaches (conformance/branch_coverage.json)."""
    top = np.array([255] * 3 + [1023] * 2)
    q = _walk(30, 5, top, seed=51)
    h = _header([8, 10], [3, 2], q, 10, frame_crc=True)
    enc = MainEncoder(h, EncoderConfig(10, packet_frames=5))
    x = q / top
    update = {10: {1: ([0.0, 0.0], [2.0, 2.0])}}  # group 1 only: group 0 has range_update_group_flag 0
    units = [enc.header_unit()] + enc.encode_frames(x, update) + enc.flush()
    out = [_vector("y_main_range_update_one_group", "An I packet updates the ranges of group 1 only (range_update_group_flag[0] = 0): "
                   "group 0 keeps the sequence ranges.", ["R-31", "R-128"], units, clauses=["6.3", "14.2"])]
    bad = bytearray(units[1])
    bad[-1] ^= 0x01  # frame_crc of the first packet
    out.append(_vector("y_main_damaged_first_packet", "The first packet fails its CRC while the expected counter is still unknown: "
                       "its frames are concealed (zeros), the counter stays unknown, and the P packets after it wait for the "
                       "I packet at frame 10.", ["R-129", "R-19", "R-40"], [units[0], bytes(bad)] + units[2:], "resilient",
                       ["7.3", "7.4"]))
    hn = _header([8, 10], [3, 2], q, 10)
    hn.groups[0].semantic, hn.groups[0].nominal = 2, [True, False, True]  # ARKIT52 over [0, 1]: nominal where flagged
    hn.groups[1].semantic = 3  # HEAD_ROTATION without the flag: explicit [0, 1] pairs
    out.append(_vector("y_main_nominal_ranges", "A Main header whose ARKIT52 group takes [0, 1] from the registry for two of "
                       "its three dimensions (R-133); the model reads table 4-3 from spec/groups.toml.", ["R-133", "R-128"],
                       _units(hn, q, packet_frames=5), clauses=["4.2", "5.2.1"]))
    return out


def main_definitions() -> list[MainVector]:
    """Every Main-profile vector, in a fixed order."""
    return (decodable_vectors() + loss_vectors() + [y_main_escape_15()] + invalid_vectors() + loss_tool_vectors() + coverage_vectors()
            + xdim_vectors())


# ----------------------------------------------------------------------------- cards and files
def build_main_vector(v: MainVector) -> tuple[dict, str, str, str]:
    """Card, .md5 text, .res text and .rng text of one Main vector, from the model."""
    outcome = decode_main(v.data, strict=v.mode == "strict")
    verdict = {"y": "decode", "n": "reject"}[v.name[0]]
    if (verdict == "reject") != (outcome.error is not None):
        raise AssertionError(f"{v.name}: verdict {verdict} but the model says {outcome.error}")
    expected: dict = {"tier": "exact", "format": "fcs_frame_md5" if outcome.error is None else "error_class"}
    md5_text = rng_text = ""
    error = None
    if outcome.error is None:
        frames = [{"index": i, "dims": int(f.values.size), "md5": frame_md5(f.values), "status": f.status}
                  | ({"final_range": f.final_range} if f.final_range is not None else {})
                  for i, f in enumerate(outcome.frames)]
        md5_text = "".join(f"{f['md5']}  {f['index']}\n" for f in frames)
        rng_text = "".join(f"{f['index']} {f.get('final_range', '-')}\n" for f in frames)
        expected |= {"frame_count": len(frames), "frames": frames, "md5_file": f"{v.name}.md5", "rng_file": f"{v.name}.rng"}
    else:
        err = outcome.error
        error = {"class": err.error_class, "code": cards.error_codes()[err.error_class], "unit_index": outcome.error_unit,
                 "bit_offset": err.bit, "byte_offset": err.bit // 8, "field": err.name}
        expected["error"] = error
    with_res = outcome.error is not None or v.mode == "resilient" or any(f.status != "decoded" for f in outcome.frames)
    res_text = ""
    if with_res:
        expected |= {"units": outcome.events, "res_file": f"{v.name}.res"}
        lines = [f"{e['unit_index']} {e['kind']} {e['error_class'] or '-'} {e['frames_out']}" for e in outcome.events]
        if error:
            lines.append(f"{error['unit_index']} error {error['class']} bit={error['bit_offset']} field={error['field']}")
        res_text = "".join(line + "\n" for line in lines)
    reqs = set(v.requirements) | {"R-01", "R-120"} | ({"R-34", "R-121"} if outcome.error is None else set())
    card = {
        "card_version": 1,
        "name": v.name,
        "kind": "fcs",
        "file": f"{v.name}.fcs",
        "file_size": len(v.data),
        "file_md5": hashlib.md5(v.data).hexdigest(),
        "verdict": verdict,
        "mode": v.mode,
        "purpose": v.purpose,
        "clauses": sorted(set(BASE_CLAUSES + v.clauses), key=lambda c: [int(x) for x in c.split(".")]),
        "requirements": sorted(reqs, key=lambda r: int(r[2:])),
        "syntax_elements": sorted(outcome.elements),
        # what the vector was written for; a rejection also targets the element where decoding stops
        "targets": sorted(set(v.requirements), key=lambda r: int(r[2:]))
        + sorted(e for e in outcome.elements if error and e.endswith("." + error["field"].split("[", 1)[0])),
        "expected": expected,
        "tolerance": None,
    }
    problems = cards.validate(card)
    if problems:
        raise AssertionError(f"{v.name}: card does not match the schema: {problems}")
    return card, md5_text, res_text, rng_text


def generate_main(out: Path, check: Callable[[MainVector, dict], None] | None = None) -> list[dict]:
    """Write the Main-profile vectors into ``out`` (the stream vector folder); returns their cards."""
    written = []
    for v in main_definitions():
        card, md5_text, res_text, rng_text = build_main_vector(v)
        (out / card["file"]).write_bytes(v.data)
        (out / f"{v.name}.json").write_text(cards.dumps(card), newline="\n")
        for key, text in (("md5_file", md5_text), ("res_file", res_text), ("rng_file", rng_text)):
            if card["expected"].get(key):
                (out / card["expected"][key]).write_text(text, newline="\n")
        written.append(card)
    return written


def xdim_vectors() -> list[MainVector]:
    """Cross-dimension prediction in the Main profile (R-224, R-225): references applied after the payload is
    decoded, before the group predictions (previous frame and momentum) are added."""
    top = np.array([255] * 4 + [1023] * 2)
    rng = np.random.RandomState(53)
    q = np.zeros((40, 6), np.int64)
    q[0] = [100, 120, 140, 90, 500, 520]
    for t in range(1, 40):
        r0 = int(rng.randint(-4, 5))
        q[t] = np.clip(q[t - 1] + np.array([r0, r0, -r0, r0, 2 * r0, -2 * r0]) + rng.randint(-1, 2, 6) * (rng.rand(6) < 0.3), 0, top)
    h = _header([8, 10], [4, 2], q, 20, predictors=[1, 0])
    h.xdim_pred_flag = True
    h.groups[0].xdim = [None, (0, 0), (1, 1), (2, 0)]  # 1 -> 0, 2 -> 0 negated, 3 -> 0
    h.groups[1].xdim = [(0, 0), (0, 1)]  # 4 -> 3 (a dimension with its own reference), 5 -> 4 negated
    return [_vector("y_main_xdim", "Main packets of 5 frames with cross-dimension prediction: references within and across "
                    "groups, negated ones, a chain (4 -> 3 -> 0), with the momentum predictor in group 0 and the previous frame "
                    "in group 1; coded values near 0 where the residuals follow their references.",
                    ["R-224", "R-225", "R-132", "R-128"], _units(h, q, packet_frames=5), clauses=["5.2.1", "6.4", "14.4.2"])]
