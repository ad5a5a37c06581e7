"""The runner's judgement of a container (.fca) answer against its card.

Exact tier: the dump is split into its records (SPEC 11.10: name, 0, type, u32 count,
values) and compared record by record with the card, so a mismatch names the first
differing record; then the MD5 of the whole dump. Tolerance tier: raw neural outputs against
the binary64 references with the R-79 bound, and renders (frame count and size first, then
PSNR per frame, SPEC 13.5 R-88/R-89).
"""

from __future__ import annotations

import hashlib
import math
import struct
from pathlib import Path

import numpy as np

from .expected import within_bound

_SIZES = {b"u": 4, b"i": 4, b"f": 4, b"h": 2, b"b": 1}


def split_records(dump: bytes) -> list[tuple[str, bytes]] | None:
    """(name, record bytes) of each record of a canonical dump; None when the bytes do not parse."""
    out, pos = [], 0
    while pos < len(dump):
        end = dump.find(b"\0", pos)
        if end < 0 or end + 6 > len(dump) or dump[end + 1 : end + 2] not in _SIZES:
            return None
        count = struct.unpack_from("<I", dump, end + 2)[0]
        stop = end + 6 + count * _SIZES[dump[end + 1 : end + 2]]
        if stop > len(dump):
            return None
        out.append((dump[pos:end].decode("utf-8", "replace"), dump[pos:stop]))
        pos = stop
    return out


def compare_dump(card: dict, dump: bytes) -> str | None:
    """Why the dump differs from the card's records (None when it matches)."""
    exp = card["expected"]
    got = split_records(dump)
    if got is None:
        return f"the {len(dump)}-byte dump is not a sequence of records (SPEC 11.10)"
    for k, rec in enumerate(exp["records"]):
        if k >= len(got):
            return f"record {k} ({rec['name']}) missing: the dump has {len(got)} records, expected {len(exp['records'])}"
        name, data = got[k]
        if name != rec["name"]:
            return f"record {k} is {name!r}, expected {rec['name']!r}"
        if hashlib.md5(data).hexdigest() != rec["md5"]:
            return f"record {k} ({name}) differs: md5 {hashlib.md5(data).hexdigest()}, expected {rec['md5']} ({len(data)} vs {rec['size']} bytes)"
    if len(got) != len(exp["records"]):
        return f"{len(got) - len(exp['records'])} extra records after the expected {len(exp['records'])}, first {got[len(exp['records'])][0]!r}"
    if hashlib.md5(dump).hexdigest() != exp["dump_md5"]:
        return "the dump's MD5 differs (records match: check the framing)"
    return None


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """SPEC 13.5 R-89: 10 log10(255^2 / MSE) over all pixels and channels (inf when equal)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def compare_tolerance(
    card: dict, directory: Path, neural: dict | None, renders: list | None, skipped: dict[str, str] | None = None
) -> tuple[str | None, list[str]]:
    """(failure or None, notes) for the tolerance tier; ``skipped`` says why an output is missing ("renders" -> why)."""
    exp, notes, skipped = card["expected"], [], skipped or {}
    if "neural" in exp:
        if neural is None:
            notes.append(f"neural outputs not checked ({skipped.get('neural', 'the decoder gave none')})")
        else:
            for out in exp["neural"]["outputs"]:
                if out["name"] not in neural:
                    return f"no {out['name']} neural output", notes
                ok, worst = within_bound(neural[out["name"]], np.load(directory / out["file"]))
                if not ok:
                    return f"{out['name']}: outside the R-79 bound (worst error {worst:.3g} x the bound)", notes
                notes.append(f"{out['name']}: worst error {worst:.2g} x the R-79 bound")
    if "renders" in exp:
        if renders is None:
            notes.append(f"renders not checked ({skipped.get('renders', 'the decoder gave none')})")
            return None, notes
        frames = exp["renders"]["frames"]
        if len(renders) != len(frames):  # count and size before any PSNR
            return f"{len(renders)} rendered frames, expected {len(frames)}", notes
        from PIL import Image

        for f, img in zip(frames, renders, strict=True):
            if img.shape[:2] != (f["height"], f["width"]):
                return f"render {f['index']} is {img.shape[1]}x{img.shape[0]}, expected {f['width']}x{f['height']}", notes
            ref = np.asarray(Image.open(directory / f["file"]).convert("RGB"))
            value = psnr(img[..., :3], ref)
            if value < card["tolerance"]["psnr_db"]:
                return f"render {f['index']}: PSNR {value:.2f} dB below {card['tolerance']['psnr_db']} dB", notes
    return None, notes
