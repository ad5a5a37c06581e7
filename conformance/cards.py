"""Vector cards: loading, schema validation (spec/vector_card.schema.json) and canonical JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from refcodec.spec_tables import load

from .paths import SCHEMA


@cache
def schema() -> dict:
    """The card schema."""
    return json.loads(SCHEMA.read_text())


@cache
def _validator():
    """A JSON Schema 2020-12 validator of cards (jsonschema is needed by the generator and the
    tests only, so running the suite does not require it)."""
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(schema())
    return jsonschema.Draft202012Validator(schema())


def validate(card: dict) -> list[str]:
    """Schema violations of ``card`` (empty when valid)."""
    return [f"{'/'.join(map(str, e.absolute_path)) or '(card)'}: {e.message}" for e in _validator().iter_errors(card)]


@cache
def error_codes() -> dict[str, int]:
    """Error class name -> code (spec/errors.toml)."""
    return {e["name"]: e["code"] for e in load("errors")["error"]}


def _compact(value) -> str:
    return json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(", ", ": "))


def dumps(card: dict) -> str:
    """Canonical card text: one line per top-level field and per entry of an expected list
    (frames, units), in the generator's key order, LF endings. Plain JSON for any reader."""
    lines = []
    for key, value in card.items():
        if isinstance(value, dict):
            inner = []
            for k, v in value.items():
                if isinstance(v, list) and v:
                    inner.append(f'  "{k}": [\n' + ",\n".join(f"   {_compact(x)}" for x in v) + "\n  ]")
                else:
                    inner.append(f'  "{k}": {_compact(v)}')
            lines.append(f' "{key}": {{\n' + ",\n".join(inner) + "\n }")
        else:
            lines.append(f' "{key}": {_compact(value)}')
    text = "{\n" + ",\n".join(lines) + "\n}\n"
    if json.loads(text) != card:
        raise AssertionError("card text does not round-trip")
    return text


@dataclass(frozen=True)
class Vector:
    """A card and the directory holding its files."""

    card: dict
    directory: Path

    @property
    def name(self) -> str:
        return self.card["name"]

    @property
    def path(self) -> Path:
        """The vector file."""
        return self.directory / self.card["file"]


def load_suite(suite: Path) -> list[Vector]:
    """Every card under ``suite`` (recursively), sorted by kind folder then name."""
    out = []
    for p in sorted(suite.rglob("*.json")):
        out.append(Vector(json.loads(p.read_text()), p.parent))
    return sorted(out, key=lambda v: (str(v.directory), v.name))
