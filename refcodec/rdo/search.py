"""Quality-targeted encoding: the lowest rate whose predicted render PSNR meets a target (SPEC 9.4).

For each (dead zone, hold) pair of a small grid the image-MSE budget is bisected (on a log
scale) for the largest budget whose predicted 8-bit PSNR (:mod:`.predict`) still meets the
target; of those streams the smallest wins. A calibration by a few real renders (optional)
corrects the linear model where it is conservative (large steps at low targets).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .predict import Prediction, predict
from .problem import Problem
from .quantize import Coded, RdoSettings, encode

#: (dead zone in steps, hold as a fraction of the budget) pairs tried.
GRID = ((0.5, 0.0), (0.75, 0.0), (0.75, 0.5), (1.0, 1.0), (1.25, 2.0))
BISECTIONS = 8


@dataclass
class SearchResult:
    coded: Coded
    prediction: Prediction
    tried: int


def encode_and_predict(problem: Problem, settings: RdoSettings, avatar_hash: int | None = None) -> tuple[Coded, Prediction]:
    """One RDO stream of the problem's track and its predicted render errors."""
    gram = problem.sensitivity.gram()
    coded = encode(problem.values, problem.layout, gram, settings, problem.frame_rate, avatar_hash)
    return coded, predict(problem.sensitivity, problem.values, coded.decoded)


def search_quality(problem: Problem, target_db: float, intra_interval: int = 30, profile: str = "main",
                   avatar_hash: int | None = None, grid=GRID, progress: Callable[[int], None] | None = None,
                   calibrate: Callable[[np.ndarray], float] | None = None) -> SearchResult | None:
    """The smallest stream predicted to reach ``target_db`` (8-bit RGB PSNR against the unquantized
    parameters on the same avatar), or None when no budget of the grid reaches it.

    With ``calibrate`` (:func:`.predict.render_calibration`: decoded parameters -> dB the linear model
    misses on a few real renders), the search runs twice: the offset measured on the first result
    corrects every prediction of the second, and the final prediction carries the offset measured on
    the stream returned."""
    first = _search(problem, target_db, intra_interval, profile, avatar_hash, grid, progress, 0.0)
    if first is None or calibrate is None:
        return first
    offset = calibrate(first.coded.decoded)
    second = _search(problem, target_db, intra_interval, profile, avatar_hash, grid, progress, offset) or first
    final = calibrate(second.coded.decoded)
    pred = replace(second.prediction, calibration_db=final)
    return SearchResult(second.coded, pred, first.tried + second.tried)


def _search(problem: Problem, target_db: float, intra_interval: int, profile: str, avatar_hash: int | None, grid,
            progress: Callable[[int], None] | None, offset_db: float) -> SearchResult | None:
    best: tuple[Coded, Prediction] | None = None
    tried = 0
    target_mse = 10 ** (-target_db / 10)  # the float-image MSE at the target PSNR
    for deadzone, hold in grid:
        lo, hi = math.log(target_mse * 1e-2), math.log(target_mse * 4.0)
        found = None
        for _ in range(BISECTIONS):
            mid = (lo + hi) / 2
            coded, pred = encode_and_predict(problem, RdoSettings(math.exp(mid), deadzone, hold, intra_interval, profile), avatar_hash)
            pred = replace(pred, calibration_db=offset_db)
            tried += 1
            if progress:
                progress(1)
            if pred.psnr_8bit >= target_db:
                found, lo = (coded, pred), mid
            else:
                hi = mid
        if found and (best is None or len(found[0].data) < len(best[0].data)):
            best = found
    return None if best is None else SearchResult(best[0], best[1], tried)
