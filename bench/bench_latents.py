"""Latent attribute codec (SPEC 12.2) against plain quantization on the real LAM avatar.

For a few knob settings, fits integer latents + an FP16 decoder to the LAM avatar's rotations and
opacities and reports bytes per Gaussian after zstd (level 19) of the latents (two layouts) plus
the decoder's FP16 parameters, against attribute-domain errors: rotation angle (degrees, mean,
p99 and max) and opacity in the sigmoid domain (mean and max). Baselines: smallest-three rotation
and per-channel w,x,y,z rotation at several bit depths, with the opacity logit (or the opacity
itself) uniformly quantized, each stored as byte planes and zstd-compressed the same way.

Writes bench/latents_bench.json and bench/latents_bench.md.

    .venv/bin/python bench/bench_latents.py            # the full table (a few minutes)
    .venv/bin/python bench/bench_latents.py --quick    # two latent settings
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import zipfile
from pathlib import Path

import numpy as np
import zstandard

from refcodec.avatar.latents import OPACITY, ROTATION, FitConfig, LatentAttributes, decode_latents, fit_latents

REPO = Path(__file__).resolve().parent.parent
LAM_ZIPS = [REPO / "samples/lam_p2-1/p2-1.zip", Path("/work/shared/data/lam_p2-1/p2-1.zip")]
ZSTD_LEVEL = 19

LATENT_SETTINGS = [
    # (name, attribute ids, latent dims, bits, hidden, iters)
    ("rot+op L3 b5 h32", (ROTATION, OPACITY), 3, 5, (32,), 1500),
    ("rot+op L4 b4 h32", (ROTATION, OPACITY), 4, 4, (32,), 1500),
    ("rot+op L4 b5 h32", (ROTATION, OPACITY), 4, 5, (32,), 1500),
    ("rot+op L4 b6 h32", (ROTATION, OPACITY), 4, 6, (32,), 1500),
    ("rot+op L5 b5 h32", (ROTATION, OPACITY), 5, 5, (32,), 1500),
    ("rot+op L4 b5 h64x32", (ROTATION, OPACITY), 4, 5, (64, 32), 1500),
]
QUICK = {"rot+op L3 b5 h32", "rot+op L4 b5 h32"}


def load_lam_gaussians() -> tuple[np.ndarray, np.ndarray]:
    """Rotations [N,4] (w,x,y,z) and opacity logits [N] of offset.ply in the LAM zip."""
    path = next(p for p in LAM_ZIPS if p.exists())
    with zipfile.ZipFile(path) as zf:
        name = next(n for n in zf.namelist() if n.endswith("offset.ply") and "__MACOSX" not in n)
        data = zf.read(name)
    end = data.index(b"end_header\n") + len(b"end_header\n")
    header = data[:end].decode("ascii").splitlines()
    props = [line.split()[-1] for line in header if line.startswith("property")]
    count = int(next(line for line in header if line.startswith("element vertex")).split()[-1])
    table = np.frombuffer(data, np.float32, count * len(props), end).reshape(count, len(props))
    rot = table[:, [props.index(f"rot_{i}") for i in range(4)]].copy()
    return rot, table[:, props.index("opacity")].copy()


def zstd_size(planes: list[np.ndarray]) -> int:
    """Bytes after zstd of byte planes (each array uint8 or uint16 split into low/high planes)."""
    parts = []
    for p in planes:
        p = np.ascontiguousarray(p)
        if p.dtype == np.uint16:
            parts += [(p & 0xFF).astype(np.uint8).tobytes(), (p >> 8).astype(np.uint8).tobytes()]
        else:
            parts.append(p.astype(np.uint8).tobytes())
    return len(zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(b"".join(parts)))


def angle_deg(q1: np.ndarray, q2: np.ndarray) -> np.ndarray:
    a = q1.astype(np.float64) / np.linalg.norm(q1, axis=1, keepdims=True)
    b = q2.astype(np.float64) / np.linalg.norm(q2, axis=1, keepdims=True)
    return np.degrees(2.0 * np.arccos(np.clip(np.abs(np.sum(a * b, axis=1)), 0.0, 1.0)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x.astype(np.float64)))


def errors(rot: np.ndarray, op: np.ndarray, rot_hat: np.ndarray, op_hat: np.ndarray) -> dict:
    ang = angle_deg(rot, rot_hat)
    oe = np.abs(sigmoid(op) - sigmoid(op_hat))
    return {
        "angle_mean_deg": float(ang.mean()),
        "angle_p99_deg": float(np.percentile(ang, 99)),
        "angle_max_deg": float(ang.max()),
        "opacity_mean": float(oe.mean()),
        "opacity_max": float(oe.max()),
    }


def uniform(x: np.ndarray, lo: float, hi: float, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes and reconstruction of uniform quantization of x over [lo, hi]."""
    top = (1 << bits) - 1
    step = (hi - lo) / top
    q = np.clip(np.round((x - lo) / step), 0, top).astype(np.uint16)
    return q, (lo + q * step)


