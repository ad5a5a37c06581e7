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
    "default": PackConfig,
    "balanced": lambda: PackConfig(position_bits=12, color_bits=7, scale_bits=7, rotation_bits=7, opacity_bits=7, vertex_bits=14),
    "compact": lambda: PackConfig(position_bits=11, color_bits=5, scale_bits=5, rotation_bits=5, opacity_bits=5, vertex_bits=13),
    "lossless": PackConfig.lossless,
}


def preset(name: str) -> PackConfig:
    """A new :class:`PackConfig` of the named preset (KeyError names the known ones)."""
    try:
        return PRESETS[name]()
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; known: {sorted(PRESETS)}") from None
