"""fcdemo: encode and decode the bundled real expression track; print bitrate and checks."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np

from refcodec.fcs.decoder import FcsDecoder, FrameStatus, decode_file
from refcodec.fcs.encoder import EncoderConfig, build_header, encode_track
from refcodec.fcs.stats import coded_p_residuals, zero_order_entropy_bits
from refcodec.fcs.storage import iter_units
from refcodec.quant import dequant_step

from ._cli import atomic_output, entry_point, file_error, float_range, int_range, parser, write_atomic

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TRACK = ROOT / "samples" / "lam_p2-1" / "test_expression_1s.json"
DEFAULT_AVATAR = ROOT / "samples" / "lam_p2-1" / "p2-1.zip"

DESCRIPTION = """\
The FaceCodec demo. It loads a real expression track (52 ARKit weights + head rotation,
973 frames at 30 fps, from LAM), encodes it to .fcs at 8 and 10 bits, decodes it, and prints:
the bitrate against the fixed-length rate and the zero-order entropy of the residuals; the
round-trip check (every decoded value equals the SPEC 6.5 formula applied to the encoder's
quantized values, bit for bit, and lies within half a step of the input); and what the loss
process does when 5 % of the frame units are dropped.

Then the receiver side: the bundled LAM avatar (20,018 Gaussians, 51 morph targets) is packed
into a .fca container, decoded, driven by the decoded 8-bit stream and rendered on the CPU
(512x512) to an MP4, side by side with the render from the unquantized track. It prints the
avatar size, the render speed, and the PSNR/SSIM of the coded-parameter render against the
unquantized one. By default it renders the first 90 frames (about a minute on 2 cores);
--full renders all 973 (about 15 minutes), --frames N any number, --no-render skips it.
"""


def _bitwise_equal(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(np.asarray(a, np.float32).view(np.uint32), np.asarray(b, np.float32).view(np.uint32))


def run_one(track, bits: int, out_dir: Path, loss_rate: float, seed: int) -> dict:
    """Encode/decode at one bit depth and return the report row."""
    interval = round(track.frame_rate[0] / track.frame_rate[1])
    header = build_header(track, bits, interval)
    data = encode_track(track, header, EncoderConfig(intra_interval=interval))
    path = out_dir / f"{Path(track.source).stem or 'track'}_{bits}bit.fcs"
    write_atomic(path, data, "--out")
    result = decode_file(data)
    decoded = result.matrix()
    seconds = track.frames * track.frame_rate[1] / track.frame_rate[0]

    # Round trip: decoder output == SPEC 6.5 formula on the decoded integers, computed here in numpy float32.
    q = np.stack([f.quantized for f in result.frames])
    rmin = np.array([v for g in header.groups for v in g.range_min], np.float32)
    rmax = np.array([v for g in header.groups for v in g.range_max], np.float32)
    depth = np.array([g.bit_depth for g in header.groups for _ in range(g.dims)])
    step = dequant_step(rmin, rmax, depth)
    formula = rmin + q.astype(np.float32) * step
    exact = _bitwise_equal(decoded, formula)
    half_step_ok = bool(np.all(np.abs(decoded - track.values) <= step * 0.5 + 1e-6 * np.maximum(1, np.abs(rmax))))

    entropy = zero_order_entropy_bits(coded_p_residuals(result))

    # Loss: drop frame units at random, decode resiliently, compare with the lossless output.
    rng = random.Random(seed)
    units = list(iter_units(data))
    dec = FcsDecoder(strict=False)
    frames = []
    dropped = 0
    for u in units:
        if u.index > 0 and rng.random() < loss_rate:
            dropped += 1
            continue
        frames.extend(dec.decode_unit(u.data, u.index))
    lossy = np.stack([f.values for f in frames])
    concealed = sum(f.status is not FrameStatus.DECODED for f in frames)
    wrong = int(np.sum(np.any(lossy[: len(decoded)] != decoded[: len(lossy)], axis=1)))
    return {
        "bits": bits,
        "file": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path),
        "bytes": len(data),
        "kbps": len(data) * 8 / seconds / 1000,
        "raw_kbps": header.total_dims * bits * track.frame_rate[0] / track.frame_rate[1] / 1000,
        "entropy_kbps": entropy / seconds / 1000,
        "max_abs_error": float(np.max(np.abs(decoded - track.values))),
        "bit_exact": exact,
        "within_half_step": half_step_ok,
        "frames": len(result.frames),
        "lost_units": dropped,
        "frames_out_after_loss": len(frames),
        "concealed": concealed,
        "frames_differing": wrong,
    }


def main_profile_rate(track, bits: int, out_dir: Path) -> dict:
    """The Main-profile file of the track at ``bits`` with cross-dimension references, and whether it decodes
    to the same quantized integers as the Baseline file (the same ranges: it must)."""
    from refcodec.fcs.main_profile import MAIN_PROFILE_IDC

    interval = round(track.frame_rate[0] / track.frame_rate[1])
    header = build_header(track, bits, interval, profile_idc=MAIN_PROFILE_IDC, xdim=True)
    data = encode_track(track, header, EncoderConfig(intra_interval=interval))
    baseline = encode_track(track, build_header(track, bits, interval), EncoderConfig(intra_interval=interval))
    same = np.array_equal(np.stack([f.quantized for f in decode_file(data).frames]),
                          np.stack([f.quantized for f in decode_file(baseline).frames]))
    path = out_dir / f"{Path(track.source).stem or 'track'}_{bits}bit_main.fcs"
    write_atomic(path, data, "--out")
    seconds = track.frames * track.frame_rate[1] / track.frame_rate[0]
    references = sum(ref is not None for g in header.groups for ref in (g.xdim or []))
    return {"kbps": len(data) * 8 / seconds / 1000, "same_integers": same, "references": references, "file": str(path)}


@entry_point("fcdemo")
def main(argv: list[str] | None = None) -> int:
    """Entry point of ``fcdemo``."""
    ap = parser("fcdemo", DESCRIPTION, "fcdemo's own status: 1 when a round-trip check fails.")
    ap.add_argument("--track", default=str(DEFAULT_TRACK), help="parameter track to code (default: the bundled LAM track)")
    ap.add_argument("--out", default=str(ROOT / "out" / "demo"), help="where to write the .fcs files")
    ap.add_argument("--loss", type=float_range(0.0, 1.0), default=0.05, help="fraction of frame units dropped in the loss run")
    ap.add_argument("--seed", type=int, default=1, help="seed of the loss pattern")
    ap.add_argument("--avatar", default=str(DEFAULT_AVATAR), help="avatar to pack and render (default: the bundled LAM avatar)")
    ap.add_argument("--frames", type=int_range(1), default=90, help="frames to render (default %(default)s)")
    ap.add_argument("--full", action="store_true", help="render every frame of the track")
    ap.add_argument("--size", type=int_range(1, 8192), default=512, help="render width and height in pixels (default %(default)s)")
    ap.add_argument("--no-render", action="store_true", help="stop after the stream part")
    args = ap.parse_args(argv)
    from refcodec.importers import load_track

    if not Path(args.track).is_file():
        raise file_error(args.track, "cannot read --track: no such file")
    if not args.no_render and not Path(args.avatar).is_file():
        raise file_error(args.avatar, "cannot read --avatar: no such file")
    try:
        track = load_track(args.track)
    except ValueError as exc:
        raise file_error(args.track, f"cannot read --track: {exc}") from None
    out_dir = Path(args.out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise file_error(out_dir, f"cannot create --out: {exc.strerror or exc}") from None
    print(
        f"track: {args.track}\n  {track.frames} frames x {track.values.shape[1]} dims "
        f"({', '.join(f'{g.semantic} {len(g.names)}' for g in track.groups)}) at "
        f"{track.frame_rate[0] / track.frame_rate[1]:g} fps"
    )
    rows = [run_one(track, bits, out_dir, args.loss, args.seed) for bits in (8, 10)]
    print(f"\n{'bits':>4} {'kbit/s':>8} {'fixed':>8} {'entropy':>8} {'ratio':>6} {'max err':>9}  round trip")
    for r in rows:
        ok = "bit-exact, within half a step" if r["bit_exact"] and r["within_half_step"] else "FAILED"
        print(
            f"{r['bits']:>4} {r['kbps']:>8.3f} {r['raw_kbps']:>8.3f} {r['entropy_kbps']:>8.3f} "
            f"{r['kbps'] / r['entropy_kbps']:>6.3f} {r['max_abs_error']:>9.2e}  {ok}  -> {r['file']}"
        )
    print(
        "\n(Baseline profile, SPEC 5. kbit/s: the whole .fcs file; fixed: dims x bits x fps; entropy: per-dimension\n"
        " zero-order entropy of the coded P-frame residuals, the limit of exp-Golomb codes)"
    )
    mains = [main_profile_rate(track, r["bits"], out_dir) for r in rows]  # the same integers with fcenc's tools (SPEC 14, 9.5)
    for r, main in zip(rows, mains, strict=True):
        print(f"Main profile, {r['bits']} bits, cross-dimension references ({main['references']}): {main['kbps']:.3f} kbit/s, "
              f"{r['kbps'] / main['kbps']:.2f}x smaller, same integers: {'yes' if main['same_integers'] else 'NO'} -> {main['file']}")
    for r in rows:
        print(
            f"\nloss at {r['bits']} bits: {r['lost_units']} of {r['frames']} frame units dropped -> "
            f"{r['frames_out_after_loss']} frames out, {r['concealed']} concealed, "
            f"{r['frames_differing']} differing from the lossless decode (held until the next I-frame)"
        )
    ok = all(r["bit_exact"] and r["within_half_step"] for r in rows) and all(m["same_integers"] for m in mains)
    if not args.no_render:
        frames = track.frames if args.full else min(args.frames, track.frames)
        render_part(Path(args.avatar), out_dir / Path(rows[0]["file"]).name, Path(args.track), out_dir, frames, args.size)
    return 0 if ok else 1


def render_part(avatar_path: Path, fcs_path: Path, track_path: Path, out_dir: Path, count: int, size: int) -> dict:
    """Pack the avatar, decode container and stream, render coded vs unquantized, write an MP4."""
    import time

    import torch
    from tqdm import tqdm

    from refcodec.fca import decode_avatar, encode_avatar
    from refcodec.render import Renderer
    from refcodec.render.camera import Camera
    from refcodec.render.inputs import fcs_frames, load_avatar, track_frames
    from refcodec.render.media import Mp4Writer
    from refcodec.render.metrics import psnr, ssim

    torch.set_num_threads(2)
    source = load_avatar(avatar_path)
    fca = encode_avatar(source)
    fca_path = out_dir / "avatar.fca"
    write_atomic(fca_path, fca, "--out")
    t0 = time.perf_counter()
    avatar = decode_avatar(fca)
    load_s = time.perf_counter() - t0
    print(
        f"\navatar: {avatar_path.name} -> {fca_path.relative_to(ROOT) if fca_path.is_relative_to(ROOT) else fca_path}: "
        f"{len(fca):,} bytes ({len(fca) / 1e6:.3f} MB; {source.nbytes() / 1e6:.1f} MB as binary32), "
        f"{avatar.gaussians.count:,} Gaussians, loaded in {load_s * 1000:.0f} ms"
    )
    coded = fcs_frames(fcs_path.read_bytes(), avatar)
    reference = track_frames(track_path, avatar)
    camera = Camera.from_defaults(avatar.render, size, size)
    renderer_coded = Renderer(avatar, backend="auto", camera=camera)
    renderer_ref = Renderer(source, backend="auto", camera=camera)
    video = out_dir / "demo.mp4"
    psnrs, ssims, render_s = [], [], 0.0
    with atomic_output(video, "--out") as tmp:
        writer = Mp4Writer(tmp, coded.rate, 2 * size, size)
        try:
            for i in tqdm(range(count), desc="render", unit="frame"):
                t0 = time.perf_counter()
                img = renderer_coded.render(coded.values[i])
                render_s += time.perf_counter() - t0
                ref = renderer_ref.render(reference.values[i])
                psnrs.append(psnr(img, ref))
                ssims.append(ssim(img, ref))
                writer.write(torch.cat([ref, img], dim=1))
        finally:
            writer.close()
    finite = [p for p in psnrs if p != float("inf")]
    result = {
        "frames": count,
        "fps": count / render_s,
        "psnr_mean": float(np.mean(finite)) if finite else float("inf"),
        "psnr_min": float(np.min(finite)) if finite else float("inf"),
        "ssim_mean": float(np.mean(ssims)),
        "video": str(video),
    }
    print(f"render: {count} frames at {size}x{size} on {renderer_coded.backend}: {result['fps']:.2f} frames/s")
    print(
        f"quality of the 8-bit coded parameters (decoded .fca) against the unquantized track (source avatar): "
        f"PSNR {result['psnr_mean']:.2f} dB (min {result['psnr_min']:.2f}), SSIM {result['ssim_mean']:.5f}"
    )
    print(f"video (left: unquantized, right: coded): {video.relative_to(ROOT) if video.is_relative_to(ROOT) else video}")
    return result


if __name__ == "__main__":
    sys.exit(main())
