"""Latency distributions and the reproducible random numbers every decision draws from.

A distribution is written ``fixed:MS``, ``uniform:LO,HI``, ``normal:MEAN,SD`` (cut at
0) or ``lognormal:MEDIAN,SIGMA`` (milliseconds; sigma is the spread of the log). A bare
number means ``fixed``.

:class:`Draws` gives the uniform numbers of one decision from a hash of (seed, test id,
vendor, request number): the same seed and sequence give the same numbers in any
process, so replicas sharing the request counter make the same decisions one process
would, and a changed rate never shifts another request's draws.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

from ..errors import InvalidRequest

DISTRIBUTIONS = {"fixed": 1, "uniform": 2, "normal": 2, "lognormal": 2}
MAX_MS = 3_600_000.0


@dataclass(slots=True, frozen=True)
class Latency:
    """A delay distribution in milliseconds."""

    dist: str
    a: float
    b: float = 0.0

    def sample(self, u1: float, u2: float) -> float:
        """One delay (ms) from two uniforms in [0, 1): the same numbers give the same delay."""
        if self.dist == "fixed":
            ms = self.a
        elif self.dist == "uniform":
            ms = self.a + u1 * (self.b - self.a)
        else:
            # Box-Muller: one standard normal from two uniforms (1 - u1 avoids log(0)).
            z = math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)
            ms = self.a + self.b * z if self.dist == "normal" else self.a * math.exp(self.b * z)
        return min(max(ms, 0.0), MAX_MS)

    def sample_rng(self, rng: random.Random) -> float:
        return self.sample(rng.random(), rng.random())

    def __str__(self) -> str:
        if self.dist == "fixed":
            return f"fixed:{self.a:g}"
        return f"{self.dist}:{self.a:g},{self.b:g}"


def parse_latency(text: str, where: str = "latency") -> Latency | None:
    """``fixed:200`` & co. into a Latency (None for an empty string); a 400 naming ``where``."""
    text = text.strip().lower()
    if not text:
        return None
    name, _, args = text.partition(":")
    if not args:
        name, args = "fixed", name
    if name not in DISTRIBUTIONS:
        raise InvalidRequest(
            f"{where}: unknown distribution {name!r}; use fixed:MS, uniform:LO,HI, normal:MEAN,SD "
            "or lognormal:MEDIAN,SIGMA."
        )
    try:
        nums = [float(x) for x in args.split(",")]
    except ValueError:
        raise InvalidRequest(f"{where}: {text!r} has a parameter that is not a number.") from None
    if len(nums) != DISTRIBUTIONS[name] or not all(math.isfinite(n) and n >= 0 for n in nums):
        raise InvalidRequest(
            f"{where}: {name} takes {DISTRIBUTIONS[name]} non-negative number(s), got {args!r}."
        )
    if name == "uniform" and nums[1] < nums[0]:
        raise InvalidRequest(f"{where}: uniform:LO,HI needs LO <= HI, got {args!r}.")
    if any(n > MAX_MS for n in nums[:1]):
        raise InvalidRequest(f"{where}: at most {MAX_MS:.0f} ms.")
    return Latency(name, *nums)


class Draws:
    """Eight uniform numbers in [0, 1) for one decision, from a hash (fast and stable)."""

    __slots__ = ("_words", "key")

    SLOTS = 8

    def __init__(self, seed: int, test_id: str, vendor: str, n: int) -> None:
        self.key = f"{seed}:{test_id}:{vendor}:{n}".encode()
        digest = hashlib.blake2b(self.key, digest_size=64).digest()
        self._words = [int.from_bytes(digest[i : i + 8], "big") >> 11 for i in range(0, 64, 8)]

    def u(self, i: int) -> float:
        """The i-th uniform (53 random bits, like random.random())."""
        return self._words[i] * (1.0 / 9007199254740992.0)

    def rng(self) -> random.Random:
        """A generator for decisions needing many numbers (per-token pacing)."""
        return random.Random(int.from_bytes(hashlib.blake2b(self.key + b":rng", digest_size=16).digest()))
