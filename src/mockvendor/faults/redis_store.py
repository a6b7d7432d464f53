"""The Redis state store, and the fallback that keeps the server serving without it.

Every key lives under ``<redis_prefix>:``. Token buckets are one Lua script (refill and
take in one atomic step, on the app's clock so injected clocks work); counters are
``INCR`` (with their expiry, in a script); documents are strings updated under ``WATCH``; telemetry's last outcome is
``SET GET`` (and a compare-and-set script); attempts are a trimmed list. Nothing waits
for long: no client-side retries, socket timeouts of ``redis_timeout_ms`` and a hard
``asyncio`` bound on every call. A replica holds at most ``RedisStore.max_connections``
connections; a burst queues for them rather than opening a socket per request.

:class:`FallbackStore` puts an in-memory store behind Redis. When Redis fails it logs
one clear warning, serves from memory (each replica on its own: limits, positions and
telemetry stop being shared; the last fault configuration read from Redis stays in
force), probes Redis again every ``redis_retry_s`` and logs when it is back.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .store import Limit, MemoryStore, Take

if TYPE_CHECKING:
    from ..settings import Settings

log = logging.getLogger("mockvendor.faults")
T = TypeVar("T")
KEY_TTL_S = 86_400  # counters, buckets and telemetry vanish after a day without use

# Mirrors store.refill_and_take. Numbers go back as strings: Redis truncates Lua floats.
TAKE_LUA = """
local now = tonumber(ARGV[1])
local st = redis.call('HMGET', KEYS[1], 'r', 't', 'ts')
local caps, rates, costs = {}, {}, {}
local levels = {-1, -1}
for i = 1, 2 do
  caps[i] = tonumber(ARGV[3 * i - 1]); rates[i] = tonumber(ARGV[3 * i]); costs[i] = tonumber(ARGV[3 * i + 1])
  if caps[i] > 0 then
    if st[3] == false or st[i] == false or tonumber(st[i]) < 0 then
      levels[i] = caps[i]
    else
      local elapsed = math.max(0, now - tonumber(st[3]))
      levels[i] = math.min(caps[i], tonumber(st[i]) + elapsed * rates[i])
    end
  end
end
local allowed, wait = 1, 0
for i = 1, 2 do
  if caps[i] > 0 and levels[i] < costs[i] then
    allowed = 0
    if costs[i] > caps[i] or wait < 0 then wait = -1
    else wait = math.max(wait, (costs[i] - levels[i]) / rates[i]) end
  end
end
if allowed == 1 then
  for i = 1, 2 do if caps[i] > 0 then levels[i] = levels[i] - costs[i] end end
end
local reset = {0, 0}
for i = 1, 2 do if caps[i] > 0 then reset[i] = (caps[i] - levels[i]) / rates[i] end end
redis.call('HSET', KEYS[1], 'r', tostring(levels[1]), 't', tostring(levels[2]), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[8]))
return {allowed, tostring(levels[1]), tostring(levels[2]), tostring(reset[1]), tostring(reset[2]), tostring(wait)}
"""

SET_IF_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
  return 1
end
return 0
"""

# One round trip each (a MULTI/EXEC pipeline costs several times more in redis-py).
INCR_LUA = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1])) end
return n
"""

APPEND_LUA = """
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""


def redact(url: str) -> str:
    """The URL without its password, for logs and the admin API."""
    return re.sub(r"//[^@/]*@", "//***@", url)


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


