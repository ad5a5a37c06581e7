"""fcrender: render an avatar (.fca) driven by a parameter stream (.fcs) to MP4 or PNG frames."""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

from refcodec.errors import FcError

from ._cli import EXIT_CODES_HELP, EXIT_IO, EXIT_OK, fail, print_json, read_input

DESCRIPTION = """\
Render an avatar driven by a parameter stream (SPEC chapter 13) to an H.264 MP4 (-o x.mp4)
or to numbered PNG frames (-o a directory). The avatar is a .fca container (a LAM .zip or a
3DGS .ply also work); the stream is a .fcs file, decoded strictly, or an unquantized parameter
track (.json/.npz/.csv, as fcenc reads them). The camera is the avatar's default one; --yaw,
--pitch and --distance orbit it around the avatar (free viewpoint). The CPU reference renderer
is used unless CUDA is available (then gsplat), or as --backend says.

--side-by-side REF puts a reference next to each frame and reports the PSNR/SSIM against it:
REF is a video (.mp4 ...), an unquantized track (the reference render of the same avatar),
or another .fcs.
"""

EPILOG = f"""\
examples:
  fcrender avatar.fca talk.fcs -o talk.mp4
  fcrender avatar.fca talk.fcs -o frames/ --frames 10 --yaw 30 --size 256
  fcrender avatar.fca talk_8bit.fcs -o cmp.mp4 --side-by-side test_expression_1s.json --json

{EXIT_CODES_HELP}
"""


def _size(text: str) -> tuple[int, int]:
    try:
        w, _, h = text.lower().partition("x")
        return int(w), int(h or w)
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be N or WxH, got {text!r}") from None


