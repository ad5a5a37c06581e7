"""SPEC.md, spec/ and the parser agree (one source of truth, no drift).

- The ```syntax tables of SPEC.md list the same elements, in the same order and with the same
  descriptors, as spec/syntax.toml.
- Every element the parser reads (seen in its trace) is declared in spec/syntax.toml with a
  matching descriptor, and every bit-level element of spec/syntax.toml is read by the parser
  for some stream.
- The registry tables of SPEC.md equal spec/errors.toml, spec/groups.toml, spec/levels.toml.
- The requirement ids of SPEC.md equal spec/requirements.toml, and each is cited by the code
  or the tests.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from refcodec.fcs.encoder import EncoderConfig, build_header, encode_track
from refcodec.fcs.storage import iter_units
from refcodec.fcs.syntax import SequenceHeader, read_unit
from refcodec.spec_tables import load
from refcodec.track import Track, TrackGroup

ROOT = Path(__file__).resolve().parents[1]
SPEC = (ROOT / "SPEC.md").read_text()

ELEMENT_LINE = re.compile(r"^(\s+)([a-z][a-z0-9_]*)((?:\[ [a-z] \])*)\s{2,}([a-z_]+\( \)|\S+)$")


def spec_syntax_tables() -> dict[str, list[tuple[str, str]]]:
    """Structure name -> [(element, descriptor)] from SPEC.md's ```syntax blocks."""
    tables = {}
    for block in re.findall(r"```syntax\n(.*?)```", SPEC, re.S):
        lines = block.rstrip("\n").split("\n")
        name = re.match(r"^([a-z_]+)\( \) \{", lines[0]).group(1)
        tables[name] = [(m.group(2), m.group(4)) for ln in lines[1:] if (m := ELEMENT_LINE.match(ln))]
    return tables


def toml_syntax_tables() -> dict[str, list[tuple[str, str]]]:
    return {s["name"]: [(e["name"], e["descriptor"]) for e in s["elements"]] for s in load("syntax")["structure"]}


def test_spec_tables_equal_spec_toml():
    assert spec_syntax_tables() == toml_syntax_tables()


def _descriptor_matches(declared: str, traced: str) -> bool:
    if declared == "u(b)":
        return re.fullmatch(r"u\(\d+\)", traced) is not None
    if declared == "f(1)":
        return re.fullmatch(r"f\(\d+\)", traced) is not None  # the reader records a run of alignment bits
    if declared == "sek(v)":
        return traced in ("se(v)", "sek(v)")
    return declared == traced


def _feature_streams() -> list[bytes]:
    """Streams that between them use every optional element."""
    rng = np.random.default_rng(7)
    values = np.cumsum(rng.normal(0, 0.05, size=(40, 8)), axis=0)
    values[10:14, 5:8] = values[9, 5:8]  # all-zero residuals for the zero flag
    track = Track(values, [TrackGroup("ARKIT52", ["jawOpen", "mouthClose", "tongueOut"], [24, 26, 51]),
                           TrackGroup("HEAD_ROTATION", ["x", "y"], [0, 1]),
                           TrackGroup("EYELIDS", ["left", "right"]),
                           TrackGroup("UNSPECIFIED", ["c0"])], (25, 1))
    header = build_header(track, [8, 10, 3, 16], intra_interval=8, zero_flags=True, header_crc=True,
                          frame_crc=True, avatar_hash=0x0123456789ABCDEF)
    with_all = encode_track(track, header, EncoderConfig(intra_interval=8, repeat_header=True, range_update=True))
    plain = encode_track(track, build_header(track, 6, intra_interval=8), EncoderConfig(intra_interval=8))
    # the Main profile (SPEC 14, R-120): nonzero_init, packets with range updates and frame_crc
    main_header = build_header(track, [8, 10, 3, 16], intra_interval=8, frame_crc=True, profile_idc=1)
    main = encode_track(track, main_header, EncoderConfig(intra_interval=8, range_update=True, packet_frames=3))
    # the loss-resilience tools (SPEC 5.2.1, R-220 to R-223) in both profiles
    tools = [encode_track(track, build_header(track, 8, intra_interval=4, profile_idc=p, intra_pred=True, conceal_extrapolate=True),
                          EncoderConfig(intra_interval=4, packet_frames=1)) for p in (0, 1)]
    # nominal ranges (SPEC 4.2, R-133): the EYELIDS group takes [0, 1] from the registry
    nominal = build_header(track, 8, intra_interval=8)
    nominal.groups[2].range_min, nominal.groups[2].range_max, nominal.groups[2].nominal = [0.0, 0.0], [1.0, 1.0], [True, False]
    tools.append(encode_track(track, nominal, EncoderConfig(intra_interval=8)))
    # cross-dimension prediction (SPEC 5.2.1, R-224, R-225) in both profiles: dimension 1 follows 0 negated
    for profile in (0, 1):
        xdim = build_header(track, 8, intra_interval=8, profile_idc=profile)
        xdim.xdim_pred_flag = True
        for grp in xdim.groups:
            grp.xdim = [None] * grp.dims
        xdim.groups[0].xdim[1] = (0, 1)
        tools.append(encode_track(track, xdim, EncoderConfig(intra_interval=8)))
    return [with_all, plain, main] + tools


