"""Small dense MLPs with FP16 weights, evaluated in binary32 (SPEC 12.1, 12.4).

An :class:`Mlp` is a chain of :class:`Dense` layers. Weights and biases are stored as IEEE-754
binary16; evaluation converts them to binary32 (exact: every binary16 value is a binary32 value)
and computes each layer as ``y = act(x @ W^T + b)`` in binary32. The summation order of the dot
products is not specified, so MLP outputs belong to the tolerance tier (SPEC 12.4, R-78).

A layer may carry a pruning mask: ``mask[o, i]`` is True where weight ``W[o, i]`` is stored.
Unstored weights are zero. The container stores the mask as a bitmask in row-major ``[out, in]``
order and only the stored weights, in the same order (:meth:`Dense.stored_weights`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import E_VALUE

ACTIVATIONS = ("none", "relu", "tanh", "sigmoid")
"""Activation names; the index is the ``layer_activation`` code (SPEC 12.1)."""
MAX_LAYERS = 8
MAX_WIDTH = 4096
CHUNK_ROWS = 4096
"""Inputs (Gaussians) evaluated at once: peak activations are CHUNK_ROWS x the widest layer (SPEC 12.4)."""


def _fail(field: str, message: str) -> E_VALUE:
    return E_VALUE(message, field=field)


@dataclass
class Dense:
    """One dense layer ``y = act(x @ W^T + b)``.

    Attributes:
        weight: [out, in] float16.
        bias: [out] float16.
        activation: one of :data:`ACTIVATIONS`.
        mask: optional [out, in] bool; True where the weight is stored. Where it is False the
            weight must be zero. ``None`` means every weight is stored.
    """

    weight: np.ndarray
    bias: np.ndarray
    activation: str = "none"
    mask: np.ndarray | None = None

    @property
    def in_dims(self) -> int:
        """Input width."""
        return int(self.weight.shape[1])

    @property
    def out_dims(self) -> int:
        """Output width."""
        return int(self.weight.shape[0])

    @property
    def activation_id(self) -> int:
        """The ``layer_activation`` code of :attr:`activation`."""
        return ACTIVATIONS.index(self.activation)

    def stored_count(self) -> int:
        """Number of weights the container stores for this layer (set mask bits, or in x out)."""
        return int(self.weight.size if self.mask is None else np.count_nonzero(self.mask))

    def stored_weights(self) -> np.ndarray:
        """The stored weights, float16, row-major ``[out, in]`` order, masked ones left out."""
        w = self.weight.reshape(-1)
        return w.copy() if self.mask is None else w[self.mask.reshape(-1)]

    def mask_bits(self) -> bytes:
        """The mask as ``ceil(in*out/8)`` bytes: bit k (row-major) is bit 7 - k%8 of byte k//8."""
        mask = np.ones(self.weight.shape, bool) if self.mask is None else self.mask
        return np.packbits(mask.reshape(-1)).tobytes()

    @classmethod
    def from_stored(cls, in_dims: int, out_dims: int, activation: str, stored: np.ndarray, bias: np.ndarray, mask_bits: bytes | None = None) -> Dense:
        """Rebuild a layer from the container form (inverse of :meth:`stored_weights`, :meth:`mask_bits`)."""
        n = in_dims * out_dims
        mask = None
        if mask_bits is not None:
            if len(mask_bits) != (n + 7) // 8:
                raise _fail("layer_mask", f"{len(mask_bits)} bytes, expected {(n + 7) // 8}")
            mask = np.unpackbits(np.frombuffer(mask_bits, np.uint8))[:n].astype(bool)
        expected = n if mask is None else int(mask.sum())
        stored = np.asarray(stored, np.float16).reshape(-1)
        if stored.size != expected:
            raise _fail("layer_weights", f"{stored.size} stored weights, the mask selects {expected}")
        weight = np.zeros(n, np.float16)
        if mask is None:
            weight[:] = stored
        else:
            weight[mask] = stored
        return cls(
            weight.reshape(out_dims, in_dims),
            np.asarray(bias, np.float16).reshape(-1),
            activation,
            None if mask is None else mask.reshape(out_dims, in_dims),
        )

    def validate(self, field: str = "layer") -> None:
        """Raise ``E_VALUE`` naming the field if the layer is malformed (SPEC 12.1, R-70)."""
        w, b = self.weight, self.bias
        if not isinstance(w, np.ndarray) or w.dtype != np.float16 or w.ndim != 2:
            raise _fail(f"{field}.weight", "must be a 2-D float16 array [out, in]")
        if not (1 <= w.shape[0] <= MAX_WIDTH and 1 <= w.shape[1] <= MAX_WIDTH):
            raise _fail(f"{field}.weight", f"shape {w.shape} is outside 1..{MAX_WIDTH}")
        if not isinstance(b, np.ndarray) or b.dtype != np.float16 or b.shape != (w.shape[0],):
            raise _fail(f"{field}.bias", f"must be float16 of shape ({w.shape[0]},)")
        if self.activation not in ACTIVATIONS:
            raise _fail(f"{field}.activation", f"{self.activation!r} is not one of {ACTIVATIONS}")
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
            raise _fail(field, "contains NaN or infinity")
        if self.mask is not None:
            if not isinstance(self.mask, np.ndarray) or self.mask.dtype != bool or self.mask.shape != w.shape:
                raise _fail(f"{field}.mask", f"must be a bool array of shape {w.shape}")
            if np.any(w[~self.mask] != 0):
                raise _fail(f"{field}.mask", "a weight outside the mask is not zero")

    def evaluate(self, x: np.ndarray) -> np.ndarray:
        """``act(x @ W^T + b)`` in binary32 for ``x`` [N, in] (SPEC 12.1, R-71)."""
        w = self.weight.astype(np.float32)  # binary16 -> binary32 is exact
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is a value (inf), judged by the caller (SPEC 12.2, R-94)
            y = np.matmul(x, w.T, dtype=np.float32)
            y += self.bias.astype(np.float32)
            return activate(y, self.activation)


