"""The adaptive binary range coder of the Main profile (SPEC 14.3, 14.4).

Integer-exact: a 32-bit range, 15-bit probabilities of the bin value 0, adaptation by shifts
whose size grows with a per-context counter, renormalisation byte by byte and a minimal
termination. The decoder is normative (SPEC 14.3.2); the encoder is its inverse, with the
carry handling of LZMA's range encoder.
"""

from __future__ import annotations

PROB_BITS = 15
PROB_ONE = 1 << PROB_BITS  # SPEC 14.3.1: p is P(bin = 0) in units of 2^-15
PROB_INIT = PROB_ONE >> 1
RANGE_TOP = 1 << 24  # renormalise while rng < 2^24
COUNT_MAX = 30
#: SPEC 14.3.1, R-122: adaptation shift as a function of the context's counter n (0..30).
SHIFT = [2] * 2 + [3] * 4 + [4] * 8 + [5] * 16 + [6]


class Contexts:
    """A set of adaptive binary contexts: probability p (of bin 0) and counter n each (SPEC 14.3.1)."""

    __slots__ = ("p", "n")

    def __init__(self, count: int):
        self.p = [PROB_INIT] * count
        self.n = [0] * count

    def reset(self) -> None:
        """SPEC 14.5, R-127: every context back to p = 2^14, n = 0."""
        count = len(self.p)
        self.p = [PROB_INIT] * count
        self.n = [0] * count


class RangeDecoder:
    """SPEC 14.3.2: the decoding process of bins from one unit's payload."""

    __slots__ = ("data", "pos", "rng", "val")

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0
        self.rng = 0xFFFFFFFF
        self.val = 0
        for _ in range(4):
            self.val = (self.val << 8) | self._byte()

    def _byte(self) -> int:
        """The next payload byte, or 0 past the end (R-121)."""
        pos = self.pos
        self.pos = pos + 1
        return self.data[pos] if pos < len(self.data) else 0

    def _renormalise(self) -> None:
        while self.rng < RANGE_TOP:
            self.rng <<= 8
            self.val = (self.val << 8) | self._byte()

    def bin(self, ctx: Contexts, i: int) -> int:
        """decode_bin(ctx[i]) with adaptation (SPEC 14.3.2)."""
        p = ctx.p[i]
        bound = (self.rng >> PROB_BITS) * p
        n = ctx.n[i]
        if self.val < bound:
            self.rng = bound
            ctx.p[i] = p + ((PROB_ONE - p) >> SHIFT[n])
            bit = 0
        else:
            self.val -= bound
            self.rng -= bound
            ctx.p[i] = p - (p >> SHIFT[n])
            bit = 1
        if n < COUNT_MAX:
            ctx.n[i] = n + 1
        if self.rng < RANGE_TOP:
            self._renormalise()
        return bit

    def bypass(self) -> int:
        """decode_bypass(): a bin with probability one half and no context (SPEC 14.3.2)."""
        bound = self.rng >> 1
        if self.val < bound:
            self.rng = bound
            bit = 0
        else:
            self.val -= bound
            self.rng -= bound
            bit = 1
        if self.rng < RANGE_TOP:
            self._renormalise()
        return bit

    def bypass_bits(self, count: int) -> int:
        """``count`` bypass bins read as an unsigned integer, most significant first."""
        v = 0
        for _ in range(count):
            v = (v << 1) | self.bypass()
        return v

    def consumed(self) -> int:
        """Bytes read so far (past-the-end zeros included): R-123 compares it with the payload size."""
        return self.pos


class RangeEncoder:
    """Inverse of :class:`RangeDecoder` (informative, SPEC 14.3.3)."""

    __slots__ = ("low", "rng", "cache", "pending", "started", "out")

    def __init__(self):
        self.low = 0
        self.rng = 0xFFFFFFFF
        self.cache = 0
        self.pending = 0  # bytes 0xFF waiting for a possible carry
        self.started = False  # the first shifted-out byte is always 0 and is not written
        self.out = bytearray()

    def _shift_low(self) -> None:
        low = self.low
        if low < 0xFF000000 or low >= 1 << 32:
            carry = low >> 32
            if self.started:
                self.out.append((self.cache + carry) & 0xFF)
            self.started = True
            for _ in range(self.pending):
                self.out.append((0xFF + carry) & 0xFF)
            self.pending = 0
            self.cache = (low >> 24) & 0xFF
        else:
            self.pending += 1
        self.low = (low & 0x00FFFFFF) << 8

    def _renormalise(self) -> None:
        while self.rng < RANGE_TOP:
            self.rng <<= 8
            self._shift_low()

    def bin(self, ctx: Contexts, i: int, bit: int) -> None:
        """Encode ``bit`` with context ctx[i] and adapt it exactly as the decoder does."""
        p = ctx.p[i]
        bound = (self.rng >> PROB_BITS) * p
        n = ctx.n[i]
        if bit:
            self.low += bound
            self.rng -= bound
            ctx.p[i] = p - (p >> SHIFT[n])
        else:
            self.rng = bound
            ctx.p[i] = p + ((PROB_ONE - p) >> SHIFT[n])
        if n < COUNT_MAX:
            ctx.n[i] = n + 1
        if self.rng < RANGE_TOP:
            self._renormalise()

    def bypass(self, bit: int) -> None:
        """Encode one bypass bin."""
        bound = self.rng >> 1
        if bit:
            self.low += bound
            self.rng -= bound
        else:
            self.rng = bound
        if self.rng < RANGE_TOP:
            self._renormalise()

    def bypass_bits(self, value: int, count: int) -> None:
        """``count`` bypass bins of ``value``, most significant first."""
        for s in range(count - 1, -1, -1):
            self.bypass((value >> s) & 1)

    def finish(self) -> bytes:
        """Terminate (SPEC 14.3.3): pick the value in [low, low + rng) with the most trailing zero
        bytes, flush it, and drop trailing zero bytes (the decoder reads zeros past the end)."""
        for zero_bytes in range(4, -1, -1):
            mask = (1 << (8 * zero_bytes)) - 1
            value = (self.low + mask) & ~mask
            if value < self.low + self.rng:
                break
        self.low = value
        for _ in range(5):
            self._shift_low()
        out = bytes(self.out)
        return out.rstrip(b"\x00")
