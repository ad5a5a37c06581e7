"""fcbench-render: render speed and render quality of the reference renderer on the LAM avatar.

Measures, in one run (numbers are from this machine only):

- CPU frames/s at 512x512 with ``torch.set_num_threads(--threads)`` (default 2): median time of
  --speed-frames frames of the real LAM track, deformation included, plus the split into
  deformation, projection and compositing;
- GPU frames/s (gsplat) when CUDA is available, with the GPU model;
- with --psnr-frames N (N > 0; 0 = the whole 973-frame track): the render PSNR/SSIM of the
  8-bit and 10-bit coded parameters (fcenc defaults, decoded .fcs) against the unquantized
  track, and of the default .fca container against the uncompressed avatar, over N frames spread
  evenly over the track. At about 0.4 s a render, the whole track takes tens of minutes.

Writes bench/render_bench.json and bench/render_bench.md and checks the project's render targets.
"""

from __future__ import annotations

import json
import math
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from ._cli import entry_point, file_error, int_range, jsonable, make_out_dir, parser, write_atomic

REPO = Path(__file__).resolve().parent.parent
LAM_ZIPS = [REPO / "samples/lam_p2-1/p2-1.zip", Path("/work/shared/data/lam_p2-1/p2-1.zip")]
LAM_TRACKS = [REPO / "samples/lam_p2-1/test_expression_1s.json", Path("/work/shared/data/lam_p2-1/test_expression_1s.json")]
TARGETS = {"cpu_fps": 2.5, "gpu_fps": 500.0, "container_psnr_drop_db": 0.2, "psnr_8bit_db": 40.0}


def _first(paths: list[Path]) -> Path | None:
    return next((p for p in paths if p.exists()), None)


def cpu_speed(avatar, values: np.ndarray, frames: int) -> dict:
    """Median per-frame times of the CPU reference at the avatar's default 512x512 camera."""
    import torch

    from refcodec.render import Renderer
    from refcodec.render.composite import composite
    from refcodec.render.project import GaussianTensors, project

    r = Renderer(avatar, backend="cpu")
    cam = r.camera
    bg = torch.tensor(cam.background, dtype=torch.float32)
    r.render(values[0])  # warm-up
    total, deform, proj, comp = [], [], [], []
    idx = np.linspace(0, len(values) - 1, frames).round().astype(int)
    for i in idx:
        t0 = time.perf_counter()
        g = r.gaussians(values[i])
        t1 = time.perf_counter()
        p = project(GaussianTensors.from_gaussians(g), cam)
        t2 = time.perf_counter()
        composite(p, cam.width, cam.height, bg)
        t3 = time.perf_counter()
        deform.append(t1 - t0)
        proj.append(t2 - t1)
        comp.append(t3 - t2)
        total.append(t3 - t0)
    med = statistics.median(total)
    return {
        "threads": torch.get_num_threads(),
        "size": [cam.width, cam.height],
        "frames": len(total),
        "median_s": med,
        "fps": 1.0 / med,
        "median_deform_s": statistics.median(deform),
        "median_project_s": statistics.median(proj),
        "median_composite_s": statistics.median(comp),
        "runs_s": [round(x, 4) for x in total],
    }


def gpu_speed(avatar, values: np.ndarray, frames: int) -> dict | None:
    """gsplat frames/s at 512x512 (rasterization of pre-deformed Gaussians, and end to end)."""
    import torch

    if not torch.cuda.is_available():
        return None
    from refcodec.render import Renderer
    from refcodec.render.gpu import render_gsplat
    from refcodec.render.project import GaussianTensors

    r = Renderer(avatar, backend="gpu")
    g = GaussianTensors.from_gaussians(r.gaussians(values[0]), "cuda")
    for _ in range(10):
        render_gsplat(g, r.camera)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    n = max(frames, 100)
    for _ in range(n):
        render_gsplat(g, r.camera)
    torch.cuda.synchronize()
    raster = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    for i in range(frames):
        r.render(values[i % len(values)])
    torch.cuda.synchronize()
    e2e = (time.perf_counter() - t0) / frames
    return {"device": torch.cuda.get_device_name(0), "raster_fps": 1.0 / raster, "end_to_end_fps": 1.0 / e2e, "frames": n}


