"""Coverage-guided fuzzing of the FCS decoder with atheris (libFuzzer), optional.

    pip install atheris   # a cp311 manylinux wheel exists
    python tools/fuzz_atheris.py -atheris_runs=200000 [corpus_dir]

The target feeds the input to ``decode_file`` (strict and resilient). An input may decode
or raise a registered ``FcError``; any other exception is a crash that libFuzzer reports and
saves (crash-<sha1>). Without a corpus it starts from valid streams made by
:func:`refcodec.fcs.fuzzing.random_stream`, written to a temporary directory.
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from refcodec.errors import FcError
    from refcodec.fcs.decoder import decode_file

from refcodec.fcs.fuzzing import random_stream


def test_one_input(data: bytes) -> None:
    for strict in (True, False):
        try:
            decode_file(data, strict=strict)
        except FcError:
            pass


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    if not any(not a.startswith("-") for a in argv[1:]):  # no corpus given: seed one
        corpus = Path(tempfile.mkdtemp(prefix="fcs_corpus_"))
        rng = random.Random(0)
        for i in range(32):
            (corpus / f"seed{i}.fcs").write_bytes(random_stream(rng, max_frames=12))
        argv.append(str(corpus))
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
