"""FlashAvatar-style offset MLP: per-frame corrections of the Gaussians (SPEC 12.3).

For each Gaussian the MLP takes the positional encoding of its canonical anchor position
followed by selected stream parameters of the current frame, and gives 10 values ``o``. With
``t = tanh(o)`` (binary32) the corrections are:

- position offset ``t[0:3] * position_out_scale`` added to the Gaussian's position;
- a rotation delta ``d`` (w, x, y, z) that multiplies the Gaussian's rotation on the right,
  ``q' = normalize(q (x) d)`` (Hamilton product, as FlashAvatar's ``quatProduct(base, delta)``);
  ``d = (1 + s_r t[3], s_r t[4], s_r t[5], s_r t[6])`` ("additive" mapping) or
  ``d = (exp(s_r t[3]), s_r t[4], s_r t[5], s_r t[6])`` ("flashavatar" mapping);
- a scale correction: ``log_scale + s_s t[7:10]`` ("additive": the scale is multiplied by
  ``exp(s_s t)``) or ``log_scale * exp(s_s t[7:10])`` ("flashavatar", literally what FlashAvatar's
  code does to its log-scales).

The corrections apply to the attributes as stored (before the binding places the Gaussian).
Evaluation is pure numpy binary32; torch is imported only to read ``.pt`` files.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import E_VALUE
from ..spec_tables import group_semantics
from .deform import DeformationError
from .deform import axis_angle_to_matrix as unit_axis_rodrigues
from .latents import normalize_quaternions
from .model import Gaussians
from .neural import CHUNK_ROWS, Dense, Mlp

OUTPUT_DIMS = 10
OUTPUT_MAPPINGS = ("additive", "flashavatar")
INPUT_ENCODINGS = ("values", "rot6d")
MAX_PE_FREQUENCIES = 16


@dataclass(frozen=True)
class OffsetInput:
    """One stream parameter group fed to the MLP.

    Attributes:
        semantic: group semantic id (spec/groups.toml), e.g. 1 = EXPRESSION, 5 = JAW.
        dims: the group's dimension count in the layout.
        encoding: "values" (the dequantized values as they are) or "rot6d" (each axis-angle
            triple becomes the first two rows of its rotation matrix, 6 values; dims % 3 == 0).
    """

    semantic: int
    dims: int
    encoding: str = "values"

    @property
    def width(self) -> int:
        """Values this group contributes to the MLP input."""
        return self.dims * 2 if self.encoding == "rot6d" else self.dims


@dataclass
class OffsetMlpDescriptor:
    """Architecture of an offset MLP (the weights are a :class:`~refcodec.avatar.neural.Mlp`).

    Attributes:
        pe_frequencies: F, 0..16: frequencies 2^0 .. 2^(F-1).
        pe_include_input: whether the normalised position itself precedes the sin/cos terms.
        position_center, position_scale: normalisation before encoding,
            ``p' = (p - position_center) * position_scale`` (binary32 [3] and scalar).
        inputs: stream groups, in input order.
        output_mapping: "additive" or "flashavatar".
        position_out_scale, rotation_out_scale, scale_out_scale: s_p, s_r, s_s (binary32).
    """

    pe_frequencies: int
    inputs: tuple[OffsetInput, ...] = ()
    pe_include_input: bool = True
    position_center: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float32))
    position_scale: float = 1.0
    output_mapping: str = "additive"
    position_out_scale: float = 1.0
    rotation_out_scale: float = 1.0
    scale_out_scale: float = 1.0

    @property
    def pe_dims(self) -> int:
        """Width of the positional encoding: 3 x (include_input + 2F)."""
        return 3 * (int(self.pe_include_input) + 2 * self.pe_frequencies)

    @property
    def input_dims(self) -> int:
        """MLP input width: the encoding followed by the stream groups."""
        return self.pe_dims + sum(i.width for i in self.inputs)

    def validate(self, mlp: Mlp | None = None) -> None:
        """Raise ``E_VALUE`` naming the first bad field (SPEC 12.3, R-76)."""
        if not 0 <= self.pe_frequencies <= MAX_PE_FREQUENCIES:
            raise E_VALUE(f"{self.pe_frequencies} is not 0..{MAX_PE_FREQUENCIES}", field="pe_frequencies")
        if self.pe_dims == 0:
            raise E_VALUE("the positional encoding is empty (F = 0 and no input)", field="pe_include_input")
        c = np.asarray(self.position_center)
        if c.dtype != np.float32 or c.shape != (3,) or not np.all(np.isfinite(c)):
            raise E_VALUE("must be 3 finite binary32 values", field="position_center")
        for name in ("position_scale", "position_out_scale", "rotation_out_scale", "scale_out_scale"):
            v = getattr(self, name)
            if not np.isfinite(np.float32(v)):
                raise E_VALUE(f"{v} is not finite", field=name)
        if self.output_mapping not in OUTPUT_MAPPINGS:
            raise E_VALUE(f"{self.output_mapping!r} is not one of {OUTPUT_MAPPINGS}", field="output_mapping")
        seen = set()
        for k, inp in enumerate(self.inputs):
            where = f"offset_inputs[{k}]"
            if inp.semantic not in group_semantics() or inp.semantic in seen:
                raise E_VALUE(f"semantic {inp.semantic} is not a registered group or repeats", field=f"{where}.semantic")
            seen.add(inp.semantic)
            if inp.encoding not in INPUT_ENCODINGS:
                raise E_VALUE(f"{inp.encoding!r} is not one of {INPUT_ENCODINGS}", field=f"{where}.encoding")
            if inp.dims < 1 or (inp.encoding == "rot6d" and inp.dims % 3):
                raise E_VALUE(f"dims {inp.dims} do not suit encoding {inp.encoding}", field=f"{where}.dims")
        if mlp is not None:
            mlp.validate(in_dims=self.input_dims, out_dims=OUTPUT_DIMS)


# ------------------------------------------------------------------------------ input assembly
def positional_encoding(positions: np.ndarray, desc: OffsetMlpDescriptor) -> np.ndarray:
    """[N, pe_dims] binary32: ``[p', sin(2^0 p'), cos(2^0 p'), ..., sin(2^(F-1) p'), cos(2^(F-1) p')]``,
    each term an (x, y, z) triple, ``p' = (p - center) * scale`` (SPEC 12.3, R-77)."""
    p = (np.asarray(positions, np.float32) - desc.position_center) * np.float32(desc.position_scale)
    terms = [p] if desc.pe_include_input else []
    for k in range(desc.pe_frequencies):
        arg = p * np.float32(2.0**k)  # a power of two: exact in binary32
        terms += [np.sin(arg), np.cos(arg)]
    return np.concatenate(terms, axis=1).astype(np.float32)


def axis_angle_to_matrix(r: np.ndarray) -> np.ndarray:
    """Rodrigues' formula in binary32 for [M, 3] axis-angle vectors -> [M, 3, 3] (SPEC 12.3, R-77)."""
    r = np.asarray(r, np.float32).reshape(-1, 3)
    with np.errstate(over="ignore"):
        theta2 = np.sum(r * r, axis=1, dtype=np.float32)
    theta = np.sqrt(theta2)
    k = np.zeros((len(r), 3, 3), np.float32)
    k[:, 0, 1], k[:, 0, 2], k[:, 1, 2] = -r[:, 2], r[:, 1], -r[:, 0]
    k[:, 1, 0], k[:, 2, 0], k[:, 2, 1] = r[:, 2], -r[:, 1], r[:, 0]
    small = theta < np.float32(1e-4)  # series: sin t / t ~ 1 - t^2/6, (1 - cos t) / t^2 ~ 1/2 - t^2/24
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        a = np.where(small, 1 - theta2 / 6, np.sin(theta) / theta).astype(np.float32)
        b = np.where(small, 0.5 - theta2 / 24, (1 - np.cos(theta)) / theta2).astype(np.float32)
        out = np.eye(3, dtype=np.float32) + a[:, None, None] * k + b[:, None, None] * (k @ k)
    huge = ~(theta2 < np.float32(1e30))  # K @ K would overflow: the unit-axis form, same rotation (SPEC 13.1, R-96)
    if np.any(huge):
        out[huge] = unit_axis_rodrigues(r[huge])
    return out


def encode_group(values: np.ndarray, inp: OffsetInput) -> np.ndarray:
    """The MLP input values of one stream group (SPEC 12.3, R-77)."""
    v = np.asarray(values, np.float32).reshape(-1)
    if v.size != inp.dims:
        raise E_VALUE(f"group {inp.semantic} has {v.size} values, the descriptor says {inp.dims}", field="offset_inputs")
    if inp.encoding == "values":
        return v
    return axis_angle_to_matrix(v.reshape(-1, 3))[:, :2, :].reshape(-1)  # rows 0 and 1, row-major


def _group_values(stream_groups: dict, semantic: int) -> np.ndarray:
    name = group_semantics()[semantic]["name"]
    for key in (semantic, name):
        if key in stream_groups:
            return stream_groups[key]
    raise E_VALUE(f"the frame has no {name} group", field="offset_inputs")


def assemble_inputs(desc: OffsetMlpDescriptor, canonical_positions: np.ndarray, stream_groups: dict) -> np.ndarray:
    """[N, input_dims] binary32: encoding of each Gaussian's anchor, then the groups in order."""
    pe = positional_encoding(canonical_positions, desc)
    if not desc.inputs:
        return pe
    cond = np.concatenate([encode_group(_group_values(stream_groups, i.semantic), i) for i in desc.inputs])
    return np.concatenate([pe, np.broadcast_to(cond, (pe.shape[0], cond.size))], axis=1)


# ------------------------------------------------------------------------------ output mapping
def quaternion_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product ``a (x) b`` of [N, 4] w,x,y,z quaternions in binary32."""
    w1, x1, y1, z1 = (a[:, i] for i in range(4))
    w2, x2, y2, z2 = (b[:, i] for i in range(4))
    return np.stack(
        [
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        ],
        axis=1,
    ).astype(np.float32)


def map_outputs(desc: OffsetMlpDescriptor, raw: np.ndarray, gaussians: Gaussians) -> Gaussians:
    """Apply MLP outputs [N, 10] to the Gaussians (SPEC 12.3, R-78)."""
    t = np.tanh(np.asarray(raw, np.float32))
    sp, sr, ss = np.float32(desc.position_out_scale), np.float32(desc.rotation_out_scale), np.float32(desc.scale_out_scale)
    delta = t[:, 3:7] * sr
    if desc.output_mapping == "additive":
        delta[:, 0] += np.float32(1)
        log_scales = gaussians.log_scales + t[:, 7:10] * ss
    else:
        delta[:, 0] = np.exp(delta[:, 0])
        log_scales = gaussians.log_scales * np.exp(t[:, 7:10] * ss)
    rotations = normalize_quaternions(quaternion_multiply(gaussians.rotations, delta))
    return replace(
        gaussians,
        positions=(gaussians.positions + t[:, 0:3] * sp).astype(np.float32),
        rotations=rotations,
        log_scales=log_scales.astype(np.float32),
    )


def apply_offset_mlp(desc: OffsetMlpDescriptor, mlp: Mlp, canonical_positions: np.ndarray, stream_groups: dict, gaussians: Gaussians) -> Gaussians:
    """The Gaussians corrected for one frame (SPEC 12.3, R-76..R-78).

    Args:
        desc, mlp: the architecture and the weights (``mlp`` has ``desc.input_dims`` inputs, 10 outputs).
        canonical_positions: [N, 3] anchor of each Gaussian in the neutral model.
        stream_groups: the frame's dequantized groups, keyed by semantic id or name ("JAW").
        gaussians: the N Gaussians as stored.
    """
    desc.validate(mlp)
    n = gaussians.count
    if np.shape(canonical_positions) != (n, 3):
        raise E_VALUE(f"canonical positions have shape {np.shape(canonical_positions)}, expected ({n}, 3)", field="canonical_positions")
    canonical_positions = np.asarray(canonical_positions)
    raw = np.empty((n, OUTPUT_DIMS), np.float32)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused below, by name (SPEC 13.1, R-96)
        for start in range(0, n, CHUNK_ROWS):  # SPEC 12.4: the [N, D] inputs are never held at once
            part = slice(start, start + CHUNK_ROWS)
            raw[part] = mlp.evaluate(assemble_inputs(desc, canonical_positions[part], stream_groups))
        out = map_outputs(desc, raw, gaussians)
    for name in ("positions", "rotations", "log_scales"):
        if not np.all(np.isfinite(getattr(out, name))):
            raise DeformationError(f"gaussians.{name}", "an offset-MLP corrected value is not finite in binary32 for this parameter vector")
    return out


# ------------------------------------------------------------------------------ construction and loading
def flashavatar_descriptor() -> OffsetMlpDescriptor:
    """FlashAvatar's input layout: PE with 8 frequencies (51) + expression 100 + jaw 6D (6) + eyes 6D (12) + eyelids 2 = 171."""
    return OffsetMlpDescriptor(
        pe_frequencies=8,
        inputs=(OffsetInput(1, 100), OffsetInput(5, 3, "rot6d"), OffsetInput(7, 6, "rot6d"), OffsetInput(8, 2)),
        output_mapping="flashavatar",
    )


def mlp_from_state_dict(state: dict[str, Any], activations: list[str] | None = None) -> Mlp:
    """An Mlp from a state dict whose ``*.weight``/``*.bias`` entries are the layers in order
    (e.g. ``layers.0.weight`` or FlashAvatar's ``fcs.0.weight`` .. ``output_linear.weight``).

    Hidden layers default to ReLU and the last to none (the tanh belongs to the output mapping).
    """
    names = [k[: -len(".weight")] for k in state if k.endswith(".weight")]
    if not names:
        raise E_VALUE("no '*.weight' entries", field="state_dict")
    acts = activations or ["relu"] * (len(names) - 1) + ["none"]
    if len(acts) != len(names):
        raise E_VALUE(f"{len(acts)} activations for {len(names)} layers", field="state_dict")
    layers = []
    for name, act in zip(names, acts, strict=True):
        w = np.asarray(state[f"{name}.weight"], np.float32)
        b = np.asarray(state.get(f"{name}.bias", np.zeros(w.shape[0], np.float32)), np.float32)
        with np.errstate(over="ignore"):
            layers.append(Dense(w.astype(np.float16), b.astype(np.float16), act))
    mlp = Mlp(layers)
    mlp.validate()  # a weight beyond binary16's range became infinite: E_VALUE
    return mlp


def load_npz(source: str | Path | bytes, activations: list[str] | None = None) -> Mlp:
    """An Mlp from a checkpoint-like ``.npz`` (keys ``layers.0.weight``, ``layers.0.bias``, ...)."""
    src = io.BytesIO(source) if isinstance(source, bytes) else source
    with np.load(src, allow_pickle=False) as z:
        return mlp_from_state_dict({k: z[k] for k in z.files}, activations)


def load_torch(path: str | Path, activations: list[str] | None = None, prefix: str = "") -> Mlp:
    """An Mlp from a torch ``.pt`` state dict (torch imported lazily; ``weights_only`` loading).

    ``prefix`` selects a sub-module (e.g. ``"deformNet."``); a checkpoint that is a tuple or list
    uses its first mapping with ``.weight`` entries (FlashAvatar's ``capture()`` layout).
    """
    import torch  # noqa: PLC0415 - optional dependency

    obj = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(obj, (tuple, list)):
        obj = next((o for o in obj if isinstance(o, dict) and any(str(k).endswith(".weight") for k in o)), {})
    if isinstance(obj, dict) and "state_dict" in obj:
        obj = obj["state_dict"]
    state = {k[len(prefix) :]: v.detach().float().numpy() for k, v in obj.items() if k.startswith(prefix) and hasattr(v, "detach")}
    return mlp_from_state_dict(state, activations)


def synthetic_offset_mlp(
    seed: int = 0,
    pe_frequencies: int = 4,
    inputs: tuple[OffsetInput, ...] = (OffsetInput(2, 52),),
    hidden: tuple[int, ...] = (64, 64),
    output_gain: float = 0.3,
    desc: OffsetMlpDescriptor | None = None,
) -> tuple[OffsetMlpDescriptor, Mlp]:
    """A generated (untrained) offset MLP for tests and benchmarks; the LAM avatar has none.

    Weights are He-normal from ``seed``; the last layer is scaled by ``output_gain`` so the
    corrections stay small (default scales: 5 mm offsets, 0.05 rotation, 0.1 log-scale).
    """
    d = desc or OffsetMlpDescriptor(pe_frequencies, inputs, position_out_scale=0.005, rotation_out_scale=0.05, scale_out_scale=0.1)
    rng = np.random.default_rng(seed)
    widths = [d.input_dims, *hidden, OUTPUT_DIMS]
    layers = []
    for i in range(len(widths) - 1):
        w = rng.normal(0.0, np.sqrt(2.0 / widths[i]), (widths[i + 1], widths[i]))
        if i == len(widths) - 2:
            w *= output_gain
        act = "relu" if i < len(widths) - 2 else "none"
        layers.append(Dense(w.astype(np.float16), (0.01 * rng.normal(size=widths[i + 1])).astype(np.float16), act))
    return d, Mlp(layers)
