"""The container fuzzing generators, the worst-case builders and the campaign's measurements.

Properties, not a campaign: random containers are valid and reproducible; the framing helpers
round-trip and leave every CRC valid (SPEC 11.2, R-52, R-54), so mutations reach the payload
parsers; zstd bombs expand to exactly what they declare; each worst-case file carries the
count its limit names; the memory probe sees C-heap allocations; a slow first run is re-timed
before an input is called slow. The campaign itself is ``fcfuzz --kind fca`` (bench/fuzz_report.md).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import random
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from refcodec.checksums import crc32
from refcodec.errors import REGISTERED, FcError
from refcodec.fca import fuzzing as ff
from refcodec.fca import worst_cases as wc
from refcodec.fca.codec import decode_avatar
from refcodec.fca.container import read_container
from refcodec.spec_tables import container_levels
from tools import fcfuzz
from tools.fuzz_measure import PeakMemory, configure_allocator, cpu_limit_ms, retime


def crcs_valid(data: bytes) -> bool:
    """Every CRC of the file holds (computed here from SPEC 11.2, not by the helpers under test)."""
    if int.from_bytes(data[12:16], "little") != crc32(data[:12]):
        return False
    pos = 16
    for _ in range(int.from_bytes(data[8:10], "little")):
        size = int.from_bytes(data[pos + 8 : pos + 12], "little")
        if int.from_bytes(data[pos + 16 : pos + 20], "little") != crc32(data[pos : pos + 16] + data[pos + 20 : pos + 20 + size]):
            return False
        pos += 20 + size
    return True


@functools.cache
def pool() -> list[bytes]:
    return [ff.random_container(random.Random(100 + i)) for i in range(8)]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_random_containers_are_valid_and_reproducible(seed):
    data = ff.random_container(random.Random(seed))
    assert data == ff.random_container(random.Random(seed))
    assert crcs_valid(data)
    avatar = decode_avatar(data)  # valid: decodes without an error
    parsed = read_container(data)
    assert avatar.gaussians.count == parsed.first(b"META").payload.gaussian_count
    header, sections, tail = ff.split_container(data)
    assert tail == b"" and ff.join_container(header, sections) == data


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(ff.MUTATORS)), st.integers(0, 2**32 - 1))
def test_mutators_are_deterministic_and_keep_the_contract(name, seed):
    base, other = pool()[seed % 8], pool()[(seed // 8) % 8]
    out = ff.MUTATORS[name](random.Random(seed), base, other)
    assert out == ff.MUTATORS[name](random.Random(seed), base, other)
    assert len(out) <= ff.MAX_INPUT_BYTES + 65536
    for fn in (read_container, decode_avatar):
        try:
            fn(out)
        except FcError as err:
            assert type(err) is REGISTERED[err.error_class]


@pytest.mark.parametrize("name", [n for n in sorted(ff.MUTATORS) if not n.startswith("file_") and n != "forge_file_header"])
def test_structured_mutators_keep_the_crcs_valid(name):
    """Re-framing: CRCs are recomputed, so the parsers see the mutated payloads, not E_CRC."""
    for i in range(30):
        out = ff.MUTATORS[name](random.Random(i), pool()[i % 8], pool()[(i + 3) % 8])
        if ff.split_container(out) is not None:
            assert crcs_valid(out), (name, i)


@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=0, max_size=300))
def test_fix_crcs_makes_every_reachable_crc_valid(noise):
    data = pool()[len(noise) % 8]
    cut = data[: 16 + len(noise)] + noise  # broken framing: fix_crcs repairs what it can reach
    fixed = ff.fix_crcs(cut)
    assert len(fixed) == len(cut)
    assert ff.fix_crcs(ff.fix_crcs(data)) == data  # a valid file is left as it is
    assert int.from_bytes(fixed[12:16], "little") == crc32(fixed[:12])


@pytest.mark.parametrize("size", [0, 1, 1000, 1 << 20])
def test_zstd_bomb_frames_expand_to_exactly_their_size(size):
    frame = ff.zstd_bomb_frame(size)
    assert zstandard.get_frame_parameters(frame).content_size == size
    assert zstandard.ZstdDecompressor().decompress(frame) == bytes(size)
    if size >= 1 << 20:
        assert len(frame) * 100 < size


def test_zstd_bomb_window_and_unknown_size():
    frame = ff.zstd_bomb_frame(1 << 22, window_log=24, content_size=False)
    params = zstandard.get_frame_parameters(frame)
    assert params.content_size == zstandard.CONTENTSIZE_UNKNOWN
    assert params.window_size <= 1 << 24


def test_text_flood_payload_is_the_text_syntax():
    """SPEC 11.8 by hand: u16 count, then per entry u8 key length, key, u16 value length, value."""
    assert ff.text_flood_payload(2, b"k", b"vv") == b"\x02\x00" + (b"\x01k\x02\x00vv" * 2)


def test_text_flood_stays_within_the_input_size():
    for i in range(10):
        out = ff.text_flood(random.Random(i), pool()[i % 8], b"")
        assert len(out) <= ff.MAX_INPUT_BYTES


# -- worst cases ------------------------------------------------------------------------

def small_level():
    """Level 10 with tiny limits: every crafted file must then be valid and carry the limit's count."""
    return dataclasses.replace(container_levels()[10], max_sections=9, max_section_bytes=4000, max_total_bytes=20000, max_gaussians=5,
                               max_vertices=7, max_triangles=9, max_morph_targets=3, max_joints=2, max_mlp_weights=300,
                               max_decoded_values=900, max_text_entries=20, max_activations=100, max_latent_macs=2000)


