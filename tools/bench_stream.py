"""fcbench-stream: rate, entropy, framing overhead and speed of the reference FCS codec on real tracks.

For each real track and bit depth (8 and 10 bits, I-frame every 30 frames, the encoder's
automatic Exp-Golomb orders and zero flags) it reports:

- ``raw_kbps``: the fixed-length rate dims * bits * fps;
- ``coded_kbps``: the whole ``.fcs`` file (signature, unit sizes, headers, everything) over
  the track's duration;
- ``entropy_kbps``: the per-dimension zero-order entropy of the P-frame residuals actually
  coded (the residuals parsed back from the file, zero-flagged groups included as zeros):
  sum over dimensions of H(residual sequence of that dimension) * P-frames / duration;
- ``coded_over_entropy``: coded_kbps / entropy_kbps (so it includes I-frames and overhead);
- the overhead, from a trace of the coded file (``read_unit(..., trace=list)``) classified by
  element name: storage framing (signature + leb128 unit sizes), unit headers (unit_type,
  frame_counter, range_update_flag, group_zero_flag of frame units), alignment padding of
  frame units, CRCs (frame_crc, header_crc) and sequence headers (all other bits of sequence
  header units); range updates are side information, reported apart and not counted;
- ``eg0_kbps``: the same stream with zero-order Exp-Golomb everywhere (eg_orders=0);
- encode and decode frames/s (``encode_track`` and ``decode_file``, median of --reps runs).

Writes bench/stream_bench.json and bench/stream_bench.md, and checks the LAM targets
(coded/entropy <= 1.30, overhead <= 3 %, encode and decode >= 20,000 frames/s).
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

from refcodec.fcs.decoder import decode_file
from refcodec.fcs.encoder import EncoderConfig, build_header, encode_track
from refcodec.fcs.encoder_ranges import choose_ranges, flatten_noise, noise_dimensions
from refcodec.fcs.layout import SequenceHeader
from refcodec.fcs.main_profile import MAIN_PROFILE_IDC
from refcodec.fcs.storage import FCS_SIGNATURE, iter_units
from refcodec.fcs.syntax import FrameUnit, read_unit
from refcodec.spec_tables import arkit52_names, max_unit_bytes_any_level
from refcodec.track import Track, TrackGroup

from ._cli import EXIT_OK, entry_point, file_error, int_range, make_out_dir, write_atomic
from ._cli import parser as cli_parser
from .bench_peers import constriction_code, residual_array, xz_bytes, zstd_bytes
from .bench_peers import entropy_bits as residual_entropy_bits

REPO = Path(__file__).resolve().parent.parent
#: Where the tracks are looked for without --data: the bundled samples (a source checkout), then the
#: shared reference data where a machine has it. Directories that do not exist are left out.
DEFAULT_DATA_DIRS = (REPO / "samples", Path("/work/shared/data"))


def default_data_dirs() -> list[Path]:
    """The default data directories that exist on this machine (possibly none)."""
    return [d for d in DEFAULT_DATA_DIRS if d.is_dir()]


DATA_DIRS = default_data_dirs()
INTRA_INTERVAL = 30
DEPTHS = (8, 10)

#: name, file (relative to a data dir), fallback loader, importer options
TRACKS = [
    ("LAM test_expression_1s", "lam_p2-1/test_expression_1s.json", "load_lam", {}),
    ("FACEGOOD bs_value_1114_2_01", "facegood/bs_value_1114_2_01.npy", "load_facegood", {"active_only": True}),
    ("FACEGOOD bs_value_1114_3_16", "facegood/bs_value_1114_3_16.npy", "load_facegood", {"active_only": True}),
    ("AD-NeRF transforms_val", "adnerf/transforms_val.json", "load_adnerf", {}),
    ("aniportrait tracked", "tracks/aniportrait_tracked.npz", None, {}),
    ("webcam liveportrait_d0", "tracks/liveportrait_d0.npz", None, {}),
    ("webcam liveportrait_d3", "tracks/liveportrait_d3.npz", None, {}),
    ("webcam liveportrait_d6", "tracks/liveportrait_d6.npz", None, {}),
    ("webcam liveportrait_d9", "tracks/liveportrait_d9.npz", None, {}),
]
#: webcam-family tracks: the Main profile at fcenc's defaults is compared with Baseline at data ranges
DEFAULTS_TARGET_TRACKS = ("aniportrait", "webcam")

TARGETS = {"coded_over_entropy_max": 1.30, "overhead_pct_max": 3.0, "fps_min": 20000}
#: issue 10 targets of the Main profile (8 bits unless stated)
MAIN_TARGETS = {"facegood_kbps_max": 1.0, "lam_kbps_max": 5.5, "webcam_defaults_ratio_max": 0.65, "main_fps_min": 2000}


def find_data(rel: str, dirs: list[Path] | None = None) -> Path | None:
    """First of ``<dir>/<rel>`` over the data directories that exists."""
    for base in dirs or DATA_DIRS:
        if (base / rel).is_file():
            return base / rel
    return None


def load(rel: str, fallback: str, options: dict, dirs: list[Path] | None = None) -> tuple[Track, str]:
    """The track at ``rel`` via refcodec.importers.load_track when present, else the local loader."""
    path = find_data(rel, dirs)
    if path is None:
        raise FileNotFoundError(f"{rel} not found under {[str(d) for d in dirs or DATA_DIRS]}")
    try:
        from refcodec.importers import load_track
    except ImportError:
        load_track = None
    if load_track is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_track(path, **options), f"refcodec.importers.load_track({path})"
    return globals()[fallback](path), f"tools.bench_stream.{fallback}({path})"


def load_lam(path: Path) -> Track:
    """LAM ``test_expression_1s.json``: 52 ARKit weights + head_pose [T,3] (axis-angle), 30 fps."""
    d = json.loads(Path(path).read_text())
    names = list(d["names"])
    canon = list(arkit52_names())
    w = np.array([f["weights"] for f in d["frames"]], dtype=np.float64)
    order = [names.index(n) for n in canon]  # canonical ARKit-52 order (annex A)
    pose = np.asarray(d["head_pose"], dtype=np.float64).reshape(-1, 3)
    values = np.concatenate([w[:, order], pose], axis=1)
    groups = [TrackGroup("ARKIT52", canon), TrackGroup("HEAD_ROTATION", ["head_rotation.x", "head_rotation.y", "head_rotation.z"])]
    return Track(values, groups, (30, 1), source=str(path))


def load_facegood(path: Path, min_range: float = 1e-9) -> Track:
    """FACEGOOD ``bs_value_*.npy`` [T,116]: keep the channels that vary, UNSPECIFIED + dim_index, 30 fps."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = np.load(path, encoding="latin1", allow_pickle=False)
    x = np.asarray(x, dtype=np.float64)
    keep = [i for i in range(x.shape[1]) if x[:, i].max() - x[:, i].min() > min_range]
    groups = [TrackGroup("UNSPECIFIED", [f"bs[{i}]" for i in keep], dim_index=keep)]
    return Track(x[:, keep], groups, (30, 1), source=str(path))


