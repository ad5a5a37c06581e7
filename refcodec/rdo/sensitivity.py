"""Render sensitivity of an avatar's parameters (informative encoder tool, SPEC 9.4).

The encoder measures once per avatar how much each layout dimension moves the rendered image:
finite differences through the renderer at a few operating points taken from a track. The
result, a linearised render model, weights the expression basis (:mod:`.basis`), allocates
quantization steps (:mod:`.quantize`) and predicts the PSNR of a coded stream (:mod:`.predict`).
Nothing here is normative: the decoding process does not depend on it.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Image samples whose derivative never exceeds this (per unit of parameter) are treated as inert.
ACTIVE_THRESHOLD = 1e-6


@dataclass
class Sensitivity:
    """A linearised render model: ``image(x) ~ image(p) + J_p (x - p)`` near operating point p.

    Attributes:
        points: [P, D] operating points in the avatar's layout order.
        samples: [A] indices into the flat H*W*3 image of the samples that respond to any dimension.
        jacobians: [P, A, D] float32, d(sample value in [0, 1]) / d(parameter) at each point.
        total_samples: H*W*3 of the render (inert samples count as zero error in an MSE).
    """

    points: np.ndarray
    samples: np.ndarray
    jacobians: np.ndarray
    total_samples: int

    @property
    def dims(self) -> int:
        return int(self.points.shape[1])

    def gram(self) -> np.ndarray:
        """[D, D] mean over operating points of ``J^T J / total_samples``: float image MSE per unit^2."""
        if getattr(self, "_gram", None) is None:
            acc = np.zeros((self.dims, self.dims))
            for j in self.jacobians:
                acc += (j.T.astype(np.float64) @ j.astype(np.float64))
            self._gram = acc / (len(self.jacobians) * self.total_samples)
        return self._gram.copy()

    def weights(self) -> np.ndarray:
        """[D] diagonal of :meth:`gram`: the image MSE a unit change of one dimension alone causes."""
        return np.diag(self.gram()).copy()

    def nearest_point(self, values: np.ndarray) -> np.ndarray:
        """Index of the nearest operating point (Euclidean, layout units) for each row of ``values``."""
        v = np.asarray(values, np.float64)
        d2 = ((v[:, None, :] - self.points[None, :, :]) ** 2).sum(axis=2)
        return np.argmin(d2, axis=1)

    def restricted(self, columns: np.ndarray, matrix: np.ndarray | None = None) -> Sensitivity:
        """The model for new parameters ``y`` with ``x[columns] = matrix @ y`` (chain rule; identity when None)."""
        j = self.jacobians[:, :, columns]
        pts = self.points[:, columns]
        if matrix is not None:
            m = np.asarray(matrix, np.float64)
            j = (j.astype(np.float64) @ m).astype(np.float32)
            pts = np.linalg.lstsq(m, pts.T, rcond=None)[0].T
        return Sensitivity(pts, self.samples, j, self.total_samples)

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, points=self.points, samples=self.samples, jacobians=self.jacobians, total_samples=np.int64(self.total_samples))
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Sensitivity:
        with np.load(io.BytesIO(data)) as z:
            return cls(z["points"], z["samples"], z["jacobians"], int(z["total_samples"]))


def operating_points(values: np.ndarray, count: int) -> np.ndarray:
    """``count`` frames of a track that span its main direction of change (deterministic).

    Frames are ordered by their projection on the first principal direction and the frame at
    the middle of each of ``count`` equal slices is taken.
    """
    v = np.asarray(values, np.float64)
    if len(v) == 0:
        raise ValueError("no frames to take operating points from")
    centred = v - v.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    order = np.argsort(centred @ vt[0], kind="stable")
    picks = [order[min(len(v) - 1, int((i + 0.5) * len(v) / count))] for i in range(count)]
    return v[picks]


def fd_steps(values: np.ndarray) -> np.ndarray:
    """Finite-difference step per dimension: 5 % of the dimension's range over the track, at least 1e-3."""
    return np.maximum(0.05 * np.ptp(np.asarray(values, np.float64), axis=0), 1e-3)


def measure(
    render: Callable[[np.ndarray], np.ndarray],
    values: np.ndarray,
    points: int = 3,
    progress: Callable[[int], None] | None = None,
) -> Sensitivity:
    """Finite-difference render Jacobians of ``render`` (layout vector -> flat float image) at
    ``points`` operating points of ``values`` [T, D].

    Each derivative is a one-sided difference stepping towards the middle of the dimension's
    range (so the probe stays where the track goes); ``progress(n)`` is called after each render.
    """
    v = np.asarray(values, np.float64)
    pts = operating_points(v, points)
    steps = fd_steps(v)
    mid = (v.min(axis=0) + v.max(axis=0)) / 2
    full = []
    for p in pts:
        base = np.asarray(render(p.astype(np.float32)), np.float32).reshape(-1)
        cols = np.empty((base.size, v.shape[1]), np.float32)
        for d in range(v.shape[1]):
            h = steps[d] if p[d] <= mid[d] else -steps[d]
            probe = p.copy()
            probe[d] += h
            h_f32 = float(np.float32(probe[d]) - np.float32(p[d]))  # the step the renderer actually sees
            img = np.asarray(render(probe.astype(np.float32)), np.float32).reshape(-1)
            cols[:, d] = (img - base) / h_f32
            if progress:
                progress(1)
        full.append(cols)
        if progress:
            progress(1)
    active = np.flatnonzero(np.max([np.abs(c).max(axis=1) for c in full], axis=0) > ACTIVE_THRESHOLD)
    jac = np.stack([c[active] for c in full])
    return Sensitivity(pts, active.astype(np.int64), jac, int(full[0].shape[0]))


def fingerprint(obj) -> bytes:
    """Bytes that identify a (nested) dataclass of arrays, e.g. an Avatar: what the cache is keyed on."""
    import dataclasses

    h = hashlib.sha256()

    def walk(x) -> None:
        if isinstance(x, np.ndarray):
            h.update(f"{x.dtype}{x.shape}".encode())
            h.update(np.ascontiguousarray(x).tobytes())
        elif dataclasses.is_dataclass(x) and not isinstance(x, type):
            h.update(type(x).__name__.encode())
            for f in dataclasses.fields(x):
                walk(getattr(x, f.name))
        elif isinstance(x, dict):
            for k in sorted(x, key=str):
                h.update(repr(k).encode())
                walk(x[k])
        elif isinstance(x, list | tuple):
            h.update(b"[")
            for v in x:
                walk(v)
            h.update(b"]")
        else:
            h.update(repr(x).encode())

    walk(obj)
    return h.digest()


def cache_key(*parts: bytes | str) -> str:
    """Hex SHA-256 over the parts (avatar bytes, track values, settings), for the on-disk cache."""
    h = hashlib.sha256()
    for p in parts:
        b = p.encode() if isinstance(p, str) else bytes(p)
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()[:24]


def cached(cache_dir: str | Path | None, key: str, compute: Callable[[], Sensitivity]) -> Sensitivity:
    """Load the sensitivity stored under ``key`` in ``cache_dir``, or compute and store it (atomic rename)."""
    if cache_dir is None:
        return compute()
    path = Path(cache_dir) / f"sensitivity-{key}.npz"
    if path.exists():
        try:
            return Sensitivity.from_bytes(path.read_bytes())
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache entry is recomputed
    sens = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(sens.to_bytes())
    tmp.replace(path)
    return sens
