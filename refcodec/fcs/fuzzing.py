"""Deterministic mutation of ``.fcs`` streams for fuzzing (``fcfuzz``, property tests).

Everything is driven by a caller-supplied :class:`random.Random`, so a (seed, index) pair
reproduces an input exactly. The contract being fuzzed (SPEC 4.1): any input either decodes
or raises a subclass of :class:`refcodec.errors.FcError`; nothing else may escape.

- :func:`random_track`, :func:`random_stream`: valid seed streams with random layouts
  (groups, semantics, bit depths 1..16, CRCs, index maps, zero flags, range updates,
  repeated headers, forced Exp-Golomb orders).
- :data:`MUTATORS`: bit flips, byte flips, truncation, byte insertion and deletion, forged
  leb128 unit sizes, unit duplication/dropping and splicing units of two streams.
- :func:`mutate`: one or more random mutations of a stream.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np

from ..errors import FcError
from ..leb128 import read_leb128, write_leb128
from ..spec_tables import canonical_dims, group_semantics
from ..track import Track, TrackGroup
from .encoder import EncoderConfig, build_header, encode_track
from .storage import FCS_SIGNATURE

Mutator = Callable[[random.Random, bytes, bytes], bytes]


# -- valid seed streams -------------------------------------------------------------

def random_track(rng: random.Random, max_groups: int = 4, max_dims: int = 12, max_frames: int = 48) -> Track:
    """A small track with a random layout (semantics from the registry, optional index maps)."""
    sems = sorted(group_semantics())
    groups, cols = [], 0
    for _ in range(rng.randint(1, max_groups)):
        sem = rng.choice(sems)
        canon = canonical_dims(sem)
        n = rng.randint(1, min(max_dims, canon) if canon else max_dims)
        dim_index = None
        if rng.random() < 0.3:
            dim_index = sorted(rng.sample(range(canon if canon else 300), n))
        name = group_semantics()[sem]["name"]
        groups.append(TrackGroup(name, [f"{name.lower()}[{d}]" for d in range(n)], dim_index))
        cols += n
    frames = rng.randint(1, max_frames)
    nrng = np.random.default_rng(rng.getrandbits(32))
    scale = 10.0 ** rng.uniform(-4, 2)
    values = np.cumsum(nrng.normal(0.0, scale, size=(frames, cols)), axis=0)
    if rng.random() < 0.3:  # stretches without motion: zero-residual groups
        hold = nrng.random(frames) < 0.5
        for t in range(1, frames):
            if hold[t]:
                values[t] = values[t - 1]
    if rng.random() < 0.1:  # a constant column (min == max)
        values[:, rng.randrange(cols)] = rng.uniform(-1, 1)
    fps = rng.choice([(25, 1), (30, 1), (30000, 1001), (60, 1)])
    return Track(values, groups, fps)


def random_stream(rng: random.Random, **track_args) -> bytes:
    """A valid ``.fcs`` file with a random layout and random encoder choices."""
    track = random_track(rng, **track_args)
    interval = rng.randint(1, 40)
    depths = [rng.randint(1, 16) for _ in track.groups]
    eg = "auto" if rng.random() < 0.7 else rng.randint(0, 15)
    header = build_header(
        track, depths, interval, eg_orders=eg,
        zero_flags=rng.choice(["auto", True, False]),
        header_crc=rng.random() < 0.3, frame_crc=rng.random() < 0.3,
        avatar_hash=rng.getrandbits(64) if rng.random() < 0.2 else None,
        profile_idc=rng.choice([0, 1]), intra_pred=rng.random() < 0.3, conceal_extrapolate=rng.random() < 0.3,
        xdim=rng.random() < 0.3,
    )
    if rng.random() < 0.3:  # cross-dimension references of every kind (SPEC 5.2.1, R-224), chosen at random
        header.xdim_pred_flag, j = True, 0
        for grp in header.groups:
            grp.xdim = [None] * grp.dims
            for d in range(grp.dims):
                if j and rng.random() < 0.5:
                    grp.xdim[d] = (rng.randrange(j), rng.randrange(2))
                j += 1
    config = EncoderConfig(rng.randint(1, interval), repeat_header=rng.random() < 0.3, range_update=rng.random() < 0.3,
                           packet_frames=rng.choice([0, 1, 3]))
    return encode_track(track, header, config)


# -- framing helpers ---------------------------------------------------------------

def split_units(data: bytes) -> list[bytes]:
    """Unit payloads of a well-formed file, or [] if the framing is broken (no limits applied)."""
    if not data.startswith(FCS_SIGNATURE):
        return []
    pos, out = len(FCS_SIGNATURE), []
    try:
        while pos < len(data):
            size, used = read_leb128(data, pos)
            if size == 0 or pos + used + size > len(data):
                return []
            out.append(data[pos + used : pos + used + size])
            pos += used + size
    except FcError:
        return []
    return out


def join_units(units: list[bytes]) -> bytes:
    """A file holding ``units`` (minimal leb128 sizes)."""
    return FCS_SIGNATURE + b"".join(write_leb128(len(u)) + u for u in units)


def _unit_spans(data: bytes) -> list[tuple[int, int, int]]:
    """(size_offset, payload_offset, payload_size) of each unit of a well-formed file."""
    pos, out = len(FCS_SIGNATURE), []
    try:
        while pos < len(data):
            size, used = read_leb128(data, pos)
            out.append((pos, pos + used, size))
            pos += used + size
    except FcError:
        pass
    return out


# -- mutators ------------------------------------------------------------------------

def bit_flip(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Flip 1..8 random bits."""
    if not data:
        return data
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(b) * 8)
        b[i // 8] ^= 0x80 >> (i % 8)
    return bytes(b)


def byte_flip(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Replace 1..4 bytes with random or boundary values."""
    if not data:
        return data
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        b[rng.randrange(len(b))] = rng.choice([0x00, 0xFF, 0x7F, 0x80, 0x01, rng.randrange(256)])
    return bytes(b)


def truncate(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Cut the file at a random byte (or bit-aligned inside the last unit)."""
    return data[: rng.randrange(len(data) + 1)] if data else data


def insert_bytes(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Insert 1..16 random bytes at a random position."""
    i = rng.randrange(len(data) + 1)
    return data[:i] + rng.randbytes(rng.randint(1, 16)) + data[i:]


def delete_bytes(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Delete 1..16 bytes at a random position."""
    if not data:
        return data
    i = rng.randrange(len(data))
    return data[:i] + data[i + rng.randint(1, 16) :]


def forge_leb128(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Rewrite one unit size: off by a little, zero, huge, over-long (> 8 bytes) or non-minimal."""
    spans = _unit_spans(data)
    if not spans:
        return data
    size_at, payload_at, size = rng.choice(spans)
    kind = rng.randrange(6)
    if kind == 0:
        code = write_leb128(min(max(0, size + rng.randint(-3, 3)), (1 << 32) - 1))
    elif kind == 1:
        code = b"\x00"
    elif kind == 2:
        code = write_leb128(rng.choice([(1 << 32) - 1, 1 << 20, 65537, 8193, 2049]))
    elif kind == 3:  # 9-byte leb128 (too long) or one whose value exceeds 2^32 - 1
        code = b"\x80" * 8 + b"\x01" if rng.random() < 0.5 else b"\xff\xff\xff\xff\x7f"
    elif kind == 4:  # non-minimal but valid padding
        code = bytes([(size & 0x7F) | 0x80, 0x80, 0x00])
    else:  # continuation bit set at the end of the file
        return data[:size_at] + b"\xff" * rng.randint(1, 7)
    return data[:size_at] + code + data[payload_at:]


def splice_units(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Units of ``data`` with a run of ``other``'s units spliced in (headers/layouts mix)."""
    a, b = split_units(data), split_units(other)
    if not a or not b:
        return data + other[len(FCS_SIGNATURE) :]
    i, j = rng.randrange(len(a) + 1), rng.randrange(len(b))
    return join_units(a[:i] + b[j : j + rng.randint(1, 4)] + a[i:])


def shuffle_units(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Drop, duplicate or swap units (frame-counter gaps, repeated or missing headers)."""
    units = split_units(data)
    if len(units) < 2:
        return data
    kind = rng.randrange(3)
    i = rng.randrange(len(units))
    if kind == 0:
        del units[i]
    elif kind == 1:
        units.insert(i, units[i])
    else:
        j = rng.randrange(len(units))
        units[i], units[j] = units[j], units[i]
    return join_units(units)


def corrupt_unit(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Flip bits, truncate or extend inside one unit and fix its size, so the framing stays valid."""
    units = split_units(data)
    if not units:
        return bit_flip(rng, data, other)
    i = rng.randrange(len(units))
    u = bytearray(units[i])
    kind = rng.randrange(3)
    if kind == 0:
        for _ in range(rng.randint(1, 3)):
            bit = rng.randrange(len(u) * 8)
            u[bit // 8] ^= 0x80 >> (bit % 8)
    elif kind == 1 and len(u) > 1:
        del u[rng.randrange(1, len(u)) :]
    else:
        u += rng.randbytes(rng.randint(1, 4))
    units[i] = bytes(u)
    return join_units(units)


MUTATORS: dict[str, Mutator] = {
    "bit_flip": bit_flip,
    "byte_flip": byte_flip,
    "truncate": truncate,
    "insert_bytes": insert_bytes,
    "delete_bytes": delete_bytes,
    "forge_leb128": forge_leb128,
    "splice_units": splice_units,
    "shuffle_units": shuffle_units,
    "corrupt_unit": corrupt_unit,
}


def mutate(rng: random.Random, data: bytes, other: bytes = b"", max_steps: int = 3) -> tuple[bytes, list[str]]:
    """Apply 1..max_steps random mutators; returns the input and the mutators' names."""
    names = []
    for _ in range(rng.randint(1, max_steps)):
        name = rng.choice(list(MUTATORS))
        data = MUTATORS[name](rng, data, other)
        names.append(name)
    return data, names


__all__ = [
    "MUTATORS",
    "Mutator",
    "bit_flip",
    "byte_flip",
    "corrupt_unit",
    "delete_bytes",
    "forge_leb128",
    "insert_bytes",
    "join_units",
    "mutate",
    "random_stream",
    "random_track",
    "shuffle_units",
    "splice_units",
    "split_units",
    "truncate",
]
