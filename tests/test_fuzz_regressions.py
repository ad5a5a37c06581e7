"""The fuzzing helpers are deterministic, and a small fixed campaign keeps the decoder contract.

Contract (SPEC 4.1): any input either decodes or raises a registered FcError subclass, with
its field and bit offset. The full campaign is ``fcfuzz --count 100000`` (bench/fuzz_report.json);
this runs a few hundred inputs of it so that a regression shows up in the test suite.
"""

from __future__ import annotations

import random

import pytest

from refcodec.errors import REGISTERED, FcError
from refcodec.fcs.decoder import decode_file
from refcodec.fcs.fuzzing import MUTATORS, join_units, mutate, random_stream, split_units
from tools.fcfuzz import input_for, run_one, seed_pool


def test_random_streams_are_valid_and_deterministic():
    for seed in range(25):
        a = random_stream(random.Random(seed))
        assert a == random_stream(random.Random(seed))
        res = decode_file(a)
        assert res.frames and all(f.status == "decoded" for f in res.frames)
        assert join_units(split_units(a)) == a


@pytest.mark.parametrize("name", sorted(MUTATORS))
def test_each_mutator_is_deterministic_and_keeps_the_contract(name):
    pool = [random_stream(random.Random(100 + i)) for i in range(6)]
    for i in range(40):
        rng1, rng2 = random.Random(i), random.Random(i)
        base, other = pool[i % 6], pool[(i + 1) % 6]
        out = MUTATORS[name](rng1, base, other)
        assert out == MUTATORS[name](rng2, base, other)
        try:
            decode_file(out, strict=True)
        except FcError as err:
            assert type(err) is REGISTERED[err.error_class]
            assert err.error_class != "E_UNKNOWN"


def test_mutate_names_its_steps():
    data = random_stream(random.Random(7))
    out, names = mutate(random.Random(3), data, data)
    assert names and all(n in MUTATORS for n in names)
    assert (out, names) == mutate(random.Random(3), data, data)


def test_small_campaign_keeps_the_contract():
    """Inputs 0..299 of the seed-0 campaign: every path decodes or raises an FcError."""
    pool = seed_pool(0, 0)
    verdicts = set()
    for i in range(300):
        data, _names = input_for(0, i, pool)
        verdicts.update(run_one(data).values())  # raises on anything that is not an FcError
    assert "ok" in verdicts and len(verdicts) > 5
