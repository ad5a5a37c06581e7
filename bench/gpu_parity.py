"""GPU check: gsplat against the CPU reference renderer, and gsplat frames/s (SPEC 13.5, R-89).

Run on a machine with CUDA and gsplat 1.5.3 (its kernels JIT-compile on first use):

    python -m bench.gpu_parity --frames 24 --out bench

For frames spread evenly over the LAM track, at two camera yaws, it renders the LAM avatar with
the CPU reference and with gsplat and reports the PSNR of one against the other (float and
8-bit RGB) and the largest pixel difference. It then times gsplat at the avatar's default
512x512 camera: rasterization of already-deformed Gaussians (median of timed batches) and the
whole path (deformation on the CPU, upload, rasterization). Writes gpu_parity.json and
gpu_parity.md. Without CUDA it exits with status 3 and says so.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
PARITY_DB = 50.0  # SPEC 13.5, R-89


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(1.0 / mse)


def _to8(img: np.ndarray) -> np.ndarray:
    return np.round(np.clip(img, 0.0, 1.0) * 255.0) / 255.0


def parity(avatar, values: np.ndarray, frames: int, yaws: list[float]) -> list[dict]:
    """CPU reference vs gsplat on ``frames`` frames of the track at each yaw."""
    from refcodec.render import Camera, Renderer, render_gaussians

    cpu = Renderer(avatar, backend="cpu")
    rows = []
    for yaw in yaws:
        cam = Camera.from_defaults(avatar.render)
        cam = cam.orbit(cam.look_target(0.74), yaw, 10.0)
        for i in np.linspace(0, len(values) - 1, frames).round().astype(int):
            g = cpu.gaussians(values[i])
            a = render_gaussians(g, cam, backend="cpu").cpu().numpy()
            b = render_gaussians(g, cam, backend="gpu").cpu().numpy()
            rows.append(
                {
                    "frame": int(i),
                    "yaw_deg": yaw,
                    "psnr_float_db": _psnr(a, b),
                    "psnr_8bit_db": _psnr(_to8(a), _to8(b)),
                    "max_abs_diff": float(np.abs(a - b).max()),
                }
            )
    return rows


def gpu_fps(avatar, values: np.ndarray, frames: int) -> dict:
    """gsplat frames/s at the default camera: rasterization only, and end to end."""
    import torch

    from refcodec.render import Renderer
    from refcodec.render.gpu import render_gsplat
    from refcodec.render.project import GaussianTensors

    r = Renderer(avatar, backend="gpu")
    g = GaussianTensors.from_gaussians(r.gaussians(values[0]), "cuda")
    for _ in range(20):
        render_gsplat(g, r.camera)
    torch.cuda.synchronize()
    batches = []
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(100):
            render_gsplat(g, r.camera)
        torch.cuda.synchronize()
        batches.append((time.perf_counter() - t0) / 100)
    e2e = []
    for i in range(frames):
        t0 = time.perf_counter()
        r.render(values[i % len(values)])
        torch.cuda.synchronize()
        e2e.append(time.perf_counter() - t0)
    return {
        "device": torch.cuda.get_device_name(0),
        "size": [r.camera.width, r.camera.height],
        "raster_median_s": statistics.median(batches),
        "raster_fps": 1.0 / statistics.median(batches),
        "end_to_end_median_s": statistics.median(e2e),
        "end_to_end_fps": 1.0 / statistics.median(e2e),
        "end_to_end_frames": frames,
    }


def cpu_fps(avatar, values: np.ndarray, frames: int) -> dict:
    """The CPU reference on the same machine, same camera, for a side-by-side ratio."""
    import torch

    from refcodec.render import Renderer

    r = Renderer(avatar, backend="cpu")
    r.render(values[0])
    times = []
    for i in range(frames):
        t0 = time.perf_counter()
        r.render(values[i % len(values)])
        times.append(time.perf_counter() - t0)
    return {"threads": torch.get_num_threads(), "median_s": statistics.median(times), "fps": 1.0 / statistics.median(times), "frames": frames}


def write_markdown(report: dict, path: Path) -> None:
    rows = report["parity"]
    lines = [
        "# GPU check: gsplat against the CPU reference (SPEC 13.5, R-89)",
        "",
        f"Machine: {report['machine']}; GPU: {report['gpu']['device']}; avatar: {report['avatar']} ({report['gaussians']} Gaussians).",
        "",
        "| yaw | frames | min PSNR float (dB) | median PSNR float (dB) | min PSNR 8-bit (dB) | max abs diff |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for yaw in sorted({r["yaw_deg"] for r in rows}):
        sel = [r for r in rows if r["yaw_deg"] == yaw]
        pf = [r["psnr_float_db"] for r in sel]
        p8 = [r["psnr_8bit_db"] for r in sel]
        worst = max(r["max_abs_diff"] for r in sel)
        lines.append(f"| {yaw:g}° | {len(sel)} | {min(pf):.2f} | {statistics.median(pf):.2f} | {min(p8):.2f} | {worst:.4f} |")
    g, c = report["gpu"], report["cpu"]
    size = f"{g['size'][0]}x{g['size'][1]}"
    lines += [
        "",
        f"Parity threshold {PARITY_DB} dB: {'met' if report['parity_met'] else 'NOT met'} on every frame.",
        "",
        "| renderer | size | median s/frame | frames/s |",
        "|---|---|---:|---:|",
        f"| gsplat, rasterization only | {size} | {g['raster_median_s']:.5f} | {g['raster_fps']:.0f} |",
        f"| gsplat, end to end (CPU deformation + upload) | {size} | {g['end_to_end_median_s']:.5f} | {g['end_to_end_fps']:.0f} |",
        f"| CPU reference, {c['threads']} threads, same machine | {size} | {c['median_s']:.4f} | {c['fps']:.2f} |",
        "",
        "Medians of timed runs; the ratio between rows is what carries over to another machine.",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.gpu_parity", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=24, help="track frames compared per yaw (default 24)")
    ap.add_argument("--out", type=Path, default=REPO / "bench", help="output directory (default: bench/)")
    args = ap.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print("error: no CUDA device: the gsplat check needs one", file=sys.stderr)
        return 3
    from refcodec.avatar.lam import load_lam_zip
    from refcodec.render.inputs import track_frames

    lam = REPO / "samples/lam_p2-1/p2-1.zip"
    avatar = load_lam_zip(lam)
    values = track_frames(REPO / "samples/lam_p2-1/test_expression_1s.json", avatar).values
    report = {
        "machine": f"{platform.machine()}, Python {platform.python_version()}, torch {torch.__version__}",
        "avatar": str(lam.relative_to(REPO)),
        "gaussians": avatar.gaussians.count,
    }
    t0 = time.perf_counter()
    report["parity"] = parity(avatar, values, args.frames, [0.0, 35.0])
    report["parity_met"] = all(r["psnr_float_db"] >= PARITY_DB for r in report["parity"])
    print(f"parity: {len(report['parity'])} renders in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    report["gpu"] = gpu_fps(avatar, values, 200)
    report["cpu"] = cpu_fps(avatar, values, 10)
    args.out.mkdir(parents=True, exist_ok=True)
    from tools._cli import jsonable

    (args.out / "gpu_parity.json").write_text(json.dumps(jsonable(report), indent=2) + "\n", encoding="utf-8")
    write_markdown(report, args.out / "gpu_parity.md")
    print((args.out / "gpu_parity.md").read_text(encoding="utf-8"))
    return 0 if report["parity_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
