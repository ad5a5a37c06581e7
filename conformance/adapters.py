"""Decoder adapters: how the runner obtains a decoder's answer for one vector.

An adapter turns (vector file, mode) into a :class:`DecoderAnswer`: the canonical dump it
decoded, or the error class it rejected the input with, or a crash or a timeout. There is
one in-process adapter per vector kind (the reference decoders) and one generic adapter for
an external command following the CLI contract of conformance/README.md, which serves every
kind. Container vectors (kind ``fca``) plug in by adding an in-process adapter to
:data:`IN_PROCESS`.
"""

from __future__ import annotations

import dataclasses
import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from refcodec.errors import FcError

from .error_line import parse_error_line

#: A decoder that rejects its input exits with this base + the error code (tools/_cli.py convention).
EXIT_ERROR_BASE = 16


@dataclass
class DecoderAnswer:
    """What a decoder did with one vector.

    Attributes:
        outcome: ``"decoded"``, ``"rejected"``, ``"crash"`` or ``"timeout"``.
        dump: the canonical dump (decoded).
        error_class / error_code: the rejection (rejected).
        bit_offset / field: where it was detected, when the adapter can tell (in-process).
        statuses: per-frame SPEC 7.2 statuses, when the adapter can tell (in-process).
        message: diagnostics for a crash.
    """

    outcome: str
    dump: bytes = b""
    error_class: str | None = None
    error_code: int | None = None
    bit_offset: int | None = None
    field: str | None = None
    byte_offset: int | None = None  # an external decoder's FCERROR line may give the byte only
    statuses: list[str] | None = None
    message: str = ""
    neural: dict[str, np.ndarray] | None = None
    renders: list[np.ndarray] | None = None
    #: Main profile (SPEC 14.6, R-128): the coder's rng after each output frame (None: concealed), when the adapter can tell
    final_ranges: list[int | None] | None = None
    skipped: dict[str, str] = dataclasses.field(default_factory=dict)  # tolerance outputs not produced: "renders" -> why


class Adapter(Protocol):
    """Runs one decoder on one vector."""

    def run(self, path: Path, mode: str, timeout: float) -> DecoderAnswer: ...


class ReferenceStreamAdapter:
    """The reference ``.fcs`` decoder, in process.

    ``refcodec.fcs.decoder.decode_file`` is looked up at every call, so a test can replace
    parts of the reference decoder (seeded bugs) and run the suite against them.
    """

    def run(self, path: Path, mode: str, timeout: float) -> DecoderAnswer:
        from refcodec.fcs import decoder

        data = path.read_bytes()
        try:
            result = decoder.decode_file(data, strict=mode == "strict")
        except FcError as err:
            return DecoderAnswer(
                "rejected", error_class=err.error_class, error_code=err.code, bit_offset=err.bit_offset, field=err.field, message=err.describe()
            )
        except Exception as exc:  # noqa: BLE001 - any other exception is a crash of the decoder under test
            return DecoderAnswer("crash", message=f"{type(exc).__name__}: {exc}")
        dump = b"".join(np.asarray(f.values, dtype="<f4").tobytes() for f in result.frames)
        return DecoderAnswer("decoded", dump=dump, statuses=[str(f.status.value) for f in result.frames],
                             final_ranges=[f.final_range for f in result.frames])


class ReferenceContainerAdapter:
    """The reference ``.fca`` reader and canonical dump (SPEC 11.10), in process.

    ``refcodec.fca.container.read_container`` and ``refcodec.fca.dump.canonical_dump`` are looked
    up at every call (seeded bugs replace them). :meth:`tolerance_outputs` gives the neural raw
    outputs and renders of the tolerance tier for the parameter frames of the card.
    """

    def run(self, path: Path, mode: str, timeout: float) -> DecoderAnswer:
        from refcodec.fca import container, dump

        try:
            parsed = container.read_container(path.read_bytes())
            data = dump.canonical_dump(parsed)
        except FcError as err:
            return DecoderAnswer(
                "rejected", error_class=err.error_class, error_code=err.code, bit_offset=err.bit_offset, field=err.field, message=err.describe()
            )
        except Exception as exc:  # noqa: BLE001 - any other exception is a crash of the decoder under test
            return DecoderAnswer("crash", message=f"{type(exc).__name__}: {exc}")
        return DecoderAnswer("decoded", dump=data)

    def tolerance_outputs(self, path: Path, card: dict, answer: DecoderAnswer) -> None:
        """Fill ``answer.neural`` (raw MLP outputs, R-79) and ``answer.renders`` (8-bit frames) as the card asks."""
        from refcodec.avatar.deform import canonical_anchors
        from refcodec.avatar.latents import LatentAttributes, decoder_inputs
        from refcodec.avatar.offset_mlp import assemble_inputs
        from refcodec.fca import codec, container

        exp = card["expected"]
        parsed = container.read_container(path.read_bytes())
        avatar = codec.avatar_from_container(parsed)
        want = exp.get("neural") or exp.get("renders")
        params = np.load(path.parent / want["params_file"]) if want else None
        if "neural" in exp:
            out: dict[str, np.ndarray] = {}
            n = avatar.gaussians.count
            for i, sec in enumerate(parsed.all(b"LATN")):
                p = sec.payload
                lat = LatentAttributes.latents_from_stored(p.latent_values, p.latent_bits, n)
                x = decoder_inputs(lat, np.asarray(p.latent_scale, np.float32))
                out[f"latn.{i}"] = codec.mlp_from_payload(p.latent_decoder).evaluate(x)
            if avatar.offset_mlp is not None:
                desc, mlp = avatar.offset_mlp
                anchors = canonical_anchors(avatar)
                out["omlp"] = np.stack([mlp.evaluate(assemble_inputs(desc, anchors, avatar.split_params(f))) for f in params])
            answer.neural = out
        if "renders" in exp:
            renderer, missing = _reference_renderer()
            if renderer is None:  # the tier is skipped with a note, as for an external decoder without {renders}
                answer.skipped["renders"] = f"the render extra is not installed: no module {missing!r}; pip install 'facecodec[render]'"
                return
            imgs = renderer(avatar, backend="cpu").render(params)
            answer.renders = [np.clip(np.rint(255.0 * im.numpy().astype(np.float64)), 0, 255).astype(np.uint8) for im in imgs]