@pytest.mark.parametrize("limit", sorted(wc.BUILDERS))
def test_worst_cases_are_valid_files_at_their_limit(limit):
    lv = small_level()
    data = wc.BUILDERS[limit][1](lv)
    assert data == wc.BUILDERS[limit][1](lv)
    parsed = read_container(data)
    decode_avatar(data)
    meta = parsed.first(b"META").payload
    defm = parsed.first(b"DEFM")
    raw_total = sum(s.header.raw_size for s in parsed.sections)
    expected = {
        "max_sections": lambda: len(parsed.sections) == lv.max_sections,
        "max_section_bytes": lambda: max(s.header.raw_size for s in parsed.sections) > lv.max_section_bytes - 65541,
        "max_total_bytes": lambda: raw_total == lv.max_total_bytes or len(parsed.sections) == lv.max_sections,
        "max_gaussians": lambda: meta.gaussian_count == lv.max_gaussians and meta.sh_degree == 3,
        "max_vertices": lambda: defm.payload.vertex_count == lv.max_vertices and defm.payload.skeleton is not None,
        "max_triangles": lambda: defm.payload.triangle_count == lv.max_triangles,
        "max_morph_targets": lambda: defm.payload.morph_count == lv.max_morph_targets,
        "max_joints": lambda: defm.payload.skeleton.joint_count == lv.max_joints,
        "max_mlp_weights": lambda: 200 < sum(x.layer_in * x.layer_out for x in parsed.first(b"LATN").payload.latent_decoder.mlp_layers) <= 300,
        "max_zstd_window_log": lambda: meta.gaussian_count == lv.max_gaussians,
        "max_decoded_values": lambda: parsed.budget.decoded_values <= 900,  # reaching the limit: the level-10 test below
        "max_text_entries": lambda: parsed.budget.text_entries == lv.max_text_entries or len(parsed.all(b"TEXT")) == lv.max_sections - 6,
        "max_activations": lambda: 0.7 * lv.max_activations < parsed.budget.widest_activations <= lv.max_activations,
        "max_latent_macs": lambda: 0.5 * lv.max_latent_macs < parsed.budget.latent_macs <= lv.max_latent_macs,
    }
    assert expected[limit]()


def test_worst_case_planes_are_byte_planes():
    """SPEC 11.1.2 by hand: values 0x0102 and 0x0304 at width 2 -> low bytes, then high bytes."""
    assert wc.planes([0x0102, 0x0304], 2) == bytes([0x02, 0x04, 0x01, 0x03])


def test_level10_decoded_values_case_reaches_its_limit():
    lv = container_levels()[10]
    parsed = read_container(wc.BUILDERS["max_decoded_values"][1](lv))
    assert 0.95 * lv.max_decoded_values < parsed.budget.decoded_values <= lv.max_decoded_values


def test_worst_case_files_stay_small():
    """A level-10 worst case declares megabytes but is stored in a few KB (the target's inputs are <= 1 MiB)."""
    lv = container_levels()[10]
    data = wc.BUILDERS["max_gaussians"][1](lv)
    assert len(data) < 1 << 20
    assert read_container(data).first(b"META").payload.gaussian_count == lv.max_gaussians


# -- measurement ------------------------------------------------------------------------

def test_peak_memory_sees_numpy_and_zstd_allocations():
    configure_allocator()
    mem = PeakMemory()
    if not mem.available:
        pytest.skip("no /proc/self/clear_refs here")
    mem.start()
    a = np.ones(32 << 20, np.uint8)  # touched: resident
    assert mem.peak() >= 30 << 20
    del a
    mem.start()
    out = zstandard.ZstdDecompressor().decompress(ff.zstd_bomb_frame(24 << 20))
    assert mem.peak() >= 20 << 20
    del out
    mem.start()
    assert mem.peak() < 8 << 20  # freed blocks left the resident set: the next input starts clean


