"""fcpack: build a .fca avatar container (from the LAM avatar zip, a 3DGS PLY, or another
.fca), or export a container's avatar as a standard 3DGS PLY."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

from tqdm import tqdm

from refcodec.avatar.loading import load_avatar
from refcodec.errors import E_LEVEL, E_VALUE
from refcodec.fca import PackConfig, decode_avatar, encode_avatar
from refcodec.fca.bounded import ERROR_KINDS
from refcodec.fca.inspect import summarize_container, trace_container
from refcodec.fca.metrics import attribute_errors
from refcodec.fca.presets import PRESETS, preset
from refcodec.fca.syntax import RAW_F32_BITS

from ._cli import (
    EXIT_FC_ERROR_BASE,
    EXIT_OK,
    CliError,
    atomic_output,
    check_output,
    entry_point,
    file_error,
    float_range,
    int_range,
    parser,
    print_json,
    unreadable,
    usage_error,
)

DESCRIPTION = """\
Pack an avatar into a .fca container (SPEC chapter 11), report its size component by
component and the attribute-domain errors the quantization caused; or export the avatar of a
.fca as a standard 3DGS PLY that splat viewers open (--export-ply).

Inputs: the LAM avatar zip (skin.glb + offset.ply), a 3DGS .ply (a static avatar), or a .fca.
The encoder settings start from a named preset (--preset, the configurations fcbench-avatar
measures; default: the library's PackConfig()); each knob given on the command line overrides
the preset's value. Bit depths are 1..16, or 32 for raw binary32 (lossless).
"""

EPILOG = """\
presets (refcodec/fca/presets.py):
  default    PackConfig(): 14-bit positions and vertices, 8-bit colour/scale, 10-bit smallest-three
             rotations, 8-bit opacity after the sigmoid (SPEC 11.7.1), morph targets within 0.1 mm
  balanced   13-bit positions, 7-bit colour/scale/opacity, 9-bit rotations, morphs within 0.15 mm
  compact    11-bit positions, 6-bit colour, 5-bit scale/opacity, 8-bit rotations, 13-bit vertices,
             morphs within 0.4 mm
  lossless   every float as raw binary32 (the decoded avatar equals the input)

examples:
  fcpack samples/lam_p2-1/p2-1.zip -o lam.fca
  fcpack samples/lam_p2-1/p2-1.zip -o lam.fca --preset compact --json
  fcpack samples/lam_p2-1/p2-1.zip -o lam.fca --color-bits 6 --scale-bits 6 --level 20
  fcpack scene.ply -o scene.fca --preset lossless
  fcpack lam.fca --export-ply lam.ply
"""

#: CLI knob -> PackConfig field and what it quantizes (SPEC 11.1.3: q_bits 1..16, or 32 = raw binary32).
KNOBS = {
    "position-bits": ("position_bits", "Gaussian positions/offsets"),
    "color-bits": ("color_bits", "SH DC colour"),
    "scale-bits": ("scale_bits", "log-scales"),
    "rotation-bits": ("rotation_bits", "rotation components (the smallest three of the unit quaternion, SPEC 11.7.1)"),
    "opacity-bits": ("opacity_bits", "opacity after the sigmoid (SPEC 11.7.1)"),
    "sh-rest-bits": ("sh_rest_bits", "higher-order SH"),
    "vertex-bits": ("vertex_bits", "base mesh vertices"),
    "morph-bits": ("morph_bits", "morph-target deltas"),
    "barycentric-bits": ("barycentric_bits", "triangle-binding barycentrics"),
}
#: Zstandard compression levels the zstandard library accepts.
ZSTD_LEVELS = (1, 22)


def _bits(text: str) -> int:
    """A bit depth: 1..16, or 32 for raw binary32 (SPEC 11.1.3)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not (1 <= value <= 16 or value == RAW_F32_BITS):
        raise argparse.ArgumentTypeError(f"{value} is outside the allowed values 1..16 or {RAW_F32_BITS} (raw binary32)")
    return value


def _morph_tolerance(text: str) -> float | None:
    if text.lower() == "none":
        return None
    return float_range(0.0)(text)


def _max_error(text: str) -> tuple[str, float]:
    """``KIND=VALUE`` of --max-error: a kind of ERROR_KINDS and a positive finite number."""
    kind, sep, value = text.partition("=")
    if not sep or kind not in ERROR_KINDS:
        raise argparse.ArgumentTypeError(f"{text!r} is not KIND=VALUE with KIND one of {', '.join(ERROR_KINDS)}")
    number = float_range(0.0)(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: the largest error must be above 0")
    return kind, number


def build_parser() -> argparse.ArgumentParser:
    """fcpack's command line."""
    ap = parser("fcpack", DESCRIPTION, EPILOG)
    ap.add_argument("input", type=Path, help="LAM avatar .zip, 3DGS .ply, or .fca")
    ap.add_argument("-o", "--output", type=Path, help="the .fca to write")
    ap.add_argument("--export-ply", type=Path, metavar="PLY", help="write the (decoded) avatar, neutral pose, as a 3DGS PLY")
    ap.add_argument("--preset", choices=list(PRESETS), default=None, help="encoder settings to start from (default: default)")
    ap.add_argument("--lossless", action="store_true", help="the same as --preset lossless")
    knobs = ap.add_argument_group("quantization knobs (bits per value, 1..16 or 32 = raw binary32; default: the preset's)")
    base = PackConfig()
    for name, (field, what) in KNOBS.items():
        knobs.add_argument(f"--{name}", dest=field, type=_bits, default=None, metavar="N",
                           help=f"{what} (PackConfig() has {getattr(base, field)})")
    ap.add_argument("--morph-max-error", type=_morph_tolerance, default=argparse.SUPPRESS, metavar="METRES|none",
                    help=f"largest error of a morph target stored below --morph-bits (PackConfig() has {base.morph_max_error})")
    ap.add_argument("--max-error", type=_max_error, action="append", default=[], metavar="KIND=VALUE",
                    help="quantize an attribute by its largest decoded error instead of its bits: the coarsest step that keeps "
                    "every Gaussian within VALUE (repeatable); KIND is "
                    + "; ".join(f"{k} ({unit})" for k, (_, unit) in ERROR_KINDS.items())
                    + ". SPZ v4's accuracy on the LAM Gaussians is position=2.07e-4 rotation_deg=0.218 color=0.0037 "
                    "opacity=0.00196 log_scale=0.0312")
    ap.add_argument("--zstd-level", type=int_range(*ZSTD_LEVELS), default=None, metavar="N",
                    help=f"Zstandard level {ZSTD_LEVELS[0]}..{ZSTD_LEVELS[1]} (PackConfig() has {base.zstd_level})")
    ap.add_argument("--level", type=int, choices=[10, 20, 30], default=None, help="container level (default: the smallest that fits)")
    ap.add_argument("--gaussian-order", choices=["morton", "keep"], default=None,
                    help="Gaussians of a static avatar (no binding): morton (default) stores them along a Z-order curve of their "
                    "positions (a splat in arbitrary order packs about 15 %% smaller; the renderer sorts by depth), keep stores "
                    "them as given; bound Gaussians always keep their order")
    ap.add_argument("--mesh-coding", choices=["auto", "subdivision", "plain"], default=None,
                    help="deformation model section: auto (default) writes DEFS (SPEC 11.5.3) when the mesh is a midpoint subdivision "
                    "and that is smaller, subdivision writes DEFS whenever the mesh is one, plain always writes DEFM")
    ap.add_argument("--basis", type=int_range(1, 52), metavar="K",
                    help="replace the 52 ARKit inputs by a K-coefficient EXPRESSION basis learned from --basis-track "
                         "(image-weighted PCA, stored as the coefficient map of SPEC 11.5.1; see SPEC 9.4)")
    ap.add_argument("--basis-track", type=Path, metavar="TRACK", help="the training track of --basis (ARKit weights)")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    return ap


def config_from_args(args: argparse.Namespace) -> PackConfig:
    """The PackConfig of the command line: the preset, then every knob given by name."""
    if args.lossless and args.preset not in (None, "lossless"):
        raise usage_error("--lossless", f"conflicts with --preset {args.preset}")
    config = preset("lossless" if args.lossless else args.preset or "default")
    changes = {field: getattr(args, field) for field, _ in KNOBS.values() if getattr(args, field) is not None}
    if args.zstd_level is not None:
        changes["zstd_level"] = args.zstd_level
    if args.level is not None:
        changes["level_idc"] = args.level
    if args.mesh_coding is not None:
        changes["mesh_coding"] = args.mesh_coding
    if args.gaussian_order is not None:
        changes["gaussian_order"] = args.gaussian_order
    if hasattr(args, "morph_max_error"):
        changes["morph_max_error"] = args.morph_max_error
    if args.max_error:
        changes["max_errors"] = config.max_errors | dict(args.max_error)
        if "rotation_deg" in changes["max_errors"] and config.rotation_coding != "s3":
            raise usage_error("--max-error", "rotation_deg bounds ROTATION_S3 (SPEC 11.7.1), which this preset does not use")
        if "opacity" in changes["max_errors"] and config.opacity_coding != "alpha":
            raise usage_error("--max-error", "opacity bounds OPACITY_ALPHA (SPEC 11.7.1), which this preset does not use")
    return dataclasses.replace(config, **changes)


@entry_point("fcpack")
def main(argv: list[str] | None = None) -> int:
    """Entry point of ``fcpack``."""
    ap = build_parser()
    args = ap.parse_args(argv)
    if args.output is None and args.export_ply is None:
        ap.error("give -o OUT.fca and/or --export-ply OUT.ply")
    config = config_from_args(args)
    for path, option in ((args.output, "-o"), (args.export_ply, "--export-ply")):
        if path is not None:
            check_output(path, option)
    if not args.input.is_file():
        raise file_error(args.input, "cannot read: no such file" if not args.input.exists() else "cannot read: not a file")
    with tqdm(total=3 if args.output else 1, desc="fcpack", unit="step", disable=args.json or not sys.stderr.isatty(), file=sys.stderr) as bar:
        bar.set_postfix_str("loading")
        t0 = time.perf_counter()
        try:
            avatar = load_avatar(args.input)
        except ValueError as exc:  # not an avatar format fcpack reads (a malformed .fca raises its FcError)
            raise unreadable(args.input, exc) from None
        load_s = time.perf_counter() - t0
        if args.basis is not None:
            avatar = _with_basis(avatar, args)
        bar.update()
        report: dict = {"input": str(args.input), "gaussians": avatar.gaussians.count, "load_s": round(load_s, 3)}
        if args.output:
            bar.set_postfix_str("encoding")
            data = _encode(avatar, config, args.level)
            with atomic_output(args.output) as tmp:
                tmp.write_bytes(data)
            bar.update()
            bar.set_postfix_str("checking")
            t0 = time.perf_counter()
            decoded = decode_avatar(data)
            report |= {
                "output": str(args.output),
                "preset": "lossless" if args.lossless else args.preset or "default",
                "config": {k: v for k, v in vars(config).items() if k not in ("overrides", "latents")},
                "bytes": len(data),
                "decode_s": round(time.perf_counter() - t0, 3),
                "uncompressed_binary32_bytes": avatar.nbytes(),
                "summary": summarize_container(trace_container(data)),
                "errors": attribute_errors(avatar, decoded),
            }
            avatar = decoded
            bar.update()
    if args.export_ply:
        from refcodec.avatar.deform import animate
        from refcodec.avatar.ply import write_ply

        with atomic_output(args.export_ply, "--export-ply") as tmp:
            tmp.write_bytes(write_ply(animate(avatar, None)))
        report["ply"] = str(args.export_ply)
    if args.json:
        print_json(report)
    else:
        _print_report(report)
    return EXIT_OK


def _with_basis(avatar, args: argparse.Namespace):
    """--basis K: the avatar with a learned EXPRESSION basis (refcodec.rdo; render sensitivity cached)."""
    from refcodec.importers import load_track
    from refcodec.rdo import learn_avatar_basis

    from .fcenc_quality import default_cache_dir

    if args.basis_track is None:
        raise usage_error("--basis", "needs --basis-track TRACK to learn from")
    try:
        track = load_track(args.basis_track)
    except (OSError, ValueError) as exc:
        raise unreadable(args.basis_track, exc) from None
    try:
        return learn_avatar_basis(avatar, track, args.basis, default_cache_dir())
    except ValueError as exc:  # no ARKit-driven morph targets to learn a basis for
        raise usage_error("--basis", str(exc)) from None


def _encode(avatar, config: PackConfig, level: int | None) -> bytes:
    """encode_avatar, with a level the avatar exceeds reported as a bad --level (exit 2)."""
    try:
        return encode_avatar(avatar, config)
    except E_LEVEL as err:
        if level is None:
            raise
        raise usage_error("--level", f"the avatar does not fit level {level}: {err.message}") from None
    except ValueError as exc:  # the avatar's content cannot be packed (exceeds every level, bad values)
        if config.max_errors and "bits" in str(exc):  # a --max-error finer than 16 bits reach
            raise usage_error("--max-error", str(exc)) from None
        if level is not None:
            raise usage_error("--level", str(exc)) from None
        raise CliError(f"cannot pack the avatar: {exc}", EXIT_FC_ERROR_BASE + E_VALUE.code) from None


def _print_report(r: dict) -> None:
    print(f"{r['input']}: {r['gaussians']} Gaussians, loaded in {r['load_s']} s")
    if "bytes" in r:
        s = r["summary"]
        print(
            f"{r['output']}: {r['bytes']} bytes ({r['bytes'] / 1e6:.3f} MB) vs {r['uncompressed_binary32_bytes'] / 1e6:.3f} MB uncompressed; "
            f"Gaussian attributes {s['attribute_bytes_per_gaussian']:.3f} B/Gaussian; decoded in {r['decode_s']} s"
        )
        for kind, v in s["by_type"].items():
            print(f"  {kind:<5} {v['stored_bytes']:>9} B")
        for name, e in r["errors"].items():
            print(f"  error {name:<20} max {e['max']:.3g}  mean {e['mean']:.3g}")
    if "ply" in r:
        print(f"wrote {r['ply']}")


if __name__ == "__main__":
    sys.exit(main())