def smallest_three(rot: np.ndarray, bits: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Index of the largest |component| (one byte plane) + the other three over [-1/sqrt2, 1/sqrt2]."""
    q = rot.astype(np.float64) / np.linalg.norm(rot, axis=1, keepdims=True)
    idx = np.argmax(np.abs(q), axis=1)
    q *= np.where(q[np.arange(len(q)), idx] < 0, -1.0, 1.0)[:, None]
    keep = np.ones_like(q, bool)
    keep[np.arange(len(q)), idx] = False
    rest = q[keep].reshape(-1, 3)
    r = 1.0 / np.sqrt(2.0)
    codes, rec = uniform(rest, -r, r, bits)
    out = np.zeros_like(q)
    out[keep] = rec.reshape(-1)
    out[np.arange(len(q)), idx] = np.sqrt(np.maximum(0.0, 1.0 - np.sum(rec * rec, axis=1)))
    return [idx.astype(np.uint8)] + [codes[:, k] for k in range(3)], out


def per_channel(rot: np.ndarray, bits: int) -> tuple[list[np.ndarray], np.ndarray]:
    """The container's ATTR rotation: each of w,x,y,z over its own min..max."""
    planes, out = [], np.zeros(rot.shape)
    for k in range(4):
        c, out[:, k] = uniform(rot[:, k].astype(np.float64), float(rot[:, k].min()), float(rot[:, k].max()), bits)
        planes.append(c)
    return planes, out


def opacity_codes(op: np.ndarray, bits: int, domain: str) -> tuple[list[np.ndarray], np.ndarray]:
    if domain == "logit":
        c, rec = uniform(op.astype(np.float64), float(op.min()), float(op.max()), bits)
        return [c], rec
    s = sigmoid(op)
    c, rec = uniform(s, float(s.min()), float(s.max()), bits)
    rec = np.clip(rec, 1e-6, 1 - 1e-6)
    return [c], np.log(rec / (1.0 - rec))


def baselines(rot: np.ndarray, op: np.ndarray) -> list[dict]:
    n = len(op)
    rows = []
    for rname, rfun, rbits in [("smallest-three", smallest_three, b) for b in (5, 6, 7, 8)] + [("per-channel wxyz", per_channel, b) for b in (6, 8)]:
        for obits, dom in ((5, "sigmoid"), (6, "sigmoid"), (6, "logit"), (8, "logit")):
            if rname == "per-channel wxyz" and (obits, dom) != (6, "logit"):
                continue
            rp, rhat = rfun(rot, rbits)
            op_p, ohat = opacity_codes(op, obits, dom)
            size = zstd_size(rp + op_p)
            rows.append(
                {
                    "codec": f"{rname} {rbits} bit + opacity {dom} {obits} bit",
                    "bytes": size,
                    "bytes_per_gaussian": size / n,
                    "rotation_bytes_per_gaussian": zstd_size(rp) / n,
                    **errors(rot, op, rhat, ohat),
                }
            )
    return rows


def mlp_bytes(lat: LatentAttributes) -> int:
    """FP16 weights and biases of the decoder, zstd-compressed."""
    raw = b"".join(layer.weight.tobytes() + layer.bias.tobytes() for layer in lat.mlp.layers)
    return len(zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(raw)) + 4 * lat.latent_dims  # + latent_scale


def latent_rows(rot: np.ndarray, op: np.ndarray, quick: bool) -> list[dict]:
    n = len(op)
    rows = []
    for name, ids, dims, bits, hidden, iters in LATENT_SETTINGS:
        if quick and name not in QUICK:
            continue
        cfg = FitConfig(latent_dims=dims, latent_bits=bits, hidden=hidden, iters=iters)
        t0 = time.perf_counter()
        lat = fit_latents({ROTATION: rot, OPACITY: op}, ids, cfg)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        dec = decode_latents(lat)
        decode_s = time.perf_counter() - t0
        stored = lat.stored_values()  # [L, N] offset-binary
        dim_major = zstd_size([stored[k] for k in range(dims)])
        interleaved = zstd_size([stored.T.reshape(-1)])
        net = mlp_bytes(lat)
        best = min(dim_major, interleaved)
        rows.append(
            {
                "codec": f"latents {name}",
                "latent_dims": dims,
                "latent_bits": bits,
                "hidden": list(hidden),
                "iters": iters,
                "raw_bits_per_gaussian": dims * bits,
                "latent_bytes_dim_major": dim_major,
                "latent_bytes_interleaved": interleaved,
                "mlp_bytes": net,
                "mlp_parameters": lat.mlp.parameter_count(),
                "bytes": best + net,
                "bytes_per_gaussian": (best + net) / n,
                "fit_s": round(fit_s, 2),
                "decode_s": round(decode_s, 4),
                **errors(rot, op, dec[ROTATION], dec[OPACITY]),
            }
        )
        print(
            f"{rows[-1]['codec']}: {rows[-1]['bytes_per_gaussian']:.3f} B/G, {rows[-1]['angle_mean_deg']:.2f} deg mean, fit {fit_s:.1f} s", flush=True
        )
    return rows


def markdown(result: dict) -> str:
    lines = [
        "# Latent attributes vs plain quantization (rotation + opacity, LAM p2-1)",
        "",
        f"{result['gaussians']} Gaussians; zstd level {ZSTD_LEVEL}; bytes include the decoder MLP (FP16, zstd) for the latent rows.",
        "Errors are attribute-domain: rotation angle in degrees, opacity after the sigmoid.",
        "",
        "| codec | B/Gaussian | angle mean | angle p99 | angle max | opacity mean | opacity max | fit s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(result["rows"], key=lambda r: r["bytes_per_gaussian"]):
        lines.append(
            f"| {r['codec']} | {r['bytes_per_gaussian']:.3f} | {r['angle_mean_deg']:.2f} | {r['angle_p99_deg']:.2f} | {r['angle_max_deg']:.1f} | "
            f"{r['opacity_mean']:.4f} | {r['opacity_max']:.4f} | {r.get('fit_s', '')} |"
        )
    lines += ["", "Latent layouts (bytes of the latents alone):", "", "| codec | dim-major planes | interleaved |", "|---|---|---|"]
    for r in result["rows"]:
        if "latent_bytes_dim_major" in r:
            lines.append(f"| {r['codec']} | {r['latent_bytes_dim_major']} | {r['latent_bytes_interleaved']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="two latent settings only")
    ap.add_argument("--out", type=Path, default=REPO / "bench")
    args = ap.parse_args(argv)
    rot, op = load_lam_gaussians()
    rows = baselines(rot, op) + latent_rows(rot, op, args.quick)
    result = {"gaussians": len(op), "zstd_level": ZSTD_LEVEL, "machine": platform.platform(), "rows": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latents_bench.json").write_text(json.dumps(result, indent=1) + "\n")
    (args.out / "latents_bench.md").write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