def test_cpu_limit_formula():
    assert cpu_limit_ms(0) == 50.0
    assert cpu_limit_ms(1_000_000) == pytest.approx(10_050.0)


def test_retime_reports_min_and_median():
    calls = []

    def fn(data):
        calls.append(1)
        end = time.process_time() + (0.02 if len(calls) == 1 else 0.0)
        while time.process_time() < end:
            pass

    lo, med = retime(fn, b"", repeats=3)
    assert len(calls) == 3 and lo <= med and lo < 20


def test_a_slow_first_run_is_retimed_before_it_is_called_slow(monkeypatch, tmp_path):
    """CPU contention or a cold cache can make one run slow: the chunk re-times before judging."""
    state = {"runs": 0}

    def sometimes_slow(data):
        state["runs"] += 1
        if state["runs"] == 1:  # only the very first run burns CPU
            end = time.process_time() + 0.08
            while time.process_time() < end:
                pass

    kind = fcfuzz.Kind("fca", {"flaky": sometimes_slow}, lambda seed, gen: [b"x" * 10], lambda rng, a, b: (a, ["none"]))
    monkeypatch.setitem(fcfuzz.KINDS, "fca", kind)
    part = fcfuzz.run_chunk("fca", 0, 0, 3, str(tmp_path), cpu_base_ms=50.0)
    assert part["slow"] == [] and part["retimed_ok"] == 1


# -- the campaign tool --------------------------------------------------------------------

def test_inputs_are_reproducible_from_seed_and_index():
    p = fcfuzz.seed_pool_fca(5, 0)
    a = fcfuzz.input_for(5, 17, p, "fca")
    assert a == fcfuzz.input_for(5, 17, p, "fca")
    assert fcfuzz.reproduce("fca", 5, 17) == a[0]
    assert len(a[0]) <= fcfuzz.MAX_INPUT_BYTES


def test_failures_go_to_the_temp_dir_by_default(monkeypatch):
    seen = {}

    def fake_campaign(kind, count, seed, out_dir, *args, **kw):
        seen["out"] = out_dir
        return fcfuzz.merge(kind, [], seed, 1.0, 0)

    monkeypatch.setattr(fcfuzz, "campaign", fake_campaign)
    assert fcfuzz.main(["--kind", "fca", "--count", "1", "--isolate", "0", "--no-progress"]) == 0
    assert Path(tempfile.gettempdir()) in seen["out"].parents
    assert fcfuzz.REPO not in seen["out"].parents


def test_small_fca_campaign_writes_its_report(tmp_path):
    out = tmp_path / "r.json"
    md = tmp_path / "r.md"
    code = fcfuzz.main(["--kind", "fca", "--count", "40", "--seed", "3", "--workers", "0", "--isolate", "0", "--no-progress",
                        "--failures", str(tmp_path / "f"), "--json", str(out), "--markdown", str(md)])
    report = json.loads(out.read_text())
    r = report["fca"]
    assert r["inputs"] == 40 and sum(r["verdicts"].values()) + r["unexpected_exceptions"] == 40
    assert set(r["verdicts_per_path"]) == {"read_container", "decode_avatar"}
    assert code == (0 if report["passed"] else 1)
    assert "| fca | 40 |" in md.read_text()


def test_atheris_harness_is_importable_and_keeps_the_contract():
    """The harness imports without atheris; its targets raise nothing but registered errors."""
    from tools import fuzz_atheris

    assert fuzz_atheris.main(["fuzz_atheris", "--kind", "xyz"]) == 2
    for i in range(20):
        data = pool()[i % 8]
        fuzz_atheris.test_one_container(data[: 16 + 7 * i])
        fuzz_atheris.test_one_container(bytes([i]) + data[1:])
    if fuzz_atheris.atheris is None:
        assert fuzz_atheris.main(["fuzz_atheris", "--kind", "fca"]) == 3


def test_time_limit_reports_the_chunks_completed(monkeypatch, tmp_path):
    kind = fcfuzz.Kind("fca", {"quick": lambda data: None}, lambda seed, gen: [b"x"], lambda rng, a, b: (a, ["none"]))
    monkeypatch.setitem(fcfuzz.KINDS, "fca", kind)
    monkeypatch.setattr(fcfuzz, "CHUNK", 10)
    seen = []
    r = fcfuzz.campaign("fca", 100, 0, tmp_path, progress=False, time_limit=0.0, checkpoint=seen.append)
    assert r["stopped_early"] and r["inputs"] == 10 and r["verdicts"] == {"ok": 10}
    r = fcfuzz.campaign("fca", 100, 0, tmp_path, progress=False)
    assert not r["stopped_early"] and r["inputs"] == 100
