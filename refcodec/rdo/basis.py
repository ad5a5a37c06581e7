"""A per-avatar linear expression basis weighted by image effect (informative, SPEC 9.4, 11.5.1).

The basis replaces the 52 ARKit weights by K coefficients: ``w = M c + bias``, stored in the
container's coefficient map (SPEC 11.5.1) with ``coeff_source`` EXPRESSION, so that the
stream carries an EXPRESSION group of K dimensions. M is the PCA of a training track in the
metric of the render sensitivity ``G`` (:meth:`Sensitivity.gram`): the K directions that keep
the most image energy, so dropping the others costs the least picture. The encoder maps a
weight vector to the coefficients that minimise the image error,
``c = (M^T G M)^-1 M^T G (w - bias)``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..avatar.model import Avatar, CoefficientMap
from ..spec_tables import arkit52_names

ARKIT = "ARKIT52"
EXPRESSION = "EXPRESSION"
#: Ridge added to G (relative to its mean diagonal) so that weights without image effect stay bounded.
RIDGE = 1e-6


@dataclass
class Basis:
    """``w = matrix @ c + mean`` in canonical ARKit order: matrix [52, K], mean [52]."""

    matrix: np.ndarray
    mean: np.ndarray

    @property
    def k(self) -> int:
        return int(self.matrix.shape[1])


def regularised(gram: np.ndarray) -> np.ndarray:
    """``G + RIDGE * mean(diag G) * I``: positive definite, barely changed where G has weight."""
    g = np.asarray(gram, np.float64)
    return g + RIDGE * max(float(np.mean(np.diag(g))), 1e-30) * np.eye(len(g))


def learn_basis(weights: np.ndarray, gram: np.ndarray, k: int) -> Basis:
    """The K-dimensional G-weighted PCA basis of ARKit weights [T, 52] (``gram`` [52, 52]).

    With ``G = L L^T``, the columns are ``L^-T u_j`` for the top-K eigenvectors ``u_j`` of
    ``L^T C L`` (C the covariance of the weights), so they are G-orthonormal: ``M^T G M = I``.
    """
    w = np.asarray(weights, np.float64)
    if not 1 <= k <= w.shape[1]:
        raise ValueError(f"K = {k} must be in 1..{w.shape[1]}")
    g = regularised(gram)
    chol = np.linalg.cholesky(g)
    mean = w.mean(axis=0)
    z = (w - mean) @ chol  # rows z = L^T x
    cov = z.T @ z / max(len(w), 1)
    vals, vecs = np.linalg.eigh(cov)
    top = vecs[:, np.argsort(vals, kind="stable")[::-1][:k]]
    top *= np.where(top[np.argmax(np.abs(top), axis=0), np.arange(k)] < 0, -1.0, 1.0)  # deterministic signs
    matrix = np.linalg.solve(chol.T, top)
    return Basis(matrix, mean)


def project(weights: np.ndarray, basis: Basis, gram: np.ndarray) -> np.ndarray:
    """Coefficients [T, K] of ARKit weights [T, 52] with the least G-weighted error."""
    g = regularised(gram)
    m = basis.matrix
    return np.linalg.solve(m.T @ g @ m, m.T @ g @ (np.asarray(weights, np.float64) - basis.mean).T).T


def morph_rows(avatar: Avatar) -> np.ndarray:
    """For each morph target of the avatar, its canonical ARKit index or -1 (SPEC 13.1, R-81)."""
    pos = {n: i for i, n in enumerate(arkit52_names())}
    return np.array([pos.get(n, -1) for n in avatar.deformation.morphs.names], np.int64)


def with_basis(avatar: Avatar, basis: Basis) -> Avatar:
    """The avatar driven by K EXPRESSION coefficients through a coefficient map (SPEC 11.5.1).

    Its layout has EXPRESSION(K) in place of ARKIT52; morph target t takes row ``arkit(t)`` of
    the basis (a target without an ARKit name gets weight 0, as without a map).
    """
    d = avatar.deformation
    if d is None or d.coeff_map is not None or (ARKIT, 52) not in avatar.layout:
        raise ValueError("the avatar must have ARKit-named morph targets, no coefficient map and an ARKIT52 layout group")
    rows = morph_rows(avatar)
    matrix = np.where(rows[:, None] >= 0, basis.matrix[np.maximum(rows, 0)], 0.0).astype(np.float32)
    bias = np.where(rows >= 0, basis.mean[np.maximum(rows, 0)], 0.0).astype(np.float32)
    layout = [(EXPRESSION, basis.k) if g == (ARKIT, 52) else g for g in avatar.layout]
    return replace(avatar, deformation=replace(d, coeff_map=CoefficientMap(EXPRESSION, matrix, bias)), layout=layout)


def basis_of(avatar: Avatar) -> Basis | None:
    """The ARKit-order basis of an avatar whose coefficient map is driven by EXPRESSION, else None.

    Rows of ARKit names without a morph target are 0 (those weights have no effect).
    """
    d = avatar.deformation
    if d is None or d.coeff_map is None or d.coeff_map.source != EXPRESSION:
        return None
    cm = d.coeff_map
    rows = morph_rows(avatar)
    k = cm.matrix.shape[1]
    matrix, mean = np.zeros((52, k)), np.zeros(52)
    for t, r in enumerate(rows):
        if r >= 0:
            matrix[r] = cm.matrix[t]
            mean[r] = 0.0 if cm.bias is None else cm.bias[t]
    return Basis(matrix, mean)


def arkit_view(avatar: Avatar) -> Avatar:
    """The avatar driven directly by ARKit weights: its coefficient map removed, EXPRESSION -> ARKIT52."""
    d = avatar.deformation
    if d is None or d.coeff_map is None:
        return avatar
    layout = [(ARKIT, 52) if name == EXPRESSION else (name, dims) for name, dims in avatar.layout]
    return replace(avatar, deformation=replace(d, coeff_map=None), layout=layout)
