"""Tile-based, batched front-to-back compositor in torch (SPEC 13.4, R-86, R-87).

gsplat's pixel rasterizer is a CUDA kernel; this is its CPU counterpart with the same
equation. The image is cut into 16x16 tiles; each visible Gaussian is listed in every tile its
bounding box (``mean +- radius``) touches, and each tile's list is sorted by depth (front
first, ties in Gaussian order, as gsplat's radix sort does). Tiles are processed in chunks of
similar list length and each chunk walks its lists in blocks of ``block`` Gaussians, so one
block tensor holds ``tiles x block x 256`` floats: memory is bounded by ``budget`` whatever the
scene. A chunk stops as soon as all its pixels are saturated.

Per pixel the result equals the sequential loop (R-86)::

    T = 1; C = 0
    for each Gaussian of the tile, front to back:
        sigma = 0.5 (a dx^2 + c dy^2) + b dx dy          # d = mean2d - pixel centre
        alpha = min(0.999, opacity * exp(-sigma))
        if sigma < 0 or alpha < 1/255: continue
        if T (1 - alpha) <= 1e-4: stop                    # this fragment is not added
        C += colour * alpha * T;  T *= 1 - alpha
    pixel = C + T * background                            # R-87
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import torch
import torch.nn.functional as F

from .project import ALPHA_MAX, ALPHA_MIN, T_STOP, Projected

TILE = 16
"""Tile side in pixels (gsplat's default tile_size)."""
DEFAULT_BLOCK = 64
MAX_BLOCK = 1024
DEFAULT_BUDGET = 1 << 18
"""Elements of one block tensor (tiles x 256 x block): 1 MiB of float32, small enough to stay in cache."""


def tile_lists(p: Projected, width: int, height: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Tile/Gaussian intersections sorted by (tile, depth).

    Returns:
        gauss: [M] int64 Gaussian index of each intersection, grouped by tile, front first;
        tile_start: [tiles] int64 offset of each tile's first intersection in ``gauss``;
        tile_count: [tiles] int64 number of intersections per tile (row-major tile ids).
    """
    tw, th = (width + TILE - 1) // TILE, (height + TILE - 1) // TILE
    vis = torch.nonzero(p.visible, as_tuple=True)[0]
    # Front to back first; the stable sort by tile below keeps this order inside a tile.
    vis = vis[torch.sort(p.depths[vis], stable=True).indices]
    m = p.means2d[vis] / TILE
    r = p.radii[vis].to(m.dtype) / TILE
    x0 = torch.clamp(torch.floor(m[:, 0] - r[:, 0]), 0, tw).long()
    y0 = torch.clamp(torch.floor(m[:, 1] - r[:, 1]), 0, th).long()
    x1 = torch.clamp(torch.ceil(m[:, 0] + r[:, 0]), 0, tw).long()
    y1 = torch.clamp(torch.ceil(m[:, 1] + r[:, 1]), 0, th).long()
    nx = x1 - x0
    per = nx * (y1 - y0)
    owner = torch.repeat_interleave(torch.arange(vis.shape[0]), per)
    first = torch.cumsum(per, 0) - per
    local = torch.arange(owner.shape[0]) - first[owner]
    ty = y0[owner] + local // nx[owner]
    tx = x0[owner] + local % nx[owner]
    # Keep the pairs whose tile holds a pixel centre the Gaussian can reach (alpha >= 1/255):
    # the bounding box is a superset, this drops about a fifth of the pairs of a face render.
    hit = _reaches_tile(p, vis[owner], tx, ty)
    owner, tile = owner[hit], (ty * tw + tx)[hit]
    order = torch.sort(tile, stable=True).indices
    gauss = vis[owner[order]]
    count = torch.bincount(tile, minlength=tw * th)
    start = torch.cumsum(count, 0) - count
    return gauss, start, count


LOG2E = 1.4426950408889634
_NEG_TINY = -1e-38
"""``F.threshold`` keeps values strictly above its threshold: sigma >= 0 (to within 1e-38) is kept."""
_ALPHA_MIN_PRED = float(torch.nextafter(torch.tensor(ALPHA_MIN, dtype=torch.float32), torch.tensor(0.0)).item())
"""The binary32 value just below 1/255: ``alpha > pred`` is ``alpha >= 1/255`` in binary32."""


def _reaches_tile(p: Projected, gid: torch.Tensor, tx: torch.Tensor, ty: torch.Tensor) -> torch.Tensor:
    """[M] bool: whether min over the tile's pixel centres of sigma is <= ln(255 opacity).

    alpha >= 1/255 needs ``sigma <= ln(255 opacity)``; sigma is a convex quadratic, so over the
    rectangle spanned by the tile's pixel centres its minimum is at the mean (when inside) or on
    an edge, where it is a 1-D quadratic minimised in closed form. Evaluated in float64 with a
    margin, so no pair that could contribute is dropped (the image is unchanged).
    """
    m = p.means2d[gid].double()
    a, b, c = (p.conics[gid, k].double() for k in range(3))
    limit = torch.log(p.opacities[gid].double() * 255.0) * (1 + 1e-4) + 1e-4
    lo_x = (tx * TILE).double() + 0.5 - m[:, 0]
    hi_x = lo_x + (TILE - 1)
    lo_y = (ty * TILE).double() + 0.5 - m[:, 1]
    hi_y = lo_y + (TILE - 1)
    inside = (lo_x <= 0) & (hi_x >= 0) & (lo_y <= 0) & (hi_y >= 0)

    def edge(fixed, lo, hi, a_f, c_free):  # sigma on the edge where one offset is fixed
        free = torch.clamp(-b * fixed / c_free, lo, hi)
        return 0.5 * (a_f * fixed * fixed + c_free * free * free) + b * fixed * free

    smin = torch.minimum(
        torch.minimum(edge(lo_x, lo_y, hi_y, a, c), edge(hi_x, lo_y, hi_y, a, c)),
        torch.minimum(edge(lo_y, lo_x, hi_x, c, a), edge(hi_y, lo_x, hi_x, c, a)),
    )
    return inside | (smin <= limit)


def composite(
    p: Projected, width: int, height: int, background: torch.Tensor, block: int = DEFAULT_BLOCK, budget: int = DEFAULT_BUDGET
) -> torch.Tensor:
    """Render the projected Gaussians to an [height, width, 3] float32 image (not clamped)."""
    tw, th = (width + TILE - 1) // TILE, (height + TILE - 1) // TILE
    gauss, start, count = tile_lists(p, width, height)
    n = p.means2d.shape[0]
    # Per-Gaussian attributes with one padding entry (index n, opacity 0) for ragged lists.
    # exp(-sigma) is evaluated as exp2(-sigma log2(e)) (as CUDA's __expf does), so the conic
    # coefficients carry the factor log2(e); 0.5 a and 0.5 c are the halves of R-86's sigma.
    attrs = torch.cat(
        [
            torch.stack(
                [
                    p.means2d[:, 0],
                    p.means2d[:, 1],
                    p.conics[:, 0] * (0.5 * LOG2E),
                    p.conics[:, 1] * LOG2E,
                    p.conics[:, 2] * (0.5 * LOG2E),
                    p.opacities,
                ],
                dim=1,
            ),
            p.colors,
        ],
        dim=1,
    )
    attrs = torch.cat([attrs, attrs.new_zeros(1, attrs.shape[1])])  # the padding entry: opacity 0
    out = background.reshape(1, 1, 3).expand(tw * th, TILE * TILE, 3).clone()
    tiles = torch.nonzero(count, as_tuple=True)[0]
    tiles = tiles[torch.sort(count[tiles], descending=True, stable=True).indices]
    if tiles.numel() and tiles.numel() * block * TILE * TILE < budget:
        # Few tiles (a small image): longer blocks fill the budget and cut the loop count.
        block = max(block, min(MAX_BLOCK, int(count.max()), budget // (tiles.numel() * TILE * TILE)))
    chunk = max(1, budget // (block * TILE * TILE))
    chunks = [tiles[c0 : c0 + chunk] for c0 in range(0, tiles.shape[0], chunk)]

    def run(ids: torch.Tensor) -> torch.Tensor:
        return _composite_chunk(ids, start, count, gauss, tw, attrs, n, background, block)

    workers = torch.get_num_threads()
    if workers > 1 and len(chunks) > 1:
        # Chunks are independent: run them on `workers` Python threads with one torch thread
        # each (torch ops release the GIL). Per-op OpenMP parallelism on these small tensors
        # waits at a barrier after every op and collapses when another process takes a core.
        torch.set_num_threads(1)
        try:
            with ThreadPoolExecutor(workers) as pool:
                results = list(pool.map(run, chunks))
        finally:
            torch.set_num_threads(workers)
    else:
        results = [run(ids) for ids in chunks]
    for ids, res in zip(chunks, results, strict=True):
        out[ids] = res
    img = out.reshape(th, tw, TILE, TILE, 3).permute(0, 2, 1, 3, 4).reshape(th * TILE, tw * TILE, 3)
    return img[:height, :width]


def _composite_chunk(ids, start, count, gauss, tw, attrs, pad, background, block) -> torch.Tensor:
    """Composite the tiles ``ids`` (sorted by descending list length); returns [B, 256, 3].

    Block tensors are laid out [tiles, 256 pixels, block Gaussians] so that the running
    product runs along the contiguous axis. ``attrs`` is [N+1, 9]: x, y, the scaled conic
    (0.5 a, b, 0.5 c) times log2(e), opacity, r, g, b; row ``pad`` is a transparent Gaussian.
    """
    b = ids.shape[0]
    offs = torch.arange(TILE, dtype=torch.float32) + 0.5
    x0 = ((ids % tw) * TILE).to(torch.float32)
    y0 = ((ids // tw) * TILE).to(torch.float32)
    trans = torch.ones(b, TILE * TILE)
    done = torch.zeros(b, TILE * TILE, dtype=torch.bool)
    acc = torch.zeros(b, TILE * TILE, 3)
    cnt = count[ids]
    active = torch.arange(b)  # rows of this chunk still being composited
    kmax = int(cnt[0])
    for k0 in range(0, kmax, block):
        # Drop tiles whose list is exhausted (lists are sorted longest first) or whose pixels are all done.
        keep = (cnt[active] > k0) & ~done[active].all(dim=1)
        active = active[keep]
        if active.numel() == 0:
            break
        na = active.shape[0]
        k = torch.arange(k0, min(k0 + block, kmax))
        nk = k.shape[0]
        pos = start[ids[active]][:, None] + k[None, :]
        g = torch.where(k[None, :] < cnt[active][:, None], gauss[torch.clamp_max(pos, gauss.shape[0] - 1)], pad)
        at = attrs[g]  # [A, K, 9]
        mx, my, ca, cb, cc, op = (at[:, None, :, i] for i in range(6))
        dx = mx - (x0[active][:, None, None] + offs[None, :, None])  # [A, 16 columns, K]
        dy = my - (y0[active][:, None, None] + offs[None, :, None])  # [A, 16 rows, K]
        ax = (ca * dx * dx)[:, None, :, :]
        cy = (cc * dy * dy)[:, :, None, :]
        sig = torch.add(ax, cy).addcmul_((cb * dy)[:, :, None, :], dx[:, None, :, :])  # [A, row, col, K]
        sig = F.threshold(sig.view(na, TILE * TILE, nk), _NEG_TINY, math.inf)  # sigma < 0: skipped
        alpha = torch.exp2(sig.neg_()).mul_(op).clamp_max_(ALPHA_MAX)
        alpha = F.threshold(alpha, _ALPHA_MIN_PRED, 0.0)  # alpha < 1/255: skipped
        prod = torch.rsub(alpha, 1.0)
        ratio = alpha.div_(prod)  # alpha / (1 - alpha), so that alpha T_before = ratio T_after
        t_in = torch.where(done[active], 0.0, trans[active])  # a finished pixel takes nothing more
        prod[:, :, 0] *= t_in  # the running product is T (1-a1) (1-a2) ... in sequential order
        t_incl = torch.cumprod(prod, dim=2)
        # A fragment that would bring T to 1e-4 or below is not added, nor anything after it.
        t_live = F.threshold(t_incl, T_STOP, 0.0)
        weight = ratio.mul_(t_live)
        acc[active] += torch.bmm(weight, at[:, :, 6:9])
        end = t_live[:, :, -1]
        stop = (end == 0) & (t_in > 0)
        t_out = torch.where(done[active], trans[active], end)
        if bool(stop.any()):
            # T after the last live fragment (T is non-increasing, so live fragments come first).
            n_live = (t_live > 0).sum(dim=2, dtype=torch.int32).long()
            last = torch.gather(t_live, 2, torch.clamp_min(n_live - 1, 0)[:, :, None])[:, :, 0]
            t_out = torch.where(stop, torch.where(n_live > 0, last, t_in), t_out)
        trans[active] = t_out
        done[active] |= stop
    return acc + trans[:, :, None] * background.reshape(1, 1, 3)
