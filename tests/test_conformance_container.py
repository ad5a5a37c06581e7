"""Container half of the conformance suite: regeneration, cards, independent expected outputs,
coverage, and the reference decoder through the runner (SPEC 11, 12, 13; R-50..R-89)."""

from __future__ import annotations

import hashlib
import struct
import zlib

import numpy as np
import pytest

from conformance import cards, coverage
from conformance.adapters import DecoderAnswer, reference_adapter
from conformance.container.check import split_records
from conformance.container.expected import mlp_f64, within_bound
from conformance.container.generate import generate_containers
from conformance.paths import SUITE
from conformance.runner import check, run_suite, summary

CONTAINER = SUITE / "container"


@pytest.fixture(scope="module")
def suite() -> list[cards.Vector]:
    return [v for v in cards.load_suite(SUITE) if v.card["kind"] == "fca"]


def by_name(suite, name: str) -> cards.Vector:
    return next(v for v in suite if v.name == name)


def test_regeneration_is_byte_identical(tmp_path):
    generate_containers(tmp_path)
    new = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    old = {p.name: p.read_bytes() for p in CONTAINER.iterdir()}
    assert sorted(new) == sorted(old), "run python -m conformance.generate"
    assert [n for n in new if new[n] != old[n]] == []


def test_cards_follow_the_schema_and_their_files(suite):
    assert 60 <= len(suite) <= 220
    total = 0
    for v in suite:
        c = v.card
        assert cards.validate(c) == [], c["name"]
        data = v.path.read_bytes()
        total += len(data)
        assert len(data) == c["file_size"] and hashlib.md5(data).hexdigest() == c["file_md5"]
        exp = c["expected"]
        if "md5_file" in exp:
            lines = (v.directory / exp["md5_file"]).read_text().splitlines()
            assert lines == [f"{r['md5']}  {r['name']}" for r in exp["records"]]
    assert total < 200_000  # the whole container suite stays small enough to read and ship


def test_every_requirement_element_and_error_class_is_covered(suite):
    gaps = coverage.container_missing([v.card for v in suite])
    assert gaps == {"requirements": [], "syntax_elements": [], "error_classes": []}
    names = {v.name for v in suite}
    for needed in ("y_vertex_full", "y_triangle_map", "y_bind_mode0", "y_defr_flame_vertex", "y_text_ancillary", "y_latn", "y_omlp"):
        assert needed in names


def test_q_bits_1_to_16_and_32_all_appear(suite):
    """Every q_bits value of SPEC 11.1.3 appears in some decodable vector's quantized blocks."""
    from refcodec.fca.container import read_container

    seen = set()
    for v in suite:
        if v.card["verdict"] != "decode":
            continue
        for sec in read_container(v.path.read_bytes()).sections:
            p = sec.payload
            blocks = [getattr(p, k, None) for k in ("attribute", "vertices", "barycentric", "base_vertices")] if p is not None else []
            blocks += list(getattr(p, "vertex_residuals", None) or [])
            for m in getattr(p, "morphs", None) or []:  # DEFM: one block per target; DEFS: one per level (SPEC 11.5.3)
                blocks += [x.morph_deltas for x in m.morph_levels] if "morph_levels" in m else [m.morph_deltas]
            seen |= {blk.q_bits for blk in blocks if blk is not None}
    assert seen - set(range(129, 145)) - set(range(161, 177)) == set(range(1, 17)) | {32}
    assert {129, 144} <= seen and seen & set(range(130, 137)) and seen & set(range(137, 144))  # both sample widths
    assert seen & set(range(161, 169)) and seen & set(range(169, 177))  # channel references at both sample widths


