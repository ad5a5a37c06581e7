"""Writes the container vectors: file, card, per-record ``.md5`` list, tolerance references.

Called by :mod:`conformance.generate`. Exact tier: the canonical dump computed by
:mod:`conformance.container.expected` from the payload dicts. Tolerance tier: binary64
evaluations of the neural parts (``<name>.latn<i>.npy``, ``<name>.omlp.npy`` for the parameter
frames of ``<name>.params.npy``) and, for a few avatars, reference renders (``<name>.r<k>.png``,
the reference CPU renderer at the container's render size; SPEC 13.5 R-88/R-89: 50 dB).
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from .. import cards
from .definitions import ContainerDef
from .expected import ATTR_NAMES, dequantize, dump_md5s, dump_records, latent_inputs, mlp_f64, offset_inputs
from .suite import all_container_defs
from .writer import Sec

VERDICTS = {"y": "decode", "n": "reject", "i": "implementation_defined"}
PSNR_DB = 50.0  # SPEC 13.5, R-89
R79 = "|y - y_ref| <= 1e-4 (1 + |y_ref|) per raw MLP output (SPEC 12.4, R-79)"


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def _png(img: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG", optimize=False, compress_level=9)
    return buf.getvalue()


def params_frames(meta: dict, count: int, seed: int) -> np.ndarray:
    """[count, D] binary32 parameter frames in layout order: frame 0 neutral, then random small values."""
    dims = sum(g["layout_dims"] for g in meta["layout_groups"])
    rng = np.random.RandomState(seed)
    out = np.zeros((count, dims), np.float32)
    pos = 0
    for g in meta["layout_groups"]:
        d = g["layout_dims"]
        scale = 0.6 if g["layout_semantic"] == 2 else 0.15
        out[1:, pos : pos + d] = rng.uniform(0, scale, (count - 1, d)) if g["layout_semantic"] == 2 else rng.normal(0, scale, (count - 1, d))
        pos += d
    return out


def _groups(meta: dict, frame: np.ndarray) -> dict[int, np.ndarray]:
    out, pos = {}, 0
    for g in meta["layout_groups"]:
        out[g["layout_semantic"]] = frame[pos : pos + g["layout_dims"]]
        pos += g["layout_dims"]
    return out


def neural_references(secs: list[Sec], params: np.ndarray | None) -> dict[str, np.ndarray]:
    """R-79 references: ``latn.<i>`` [N, C] per LATN section, ``omlp`` [K, N, 10] per frame (binary64)."""
    meta = next(s.payload for s in secs if s.type == b"META")
    n = meta["gaussian_count"]
    out: dict[str, np.ndarray] = {}
    lat = [s.payload for s in secs if s.type == b"LATN"]
    for i, p in enumerate(lat):
        out[f"latn.{i}"] = mlp_f64(p["latent_decoder"], latent_inputs(p, n))
    om = next((s.payload for s in secs if s.type == b"OMLP"), None)
    if om is not None:
        bind = next((s.payload for s in secs if s.type == b"BIND"), {"binding_mode": 0})
        if bind["binding_mode"] != 0:
            raise ValueError("offset-MLP vectors use binding mode 0: the canonical anchors are the stored positions (R-77)")
        pos = next(s.payload for s in secs if s.type == b"ATTR" and s.payload["attribute_id"] == 0)
        anchors = dequantize(pos["attribute"], 3)
        out["omlp"] = np.stack([mlp_f64(om["offset_network"], offset_inputs(om, anchors, _groups(meta, f))) for f in params])
    return out


def reference_renders(data: bytes, params: np.ndarray) -> list[np.ndarray]:
    """8-bit frames of the reference CPU renderer for ``params`` (SPEC 13.4 R-87: round(255 v))."""
    from refcodec.fca import decode_avatar
    from refcodec.render import Renderer

    avatar = decode_avatar(data)
    imgs = Renderer(avatar, backend="cpu").render(params if avatar.layout else np.zeros((len(params), 0), np.float32))
    return [np.clip(np.rint(255.0 * im.numpy().astype(np.float64)), 0, 255).astype(np.uint8) for im in imgs]


def _elements(trace, err) -> list[str]:
    if err is None or err.byte_offset is None:
        return sorted({t.element for t in trace})
    return sorted({t.element for t in trace if t.offset <= err.byte_offset})


def build_container_vector(d: ContainerDef) -> tuple[dict, dict[str, bytes]]:
    """The card and every file (name -> bytes) of one container vector."""
    verdict = VERDICTS[d.name[0]]
    built, secs, err = d.make()
    if (verdict == "reject") != (err is not None):
        raise AssertionError(f"{d.name}: verdict {verdict} but error {err}")
    files = {f"{d.name}.fca": built.data}
    neural = d.neural
    expected: dict = {"tier": "tolerance" if (neural or d.render) else "exact", "format": "fca_dump_md5" if err is None else "error_class"}
    reqs = set(d.requirements)
    if err is None:
        recs = dump_records([(s.type, s.payload) for s in secs if s.payload is not None])
        whole, per = dump_md5s(recs)
        files[f"{d.name}.md5"] = "".join(f"{r['md5']}  {r['name']}\n" for r in per).encode()
        expected |= {"dump_md5": whole, "dump_size": sum(r["size"] for r in per), "records": per, "md5_file": f"{d.name}.md5"}
        meta = next(s.payload for s in secs if s.type == b"META")
        params = None
        if neural or d.render:
            params = params_frames(meta, d.frames, seed=len(d.name))
            files[f"{d.name}.params.npy"] = _npy(params)
        if neural:
            refs = neural_references(secs, params)
            outs = []
            for key, arr in refs.items():
                fname = f"{d.name}.{key.replace('.', '')}.npy"
                files[fname] = _npy(arr.astype("<f8"))
                outs.append({"name": key, "file": fname, "shape": list(arr.shape)})
            expected["neural"] = {"params_file": f"{d.name}.params.npy", "outputs": outs}
        if d.render:
            frames = []
            for k, img in enumerate(reference_renders(built.data, params)):
                fname = f"{d.name}.r{k}.png"
                files[fname] = _png(img)
                frames.append({"index": k, "file": fname, "width": int(img.shape[1]), "height": int(img.shape[0])})
            expected["renders"] = {"params_file": f"{d.name}.params.npy", "frames": frames}
            reqs |= {"R-66"}
        if verdict == "implementation_defined":
            expected["accept_errors"] = list(d.accept_errors)
        reqs |= {"R-69"}
    else:
        expected["error"] = {"class": err.error_class, "code": cards.error_codes()[err.error_class], "field": err.field}
        if err.byte_offset is not None:
            expected["error"]["byte_offset"] = err.byte_offset
    tolerance = None
    if expected["tier"] == "tolerance":
        tolerance = {}
        if neural:
            tolerance |= {"max_abs_error": 1e-4, "relative_to_reference": True, "rule": R79}
        if d.render:
            tolerance["psnr_db"] = PSNR_DB
    card = {
        "card_version": 1,
        "name": d.name,
        "kind": "fca",
        "file": f"{d.name}.fca",
        "file_size": len(built.data),
        "file_md5": hashlib.md5(built.data).hexdigest(),
        "verdict": verdict,
        "mode": "strict",
        "purpose": d.purpose,
        "clauses": sorted(set(d.clauses), key=lambda c: [int(x) for x in c.split(".")]),
        "requirements": sorted(reqs),
        "syntax_elements": _elements(built.trace, err),
        "expected": expected,
        "tolerance": tolerance,
    }
    problems = cards.validate(card)
    if problems:
        raise AssertionError(f"{d.name}: card does not match the schema: {problems}")
    return card, files


def generate_containers(out: Path) -> list[dict]:
    """Write every container vector under ``out`` (replacing what is there)."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        if old.is_file():
            old.unlink()
    written = []
    for d in all_container_defs():
        card, files = build_container_vector(d)
        for name, data in files.items():
            (out / name).write_bytes(data)
        (out / f"{d.name}.json").write_text(cards.dumps(card), newline="\n")
        written.append(card)
    return written


__all__ = ["ATTR_NAMES", "build_container_vector", "generate_containers", "neural_references", "params_frames", "reference_renders"]
