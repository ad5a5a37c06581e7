"""``fcenc TRACK --avatar A.fca --quality DB``: the quality-targeted encoder (informative, SPEC 9.4)."""

from __future__ import annotations

import os
from pathlib import Path

from refcodec.fca import decode_avatar
from refcodec.fcs.binding import avatar_digest
from refcodec.rdo import prepare, search_quality
from refcodec.rdo import problem as rdo_problem
from refcodec.rdo.predict import render_calibration
from refcodec.track import Track

from ._cli import EXIT_OK, CliError, print_json, write_atomic

#: The PSNR targets the search accepts, dB (8-bit RGB).
QUALITY_RANGE = (20.0, 80.0)


def default_cache_dir() -> Path:
    """Where render sensitivities are kept between runs: $XDG_CACHE_HOME/facecodec/rdo."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "facecodec" / "rdo"


def encode_quality(track: Track, avatar_bytes: bytes, target_db: float, out: Path, intra_interval: int,
                   profile: str | int = "main", cache_dir: Path | None = None, points: int | None = None,
                   as_json: bool = False, label: str = "") -> int:
    """Search the smallest stream predicted to render at >= ``target_db`` on the avatar, write it, report."""
    from tqdm import tqdm

    from refcodec.rdo.quantize import PROFILES

    profile = {0: "baseline", 1: "main"}.get(profile, profile) if isinstance(profile, int) else str(profile).lower()
    if profile not in PROFILES:
        raise CliError(f"fcenc: error: --profile: the rate-distortion encoder writes {', '.join(sorted(PROFILES))} so far, not {profile}", 2)
    avatar = decode_avatar(avatar_bytes)  # FcError -> 16 + code by the CLI layer
    if avatar.deformation is None or not avatar.layout:
        raise CliError("--avatar: a static avatar has no parameters to code", 2)
    renders = (sum(d for _, d in avatar.layout) + 1) * (points or rdo_problem.DEFAULT_POINTS)  # upper bound; cached after the first run
    with tqdm(total=renders, desc="render sensitivity (once per avatar)", unit="render", leave=False, disable=as_json) as bar:
        problem = prepare(avatar, track, cache_dir, points, bar.update)
    with tqdm(desc=f"searching the rate for {target_db:g} dB", unit="stream", leave=False, disable=as_json) as bar:
        # SPEC 9.4: a few real renders correct the linear model where it is conservative
        calibrate = render_calibration(avatar, problem.values, problem.sensitivity)
        result = search_quality(problem, target_db, intra_interval, profile, avatar_digest(avatar_bytes), progress=bar.update,
                                calibrate=calibrate)
    if result is None:
        raise CliError(f"{label}: no setting reaches {target_db:g} dB on this avatar", 1)
    coded, pred = result.coded, result.prediction
    write_atomic(out, coded.data)
    report = {
        "input": label, "output": str(out), "frames": len(coded.decoded), "bytes": len(coded.data), "kbit_per_s": coded.kbps,
        "target_psnr_db": target_db, "predicted_psnr_db": pred.psnr_8bit, "calibration_db": pred.calibration_db,
        "predicted_float_psnr_db": pred.psnr_float,
        "prediction_frames": pred.frames, "settings": vars(coded.settings) | {}, "bit_depths": coded.allocation.bit_depths,
        "dims_sent": int(coded.allocation.keep.sum()), "streams_tried": result.tried, "layout": problem.layout,
    }
    if as_json:
        print_json(report)
    else:
        print(f"wrote {out}: {report['bytes']} bytes, {report['kbit_per_s']:.3f} kbit/s, predicted PSNR {pred.psnr_8bit:.2f} dB "
              f"(8-bit RGB, target {target_db:g} dB; float {pred.psnr_float:.2f} dB), {report['dims_sent']} dims sent")
    return EXIT_OK