class RedisStore:
    """The shared store (see :class:`~mockvendor.faults.store.StateStore`)."""

    backend = "redis"
    max_connections = 16  # per replica; a call waits (within its bound) for a free one

    def __init__(self, settings: Settings) -> None:
        self.url = settings.redis_url
        self.prefix = settings.redis_prefix + ":"
        self.timeout = settings.redis_timeout_ms / 1000
        try:
            import redis  # noqa: F401 - fail at startup, not on the first request
        except ModuleNotFoundError:
            raise RuntimeError(
                "MOCKVENDOR_REDIS_URL is set but the redis package is missing: pip install 'mockvendor[redis]'"
            ) from None
        self._client: Any = None
        self._take: Any = None
        self._set_if: Any = None
        self._incr: Any = None
        self._append: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import redis.asyncio as aioredis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            # A bounded pool: a burst of requests shares a few connections instead of opening
            # one socket each at once (a connect storm that can itself time out under load).
            pool = aioredis.BlockingConnectionPool.from_url(
                self.url,
                max_connections=self.max_connections,
                timeout=self.timeout,
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
                retry=Retry(NoBackoff(), 0),
                health_check_interval=0,
            )
            self._client = aioredis.Redis.from_pool(pool)
            self._take = self._client.register_script(TAKE_LUA)
            self._set_if = self._client.register_script(SET_IF_LUA)
            self._incr = self._client.register_script(INCR_LUA)
            self._append = self._client.register_script(APPEND_LUA)
        return self._client

    async def _call(self, coro: Awaitable[T]) -> T:
        # A hard bound on top of the socket timeouts: a stuck server never holds a request.
        return await asyncio.wait_for(coro, self.timeout * 2)

    def k(self, key: str) -> str:
        return self.prefix + key

    async def get_docs(self, *names: str) -> list[bytes | None]:
        return list(await self._call(self.client.mget([self.k("doc:" + n) for n in names])))

    async def set_doc(self, name: str, raw: bytes | None) -> None:
        key = self.k("doc:" + name)
        await self._call(self.client.delete(key) if raw is None else self.client.set(key, raw))

    async def update_doc(self, name: str, fn: Callable[[bytes | None], bytes | None]) -> bytes | None:
        """Read-modify-write under WATCH, again if another replica wrote in between."""
        from redis.exceptions import WatchError

        key = self.k("doc:" + name)
        async with self.client.pipeline(transaction=True) as pipe:
            for _ in range(100):
                try:
                    await self._call(pipe.watch(key))
                    new = fn(await self._call(pipe.get(key)))
                    pipe.multi()
                    if new is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, new)
                    await self._call(pipe.execute())
                    return new
                except WatchError:
                    continue
        raise RuntimeError(f"could not update {name!r}: it kept changing under 100 attempts")

    async def incr(self, key: str) -> int:
        _ = self.client
        return int(await self._call(self._incr(keys=[self.k(key)], args=[KEY_TTL_S])))

    async def counters(self, keys: list[str]) -> list[int]:
        if not keys:
            return []
        values = await self._call(self.client.mget([self.k(k) for k in keys]))
        return [int(v) if v is not None else 0 for v in values]

    async def take(self, key: str, now: float, limits: tuple[Limit, Limit]) -> Take:
        _ = self.client
        args = [repr(now), *(repr(float(x)) for lim in limits for x in lim), KEY_TTL_S]
        out = await self._call(self._take(keys=[self.k(key)], args=args))
        allowed, r, t, reset_r, reset_t, wait = out
        return Take(bool(int(allowed)), (max(float(r), 0.0), max(float(t), 0.0)),
                    (float(reset_r), float(reset_t)), float(wait))

    async def swap(self, key: str, raw: bytes) -> bytes | None:
        return await self._call(self.client.set(self.k(key), raw, ex=KEY_TTL_S, get=True))  # type: ignore[no-any-return]

    async def set_if(self, key: str, expected: bytes, raw: bytes) -> bool:
        _ = self.client
        done = await self._call(self._set_if(keys=[self.k(key)], args=[expected, raw, KEY_TTL_S]))
        return bool(done)

    async def append(self, key: str, raw: bytes, maxlen: int) -> None:
        _ = self.client
        await self._call(self._append(keys=[self.k(key)], args=[raw, maxlen, KEY_TTL_S]))

    async def read_list(self, key: str) -> list[bytes]:
        return list(await self._call(self.client.lrange(self.k(key), 0, -1)))

    async def put(self, key: str, raw: bytes, ttl_s: float) -> None:
        await self._call(self.client.set(self.k(key), raw, px=max(1, int(ttl_s * 1000))))

    async def get(self, key: str) -> bytes | None:
        return await self._call(self.client.get(self.k(key)))  # type: ignore[no-any-return]

    async def delete(self, key: str) -> bool:
        return bool(await self._call(self.client.delete(self.k(key))))

    async def keys(self, prefix: str) -> list[str]:
        async def scan() -> list[str]:
            match = _glob_escape(self.k(prefix)) + "*"
            return [k.decode()[len(self.prefix) :] async for k in self.client.scan_iter(match=match, count=500)]

        return await self._call(scan())

    async def clear(self, prefix: str) -> None:
        full = [self.k(k) for k in await self.keys(prefix)]
        for i in range(0, len(full), 500):
            await self._call(self.client.unlink(*full[i : i + 500]))

    def health(self) -> dict[str, Any]:
        return {"backend": self.backend, "url": redact(self.url), "healthy": True}

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _outages() -> tuple[type[BaseException], ...]:
    """Failures that mean Redis is away (anything else is a bug and is raised)."""
    try:
        from redis.exceptions import ConnectionError, TimeoutError
    except ModuleNotFoundError:
        return (OSError, asyncio.TimeoutError)
    return (ConnectionError, TimeoutError, OSError, asyncio.TimeoutError)