def _colour(text: str) -> tuple[float, float, float]:
    named = {"white": (1.0, 1.0, 1.0), "black": (0.0, 0.0, 0.0), "grey": (0.5, 0.5, 0.5), "green": (0.0, 1.0, 0.0)}
    if text in named:
        return named[text]
    try:
        vals = tuple(float(v) for v in text.split(","))
    except ValueError:
        vals = ()
    if len(vals) != 3:
        raise argparse.ArgumentTypeError(f"background must be r,g,b in [0,1] or one of {sorted(named)}, got {text!r}")
    return vals


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="fcrender", description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("avatar", help="avatar: .fca (or LAM .zip, 3DGS .ply)")
    ap.add_argument("stream", help="parameters: .fcs stream or an unquantized track")
    ap.add_argument("-o", "--output", required=True, help="output .mp4, or a directory for PNG frames")
    ap.add_argument("--frames", type=int, default=None, metavar="N", help="render at most N frames")
    ap.add_argument("--start", type=int, default=0, metavar="I", help="first frame to render (default 0)")
    ap.add_argument("--size", type=_size, default=None, metavar="N|WxH", help="image size (default: the avatar's)")
    ap.add_argument("--background", type=_colour, default=None, metavar="R,G,B", help="background colour (default: the avatar's)")
    ap.add_argument("--yaw", type=float, default=0.0, help="orbit: degrees about the camera's up axis")
    ap.add_argument("--pitch", type=float, default=0.0, help="orbit: degrees above the avatar (-90..90)")
    ap.add_argument("--distance", type=float, default=None, help="orbit: camera distance to the avatar in metres")
    ap.add_argument("--side-by-side", metavar="REF", help="reference video, unquantized track or .fcs shown on the right")
    ap.add_argument("--backend", choices=["auto", "cpu", "gpu"], default="auto", help="renderer back-end (default auto)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    ap.add_argument("--crf", type=int, default=18, help="x264 quality for MP4 output (default 18)")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    ap.add_argument("--json", action="store_true", help="print a JSON summary (frames, fps, size, ...)")
    return ap


def orbit_camera(renderer, args):
    """The default camera resized, recoloured and orbited around the neutral avatar's centre."""
    from refcodec.render import Camera

    av = renderer.avatar
    w, h = args.size if args.size else (av.render.width, av.render.height)
    cam = Camera.from_defaults(av.render, w, h, args.background)
    if args.yaw == 0.0 and args.pitch == 0.0 and args.distance is None:
        return cam
    # The orbit centre: the median Gaussian of the neutral pose, projected onto the view axis.
    centre = np.median(renderer.gaussians(np.zeros(renderer.dims, np.float32)).positions, axis=0)
    depth = float(np.dot(cam.position - centre, cam.camera_to_world[:3, 2]))
    if not depth > 0:
        depth = float(np.linalg.norm(cam.position - centre)) or 1.0
    return cam.orbit(cam.look_target(depth), args.yaw, args.pitch, args.distance if args.distance is not None else depth)


def _reference(path: str, renderer, frames, first: int, count: int, cam):
    """Reference images for frames first..first+count-1: a video, or a render of other parameters."""
    from refcodec.render.inputs import TRACK_SUFFIXES, fcs_frames, track_frames
    from refcodec.render.media import VIDEO_SUFFIXES, read_video

    suffix = Path(path).suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return read_video(path, cam.width, cam.height, first, count)
    if suffix in TRACK_SUFFIXES:
        ref = track_frames(path, renderer.avatar).values
    else:
        ref = fcs_frames(read_input(path), renderer.avatar).values
    ref = ref[first : first + count]
    return (renderer.render(ref[i], cam) for i in range(ref.shape[0]))


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``fcrender``."""
    ap = build_parser()
    args = ap.parse_args(argv)
    if args.frames is not None and args.frames < 0 or args.start < 0:
        ap.error("--frames and --start must be >= 0")
    import torch
    from tqdm import tqdm

    from refcodec.render import Renderer, RenderError
    from refcodec.render.inputs import TRACK_SUFFIXES, fcs_frames, load_avatar, track_frames
    from refcodec.render.media import Mp4Writer, png_bytes
    from refcodec.render.metrics import psnr, ssim

    avatar_bytes = read_input(args.avatar) if Path(args.avatar).suffix.lower() != ".zip" else None
    if not Path(args.stream).exists():
        print(f"error: cannot read {args.stream}", file=sys.stderr)
        return EXIT_IO
    try:
        avatar = load_avatar(args.avatar, avatar_bytes)
        if Path(args.stream).suffix.lower() in TRACK_SUFFIXES:
            frames = track_frames(args.stream, avatar)
        else:
            bound = avatar_bytes if Path(args.avatar).suffix.lower() == ".fca" else None
            frames = fcs_frames(read_input(args.stream), avatar, bound)
    except FcError as err:
        return fail(err, args.json)
    except ValueError as exc:  # importer or avatar validation messages name their field
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        renderer = Renderer(avatar, backend=args.backend, threads=args.threads)
        cam = orbit_camera(renderer, args)
    except RenderError as exc:
        ap.error(str(exc))
    values = frames.values[args.start :]
    if args.frames is not None:
        values = values[: args.frames]
    n = values.shape[0]
    refs = None
    if args.side_by_side:
        try:
            refs = iter(_reference(args.side_by_side, renderer, frames, args.start, n, cam))
        except FcError as err:
            return fail(err, args.json)
    out = Path(args.output)
    mp4 = out.suffix.lower() == ".mp4"
    width = cam.width * (2 if refs is not None else 1)
    writer = Mp4Writer(out, frames.rate, width, cam.height, args.crf) if mp4 else None
    if not mp4:
        out.mkdir(parents=True, exist_ok=True)
    scores, render_s = [], 0.0
    try:
        for i in tqdm(range(n), desc="fcrender", unit="frame", disable=args.quiet or args.json, file=sys.stderr):
            t0 = time.perf_counter()
            img = renderer.render(values[i], cam)
            render_s += time.perf_counter() - t0
            if refs is not None:
                ref = next(refs, None)
                if ref is None:
                    ref = torch.zeros_like(img)  # the reference is shorter: black, and no score
                else:
                    scores.append((psnr(img, ref), ssim(img, ref)))
                img = torch.cat([img, ref], dim=1)
            if writer is not None:
                writer.write(img)
            else:
                (out / f"frame_{args.start + i:05d}.png").write_bytes(png_bytes(img))
    finally:
        if writer is not None:
            writer.close()
    summary = {
        "ok": True,
        "frames": n,
        "width": cam.width,
        "height": cam.height,
        "fps": n / render_s if render_s > 0 else None,
        "frame_rate": [frames.rate.numerator, frames.rate.denominator],
        "backend": renderer.backend,
        "output": str(out),
    }
    if refs is not None:
        finite = [p for p, _ in scores if math.isfinite(p)]
        summary["reference"] = args.side_by_side
        summary["compared_frames"] = len(scores)
        summary["psnr_mean"] = float(np.mean(finite)) if finite else (math.inf if scores else None)
        summary["psnr_min"] = min(p for p, _ in scores) if scores else None
        summary["ssim_mean"] = float(np.mean([s for _, s in scores])) if scores else None
    if args.json:
        print_json(summary)
    else:
        fps = f"{summary['fps']:.2f}" if summary["fps"] else "-"
        print(f"wrote {out}: {n} frame(s) {cam.width}x{cam.height}, render {fps} frames/s ({renderer.backend})")
        if refs is not None and scores:
            psnr_text = f"PSNR mean {summary['psnr_mean']:.2f} dB (min {summary['psnr_min']:.2f})"
            print(f"against {args.side_by_side}: {psnr_text}, SSIM mean {summary['ssim_mean']:.4f}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
