"""fcenc: encode a parameter track (expression + head pose) into a .fcs stream."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from refcodec.fcs.binding import avatar_digest
from refcodec.fcs.decoder import decode_file
from refcodec.fcs.encoder import EncoderConfig, build_header, encode_track
from refcodec.fcs.encoder_ranges import choose_ranges, flatten_noise, noise_dimensions
from refcodec.fcs.main_profile import MAIN_PROFILE_IDC, MAX_PACKET_FRAMES
from refcodec.track import Track

from ._cli import (
    EXIT_OK,
    CliError,
    check_output,
    entry_point,
    file_error,
    float_range,
    int_range,
    json_text,
    parser,
    print_json,
    read_input,
    usage_error,
    write_atomic,
)
from .fcenc_quality import QUALITY_RANGE, default_cache_dir, encode_quality

#: --loss-resilient: frames from one I-frame to the next, with intra prediction (SPEC 5.2.1, R-220) and extrapolated
#: concealment (R-223) in the Baseline profile (fcbench-loss, LAM 8 bits: 8.9 % of frames wrong at 5 % random loss
#: instead of 45 %, longest wrong run 14 at 20 % bursty loss, +10.7 % rate against Baseline I/30 without CRC)
LOSS_RESILIENT_INTRA_INTERVAL = 3
#: SPEC 5.2: max_intra_interval is u(16) and > 0 (R-13); eg_order is u(4); group_bit_depth_minus1 + 1 is 1..16.
INTRA_INTERVAL_RANGE = (1, 0xFFFF)
EG_ORDER_RANGE = (0, 15)
BIT_DEPTH_RANGE = (1, 16)
#: SPEC 5.2: frame_rate_num and frame_rate_den are u(16) and > 0 (R-13).
FRAME_RATE_FIELD_MAX = 0xFFFF

DESCRIPTION = """\
Encode a parameter track into a .fcs stream (SPEC part 1) and print the achieved bitrate.

Each frame is quantized per dimension to the group's bit depth over a [min, max] range,
sent as an I-frame every --intra-interval frames and otherwise as a P-frame (residuals
against a prediction from the previous frames). The Main profile (default, SPEC 14) gathers
the frames of each I-frame period into one packet (--packet-frames) and codes them with an
adaptive range coder; the Baseline profile (SPEC 5) sends one unit per frame with fixed-length
I-frame values and signed Exp-Golomb residuals. The result is decoded again and the
reconstruction error is reported.
"""

EPILOG = """\
group selectors: a group is named by its semantic in lower case (arkit52, head_rotation,
expression, ...) or by its position (0, 1, ...).

examples:
  fcenc samples/lam_p2-1/test_expression_1s.json -o talk.fcs
  fcenc track.npz --bits 8 --bits head_rotation=10 --intra-interval 30 --crc frame
  fcenc bs_value_1114_3_16.npy --format facegood-npy --drop-constant --bits 8
  fcenc track.csv --keep arkit52=0-25,51 --ranges ranges.json --json

