"""Random ids (request ids, message ids, tool-call ids...): unique, not secret.

Drawn from a generator seeded once from the OS, and again in each forked process: reading
the OS's randomness for every id is a system call, which on virtual machines costs as much
as a good part of an echo answer. Never the seeded generators of the fault lab
or of sampling: ids do not disturb reproducible sequences.
"""

from __future__ import annotations

import os
import random
import uuid

_rng = random.Random(os.urandom(16))
_bits = _rng.getrandbits
os.register_at_fork(after_in_child=lambda: _rng.seed(os.urandom(16)))


def random_hex(nbytes: int) -> str:
    """``2 * nbytes`` lower-case hex digits."""
    return _bits(nbytes * 8).to_bytes(nbytes, "big").hex()  # half the time of a format spec


def random_bits(n: int) -> int:
    return _bits(n)


def random_below(n: int) -> int:
    """A random integer in ``[0, n)``."""
    return _rng.randrange(n)


def random_uuid() -> str:
    """A version-4 UUID's text."""
    return str(uuid.UUID(int=_bits(128), version=4))
