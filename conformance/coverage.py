"""Which requirements, syntax elements and error classes the vectors exercise (from their cards).

The stream half of the spec is: requirements R-01..R-45 of spec/requirements.toml (part 1,
numbers below 50) and R-120..R-149 (the Main profile), and the structures of spec/syntax.toml
whose clause lies in SPEC chapters 3, 5 and 14. A requirement that no vector can exercise says so with ``checked_otherwise``.
"""

from __future__ import annotations

from collections import defaultdict

from refcodec.spec_tables import load

STREAM_KIND = "fcs"


def stream_requirements() -> list[dict]:
    """Requirement entries of part 1 (R-01..R-49, R-100..R-119 added by the issue-9 clarifications) and of the
    Main profile (R-120..R-149, SPEC 14)."""
    return [r for r in load("requirements")["requirement"] if int(r["id"][2:]) < 50 or 100 <= int(r["id"][2:]) < 150]


def stream_elements() -> list[str]:
    """``structure.element`` of every bit- or byte-level element of the stream syntax (SPEC 3, 5)."""
    out = []
    for s in load("syntax")["structure"]:
        if s["clause"].split(".")[0] in ("3", "5", "14"):
            out += [f"{s['name']}.{e['name']}" for e in s["elements"] if f"{s['name']}.{e['name']}" not in out]
    return out


def stream_error_classes() -> list[str]:
    """Error classes that a stream can raise (the container-only ones are named in the report)."""
    return [e["name"] for e in load("errors")["error"] if e["name"] not in CONTAINER_ONLY]


CONTAINER_ONLY = {
    "E_LAYOUT_MISMATCH": "needs an avatar (part 2, R-17, R-61)",
    "E_DECOMPRESS": "container sections only",
    "E_SECTION": "container sections only",
}


CONTAINER_KIND = "fca"


def container_requirements() -> list[dict]:
    """Requirement entries of part 2 and of rendering (R-50..R-89, the container bounds R-90..R-97, and R-200..R-219 added by
    the issue-9 clarifications of chapters 11 and 12): container vectors carry the renders."""
    return [r for r in load("requirements")["requirement"] if 50 <= int(r["id"][2:]) < 98 or 200 <= int(r["id"][2:]) < 220]


def container_elements() -> list[str]:
    """``structure.element`` of every element of the container syntax (SPEC 11, 12)."""
    out = []
    for s in load("syntax")["structure"]:
        if s["clause"].split(".")[0] in ("11", "12"):
            out += [f"{s['name']}.{e['name']}" for e in s["elements"] if f"{s['name']}.{e['name']}" not in out]
    return out


#: Error classes no container can raise (stream syntax only).
STREAM_ONLY = {
    "E_LEB128": "LEB128 unit sizes exist in streams only",
    "E_EXPGOLOMB": "Exp-Golomb codes exist in streams only",
    "E_RESIDUAL": "stream residuals only",
    "E_NO_SEQUENCE_HEADER": "stream units only",
}


def container_missing(cards: list[dict]) -> dict[str, list[str]]:
    """What no container vector exercises: requirements (not checked otherwise), elements, error classes."""
    reqs, elems, errs = index(cards, CONTAINER_KIND)
    classes = [e["name"] for e in load("errors")["error"] if e["name"] not in STREAM_ONLY]
    return {
        "requirements": [r["id"] for r in container_requirements() if not reqs.get(r["id"]) and not r.get("checked_otherwise")],
        "syntax_elements": [e for e in container_elements() if not elems.get(e)],
        "error_classes": [e for e in classes if not errs.get(e)],
    }


def index(cards: list[dict], kind: str = STREAM_KIND) -> tuple[dict, dict, dict]:
    """requirement -> vectors, element -> vectors, error class -> n_ vectors, for cards of ``kind``."""
    reqs, elems, errs = defaultdict(list), defaultdict(list), defaultdict(list)
    # vectors written FOR a requirement or element (card "targets") come first, then the others
    for c in sorted(cards, key=lambda c: c["name"]):
        if c["kind"] != kind:
            continue
        for r in c["requirements"]:
            reqs[r].append(c["name"])
        for e in c["syntax_elements"]:
            elems[e].append(c["name"])
        if c["verdict"] == "reject":
            errs[c["expected"]["error"]["class"]].append(c["name"])
    targeted = {c["name"]: set(c.get("targets", [])) for c in cards if c["kind"] == kind}
    for key_map in (reqs, elems):
        for key, names in key_map.items():
            names.sort(key=lambda n, key=key: (key not in targeted[n], n))
    return reqs, elems, errs


def missing(cards: list[dict]) -> dict[str, list[str]]:
    """What no stream vector exercises: requirements (not checked otherwise), elements, error classes."""
    reqs, elems, errs = index(cards)
    return {
        "requirements": [r["id"] for r in stream_requirements() if not reqs.get(r["id"]) and not r.get("checked_otherwise")],
        "syntax_elements": [e for e in stream_elements() if not elems.get(e)],
        "error_classes": [e for e in stream_error_classes() if not errs.get(e)],
    }


def _names(vectors: list[str], limit: int = 6) -> str:
    shown = ", ".join(f"`{v}`" for v in vectors[:limit])
    return shown + (f" and {len(vectors) - limit} more" if len(vectors) > limit else "")


