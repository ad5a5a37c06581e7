"""fctrack: video -> parameter track with the MediaPipe Face Landmarker (a real sender-side extractor).

Needs the optional dependencies of the ``track`` extra (``pip install -e .[track]``: mediapipe, av).
"""

from __future__ import annotations

import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from refcodec.importers.rotation import rotation_log
from refcodec.spec_tables import arkit52_names
from refcodec.track import Track, TrackGroup

from ._cli import EXIT_OK, atomic_output, check_output, entry_point, file_error, float_range, int_range, make_out_dir, parser, print_json, usage_error

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "samples" / "models" / "face_landmarker_v2_with_blendshapes.task"
#: MediaPipe's facial transformation matrix is in centimetres; tracks carry metres.
CM_TO_M = 0.01

DESCRIPTION = """\
Track a talking-face video into a FaceCodec parameter track (npz or csv) with the MediaPipe
Face Landmarker (running mode VIDEO, one face). Output groups:
  ARKIT52           51 ARKit blendshape scores in [0, 1] (MediaPipe has no tongueOut; its
                    '_neutral' score is dropped), canonical order with an index map
  HEAD_ROTATION     axis-angle (radians) of the facial transformation matrix's rotation
  HEAD_TRANSLATION  the matrix's translation, converted from centimetres to metres
Frames where no face is found repeat the previous frame's values (leading ones take the
first tracked frame) and are counted in the summary. The frame rate comes from the video.
"""

EPILOG = """\
example:
  fctrack samples/aniportrait/pose_ref_video.mp4 -o out/clip.npz --json
  fcenc out/clip.npz
The output's directory is created if needed. fctrack's own statuses: 1 no face in any frame;
4 mediapipe or av not installed (pip install -e .[track]); a video FFmpeg cannot decode exits 3."""

EXIT_NO_FACE = 1
EXIT_MISSING_DEPS = 4


def blendshape_index_map(category_names: list[str]) -> tuple[list[int], list[int]]:
    """Map MediaPipe blendshape categories onto the canonical ARKit-52 order.

    Returns ``(source_positions, dim_index)``: for each canonical dimension present, in
    canonical order, its position in ``category_names`` and its canonical index. Names that
    are not ARKit names (MediaPipe's ``_neutral``) are dropped.
    """
    canon = {n: i for i, n in enumerate(arkit52_names())}
    pairs = sorted((canon[n], pos) for pos, n in enumerate(category_names) if n in canon)
    idx = [c for c, _ in pairs]
    if len(set(idx)) != len(idx):
        raise ValueError("a blendshape name appears twice in the model output")
    return [p for _, p in pairs], idx


def pose_from_matrix(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(axis-angle rotation in radians, translation in metres) of a MediaPipe 4x4 matrix."""
    m = np.asarray(matrix, dtype=np.float64).reshape(4, 4)
    return rotation_log(m[:3, :3]), m[:3, 3] * CM_TO_M


def fill_missing(rows: list[np.ndarray | None]) -> tuple[np.ndarray, int]:
    """Hold the previous tracked row over frames without a face (leading gaps take the first).

    Returns the filled [frames, dims] array and the number of frames filled.
    """
    first = next((r for r in rows if r is not None), None)
    if first is None:
        raise ValueError("no face was found in any frame")
    out, prev, missing = [], first, 0
    for r in rows:
        if r is None:
            missing += 1
            out.append(prev)
        else:
            out.append(r)
            prev = r
    return np.vstack(out), missing


def build_track(rows: list[np.ndarray | None], dim_index: list[int], frame_rate: tuple[int, int], source: str) -> tuple[Track, int]:
    """Assemble the tracked rows ([blendshapes..., rx, ry, rz, tx, ty, tz]) into a Track."""
    values, missing = fill_missing(rows)
    names = [arkit52_names()[i] for i in dim_index]
    groups = [
        TrackGroup("ARKIT52", names, None if dim_index == list(range(52)) else list(dim_index)),
        TrackGroup("HEAD_ROTATION", ["x", "y", "z"]),
        TrackGroup("HEAD_TRANSLATION", ["x", "y", "z"]),
    ]
    notes = ["MediaPipe Face Landmarker blendshapes (no tongueOut); pose from the facial transformation matrix, cm -> m"]
    if missing:
        notes.append(f"{missing} frame(s) without a face hold the previous values")
    return Track(values, groups, frame_rate, source=source, notes=notes), missing


def stream_frame_rate(stream) -> tuple[int, int]:
    """(num, den) of a PyAV video stream's frame rate (25/1 if the container gives none)."""
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    if not rate:
        return 25, 1
    fr = Fraction(rate).limit_denominator(1001)
    return fr.numerator, fr.denominator


def track_video(video: str | Path, model: str | Path, max_frames: int | None = None, progress: bool = True,
                min_confidence: float = 0.5) -> dict:
    """Run the Face Landmarker over a video; returns the track and run statistics."""
    import av
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision
    from tqdm import tqdm

    options = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model)),
        running_mode=vision.RunningMode.VIDEO,
        num_faces=1,
        min_face_detection_confidence=min_confidence,
        min_face_presence_confidence=min_confidence,
        min_tracking_confidence=min_confidence,
        output_face_blendshapes=True,
        output_facial_transformation_matrixes=True,
    )
    rows: list[np.ndarray | None] = []
    mapping: tuple[list[int], list[int]] | None = None
    t0 = time.perf_counter()
    infer_s = 0.0
    with av.open(str(video)) as container, vision.FaceLandmarker.create_from_options(options) as landmarker:
        stream = container.streams.video[0]
        frame_rate = stream_frame_rate(stream)
        total = stream.frames or None
        if max_frames is not None:
            total = min(total, max_frames) if total else max_frames
        last_ms = -1
        with tqdm(total=total, unit="frame", desc="tracking", disable=not progress, file=sys.stderr) as bar:
            for i, frame in enumerate(container.decode(stream)):
                if max_frames is not None and i >= max_frames:
                    break
                ts = frame.time
                ms = int(round(ts * 1000)) if ts is not None else int(round(i * 1000 * frame_rate[1] / frame_rate[0]))
                ms = max(ms, last_ms + 1)  # VIDEO mode needs strictly increasing timestamps
                last_ms = ms
                image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame.to_ndarray(format="rgb24")))
                t1 = time.perf_counter()
                result = landmarker.detect_for_video(image, ms)
                infer_s += time.perf_counter() - t1
                if result.face_blendshapes and result.facial_transformation_matrixes:
                    cats = result.face_blendshapes[0]
                    if mapping is None:
                        mapping = blendshape_index_map([c.category_name for c in cats])
                    scores = np.array([cats[p].score for p in mapping[0]], dtype=np.float64)
                    rot, trans = pose_from_matrix(result.facial_transformation_matrixes[0])
                    rows.append(np.concatenate([scores, rot, trans]))
                else:
                    rows.append(None)
                bar.update(1)
    elapsed = time.perf_counter() - t0
    if mapping is None:
        raise ValueError(f"{video}: no face was found in any of {len(rows)} frames")
    track, missing = build_track(rows, mapping[1], frame_rate, source=f"fctrack {Path(video).name} (MediaPipe Face Landmarker)")
    return {"track": track, "frames": len(rows), "frames_without_face": missing, "seconds": elapsed,
            "inference_seconds": infer_s, "versions": {"mediapipe": mp.__version__, "av": av.__version__}}


