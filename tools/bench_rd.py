"""fcbench-rd: rate-distortion of FaceCodec against x265, AV1 and x264 on an avatar-rendered source.

The source is the uncompressed LAM avatar driven by the unquantized LAM track, rendered at
512x512 by the CPU reference renderer and kept as 8-bit RGB (and as float for the float PSNR).
The conventional codecs code those frames (PyAV's libx265 low-delay P, libsvtav1 low-delay,
libx264, each at a sweep of CRFs); FaceCodec codes the parameters (uniform bit depths as
fcenc's defaults, and the rate-distortion encoder of refcodec.rdo at a sweep of quality
targets, on the default container and on containers with a learned K-coefficient basis), and
its frames are the decoded container driven by the decoded stream. This measures codec loss
against an avatar-rendered source, not fidelity to the real person.

Renders are cached on disk (keyed by avatar, parameters and settings), so a second run only
codes and measures. Writes bench/rd_bench.json, bench/rd_bench.md and bench/rd_bench.png.
"""

from __future__ import annotations

import io
import math
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._cli import entry_point, file_error, int_range, jsonable, make_out_dir, parser, write_atomic

REPO = Path(__file__).resolve().parent.parent
LAM_ZIP = REPO / "samples/lam_p2-1/p2-1.zip"
LAM_TRACK = REPO / "samples/lam_p2-1/test_expression_1s.json"
WEBCAM_TRACKS = [REPO / "samples/tracks/aniportrait_tracked.npz"] + sorted(Path("/work/shared/data/webcam-tracks").glob("*.npz"))
CALL_SECONDS = 600.0  # the container is amortised over a 10-minute call
TARGETS = {"psnr_40_kbps": 1.0, "psnr_50_kbps": 2.5, "prediction_db": 1.0, "ratio_at_40db": 100.0}
UNIFORM_BITS = (2, 3, 4, 8)
QUALITY_TARGETS = (35.0, 40.0, 45.0, 50.0, 55.0)
BASIS_KS = (4, 8, 16)
BASIS_TARGETS = (40.0, 50.0)
CODECS = {  # name: (PyAV encoder, decoder, options, CRF sweep)
    "x265": ("libx265", "hevc", {"preset": "medium", "tune": "zerolatency", "x265-params": "bframes=0:info=0:log-level=error"},
             (20, 26, 32, 38, 44, 51)),
    "AV1": ("libsvtav1", "libdav1d", {"preset": "8", "svtav1-params": "pred-struct=1:lookahead=0"}, (20, 30, 40, 50, 58, 63)),
    "x264": ("libx264", "h264", {"preset": "medium", "tune": "zerolatency", "bframes": "0"}, (20, 26, 32, 38, 44, 51)),
}

DESCRIPTION = __doc__.split("\n\n")[0] + """

Measures codec loss against an avatar-rendered source, not fidelity to the real person. The
default run renders --frames frames (the conventional codecs code all of them) and measures
every --stride-th; renders are cached in --cache, so reruns are fast."""


@dataclass
class Clip:
    """Reference frames: 8-bit and float renders of the measured frames."""

    rgb: np.ndarray  # [n, H, W, 3] uint8
    float16: np.ndarray  # [n, H, W, 3] uint16, round(65535 x): the float render to ~1e-5


# ------------------------------------------------------------------------------ rendering
def _render_cached(cache: Path, avatar, values: np.ndarray, label: str, threads: int) -> Clip:
    """Render ``values`` on ``avatar`` (CPU reference), cached under a key of both."""
    from tqdm import tqdm

    from refcodec.rdo.problem import cpu_render_function
    from refcodec.rdo.sensitivity import cache_key, fingerprint

    key = cache_key(fingerprint(avatar), np.ascontiguousarray(values, np.float32).tobytes(), "render512")
    path = cache / f"render-{key}.npz"
    if path.exists():
        with np.load(path) as z:
            return Clip(z["rgb"], z["float16"])
    render = cpu_render_function(avatar, threads)
    size = avatar.render.height, avatar.render.width
    rgb = np.empty((len(values), *size, 3), np.uint8)
    f16 = np.empty((len(values), *size, 3), np.uint16)
    for i, v in enumerate(tqdm(values, desc=f"render {label}", unit="frame", leave=False)):
        img = np.clip(render(np.asarray(v, np.float32)).reshape(*size, 3), 0.0, 1.0)
        rgb[i] = (img * 255.0 + 0.5).astype(np.uint8)
        f16[i] = (img * 65535.0 + 0.5).astype(np.uint16)
    cache.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.savez_compressed(buf, rgb=rgb, float16=f16)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(path)
    return Clip(rgb, f16)