def axis_angle(rot: np.ndarray) -> np.ndarray:
    """Axis-angle vectors of a stack of 3x3 rotation matrices (angles < pi)."""
    rot = np.asarray(rot, dtype=np.float64)
    cos = np.clip((np.trace(rot, axis1=1, axis2=2) - 1.0) / 2.0, -1.0, 1.0)
    angle = np.arccos(cos)
    v = np.stack([rot[:, 2, 1] - rot[:, 1, 2], rot[:, 0, 2] - rot[:, 2, 0], rot[:, 1, 0] - rot[:, 0, 1]], axis=1)
    s = np.sin(angle)
    scale = np.where(s > 1e-12, angle / np.where(s > 1e-12, 2.0 * s, 1.0), 0.5)
    return v * scale[:, None]


def load_adnerf(path: Path) -> Track:
    """AD-NeRF ``transforms_val.json``: 4x4 poses -> HEAD_ROTATION (axis-angle) + HEAD_TRANSLATION, 25 fps."""
    d = json.loads(Path(path).read_text())
    m = np.array([f["transform_matrix"] for f in d["frames"]], dtype=np.float64)
    rot = axis_angle(m[:, :3, :3])
    trans = m[:, :3, 3]
    groups = [TrackGroup("HEAD_ROTATION", ["head_rotation.x", "head_rotation.y", "head_rotation.z"]),
              TrackGroup("HEAD_TRANSLATION", ["head_translation.x", "head_translation.y", "head_translation.z"])]
    return Track(np.concatenate([rot, trans], axis=1), groups, (25, 1), source=str(path))


