"""Record and replay: a cassette of recorded answers, in the rule format.

A recorded answer is a rule whose match is the request's normalized **fingerprint** (vendor,
route, model, stream, messages, tools and the parameters that change the answer; never a
key, never an id) and whose answer is ``raw``: the vendor's status, headers and body, or
its stream's chunks with the milliseconds before each::

    {"name": "rec-1", "match": {"fingerprint": {...}},
     "answer": {"raw": {"status": 200, "headers": {...}, "ms": 41.2, "body": "{...}"}}}
    ... "raw": {"status": 200, "headers": {...}, "ms": 12.0, "chunks": [{"ms": 80.1, "data": "data: {...}\\n\\n"}]}

Modes, as VCR has them: ``none`` (replay only; an unmatched request is a 400 naming the
closest recording and what differs), ``once`` (replay if the cassette had recordings,
else record everything), ``new_episodes`` (replay what matches, record the rest), ``all``
(record everything). Replay is byte for byte, with the recorded timing (``recorded``) or
at once (``fast``).

Recording passes the request to the vendor (``record_upstream``, else the vendor's own
origin) with the key from the environment (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``,
``GEMINI_API_KEY``/``GOOGLE_API_KEY``), or the client's own when none is set. Keys are
never written: request headers are not recorded, and any key seen in a recorded body is
replaced.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import orjson
from starlette.responses import Response, StreamingResponse

from ..errors import InvalidRequest, UpstreamError
from ..tracking.redact import REDACTED, redact_text

if TYPE_CHECKING:
    from starlette.requests import Request

    from ..types import GenerateRequest
    from .spec import Rule

Sleep = Callable[[float], Awaitable[Any]]
MODES = ("none", "once", "new_episodes", "all")
TIMINGS = ("recorded", "fast")

ORIGINS = {
    "openai": "https://api.openai.com",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
}
# (environment variables, header, prefix) of each vendor's key.
KEYS = {
    "openai": (("OPENAI_API_KEY",), "authorization", "Bearer "),
    "o": (("OPENAI_API_KEY",), "authorization", "Bearer "),
    "anthropic": (("ANTHROPIC_API_KEY",), "x-api-key", ""),
    "gemini": (("GEMINI_API_KEY", "GOOGLE_API_KEY"), "x-goog-api-key", ""),
}
AUTH_HEADERS = ("authorization", "x-api-key", "x-goog-api-key", "api-key")
FORWARD_HEADERS = ("accept", "anthropic-version", "anthropic-beta", "openai-beta", "x-stainless-retry-count")
# Never kept in a recording: per-connection, per-response or re-added by this server.
DROP_HEADERS = frozenset({
    "content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive", "date", "server",
    "x-request-id", "set-cookie", "alt-svc", "via",
})


def fingerprint_of(vendor: str, route: str, req: GenerateRequest) -> tuple[dict[str, Any], str]:
    """The request's normalized fingerprint and its hash."""
    doc: dict[str, Any] = {"vendor": vendor, "route": route, "model": req.model, "stream": req.stream}
    if req.prompt is not None:
        doc["prompt"] = req.prompt
    if req.messages:
        msgs = []
        for m in req.messages:
            item: dict[str, Any] = {"role": m.role, "content": m.content}
            if m.tool_calls:
                item["tool_calls"] = [{"name": c.name, "arguments": c.arguments} for c in m.tool_calls]
            if m.name:
                item["name"] = m.name
            msgs.append(item)
        doc["messages"] = msgs
    if req.tools:
        doc["tools"] = [{"name": t.name, "description": t.description, "parameters": t.parameters} for t in req.tools]
        doc["tool_choice"] = req.tool_choice
    params = {k: getattr(req, k) for k in ("max_tokens", "temperature", "top_p", "top_k", "seed")
              if getattr(req, k) is not None}
    if req.stop:
        params["stop"] = req.stop
    fmt = getattr(req, "response_format", None)
    if fmt is not None:
        params["response_format"] = fmt
    if params:
        doc["params"] = params
    return doc, fingerprint_hash(doc)