def _traces() -> list:
    entries = []
    for data in _feature_streams():
        active = None
        for unit in iter_units(data):
            trace: list = []
            parsed = read_unit(unit.data, active, unit.byte_offset * 8, trace)
            if isinstance(parsed, SequenceHeader):
                active = parsed
            entries.extend(trace)
    return entries


@pytest.fixture(scope="module")
def traced():
    return _traces()


def test_parser_elements_are_declared(traced):
    declared: dict[str, set[str]] = {}
    for rows in toml_syntax_tables().values():
        for name, desc in rows:
            declared.setdefault(name, set()).add(desc)
    for entry in traced:
        base = entry.name.split("[")[0]
        assert base in declared, f"parser reads {entry.name}, which spec/syntax.toml does not declare"
        assert any(_descriptor_matches(d, entry.descriptor) for d in declared[base]), (entry.name, entry.descriptor, declared[base])


def test_every_bit_level_element_is_parsed(traced):
    seen = {e.name.split("[")[0] for e in traced}
    for s in load("syntax")["structure"]:
        if s["level"] != "bit":
            continue
        for e in s["elements"]:
            assert e["name"] in seen, f"{s['name']}.{e['name']} never read by the parser"


def test_parser_order_follows_the_table(traced):
    """Within one unit, elements appear in table order (loops may repeat a prefix)."""
    order = [n for n, _ in toml_syntax_tables()["sequence_header_unit"]]
    names = []
    for e in traced:
        base = e.name.split("[")[0]
        if base == "unit_type" and names:
            break
        names.append(base)
    positions = [order.index(n) for n in names if n in order]
    # the per-group and per-dimension loops jump back; outside the loops the order increases
    assert positions[:10] == sorted(positions[:10])
    assert names[0] == "unit_type" and names[1] == "seq_version"


def _md_table(heading: str) -> list[list[str]]:
    section = SPEC.split(heading, 1)[1]
    rows = []
    for line in section.split("\n")[1:]:
        if line.startswith("#"):
            break
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([c.strip().strip("`") for c in line.strip("|").split("|")])
    return rows


def test_error_table_equals_registry():
    rows = _md_table("### 4.1 Error classes")[1:]
    reg = load("errors")["error"]
    assert [(int(r[0]), r[1], r[2]) for r in rows] == [(e["code"], e["name"], e["summary"]) for e in reg]


def test_group_table_equals_registry():
    rows = [r for r in _md_table("### 4.2 Parameter-group semantics") if r[0].isdigit()]
    reg = load("groups")["group"]
    assert [(int(r[0]), r[1], 0 if r[2] == "any" else int(r[2]), r[3]) for r in rows] == [
        (g["id"], g["name"], g["canonical_dims"], g["meaning"]) for g in reg
    ]


def test_nominal_range_table_equals_registry():
    """Table 4-3 (SPEC 4.2, R-133) lists the nominal bit patterns of spec/groups.toml."""
    rows = [r for r in _md_table("### 4.2 Parameter-group semantics") if r[0].startswith("`") or r[1].startswith("0x")]
    table = {name.strip().strip("`"): (lo.lower(), hi.lower()) for r in rows for name in r[0].split(",") for lo, hi in [(r[1], r[2])]}
    reg = {g["name"]: (g["nominal_min"], g["nominal_max"]) for g in load("groups")["group"] if "nominal_min" in g}
    assert table == reg and len(reg) == 6


