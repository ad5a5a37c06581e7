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
from refcodec.track import Track

from ._cli import EXIT_CODES_HELP, EXIT_IO, EXIT_OK, print_json

DESCRIPTION = """\
Encode a parameter track into a .fcs stream (SPEC part 1) and print the achieved bitrate.

Each frame is quantized per dimension to the group's bit depth over a [min, max] range,
sent as an I-frame (fixed-length values) every --intra-interval frames and otherwise as a
P-frame (signed Exp-Golomb residuals against the previous frame). The result is decoded
again and the reconstruction error is reported.
"""

EPILOG = f"""\
group selectors: a group is named by its semantic in lower case (arkit52, head_rotation,
expression, ...) or by its position (0, 1, ...).

examples:
  fcenc samples/lam_p2-1/test_expression_1s.json -o talk.fcs
  fcenc track.npz --bits 8 --bits head_rotation=10 --intra-interval 30 --crc frame
  fcenc bs_value_1114_3_16.npy --format facegood-npy --drop-constant --bits 8
  fcenc track.csv --keep arkit52=0-25,51 --ranges ranges.json --json

ranges file (--ranges FILE, written by --save-ranges): JSON {{"min": [...], "max": [...]}}
with one value per kept column, in track order.

{EXIT_CODES_HELP}
"""


def _group_index(track: Track, selector: str) -> int:
    if selector.isdigit():
        gi = int(selector)
        if gi >= len(track.groups):
            raise SystemExit(f"error: group {gi} does not exist (the track has {len(track.groups)})")
        return gi
    for gi, g in enumerate(track.groups):
        if g.semantic.lower() == selector.lower():
            return gi
    raise SystemExit(f"error: no group {selector!r}; the track has {[g.semantic.lower() for g in track.groups]}")


