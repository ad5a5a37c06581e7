"""The decoder CLI contract: the {kind} placeholder and the optional FCERROR line (conformance/README.md)."""

from __future__ import annotations

import sys

import pytest

from conformance import cards
from conformance.adapters import CommandAdapter
from conformance.error_line import ErrorLine, format_error_line, parse_error_line
from conformance.paths import SUITE
from conformance.runner import run_suite
from refcodec.errors import E_CRC, E_RANGE, E_SIGNATURE


def test_format_by_hand():
    # bit 259 is bit 3 (from the most significant) of byte 32 (SPEC 3.1)
    assert format_error_line(E_RANGE("x", field="range_max[0][1]", bit_offset=259)) == "FCERROR E_RANGE byte=32 bit=3 field=range_max[0][1]"
    assert format_error_line(E_SIGNATURE("x", field="fcs_signature", bit_offset=0)) == "FCERROR E_SIGNATURE byte=0 bit=0 field=fcs_signature"
    assert format_error_line(E_CRC("x")) == "FCERROR E_CRC"


def test_parse():
    assert parse_error_line("error: something\nFCERROR E_CRC byte=12 bit=7 field=frame_crc\n") == ErrorLine("E_CRC", 12, 103, "frame_crc")
    assert parse_error_line("FCERROR E_CRC byte=12") == ErrorLine("E_CRC", 12, None, None)
    assert parse_error_line("FCERROR E_SECTION field=section_type[2] (META)") == ErrorLine("E_SECTION", None, None, "section_type[2] (META)")
    assert parse_error_line("error: no line here") is None
    with pytest.raises(ValueError):
        parse_error_line("FCERROR E_CRC bit=9")


def _vector(name: str) -> cards.Vector:
    return next(v for v in cards.load_suite(SUITE) if v.name == name)


FAKE = """
import sys
kind, path, line, code = sys.argv[1:5]
assert path.endswith("." + kind), (kind, path)
if line:
    print("error: rejected", file=sys.stderr)
    print(line, file=sys.stderr)
sys.exit(int(code))
"""


def _fake(tmp_path, line: str, code: int) -> str:
    script = tmp_path / "fake.py"
    script.write_text(FAKE)
    return f"{sys.executable} {script} {{kind}} {{input}} '{line}' {code}"


def test_kind_placeholder_and_error_line_location(tmp_path):
    v = _vector("n_range_nan_max")  # E_RANGE (code 9) at range_max[0][1]
    want = v.card["expected"]["error"]
    right = f"FCERROR E_RANGE byte={want['bit_offset'] // 8} bit={want['bit_offset'] % 8} field={want['field']}"
    [res] = run_suite([v], lambda kind: CommandAdapter(_fake(tmp_path, right, 16 + 9), kind=kind))
    assert (res.result, res.notes) == ("pass", [])
    wrong = "FCERROR E_RANGE byte=2 bit=0 field=range_min[0][1]"
    [res] = run_suite([v], lambda kind: CommandAdapter(_fake(tmp_path, wrong, 16 + 9), kind=kind))
    assert res.result == "pass" and "card says bit" in res.notes[0]
    [res] = run_suite([v], lambda kind: CommandAdapter(_fake(tmp_path, wrong, 16 + 9), kind=kind), strict_location=True)
    assert res.result == "fail"


def test_error_line_must_agree_with_the_exit_status(tmp_path):
    v = _vector("n_range_nan_max")
    [res] = run_suite([v], lambda kind: CommandAdapter(_fake(tmp_path, "FCERROR E_CRC", 16 + 9), kind=kind))
    assert res.result == "crash" and "FCERROR says E_CRC" in res.detail


def test_kind_of_a_container_vector(tmp_path):
    # n_signature_container is a .fcs vector holding a container signature: {kind} says fcs
    v = _vector("n_signature_container")
    [res] = run_suite([v], lambda kind: CommandAdapter(_fake(tmp_path, "", 16 + 2), kind=kind))
    assert res.result == "pass"
