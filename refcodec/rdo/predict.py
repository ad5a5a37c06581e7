"""PSNR prediction of a coded stream from the linearised render model (informative, SPEC 9.4).

For frame t with reference parameters ``x_t`` and decoded ``x^_t``, the render error of image
sample i is ``e_i = (J_p (x^_t - x_t))_i`` at the frame's nearest operating point p. The
float MSE is the mean of ``e_i^2``. The 8-bit MSE is the expected squared difference of the
two renders rounded to 8 bits: with ``E = 255 |e|`` and the reference's fractional position
uniform, ``E[(round(s + E) - round(s))^2] = E^2 + f (1 - f)`` with ``f = frac(E)``.
PSNRs are pooled over frames: ``10 log10(peak^2 / mean MSE)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .sensitivity import Sensitivity

#: Frames of a track the prediction evaluates at most (evenly spread).
PREDICT_FRAMES = 40


@dataclass(frozen=True)
class Prediction:
    """Predicted pooled render errors of decoded against reference parameters."""

    mse_float: float
    mse_8bit: float
    frames: int
    #: dB added to the linearised 8-bit PSNR (not to the float one): what a few real renders showed the model
    #: to miss (:func:`render_calibration`)
    calibration_db: float = 0.0

    @property
    def psnr_float(self) -> float:
        return psnr_from_mse(self.mse_float, 1.0)

    @property
    def psnr_8bit(self) -> float:
        return psnr_from_mse(self.mse_8bit, 255.0) + self.calibration_db


def psnr_from_mse(mse: float, peak: float) -> float:
    """``10 log10(peak^2 / mse)``; infinite for a zero MSE."""
    return math.inf if mse <= 0 else 10.0 * math.log10(peak * peak / mse)


def eval_frames(count: int, limit: int = PREDICT_FRAMES) -> np.ndarray:
    """Up to ``limit`` frame indices spread evenly over ``count`` frames."""
    return np.unique(np.linspace(0, count - 1, min(count, limit)).round().astype(np.int64)) if count else np.zeros(0, np.int64)


def eight_bit_square_error(err: np.ndarray) -> np.ndarray:
    """Expected squared difference in 8-bit levels of two renders differing by ``err`` (float units)."""
    e = np.abs(np.asarray(err, np.float32)) * np.float32(255.0)
    f = e - np.floor(e)
    return e * e + f * (np.float32(1.0) - f)


def predict(sens: Sensitivity, reference: np.ndarray, decoded: np.ndarray, frames: np.ndarray | None = None) -> Prediction:
    """Predicted pooled MSEs of renders of ``decoded`` against ``reference`` ([T, D], layout order)."""
    ref = np.asarray(reference, np.float64)
    idx = eval_frames(len(ref)) if frames is None else np.asarray(frames, np.int64)
    if len(idx) == 0:
        return Prediction(0.0, 0.0, 0)
    delta = (np.asarray(decoded, np.float64) - ref)[idx]
    near = sens.nearest_point(ref[idx])
    sq_float = sq_8bit = 0.0
    for p in np.unique(near):
        rows = delta[near == p].astype(np.float32)
        err = sens.jacobians[p] @ rows.T  # [A, frames of this point]
        sq_float += float(np.square(err, dtype=np.float64).sum())
        sq_8bit += float(eight_bit_square_error(err).sum(dtype=np.float64))
    n = len(idx) * sens.total_samples
    return Prediction(sq_float / n, sq_8bit / n, len(idx))


#: Frames a calibration renders (evenly spread over the track).
CALIBRATION_FRAMES = 6


def render_calibration(avatar, reference: np.ndarray, sens: Sensitivity, frames: int = CALIBRATION_FRAMES,
                       threads: int | None = None):
    """A function of decoded parameters [T, D] giving the dB by which the linearised prediction misses
    the real 8-bit PSNR on ``frames`` sample frames rendered with the CPU reference renderer.

    The linear model overestimates the image error of large parameter errors (the render responds
    sublinearly: occlusion, clipping); a handful of renders of the candidate measures that offset.
    """
    from .problem import cpu_render_function

    render = cpu_render_function(avatar, threads)
    size = avatar.render.height, avatar.render.width
    ref = np.asarray(reference, np.float64)
    idx = eval_frames(len(ref), frames)

    def image(x: np.ndarray) -> np.ndarray:
        return np.round(np.clip(render(np.asarray(x, np.float32)).reshape(*size, 3), 0.0, 1.0) * 255.0)

    ref_images = [image(ref[t]) for t in idx]

    def offset(decoded: np.ndarray) -> float:
        mse = float(np.mean([np.mean((image(decoded[t]) - r) ** 2) for t, r in zip(idx, ref_images, strict=True)]))
        if mse == 0.0:
            return 0.0
        return psnr_from_mse(mse, 255.0) - predict(sens, ref, decoded, idx).psnr_8bit

    return offset