ranges file (--ranges FILE, written by --save-ranges): JSON {"min": [...], "max": [...]}
with one value per kept column, in track order.
"""


def _group_index(track: Track, selector: str, option: str) -> int:
    if selector.isdigit():
        gi = int(selector)
        if gi >= len(track.groups):
            raise usage_error(option, f"group {gi} does not exist (the track has {len(track.groups)} groups)")
        return gi
    for gi, g in enumerate(track.groups):
        if g.semantic.lower() == selector.lower():
            return gi
    raise usage_error(option, f"no group {selector!r}; the track has {[g.semantic.lower() for g in track.groups]}")


def _parse_index_list(text: str, option: str) -> list[int]:
    out: list[int] = []
    try:
        for part in text.split(","):
            if "-" in part:
                lo, hi = part.split("-", 1)
                out.extend(range(int(lo), int(hi) + 1))
            elif part:
                out.append(int(part))
    except ValueError:
        raise usage_error(option, f"{text!r} is not a list of indices such as 0-25,51") from None
    return sorted(set(out))


def _bit_depths(track: Track, specs: list[str]) -> list[int]:
    depths = [8] * len(track.groups)
    lo, hi = BIT_DEPTH_RANGE
    for spec in specs:
        option = f"--bits {spec}"
        sel, _, val = spec.rpartition("=")
        try:
            depth = int(val)
        except ValueError:
            raise usage_error(option, f"expected N or GROUP=N with N in {lo}..{hi}") from None
        if not lo <= depth <= hi:
            raise usage_error(option, f"bit depth {depth} is outside the allowed range {lo}..{hi} (SPEC 5.2)")
        if sel:
            depths[_group_index(track, sel, option)] = depth
        else:
            depths = [depth] * len(track.groups)
    return depths


def apply_keep(track: Track, specs: list[str], drop_constant: bool) -> Track:
    """Restrict the track to the requested dimensions."""
    keep: dict[int, list[int]] = {}
    for spec in specs:
        option = f"--keep {spec}"
        if "=" not in spec:
            raise usage_error(option, "expected GROUP=LIST, e.g. arkit52=0-25,51")
        sel, idx = spec.split("=", 1)
        gi = _group_index(track, sel, option)
        indices = _parse_index_list(idx, option)
        bad = [i for i in indices if i >= len(track.groups[gi].names)]
        if bad:
            raise usage_error(option, f"indices {bad} exceed the group's {len(track.groups[gi].names)} dims")
        keep[gi] = indices
    if drop_constant:
        varying = np.ptp(track.values, axis=0) > 0
        for gi, sl in enumerate(track.group_slices()):
            base = keep.get(gi, list(range(len(track.groups[gi].names))))
            keep[gi] = [i for i in base if varying[sl.start + i]]
    return track.select(keep) if keep else track


def _frame_rate(text: str) -> tuple[int, int]:
    """--frame-rate NUM[/DEN]: both u(16) and > 0 (SPEC 5.2, R-13)."""
    num, _, den = text.partition("/")
    try:
        rate = int(num), int(den or 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NUM/DEN with integers, got {text!r}") from None
    if not all(1 <= v <= FRAME_RATE_FIELD_MAX for v in rate):
        raise argparse.ArgumentTypeError(f"{text}: numerator and denominator must be in 1..{FRAME_RATE_FIELD_MAX}")
    return rate


def _eg_order(text: str) -> str | int:
    if text == "auto":
        return text
    lo, hi = EG_ORDER_RANGE
    return int_range(lo, hi)(text)


def _load(path: str, fmt: str | None) -> Track:
    """The input track; a file that cannot be told apart names --format (exit 2), unreadable content exits 3."""
    from refcodec.importers import FORMATS, detect_format, load_track

    if not Path(path).is_file():
        raise file_error(path, "cannot read: no such file" if not Path(path).exists() else "cannot read: not a file")
    if fmt is None:
        try:
            fmt = detect_format(path)
        except ValueError as exc:
            reason = str(exc).split("; pass fmt=")[0]
            raise usage_error("--format", f"{reason}; give one of {', '.join(sorted(FORMATS))}") from None
        except OSError as exc:
            raise file_error(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        return load_track(path, fmt)
    except ValueError as exc:
        raise file_error(path, f"cannot read as {fmt}: {exc}") from None


def _ranges(path: str, columns: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        spec = json.loads(Path(path).read_text())
        ranges = (np.array(spec["min"], dtype=np.float64), np.array(spec["max"], dtype=np.float64))
    except OSError as exc:
        raise file_error(path, f"cannot read --ranges: {exc.strerror or exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise file_error(path, f"--ranges: not a JSON object with 'min' and 'max' lists ({exc})") from None
    if ranges[0].shape != (columns,) or ranges[1].shape != ranges[0].shape:
        raise usage_error("--ranges", f"{path} needs {columns} min and max values, one per kept column")
    return ranges


def _warn_noise(track: Track, noisy: np.ndarray, action: str) -> None:
    names = [n for n, bad in zip(track.names, noisy, strict=True) if bad]
    shown = ", ".join(names[:6]) + (f" (+{len(names) - 6} more)" if len(names) > 6 else "")
    print(f"fcenc: warning: {len(names)} near-constant noise dimension(s) {action}: {shown}", file=sys.stderr)


def _choose_ranges(track: Track, mode: str, noise: str, depths: list[int]) -> tuple[Track, tuple[np.ndarray, np.ndarray] | None]:
    """--ranges and --noise-dims (SPEC 9.1, 14.7): the ranges to quantize with (None: the data's)."""
    if mode not in ("auto", "data", "nominal"):
        return track, _ranges(mode, track.values.shape[1])
    rmin, rmax, _ = choose_ranges(track, mode)
    if noise == "coarse":
        noisy = noise_dimensions(track, depths)
        if noisy.any():
            _warn_noise(track, noisy, "coded as constants")
            rmin, rmax = flatten_noise(rmin, rmax, track.values, noisy)
    return track, (rmin, rmax)


def _crc_flags(mode: str) -> tuple[bool, bool]:
    return mode in ("header", "both"), mode in ("frame", "both")


def encode_report(track: Track, data: bytes, header) -> dict:
    """Bitrate and reconstruction error of an encoded track (decodes ``data`` again)."""
    decoded = decode_file(data).matrix().astype(np.float64)
    err = np.abs(decoded - track.values)
    seconds = track.frames * header.frame_rate_den / header.frame_rate_num
    raw_bits = sum(g.dims * g.bit_depth for g in header.groups) * track.frames
    groups = []
    for g, sl in zip(header.groups, track.group_slices(), strict=True):
        width = np.array(g.range_max) - np.array(g.range_min)
        groups.append({
            "names": g.dim_names(),
            "dims": g.dims, "bit_depth": g.bit_depth, "eg_orders": g.eg_orders,
            "zero_flag": g.zero_flag_enabled,
            "max_abs_error": float(err[:, sl].max()) if track.frames else 0.0,
            "mean_abs_error": float(err[:, sl].mean()) if track.frames else 0.0,
            "max_step": float(np.max(width) / ((1 << g.bit_depth) - 1)),
        })
    return {
        "frames": track.frames,
        "dims": header.total_dims,
        "frame_rate": header.frame_rate,
        "duration_s": seconds,
        "bytes": len(data),
        "kbit_per_s": len(data) * 8 / seconds / 1000 if seconds else None,
        "raw_fixed_length_kbit_per_s": raw_bits / seconds / 1000 if seconds else None,
        "level_idc": header.level_idc,
        "profile": "main" if header.profile_idc == MAIN_PROFILE_IDC else "baseline",
        "intra_interval": header.max_intra_interval,
        "intra_pred": header.intra_pred_flag,
        "conceal_extrapolate": header.conceal_extrapolate_flag,
        "xdim_references": sum(ref is not None for g in header.groups for ref in (g.xdim or [])) if header.xdim_pred_flag else 0,
        "frame_crc": header.frame_crc_flag,
        "groups": groups,
        "round_trip_frames_match": decoded.shape == track.values.shape,
    }


def build_parser() -> argparse.ArgumentParser:
    """fcenc's command line."""
    from refcodec.importers import FORMATS

    formats = "\n".join(f"  {k:<14} {v}" for k, v in FORMATS.items())
    ap = parser("fcenc", DESCRIPTION + "\ninput formats (--format):\n" + formats, EPILOG)
    ap.add_argument("input", help="parameter track (npz, csv, or a supported foreign format)")
    ap.add_argument("-o", "--output", help="output .fcs (default: input name with .fcs)")
    ap.add_argument("--format", default=None, choices=sorted(FORMATS), help="input format (default: from the file)")
    ap.add_argument("--bits", action="append", default=[], metavar="N|GROUP=N",
                    help="bit depth 1..16 for all groups or one group (repeatable; default 8)")
    ap.add_argument("--keep", action="append", default=[], metavar="GROUP=LIST",
                    help="keep only these dimension indices of a group, e.g. arkit52=0-25,51 (repeatable)")
    ap.add_argument("--drop-constant", action="store_true", help="drop dimensions that never change")
    ap.add_argument("--intra-interval", type=int_range(*INTRA_INTERVAL_RANGE), default=None, metavar="N",
                    help=f"frames between I-frames, {INTRA_INTERVAL_RANGE[0]}..{INTRA_INTERVAL_RANGE[1]} (default: one second)")
    ap.add_argument("--ranges", default="auto", metavar="auto|data|nominal|FILE",
                    help="quantization ranges: auto (default: the semantic's nominal range where the data fit it, "
                         "else the data's), data, nominal, or a JSON file")
    ap.add_argument("--noise-dims", choices=["coarse", "drop", "keep"], default="coarse",
                    help="dimensions varying by less than one step of their nominal range: warn, then code them as "
                         "a constant (coarse, default), drop them, or keep them")
    ap.add_argument("--profile", choices=["baseline", "main"], default=None,
                    help="main (default, SPEC 14: adaptive range coding, packets) or baseline (SPEC 5)")
    ap.add_argument("--packet-frames", type=int_range(0, MAX_PACKET_FRAMES), default=0, metavar="N",
                    help="main profile: frames per packet, 0 = one I-frame period (latency: one packet), 1 = live")
    ap.add_argument("--loss-resilient", action="store_true",
                    help="for lossy networks: the Baseline profile (unless --profile main) with intra-predicted I-frames every "
                         f"{LOSS_RESILIENT_INTRA_INTERVAL} frames (unless --intra-interval), extrapolated concealment and the CRC-8; "
                         "at 5 %% random loss 8.9 %% of frames come out wrong instead of 45 %% and no wrong run at 20 %% bursty loss "
                         "exceeds 14 frames (LAM, 8 bits), at +11 %% rate against Baseline with 1 s I-frames (bench/loss_bench.md; with "
                         "--xdim auto, the default, -4 %%: 7.46 against 7.79 kbit/s at data ranges); "
                         "with --profile main: one frame per packet, +23 %% against Main")
    ap.add_argument("--xdim", choices=["auto", "off"], default="auto",
                    help="cross-dimension prediction (SPEC 5.2.1, R-224): auto (default) lets a dimension code its P-frame residual "
                         "relative to an earlier dimension's where the track shows that it saves bits (LAM -29 %%, FACEGOOD -28..37 %% in "
                         "the Main profile, bench/stream_bench.md); off never does")
    ap.add_argument("--save-ranges", metavar="FILE", help="write the ranges used to a JSON file")
    ap.add_argument("--crc", choices=["none", "header", "frame", "both"], default="frame",
                    help="CRCs: CRC-32 on the sequence header, CRC-8 on each frame unit (default frame: without it a third to a half of "
                         "corrupted units give silently wrong frames, bench/loss_bench.md; none only over a transport that verifies integrity)")
    ap.add_argument("--eg-order", type=_eg_order, default="auto", metavar="auto|K",
                    help="Exp-Golomb order of residuals (Main: their Rice parameter): auto (per dimension, from the data) or 0..15")
    ap.add_argument("--zero-flags", choices=["auto", "on", "off"], default="auto",
                    help="all-zero group flags in P-frames (auto: where they save bits)")
    ap.add_argument("--repeat-header", action="store_true", help="repeat the sequence header before every I-frame")
    ap.add_argument("--range-update", action="store_true", help="send per-period ranges at I-frames")
    ap.add_argument("--avatar", metavar="FCA", help="bind the stream to this avatar file (SHA-256 prefix)")
    ap.add_argument("--frame-rate", type=_frame_rate, metavar="NUM/DEN", help="override the track's frame rate (each 1..65535)")
    ap.add_argument("--level", type=int, choices=[10, 20, 30], help="level_idc (default: the smallest that fits)")
    ap.add_argument("--quality", type=float_range(*QUALITY_RANGE), metavar="DB",
                    help="with --avatar: the lowest rate whose render on the avatar is predicted to reach DB dB "
                         f"(8-bit RGB PSNR against the unquantized parameters, {QUALITY_RANGE[0]:g}..{QUALITY_RANGE[1]:g}; SPEC 9.4)")
    ap.add_argument("--rd-cache", metavar="DIR", help="where --quality keeps render sensitivities (default: ~/.cache/facecodec/rdo)")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    return ap


@entry_point("fcenc")
def main(argv: list[str] | None = None) -> int:
    """Entry point of ``fcenc``."""
    args = build_parser().parse_args(argv)
    out = Path(args.output) if args.output else Path(args.input).with_suffix(".fcs")
    check_output(out)
    if args.save_ranges:
        check_output(args.save_ranges, "--save-ranges")
    avatar_bytes = None
    if args.avatar:
        avatar_bytes = read_input(args.avatar)
    track = _load(args.input, args.format)
    if args.frame_rate:
        track.frame_rate = args.frame_rate
    track = apply_keep(track, args.keep, args.drop_constant)
    if track.frames == 0:
        raise file_error(args.input, "the track has no frames")
    if track.values.shape[1] == 0:
        raise usage_error("--keep/--drop-constant", "no dimension is left to encode")
    depths = _bit_depths(track, args.bits)
    if args.noise_dims == "drop":
        noisy = noise_dimensions(track, depths)
        if noisy.any():
            _warn_noise(track, noisy, "dropped")
            keep = {gi: [i for i in range(sl.stop - sl.start) if not noisy[sl.start + i]] for gi, sl in enumerate(track.group_slices())}
            track = track.select(keep)
            if track.values.shape[1] == 0:
                raise usage_error("--noise-dims drop", "no dimension is left to encode")
            depths = _bit_depths(track, args.bits)
    # --loss-resilient: the recommended set of fcbench-loss (bench/loss_bench.md, SPEC 9.3)
    per_second = round(track.frame_rate[0] / track.frame_rate[1])
    interval = args.intra_interval or (LOSS_RESILIENT_INTRA_INTERVAL if args.loss_resilient else min(max(1, per_second), INTRA_INTERVAL_RANGE[1]))
    profile = args.profile or ("baseline" if args.loss_resilient else "main")
    if args.loss_resilient and args.packet_frames == 0:
        args.packet_frames = 1
    if args.quality is not None:  # SPEC 9.4: rate-distortion search on the avatar's render
        if avatar_bytes is None:
            raise usage_error("--quality", "needs --avatar FCA (the quality is measured on that avatar's render)")
        if args.bits or args.ranges != "auto" or args.range_update:
            raise usage_error("--quality", "chooses bit depths and ranges itself; drop --bits, --ranges and --range-update")
        return encode_quality(track, avatar_bytes, args.quality, out, interval, profile,
                              Path(args.rd_cache) if args.rd_cache else default_cache_dir(), as_json=args.json, label=args.input)
    track, ranges = _choose_ranges(track, args.ranges, args.noise_dims, depths)
    header_crc, frame_crc = _crc_flags(args.crc)
    zero = {"auto": "auto", "on": True, "off": False}[args.zero_flags]
    try:
        header = build_header(track, depths, interval, ranges, args.eg_order, zero, header_crc, frame_crc,
                              avatar_digest(avatar_bytes) if avatar_bytes is not None else None,
                              profile_idc=MAIN_PROFILE_IDC if profile == "main" else 0,
                              # intra prediction pays in Baseline; Main's adaptive intra coding does better without it
                              intra_pred=args.loss_resilient and profile == "baseline", conceal_extrapolate=args.loss_resilient,
                              xdim=args.xdim == "auto")
    except ValueError as exc:  # no level holds the layout, or a range the data cannot give
        raise CliError(f"{args.input}: cannot encode: {exc}", 2) from None
    if args.level is not None:
        if args.level < header.level_idc:
            raise usage_error("--level", f"{args.level} is too small: this layout and frame rate need level {header.level_idc} or more (SPEC 4.3)")
        header.level_idc = args.level
    data = encode_track(track, header, EncoderConfig(interval, args.repeat_header, args.range_update, args.packet_frames))
    report = encode_report(track, data, header)
    report["input"] = args.input
    report["output"] = str(out)
    write_atomic(out, data)
    if args.save_ranges:
        write_atomic(args.save_ranges, json_text({
            "names": track.names,
            "min": [v for g in header.groups for v in g.range_min],
            "max": [v for g in header.groups for v in g.range_max]}), "--save-ranges")
    if args.json:
        print_json(report)
    else:
        print(f"{args.input}: {report['frames']} frames x {report['dims']} dims at {report['frame_rate']:.3f} fps "
              f"({report['duration_s']:.2f} s)")
        print(f"wrote {out}: {report['bytes']} bytes, {report['kbit_per_s']:.3f} kbit/s "
              f"(fixed-length {report['raw_fixed_length_kbit_per_s']:.3f} kbit/s), level {report['level_idc']}, "
              f"{report['profile']} profile, I-frame every {report['intra_interval']} frames"
              + (", intra prediction" if report["intra_pred"] else "") + (", extrapolated concealment" if report["conceal_extrapolate"] else "")
              + (f", {report['xdim_references']} cross-dimension references" if report["xdim_references"] else ""))
        for g in report["groups"]:
            shown = ", ".join(g["names"][:3]) + (f" (+{g['dims'] - 3} more)" if g["dims"] > 3 else "")
            print(f"  {g['dims']:>3} dims @ {g['bit_depth']} bits {shown}: "
                  f"max |error| {g['max_abs_error']:.3g}, mean {g['mean_abs_error']:.3g}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