def _parse_index_list(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        if "-" in part:
            lo, hi = part.split("-", 1)
            out.extend(range(int(lo), int(hi) + 1))
        elif part:
            out.append(int(part))
    return sorted(set(out))


def _bit_depths(track: Track, specs: list[str]) -> list[int]:
    depths = [8] * len(track.groups)
    for spec in specs:
        if "=" in spec:
            sel, val = spec.split("=", 1)
            depths[_group_index(track, sel)] = int(val)
        else:
            depths = [int(spec)] * len(track.groups)
    for d in depths:
        if not 1 <= d <= 16:
            raise SystemExit(f"error: bit depth {d} is outside 1..16")
    return depths


def apply_keep(track: Track, specs: list[str], drop_constant: bool) -> Track:
    """Restrict the track to the requested dimensions."""
    keep: dict[int, list[int]] = {}
    for spec in specs:
        sel, idx = spec.split("=", 1)
        gi = _group_index(track, sel)
        indices = _parse_index_list(idx)
        bad = [i for i in indices if i >= len(track.groups[gi].names)]
        if bad:
            raise SystemExit(f"error: --keep {spec}: indices {bad} exceed the group's {len(track.groups[gi].names)} dims")
        keep[gi] = indices
    if drop_constant:
        varying = np.ptp(track.values, axis=0) > 0
        for gi, sl in enumerate(track.group_slices()):
            base = keep.get(gi, list(range(len(track.groups[gi].names))))
            keep[gi] = [i for i in base if varying[sl.start + i]]
    return track.select(keep) if keep else track


def _crc_flags(mode: str) -> tuple[bool, bool]:
    return mode in ("header", "both"), mode in ("frame", "both")


def avatar_binding_hash(path: str) -> int:
    """The stream's avatar_hash for a .fca file (SPEC 5.2.1)."""
    return avatar_digest(Path(path).read_bytes())


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
            "names": g.dim_names()[:3] + (["..."] if g.dims > 3 else []),
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
        "groups": groups,
        "round_trip_frames_match": decoded.shape == track.values.shape,
    }


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``fcenc``."""
    from refcodec.importers import FORMATS, load_track

    formats = "\n".join(f"  {k:<14} {v}" for k, v in FORMATS.items())
    ap = argparse.ArgumentParser(prog="fcenc", description=DESCRIPTION + "\ninput formats (--format):\n" + formats,
                                 epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", help="parameter track (npz, csv, or a supported foreign format)")
    ap.add_argument("-o", "--output", help="output .fcs (default: input name with .fcs)")
    ap.add_argument("--format", default=None, choices=sorted(FORMATS), help="input format (default: from the file)")
    ap.add_argument("--bits", action="append", default=[], metavar="N|GROUP=N",
                    help="bit depth 1..16 for all groups or one group (repeatable; default 8)")
    ap.add_argument("--keep", action="append", default=[], metavar="GROUP=LIST",
                    help="keep only these dimension indices of a group, e.g. arkit52=0-25,51 (repeatable)")
    ap.add_argument("--drop-constant", action="store_true", help="drop dimensions that never change")
    ap.add_argument("--intra-interval", type=int, default=None, metavar="N",
                    help="frames between I-frames (default: one second)")
    ap.add_argument("--ranges", default="data", metavar="data|FILE",
                    help="quantization ranges: from the data (default) or a JSON file")
    ap.add_argument("--save-ranges", metavar="FILE", help="write the ranges used to a JSON file")
    ap.add_argument("--crc", choices=["none", "header", "frame", "both"], default="none",
                    help="optional CRCs: CRC-32 on the sequence header, CRC-8 on each frame")
    ap.add_argument("--eg-order", default="auto", metavar="auto|K",
                    help="Exp-Golomb order of residuals: auto (per dimension, from the data) or 0..15")
    ap.add_argument("--zero-flags", choices=["auto", "on", "off"], default="auto",
                    help="all-zero group flags in P-frames (auto: where they save bits)")
    ap.add_argument("--repeat-header", action="store_true", help="repeat the sequence header before every I-frame")
    ap.add_argument("--range-update", action="store_true", help="send per-period ranges at I-frames")
    ap.add_argument("--avatar", metavar="FCA", help="bind the stream to this avatar file (SHA-256 prefix)")
    ap.add_argument("--frame-rate", metavar="NUM/DEN", help="override the track's frame rate")
    ap.add_argument("--level", type=int, choices=[10, 20, 30], help="level_idc (default: the smallest that fits)")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    args = ap.parse_args(argv)

    try:
        track = load_track(args.input, args.format)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_IO
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.frame_rate:
        num, _, den = args.frame_rate.partition("/")
        track.frame_rate = (int(num), int(den or 1))
    track = apply_keep(track, args.keep, args.drop_constant)
    if track.frames == 0:
        print("error: the track has no frames", file=sys.stderr)
        return 1
    depths = _bit_depths(track, args.bits)
    interval = args.intra_interval or max(1, round(track.frame_rate[0] / track.frame_rate[1]))
    ranges = None
    if args.ranges != "data":
        spec = json.loads(Path(args.ranges).read_text())
        ranges = (np.array(spec["min"], dtype=np.float64), np.array(spec["max"], dtype=np.float64))
        if ranges[0].shape != (track.values.shape[1],) or ranges[1].shape != ranges[0].shape:
            print(f"error: {args.ranges}: needs {track.values.shape[1]} min and max values", file=sys.stderr)
            return 1
    header_crc, frame_crc = _crc_flags(args.crc)
    eg = args.eg_order if args.eg_order == "auto" else int(args.eg_order)
    zero = {"auto": "auto", "on": True, "off": False}[args.zero_flags]
    try:
        header = build_header(track, depths, interval, ranges, eg, zero, header_crc, frame_crc,
                              avatar_binding_hash(args.avatar) if args.avatar else None, args.level)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    data = encode_track(track, header, EncoderConfig(interval, args.repeat_header, args.range_update))
    out = Path(args.output) if args.output else Path(args.input).with_suffix(".fcs")
    out.write_bytes(data)
    if args.save_ranges:
        Path(args.save_ranges).write_text(json.dumps({
            "names": track.names,
            "min": [v for g in header.groups for v in g.range_min],
            "max": [v for g in header.groups for v in g.range_max]}, indent=1))
    report = encode_report(track, data, header)
    report["input"] = args.input
    report["output"] = str(out)
    if args.json:
        print_json(report)
    else:
        print(f"{args.input}: {report['frames']} frames x {report['dims']} dims at {report['frame_rate']:.3f} fps "
              f"({report['duration_s']:.2f} s)")
        print(f"wrote {out}: {report['bytes']} bytes, {report['kbit_per_s']:.3f} kbit/s "
              f"(fixed-length {report['raw_fixed_length_kbit_per_s']:.3f} kbit/s), level {report['level_idc']}")
        for g in report["groups"]:
            print(f"  {g['dims']:>3} dims @ {g['bit_depth']} bits {', '.join(g['names'])}: "
                  f"max |error| {g['max_abs_error']:.3g}, mean {g['mean_abs_error']:.3g}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
