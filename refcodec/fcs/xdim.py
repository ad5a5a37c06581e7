"""Cross-dimension prediction of P-frame residuals (SPEC 5.2.1, 6.4; R-224, R-225).

A dimension j may name an earlier dimension i (in layout order) and a sign s: its coded value is
then its residual minus s times dimension i's residual in the same frame, so dimensions that move
together (left/right blendshapes, a rig's coupled channels) cost one small number instead of two.
Decoding adds s x r(i) back, in layout order, before the prediction of R-32 / R-132 is added.
Nothing is carried from frame to frame: a lost unit changes nothing here.
"""

from __future__ import annotations

import numpy as np

from .layout import SequenceHeader

#: How many earlier dimensions, ranked by the correlation of their residuals, the encoder tries per dimension.
CANDIDATES = 8


def flat_references(h: SequenceHeader) -> list[tuple[int, int] | None]:
    """Per dimension in layout order, (reference dimension, sign +1 or -1), or None (R-224)."""
    out: list[tuple[int, int] | None] = []
    for grp in h.groups:
        for d in range(grp.dims):
            ref = grp.xdim[d] if h.xdim_pred_flag and grp.xdim is not None else None
            j = len(out)
            out.append(None if ref is None else (j - 1 - ref[0], -1 if ref[1] else 1))
    return out


def residuals_from_coded(coded: np.ndarray, refs: list[tuple[int, int] | None]) -> np.ndarray:
    """SPEC 6.4, R-225: r(j) = coded(j) + s(j) x r(ref(j)), in layout order (``coded``: [D] or [T, D])."""
    r = np.array(coded, dtype=np.int64, copy=True)
    for j, ref in enumerate(refs):
        if ref is not None:
            r[..., j] += ref[1] * r[..., ref[0]]
    return r


def coded_from_residuals(residuals: np.ndarray, refs: list[tuple[int, int] | None]) -> np.ndarray:
    """The inverse of :func:`residuals_from_coded` (encoder): coded(j) = r(j) - s(j) x r(ref(j))."""
    r = np.asarray(residuals, dtype=np.int64)
    coded = r.copy()
    for j, ref in enumerate(refs):
        if ref is not None:
            coded[..., j] = r[..., j] - ref[1] * r[..., ref[0]]
    return coded


LOG_FRACTION_BITS = 16


def _log2_fixed(n: int) -> int:
    """floor(log2(n) x 2^16) for an integer n >= 1, in integer arithmetic only (the same on every CPU)."""
    e = n.bit_length() - 1
    precision = 40
    m = (n << precision) >> e  # the mantissa in [1, 2) with 40 fractional bits
    out = e << LOG_FRACTION_BITS
    for i in range(LOG_FRACTION_BITS):
        m = (m * m) >> precision
        if m >= 2 << precision:
            m >>= 1
            out |= 1 << (LOG_FRACTION_BITS - 1 - i)
    return out


def _entropy_cost(x: np.ndarray) -> int:
    """The zero-order entropy of a column of integers over the column, in units of 2^-16 bit (integers only)."""
    _, counts = np.unique(x, return_counts=True)
    total = _log2_fixed(int(counts.sum()))
    return sum(int(c) * (total - _log2_fixed(int(c))) for c in counts)


def choose_references(residuals: np.ndarray, min_gain: float = 0.03, min_bits: int = 32) -> list[tuple[int, int] | None]:
    """An encoder's references for the P-frame residuals [T, D] (informative, SPEC 9.5).

    For each dimension, the earlier dimensions whose residuals correlate best (at most
    :data:`CANDIDATES`, ranked by squared correlation, computed elementwise from exact integer covariances) are
    tried with the sign of the correlation;
    the one whose difference has the lowest zero-order entropy is kept when it saves at least
    ``min_gain`` of the dimension's bits and ``min_bits`` bits over the track (a reference costs the
    header about 10 bits). Integer arithmetic and elementwise IEEE operations only (no BLAS, no library
    logarithm), so every machine chooses the same.
    """
    r = np.asarray(residuals, dtype=np.int64)
    refs: list[tuple[int, int] | None] = [None] * (r.shape[1] if r.ndim == 2 else 0)
    if r.ndim != 2 or len(r) < 2:
        return refs
    n = len(r)
    sums = r.sum(axis=0)
    cov = n * (r.T @ r) - np.outer(sums, sums)  # integer matmul (no BLAS): n^2 x the covariances, exact
    var = np.diagonal(cov).astype(np.float64)
    scale = 1 << LOG_FRACTION_BITS
    for j in range(1, r.shape[1]):
        own = _entropy_cost(r[:, j])
        if own == 0 or cov[j, j] == 0:
            continue
        c = cov[:j, j].astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):  # elementwise IEEE operations: the same on every CPU
            score = np.where((c != 0) & (var[:j] > 0), c * c / var[:j], -1.0)
        ranked = [int(i) for i in np.argsort(-score, kind="stable")[:CANDIDATES] if score[i] > 0]
        best, pick = own, None
        for i in ranked:
            sign = 1 if cov[i, j] > 0 else -1
            cost = _entropy_cost(r[:, j] - sign * r[:, i])
            if cost < best:
                best, pick = cost, (i, sign)
        if pick is not None and (own - best) * 100 >= round(min_gain * 100) * own and own - best >= min_bits * scale:
            refs[j] = pick
    return refs


def header_references(refs: list[tuple[int, int] | None]) -> list[tuple[int, int] | None]:
    """(xdim_ref_delta, xdim_ref_sign) per dimension from flat references (R-224: ref = j - 1 - delta)."""
    return [None if ref is None else (j - 1 - ref[0], int(ref[1] < 0)) for j, ref in enumerate(refs)]
