"""fcpack: build a .fca avatar container (from the LAM avatar zip, a 3DGS PLY, or another
.fca), or export a container's avatar as a standard 3DGS PLY."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tqdm import tqdm

from refcodec.avatar.loading import load_avatar
from refcodec.errors import FcError
from refcodec.fca import PackConfig, decode_avatar, encode_avatar
from refcodec.fca.inspect import summarize_container, trace_container
from refcodec.fca.metrics import attribute_errors

from ._cli import EXIT_CODES_HELP, EXIT_FC_ERROR_BASE, EXIT_IO, EXIT_OK, print_json

DESCRIPTION = """\
Pack an avatar into a .fca container (SPEC chapter 11), report its size component by
component and the attribute-domain errors the quantization caused; or export the avatar of a
.fca as a standard 3DGS PLY that splat viewers open (--export-ply).

Inputs: the LAM avatar zip (skin.glb + offset.ply), a 3DGS .ply (a static avatar), or a .fca.
Bit depths are 1..16, or 32 for raw binary32 (lossless).
"""

EPILOG = f"""\
examples:
  fcpack samples/lam_p2-1/p2-1.zip -o lam.fca
  fcpack samples/lam_p2-1/p2-1.zip -o lam.fca --color-bits 6 --scale-bits 6 --json
  fcpack scene.ply -o scene.fca --lossless
  fcpack lam.fca --export-ply lam.ply

{EXIT_CODES_HELP}
"""


def _config(args: argparse.Namespace) -> PackConfig:
    if args.lossless:
        config = PackConfig.lossless()
        config.zstd_level = args.zstd_level
        return config
    return PackConfig(
        args.position_bits,
        args.color_bits,
        args.scale_bits,
        args.rotation_bits,
        args.opacity_bits,
        args.sh_rest_bits,
        args.vertex_bits,
        args.morph_bits,
        args.barycentric_bits,
        args.zstd_level,
        args.level,
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``fcpack``."""
    ap = argparse.ArgumentParser(prog="fcpack", description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", type=Path, help="LAM avatar .zip, 3DGS .ply, or .fca")
    ap.add_argument("-o", "--output", type=Path, help="the .fca to write")
    ap.add_argument("--export-ply", type=Path, metavar="PLY", help="write the (decoded) avatar, neutral pose, as a 3DGS PLY")
    knobs = ap.add_argument_group("quantization knobs (bits per value; 32 = raw binary32)")
    defaults = PackConfig()
    for name, default, what in (
        ("position-bits", defaults.position_bits, "Gaussian positions/offsets"),
        ("color-bits", defaults.color_bits, "SH DC colour"),
        ("scale-bits", defaults.scale_bits, "log-scales"),
        ("rotation-bits", defaults.rotation_bits, "quaternion components"),
        ("opacity-bits", defaults.opacity_bits, "opacity logits"),
        ("sh-rest-bits", defaults.sh_rest_bits, "higher-order SH"),
        ("vertex-bits", defaults.vertex_bits, "base mesh vertices"),
        ("morph-bits", defaults.morph_bits, "morph-target deltas"),
        ("barycentric-bits", defaults.barycentric_bits, "triangle-binding barycentrics"),
    ):
        knobs.add_argument(f"--{name}", type=int, default=default, help=f"{what} (default {default})")
    ap.add_argument("--lossless", action="store_true", help="store every float as raw binary32")
    ap.add_argument("--zstd-level", type=int, default=defaults.zstd_level, help="Zstandard level 1..22 (default %(default)s)")
    ap.add_argument("--level", type=int, choices=[10, 20, 30], help="container level (default: the smallest that fits)")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    args = ap.parse_args(argv)
    if args.output is None and args.export_ply is None:
        ap.error("give -o OUT.fca and/or --export-ply OUT.ply")
    try:
        with tqdm(total=3 if args.output else 1, desc="fcpack", unit="step", disable=args.json, file=sys.stderr) as bar:
            bar.set_postfix_str("loading")
            t0 = time.perf_counter()
            avatar = load_avatar(args.input)
            load_s = time.perf_counter() - t0
            bar.update()
            report: dict = {"input": str(args.input), "gaussians": avatar.gaussians.count, "load_s": round(load_s, 3)}
            if args.output:
                bar.set_postfix_str("encoding")
                data = encode_avatar(avatar, _config(args))
                args.output.write_bytes(data)
                bar.update()
                bar.set_postfix_str("checking")
                t0 = time.perf_counter()
                decoded = decode_avatar(data)
                report |= {
                    "output": str(args.output),
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

            args.export_ply.write_bytes(write_ply(animate(avatar, None)))
            report["ply"] = str(args.export_ply)
    except FcError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_FC_ERROR_BASE + err.code
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_IO
    if args.json:
        print_json(report)
    else:
        _print_report(report)
    return EXIT_OK


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