def test_level_tables_equal_registry():
    tables = _md_table("### 4.3 Profiles and levels")
    profiles = [r for r in tables if r[0].isdigit() and len(r) == 4]
    levels = [r for r in tables if r[0].isdigit() and len(r) == 6]
    assert [(int(p[0]), p[1], int(p[2])) for p in profiles] == [
        (p["idc"], p["name"], p["max_bit_depth"]) for p in load("levels")["profile"]
    ]
    assert [tuple(int(x) if x.isdigit() else x for x in lv) for lv in levels] == [
        (lv["idc"], lv["name"] if not lv["name"].isdigit() else int(lv["name"]), lv["max_groups"], lv["max_total_dims"],
         lv["max_frame_rate"], lv["max_unit_bytes"])
        for lv in load("levels")["level"]
    ]


def test_arkit_annex_equals_registry():
    annex = SPEC.split("## Annex A.", 1)[1].split("## Annex B.", 1)[0]
    body = annex.split("alphabetical order:", 1)[1]
    names = [n.strip(" \n.") for n in body.replace("\n", " ").split(",")]
    assert names == load("groups")["arkit52"]["names"]


def test_requirements_agree_and_are_cited():
    spec_ids = re.findall(r"\*\*(R-\d{2,3})\.\*\*", SPEC)
    assert len(spec_ids) == len(set(spec_ids)), "a requirement is defined twice"
    toml_ids = [r["id"] for r in load("requirements")["requirement"]]
    assert sorted(spec_ids) == sorted(toml_ids)
    cited = set()
    for path in list((ROOT / "refcodec").rglob("*.py")) + list((ROOT / "tests").rglob("*.py")):
        cited |= set(re.findall(r"R-\d{2,3}\b", path.read_text()))
    missing = sorted(set(spec_ids) - cited)
    assert not missing, f"requirements cited by no code or test: {missing}"
    for req in load("requirements")["requirement"]:
        for test_file in req["checked_by"]:
            assert req["id"] in (ROOT / test_file).read_text(), f"{test_file} does not cite {req['id']}"


# ---- Part 2: the container (SPEC chapter 11) ----
def test_container_declarations_equal_spec_toml():
    """The construct declarations the reader and writer share list the elements of spec/syntax.toml."""
    from refcodec.fca.declarations import STRUCTURES, flatten

    tables = toml_syntax_tables()
    for name, struct in STRUCTURES.items():
        assert flatten(struct) == tables[name], name
    byte_level = {s["name"] for s in load("syntax")["structure"] if s["level"] == "byte"} - {"fcs_file", "fca_file"}
    assert byte_level == set(STRUCTURES)


def test_section_table_equals_registry():
    rows = _md_table("### 11.3 Sections")[1:]
    reg = sorted(load("container")["section"], key=lambda s: (not s["critical"], s["rank"], s["type"]))
    got = sorted(((r[0], r[1] == "yes", int(r[2]), r[3] == "yes") for r in rows), key=lambda t: (not t[1], t[2], t[0]))
    assert got == [(s["type"], s["critical"], s["rank"], s["repeatable"]) for s in reg]


def test_attribute_table_equals_registry():
    rows = _md_table("### 11.7 Gaussian attributes")[1:]
    reg = load("container")["attribute"]
    assert [(int(r[0]), r[1], int(r[2]) if r[2].isdigit() else -1) for r in rows] == [(a["id"], a["name"], a["channels"]) for a in reg]


def test_container_level_table_equals_registry():
    rows = [r for r in _md_table("### 11.9 Container levels") if r[0].isdigit()]
    keys = ["idc", "max_sections", "max_section_bytes", "max_total_bytes", "max_gaussians", "max_vertices", "max_triangles",
            "max_morph_targets", "max_joints", "max_mlp_weights", "max_zstd_window_log",
            "max_decoded_values", "max_text_entries", "max_activations", "max_latent_macs"]
    assert [[int(x) for x in r] for r in rows] == [[lv[k] for k in keys] for lv in load("container")["level"]]


def test_referenced_model_table_equals_registry():
    rows = [r for r in _md_table("#### 11.5.2 Referenced model") if r[1].isdigit()]
    assert [(r[0], int(r[1]), int(r[2])) for r in rows] == [(m["name"], m["vertices"], m["triangles"]) for m in load("container")["referenced_model"]]
