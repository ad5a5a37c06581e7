"""Named encoder settings of the avatar container: the configurations fcpack and fcbench-avatar share.

``default`` is :class:`PackConfig` as constructed with no argument; ``balanced`` and ``compact``
trade attribute accuracy for size; ``lossless`` stores every float as raw binary32. The
accuracy and size of each on the LAM avatar are measured by ``fcbench-avatar``
(bench/avatar_bench.md).
"""

from __future__ import annotations

from collections.abc import Callable

from .codec import PackConfig

#: Preset name -> a factory of a fresh PackConfig (PackConfig is mutable; each caller gets its own).
PRESETS: dict[str, Callable[[], PackConfig]] = {
    # Measured on the LAM avatar (fcbench-avatar, bench/avatar_bench.md): bytes, render PSNR against the uncompressed avatar.
    "default": PackConfig,  # 10-bit smallest-three rotations, 8-bit opacity after the sigmoid, morphs within 0.1 mm
    "balanced": lambda: PackConfig(
        position_bits=13, color_bits=7, scale_bits=7, rotation_bits=9, opacity_bits=7, vertex_bits=14, morph_max_error=1.5e-4
    ),
    "compact": lambda: PackConfig(
        position_bits=11, color_bits=6, scale_bits=5, rotation_bits=8, opacity_bits=5, vertex_bits=13, morph_max_error=4e-4
    ),
    "lossless": PackConfig.lossless,
}


def preset(name: str) -> PackConfig:
    """A new :class:`PackConfig` of the named preset (KeyError names the known ones)."""
    try:
        return PRESETS[name]()
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; known: {sorted(PRESETS)}") from None