def _summary(scores: list[tuple[float, float]]) -> dict:
    ps = [p for p, _ in scores]
    finite = [p for p in ps if math.isfinite(p)]
    return {
        "frames": len(scores),
        "psnr_mean": statistics.fmean(finite) if finite else math.inf,
        "psnr_min": min(ps),
        "ssim_mean": statistics.fmean(s for _, s in scores),
        "ssim_min": min(s for _, s in scores),
    }


def quality(avatar, lam_track: Path, frames: int) -> dict:
    """Render PSNR/SSIM against the reference render (uncompressed avatar, unquantized track):
    8- and 10-bit coded parameters, the default container, and both together. Each reference
    frame is rendered once and compared with the four test renders of the same frame."""
    from tqdm import tqdm

    from refcodec.fca import decode_avatar, encode_avatar
    from refcodec.fcs.encoder import EncoderConfig, build_header, encode_track
    from refcodec.importers import load_track
    from refcodec.render import Renderer
    from refcodec.render.inputs import fcs_frames, track_frames
    from refcodec.render.metrics import psnr, ssim

    track = load_track(lam_track)
    ref = track_frames(lam_track, avatar).values
    n = len(ref) if frames == 0 else min(frames, len(ref))
    idx = np.linspace(0, len(ref) - 1, n).round().astype(int)
    out = {"track": str(lam_track), "frames_in_track": len(ref), "frame_indices": idx.tolist()}
    interval = round(track.frame_rate[0] / track.frame_rate[1])
    coded = {}
    for bits in (8, 10):
        data = encode_track(track, build_header(track, bits, interval), EncoderConfig(intra_interval=interval))
        coded[bits] = fcs_frames(data, avatar).values
        out[f"params_{bits}bit"] = {"kbps": len(data) * 8 / (track.frames * track.frame_rate[1] / track.frame_rate[0]) / 1000}
    blob = encode_avatar(avatar)
    out["container_default"] = {"bytes": len(blob)}
    r_ref, r_packed = Renderer(avatar, backend="cpu"), Renderer(decode_avatar(blob), backend="cpu")
    cases = {
        "params_8bit": (r_ref, coded[8]),
        "params_10bit": (r_ref, coded[10]),
        "container_default": (r_packed, ref),
        "pipeline_8bit": (r_packed, coded[8]),
    }
    scores: dict[str, list] = {k: [] for k in cases}
    for i in tqdm(idx, desc="quality", unit="frame", file=sys.stderr, mininterval=30):
        reference = r_ref.render(ref[i])
        for key, (renderer, values) in cases.items():
            img = renderer.render(values[i])
            scores[key].append((psnr(img, reference), ssim(img, reference)))
    for key, sc in scores.items():
        out[key] = {**out.get(key, {}), **_summary(sc)}
    return out