OUTAGES = _outages()


class FallbackStore:
    """Redis first; memory while Redis is away (logged once per outage), never hanging."""

    backend = "redis"

    def __init__(self, primary: RedisStore, fallback: MemoryStore, retry_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.primary = primary
        self.fallback = fallback
        self.retry_s = retry_s
        self.clock = clock
        self.down_since: float | None = None  # wall time, for the admin API
        self.last_error: str | None = None
        self.outages = 0
        self._next_probe = 0.0
        self._probing = False

    def _use_primary(self) -> bool:
        if self.down_since is None:
            return True
        if self._probing or self.clock() < self._next_probe:
            return False
        self._probing = True  # one request probes; the others keep using memory meanwhile
        return True

    async def _run(self, name: str, *args: Any) -> Any:
        if self._use_primary():
            try:
                result = await getattr(self.primary, name)(*args)
            except OUTAGES as e:
                self._failed(e)
            else:
                self._recovered()
                if name == "get_docs":
                    # Keep the last shared configuration for when Redis goes away.
                    for doc_name, raw in zip(args, result, strict=True):
                        await self.fallback.set_doc(doc_name, raw)
                return result
            finally:
                self._probing = False
        return await getattr(self.fallback, name)(*args)

    def _failed(self, e: BaseException) -> None:
        self.last_error = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        self._next_probe = self.clock() + self.retry_s
        if self.down_since is None:
            self.down_since = time.time()
            self.outages += 1
            log.warning(
                "Redis at %s is unreachable (%s). Falling back to this process's memory: rate limits, "
                "scenario positions and retry telemetry are no longer shared with other replicas; the last "
                "fault configuration read from Redis stays in force. Retrying every %g s.",
                redact(self.primary.url), self.last_error, self.retry_s,
            )

    def _recovered(self) -> None:
        if self.down_since is not None:
            log.warning(
                "Redis at %s is reachable again after %.1f s; shared state resumes (what this replica "
                "kept in memory meanwhile is not merged back).",
                redact(self.primary.url), time.time() - self.down_since,
            )
            self.down_since = None

    async def get_docs(self, *names: str) -> list[bytes | None]:
        return await self._run("get_docs", *names)  # type: ignore[no-any-return]

    async def set_doc(self, name: str, raw: bytes | None) -> None:
        await self.fallback.set_doc(name, raw)
        await self._run("set_doc", name, raw)

    async def update_doc(self, name: str, fn: Callable[[bytes | None], bytes | None]) -> bytes | None:
        new = await self._run("update_doc", name, fn)
        await self.fallback.set_doc(name, new)
        return new  # type: ignore[no-any-return]

    async def incr(self, key: str) -> int:
        return await self._run("incr", key)  # type: ignore[no-any-return]

    async def counters(self, keys: list[str]) -> list[int]:
        return await self._run("counters", keys)  # type: ignore[no-any-return]

    async def take(self, key: str, now: float, limits: tuple[Limit, Limit]) -> Take:
        return await self._run("take", key, now, limits)  # type: ignore[no-any-return]

    async def swap(self, key: str, raw: bytes) -> bytes | None:
        return await self._run("swap", key, raw)  # type: ignore[no-any-return]

    async def set_if(self, key: str, expected: bytes, raw: bytes) -> bool:
        return await self._run("set_if", key, expected, raw)  # type: ignore[no-any-return]

    async def append(self, key: str, raw: bytes, maxlen: int) -> None:
        await self._run("append", key, raw, maxlen)

    async def read_list(self, key: str) -> list[bytes]:
        return await self._run("read_list", key)  # type: ignore[no-any-return]

    async def put(self, key: str, raw: bytes, ttl_s: float) -> None:
        await self._run("put", key, raw, ttl_s)

    async def get(self, key: str) -> bytes | None:
        return await self._run("get", key)  # type: ignore[no-any-return]

    async def delete(self, key: str) -> bool:
        return await self._run("delete", key)  # type: ignore[no-any-return]

    async def keys(self, prefix: str) -> list[str]:
        return await self._run("keys", prefix)  # type: ignore[no-any-return]

    async def clear(self, prefix: str) -> None:
        await self.fallback.clear(prefix)
        await self._run("clear", prefix)

    def health(self) -> dict[str, Any]:
        h: dict[str, Any] = {"backend": "redis", "url": redact(self.primary.url), "outages": self.outages}
        if self.down_since is None:
            h["healthy"] = True
        else:
            h.update(healthy=False, fallback="memory", down_since=self.down_since, last_error=self.last_error)
        return h

    async def aclose(self) -> None:
        await self.primary.aclose()

