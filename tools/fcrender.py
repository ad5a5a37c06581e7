"""fcrender: render an avatar (.fca) driven by a parameter stream (.fcs) to MP4 or PNG frames."""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

from refcodec.errors import FcError

from ._cli import (
    EXIT_OK,
    atomic_directory,
    atomic_output,
    check_output,
    entry_point,
    fail,
    file_error,
    float_range,
    int_range,
    parser,
    print_json,
    read_input,
    unreadable,
    usage_error,
)

#: -o suffixes: an MP4 file; no suffix (or an existing directory, or a trailing "/"): PNG frames.
VIDEO_OUTPUT_SUFFIXES = (".mp4",)
#: --distance bound in metres: the renderer works in binary32 (SPEC 13.3, R-83 needs a finite camera),
#: and from 1,000 km an avatar covers no pixel, so larger distances only risk overflow.
MAX_DISTANCE_M = 1e6
#: x264's CRF scale.
CRF_RANGE = (0, 51)
#: RenderError fields (SPEC 13.3, R-83) that come from a command-line option, by prefix.
OPTION_OF_FIELD = {
    "orbit.distance": "--distance", "orbit.pitch": "--pitch", "orbit.yaw": "--yaw", "orbit.target": "--distance",
    "camera.width": "--size", "camera.height": "--size", "camera.background": "--background", "backend": "--backend",
}

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

EPILOG = """\
examples:
  fcrender avatar.fca talk.fcs -o talk.mp4
  fcrender avatar.fca talk.fcs -o frames/ --frames 10 --yaw 30 --size 256
  fcrender avatar.fca talk_8bit.fcs -o cmp.mp4 --side-by-side test_expression_1s.json --json

output: -o NAME.mp4 writes an H.264 MP4; -o DIR (no suffix, an existing directory, or a name
ending in /) writes DIR/frame_NNNNN.png. Both are written next to the target first and moved
into place when the render is complete, so an interrupted run leaves the old output.
"""


def _size(text: str) -> tuple[int, int]:
    from refcodec.render import MAX_IMAGE_SIDE

    try:
        w, _, h = text.lower().partition("x")
        size = int(w), int(h or w)
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be N or WxH, got {text!r}") from None
    if not all(1 <= v <= MAX_IMAGE_SIDE for v in size):
        raise argparse.ArgumentTypeError(f"{text}: width and height must be in 1..{MAX_IMAGE_SIDE}")
    return size


def _colour(text: str) -> tuple[float, float, float]:
    named = {"white": (1.0, 1.0, 1.0), "black": (0.0, 0.0, 0.0), "grey": (0.5, 0.5, 0.5), "green": (0.0, 1.0, 0.0)}
    if text in named:
        return named[text]
    try:
        vals = tuple(float(v) for v in text.split(","))
    except ValueError:
        vals = ()
    if len(vals) != 3 or not all(0.0 <= v <= 1.0 for v in vals):
        raise argparse.ArgumentTypeError(f"background must be r,g,b in [0,1] or one of {sorted(named)}, got {text!r}")
    return vals


def build_parser() -> argparse.ArgumentParser:
    """fcrender's command line."""
    ap = parser("fcrender", DESCRIPTION, EPILOG)
    ap.add_argument("avatar", help="avatar: .fca (or LAM .zip, 3DGS .ply)")
    ap.add_argument("stream", help="parameters: .fcs stream or an unquantized track")
    ap.add_argument("-o", "--output", required=True, help="output .mp4, or a directory for PNG frames")
    ap.add_argument("--frames", type=int_range(1), default=None, metavar="N", help="render at most N frames (N >= 1)")
    ap.add_argument("--start", type=int_range(0), default=0, metavar="I", help="first frame to render, 0..frames-1 (default 0)")
    ap.add_argument("--size", type=_size, default=None, metavar="N|WxH", help="image size (default: the avatar's)")
    ap.add_argument("--background", type=_colour, default=None, metavar="R,G,B", help="background colour (default: the avatar's)")
    ap.add_argument("--yaw", type=float_range(), default=0.0, help="orbit: degrees about the camera's up axis")
    ap.add_argument("--pitch", type=float_range(-90.0, 90.0), default=0.0, help="orbit: degrees above the avatar (-90..90)")
    ap.add_argument("--distance", type=float_range(0.0, MAX_DISTANCE_M, lo_open=True), default=None,
                    help=f"orbit: camera distance to the avatar in metres (> 0 and <= {MAX_DISTANCE_M:g})")
    ap.add_argument("--side-by-side", metavar="REF", help="reference video, unquantized track or .fcs shown on the right")
    ap.add_argument("--backend", choices=["auto", "cpu", "gpu"], default="auto", help="renderer back-end (default auto)")
    ap.add_argument("--threads", type=int_range(1), default=None, help="torch CPU threads (>= 1)")
    ap.add_argument("--crf", type=int_range(*CRF_RANGE), default=18, help=f"x264 quality for MP4 output, {CRF_RANGE[0]}..{CRF_RANGE[1]} (default 18)")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    ap.add_argument("--json", action="store_true", help="print a JSON summary (frames, fps, size, ...)")
    return ap


