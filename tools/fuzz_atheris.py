"""Coverage-guided fuzzing of the FCS and FCA parsers with atheris (libFuzzer), optional.

    pip install atheris   # a cp311 manylinux wheel exists (pyproject extra "fuzz")
    python tools/fuzz_atheris.py [--kind fcs|fca] -atheris_runs=200000 [corpus_dir]

``--kind fcs`` (default) feeds the input to ``decode_file`` (strict and resilient); ``--kind
fca`` to ``read_container`` and ``decode_avatar`` (the full decode, neural evaluation
included). An input may decode or raise a registered ``FcError``; any other exception is a
crash that libFuzzer reports and saves (crash-<sha1>). Without a corpus it starts from valid
inputs made by :func:`refcodec.fcs.fuzzing.random_stream` or
:func:`refcodec.fca.fuzzing.random_container`, written to a temporary directory. Container
inputs are mostly re-framed with valid CRCs before decoding (the first byte of the input
chooses), so that libFuzzer's mutations reach the payload parsers instead of stopping at E_CRC.
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path

try:
    import atheris
except ImportError:  # the harness stays importable (and testable) without it
    atheris = None

from refcodec.errors import FcError

if atheris is not None:
    with atheris.instrument_imports():
        from refcodec.fca.codec import decode_avatar
        from refcodec.fca.container import read_container
        from refcodec.fcs.decoder import decode_file
else:
    from refcodec.fca.codec import decode_avatar
    from refcodec.fca.container import read_container
    from refcodec.fcs.decoder import decode_file

from refcodec.fca.fuzzing import fix_crcs, random_container
from refcodec.fcs.fuzzing import random_stream

MISSING = "fuzz_atheris: atheris is not installed (pip install atheris, or the 'fuzz' extra); fcfuzz needs no extra package"


def test_one_stream(data: bytes) -> None:
    for strict in (True, False):
        try:
            decode_file(data, strict=strict)
        except FcError:
            pass


def test_one_container(data: bytes) -> None:
    if data and data[0] != 0x46 and data[0] & 0x07:  # not 'F': 7 in 8 inputs are re-framed with valid CRCs
        data = fix_crcs(b"FCA1" + data[1:])
    for fn in (read_container, decode_avatar):
        try:
            fn(data)
        except FcError:
            pass


TARGETS = {"fcs": (test_one_stream, random_stream, {"max_frames": 12}), "fca": (test_one_container, random_container, {})}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    kind = "fcs"
    if "--kind" in argv:
        at = argv.index("--kind")
        kind = argv[at + 1] if at + 1 < len(argv) else ""
        del argv[at : at + 2]
    if kind not in TARGETS:
        print(f"fuzz_atheris: --kind must be fcs or fca, not {kind!r}", file=sys.stderr)
        return 2
    if atheris is None:
        print(MISSING, file=sys.stderr)
        return 3
    target, make, options = TARGETS[kind]
    if not any(not a.startswith("-") for a in argv[1:]):  # no corpus given: seed one
        corpus = Path(tempfile.mkdtemp(prefix=f"{kind}_corpus_"))
        rng = random.Random(0)
        for i in range(32):
            (corpus / f"seed{i}.{kind}").write_bytes(make(rng, **options))
        argv.append(str(corpus))
    atheris.Setup(argv, target)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