def fingerprint_hash(doc: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()[:32]


def check_raw(raw: Any, where: str) -> dict[str, Any]:
    """A recorded answer's shape, checked once when it is loaded."""
    ok = (isinstance(raw, dict) and isinstance(raw.get("status"), int) and isinstance(raw.get("headers", {}), dict)
          and (isinstance(raw.get("body"), str) or isinstance(raw.get("chunks"), list)))
    if ok and "chunks" in raw:
        ok = all(isinstance(c, dict) and isinstance(c.get("data"), str) for c in raw["chunks"])
    if not ok:
        raise InvalidRequest(f"{where} must be {{status, headers, body}} or {{status, headers, chunks: "
                             f"[{{ms, data}}]}} (a recorded answer).")
    return raw  # type: ignore[no-any-return]


def replay(raw: dict[str, Any], realtime: bool, sleep: Sleep) -> Response:
    """The recorded answer, byte for byte (with its recorded waits when ``realtime``)."""
    headers = {k: str(v) for k, v in raw.get("headers", {}).items()}
    status = raw["status"]
    if "chunks" in raw:
        chunks = raw["chunks"]

        async def body() -> AsyncIterator[bytes]:
            if realtime and raw.get("ms"):
                await sleep(raw["ms"] / 1000)
            for c in chunks:
                if realtime and c.get("ms"):
                    await sleep(c["ms"] / 1000)
                yield c["data"].encode()

        return StreamingResponse(body(), status_code=status, headers=headers)
    return _Delayed(raw["body"].encode(), status, headers, raw.get("ms", 0) if realtime else 0, sleep)


class _Delayed(Response):
    """A plain answer sent after the recorded time it took."""

    def __init__(self, content: bytes, status: int, headers: dict[str, str], ms: float, sleep: Sleep) -> None:
        super().__init__(content, status, headers)
        self.ms, self.sleep = ms, sleep

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.ms:
            await self.sleep(self.ms / 1000)
        await super().__call__(scope, receive, send)


class Cassette:
    """Recorded answers for one test id (or the session), and what to do with new requests."""

    def __init__(self, fixtures: list[Rule], mode: str = "none", *, timing: str = "recorded",
                 upstream: str = "", path: str | None = None, redact_headers: tuple[str, ...] = (),
                 name: str = "cassette") -> None:
        if mode not in MODES:
            raise InvalidRequest(f"mode must be one of {', '.join(MODES)}; got {mode!r}.")
        if timing not in TIMINGS:
            raise InvalidRequest(f"timing must be one of {', '.join(TIMINGS)}; got {timing!r}.")
        self.name, self.mode, self.timing, self.upstream, self.path = name, mode, timing, upstream, path
        self.redact_headers = frozenset(h.lower() for h in redact_headers)
        self.fixtures = [] if mode == "all" else [f for f in fixtures if f.match.fingerprint and f.answer.raw]
        self.loaded = list(self.fixtures)
        self.had_fixtures = bool(fixtures)
        self.recorded: list[dict[str, Any]] = []
        self._by_fp: dict[str, list[Rule]] = {}
        for f in self.fixtures:
            self._by_fp.setdefault(f.match.fingerprint or "", []).append(f)
        self._lock = asyncio.Lock()

    @property
    def replays(self) -> bool:
        return self.mode in ("none", "new_episodes") or (self.mode == "once" and self.had_fixtures)

    @property
    def records(self) -> bool:
        return self.mode in ("new_episodes", "all") or (self.mode == "once" and not self.had_fixtures)

    @property
    def realtime(self) -> bool:
        return self.timing == "recorded"

    def find(self, fp: str) -> Rule | None:
        """The first unplayed recording of this request, else its last one (played again)."""
        found = self._by_fp.get(fp)
        if not found:
            return None
        return next((f for f in found if f.used == 0), found[-1])

    def miss_message(self, fp: dict[str, Any]) -> str:
        head = f"mockvendor replay (cassette {self.name!r}, mode {self.mode}): no recording matches this request."
        best, best_diff = None, None
        for f in self.fixtures:
            diff = differences(f.match.fingerprint_doc or {}, fp)
            if best_diff is None or len(diff) < len(best_diff):
                best, best_diff = f, diff
        if best is None:
            return head + " The cassette holds no recordings; record them with mode once, new_episodes or all."
        return f"{head} Closest recording: {best.name!r}, which differs in {'; '.join(best_diff or [])}."

    def to_doc(self) -> dict[str, Any]:
        """The cassette as a rules file: kept recordings, then the new ones."""
        kept = [] if self.mode == "all" else [{"name": f.name, **f.doc} for f in self.loaded]
        return {"rules": kept + self.recorded}

    # -- recording --------------------------------------------------------------------------
    async def record(self, client: httpx.AsyncClient, vendor: str, request: Request, body: Any,
                     fp: tuple[dict[str, Any], str], arrival: float | None = None) -> Response:
        """Pass the request to the vendor and record what comes back, as it comes. Times are
        counted from ``arrival`` (wall clock: when the request reached this server)."""
        origin = (self.upstream or ORIGINS.get(vendor, "")).rstrip("/")
        if not origin:
            raise InvalidRequest(f"Recording vendor {vendor!r} needs an upstream: set MOCKVENDOR_RECORD_UPSTREAM "
                                 "(or the cassette's upstream) to the server standing in for it.")
        url = origin + request.url.path + (("?" + request.url.query) if request.url.query else "")
        headers, secrets = _upstream_headers(vendor, request)
        t0 = time.perf_counter() - (max(0.0, time.time() - arrival) if arrival is not None else 0.0)
        try:
            resp = await client.send(client.build_request("POST", url, content=orjson.dumps(body), headers=headers),
                                     stream=True)
        except httpx.HTTPError as e:
            raise UpstreamError(f"Recording: could not reach {origin}: {type(e).__name__}.") from None
        ttfb = round((time.perf_counter() - t0) * 1000, 3)
        kept = self._headers(resp.headers)
        raw: dict[str, Any] = {"status": resp.status_code, "headers": kept, "ms": ttfb}
        if "text/event-stream" not in resp.headers.get("content-type", ""):
            data = await resp.aread()
            await resp.aclose()
            raw["ms"] = round((time.perf_counter() - t0) * 1000, 3)
            raw["body"] = _scrub(data.decode("utf-8", "replace"), secrets)
            await self._keep(fp, raw)
            return Response(raw["body"].encode(), resp.status_code, kept)
        chunks: list[dict[str, Any]] = []
        raw["chunks"] = chunks

        async def relay() -> AsyncIterator[bytes]:
            last = time.perf_counter()
            buf = b""
            try:
                async for piece in resp.aiter_bytes():
                    buf += piece
                    while True:
                        end = _event_end(buf)
                        if end < 0:
                            break
                        event, buf = buf[:end], buf[end:]
                        now = time.perf_counter()
                        text = _scrub(event.decode("utf-8", "replace"), secrets)
                        chunks.append({"ms": round((now - last) * 1000, 3), "data": text})
                        last = now
                        yield text.encode()
                if buf:
                    text = _scrub(buf.decode("utf-8", "replace"), secrets)
                    chunks.append({"ms": round((time.perf_counter() - last) * 1000, 3), "data": text})
                    yield text.encode()
            finally:
                await resp.aclose()
                await self._keep(fp, raw)

        return StreamingResponse(relay(), status_code=resp.status_code, headers=kept)

    def _headers(self, headers: httpx.Headers) -> dict[str, str]:
        out = {}
        for k, v in headers.items():
            k = k.lower()
            if k in DROP_HEADERS:
                continue
            out[k] = REDACTED if k in self.redact_headers else redact_text(v)
        return out

    async def _keep(self, fp: tuple[dict[str, Any], str], raw: dict[str, Any]) -> None:
        async with self._lock:
            n = len(self.loaded) + len(self.recorded) + 1
            doc = {"name": f"rec-{n}-{fp[1][:8]}", "match": {"fingerprint": fp[0]}, "answer": {"raw": raw}}
            self.recorded.append(doc)
            if self.replays:  # new_episodes: what was just recorded answers the next identical request
                from .spec import parse_rule

                rule = parse_rule(doc, doc["name"])
                self.fixtures.append(rule)
                self._by_fp.setdefault(fp[1], []).append(rule)
            if self.path:
                await asyncio.to_thread(write_rules_file, self.path, self.to_doc())


def _event_end(buf: bytes) -> int:
    """Where the first complete server-sent event of ``buf`` ends (-1: none yet)."""
    ends = [i + len(sep) for sep in (b"\n\n", b"\r\n\r\n") if (i := buf.find(sep)) >= 0]
    return min(ends) if ends else -1


def _upstream_headers(vendor: str, request: Request) -> tuple[dict[str, str], list[str]]:
    headers = {"content-type": "application/json"}
    for name in FORWARD_HEADERS:
        if name in request.headers:
            headers[name] = request.headers[name]
    for name, value in request.headers.items():
        if name.startswith("x-mockvendor-"):  # a mockvendor standing in for the vendor obeys them
            headers[name] = value
    secrets = [v.split(" ", 1)[-1] for k, v in request.headers.items() if k in AUTH_HEADERS]
    env_names, header, prefix = KEYS.get(vendor, ((), "", ""))
    key = next((os.environ[n] for n in env_names if os.environ.get(n)), "")
    if key:
        headers[header] = prefix + key
        secrets.append(key)
    else:  # the client's own key goes on, and is never written either
        for name in AUTH_HEADERS:
            if name in request.headers:
                headers[name] = request.headers[name]
    return headers, [s for s in secrets if len(s) >= 6]


def _scrub(text: str, secrets: list[str]) -> str:
    for s in secrets:
        text = text.replace(s, REDACTED)
    return redact_text(text)


def differences(recorded: dict[str, Any], got: dict[str, Any], limit: int = 3) -> list[str]:
    """What differs between two fingerprints, field by field (messages by index)."""
    out: list[str] = []
    for key in sorted(set(recorded) | set(got), key=lambda k: (k != "messages", k)):
        a, b = recorded.get(key), got.get(key)
        if a == b:
            continue
        if key == "messages" and isinstance(a, list) and isinstance(b, list):
            for i in range(max(len(a), len(b))):
                ma = a[i] if i < len(a) else None
                mb = b[i] if i < len(b) else None
                if ma != mb:
                    if ma is None or mb is None:
                        out.append(f"messages: recorded {len(a)}, got {len(b)}")
                    else:
                        field = next((f for f in ("role", "content", "tool_calls", "name") if ma.get(f) != mb.get(f)),
                                     "content")
                        out.append(f"messages[{i}].{field} (recorded {_short(ma.get(field))}, "
                                   f"got {_short(mb.get(field))})")
                    break
        else:
            out.append(f"{key} (recorded {_short(a)}, got {_short(b)})")
    return out[:limit] if len(out) <= limit else [*out[:limit], f"{len(out) - limit} more"]


def _short(v: Any) -> str:
    text = orjson.dumps(v, default=str).decode()
    return text if len(text) <= 60 else text[:57] + "..."


def write_rules_file(path: str, doc: dict[str, Any]) -> None:
    """A rules (or cassette) file, replaced atomically: YAML for .yaml/.yml, else JSON."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.suffix in (".yaml", ".yml"):
        import yaml

        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)
    else:
        text = orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n"
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(p)
