"""Attribute codings of SPEC 11.7.1: smallest-three rotations (R-150) and opacity after the sigmoid (R-151).

A coding is an ATTR ``attribute_id`` that gives a registered attribute in another form. The
decoder side is exact tier: every step is one exactly rounded binary32 operation (products,
sums, ``sqrt``), so any IEEE 754 implementation reproduces it bit for bit. The encoder side
(normalising, choosing the largest component) is informative.
"""

from __future__ import annotations

import numpy as np

from .. import detmath as dm

#: ATTR ids of the codings (spec/container.toml ``codes``).
ROTATION_S3_ID = 6
OPACITY_ALPHA_ID = 7

#: Smallest opacity a logit is made for: sigmoid(logit(2^-24)) stays below the renderer's 1/255 cut-off.
_ALPHA_EPS = np.float64(2.0**-24)


def smallest_three(rotations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Encoder side of R-150: ``rotations`` [N, 4] (w, x, y, z, any norm > 0) ->
    (largest-component index [N] uint8, the other three components [3, N] float32, channel-major).

    Each quaternion is normalised in binary64 and its sign chosen so that its largest-magnitude
    component is positive (q and -q are the same rotation), so that component follows from the
    other three.
    """
    q = np.asarray(rotations, np.float64)
    q = q / np.sqrt(dm.sum_cols(q * q))[:, None]  # fixed-order sum: vectors do not depend on SIMD paths
    largest = np.argmax(np.abs(q), axis=1)
    rows = np.arange(q.shape[0])
    q = q * np.where(q[rows, largest] < 0, -1.0, 1.0)[:, None]
    keep = np.ones_like(q, bool)
    keep[rows, largest] = False
    rest = q[keep].reshape(-1, 3)  # row order keeps w, x, y, z order without the largest
    return largest.astype(np.uint8), np.ascontiguousarray(rest.T, np.float32)


def from_smallest_three(largest: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """Decoder side of R-150 (exact tier): index [N] and decoded components [3, N] -> quaternions [N, 4] float32.

    The missing component is ``sqrt(max(0, 1 - ((a0 a0 + a1 a1) + a2 a2)))``, every operation in
    binary32 and in this order.
    """
    a = np.asarray(rest, np.float32).reshape(3, -1)
    k = np.asarray(largest, np.int64).reshape(-1)
    squares = np.multiply(a, a, dtype=np.float32)
    s = np.add(np.add(squares[0], squares[1], dtype=np.float32), squares[2], dtype=np.float32)
    m = np.sqrt(np.maximum(np.subtract(np.float32(1), s, dtype=np.float32), np.float32(0)), dtype=np.float32)
    n = a.shape[1]
    out = np.empty((n, 4), np.float32)
    rows = np.arange(n)
    out[rows, k] = m
    others = np.ones((n, 4), bool)
    others[rows, k] = False
    out[others] = a.T.reshape(-1)  # a0, a1, a2 fill the other slots in w, x, y, z order
    return out


def alpha_from_logits(logits: np.ndarray) -> np.ndarray:
    """Encoder side of R-151: opacity = 1 / (1 + e^-logit), in binary64 then rounded to binary32."""
    return dm.sigmoid(np.asarray(logits, np.float64)).astype(np.float32)  # detmath: the same bits on every machine


def logits_from_alpha(alpha: np.ndarray) -> np.ndarray:
    """Opacity logits for an in-memory model that stores logits (informative, SPEC 11.7.1).

    The opacity is clamped to [2^-24, 1 - 2^-24] so the logit is finite; the renderer's sigmoid
    gives the opacity back within binary32 rounding (and 2^-24 is far below the 1/255 cut-off).
    """
    a = np.clip(np.asarray(alpha, np.float64), _ALPHA_EPS, 1.0 - _ALPHA_EPS)
    return (np.log(a) - np.log1p(-a)).astype(np.float32)