def output_kind(path: str) -> str:
    """``"mp4"`` or ``"png"`` for -o, or a usage error naming the supported forms."""
    p = Path(path)
    if p.suffix.lower() in VIDEO_OUTPUT_SUFFIXES:
        return "mp4"
    if p.is_dir() or path.endswith(("/", "\\")) or not p.suffix:
        return "png"
    raise usage_error("-o", f"unsupported output suffix {p.suffix!r}: use {', '.join(VIDEO_OUTPUT_SUFFIXES)} for a video "
                            "or a directory (no suffix) for PNG frames")


def _check_output(path: str, kind: str) -> None:
    """Exit 3 before any rendering if the output cannot be written."""
    if kind == "mp4":
        check_output(path)
        return
    p = Path(path.rstrip("/\\") or path)
    if p.exists() and not p.is_dir():
        raise file_error(path, "cannot write -o: it exists and is not a directory")
    if not p.parent.is_dir():
        raise file_error(path, f"cannot write -o: the directory {p.parent} does not exist")


def _option_error(exc) -> Exception:
    """A RenderError of a command-line option as a usage error naming the option; others unchanged."""
    option = OPTION_OF_FIELD.get(exc.field)
    return usage_error(option, exc.message) if option else exc


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


@entry_point("fcrender")
def main(argv: list[str] | None = None) -> int:
    """Entry point of ``fcrender``."""
    ap = build_parser()
    args = ap.parse_args(argv)
    kind = output_kind(args.output)
    import torch
    from tqdm import tqdm

    from refcodec.render import Renderer, RenderError
    from refcodec.render.inputs import TRACK_SUFFIXES, fcs_frames, load_avatar, track_frames
    from refcodec.render.media import Mp4Writer, png_bytes
    from refcodec.render.metrics import psnr, ssim

    _check_output(args.output, kind)
    avatar_bytes = read_input(args.avatar) if Path(args.avatar).suffix.lower() != ".zip" else None
    stream_is_track = Path(args.stream).suffix.lower() in TRACK_SUFFIXES
    stream_bytes = read_input(args.stream)  # exit 3 now if it cannot be read
    try:
        try:
            avatar = load_avatar(args.avatar, avatar_bytes)
        except ValueError as exc:  # not an avatar format (RenderError: a bad value inside one, exit 16 + E_VALUE)
            if isinstance(exc, RenderError):
                raise
            raise unreadable(args.avatar, exc) from None
        try:
            if stream_is_track:
                frames = track_frames(args.stream, avatar)
            else:
                bound = avatar_bytes if Path(args.avatar).suffix.lower() == ".fca" else None
                frames = fcs_frames(stream_bytes, avatar, bound)
        except ValueError as exc:  # an importer's message names the file and field
            if isinstance(exc, RenderError):
                raise
            raise unreadable(args.stream, exc) from None
    except FcError as err:
        return fail(err, args.json)
    total = frames.values.shape[0]
    if total == 0:
        raise file_error(args.stream, "holds no frame to render")
    if args.start >= total:
        raise usage_error("--start", f"{args.start} is past the last frame: the stream has {total} frame(s), so --start is 0..{total - 1}")
    try:
        renderer = Renderer(avatar, backend=args.backend, threads=args.threads)
        cam = orbit_camera(renderer, args)
    except RenderError as exc:
        raise _option_error(exc) from None
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
    width = cam.width * (2 if refs is not None else 1)
    scores: list[tuple[float, float]] = []
    render_s = 0.0

    def frame_images():
        nonlocal render_s
        for i in tqdm(range(n), desc="fcrender", unit="frame", disable=args.quiet or args.json or not sys.stderr.isatty(), file=sys.stderr):
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
            yield i, img

    if kind == "mp4":
        with atomic_output(out) as tmp:  # the temporary file keeps the .mp4 suffix for PyAV
            writer = Mp4Writer(tmp, frames.rate, width, cam.height, args.crf)
            try:
                for _, img in frame_images():
                    writer.write(img)
            finally:
                writer.close()
    else:
        with atomic_directory(out, stale="frame_*.png") as tmp:
            for i, img in frame_images():
                (tmp / f"frame_{args.start + i:05d}.png").write_bytes(png_bytes(img))
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