@entry_point("fctrack")
def main(argv: list[str] | None = None) -> int:
    """Entry point of ``fctrack``."""
    ap = parser("fctrack", DESCRIPTION, EPILOG)
    ap.add_argument("video", help="input video (anything PyAV/FFmpeg reads: mp4, mov, webm...)")
    ap.add_argument("-o", "--output", help="output track, .npz or .csv (default: the video name with .npz)")
    ap.add_argument("--format", choices=["npz", "csv"], help="output format (default: from the output suffix)")
    ap.add_argument("--model", default=str(DEFAULT_MODEL),
                    help="Face Landmarker model bundle (default: samples/models/face_landmarker_v2_with_blendshapes.task)")
    ap.add_argument("--max-frames", type=int_range(1), metavar="N", help="track only the first N frames")
    ap.add_argument("--min-confidence", type=float_range(0.0, 1.0), default=0.5, metavar="P",
                    help="face detection/presence/tracking confidence threshold (default 0.5)")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    ap.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    args = ap.parse_args(argv)

    out = Path(args.output) if args.output else Path(args.video).with_suffix(f".{args.format or 'npz'}")
    fmt = args.format or out.suffix.lower().lstrip(".")
    if fmt not in ("npz", "csv"):
        raise usage_error("-o", f"cannot tell the output format from {out.name!r}; use --format npz|csv")
    for p, what in ((args.video, "video"), (args.model, "--model")):
        if not Path(p).is_file():
            raise file_error(p, f"cannot read the {what}: " + ("not a file" if Path(p).exists() else "no such file"))
    make_out_dir(out.parent, "-o")  # documented: the output's directory is created
    check_output(out)  # before minutes of tracking
    try:
        import av  # noqa: F401
        import mediapipe  # noqa: F401
    except ImportError as exc:
        print(f"fctrack: error: fctrack needs the optional packages mediapipe and av ({exc.name} is missing); "
              "install them with: pip install -e '.[track]'", file=sys.stderr)
        return EXIT_MISSING_DEPS

    from refcodec.importers import save_track

    try:
        run = track_video(args.video, args.model, args.max_frames, progress=not args.no_progress and not args.json,
                          min_confidence=args.min_confidence)
    except ValueError as exc:
        print(f"fctrack: error: {exc}", file=sys.stderr)
        return EXIT_NO_FACE
    except Exception as exc:  # noqa: BLE001 - av.FFmpegError and mediapipe runtime errors have no common base
        raise file_error(args.video, f"cannot decode: {type(exc).__name__}: {exc}") from None
    track: Track = run["track"]
    with atomic_output(out) as tmp:
        save_track(track, tmp, fmt)
    summary = {
        "ok": True,
        "video": str(args.video),
        "output": str(out),
        "format": fmt,
        "frames": run["frames"],
        "frames_without_face": run["frames_without_face"],
        "frame_rate": list(track.frame_rate),
        "groups": [{"semantic": g.semantic, "dims": len(g.names), "dim_index": g.dim_index} for g in track.groups],
        "seconds": round(run["seconds"], 3),
        "ms_per_frame": round(1000 * run["seconds"] / max(run["frames"], 1), 2),
        "inference_ms_per_frame": round(1000 * run["inference_seconds"] / max(run["frames"], 1), 2),
        "versions": run["versions"],
    }
    if args.json:
        print_json(summary)
    else:
        fps = track.frame_rate[0] / track.frame_rate[1]
        print(f"{out}: {summary['frames']} frames at {fps:g} fps, "
              f"{', '.join(f'{g.semantic} {len(g.names)}' for g in track.groups)}; "
              f"{summary['frames_without_face']} without a face; {summary['seconds']:.2f} s "
              f"({summary['ms_per_frame']} ms/frame)")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
