"""Locations of the suite's files."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "conformance" / "vectors"
SCHEMA = ROOT / "spec" / "vector_card.schema.json"
COVERAGE_REPORT = ROOT / "conformance" / "coverage.md"
BRANCH_REPORT = ROOT / "conformance" / "branch_coverage.json"
