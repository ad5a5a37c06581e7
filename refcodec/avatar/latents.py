"""Latent Gaussian attributes (EAGLES-style): integer latents + a tiny FP16 decoder MLP (SPEC 12.2).

Each Gaussian carries an integer latent vector of ``L`` dimensions at ``latent_bits`` bits
(two's-complement range ``[-2^(b-1), 2^(b-1)-1]``). A decoder :class:`~refcodec.avatar.neural.Mlp`
maps the latent, cast to binary32 and multiplied by a per-dimension ``latent_scale``, to the
attributes named by ``attribute_ids`` (ids of the attribute registry, SPEC 11.7), concatenated in
that order. Output mapping: ROTATION is normalised (w, x, y, z); OPACITY is a logit; SH_REST is
coefficient-major, channel-minor; the others are taken as they are.

Decoding needs only numpy (:func:`decode_latents`). Fitting (:func:`fit_latents`) is a numpy-only
Adam optimisation with straight-through quantization of the latents and of the decoder weights
(binary16), from a fixed seed, in machine-independent binary64 arithmetic
(:mod:`refcodec.detmath`): the same bytes on every CPU, BLAS kernel and thread count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import detmath as dm
from ..errors import E_VALUE
from ..spec_tables import attributes
from .neural import CHUNK_ROWS, Dense, Mlp

ROTATION, OPACITY, SH_REST = 3, 4, 5
POSITION = 0
MAX_LATENT_DIMS = 64
ATTRIBUTE_CHANNELS = {0: 3, 1: 3, 2: 3, 3: 4, 4: 1}
SH_REST_COUNT = {0: 0, 1: 3, 2: 8, 3: 15}


def attribute_width(attribute_id: int, sh_degree: int) -> int:
    """Decoder outputs an attribute takes: its channel count, 3 x SH_REST_COUNT for SH_REST."""
    if attribute_id == SH_REST:
        return 3 * SH_REST_COUNT[sh_degree]
    return ATTRIBUTE_CHANNELS[attribute_id]


def latent_range(bits: int) -> tuple[int, int]:
    """Smallest and largest latent value at ``bits`` bits (two's-complement range)."""
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


@dataclass
class LatentAttributes:
    """Latent-coded attributes of N Gaussians.

    Attributes:
        attribute_ids: registry ids of the decoded attributes, in output order (e.g. (3, 4) =
            rotation then opacity). POSITION (0) is not allowed; each id at most once.
        latent_bits: 1..16.
        latents: [N, L] int32 in ``latent_range(latent_bits)``.
        latent_scale: [L] float32, finite; decoder input ``x = f32(latent) * latent_scale``.
        mlp: decoder, ``L`` inputs and ``sum(attribute_width)`` outputs.
        sh_degree: the avatar's SH degree (sets SH_REST's width).
    """

    attribute_ids: tuple[int, ...]
    latent_bits: int
    latents: np.ndarray
    latent_scale: np.ndarray
    mlp: Mlp
    sh_degree: int = 0

    @property
    def latent_dims(self) -> int:
        """L."""
        return int(self.latents.shape[1])

    @property
    def output_dims(self) -> int:
        """Decoder outputs: the attribute widths summed."""
        return sum(attribute_width(a, self.sh_degree) for a in self.attribute_ids)

    def validate(self) -> None:
        """Raise ``E_VALUE`` naming the first bad field (SPEC 12.2, R-72, R-73)."""
        ids = tuple(self.attribute_ids)
        if not ids or len(set(ids)) != len(ids) or any(a not in attributes() or a == POSITION for a in ids):
            raise E_VALUE(f"{ids} is not a non-empty list of distinct non-position attribute ids", field="latent_attribute_ids")
        if self.sh_degree not in SH_REST_COUNT:
            raise E_VALUE(f"sh_degree {self.sh_degree} is not 0..3", field="sh_degree")
        if SH_REST in ids and self.sh_degree == 0:
            raise E_VALUE("SH_REST has no channels at sh_degree 0", field="latent_attribute_ids")
        if not 1 <= self.latent_bits <= 16:
            raise E_VALUE(f"latent_bits {self.latent_bits} is not 1..16", field="latent_bits")
        lat = self.latents
        if not isinstance(lat, np.ndarray) or lat.ndim != 2 or lat.dtype.kind not in "iu" or not 1 <= lat.shape[1] <= MAX_LATENT_DIMS:
            raise E_VALUE(f"must be an integer array [N, 1..{MAX_LATENT_DIMS}]", field="latents")
        lo, hi = latent_range(self.latent_bits)
        if lat.size and (lat.min() < lo or lat.max() > hi):
            raise E_VALUE(f"values outside [{lo}, {hi}]", field="latents")
        sc = self.latent_scale
        if not isinstance(sc, np.ndarray) or sc.dtype != np.float32 or sc.shape != (lat.shape[1],) or not np.all(np.isfinite(sc)):
            raise E_VALUE(f"must be finite float32 of shape ({lat.shape[1]},)", field="latent_scale")
        self.mlp.validate(in_dims=lat.shape[1], out_dims=self.output_dims)

    def stored_values(self) -> np.ndarray:
        """Latents as unsigned samples ``latent + 2^(b-1)`` in [0, 2^b - 1], dimension-major [L, N] (SPEC 12.2, R-72)."""
        lo, _ = latent_range(self.latent_bits)
        return (self.latents.astype(np.int64) - lo).T.astype(np.uint16)

    @staticmethod
    def latents_from_stored(values: np.ndarray, bits: int, count: int) -> np.ndarray:
        """Inverse of :meth:`stored_values`: [L*N] or [L, N] samples -> [N, L] int32 latents."""
        lo, _ = latent_range(bits)
        return (np.asarray(values, np.int64).reshape(-1, count).T + lo).astype(np.int32)


def decoder_inputs(latents: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``f32(latent) * latent_scale`` in binary32 (SPEC 12.2, R-74): exact cast, one rounded product."""
    return latents.astype(np.float32) * np.asarray(scale, np.float32)


def normalize_quaternions(q: np.ndarray) -> np.ndarray:
    """``q / sqrt(w^2+x^2+y^2+z^2)`` in binary32; a zero vector becomes (1, 0, 0, 0) (SPEC 12.2, R-75)."""
    q = np.asarray(q, np.float32)
    norm = np.sqrt(np.sum(q * q, axis=1, dtype=np.float32))
    out = np.zeros_like(q)
    out[:, 0] = 1.0
    ok = norm > 0
    out[ok] = q[ok] / norm[ok, None]
    return out


def map_outputs(y: np.ndarray, attribute_ids: tuple[int, ...], sh_degree: int) -> dict[int, np.ndarray]:
    """Split decoder outputs [N, C] into attributes and apply the output mapping (SPEC 12.2, R-75)."""
    out, start = {}, 0
    n = y.shape[0]
    for a in attribute_ids:
        width = attribute_width(a, sh_degree)
        block = np.ascontiguousarray(y[:, start : start + width], np.float32)
        start += width
        if a == ROTATION:
            block = normalize_quaternions(block)
        elif a == OPACITY:
            block = block[:, 0].copy()
        elif a == SH_REST:
            block = block.reshape(n, SH_REST_COUNT[sh_degree], 3)  # coefficient-major, channel-minor
        out[a] = block
    return out


def decode_latents(latent: LatentAttributes) -> dict[int, np.ndarray]:
    """Decoded attributes by attribute id: ROTATION [N,4] unit w,x,y,z, OPACITY [N] logits,
    SH_REST [N,K,3], others [N,3] (SPEC 12.2, R-74, R-75). Pure numpy binary32."""
    latent.validate()
    n = latent.latents.shape[0]
    y = np.empty((n, latent.mlp.out_dims), np.float32)
    for start in range(0, n, CHUNK_ROWS):  # SPEC 12.4: inputs and activations of one chunk at a time
        part = slice(start, start + CHUNK_ROWS)
        with np.errstate(over="ignore"):  # an overflowing input is rejected by the container syntax
            y[part] = latent.mlp.evaluate(decoder_inputs(latent.latents[part], latent.latent_scale))
    return map_outputs(y, tuple(latent.attribute_ids), latent.sh_degree)


# --------------------------------------------------------------------------------- fitting
@dataclass
class FitConfig:
    """Knobs of :func:`fit_latents`. ``FitConfig.fast()`` is a small setting for tests."""

    latent_dims: int = 4
    latent_bits: int = 5
    hidden: tuple[int, ...] = (32,)
    iters: int = 1500
    seed: int = 0
    lr_mlp: float = 1e-2
    lr_latent: float = 0.25
    refine_passes: int = 3
    opacity_weight: float = 1.0

    @classmethod
    def fast(cls) -> FitConfig:
        """A few hundred iterations of a tiny decoder: under a second for a few thousand Gaussians."""
        return cls(latent_dims=3, latent_bits=4, hidden=(16,), iters=200, refine_passes=1)


def _targets_matrix(targets: dict[int, np.ndarray], ids: tuple[int, ...], sh_degree: int) -> np.ndarray:
    cols = []
    for a in ids:
        t = np.asarray(targets[a], np.float64)
        if a == ROTATION:
            t = t / np.sqrt(dm.sum_cols(t * t))[:, None]
            t = t * np.where(t[:, :1] < 0, -1.0, 1.0)  # q ~ -q: one representative, w >= 0
        elif a == OPACITY:
            t = t.reshape(-1, 1)
        cols.append(t.reshape(t.shape[0], -1))
    out = np.concatenate(cols, axis=1)
    if out.shape[1] != sum(attribute_width(a, sh_degree) for a in ids):
        raise ValueError("targets do not have the widths of the attributes")
    return out


def _loss_and_grad(y: np.ndarray, t: np.ndarray, ids: tuple[int, ...], sh_degree: int, opacity_weight: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-Gaussian loss [N] and its gradient dL/dy [N, C] in the attribute domain.

    ROTATION: ``1 - (u . t)^2`` with ``u = y / |y|`` (= sin^2 of half the angle, sign-invariant);
    OPACITY: squared error in the sigmoid domain (plus 1e-3 of the logit error, to leave saturated
    starts); others: squared error. Binary64, machine-independent (:mod:`refcodec.detmath`).
    """
    loss = np.zeros(y.shape[0])
    grad = np.zeros_like(y)
    start = 0
    for a in ids:
        w = attribute_width(a, sh_degree)
        ys, ts = y[:, start : start + w], t[:, start : start + w]
        if a == ROTATION:
            n = np.maximum(np.sqrt(dm.sum_cols(ys * ys)), 1e-12)[:, None]
            u = ys / n
            d = dm.sum_cols(u * ts)[:, None]
            loss += 1.0 - d[:, 0] * d[:, 0]
            grad[:, start : start + w] = -2.0 * d * (ts - d * u) / n
        elif a == OPACITY:
            sy, st = dm.sigmoid(ys), dm.sigmoid(ts)
            diff = sy - st
            loss += opacity_weight * (diff[:, 0] * diff[:, 0] + 1e-3 * ((ys - ts)[:, 0] * (ys - ts)[:, 0]))
            grad[:, start : start + w] = opacity_weight * (2.0 * diff * sy * (1.0 - sy) + 2e-3 * (ys - ts))
        else:
            diff = ys - ts
            loss += dm.sum_cols(diff * diff)
            grad[:, start : start + w] = 2.0 * diff
        start += w
    return loss, grad


class _Adam:
    """Adam with bias corrections kept as running products (no ``**``: libm's pow differs between CPUs)."""

    def __init__(self, params: list[np.ndarray], beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.b1, self.b2, self.eps = beta1, beta2, eps
        self.p1 = self.p2 = 1.0  # beta1^t, beta2^t

    def step(self, params: list[np.ndarray], grads: list[np.ndarray], lrs: list[float]) -> None:
        self.p1 *= self.b1
        self.p2 *= self.b2
        c1, c2 = 1 - self.p1, 1 - self.p2
        for p, g, m, v, lr in zip(params, grads, self.m, self.v, lrs, strict=True):
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * (g * g)
            p -= lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


def _binary16(a: np.ndarray) -> np.ndarray:
    """Round to binary16 (through binary32: both steps are correctly rounded on every CPU), back as binary64."""
    return np.asarray(a, np.float64).astype(np.float32).astype(np.float16).astype(np.float64)


def _forward(x: np.ndarray, ws: list[np.ndarray], bs: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Hidden layers tanh, last layer linear, with binary16-rounded parameters (straight-through).

    Binary64 through :mod:`refcodec.detmath` (fixed-order products, polynomial tanh), so the fit
    gives the same bytes on every machine.
    """
    acts = [x]
    h = x
    for i, (w, b) in enumerate(zip(ws, bs, strict=True)):
        h = dm.matmul(h, _binary16(w).T) + _binary16(b)
        if i < len(ws) - 1:
            h = dm.tanh(h)
        acts.append(h)
    return h, acts


def _backward(gy: np.ndarray, acts: list[np.ndarray], ws: list[np.ndarray]) -> tuple[list, list, np.ndarray]:
    gws, gbs = [None] * len(ws), [None] * len(ws)
    g = gy
    for i in range(len(ws) - 1, -1, -1):
        if i < len(ws) - 1:
            g = g * (1.0 - acts[i + 1] * acts[i + 1])
        gws[i] = dm.gram(g, acts[i])
        gbs[i] = dm.sum_rows(g)
        g = dm.matmul(g, _binary16(ws[i]))
    return gws, gbs, g


def _principal_axes(c: np.ndarray, dims: int, iters: int = 60) -> np.ndarray:
    """[C, k] orthonormal leading eigenvectors of ``c.T c`` (k = min(dims, C)) by orthogonal iteration.

    Machine-independent (no LAPACK): the covariance and every product go through
    :mod:`refcodec.detmath`, Gram-Schmidt uses fixed-order sums. A direction the data do not span
    stays zero.
    """
    cov = dm.gram(c, c)
    width = cov.shape[0]
    k = min(dims, width)
    q = np.eye(width, k)
    for _ in range(iters):
        z = dm.matmul(cov, q)
        for j in range(k):
            for i in range(j):
                z[:, j] = z[:, j] - dm.sum_rows(z[:, i] * z[:, j]) * z[:, i]
            norm = float(np.sqrt(dm.sum_rows(z[:, j] * z[:, j])))
            z[:, j] = z[:, j] / norm if norm > 1e-300 else 0.0
        q = z
    return q


def _pca_init(t: np.ndarray, dims: int, bits: int) -> np.ndarray:
    """Latents initialised to the leading principal components of the targets, spread over the range."""
    lo, hi = latent_range(bits)
    c = t - dm.sum_rows(t) / t.shape[0]
    proj = dm.matmul(c, _principal_axes(c, dims))
    if proj.shape[1] < dims:
        proj = np.concatenate([proj, np.zeros((proj.shape[0], dims - proj.shape[1]))], axis=1)
    spread = np.maximum(np.percentile(np.abs(proj), 99, axis=0), 1e-9)  # a sort and one interpolation: exact order
    return np.clip(proj / spread * (hi + 0.5), lo, hi)


def _to_mlp(ws: list[np.ndarray], bs: list[np.ndarray]) -> Mlp:
    acts = ["tanh"] * (len(ws) - 1) + ["none"]
    f16 = [(_binary16(w).astype(np.float16), _binary16(b).astype(np.float16)) for w, b in zip(ws, bs, strict=True)]
    return Mlp([Dense(w, b, a) for (w, b), a in zip(f16, acts, strict=True)])


def _refine(latents: np.ndarray, scale: np.ndarray, ws, bs, t: np.ndarray, ids, sh_degree, bits, opacity_weight, passes) -> np.ndarray:
    """Coordinate search with the final binary16 decoder: try +-1 per dimension.

    The decoder is evaluated on the exact binary32 inputs of R-74 in machine-independent binary64
    (:func:`_forward`), not with the decoder's own binary32 path, so that the choices do not depend
    on the machine either.
    """
    lo, hi = latent_range(bits)
    best = latents.copy()

    def cost(lat):
        y, _ = _forward(decoder_inputs(lat, scale).astype(np.float64), ws, bs)
        return _loss_and_grad(y, t, ids, sh_degree, opacity_weight)[0]

    best_cost = cost(best)
    for _ in range(passes):
        changed = 0
        for d in range(best.shape[1]):
            for step in (-1, 1):
                cand = best.copy()
                cand[:, d] = np.clip(cand[:, d] + step, lo, hi)
                c = cost(cand)
                better = c < best_cost
                best[better] = cand[better]
                best_cost = np.where(better, c, best_cost)
                changed += int(better.sum())
        if not changed:
            break
    return best


def _uniform_weights(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """Uniform in ``+-sqrt(3 / cols)`` (variance 1 / cols): ``random()`` is an integer times 2^-53, no libm."""
    return (2.0 * rng.random((rows, cols)) - 1.0) * np.sqrt(3.0 / cols)


def fit_latents(
    targets: dict[int, np.ndarray],
    attribute_ids: tuple[int, ...],
    config: FitConfig | None = None,
    sh_degree: int = 0,
) -> LatentAttributes:
    """Fit integer latents and a decoder MLP to ``targets`` (attribute id -> [N, ...] array).

    Rotations are compared sign-invariantly, opacities in the sigmoid domain. Latents are
    continuous during training and rounded in the forward pass (straight-through); the decoder
    weights are rounded to binary16 in the forward pass the same way. At the end each latent
    is refined by a coordinate search against the final binary16 decoder.

    Deterministic for a fixed ``config.seed`` on every machine: the whole fit runs in binary64
    with correctly rounded operations in a fixed order (:mod:`refcodec.detmath`), never through
    BLAS, LAPACK, SIMD transcendental functions or libm, so neither the CPU, the BLAS kernel nor
    the thread count changes a byte (the conformance vectors depend on it).
    """
    cfg = config or FitConfig()
    ids = tuple(attribute_ids)
    t = _targets_matrix(targets, ids, sh_degree)
    n, c = t.shape
    lo, hi = latent_range(cfg.latent_bits)
    scale = np.full(cfg.latent_dims, 1.0 / max(hi, 1), np.float32)
    scale64 = scale.astype(np.float64)
    rng = np.random.default_rng(cfg.seed)
    z = _pca_init(t, cfg.latent_dims, cfg.latent_bits)
    widths = [cfg.latent_dims, *cfg.hidden, c]
    ws = [_uniform_weights(rng, widths[i + 1], widths[i]) for i in range(len(widths) - 1)]
    bs = [np.zeros(widths[i + 1]) for i in range(len(widths) - 1)]
    bs[-1] = dm.sum_rows(t) / n
    opt = _Adam([z, *ws, *bs])
    for it in range(cfg.iters):
        decay = 0.5 * (1.0 + float(dm.cos(np.pi * it / max(cfg.iters, 1))))  # cosine schedule to 0
        zq = np.clip(np.round(z), lo, hi)  # straight-through: forward uses integers
        y, acts = _forward(decoder_inputs(zq, scale).astype(np.float64), ws, bs)  # R-74's binary32 inputs
        _, gy = _loss_and_grad(y, t, ids, sh_degree, cfg.opacity_weight)
        gy /= n
        gws, gbs, gx = _backward(gy, acts, ws)
        gz = gx * scale64
        lr_m = cfg.lr_mlp * (0.01 + 0.99 * decay)
        lr_z = cfg.lr_latent * (0.01 + 0.99 * decay)
        opt.step([z, *ws, *bs], [gz * n, *gws, *gbs], [lr_z] + [lr_m] * (2 * len(ws)))
        np.clip(z, lo - 0.49, hi + 0.49, out=z)
    mlp = _to_mlp(ws, bs)
    latents = np.clip(np.round(z), lo, hi).astype(np.int32)
    latents = _refine(latents, scale, ws, bs, t, ids, sh_degree, cfg.latent_bits, cfg.opacity_weight, cfg.refine_passes)
    result = LatentAttributes(ids, cfg.latent_bits, latents, scale, mlp, sh_degree)
    result.validate()
    return result


def untrained_latents(
    targets: dict[int, np.ndarray], attribute_ids: tuple[int, ...], config: FitConfig | None = None, sh_degree: int = 0
) -> LatentAttributes:
    """The starting point of :func:`fit_latents` (``iters=0``, no refinement): a baseline for tests."""
    cfg = config or FitConfig()
    start = FitConfig(**{**cfg.__dict__, "iters": 0, "refine_passes": 0})
    return fit_latents(targets, attribute_ids, start, sh_degree)