# ------------------------------------------------------------------------------- metrics
def measure(ref: Clip, rgb: np.ndarray, float16: np.ndarray | None = None) -> dict:
    """Pooled 8-bit RGB PSNR, mean SSIM (8-bit) and pooled float PSNR of ``rgb`` against ``ref``."""
    import torch

    from refcodec.rdo.predict import psnr_from_mse
    from refcodec.render.metrics import ssim

    a = ref.rgb.astype(np.float64)
    mse8 = float(np.mean((rgb.astype(np.float64) - a) ** 2))
    test_f = (float16.astype(np.float64) / 65535.0) if float16 is not None else rgb.astype(np.float64) / 255.0
    msef = float(np.mean((test_f - ref.float16.astype(np.float64) / 65535.0) ** 2))
    ss = [ssim(torch.from_numpy(x.astype(np.float32) / 255), torch.from_numpy(y.astype(np.float32) / 255)) for x, y in zip(rgb, ref.rgb, strict=True)]
    return {"psnr_8bit_db": psnr_from_mse(mse8, 255.0), "ssim": float(np.mean(ss)), "psnr_float_db": psnr_from_mse(msef, 1.0)}


# ----------------------------------------------------------------------- conventional codecs
def code_video(frames: np.ndarray, encoder: str, decoder: str, options: dict, crf: int, rate: int = 30) -> tuple[int, np.ndarray]:
    """Code uint8 RGB frames (yuv420p) with a PyAV encoder; returns (total packet bytes, decoded RGB frames)."""
    from fractions import Fraction

    import av

    enc = av.CodecContext.create(encoder, "w")
    enc.width, enc.height, enc.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
    enc.time_base = Fraction(1, rate)
    enc.framerate = Fraction(rate, 1)
    enc.options = dict(options, crf=str(crf))
    packets = []
    for i, f in enumerate(frames):
        vf = av.VideoFrame.from_ndarray(f, format="rgb24").reformat(format="yuv420p")
        vf.pts = i
        packets += enc.encode(vf)
    packets += enc.encode(None)
    size = sum(p.size for p in packets)
    dec = av.CodecContext.create(decoder, "r")
    out = []
    for p in packets:
        out += [fr.to_ndarray(format="rgb24") for fr in dec.decode(p)]
    out += [fr.to_ndarray(format="rgb24") for fr in dec.decode(None)]
    if len(out) != len(frames):
        raise RuntimeError(f"{encoder}: {len(out)} frames decoded of {len(frames)}")
    return size, np.stack(out)


def conventional(source: Clip, measured: np.ndarray, seconds: float) -> tuple[list[dict], list[str]]:
    """Every codec of CODECS at its CRF sweep; notes for codecs PyAV lacks."""
    from tqdm import tqdm

    rows, notes = [], []
    try:
        import av  # noqa: F401
    except ImportError:
        return [], ["PyAV is not installed: the conventional codecs were skipped (pip install av)"]
    jobs = [(name, crf) for name, spec in CODECS.items() for crf in spec[3]]
    for name, crf in tqdm(jobs, desc="conventional codecs", unit="point", leave=False):
        enc, dec, opts, _ = CODECS[name]
        try:
            size, decoded = code_video(source.rgb, enc, dec, opts, crf)
        except (ValueError, RuntimeError, OSError) as exc:  # the build lacks the encoder or decoder
            note = f"{name} skipped: {type(exc).__name__}: {exc}"
            if note not in notes:
                notes.append(note)
            continue
        sub = Clip(source.rgb[measured], source.float16[measured])
        rows.append({"codec": name, "setting": f"crf {crf}", "kbps": size * 8 / seconds / 1000} | measure(sub, decoded[measured]))
    return rows, notes


