"""Chunked neural evaluation (SPEC 12.4): results do not depend on how the Gaussians are split.

BLAS kernels may sum a row's dot products in another order when the row sits at the end of a
call (seen with OpenBLAS: the last rows of a 1000-row product differ in the last bit from the
same rows inside a 9001-row product, single-threaded too), so the unchunked evaluation is not
a bit-exact reference either; the chunked result is held to 1e-5 x (1 + |y|) of it, ten times
tighter than R-79's tolerance, and to R-79 against a binary64 evaluation.
"""

from __future__ import annotations

import numpy as np
import pytest

from refcodec.avatar.latents import LatentAttributes, decode_latents
from refcodec.avatar.model import Gaussians
from refcodec.avatar.neural import CHUNK_ROWS, mlp_from_float
from refcodec.avatar.offset_mlp import apply_offset_mlp, synthetic_offset_mlp


def _mlp(rng, dims, acts):
    ws = [rng.normal(0, 1 / np.sqrt(a), (b, a)) for a, b in zip(dims[:-1], dims[1:], strict=True)]
    bs = [rng.normal(0, 0.1, b) for b in dims[1:]]
    return mlp_from_float(ws, bs, acts)


def _close(a: np.ndarray, b: np.ndarray, rel: float = 1e-5) -> bool:
    return bool(np.all(np.abs(a.astype(np.float64) - b) <= rel * (1 + np.abs(b.astype(np.float64)))))


@pytest.mark.parametrize("chunk", [7, 1000, CHUNK_ROWS])
def test_chunked_mlp_agrees_with_the_whole_evaluation(chunk):
    rng = np.random.default_rng(1)
    mlp = _mlp(rng, [24, 64, 64, 10], ["relu", "tanh", "none"])
    x = rng.normal(size=(9001, 24)).astype(np.float32)
    whole = mlp.evaluate(x, chunk=x.shape[0])
    chunked = mlp.evaluate(x, chunk=chunk)
    assert chunked.shape == whole.shape and chunked.dtype == np.float32
    assert _close(chunked, whole)
    assert _close(chunked, mlp.evaluate_f64(x), 1e-4)


def test_latent_decoding_is_chunked():
    rng = np.random.default_rng(2)
    n = 2 * CHUNK_ROWS + 17
    mlp = _mlp(rng, [8, 32, 5], ["relu", "none"])  # ROTATION (4) + OPACITY (1)
    lat = LatentAttributes((3, 4), 6, rng.integers(-32, 32, (n, 8)).astype(np.int32), rng.uniform(0.1, 1, 8).astype(np.float32), mlp)
    out = decode_latents(lat)
    y = mlp.evaluate_f64(lat.latents.astype(np.float32) * lat.latent_scale)  # R-74 inputs, binary64 network
    assert _close(out[4], y[:, 4], 1e-4)
    assert _close(out[3], y[:, :4] / np.linalg.norm(y[:, :4], axis=1, keepdims=True), 1e-4)


def test_offset_mlp_is_chunked():
    rng = np.random.default_rng(3)
    desc, mlp = synthetic_offset_mlp(seed=4)
    n = CHUNK_ROWS + 5
    g = Gaussians.empty(n, 0)
    g.rotations[:, 0] = 1.0
    anchors = rng.normal(0, 0.1, (n, 3)).astype(np.float32)
    groups = {i.semantic: rng.normal(0, 0.1, i.dims).astype(np.float32) for i in desc.inputs}
    chunked = apply_offset_mlp(desc, mlp, anchors, groups, g)
    head = apply_offset_mlp(desc, mlp, anchors[:5], groups, g.subset(slice(0, 5)))
    tail = apply_offset_mlp(desc, mlp, anchors[-5:], groups, g.subset(slice(n - 5, n)))
    for name in ("positions", "rotations", "log_scales"):
        assert _close(getattr(chunked, name)[:5], getattr(head, name))
        assert _close(getattr(chunked, name)[-5:], getattr(tail, name))