def test_minimal_vector_dump_by_hand(suite):
    """y_minimal_raw's dump computed here with struct from the values of SPEC 11 chosen for it."""

    def rec(name, kind, fmt, *values):
        payload = struct.pack("<" + fmt, *values) if fmt else b""
        return name.encode() + b"\0" + kind.encode() + struct.pack("<I", len(payload) // 4) + payload

    dump = b"".join(
        [
            rec("meta.counts", "u", "3I", 1, 0, 0),
            rec("meta.layout", "u", ""),
            rec("meta.render", "f", "21f", 64, 48, 50, 50, 32, 24, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 1, 1, 1),
            rec("attr.positions", "f", "3f", 0.5, -1.0, 2.0),
            rec("attr.sh_dc", "f", "3f", 0.1, 0.2, 0.3),
            rec("attr.log_scales", "f", "3f", -4.0, -4.5, -5.0),
            rec("attr.rotations", "f", "4f", 1, 0, 0, 0),
            rec("attr.opacity_logits", "f", "f", 2.0),
        ]
    )
    card = by_name(suite, "y_minimal_raw").card
    assert hashlib.md5(dump).hexdigest() == card["expected"]["dump_md5"]
    assert [n for n, _ in split_records(dump)] == [r["name"] for r in card["expected"]["records"]]


def test_quantized_record_by_hand(suite):
    """y_qbits_edges, OPACITY at 13 bits over [-1e30, 1e30]: samples 0, 8191, 4096 by the R-58 formula
    in Python binary64 rounded to binary32 after each operation."""
    f32 = lambda x: struct.unpack("<f", struct.pack("<f", x))[0]  # noqa: E731
    lo, hi = f32(-1e30), f32(1e30)
    step = f32(f32(hi - lo) / 8191.0)
    values = [f32(lo + f32(q * step)) for q in (0, 8191, 4096)]
    rec = b"attr.opacity_logits\0f" + struct.pack("<I", 3) + struct.pack("<3f", *values)
    card = by_name(suite, "y_qbits_edges").card
    got = next(r for r in card["expected"]["records"] if r["name"] == "attr.opacity_logits")
    assert got["md5"] == hashlib.md5(rec).hexdigest()


def test_invalid_vectors_by_hand(suite):
    """A few rejections whose bytes are checked here with zlib and struct."""
    data = by_name(suite, "n_header_crc").path.read_bytes()
    assert struct.unpack_from("<I", data, 12)[0] == zlib.crc32(data[:12]) ^ 1
    data = by_name(suite, "n_raw_size_4gib").path.read_bytes()
    assert struct.unpack_from("<I", data, 16 + 12)[0] == 0xFFFFFFFF and len(data) < 1024
    assert by_name(suite, "n_raw_size_4gib").card["expected"]["error"] == {
        "class": "E_LEVEL",
        "code": 5,
        "field": "section[0].raw_size",
        "byte_offset": 28,
    }


def test_neural_references_are_binary64_evaluations(suite):
    """The stored references equal an independent float64 evaluation (refcodec's evaluate_f64)."""
    from refcodec.avatar.latents import LatentAttributes, decoder_inputs
    from refcodec.fca import codec
    from refcodec.fca.container import read_container

    v = by_name(suite, "y_latn")
    parsed = read_container(v.path.read_bytes())
    p = parsed.first(b"LATN").payload
    n = parsed.first(b"META").payload.gaussian_count
    x = decoder_inputs(LatentAttributes.latents_from_stored(p.latent_values, p.latent_bits, n), np.asarray(p.latent_scale, np.float32))
    ref = np.load(v.directory / v.card["expected"]["neural"]["outputs"][0]["file"])
    assert np.allclose(codec.mlp_from_payload(p.latent_decoder).evaluate_f64(x), ref, rtol=1e-12, atol=1e-12)
    assert within_bound(ref + 0.9e-4 * (1 + np.abs(ref)), ref)[0] and not within_bound(ref + 1.1e-4 * (1 + np.abs(ref)), ref)[0]
    layer = {"layer_in": 2, "layer_out": 1, "layer_activation": 2, "layer_mask": bytes([0b01000000]), "layer_weights": [0.5], "layer_bias": [0.25]}
    assert mlp_f64({"mlp_layers": [layer]}, np.array([[3.0, 2.0]]))[0, 0] == pytest.approx(np.tanh(0.25 + 0.5 * 2.0))  # mask bit 1 = weight (0, 1)


def test_reference_decoder_passes_every_container_vector(suite):
    results = run_suite(suite, reference_adapter)
    bad = [(r.name, r.result, r.detail) for r in results if r.result != "pass"]
    assert bad == [] and summary(results)["all_pass"]
    located = [r for r in results if r.notes and any("card says byte" in n for n in r.notes)]
    assert located == [], [(r.name, r.notes) for r in located]


def test_runner_names_the_first_differing_record(suite):
    v = by_name(suite, "y_vertex_full")
    answer = reference_adapter("fca").run(v.path, "strict", 10)
    recs = split_records(answer.dump)
    k = next(i for i, (n, _) in enumerate(recs) if n == "defm.skin.weights")
    broken = bytearray(answer.dump)
    at = sum(len(r) for _, r in recs[:k]) + len(recs[k][1]) - 1
    broken[at] ^= 1
    res = check(v, DecoderAnswer("decoded", dump=bytes(broken)))
    assert res.result == "fail" and "defm.skin.weights" in res.detail and f"record {k}" in res.detail
    res = check(v, DecoderAnswer("decoded", dump=answer.dump[: -len(recs[-1][1])]))
    assert res.result == "fail" and "missing" in res.detail
    res = check(by_name(suite, "n_zstd_expands"), DecoderAnswer("rejected", error_class="E_VALUE"))
    assert res.result == "wrong_verdict"
    res = check(by_name(suite, "i_level30"), DecoderAnswer("rejected", error_class="E_LEVEL"))
    assert res.result == "pass"