# ------------------------------------------------------------------------------ FaceCodec
def _fc_row(codec: str, setting: str, data: bytes, fca_bytes: int, seconds: float, metrics: dict, **extra) -> dict:
    kbps = len(data) * 8 / seconds / 1000
    return {"codec": codec, "setting": setting, "kbps": kbps, "kbps_all_in": kbps + fca_bytes * 8 / CALL_SECONDS / 1000,
            "fcs_bytes": len(data), "fca_bytes": fca_bytes} | metrics | extra


def _decoded_clip(cache: Path, avatar, data: bytes, measured: np.ndarray, label: str, threads: int) -> tuple[np.ndarray, Clip]:
    from refcodec.render.inputs import fcs_frames

    values = fcs_frames(data, avatar).values
    return values, _render_cached(cache, avatar, values[measured], label, threads)


def facecodec(ctx: dict, track, source: Clip, measured: np.ndarray, seconds: float, uniform: tuple[int, ...], targets, ks) -> tuple[list, list]:
    """FaceCodec rows (uniform bit depths, RDO targets, bases of K coefficients) and the PSNR-vs-K table."""
    from tqdm import tqdm

    from refcodec.fcs.encoder import build_header, encode_track
    from refcodec.rdo import prepare, search_quality
    from refcodec.rdo.predict import render_calibration

    cache, threads = ctx["cache"], ctx["threads"]
    rows, by_k = [], []
    for name, (fca, avatar) in ctx["containers"].items():
        k = ctx["basis_k"].get(name)
        if k is not None and k not in ks:
            continue
        with tqdm(desc=f"render sensitivity of {name} (cached)", unit="render", leave=False) as bar:
            problem = prepare(avatar, track, cache, probe=ctx["probe"], threads=threads, progress=bar.update)
        ref = _render_cached(cache, avatar, problem.values[measured].astype(np.float32), f"{name} reference", threads)
        vs_source = measure(source, ref.rgb, ref.float16)
        if k is not None:
            by_k.append({"container": name, "k": k, "fca_bytes": len(fca)} | vs_source)
        if uniform and k is None:
            for bits in uniform:
                header = build_header(track, bit_depths=bits, intra_interval=30)
                data = encode_track(track, header)
                _, clip = _decoded_clip(cache, avatar, data, measured, f"{name} {bits} bits", threads)
                rows.append(_fc_row("FaceCodec", f"{name}, {bits} bits uniform", data, len(fca), seconds, measure(source, clip.rgb, clip.float16)))
        for target in (targets if k is None else BASIS_TARGETS):
            found = search_quality(problem, target, calibrate=render_calibration(avatar, problem.values, problem.sensitivity, threads=threads))
            if found is None:
                continue
            data, pred = found.coded.data, found.prediction
            _, clip = _decoded_clip(cache, avatar, data, measured, f"{name} {target:g} dB", threads)
            same_avatar = measure(ref, clip.rgb, clip.float16)
            rows.append(_fc_row(
                "FaceCodec RDO", f"{name}, --quality {target:g}", data, len(fca), seconds, measure(source, clip.rgb, clip.float16),
                target_db=target, predicted_db=pred.psnr_8bit, measured_same_avatar_db=same_avatar["psnr_8bit_db"],
                prediction_error_db=same_avatar["psnr_8bit_db"] - pred.psnr_8bit, dims_sent=int(found.coded.allocation.keep.sum()),
                settings=vars(found.coded.settings)))
    return rows, by_k


def containers(cache: Path, lam, probe, ks, label: str = "", default: bool = True) -> tuple[dict, dict]:
    """The default container (when ``default``) and one with a basis learned on ``probe`` per K, as (bytes,
    decoded avatar); ``label`` is appended to the basis containers' names. The containers are encoded on
    every run (seconds), so they always come from the current encoder; the learned bases are cached."""
    from refcodec.fca import PackConfig, decode_avatar, encode_avatar
    from refcodec.rdo import learn_avatar_basis

    out, basis_k = {}, {}
    for k in ((None,) if default else ()) + tuple(ks):
        name = "default" if k is None else f"basis K={k}{label}"
        avatar = lam if k is None else learn_avatar_basis(lam, probe, k, cache)
        data = encode_avatar(avatar, PackConfig())
        out[name] = (data, decode_avatar(data))
        if k is not None:
            basis_k[name] = k
    return out, basis_k