# -- measurements ------------------------------------------------------------------

def classify(element: str, in_sequence_header: bool) -> str:
    """Overhead bucket of one traced syntax element (by name)."""
    base = element.split("[", 1)[0]
    if base in ("header_crc", "frame_crc"):
        return "crc"
    if in_sequence_header:
        return "sequence_header"
    if base in ("unit_type", "frame_counter", "range_update_flag", "group_zero_flag"):
        return "unit_headers"
    if base == "alignment_zero_bit":
        return "alignment"
    if base in ("range_update_group_flag", "range_min", "range_max"):
        return "range_updates"
    if base in ("quant_value", "residual"):
        return "payload"
    raise ValueError(f"unclassified syntax element {element!r}")


def trace_file(data: bytes) -> tuple[Counter, list[FrameUnit], SequenceHeader | None]:
    """Bits per bucket of a whole file, and its frame units (parsed with a trace)."""
    bits: Counter = Counter()
    bits["storage_framing"] += len(FCS_SIGNATURE) * 8
    active = None
    frames = []
    limit = max_unit_bytes_any_level()
    for su in iter_units(data, lambda: limit):
        bits["storage_framing"] += (su.byte_offset - su.size_offset) * 8  # leb128 unit_size
        trace: list = []
        unit = read_unit(su.data, active, su.byte_offset * 8, trace)
        is_header = isinstance(unit, SequenceHeader)
        for t in trace:
            bits[classify(t.name, is_header)] += len(t.bits)
        if sum(len(t.bits) for t in trace) != len(su.data) * 8:
            raise AssertionError("trace does not cover the unit")
        if is_header:
            active = unit
        elif isinstance(unit, FrameUnit):
            frames.append(unit)
    return bits, frames, active