def activate(y: np.ndarray, activation: str) -> np.ndarray:
    """Apply an activation elementwise in binary32 (SPEC 12.1, R-71)."""
    if activation == "none":
        return y
    if activation == "relu":
        return np.maximum(y, np.float32(0))
    if activation == "tanh":
        return np.tanh(y)
    with np.errstate(over="ignore"):  # exp(-y) may overflow to +inf; 1/(1+inf) = 0 is the right limit
        return (np.float32(1) / (np.float32(1) + np.exp(-y))).astype(np.float32)


@dataclass
class Mlp:
    """A chain of dense layers; layer l's output feeds layer l+1."""

    layers: list[Dense]

    @property
    def in_dims(self) -> int:
        """Input width of the first layer."""
        return self.layers[0].in_dims

    @property
    def out_dims(self) -> int:
        """Output width of the last layer."""
        return self.layers[-1].out_dims

    def weight_count(self) -> int:
        """Weights of all layers, in x out summed (biases excluded), stored or not."""
        return sum(layer.weight.size for layer in self.layers)

    def stored_weight_count(self) -> int:
        """Weights the container stores: set mask bits (or in x out) summed over the layers."""
        return sum(layer.stored_count() for layer in self.layers)

    def parameter_count(self) -> int:
        """Stored weights plus biases."""
        return self.stored_weight_count() + sum(layer.bias.size for layer in self.layers)

    def validate(self, in_dims: int | None = None, out_dims: int | None = None) -> None:
        """Raise ``E_VALUE`` unless every layer is valid and the widths chain (SPEC 12.1, R-70)."""
        if not isinstance(self.layers, list) or not 1 <= len(self.layers) <= MAX_LAYERS:
            raise _fail("mlp_layer_count", f"must be 1..{MAX_LAYERS} layers")
        for i, layer in enumerate(self.layers):
            layer.validate(f"mlp_layers[{i}]")
            if i and layer.in_dims != self.layers[i - 1].out_dims:
                raise _fail(f"mlp_layers[{i}].layer_in", f"{layer.in_dims} differs from the {self.layers[i - 1].out_dims} outputs of layer {i - 1}")
        if in_dims is not None and self.in_dims != in_dims:
            raise _fail("mlp_layers[0].layer_in", f"{self.in_dims}, the input has {in_dims} values")
        if out_dims is not None and self.out_dims != out_dims:
            raise _fail(f"mlp_layers[{len(self.layers) - 1}].layer_out", f"{self.out_dims}, {out_dims} outputs are required")

    def evaluate(self, x: np.ndarray, chunk: int = CHUNK_ROWS) -> np.ndarray:
        """Outputs [N, out] float32 for inputs [N, in] (cast to binary32 first) (SPEC 12.1, R-71).

        Rows are evaluated ``chunk`` at a time, so the activations held never exceed ``chunk`` x
        the widest layer, whatever N (SPEC 12.4); each row's result does not depend on the chunk.
        """
        x = np.asarray(x, np.float32)
        if x.ndim != 2 or x.shape[1] != self.in_dims:
            raise _fail("mlp_input", f"shape {x.shape}, expected [N, {self.in_dims}]")
        out = np.empty((x.shape[0], self.out_dims), np.float32)
        for start in range(0, x.shape[0], max(1, chunk)):
            y = x[start : start + chunk]
            for layer in self.layers:
                y = layer.evaluate(y)
            out[start : start + y.shape[0]] = y
        return out

    def evaluate_f64(self, x: np.ndarray) -> np.ndarray:
        """The same network in binary64 (an exactly-rounded stand-in for checking tolerances)."""
        y = np.asarray(x, np.float32).astype(np.float64)
        for layer in self.layers:
            y = y @ layer.weight.astype(np.float64).T + layer.bias.astype(np.float64)
            if layer.activation == "relu":
                y = np.maximum(y, 0.0)
            elif layer.activation == "tanh":
                y = np.tanh(y)
            elif layer.activation == "sigmoid":
                y = 1.0 / (1.0 + np.exp(-y))
        return y


def mlp_from_float(weights: list[np.ndarray], biases: list[np.ndarray], activations: list[str]) -> Mlp:
    """An :class:`Mlp` from float arrays, rounded to binary16 (round-to-nearest-even)."""
    layers = [
        Dense(np.asarray(w).astype(np.float16), np.asarray(b).astype(np.float16), a) for w, b, a in zip(weights, biases, activations, strict=True)
    ]
    return Mlp(layers)


def prune(mlp: Mlp, ratio: float) -> Mlp:
    """Zero the ``round(ratio * in * out)`` smallest-magnitude weights of each layer and mask them out.

    Ties at the threshold are broken by row-major position (a stable sort), so the result is
    deterministic. Weights pruned earlier (already masked) count among the removed ones.
    """
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"ratio must be in [0, 1), got {ratio}")
    out = []
    for layer in mlp.layers:
        w = layer.weight.reshape(-1)
        drop = int(round(ratio * w.size))
        keep = np.ones(w.size, bool) if layer.mask is None else layer.mask.reshape(-1).copy()
        order = np.argsort(np.where(keep, np.abs(w.astype(np.float32)), -1.0), kind="stable")
        keep[order[:drop]] = False
        weight = np.where(keep, w, np.float16(0)).astype(np.float16).reshape(layer.weight.shape)
        out.append(Dense(weight, layer.bias.copy(), layer.activation, keep.reshape(layer.weight.shape)))
    return Mlp(out)
