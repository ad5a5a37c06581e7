"""The registries of spec/*.toml are well formed and match the code (SPEC 4; R-06, R-07, R-08, R-09)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from refcodec import errors
from refcodec.errors import REGISTERED, FcError
from refcodec.spec_tables import arkit52_names, canonical_dims, group_semantics, levels, profiles

SPEC_DIR = Path(__file__).resolve().parents[1] / "spec"


def load(name: str) -> dict:
    with open(SPEC_DIR / f"{name}.toml", "rb") as fh:
        return tomllib.load(fh)


def test_error_registry_matches_code_exactly():
    entries = load("errors")["error"]
    toml = {e["name"]: e["code"] for e in entries}
    assert len(toml) == len(entries), "duplicate error names"
    assert {name: cls.code for name, cls in REGISTERED.items()} == toml
    for name, cls in REGISTERED.items():
        assert issubclass(cls, FcError)
        assert cls.error_class == name
        assert getattr(errors, name) is cls


def test_error_codes_unique_and_dense():
    codes = [e["code"] for e in load("errors")["error"]]
    assert len(set(codes)) == len(codes)
    assert sorted(codes) == list(range(1, len(codes) + 1))
    assert all(e["summary"].strip() for e in load("errors")["error"])


def test_no_unregistered_error_subclass_in_module():
    for name in dir(errors):
        obj = getattr(errors, name)
        if isinstance(obj, type) and issubclass(obj, FcError) and obj is not FcError:
            assert obj.error_class in REGISTERED, name


def test_error_carries_offsets():
    e = REGISTERED["E_CRC"]("bad", field="frame_crc", bit_offset=77)
    assert (e.byte_offset, e.bit_offset, e.field) == (9, 77, "frame_crc")
    d = e.to_dict()
    assert d["error_class"] == "E_CRC" and d["code"] == 13 and d["byte_offset"] == 9
    assert "E_CRC" in str(e)


def test_group_ids_unique_and_canonical_dims():
    groups = load("groups")["group"]
    ids = [g["id"] for g in groups]
    names = [g["name"] for g in groups]
    assert len(set(ids)) == len(ids)
    assert len(set(names)) == len(names)
    assert all(0 <= i <= 255 for i in ids)
    assert all(g["canonical_dims"] >= 0 for g in groups)
    assert group_semantics().keys() == set(ids)
    by_name = {g["name"]: g for g in groups}
    assert by_name["ARKIT52"]["canonical_dims"] == 52
    assert by_name["EYES"]["canonical_dims"] == 6
    assert by_name["UNSPECIFIED"]["id"] == 0 and by_name["UNSPECIFIED"]["canonical_dims"] == 0


def test_reserved_semantic_reads_as_unspecified():
    assert canonical_dims(200) == canonical_dims(0) == 0


def test_arkit52_names():
    names = load("groups")["arkit52"]["names"]
    assert len(names) == 52
    assert len(set(names)) == 52
    assert names == sorted(names), "annex A order is alphabetical"
    assert tuple(names) == arkit52_names()
    assert {"jawOpen", "eyeBlinkLeft", "tongueOut"} <= set(names)


def test_levels_monotonic():
    lv = load("levels")["level"]
    idcs = [x["idc"] for x in lv]
    assert idcs == sorted(idcs) and len(set(idcs)) == len(idcs)
    assert set(idcs) == {10, 20, 30}
    for key in ("max_groups", "max_total_dims", "max_frame_rate", "max_unit_bytes"):
        vals = [x[key] for x in lv]
        assert all(v > 0 for v in vals), key
        assert all(a <= b for a, b in zip(vals, vals[1:], strict=False)), key
    assert all(x["max_groups"] <= 255 for x in lv)  # num_groups is u(8)
    assert all(x["max_unit_bytes"] <= (1 << 32) - 1 for x in lv)  # unit_size is leb128
    assert levels().keys() == set(idcs)


def test_profiles():
    p = load("levels")["profile"]
    assert [x["idc"] for x in p] == [0, 1]  # Baseline and Main (SPEC 14)
    assert p[0]["max_bit_depth"] == 16 and p[1]["max_bit_depth"] == 16
    assert profiles().keys() == {0, 1}
