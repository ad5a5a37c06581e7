"""The fuzzing helpers are deterministic, a small fixed campaign keeps the decoder contract, and
every container fuzz finding stays fixed (one test each, with the input that found it).

Contract (SPEC 4.1): any input either decodes or raises a registered FcError subclass, with
its field and bit offset. The full campaign is ``fcfuzz --count 100000`` (bench/fuzz_report.json);
this runs a few hundred inputs of it so that a regression shows up in the test suite.
"""

from __future__ import annotations

import base64
import dataclasses
import random

import pytest

from refcodec.errors import REGISTERED, FcError
from refcodec.fca import worst_cases as wc
from refcodec.fca.codec import decode_avatar
from refcodec.fca.container import read_container
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


# -- container findings (fcfuzz --kind fca; /work/prompts/fuzz-findings.md F1..F3) ------------------

F1_NO_META = (
    "RkNBMQEACgAGAAAAum9J61hUUkEAAAAAAQAAAAEAAACQQez3eEFUVFIBAQAAEgAAAB0AAAABMpmrKLUv/SAdTQAAGAAIAAEANhgCQVRUUgEBAAASAAAAHQAA"
    "AJ8yM2cotS/9IB1NAAAYAQgAAQA2GAJBVFRSAQEAABIAAAAdAAAAfDW86Si1L/0gHU0AABgCCAABADYYAkFUVFIBAQAAEgAAACYAAABpeqSOKLUv/SAmTQAA"
    "GAMIAAEASDAEQVRUUgEBAAAUAAAACwAAACJbpVEotS/9IAtZAAAECAAAAAAAAAAAAA=="
)
F1_ANCILLARY_BEFORE_META = (
    "RkNBMQEACgAHAAAA3wj1U1hUUkEAAAAAAQAAAAEAAACQQez3eE1FVEEBAQAAQAAAAFkAAADRFkbqKLUv/SBZvQEABAIBAEAAMAAAAEhCAEIAAMBBgICAAD8/"
    "P0AAAICAgD8/PwkAOgNBMBAOhNAMDqDwk5Td4BnAAkFUVFIBAQAAEgAAAB0AAAABMpmrKLUv/SAdTQAAGAAIAAEANhgCQVRUUgEBAAASAAAAHQAAAJ8yM2co"
    "tS/9IB1NAAAYAQgAAQA2GAJBVFRSAQEAABIAAAAdAAAAfDW86Si1L/0gHU0AABgCCAABADYYAkFUVFIBAQAAEgAAACYAAABpeqSOKLUv/SAmTQAAGAMIAAEA"
    "SDAEQVRUUgEBAAAUAAAACwAAACJbpVEotS/9IAtZAAAECAAAAAAAAAAAAA=="
)
F2_TEXT_FLOOD = (
    "RkNBMQEACgAPAAAAMCBBlk1FVEEBAAAAWQAAAFkAAAAIpmM0BAAAAAAAAAAAQAAwAAAASEIAAEhCAAAAQgAAwEEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACA"
    "AAAAAIAAAAAAgAA/AAAAAD8AAAAAP0AAAAAAAACAgIA/Pz9ERUZSAQAAACoAAAAqAAAANbYfyQlGTEFNRTIwMjD/////////////////////////////////"
    "/////////0JJTkQBAQAAKwAAAC4AAABWBG9UKLUv/SAuFQEA0AIA94gBACYTAAYAgICAPwAVCgA/FRQAABUhAgAAIDPwAkFUVFIBAAAAJgAAACYAAAA6qsej"
    "AAjNCpDM18JMI/W9vbzNzc3MzMxMTEw9PT1SsEoQ5mL0mey645pURVhUAAEAACYAAAD+/wMAxh+nnii1L/2g/v8DAHQAADD//wABAHYBAPf/564ITQAACAAB"
    "APr/ORACVEVYVAABAAAmAAAA/v8DAMYfp54otS/9oP7/AwB0AAAw//8AAQB2AQD3/+euCE0AAAgAAQD6/zkQAlRFWFQAAQAAJgAAAP7/AwDGH6eeKLUv/aD+"
    "/wMAdAAAMP//AAEAdgEA9//nrghNAAAIAAEA+v85EAJBVFRSAQAAACYAAAAmAAAAlxPuvwEIAKRIAHDhgH16v7+/AAAAAAAAwADAPz8/9H7CrrblzUpJSzQC"
    "QVRUUgEAAAAmAAAAJgAAAGAAGA4CCAAUKQCuXMC/v8DAwAAAAAAAAGBgYMDAwKCTlZOL1vVLAZIYnEFUVFIBAAAAMgAAADIAAADCQNXyAwgApEjsAHDhUYB9"
    "eni/v7+/AAAAAAAAAACAgICAPz8/P/////8WIrR15+OFeLN6WNVURVhUAAEAACYAAAD+/wMAxh+nnii1L/2g/v8DAHQAADD//wABAHYBAPf/564ITQAACAAB"
    "APr/ORACQVRUUgEAAAAOAAAADgAAADSkp7QECAAAAMAAAIBAMRj/cVRFWFQAAQAAJgAAAP7/AwDGH6eeKLUv/aD+/wMAdAAAMP//AAEAdgEA9//nrghNAAAI"
    "AAEA+v85EAJURVhUAAEAACYAAAD+/wMAxh+nnii1L/2g/v8DAHQAADD//wABAHYBAPf/564ITQAACAABAPr/ORACVEVYVAABAAAmAAAA/v8DAMYfp54otS/9"
    "oP7/AwB0AAAw//8AAQB2AQD3/+euCE0AAAgAAQD6/zkQAg=="
)


