"""fcconform: the CLI contract (external decoders, exit codes, --json, --filter)."""

from __future__ import annotations

import json
import shlex
import sys
import textwrap

import pytest

from tools import fcconform

PY = shlex.quote(sys.executable)
FCDEC = f"{PY} -m tools.fcdec {{input}} -o {{output}}"
FCDEC_RESILIENT = f"{PY} -m tools.fcdec --resilient {{input}} -o {{output}}"


def test_reference_in_process_passes_and_exits_0(capsys):
    assert fcconform.main(["-q"]) == 0
    out = capsys.readouterr().out
    assert "0 fail, 0 wrong verdict, 0 crash, 0 timeout" in out


def test_json_report(capsys):
    assert fcconform.main(["--json", "--filter", "n_crc_*", "--filter", "y_bitdepth_16"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["total"] == 5 and doc["summary"]["pass"] == 5 and doc["summary"]["all_pass"] is True
    assert {v["name"] for v in doc["vectors"]} == {"n_crc_frame", "n_crc_frame_payload", "n_crc_header", "n_crc_header_payload", "y_bitdepth_16"}
    assert all(v["result"] == "pass" for v in doc["vectors"])


def test_usage_errors_exit_2(capsys, tmp_path):
    assert fcconform.main(["--filter", "no_such_vector*"]) == 2
    with pytest.raises(SystemExit) as e:
        fcconform.main(["--resilient-decoder", "x"])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        fcconform.main(["--no-such-option"])
    assert e.value.code == 2
    assert fcconform.main(["--suite", str(tmp_path / "missing")]) == 3


def test_fcdec_as_external_decoder(capsys):
    """Our own command-line decoder follows the contract: dump to {output}, 16 + code on rejection."""
    args = ["--decoder", FCDEC, "--resilient-decoder", FCDEC_RESILIENT, "--jobs", "2", "--json"]
    for pattern in ("y_bitdepth_03", "y_range_update", "y_loss_crc_p", "n_crc_frame", "n_level_unit_size", "i_level_2_max"):
        args += ["--filter", pattern]
    assert fcconform.main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["pass"] == 6


def _script(tmp_path, body: str) -> str:
    p = tmp_path / "dec.py"
    p.write_text(textwrap.dedent(body))
    return f"{PY} {shlex.quote(str(p))}"


def test_broken_external_decoders_are_reported(tmp_path, capsys):
    garbage = _script(
        tmp_path,
        """
        import sys
        open(sys.argv[2], "wb").write(b"\\0" * 24)
    """,
    )
    assert fcconform.main(["--decoder", garbage + " {input} {output}", "--json", "--filter", "y_bitdepth_08", "--filter", "n_crc_frame"]) == 1
    res = {v["name"]: v for v in json.loads(capsys.readouterr().out)["vectors"]}
    assert res["y_bitdepth_08"]["result"] == "fail" and res["y_bitdepth_08"]["first_bad_frame"] == 0
    assert res["n_crc_frame"]["result"] == "wrong_verdict"

    rejects = _script(tmp_path, "raise SystemExit(16 + 13)\n")  # E_CRC for everything
    assert fcconform.main(["--decoder", rejects + " {input}", "--json", "--filter", "y_bitdepth_08", "--filter", "n_crc_frame"]) == 1
    res = {v["name"]: v for v in json.loads(capsys.readouterr().out)["vectors"]}
    assert res["n_crc_frame"]["result"] == "pass" and res["y_bitdepth_08"]["result"] == "wrong_verdict"

    crash = _script(tmp_path, "raise SystemExit(1)\n")
    assert fcconform.main(["--decoder", crash + " {input}", "--json", "--filter", "y_bitdepth_08"]) == 1
    assert json.loads(capsys.readouterr().out)["vectors"][0]["result"] == "crash"

    slow = _script(tmp_path, "import time; time.sleep(5)\n")
    assert fcconform.main(["--decoder", slow + " {input}", "--timeout", "0.5", "--json", "--filter", "y_bitdepth_08"]) == 1
    assert json.loads(capsys.readouterr().out)["vectors"][0]["result"] == "timeout"

    missing = "/nonexistent/decoder {input}"
    assert fcconform.main(["--decoder", missing, "--json", "--filter", "y_bitdepth_08"]) == 1
    assert json.loads(capsys.readouterr().out)["vectors"][0]["result"] == "crash"


def test_dump_on_stdout(tmp_path, capsys):
    """Without {output} in the template the canonical dump is read from stdout."""
    stdout_dec = _script(
        tmp_path,
        """
        import sys
        import numpy as np
        from refcodec.errors import FcError
        from refcodec.fcs.decoder import decode_file
        try:
            res = decode_file(open(sys.argv[1], "rb").read(), strict=sys.argv[2] == "strict")
        except FcError as err:
            raise SystemExit(16 + err.code)
        sys.stdout.buffer.write(b"".join(np.asarray(f.values, "<f4").tobytes() for f in res.frames))
    """,
    )
    assert fcconform.main(["--decoder", stdout_dec + " {input} {mode}", "--filter", "y_loss_drop_i", "--filter", "n_residual_over"]) == 0
    assert "2 vectors: 2 pass" in capsys.readouterr().out
