"""What the rate-distortion encoder works on: a track in an avatar's layout and that avatar's
render sensitivity (informative, SPEC 9.4)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..avatar.model import Avatar
from ..errors import E_LAYOUT_MISMATCH
from ..track import Track
from .basis import ARKIT, arkit_view, basis_of, project
from .sensitivity import Sensitivity, cache_key, cached, fingerprint, measure

#: Operating points of the sensitivity measurement (each costs one render per layout dimension).
DEFAULT_POINTS = 3


@dataclass
class Problem:
    """A track mapped to an avatar's layout, with the avatar's linearised render model.

    Attributes:
        values: [T, D] the unquantized parameters in the avatar's layout (the quality reference).
        layout: the avatar's layout, (semantic name, dims) per group.
        sensitivity: the render model in the same layout.
        frame_rate: (num, den) of the track.
    """

    values: np.ndarray
    layout: list[tuple[str, int]]
    sensitivity: Sensitivity
    frame_rate: tuple[int, int]


def layout_values(track: Track, layout: list[tuple[str, int]]) -> np.ndarray:
    """The track's values in a layout's order by group semantic and canonical index (SPEC 11.4, R-61);
    layout dimensions the track lacks read 0, values the layout has no use for are left out."""
    cols: dict[str, dict[int, int]] = {}
    for g, sl in zip(track.groups, track.group_slices(), strict=True):
        canon = list(g.dim_index) if g.dim_index is not None else list(range(len(g.names)))
        cols.setdefault(g.semantic, {c: sl.start + k for k, c in enumerate(canon)})
    out = np.zeros((track.frames, sum(d for _, d in layout)), np.float64)
    pos = 0
    for name, dims in layout:
        if name not in cols:
            raise E_LAYOUT_MISMATCH(f"the avatar expects a {name} group, the track has none", field="group_semantic")
        for d, col in cols[name].items():
            if d < dims:
                out[:, pos + d] = track.values[:, col]
        pos += dims
    return out


def cpu_render_function(avatar: Avatar, threads: int | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """Layout vector -> flat float32 image of the CPU reference renderer at the avatar's default camera."""
    from ..render import Renderer

    renderer = Renderer(avatar, backend="cpu", threads=threads)
    return lambda x: renderer.render(x).numpy().reshape(-1)


def prepare(avatar: Avatar, track: Track, cache_dir: str | Path | None = None, points: int | None = None,
            progress: Callable[[int], None] | None = None, threads: int | None = None, probe: Track | None = None) -> Problem:
    """Map ``track`` to ``avatar``'s layout and measure (or load from ``cache_dir``) its sensitivity.

    The sensitivity is measured on the avatar driven directly by ARKit weights (:func:`arkit_view`);
    for an avatar with an EXPRESSION basis the track's ARKit weights are projected on the basis
    (:func:`.basis.project`) and the Jacobians follow by the chain rule ``J_c = J_w M`` (the
    morph weights are linear in the coefficients, SPEC 13.1, R-81). The cache is keyed on the
    ARKit view's content, so containers that differ only in their basis share one measurement.
    The operating points come from ``probe`` (default: ``track`` itself), so one measurement per
    avatar can serve many tracks.
    """
    points = DEFAULT_POINTS if points is None else points
    view = arkit_view(avatar)
    base = layout_values(track, view.layout)
    probe_values = base if probe is None else layout_values(probe, view.layout)
    key = cache_key(fingerprint(view), np.ascontiguousarray(probe_values).tobytes(), f"points={points}")
    sens = cached(cache_dir, key, lambda: measure(cpu_render_function(view, threads), probe_values, points, progress))
    basis = basis_of(avatar)
    if basis is None:
        return Problem(base, list(avatar.layout), sens, track.frame_rate)
    start = 0
    for name, dims in view.layout:
        if name == ARKIT:
            break
        start += dims
    arkit = slice(start, start + 52)
    gram = sens.gram()[arkit, arkit]
    coeffs = project(base[:, arkit], basis, gram)
    values = np.concatenate([base[:, :start], coeffs, base[:, arkit.stop:]], axis=1)
    jac = sens.jacobians.astype(np.float64)
    new_jac = np.concatenate([jac[:, :, :start], jac[:, :, arkit] @ basis.matrix, jac[:, :, arkit.stop:]], axis=2).astype(np.float32)
    pts = np.concatenate([sens.points[:, :start], project(sens.points[:, arkit], basis, gram), sens.points[:, arkit.stop:]], axis=1)
    return Problem(values, list(avatar.layout), Sensitivity(pts, sens.samples, new_jac, sens.total_samples), track.frame_rate)


def learn_avatar_basis(avatar: Avatar, track: Track, k: int, cache_dir: str | Path | None = None, points: int | None = None,
                       progress: Callable[[int], None] | None = None, threads: int | None = None) -> Avatar:
    """``avatar`` with a K-coefficient EXPRESSION basis learned from ``track`` (SPEC 11.5.1 coefficient map):
    the image-weighted PCA of the track's ARKit weights (:func:`.basis.learn_basis`)."""
    from .basis import learn_basis, with_basis

    problem = prepare(avatar, track, cache_dir, points, progress, threads)
    start = 0
    for name, dims in problem.layout:
        if name == ARKIT:
            break
        start += dims
    else:
        raise ValueError("the avatar has no ARKIT52 layout group to replace with a basis")
    arkit = slice(start, start + 52)
    return with_basis(avatar, learn_basis(problem.values[:, arkit], problem.sensitivity.gram()[arkit, arkit], k))
