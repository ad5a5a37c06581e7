"""Peer formats for fcbench-avatar: the same Gaussians as SPZ, SOG and compressed PLY (via
``@playcanvas/splat-transform``) and as ``.fca``, measured by one piece of code.

Every format is read back as a float 3DGS PLY (splat-transform converts its own formats back;
``.fca`` is decoded and written with :func:`refcodec.avatar.ply.write_ply`), and
:func:`gaussian_errors` compares that PLY with the reference PLY, so bytes per Gaussian and
errors mean the same thing in every row. The reference is the input in Morton order (made by
splat-transform itself), because SOG and compressed PLY store Gaussians in that order; the
benchmark checks that every format kept it.

splat-transform is installed with npm into a scratch folder outside the repository
(``$FC_PEER_DIR``, default ``~/.cache/facecodec/splat-transform``) when node and npm are present;
otherwise the peer rows are skipped with a note.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

SH_C0 = 0.28209479177387814  # degree-0 SH basis: colour = 0.5 + SH_C0 * f_dc
PACKAGE = "@playcanvas/splat-transform"
PEER_FORMATS = {"SPZ v4": ".spz", "SOG": ".sog", "compressed PLY": ".compressed.ply"}
#: Log-scales below this (45 um, far below a pixel; SPZ clamps there too) are left out of the scale error.
VISIBLE_LOG_SCALE = -10.0
ORDER_TOLERANCE_M = 1e-3  # a peer whose Gaussian i lies farther than this from reference Gaussian i reordered them


def scratch_dir() -> Path:
    """Where splat-transform is installed (outside the repository)."""
    return Path(os.environ.get("FC_PEER_DIR", Path.home() / ".cache" / "facecodec" / "splat-transform"))


def splat_transform(install: bool = True, timeout_s: int = 300) -> tuple[Path | None, str]:
    """The splat-transform executable, installing it into :func:`scratch_dir` when needed; or None and why not."""
    exe = scratch_dir() / "node_modules" / ".bin" / "splat-transform"
    if exe.exists():
        return exe, ""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return None, "node/npm not found: peer formats skipped"
    if not install:
        return None, f"{PACKAGE} not installed in {scratch_dir()}: peer formats skipped"
    scratch_dir().mkdir(parents=True, exist_ok=True)
    cmd = ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(scratch_dir()), PACKAGE]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"npm install {PACKAGE} failed ({exc}): peer formats skipped"
    if done.returncode != 0 or not exe.exists():
        return None, f"npm install {PACKAGE} failed (exit {done.returncode}): peer formats skipped"
    return exe, ""


def read_float_ply(data: bytes) -> dict[str, np.ndarray]:
    """Columns of a binary little-endian PLY whose vertex properties are all float (what splat-transform
    and write_ply give). Unlike the codec's reader it keeps non-finite values (SPZ decodes opacity 0 as a
    logit of -inf), since the errors are measured after the sigmoid."""
    end = data.index(b"end_header\n") + len(b"end_header\n")
    head = data[:end].decode("ascii").splitlines()
    n = int(next(line for line in head if line.startswith("element vertex")).split()[2])
    props = [line.split() for line in head if line.startswith("property")]
    if any(p[1] != "float" for p in props):
        raise ValueError("only float properties are supported")
    table = np.frombuffer(data, "<f4", count=n * len(props), offset=end).reshape(n, len(props))
    return {p[2]: table[:, i].astype(np.float64) for i, p in enumerate(props)}


def _stack(cols: dict[str, np.ndarray], names: list[str]) -> np.ndarray:
    return np.stack([cols[k] for k in names], axis=1)


def gaussian_errors(ref: dict[str, np.ndarray], got: dict[str, np.ndarray]) -> dict[str, float]:
    """Largest errors of ``got`` against ``ref`` (same Gaussians, same order), in the domains that matter:
    position (Euclidean, m), rotation (angle between the normalised quaternions, q ~ -q, degrees),
    colour (|delta f_dc| x SH_C0, per channel), opacity (after the sigmoid), scale (|delta log-scale| of the
    axes at least e^-10 m)."""
    pos = np.linalg.norm(_stack(ref, ["x", "y", "z"]) - _stack(got, ["x", "y", "z"]), axis=1)
    qa, qb = _stack(ref, [f"rot_{i}" for i in range(4)]), _stack(got, [f"rot_{i}" for i in range(4)])
    qa, qb = qa / np.linalg.norm(qa, axis=1, keepdims=True), qb / np.linalg.norm(qb, axis=1, keepdims=True)
    angle = np.degrees(2 * np.arccos(np.clip(np.abs(np.sum(qa * qb, axis=1)), 0.0, 1.0)))
    colour = SH_C0 * np.abs(_stack(ref, ["f_dc_0", "f_dc_1", "f_dc_2"]) - _stack(got, ["f_dc_0", "f_dc_1", "f_dc_2"]))
    with np.errstate(over="ignore"):
        alpha = lambda x: 1.0 / (1.0 + np.exp(-x))  # noqa: E731
        opacity = np.abs(alpha(ref["opacity"]) - alpha(got["opacity"]))
    ref_scale = _stack(ref, ["scale_0", "scale_1", "scale_2"])
    scale = np.abs(ref_scale - _stack(got, ["scale_0", "scale_1", "scale_2"]))[ref_scale >= VISIBLE_LOG_SCALE]
    return {
        "position_m": float(pos.max()),
        "rotation_deg": float(angle.max()),
        "colour": float(colour.max()),
        "colour_over_0.1": int(np.sum(colour.max(axis=1) > 0.1)),
        "opacity": float(opacity.max()),
        "log_scale": float(scale.max(initial=0.0)),
        "order_kept": bool(pos.max() <= ORDER_TOLERANCE_M),
    }


def _run(exe: Path, *args: str) -> None:
    subprocess.run([str(exe), "-q", "-w", *args], check=True, capture_output=True, timeout=600)


def peer_rows(ply: bytes, fca_configs: dict, exe: Path | None) -> tuple[list[dict], bytes]:
    """One row per format: bytes, bytes per Gaussian and :func:`gaussian_errors`; and the reference PLY.

    ``fca_configs`` maps a row name to a PackConfig. Without ``exe`` the reference is ``ply`` itself
    and only the .fca rows are made.
    """
    from refcodec.avatar.ply import read_ply, write_ply
    from refcodec.fca import decode_avatar, encode_avatar

    rows = []
    with tempfile.TemporaryDirectory(prefix="fcbench-peers-") as tmp:
        t = Path(tmp)
        (t / "in.ply").write_bytes(ply)
        if exe is not None:
            _run(exe, str(t / "in.ply"), "-M", str(t / "ref.ply"))  # Morton order, as SOG and compressed PLY store it
            ref_bytes = (t / "ref.ply").read_bytes()
        else:
            ref_bytes = ply
        ref = read_float_ply(ref_bytes)
        n = len(ref["x"])

        def fca_row(name: str, config) -> dict:
            # the reference is already in Morton order (splat-transform -M): keeping it compares errors index by index
            # (fcpack's own Morton order of the same file: 268,190 bytes against 268,186 kept, LAM default)
            data = encode_avatar(read_ply(ref_bytes), dataclasses.replace(config, gaussian_order="keep"))
            back = write_ply(decode_avatar(data).gaussians)
            return {"format": f".fca {name}", "bytes": len(data), "bytes_per_gaussian": len(data) / n, **gaussian_errors(ref, read_float_ply(back))}

        rows += [fca_row(name, config) for name, config in fca_configs.items()]
        if exe is not None:
            for name, ext in PEER_FORMATS.items():
                out = t / f"peer{ext}"
                _run(exe, str(t / "ref.ply"), str(out))
                _run(exe, str(out), str(t / f"back_{ext.strip('.')}.ply"))
                got = read_float_ply((t / f"back_{ext.strip('.')}.ply").read_bytes())
                size = out.stat().st_size
                rows.append({"format": name, "bytes": size, "bytes_per_gaussian": size / n, **gaussian_errors(ref, got)})
            spz = next(r for r in rows if r["format"] == MATCHED_PEER)
            if fca_configs:  # the first preset bounded by the peer's own largest errors, measured in this run
                rows.append(fca_row(f"{next(iter(fca_configs))}, at {MATCHED_PEER}'s errors", dataclasses.replace(
                    next(iter(fca_configs.values())), max_errors=matched_errors(spz))))
    return rows, ref_bytes


#: The peer whose accuracy the matched .fca row takes (the issue-13 reference).
MATCHED_PEER = "SPZ v4"


def matched_errors(row: dict) -> dict[str, float]:
    """PackConfig.max_errors equal to a peer row's largest errors (refcodec.fca.bounded.ERROR_KINDS)."""
    return {"position": row["position_m"], "rotation_deg": row["rotation_deg"], "color": row["colour"], "opacity": row["opacity"],
            "log_scale": row["log_scale"]}