def write_markdown(report: dict, path: Path) -> None:
    cpu = report["cpu"]
    lines = [
        "# Render benchmark",
        "",
        f"Generated by `fcbench-render` on {report['machine']} ({report['cpus']} CPUs visible). Avatar: {report['avatar']} "
        f"({report['gaussians']:,} Gaussians, SH degree {report['sh_degree']}). One run; numbers vary with machine load "
        f"(load average before the run: {', '.join(str(x) for x in report['load_average_before'])}).",
        "",
        "## Speed at 512x512",
        "",
        "| back-end | frames/s | median ms/frame | deform ms | project ms | composite ms |",
        "|---|---:|---:|---:|---:|---:|",
        f"| CPU torch reference, {cpu['threads']} threads | {cpu['fps']:.2f} | {cpu['median_s'] * 1e3:.0f} | "
        f"{cpu['median_deform_s'] * 1e3:.0f} | {cpu['median_project_s'] * 1e3:.0f} | {cpu['median_composite_s'] * 1e3:.0f} |",
    ]
    for c in report.get("cpu_other_threads", []):
        lines.append(
            f"| CPU torch reference, {c['threads']} thread(s) | {c['fps']:.2f} | {c['median_s'] * 1e3:.0f} | "
            f"{c['median_deform_s'] * 1e3:.0f} | {c['median_project_s'] * 1e3:.0f} | {c['median_composite_s'] * 1e3:.0f} |"
        )
    gpu = report.get("gpu")
    if gpu:
        lines.append(f"| gsplat on {gpu['device']} (rasterization only) | {gpu['raster_fps']:.0f} | {1e3 / gpu['raster_fps']:.2f} | | | |")
        lines.append(
            f"| gsplat on {gpu['device']} (deformation on CPU included) | {gpu['end_to_end_fps']:.1f} | {1e3 / gpu['end_to_end_fps']:.1f} | | | |"
        )
    else:
        lines.append("| gsplat (GPU) | not measured: no CUDA device on this machine | | | | |")
    lines += ["", f"CPU: median over {cpu['frames']} frames of the LAM track, deformation included.", ""]
    q = report.get("quality")
    if q:
        lines += [
            "## Render quality against the reference render",
            "",
            f"Reference: the uncompressed avatar driven by the unquantized track ({q['track']}), {len(q['frame_indices'])} of its "
            f"{q['frames_in_track']} frames, evenly spread. PSNR over RGB in [0, 1]; SSIM 11x11 Gaussian window.",
            "",
            "| test render | rate / size | PSNR mean dB | PSNR min dB | SSIM mean | SSIM min |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for key, label, size in (
            ("params_8bit", "8-bit coded parameters", f"{q['params_8bit']['kbps']:.2f} kbit/s"),
            ("params_10bit", "10-bit coded parameters", f"{q['params_10bit']['kbps']:.2f} kbit/s"),
            ("container_default", "default .fca container, unquantized parameters", f"{q['container_default']['bytes']:,} B"),
            ("pipeline_8bit", "default .fca container, 8-bit coded parameters", ""),
        ):
            r = q[key]
            lines.append(f"| {label} | {size} | {r['psnr_mean']:.2f} | {r['psnr_min']:.2f} | {r['ssim_mean']:.5f} | {r['ssim_min']:.5f} |")
        lines.append("")
    else:
        lines += ["Render quality not measured in this run (use --psnr-frames N, 0 = all frames).", ""]
    lines += ["## Targets", "", "| measure | value | target | met |", "|---|---:|---|---|"]
    lines += [f"| {name} | {value} | {target} | {'yes' if ok else 'no'} |" for name, value, target, ok in report["verdicts"]]
    write_atomic(path, "\n".join(lines) + "\n", "--out")


def verdicts(report: dict) -> list:
    out = [("CPU frames/s at 512x512", round(report["cpu"]["fps"], 2), f">= {TARGETS['cpu_fps']}", report["cpu"]["fps"] >= TARGETS["cpu_fps"])]
    if report.get("gpu"):
        fps = report["gpu"]["raster_fps"]
        out.append(("GPU frames/s at 512x512 (rasterization)", round(fps), f">= {TARGETS['gpu_fps']:.0f}", fps >= TARGETS["gpu_fps"]))
    q = report.get("quality")
    if q:
        p8 = q["params_8bit"]["psnr_min"]
        out.append(("8-bit parameters, min render PSNR dB", round(p8, 2), f">= {TARGETS['psnr_8bit_db']}", p8 >= TARGETS["psnr_8bit_db"]))
        # The literal drop: what the container costs the 8-bit pipeline's PSNR against the reference render.
        drop = q["params_8bit"]["psnr_mean"] - q["pipeline_8bit"]["psnr_mean"]
        target = f"<= {TARGETS['container_psnr_drop_db']}"
        out.append(("container: drop of the 8-bit render PSNR, dB", round(drop, 3), target, drop <= TARGETS["container_psnr_drop_db"]))
        # The same container error added to a render that is 40 dB from its reference (MSEs add).
        c = q["container_default"]["psnr_mean"]
        drop40 = 10 * math.log10(1 + 10 ** ((TARGETS["psnr_8bit_db"] - c) / 10))
        out.append(("container: drop of a 40 dB render's PSNR, dB", round(drop40, 4), target, drop40 <= TARGETS["container_psnr_drop_db"]))
    return out


