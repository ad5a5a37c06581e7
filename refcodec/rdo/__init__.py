"""Rate-distortion tools of the reference encoder (informative, SPEC 9.4): render sensitivity,
an image-weighted expression basis, per-dimension quantization with dead zone and hold, PSNR
prediction and quality-targeted search. The decoding process does not depend on any of it."""

from .basis import Basis, arkit_view, basis_of, learn_basis, project, with_basis
from .predict import Prediction, predict
from .problem import Problem, layout_values, learn_avatar_basis, prepare
from .quantize import Coded, RdoSettings, allocate, encode
from .search import SearchResult, search_quality
from .sensitivity import Sensitivity, measure

__all__ = [
    "Basis", "Coded", "Prediction", "Problem", "RdoSettings", "SearchResult", "Sensitivity", "allocate", "arkit_view",
    "basis_of", "encode", "layout_values", "learn_avatar_basis", "learn_basis", "measure", "predict", "prepare", "project",
    "search_quality", "with_basis",
]
