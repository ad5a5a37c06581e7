"""Loads the machine-readable half of the spec (``spec/*.toml``).

The codec takes its registries and limits from these files, so SPEC.md, ``spec/`` and the
code have one source of truth; tests check SPEC.md against the same files.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path


def spec_dir() -> Path:
    """Directory holding the ``spec/*.toml`` files.

    In a source checkout (and an editable install) that is the repository's ``spec/``, the single
    source; a wheel or a non-editable install carries a build-time copy as ``refcodec/spec/``
    (setup.py), used when the source tree is not there.
    """
    here = Path(__file__).resolve().parent
    source = here.parent / "spec"
    if (source / "levels.toml").is_file():
        return source
    return here / "spec"


@cache
def load(name: str) -> dict:
    """Parse ``spec/<name>.toml``."""
    with open(spec_dir() / f"{name}.toml", "rb") as fh:
        return tomllib.load(fh)


@dataclass(frozen=True)
class Level:
    """Limits of one level (SPEC 4.3)."""

    idc: int
    name: str
    max_groups: int
    max_total_dims: int
    max_frame_rate: int
    max_unit_bytes: int


@cache
def levels() -> dict[int, Level]:
    """Levels by ``level_idc``."""
    return {lv["idc"]: Level(**lv) for lv in load("levels")["level"]}


@cache
def profiles() -> dict[int, dict]:
    """Profiles by ``profile_idc``."""
    return {p["idc"]: p for p in load("levels")["profile"]}


@cache
def group_semantics() -> dict[int, dict]:
    """Parameter-group semantics registry by id (SPEC 4.2)."""
    return {g["id"]: g for g in load("groups")["group"]}


@cache
def arkit52_names() -> tuple[str, ...]:
    """Canonical ARKit-52 order (SPEC annex A)."""
    return tuple(load("groups")["arkit52"]["names"])


def semantic_name(semantic: int) -> str:
    """Registry name of a group semantic; reserved values read as UNSPECIFIED (R-06)."""
    return group_semantics().get(semantic, group_semantics()[0])["name"]


def semantic_id(name: str) -> int:
    """Registry id of a semantic name such as ``"ARKIT52"``."""
    for gid, g in group_semantics().items():
        if g["name"] == name.upper():
            return gid
    raise KeyError(f"unknown group semantic {name!r}; known: {[g['name'] for g in group_semantics().values()]}")


def nominal_range(semantic: int) -> tuple[float, float] | None:
    """SPEC 4.2, R-133: the semantic's nominal range as binary32 values (from their bit patterns), or None."""
    import struct

    g = group_semantics().get(semantic)
    if g is None or "nominal_min" not in g:
        return None
    lo, hi = (struct.unpack(">f", int(g[k], 16).to_bytes(4, "big"))[0] for k in ("nominal_min", "nominal_max"))
    return lo, hi


def canonical_dims(semantic: int) -> int:
    """Canonical dimension count of a semantic (0 = unbounded)."""
    return group_semantics().get(semantic, group_semantics()[0])["canonical_dims"]


def max_unit_bytes_any_level() -> int:
    """The largest unit any level allows (used before a sequence header is known)."""
    return max(lv.max_unit_bytes for lv in levels().values())


@dataclass(frozen=True)
class ContainerLevel:
    """Container limits of one level (SPEC 11.9)."""

    idc: int
    max_sections: int
    max_section_bytes: int
    max_total_bytes: int
    max_gaussians: int
    max_vertices: int
    max_triangles: int
    max_morph_targets: int
    max_joints: int
    max_mlp_weights: int
    max_zstd_window_log: int
    max_decoded_values: int
    max_text_entries: int
    max_activations: int
    max_latent_macs: int


@cache
def container_levels() -> dict[int, ContainerLevel]:
    """Container levels by ``level_idc`` (SPEC 11.9)."""
    return {lv["idc"]: ContainerLevel(**lv) for lv in load("container")["level"]}


@cache
def section_types() -> dict[bytes, dict]:
    """Section registry by four-character type (SPEC 11.3)."""
    return {s["type"].encode("ascii"): s for s in load("container")["section"]}


@cache
def attributes() -> dict[int, dict]:
    """Gaussian attribute registry by id (SPEC 11.7)."""
    return {a["id"]: a for a in load("container")["attribute"]}


def coded_attribute(attribute_id: int) -> int:
    """The attribute an ATTR ``attribute_id`` gives: itself, or the one a coding id ``codes`` (SPEC 11.7.1, R-152)."""
    return attributes()[attribute_id].get("codes", attribute_id)


@cache
def referenced_models() -> dict[str, dict]:
    """Registered external deformation models by name (SPEC 11.5)."""
    return {m["name"]: m for m in load("container")["referenced_model"]}