@entry_point("fcbench-render")
def main(argv: list[str] | None = None) -> int:
    """Entry point of ``fcbench-render``."""
    ap = parser("fcbench-render", __doc__)
    ap.add_argument("--lam", type=Path, default=None, help="the LAM avatar zip (default: samples/ then ../shared)")
    ap.add_argument("--track", type=Path, default=None, help="the LAM expression track (default: samples/ then ../shared)")
    ap.add_argument("--out", type=Path, default=REPO / "bench", help="output directory (default: %(default)s)")
    ap.add_argument("--threads", type=int_range(1), nargs="+", default=[2],
                    help="torch CPU threads of the speed runs; the first is the headline (default 2)")
    ap.add_argument("--quality-threads", type=int_range(1), default=None,
                    help="torch CPU threads of the quality renders (default: the first --threads)")
    ap.add_argument("--speed-frames", type=int_range(1), default=15, help="frames timed on the CPU (default 15)")
    ap.add_argument("--psnr-frames", type=int_range(0), default=None, metavar="N", help="also measure render quality over N frames (0 = all)")
    args = ap.parse_args(argv)
    import os

    import torch

    from refcodec.avatar.lam import load_lam_zip
    from refcodec.render.inputs import track_frames

    lam, lam_track = args.lam or _first(LAM_ZIPS), args.track or _first(LAM_TRACKS)
    if lam is None or lam_track is None:
        raise file_error("samples/lam_p2-1", "the LAM avatar zip or its track is missing; give --lam and --track")
    for path, option in ((lam, "--lam"), (lam_track, "--track")):
        if not path.is_file():
            raise file_error(path, f"cannot read {option}: no such file")
    avatar = load_lam_zip(lam)
    values = track_frames(lam_track, avatar).values
    print("speed: CPU ...", file=sys.stderr)
    report = {
        "machine": f"{platform.machine()} {platform.system()}, Python {platform.python_version()}, torch {torch.__version__}",
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "avatar": str(lam.relative_to(REPO)) if lam.is_relative_to(REPO) else str(lam),
        "gaussians": avatar.gaussians.count,
        "sh_degree": avatar.gaussians.sh_degree,
    }
    runs = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        runs.append(cpu_speed(avatar, values, args.speed_frames))
    report["cpu"], report["cpu_other_threads"] = runs[0], runs[1:]
    report["gpu"] = gpu_speed(avatar, values, args.speed_frames)
    torch.set_num_threads(args.quality_threads or args.threads[0])
    if args.psnr_frames is not None:
        report["quality"] = quality(avatar, lam_track, args.psnr_frames)
        report["quality"]["track"] = str(lam_track.relative_to(REPO)) if lam_track.is_relative_to(REPO) else str(lam_track)
    report["targets"] = TARGETS
    report["verdicts"] = verdicts(report)
    make_out_dir(args.out)
    write_atomic(args.out / "render_bench.json", json.dumps(jsonable(report), indent=2) + "\n", "--out")
    write_markdown(report, args.out / "render_bench.md")
    for name, value, target, ok in report["verdicts"]:
        print(f"{name}: {value} (target {target}) {'met' if ok else 'NOT met'}")
    print(f"wrote {args.out / 'render_bench.json'} and {args.out / 'render_bench.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
