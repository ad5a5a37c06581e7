"""Card ``targets`` (what a vector is FOR) and the coverage report's order."""

from __future__ import annotations

import pytest

from conformance import cards, coverage
from conformance.paths import SUITE


@pytest.fixture(scope="module")
def stream_cards() -> list[dict]:
    return [v.card for v in cards.load_suite(SUITE) if v.card["kind"] == "fcs"]


def test_every_stream_card_targets_what_it_exercises(stream_cards):
    for c in stream_cards:
        assert c["targets"], c["name"]
        assert set(c["targets"]) <= set(c["requirements"]) | set(c["syntax_elements"]), c["name"]


def test_rejected_vectors_target_the_element_where_decoding_stops(stream_cards):
    for c in stream_cards:
        if c["verdict"] != "reject":
            continue
        base = c["expected"]["error"]["field"].split("[", 1)[0]
        assert any(t.endswith("." + base) for t in c["targets"]), c["name"]


def test_coverage_lists_targeting_vectors_first(stream_cards):
    _, elems, _ = coverage.index(stream_cards)
    zero = elems["frame_unit.group_zero_flag"]
    targeting = [c["name"] for c in stream_cards if "frame_unit.group_zero_flag" in c["targets"]]
    assert sorted(zero[: len(targeting)]) == sorted(targeting)
    assert zero[0] == "y_zero_all_groups" and "i_level_2_max" in zero[len(targeting) :]
    reqs, _, _ = coverage.index(stream_cards)
    assert reqs["R-23"][0].startswith("y_header_")


def test_schema_rejects_a_malformed_target(stream_cards):
    card = dict(stream_cards[0], targets=["not a target"])
    assert any("targets" in p for p in cards.validate(card))
