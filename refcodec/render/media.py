"""Image and video input/output for the renderer tools, through PyAV (FFmpeg).

Frames are float32 tensors [H, W, 3] in [0, 1]; they are stored as 8-bit sRGB-coded values
``round(255 x)`` without a transfer function (the renderer works in the avatar's colour space).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".avi", ".webm")


def to_uint8(img: torch.Tensor) -> np.ndarray:
    """[H, W, 3] float in [0, 1] -> uint8 array, rounding to nearest."""
    return np.ascontiguousarray((img.clamp(0, 1).numpy() * 255.0 + 0.5).astype(np.uint8))


def png_bytes(img: torch.Tensor) -> bytes:
    """Encode one frame as PNG (FFmpeg's encoder through PyAV)."""
    import av

    arr = to_uint8(img)
    codec = av.CodecContext.create("png", "w")
    codec.width, codec.height, codec.pix_fmt = arr.shape[1], arr.shape[0], "rgb24"
    packets = list(codec.encode(av.VideoFrame.from_ndarray(arr, format="rgb24"))) + list(codec.encode(None))
    return b"".join(bytes(p) for p in packets)


class Mp4Writer:
    """H.264 (libx264, yuv420p) MP4 writer; odd sizes are padded by one edge pixel."""

    def __init__(self, path: str | Path, rate: Fraction, width: int, height: int, crf: int = 18):
        import av

        self._av = av
        self.container = av.open(str(path), mode="w")
        self.stream = self.container.add_stream("libx264", rate=rate)
        self.stream.width = width + width % 2
        self.stream.height = height + height % 2
        self.stream.pix_fmt = "yuv420p"
        self.stream.options = {"crf": str(crf)}

    def write(self, img: torch.Tensor) -> None:
        arr = to_uint8(img)
        h, w = self.stream.height, self.stream.width
        if arr.shape[:2] != (h, w):
            arr = np.pad(arr, ((0, h - arr.shape[0]), (0, w - arr.shape[1]), (0, 0)), mode="edge")
        for packet in self.stream.encode(self._av.VideoFrame.from_ndarray(arr, format="rgb24")):
            self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()


def read_video(path: str | Path, width: int, height: int, start: int = 0, count: int | None = None) -> list[torch.Tensor]:
    """Frames ``start .. start+count-1`` of a video, scaled to ``width`` x ``height``, as [H, W, 3] float32."""
    import av

    out: list[torch.Tensor] = []
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i < start:
                continue
            if count is not None and len(out) >= count:
                break
            arr = frame.reformat(width=width, height=height, format="rgb24").to_ndarray()
            out.append(torch.from_numpy(arr.astype(np.float32) / 255.0))
    return out