def entropy_bits(symbols: np.ndarray) -> float:
    """Empirical zero-order entropy in bits per symbol."""
    if symbols.size == 0:
        return 0.0
    _, counts = np.unique(symbols, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def p_residual_entropy(frames: list[FrameUnit]) -> tuple[float, int, float]:
    """(sum over dims of H of the coded P-frame residuals in bits/frame, P-frame count, zero fraction)."""
    rows = [[v for vals in f.values for v in vals] for f in frames if not f.is_intra]
    if not rows:
        return 0.0, 0, 0.0
    r = np.array(rows, dtype=np.int64)
    return sum(entropy_bits(r[:, d]) for d in range(r.shape[1])), len(rows), float(np.mean(r == 0))


def median_fps(fn, frames: int, reps: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return frames / statistics.median(times), [round(frames / t) for t in times]


def bench_track(name: str, track: Track, bits: int, reps: int) -> dict:
    """All measurements of one track at one bit depth."""
    num, den = track.frame_rate
    fps = num / den
    seconds = track.frames / fps
    dims = track.values.shape[1]
    header = build_header(track, bits, INTRA_INTERVAL)
    config = EncoderConfig(INTRA_INTERVAL)
    data = encode_track(track, header, config)
    buckets, frames, _ = trace_file(data)
    if sum(buckets.values()) != len(data) * 8:
        raise AssertionError("buckets do not add up to the file size")
    h_per_frame, p_frames, zero_frac = p_residual_entropy(frames)
    coded_kbps = len(data) * 8 / seconds / 1000
    entropy_kbps = h_per_frame * p_frames / seconds / 1000
    overhead_keys = ["storage_framing", "unit_headers", "alignment", "crc", "sequence_header"]
    overhead_bits = sum(buckets[k] for k in overhead_keys)
    eg0 = encode_track(track, build_header(track, bits, INTRA_INTERVAL, eg_orders=0), config)
    decoded = decode_file(data)
    enc_fps, enc_runs = median_fps(lambda: encode_track(track, header, config), track.frames, reps)
    dec_fps, dec_runs = median_fps(lambda: decode_file(data), track.frames, reps)
    main = bench_main(track, bits, data, decoded, reps)
    return {
        **main,
        "track": name,
        "bit_depth": bits,
        "frames": track.frames,
        "fps": fps,
        "dims": dims,
        "groups": [f"{g.semantic}x{len(g.names)}" for g in track.groups],
        "eg_orders": [list(g.eg_orders) for g in header.groups],
        "zero_flags": [g.zero_flag_enabled for g in header.groups],
        "file_bytes": len(data),
        "raw_kbps": dims * bits * fps / 1000,
        "coded_kbps": coded_kbps,
        "eg0_kbps": len(eg0) * 8 / seconds / 1000,
        "entropy_kbps": entropy_kbps,
        "coded_over_entropy": coded_kbps / entropy_kbps if entropy_kbps else None,
        "p_frames": p_frames,
        "p_residual_zero_fraction": zero_frac,
        "bits": dict(buckets),
        "overhead_bps": {k: buckets[k] / seconds for k in overhead_keys},
        "overhead_pct": {k: 100 * buckets[k] / (len(data) * 8) for k in overhead_keys},
        "overhead_total_bps": overhead_bits / seconds,
        "overhead_total_pct": 100 * overhead_bits / (len(data) * 8),
        "range_update_bps": buckets["range_updates"] / seconds,
        "max_abs_error": float(np.max(np.abs(decoded.matrix().astype(np.float64) - track.values))) if track.frames else 0.0,
        "encode_fps": enc_fps,
        "decode_fps": dec_fps,
        "encode_fps_runs": enc_runs,
        "decode_fps_runs": dec_runs,
        "reps": reps,
    }


def bench_main(track: Track, bits: int, baseline: bytes, baseline_decoded, reps: int) -> dict:
    """The Main profile (SPEC 14) and its peers on the same quantized integers as Baseline."""
    seconds = track.frames * track.frame_rate[1] / track.frame_rate[0]
    header = build_header(track, bits, INTRA_INTERVAL, profile_idc=MAIN_PROFILE_IDC, xdim=True)  # fcenc's default tools
    config = EncoderConfig(INTRA_INTERVAL)
    data = encode_track(track, header, config)
    without_xdim = encode_track(track, build_header(track, bits, INTRA_INTERVAL, profile_idc=MAIN_PROFILE_IDC), config)
    decoded = decode_file(data)
    q = np.stack([f.quantized for f in baseline_decoded.frames])
    if not np.array_equal(np.stack([f.quantized for f in decoded.frames]), q):
        raise AssertionError("the Main profile decodes other integers than Baseline")
    res = residual_array(q)
    depths = np.array([g.bit_depth for g in header.groups for _ in range(g.dims)])
    peer_bits, back = constriction_code(res, depths)
    if not np.array_equal(back, res):
        raise AssertionError("the constriction peer did not decode back")
    enc_fps, enc_runs = median_fps(lambda: encode_track(track, header, config), track.frames, reps)
    dec_fps, dec_runs = median_fps(lambda: decode_file(data), track.frames, reps)

    def kbps(nbits: float) -> float:
        return nbits / seconds / 1000

    # fcenc's defaults: nominal ranges where the data fit, near-constant noise dimensions as constants
    rmin, rmax, sources = choose_ranges(track, "auto")
    noisy = noise_dimensions(track, [bits] * len(track.groups))
    rmin, rmax = flatten_noise(rmin, rmax, track.values, noisy)
    defaults = encode_track(track, build_header(track, bits, INTRA_INTERVAL, (rmin, rmax), profile_idc=MAIN_PROFILE_IDC, xdim=True), config)
    defaults_err = np.abs(decode_file(defaults).matrix().astype(np.float64) - track.values)
    return {
        "main_kbps": kbps(8 * len(data)),
        "main_no_xdim_kbps": kbps(8 * len(without_xdim)),
        "xdim_references": sum(ref is not None for g in header.groups for ref in (g.xdim or [])),
        "main_file_bytes": len(data),
        "main_packets": sum(1 for _ in iter_units(data, lambda: max_unit_bytes_any_level())) - 1,
        "main_encode_fps": enc_fps,
        "main_decode_fps": dec_fps,
        "main_encode_fps_runs": enc_runs,
        "main_decode_fps_runs": dec_runs,
        "constriction_kbps": kbps(peer_bits),
        "constriction_decoded_back": True,
        "zstd19_kbps": kbps(8 * zstd_bytes(res)),
        "xz9_kbps": kbps(8 * xz_bytes(res)),
        "residual_entropy_kbps": kbps(residual_entropy_bits(res)),
        "main_over_constriction": 8 * len(data) / peer_bits,
        "defaults_main_kbps": kbps(8 * len(defaults)),
        "defaults_range_sources": sources,
        "defaults_noise_dims": int(noisy.sum()),
        "defaults_max_abs_error": float(defaults_err.max()) if track.frames else 0.0,
    }


def main_checks(rows: list[dict]) -> list[dict]:
    """PASS/FAIL of the Main-profile targets of issue 10."""
    t = MAIN_TARGETS
    checks = []
    for r in rows:
        ratio = r["main_over_constriction"]
        checks.append((f"{r['track']} {r['bit_depth']} bit: Main <= constriction", ratio, "<= 1", ratio <= 1))
        if r["bit_depth"] != 8:
            continue
        if r["track"].startswith("FACEGOOD"):
            checks.append((f"{r['track']} Main kbit/s", r["main_kbps"], f"<= {t['facegood_kbps_max']}", r["main_kbps"] <= t["facegood_kbps_max"]))
        if r["track"].startswith("LAM"):
            checks.append(("LAM Main kbit/s", r["main_kbps"], f"<= {t['lam_kbps_max']}", r["main_kbps"] <= t["lam_kbps_max"]))
            for k in ("main_encode_fps", "main_decode_fps"):
                checks.append((f"LAM Main {k.split('_')[1]} frames/s", r[k], f">= {t['main_fps_min']}", r[k] >= t["main_fps_min"]))
        if r["track"].lower().startswith(DEFAULTS_TARGET_TRACKS):
            ratio = r["defaults_main_kbps"] / r["coded_kbps"]
            checks.append((f"{r['track']} Main at fcenc defaults / Baseline at data ranges", ratio,
                           f"<= {t['webcam_defaults_ratio_max']}", ratio <= t["webcam_defaults_ratio_max"]))
    return [{"check": c, "value": v, "target": tgt, "verdict": "PASS" if ok else "FAIL"} for c, v, tgt, ok in checks]


def lam_checks(rows: list[dict]) -> list[dict]:
    """PASS/FAIL of the LAM targets (8-bit row)."""
    lam = next((r for r in rows if r["track"].startswith("LAM") and r["bit_depth"] == 8), None)
    if lam is None:
        return []
    t = TARGETS
    checks = [
        ("coded/entropy", lam["coded_over_entropy"], f"<= {t['coded_over_entropy_max']}", lam["coded_over_entropy"] <= t["coded_over_entropy_max"]),
        ("overhead % of coded rate", lam["overhead_total_pct"], f"<= {t['overhead_pct_max']}", lam["overhead_total_pct"] <= t["overhead_pct_max"]),
        ("encode frames/s", lam["encode_fps"], f">= {t['fps_min']}", lam["encode_fps"] >= t["fps_min"]),
        ("decode frames/s", lam["decode_fps"], f">= {t['fps_min']}", lam["decode_fps"] >= t["fps_min"]),
    ]
    return [{"check": c, "value": v, "target": tgt, "verdict": "PASS" if ok else "FAIL"} for c, v, tgt, ok in checks]


# -- output ------------------------------------------------------------------------

def markdown(report: dict) -> str:
    rows = report["results"]
    out = [
        "# FCS stream benchmark",
        "",
        f"Generated by `fcbench-stream` on {report['machine']}, Python {report['python']}. "
        f"I-frame every {INTRA_INTERVAL} frames, automatic Exp-Golomb orders and zero flags, no CRCs, "
        f"speeds = median of {report['reps']} runs of `encode_track` / `decode_file` in the same process.",
        "",
        "## Rates",
        "",
        "| track | bits | dims | fps | raw kbit/s | coded kbit/s | EG-0 kbit/s | entropy kbit/s | coded/entropy "
        "| P zero % | overhead % | max abs err |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio = f"{r['coded_over_entropy']:.3f}" if r["coded_over_entropy"] else "n/a"
        out.append(f"| {r['track']} | {r['bit_depth']} | {r['dims']} | {r['fps']:g} | {r['raw_kbps']:.2f} | {r['coded_kbps']:.3f} | "
                   f"{r['eg0_kbps']:.3f} | {r['entropy_kbps']:.3f} | {ratio} | {100 * r['p_residual_zero_fraction']:.1f} | "
                   f"{r['overhead_total_pct']:.2f} | {r['max_abs_error']:.2e} |")
    out += [
        "",
        "## Overhead breakdown (bit/s, % of the coded rate)",
        "",
        "| track | bits | storage framing | unit headers | alignment | CRCs | sequence header | total | range updates (not counted) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        keys = ("storage_framing", "unit_headers", "alignment", "crc", "sequence_header")
        cells = [f"{r['overhead_bps'][k]:.1f} ({r['overhead_pct'][k]:.2f} %)" for k in keys]
        out.append(f"| {r['track']} | {r['bit_depth']} | " + " | ".join(cells) +
                   f" | {r['overhead_total_bps']:.1f} ({r['overhead_total_pct']:.2f} %) | {r['range_update_bps']:.1f} |")
    out += [
        "",
        "## Speed (frames/s)",
        "",
        "| track | bits | encode | decode | encode runs | decode runs |",
        "|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        out.append(f"| {r['track']} | {r['bit_depth']} | {r['encode_fps']:.0f} | {r['decode_fps']:.0f} | "
                   f"{', '.join(map(str, r['encode_fps_runs']))} | {', '.join(map(str, r['decode_fps_runs']))} |")
    out += [
        "",
        "## Main profile and peers (same quantized integers, data ranges)",
        "",
        "| track | bits | Baseline | **Main** | Main without xdim (references) | constriction adaptive | zstd -19 | xz -9 | entropy "
        "| Main / constriction | Main at fcenc defaults | defaults / Baseline | noise dims | max abs err (defaults) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        out.append(f"| {r['track']} | {r['bit_depth']} | {r['coded_kbps']:.3f} | **{r['main_kbps']:.3f}** | "
                   f"{r['main_no_xdim_kbps']:.3f} ({r['xdim_references']}) | {r['constriction_kbps']:.3f} | "
                   f"{r['zstd19_kbps']:.3f} | {r['xz9_kbps']:.3f} | {r['residual_entropy_kbps']:.3f} | {r['main_over_constriction']:.3f} | "
                   f"{r['defaults_main_kbps']:.3f} | {r['defaults_main_kbps'] / r['coded_kbps']:.3f} | {r['defaults_noise_dims']} | "
                   f"{r['defaults_max_abs_error']:.2e} |")
    out += ["", "Main speed (frames/s, median): " + "; ".join(
        f"{r['track']} {r['bit_depth']} bit: encode {r['main_encode_fps']:.0f}, decode {r['main_decode_fps']:.0f}" for r in rows)]
    if report.get("main_checks"):
        out += ["", "## Main-profile targets (issue 10)", "", "| check | value | target | verdict |", "|---|---:|---|---|"]
        for c in report["main_checks"]:
            out.append(f"| {c['check']} | {c['value']:.3f} | {c['target']} | **{c['verdict']}** |")
    if report["lam_checks"]:
        out += ["", "## LAM targets (8 bits)", "", "| check | value | target | verdict |", "|---|---:|---|---|"]
        for c in report["lam_checks"]:
            out.append(f"| {c['check']} | {c['value']:.3f} | {c['target']} | **{c['verdict']}** |")
    out += [
        "",
        "## Definitions",
        "",
        "- raw = dims x bits x fps (fixed-length, no prediction, no headers).",
        "- coded = size of the whole .fcs file x 8 / duration.",
        "- entropy = sum over dimensions of the empirical zero-order entropy of that dimension's P-frame residuals "
        "as parsed back from the coded file (zero-flagged groups count as zeros), x P-frames / duration. "
        "I-frames are not in it, so coded/entropy also pays for I-frames and overhead.",
        "- overhead buckets come from a trace of the coded file, by element name: storage framing = signature + leb128 unit sizes; "
        "unit headers = unit_type + frame_counter + range_update_flag + group_zero_flag of frame units; alignment = "
        "alignment_zero_bit of frame units; CRCs = frame_crc + header_crc; sequence header = every other bit of sequence header units.",
        "- EG-0 = the same encoder with eg_orders=0 everywhere.",
        "- Main = the whole .fcs file of the Main profile (SPEC 14: one packet per I-frame period) for the same ranges, bit "
        "depths and I-frame interval, with cross-dimension prediction as fcenc chooses it (SPEC 9.5; the next column without it, "
        "and how many references the encoder chose); it decodes to the same integers as Baseline (checked).",
        "- peers code the residual array of those integers (first vector, then frame differences; no I-frames, no framing): "
        "constriction = adaptive per-dimension range coder (tools/bench_peers.py; decoded back, causally, and checked); "
        "zstd -19 / xz -9 of the int16 array (the smaller of frame-major and dimension-major; not causal, bounds); entropy = "
        "sum over dimensions of the zero-order entropy of the frame differences.",
        "- fcenc defaults = Main with --ranges auto (nominal ranges where the data fit: ARKit [0, 1], rotations [-pi/2, pi/2]) "
        "and --noise-dims coarse; compared with Baseline at data ranges.",
        "",
        "Sources: " + "; ".join(f"{k}: {v}" for k, v in report["sources"].items()),
        "",
    ]
    return "\n".join(out)


@entry_point("fcbench-stream")
def main(argv: list[str] | None = None) -> int:
    """Entry point of ``fcbench-stream``."""
    parser = cli_parser(
        "fcbench-stream",
        "Benchmark the reference FCS codec on the real tracks: raw vs coded rate, per-dimension entropy of the "
                    "coded P-frame residuals, header/framing overhead (from a trace of the coded file) and encode/decode "
                    "frames/s. Writes <out>/stream_bench.json and <out>/stream_bench.md and checks the LAM targets "
                    f"(coded/entropy <= {TARGETS['coded_over_entropy_max']}, overhead <= {TARGETS['overhead_pct_max']} %, "
                    f">= {TARGETS['fps_min']} frames/s).",
        defaults_help=True,
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench", help="output directory")
    parser.add_argument("--data", type=Path, action="append", default=None,
                        help="directory holding lam_p2-1/, facegood/, adnerf/ (repeatable; default: the bundled samples/, "
                             "then /work/shared/data where it exists)")
    parser.add_argument("--reps", type=int_range(5), default=7, help="timing repetitions per measurement (median is reported; at least 5)")
    parser.add_argument("--depths", type=int_range(1, 16), nargs="+", default=list(DEPTHS), help="bit depths to measure")
    parser.add_argument("--only", default=None, help="only tracks whose name contains this text")
    args = parser.parse_args(argv)
    if args.data:
        for d in args.data:
            if not d.is_dir():
                raise file_error(d, "cannot read --data: not a directory")
    dirs = args.data or default_data_dirs()
    if not dirs:
        raise file_error(DEFAULT_DATA_DIRS[0], "no data directory found (neither the bundled samples nor /work/shared/data); give --data")
    results, sources = [], {}
    for name, rel, fallback, options in TRACKS:
        if args.only and args.only.lower() not in name.lower():
            continue
        try:
            track, how = load(rel, fallback, options, dirs)
        except FileNotFoundError as err:
            print(f"skip {name}: {err}", file=sys.stderr)
            continue
        sources[name] = how
        for bits in args.depths:
            r = bench_track(name, track, bits, args.reps)
            results.append(r)
            print(f"{name:30s} {bits:2d} bit  coded {r['coded_kbps']:7.3f} kbit/s  main {r['main_kbps']:7.3f}  "
                  f"constriction {r['constriction_kbps']:7.3f}  xz {r['xz9_kbps']:7.3f}  entropy {r['entropy_kbps']:7.3f}  "
                  f"ratio {r['coded_over_entropy'] or 0:.3f}  overhead {r['overhead_total_pct']:.2f} %  "
                  f"enc {r['encode_fps']:.0f} fps  dec {r['decode_fps']:.0f} fps")
    if not results:
        raise file_error(dirs[0], f"none of the benchmark tracks was found under {[str(d) for d in dirs]}")
    report = {
        "machine": f"{platform.machine()} {platform.processor() or ''} {platform.system()}".strip(),
        "python": platform.python_version(),
        "reps": args.reps,
        "intra_interval": INTRA_INTERVAL,
        "targets": TARGETS,
        "sources": sources,
        "results": results,
        "lam_checks": lam_checks(results),
        "main_checks": main_checks(results),
    }
    make_out_dir(args.out)
    write_atomic(args.out / "stream_bench.json", json.dumps(report, indent=2) + "\n", "--out")
    write_atomic(args.out / "stream_bench.md", markdown(report), "--out")
    for c in report["lam_checks"]:
        print(f"LAM {c['check']}: {c['value']:.3f} (target {c['target']}) {c['verdict']}")
    for c in report["main_checks"]:
        print(f"{c['check']}: {c['value']:.3f} (target {c['target']}) {c['verdict']}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