# -------------------------------------------------------------------------------- reports
def ratio_at(rows: list[dict], codec: str, psnr: float, fc_rows: list[dict], key: str = "kbps") -> float | None:
    """Rate of ``codec`` at ``psnr`` (log-rate interpolation) divided by FaceCodec RDO's."""

    def rate(points: list[tuple[float, float]]) -> float | None:
        pts = sorted(points)
        for (r0, p0), (r1, p1) in zip(pts, pts[1:], strict=False):
            if min(p0, p1) <= psnr <= max(p0, p1) and p0 != p1:
                return math.exp(math.log(r0) + (psnr - p0) / (p1 - p0) * (math.log(r1) - math.log(r0)))
        return None

    other = rate([(r["kbps"], r["psnr_8bit_db"]) for r in rows if r["codec"] == codec])
    mine = rate([(r[key], r["psnr_8bit_db"]) for r in fc_rows])
    return None if other is None or mine is None else other / mine


def markdown(result: dict) -> str:
    lines = [
        "# fcbench-rd: rate-distortion against x265, AV1 and x264", "",
        "Measures **codec loss against an avatar-rendered source, not fidelity to the real person**. The source is the "
        "uncompressed LAM avatar driven by the unquantized LAM track, rendered at 512x512 (CPU reference renderer), 8-bit RGB. "
        "FaceCodec's frames are the decoded container driven by the decoded `.fcs`. PSNR is pooled over the measured frames "
        "(10 log10(peak^2 / mean MSE)); SSIM is the mean over frames.", "",
        f"Run: {result['run']['frames']} frames ({result['run']['seconds']:.2f} s at 30 fps), PSNR/SSIM on every "
        f"{result['run']['stride']}-th ({result['run']['measured']} frames); {result['run']['machine']}; {result['run']['wall_s']:.0f} s.",
        "FaceCodec's all-in rate adds the container amortised over a 10-minute call (bytes x 8 / 600 s).", "",
        "## LAM track", "",
        "| codec | setting | kbit/s | all-in kbit/s | PSNR 8-bit dB | SSIM | float PSNR dB | predicted dB | same-avatar dB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def fmt(v, p=2):
        return "" if v is None else f"{v:.{p}f}"

    for r in sorted(result["lam"], key=lambda r: (r["codec"], r["kbps"])):
        lines.append(f"| {r['codec']} | {r['setting']} | {fmt(r['kbps'], 3)} | {fmt(r.get('kbps_all_in'), 3)} | {fmt(r['psnr_8bit_db'])} | "
                     f"{fmt(r['ssim'], 4)} | {fmt(r['psnr_float_db'])} | {fmt(r.get('predicted_db'))} | {fmt(r.get('measured_same_avatar_db'))} |")
    lines += ["", "## PSNR against K (container with a learned basis, unquantized coefficients, against the source)", "",
              "| container | K | container bytes | PSNR 8-bit dB | SSIM | float PSNR dB |", "|---|---:|---:|---:|---:|---:|"]
    for r in result["psnr_vs_k"]:
        lines.append(f"| {r['container']} | {r['k']} | {r['fca_bytes']} | {fmt(r['psnr_8bit_db'])} | {fmt(r['ssim'], 4)} | "
                     f"{fmt(r['psnr_float_db'])} |")
    lines += ["", "## Webcam tracks on LAM (FaceCodec)", "",
              "| track | setting | kbit/s | all-in kbit/s | PSNR 8-bit dB | SSIM | predicted dB | same-avatar dB |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
    for name, rows in result["webcam"].items():
        for r in rows:
            lines.append(f"| {name} | {r['setting']} | {fmt(r['kbps'], 3)} | {fmt(r['kbps_all_in'], 3)} | {fmt(r['psnr_8bit_db'])} | "
                         f"{fmt(r['ssim'], 4)} | {fmt(r.get('predicted_db'))} | {fmt(r.get('measured_same_avatar_db'))} |")
    lines += ["", "## Targets", ""]
    for k, v in result["targets"].items():
        lines.append(f"- {k}: {v}")
    lines += ["", *[f"- note: {n}" for n in result["notes"]], "", f"Plot: `{result['plot']}`.", ""]
    return "\n".join(lines)


def plot(result: dict, path: Path) -> str | None:
    """PSNR against kbit/s (log x) as PNG; None with a note when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    series: dict[str, list[tuple[float, float]]] = {}
    for r in result["lam"]:
        label = r["codec"] if r["codec"] != "FaceCodec RDO" else f"FaceCodec RDO ({r['setting'].split(',')[0]})"
        series.setdefault(label, []).append((r["kbps"], r["psnr_8bit_db"]))
        if "kbps_all_in" in r and r["codec"] == "FaceCodec RDO" and r["setting"].startswith("default"):
            series.setdefault("FaceCodec RDO (default), all-in 10 min", []).append((r["kbps_all_in"], r["psnr_8bit_db"]))
    for label, pts in sorted(series.items()):
        pts.sort()
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_xlabel("kbit/s")
    ax.set_ylabel("RGB PSNR, 8-bit (dB)")
    ax.set_title("LAM avatar, 512x512: codec loss against the avatar-rendered source")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    write_atomic(path, buf.getvalue(), "--out")
    return str(path)


def targets(lam: list[dict]) -> dict:
    rdo = [r for r in lam if r["codec"] == "FaceCodec RDO"]
    best = {t: min((r["kbps"] for r in rdo if r["psnr_8bit_db"] >= t), default=None) for t in (40.0, 50.0)}
    pred = [abs(r["prediction_error_db"]) for r in rdo]
    out = {
        "lowest kbit/s at >= 40 dB (target <= 1.0)": best[40.0], "met_40db_1kbps": best[40.0] is not None and best[40.0] <= 1.0,
        "lowest kbit/s at >= 50 dB (target <= 2.5)": best[50.0], "met_50db_2_5kbps": best[50.0] is not None and best[50.0] <= 2.5,
        "largest |predicted - measured| dB (target <= 1)": max(pred, default=None), "met_prediction": bool(pred) and max(pred) <= 1.0,
    }
    for codec in ("x265", "AV1"):
        for key in ("kbps", "kbps_all_in"):
            ratio = ratio_at(lam, codec, 40.0, rdo, key)
            out[f"{codec} rate / FaceCodec RDO rate at 40 dB ({key})"] = ratio
        out[f"met_100x_{codec}"] = (out[f"{codec} rate / FaceCodec RDO rate at 40 dB (kbps)"] or 0) >= 100
    return out


# ------------------------------------------------------------------------------------ main
def build_parser():
    ap = parser("fcbench-rd", DESCRIPTION, defaults_help=True)
    ap.add_argument("--frames", type=int_range(2, 973), default=300, help="LAM track frames rendered and coded (from the first)")
    ap.add_argument("--stride", type=int_range(1, 100), default=1, help="measure PSNR/SSIM on every N-th frame")
    ap.add_argument("--webcam-frames", type=int_range(0, 10000), default=90, help="frames of each webcam track (0 = skip them)")
    ap.add_argument("--basis", type=int_range(1, 52), action="append", default=None, metavar="K", help=f"basis sizes (default {BASIS_KS})")
    ap.add_argument("--no-codecs", action="store_true", help="skip the conventional codecs")
    ap.add_argument("--threads", type=int_range(1, 256), default=2, help="torch CPU threads for rendering")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "facecodec" / "rd_bench", help="render and sensitivity cache")
    ap.add_argument("--out", type=Path, default=REPO / "bench", help="output directory")
    return ap


@entry_point("fcbench-rd")
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    t_start = time.perf_counter()
    for p in (LAM_ZIP, LAM_TRACK):
        if not p.exists():
            raise file_error(p, "missing: the benchmark needs the bundled LAM avatar and track")
    out = make_out_dir(args.out)
    from refcodec.avatar.lam import load_lam_zip
    from refcodec.importers import load_track
    from refcodec.rdo import layout_values

    lam = load_lam_zip(str(LAM_ZIP))
    full = load_track(str(LAM_TRACK))
    track = full.select({})
    track.values = full.values[: args.frames]
    seconds = track.frames / 30.0
    measured = np.arange(0, track.frames, args.stride)
    ks = tuple(args.basis) if args.basis else BASIS_KS
    cache = args.cache
    notes: list[str] = []
    source_all = _render_cached(cache, lam, layout_values(track, lam.layout).astype(np.float32), "source", args.threads)
    source = Clip(source_all.rgb[measured], source_all.float16[measured])
    fcas, basis_k = containers(cache, lam, full, ks)
    # out of sample: bases learned only on the LAM frames after the measured ones
    heldout = full.select({})
    heldout.values = full.values[track.frames:]
    held_label = f" held-out (trained on LAM frames {track.frames}-{full.frames - 1}, not these)"
    if heldout.frames >= 30:
        more, more_k = containers(cache, lam, heldout, [k for k in ks if k >= 8], held_label, default=False)
        fcas |= more
        basis_k |= more_k
    ctx = {"cache": cache, "threads": args.threads, "containers": fcas, "basis_k": basis_k, "probe": full}
    lam_rows, by_k = facecodec(ctx, track, source, measured, seconds, UNIFORM_BITS, QUALITY_TARGETS, ks)
    for r in lam_rows:
        if r["codec"] == "FaceCodec RDO" and r["setting"].startswith("basis") and "held-out" not in r["setting"]:
            r["setting"] += " (basis trained on the whole LAM track, these frames included)"
    if not args.no_codecs:
        rows, codec_notes = conventional(source_all, measured, seconds)
        lam_rows += rows
        notes += codec_notes
    else:
        notes.append("conventional codecs skipped (--no-codecs)")
    webcam: dict[str, list[dict]] = {}
    if args.webcam_frames:
        for path in WEBCAM_TRACKS:
            if not path.exists():
                notes.append(f"webcam track {path} not found: skipped")
                continue
            wt = load_track(str(path))
            wt.values = wt.values[: args.webcam_frames]
            w_measured = np.arange(0, wt.frames, args.stride)
            w_source = _render_cached(cache, lam, layout_values(wt, lam.layout)[w_measured].astype(np.float32), f"source {path.stem}", args.threads)
            sub = {"containers": {"default": fcas["default"]}, "basis_k": {}}
            rows, _ = facecodec(ctx | sub, wt, w_source, w_measured, wt.frames * wt.frame_rate[1] / wt.frame_rate[0], (8,), BASIS_TARGETS, ())
            webcam[path.stem] = rows
    result = {
        "run": {"frames": track.frames, "stride": args.stride, "measured": len(measured), "seconds": seconds,
                "machine": f"{platform.machine()}, {platform.python_version()}, torch threads {args.threads}", "wall_s": 0.0,
                "webcam_frames": args.webcam_frames},
        "statement": "codec loss against an avatar-rendered source, not fidelity to the real person",
        "lam": lam_rows, "psnr_vs_k": by_k, "webcam": webcam, "notes": notes,
        "codecs": {k: {"encoder": v[0], "options": v[2], "crf": v[3]} for k, v in CODECS.items()},
    }
    result["targets"] = targets(lam_rows)
    plotted = plot(result, out / "rd_bench.png")
    result["plot"] = "rd_bench.png (next to this file)" if plotted else "none (matplotlib missing: pip install -e '.[bench]')"
    result["run"]["wall_s"] = time.perf_counter() - t_start
    write_atomic(out / "rd_bench.json", _json(result), "--out")
    write_atomic(out / "rd_bench.md", markdown(result), "--out")
    print(markdown(result))
    return 0


def _json(obj) -> str:
    import json

    return json.dumps(jsonable(obj), indent=1, allow_nan=False, default=str) + "\n"


if __name__ == "__main__":
    sys.exit(main())
