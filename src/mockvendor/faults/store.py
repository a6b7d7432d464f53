"""Where the fault lab keeps state that must be shared by replicas: the runtime fault
configuration and scenarios (documents), request counters and scenario positions,
rate-limit buckets and retry telemetry.

:class:`MemoryStore` keeps it in the process (the default); ``redis_store.RedisStore``
keeps it in Redis so several replicas behave as one vendor. Both implement
:class:`StateStore` with the same semantics, and the same tests run against both.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..settings import Settings

# (capacity, refill per second, cost) of one bucket; capacity 0 = that bucket is off.
Limit = tuple[float, float, float]


@dataclass(slots=True, frozen=True)
class Take:
    """The outcome of taking from a pair of token buckets (requests, tokens).

    ``remaining``: tokens left in each bucket after this request; ``reset_s``: seconds
    until each bucket is full again; ``wait_s``: if denied, seconds until the request
    would fit (-1: never, it is larger than the bucket).
    """

    allowed: bool
    remaining: tuple[float, float]
    reset_s: tuple[float, float]
    wait_s: float = 0.0


class StateStore(Protocol):
    """Shared state of the fault lab.

    Contract (both implementations, same semantics):
    - ``get_docs(*names)`` returns the raw JSON documents (``None`` if unset);
      ``set_doc(name, raw)`` stores one (``None`` deletes it); ``update_doc(name, fn)``
      replaces a document by ``fn(old)`` atomically (no lost update between replicas)
      and returns the new value.
    - ``incr(key)`` adds one to a counter and returns the new value (first call: 1);
      ``counters(keys)`` reads several without changing them (0 if unset).
    - ``take(key, now, (requests, tokens))`` refills two token buckets to ``now`` and
      takes each one's cost only if both have enough, atomically; see :class:`Take`.
    - ``swap(key, raw)`` sets a value and returns the previous one, atomically;
      ``set_if(key, expected, raw)`` sets it only if it still holds ``expected``;
      ``append(key, raw, maxlen)`` adds to a list keeping the last ``maxlen``;
      ``read_list(key)`` returns it oldest first; ``keys(prefix)`` lists keys.
    - ``put(key, raw, ttl_s)`` stores a value that expires after ``ttl_s`` seconds;
      ``get(key)`` reads it (``None`` once expired, deleted or never set); ``delete(key)``
      removes it and says whether it was there.
    - ``clear(prefix)`` deletes every key (counters, buckets, lists, values) under prefix.
    - ``health()`` says which backend answers and whether it is degraded; no method
      ever blocks for long: a store that cannot answer fails fast.
    """

    backend: str

    async def get_docs(self, *names: str) -> list[bytes | None]: ...

    async def set_doc(self, name: str, raw: bytes | None) -> None: ...

    async def update_doc(self, name: str, fn: Callable[[bytes | None], bytes | None]) -> bytes | None: ...

    async def incr(self, key: str) -> int: ...

    async def counters(self, keys: list[str]) -> list[int]: ...

    async def take(self, key: str, now: float, limits: tuple[Limit, Limit]) -> Take: ...

    async def swap(self, key: str, raw: bytes) -> bytes | None: ...

    async def set_if(self, key: str, expected: bytes, raw: bytes) -> bool: ...

    async def append(self, key: str, raw: bytes, maxlen: int) -> None: ...

    async def read_list(self, key: str) -> list[bytes]: ...

    async def put(self, key: str, raw: bytes, ttl_s: float) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> bool: ...

    async def keys(self, prefix: str) -> list[str]: ...

    async def clear(self, prefix: str) -> None: ...

    def health(self) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...


def refill_and_take(state: list[float] | None, now: float, limits: tuple[Limit, Limit]) -> tuple[list[float], Take]:
    """Token-bucket arithmetic (the Lua script in redis_store.py mirrors it line by line).

    ``state`` is ``[level_requests, level_tokens, last_time]`` or None. A bucket that is
    new (or was off: level -1) starts full. Returns the new state and the outcome.
    """
    levels = [-1.0, -1.0]
    for i, (cap, rate, _) in enumerate(limits):
        if cap <= 0:
            continue
        if state is None or state[i] < 0:
            levels[i] = cap
        else:
            elapsed = max(0.0, now - state[2])
            levels[i] = min(cap, state[i] + elapsed * rate)
    allowed, wait = True, 0.0
    for i, (cap, rate, cost) in enumerate(limits):
        if cap > 0 and levels[i] < cost:
            allowed = False
            wait = -1.0 if cost > cap or wait < 0 else max(wait, (cost - levels[i]) / rate)
    if allowed:
        for i, (cap, _, cost) in enumerate(limits):
            if cap > 0:
                levels[i] -= cost
    reset = tuple((cap - levels[i]) / rate if cap > 0 else 0.0 for i, (cap, rate, _) in enumerate(limits))
    remaining = (max(levels[0], 0.0), max(levels[1], 0.0))
    return [levels[0], levels[1], now], Take(allowed, remaining, reset, wait)  # type: ignore[arg-type]


@dataclass(slots=True, frozen=True)
class _Expiring:
    raw: bytes
    until: float  # time.monotonic()


class MemoryStore:
    """The embedded store: plain dicts in this process, bounded in size (the least
    recently written keys go first, past ``max_keys`` keys or ``max_items`` list items)."""

    backend = "memory"

    def __init__(self, max_keys: int = 100_000, max_items: int = 200_000) -> None:
        self.max_keys = max_keys
        self.max_items = max_items
        self._docs: dict[str, bytes] = {}
        self._values: OrderedDict[str, Any] = OrderedDict()
        self._items = 0  # entries held in lists (telemetry), across keys
        self.doc_version = 0  # bumped on every document write: readers may skip get_docs

    def _put(self, key: str, value: Any) -> None:
        self._values[key] = value
        self._values.move_to_end(key)
        while len(self._values) > self.max_keys or self._items > self.max_items:
            _, old = self._values.popitem(last=False)
            if isinstance(old, deque):
                self._items -= len(old)

    async def get_docs(self, *names: str) -> list[bytes | None]:
        return [self._docs.get(n) for n in names]

    async def set_doc(self, name: str, raw: bytes | None) -> None:
        self.doc_version += 1
        if raw is None:
            self._docs.pop(name, None)
        else:
            self._docs[name] = raw

    async def update_doc(self, name: str, fn: Callable[[bytes | None], bytes | None]) -> bytes | None:
        new = fn(self._docs.get(name))  # no await in between: atomic on the event loop
        await self.set_doc(name, new)
        return new

    async def incr(self, key: str) -> int:
        n = self._values.get(key, 0) + 1
        self._put(key, n)
        return int(n)

    async def counters(self, keys: list[str]) -> list[int]:
        return [int(self._values.get(k, 0)) for k in keys]

    async def take(self, key: str, now: float, limits: tuple[Limit, Limit]) -> Take:
        state, result = refill_and_take(self._values.get(key), now, limits)
        self._put(key, state)
        return result

    async def swap(self, key: str, raw: bytes) -> bytes | None:
        old = self._values.get(key)
        self._put(key, raw)
        return old  # type: ignore[no-any-return]

    async def set_if(self, key: str, expected: bytes, raw: bytes) -> bool:
        if self._values.get(key) != expected:
            return False
        self._put(key, raw)
        return True

    async def append(self, key: str, raw: bytes, maxlen: int) -> None:
        items = self._values.get(key)
        if items is None or items.maxlen != maxlen:
            self._items -= len(items or ())
            items = deque(items or (), maxlen=maxlen)
            self._items += len(items)
        if len(items) < maxlen:
            self._items += 1
        items.append(raw)
        self._put(key, items)

    async def read_list(self, key: str) -> list[bytes]:
        return list(self._values.get(key) or ())

    async def put(self, key: str, raw: bytes, ttl_s: float) -> None:
        self._put(key, _Expiring(raw, time.monotonic() + ttl_s))

    async def get(self, key: str) -> bytes | None:
        v = self._values.get(key)
        if not isinstance(v, _Expiring):
            return None
        if v.until <= time.monotonic():
            del self._values[key]
            return None
        return v.raw

    async def delete(self, key: str) -> bool:
        there = await self.get(key) is not None
        self._values.pop(key, None)
        return there

    async def keys(self, prefix: str) -> list[str]:
        return [k for k in self._values if k.startswith(prefix)]

    async def clear(self, prefix: str) -> None:
        for k in [k for k in self._values if k.startswith(prefix)]:
            old = self._values.pop(k)
            if isinstance(old, deque):
                self._items -= len(old)
        for k in [k for k in self._docs if k.startswith(prefix)]:
            del self._docs[k]
            self.doc_version += 1

    def health(self) -> dict[str, Any]:
        return {"backend": self.backend, "healthy": True}

    async def aclose(self) -> None:
        return None


def build_store(settings: Settings) -> StateStore:
    """Redis when ``redis_url`` is set (falling back to memory while it is away), else memory."""
    if not settings.redis_url:
        return MemoryStore()
    from .redis_store import FallbackStore, RedisStore

    return FallbackStore(RedisStore(settings), MemoryStore(), retry_s=settings.redis_retry_s)