def _targeting(cards: list[dict], kind: str) -> dict[str, set[str]]:
    """Vector name -> its card's ``targets`` (empty when the card has none)."""
    return {c["name"]: set(c.get("targets", [])) for c in cards if c["kind"] == kind}


def _count(vectors: list[str], key: str, targets: dict[str, set[str]]) -> str:
    """"n" or "n (k written for it)": how many vectors exercise ``key`` and how many target it."""
    k = sum(key in targets.get(v, ()) for v in vectors)
    return f"{len(vectors)} ({k} written for it)" if k else str(len(vectors))


def report_markdown(cards: list[dict]) -> str:
    """The coverage report (conformance/coverage.md): requirement -> vectors and more."""
    reqs, elems, errs = index(cards)
    aims = _targeting(cards, STREAM_KIND)
    stream = [c for c in cards if c["kind"] == STREAM_KIND]
    gaps = missing(cards)
    by_verdict = defaultdict(int)
    for c in stream:
        by_verdict[c["verdict"]] += 1
    lines = [
        "# Conformance coverage (generated by `python -m conformance.generate`; do not edit)",
        "",
        f"Stream vectors: {len(stream)} ({', '.join(f'{v} {k}' for k, v in sorted(by_verdict.items()))}), "
        f"{sum(c['file_size'] for c in stream)} bytes of vector files.",
        "",
        f"Not covered: requirements {gaps['requirements'] or 'none'}; syntax elements {gaps['syntax_elements'] or 'none'}; "
        f"error classes {gaps['error_classes'] or 'none'}.",
        "",
        "## Requirements (SPEC part 1)",
        "",
        "| Requirement | Clause | Summary | Vectors (those written for it first) |",
        "|---|---|---|---|",
    ]
    for r in stream_requirements():
        vs = reqs.get(r["id"], [])
        cell = f"{_count(vs, r['id'], aims)}: {_names(vs)}" if vs else f"checked otherwise: {r.get('checked_otherwise', 'NOT COVERED')}"
        if vs and r.get("checked_otherwise"):
            cell += f" (also checked otherwise: {r['checked_otherwise']})"
        lines.append(f"| {r['id']} | {r['clause']} | {r['summary'].replace('|', '/')} | {cell} |")
    lines += ["", "## Syntax elements (spec/syntax.toml, stream structures)", "", "| Element | Vectors |", "|---|---|"]
    for e in stream_elements():
        vs = elems.get(e, [])
        lines.append(f"| `{e}` | {_count(vs, e, aims)}: {_names(vs, 3)} |" if vs else f"| `{e}` | NOT COVERED |")
    lines += ["", "## Error classes (spec/errors.toml)", "", "| Class | Invalid vectors |", "|---|---|"]
    for e in load("errors")["error"]:
        vs = errs.get(e["name"], [])
        if e["name"] in CONTAINER_ONLY and not vs:
            lines.append(f"| {e['name']} | not applicable to streams: {CONTAINER_ONLY[e['name']]} |")
        else:
            lines.append(f"| {e['name']} | {len(vs)}: {_names(vs)} |" if vs else f"| {e['name']} | NOT COVERED |")
    lines += _container_report(cards)
    return "\n".join(lines) + "\n"


def _container_report(cards: list[dict]) -> list[str]:
    reqs, elems, errs = index(cards, CONTAINER_KIND)
    mine = [c for c in cards if c["kind"] == CONTAINER_KIND]
    gaps = container_missing(cards)
    by_verdict = defaultdict(int)
    for c in mine:
        by_verdict[c["verdict"]] += 1
    lines = [
        "",
        "# Container vectors (.fca)",
        "",
        f"Container vectors: {len(mine)} ({', '.join(f'{v} {k}' for k, v in sorted(by_verdict.items()))}), "
        f"{sum(c['file_size'] for c in mine)} bytes of vector files.",
        "",
        f"Not covered: requirements {gaps['requirements'] or 'none'}; syntax elements {gaps['syntax_elements'] or 'none'}; "
        f"error classes {gaps['error_classes'] or 'none'}.",
        "",
        "## Requirements (SPEC part 2)",
        "",
        "| Requirement | Clause | Summary | Vectors |",
        "|---|---|---|---|",
    ]
    for r in container_requirements():
        vs = reqs.get(r["id"], [])
        cell = f"{len(vs)}: {_names(vs)}" if vs else f"checked otherwise: {r.get('checked_otherwise', 'NOT COVERED')}"
        lines.append(f"| {r['id']} | {r['clause']} | {r['summary'].replace('|', '/')} | {cell} |")
    lines += ["", "## Syntax elements (spec/syntax.toml, container structures)", "", "| Element | Vectors |", "|---|---|"]
    for e in container_elements():
        vs = elems.get(e, [])
        lines.append(f"| `{e}` | {len(vs)}: {_names(vs, 3)} |" if vs else f"| `{e}` | NOT COVERED |")
    lines += ["", "## Error classes (containers)", "", "| Class | Invalid vectors |", "|---|---|"]
    for e in load("errors")["error"]:
        vs = errs.get(e["name"], [])
        if e["name"] in STREAM_ONLY:
            lines.append(f"| {e['name']} | not applicable to containers: {STREAM_ONLY[e['name']]} |")
        else:
            lines.append(f"| {e['name']} | {len(vs)}: {_names(vs)} |" if vs else f"| {e['name']} | NOT COVERED |")
    return lines