def expect_error(data: bytes, error_class: str, field_part: str) -> FcError:
    """Both container paths reject ``data`` with ``error_class`` naming ``field_part``, offset inside the file."""
    for fn in (read_container, decode_avatar):
        with pytest.raises(FcError) as info:
            fn(data)
        err = info.value
        assert (err.error_class, type(err)) == (error_class, REGISTERED[error_class])
        assert field_part in err.field and 0 <= err.bit_offset <= 8 * len(data)
    return err


def test_f1_ancillary_section_before_meta_is_an_order_error():
    """F1: an unknown ancillary section first made ATTR parse without META (AttributeError), and
    'unknown ancillary, then META' was accepted. R-56: the first section is META, whatever the type."""
    for b64 in (F1_NO_META, F1_ANCILLARY_BEFORE_META):
        err = expect_error(base64.b64decode(b64), "E_SECTION", "section[0]")
        assert err.bit_offset == 8 * 16  # the first section header starts after the 16-byte file header


def test_f2_text_entry_flood_is_rejected_at_its_count():
    """F2: 9 TEXT sections of 65,535 entries (934 B) took 3.8 s and 76 MiB before this was bounded.
    R-91/R-92: text_count is charged against max_text_entries before the first entry is read."""
    data = base64.b64decode(F2_TEXT_FLOOD)
    err = expect_error(data, "E_LEVEL", "TEXT.text_count")
    first_text = data.index(b"TEXT")
    assert err.bit_offset == 8 * (first_text + 20)  # the count is the payload's first element (stored section)


def test_f3_unknown_ancillary_sections_are_not_decompressed():
    """F3: unknown ancillary zstd sections were decompressed and kept (72 MiB from 2.5 KB) before E_LEVEL.
    R-56/R-95: they are skipped unread; a corrupt frame in one is therefore accepted."""
    bomb = wc.section(b"PADX", [wc.Fill(b"\x00", 16 << 20)], flags=0)
    corrupt = dataclasses.replace(bomb, stored=bomb.stored[:8] + bytes(len(bomb.stored) - 8))
    data = wc.file(10, [wc.section(b"META", wc.meta(1)), bomb, bomb, corrupt, *wc.attrs(1, 0)])
    parsed = read_container(data)
    skipped = [s for s in parsed.sections if s.type == b"PADX"]
    assert len(skipped) == 3 and all(s.skipped and not s.raw for s in skipped)
    decode_avatar(data)
    # one more such section takes the raw sizes past max_total_bytes: rejected from its header, before any decompression
    over = wc.file(10, [wc.section(b"META", wc.meta(1)), bomb, bomb, bomb, bomb, *wc.attrs(1, 0)])
    expect_error(over, "E_LEVEL", "section[4].raw_size")
