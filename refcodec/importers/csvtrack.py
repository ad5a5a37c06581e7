"""FaceCodec ``.csv`` tracks (our own format; see docs/track-formats.md).

Optional leading comment lines ``# frame_rate=30/1`` and ``# index.<group>=0,3,7``, then a
header row of ``<group>.<dimname>`` columns (``arkit52.jawOpen,head_rotation.x``), then one row
per frame. A group's columns are contiguous; ``<group>`` is the lower-case semantic (``_2``,
``_3``... for a repeated semantic). Values are written with ``repr`` so they read back exactly.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from ..track import Track
from ._common import bad, group_keys, parse_frame_rate, parse_group_key, resolve_group

DESCRIPTION = "FaceCodec csv: header of group.dim columns (arkit52.jawOpen,head_rotation.x), '# frame_rate=30/1'"
DEFAULT_FRAME_RATE = (30, 1)


def load(path: str | Path, **options) -> Track:
    """Read a FaceCodec csv track."""
    if options:
        raise TypeError(f"csv takes no options, got {sorted(options)}")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise bad(path, "file", f"not UTF-8 text ({exc})") from exc
    lines = text.splitlines()
    frame_rate = DEFAULT_FRAME_RATE
    indices: dict[str, list[int]] = {}
    pos = 0
    while pos < len(lines) and (lines[pos].startswith("#") or not lines[pos].strip()):
        body = lines[pos].lstrip("#").strip()
        key, eq, val = body.partition("=")
        key = key.strip()
        if eq and key == "frame_rate":
            frame_rate = parse_frame_rate(path, f"line {pos + 1}: frame_rate", val)
        elif eq and key.startswith("index."):
            try:
                indices[key[len("index."):]] = [int(x) for x in val.split(",") if x.strip()]
            except ValueError as exc:
                raise bad(path, f"line {pos + 1}: {key}", f"expected comma-separated integers, got {val.strip()!r}") from exc
        pos += 1
    if pos >= len(lines):
        raise bad(path, "header", "no header row")
    rows = list(csv.reader(io.StringIO("\n".join(lines[pos:]))))
    header, body_rows = [h.strip() for h in rows[0]], [r for r in rows[1:] if r and any(c.strip() for c in r)]

    spans: list[tuple[str, str, list[int], list[str]]] = []  # key, semantic, columns, names
    for col, h in enumerate(header):
        key, dot, dim = h.partition(".")
        if not dot or not dim:
            raise bad(path, f"header column {col + 1}", f"{h!r} is not '<group>.<dimname>'")
        parsed = parse_group_key(key.lower())
        if parsed is None:
            raise bad(path, f"header column {col + 1}", f"unknown group {key!r}")
        key = key.lower()
        if spans and spans[-1][0] == key:
            spans[-1][2].append(col)
            spans[-1][3].append(dim)
        elif any(s[0] == key for s in spans):
            raise bad(path, f"header column {col + 1}", f"columns of group {key!r} are not contiguous")
        else:
            spans.append((key, parsed[0], [col], [dim]))
    for k in indices:
        if not any(s[0] == k for s in spans):
            raise bad(path, f"index.{k}", "names a group that has no columns")

    values = np.empty((len(body_rows), len(header)), dtype=np.float64)
    for i, row in enumerate(body_rows):
        if len(row) != len(header):
            raise bad(path, f"row {i + 1}", f"has {len(row)} fields, the header has {len(header)}")
        try:
            values[i] = [float(c) for c in row]
        except ValueError as exc:
            raise bad(path, f"row {i + 1}", f"not a number ({exc})") from exc
    if not np.all(np.isfinite(values)):
        r, c = map(int, np.argwhere(~np.isfinite(values))[0])
        raise bad(path, header[c], f"NaN or infinity in row {r + 1}")

    cols, groups = [], []
    for key, semantic, columns, names in spans:
        arr, g = resolve_group(path, key, semantic, values[:, columns], names, indices.get(key), f"index.{key}")
        cols.append(arr)
        groups.append(g)
    return Track(np.concatenate(cols, axis=1), groups, frame_rate, source=str(path))


def save(track: Track, path: str | Path) -> None:
    """Write ``track`` as a FaceCodec csv (exact: floats written with ``repr``)."""
    keys = group_keys(track.groups)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        fh.write(f"# frame_rate={track.frame_rate[0]}/{track.frame_rate[1]}\n")
        for key, g in zip(keys, track.groups, strict=True):
            if g.dim_index is not None:
                fh.write(f"# index.{key}={','.join(str(int(i)) for i in g.dim_index)}\n")
        w = csv.writer(fh, lineterminator="\n")
        w.writerow([f"{key}.{n}" for key, g in zip(keys, track.groups, strict=True) for n in g.names])
        for row in track.values:
            w.writerow([repr(float(v)) for v in row])