RENDER_EXTRA = ("torch", "gsplat", "PIL")
"""Top-level modules of the ``render`` extra that the reference renderer imports."""


def _reference_renderer() -> tuple[type | None, str]:
    """``(Renderer, "")``, or ``(None, missing module)`` when the render extra is not installed."""
    try:
        from refcodec.render import Renderer
    except ImportError as exc:
        top = (exc.name or "").split(".")[0]
        if top in RENDER_EXTRA:
            return None, top
        raise
    return Renderer, ""


#: In-process reference adapters by vector kind.
IN_PROCESS: dict[str, type] = {"fcs": ReferenceStreamAdapter, "fca": ReferenceContainerAdapter}


def reference_adapter(kind: str) -> Adapter:
    """The in-process reference adapter for vectors of ``kind``."""
    if kind not in IN_PROCESS:
        raise KeyError(f"no reference decoder adapter for vector kind {kind!r} (known: {sorted(IN_PROCESS)})")
    return IN_PROCESS[kind]()


class CommandAdapter:
    """An external decoder run as a command (conformance/README.md, "CLI contract").

    ``template`` is a command line with the placeholders ``{input}`` (the vector), ``{output}``
    (where to write the canonical dump; without it the dump is read from stdout), ``{mode}``
    (``strict`` or ``resilient``) and ``{kind}`` (``fcs`` or ``fca``: the vector's format, which
    a decoder cannot always tell from the bytes, e.g. ``n_signature_container``). It is split
    with shell rules and run without a shell. ``resilient_template`` replaces it for
    resilient-mode vectors when given. On rejection, an ``FCERROR`` line on standard error
    (conformance/error_line.py) gives the location; a rejection's ``{output}`` is ignored.
    """

    def __init__(self, template: str, resilient_template: str | None = None, kind: str = ""):
        self.templates = {"strict": template, "resilient": resilient_template or template}
        self.kind = kind
        self._codes = _error_names()

    def run(self, path: Path, mode: str, timeout: float) -> DecoderAnswer:
        with tempfile.TemporaryDirectory(prefix="fcconform-") as tmp:
            out = Path(tmp) / "out.f32"
            neural, renders = Path(tmp) / "neural", Path(tmp) / "renders"
            neural.mkdir()
            renders.mkdir()
            params = path.parent / f"{path.stem}.params.npy"
            template = self.templates[mode]
            kind = self.kind or path.suffix.lstrip(".")
            fill = {
                "input": str(path),
                "output": str(out),
                "mode": mode,
                "kind": kind,
                "params": str(params),
                "neural": str(neural),
                "renders": str(renders),
            }
            argv = [a.format(**fill) for a in shlex.split(template)]
            try:
                proc = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
            except subprocess.TimeoutExpired:
                return DecoderAnswer("timeout", message=f"no answer within {timeout:g} s")
            except OSError as exc:
                return DecoderAnswer("crash", message=f"cannot run {argv[0]!r}: {exc.strerror}")
            tail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
            if proc.returncode == 0:
                if "{output}" in template:
                    dump = out.read_bytes() if out.exists() else b""
                else:
                    dump = proc.stdout
                answer = DecoderAnswer("decoded", dump=dump)
                if "{neural}" in template:  # container tolerance tier (conformance/README.md)
                    answer.neural = {p.stem: np.load(p) for p in sorted(neural.glob("*.npy"))}
                if "{renders}" in template:
                    answer.renders = _read_pngs(sorted(renders.glob("*.png")))
                return answer
            code = proc.returncode - EXIT_ERROR_BASE
            if code not in self._codes:
                return DecoderAnswer("crash", message=f"exit status {proc.returncode}: {tail[0]}")
            answer = DecoderAnswer("rejected", error_class=self._codes[code], error_code=code, message=tail[0])
            try:
                line = parse_error_line(proc.stderr.decode(errors="replace"))
            except ValueError as exc:
                return DecoderAnswer("crash", message=f"exit status {proc.returncode}: {exc}")
            if line is not None:
                if line.error_class != answer.error_class:
                    return DecoderAnswer("crash", message=f"exit status {proc.returncode} ({answer.error_class}) but FCERROR says {line.error_class}")
                answer.bit_offset, answer.byte_offset, answer.field = line.bit_offset, line.byte_offset, line.field
            return answer


def _read_pngs(paths: list[Path]) -> list[np.ndarray]:
    from PIL import Image

    return [np.asarray(Image.open(p).convert("RGB")) for p in paths]


def _error_names() -> dict[int, str]:
    from .cards import error_codes

    return {code: name for name, code in error_codes().items()}
