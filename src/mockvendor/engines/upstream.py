"""The upstream engine: any OpenAI-compatible server (OpenAI, vLLM, Ollama,
llama.cpp's server, another mockvendor) as the generator behind any vendor format.

Options: ``base_url`` (ending in ``/v1``), ``api_key``, ``model`` (the upstream's
model name; default: the name the client asked for), ``timeout`` (seconds).
The upstream's own JSON is kept on each Chunk/Completion (``raw``) so a passthrough
vendor can return it verbatim.

Tools go to the upstream as OpenAI function tools, with the conversation's calls and results
(``handles_tools``): the upstream's model decides, not mockvendor's rule (README "Tool calls"),
and its calls come back in whichever vendor format the client speaks.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson

from ..errors import AuthenticationFailed, MockVendorError, UpstreamError
from ..tools import arguments_json
from ..tracking.redact import REDACTED, redact_text
from ..types import Chunk, Completion, GenerateRequest, Message, TokenLogprob, ToolCall, Usage
from . import register
from .echo import count_tokens


class UpstreamHTTPError(MockVendorError):
    """The upstream answered with an error status; ``body`` is what it said."""

    def __init__(self, status: int, body: Any, upstream: str) -> None:
        msg = _error_message(body) or f"Upstream {without_userinfo(upstream)} answered HTTP {status}."
        super().__init__(msg, status=status, kind=_KIND.get(status, "upstream_error"))
        self.body = body

    def scrubbed(self, secret: str) -> UpstreamHTTPError:
        """The same error with ``secret`` (our key for the upstream) and anything key-like
        taken out: it is relayed to the client, and an upstream may echo the key it got."""
        self.body = scrub(self.body, secret)
        self.message = scrub(self.message, secret)
        self.args = (self.message,)
        return self


def scrub(value: Any, secret: str) -> Any:
    """A JSON value with ``secret`` and key-like strings replaced in every string."""
    if isinstance(value, str):
        return redact_text(value.replace(secret, REDACTED) if secret else value)
    if isinstance(value, dict):
        return {k: scrub(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, secret) for v in value]
    return value


def without_userinfo(url: str) -> str:
    """``url`` without ``user:password@``, for messages and stats."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


_KIND = {
    400: "invalid_request", 401: "authentication", 403: "permission", 404: "not_found",
    409: "conflict", 413: "request_too_large", 429: "rate_limit", 503: "unavailable",
    529: "overloaded",
}


def _error_message(body: Any) -> str | None:
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            return str(err["message"])
        if isinstance(err, str):
            return err
    return None


class UpstreamEngine:
    """Generates by calling an OpenAI-compatible ``/chat/completions``."""

    name = "upstream"
    can_stream = True
    context_window = 0
    handles_tools = True  # tools.prepare leaves tools and tool turns to the upstream

    def __init__(self, settings: Any, options: dict[str, Any]) -> None:
        self.base_url = str(options.get("base_url") or "").rstrip("/")
        if not self.base_url:
            raise ValueError("the upstream engine needs a `base_url` option (ending in /v1)")
        self.api_key = str(options.get("api_key") or "")
        self.model = options.get("model")
        # Set for vendor O's passthrough, which must not call OpenAI without a key; a
        # configured upstream (vLLM, Ollama, ...) may need none, then none is sent.
        self.missing_key_message = options.get("missing_key_message")
        self._in_flight = 0
        self.completed = 0
        timeout = float(options.get("timeout") or getattr(settings, "upstream_timeout_s", 60.0))
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=5.0))

    async def start(self) -> None:
        return None

    def ready(self) -> bool:
        return bool(self.base_url)

    async def aclose(self) -> None:
        await self._client.aclose()

    def stats(self) -> dict[str, Any]:
        # No queue of ours: requests go straight to the upstream, which queues them.
        return {"engine": self.name, "base_url": without_userinfo(self.base_url), "queue_depth": 0,
                "active": self._in_flight, "completed": self.completed}

    def prompt_tokens(self, req: GenerateRequest) -> int:
        # The upstream counts for real; this estimate is replaced by its usage.
        if req.prompt is not None:
            return count_tokens(req.prompt)
        return sum(count_tokens(m.content) for m in req.messages)

    def _payload(self, req: GenerateRequest) -> dict[str, Any]:
        messages = openai_messages(req.messages)
        if req.prompt is not None:
            messages = [{"role": "user", "content": req.prompt}]
        body: dict[str, Any] = {"model": self.model or req.model, "messages": messages}
        if req.tools:
            body["tools"] = [{"type": "function", "function": {
                "name": t.name, "description": t.description, "parameters": t.parameters}} for t in req.tools]
            choice = req.tool_choice
            body["tool_choice"] = ({"type": "function", "function": {"name": choice[len("tool:"):]}}
                                   if choice.startswith("tool:") else choice)
        for key in ("max_tokens", "temperature", "top_p", "seed"):
            value = getattr(req, key)
            if value is not None:
                body[key] = value
        if req.stop:
            body["stop"] = req.stop
        if req.logprobs is not None:  # the upstream's own log-probabilities, passed through
            body["logprobs"] = True
            if req.logprobs:
                body["top_logprobs"] = req.logprobs
        if req.stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return body

    def _headers(self) -> dict[str, str]:
        if not self.api_key:
            if self.missing_key_message:
                raise AuthenticationFailed(self.missing_key_message)
            return {}
        return {"authorization": f"Bearer {self.api_key}"}

    async def stream(self, req: GenerateRequest) -> AsyncIterator[Chunk | Completion]:
        self._in_flight += 1
        try:
            async for item in self._stream(req):
                if isinstance(item, Completion):
                    self.completed += 1
                yield item
        finally:
            self._in_flight -= 1

    async def _stream(self, req: GenerateRequest) -> AsyncIterator[Chunk | Completion]:
        headers = self._headers()
        url = self.base_url + "/chat/completions"
        payload = self._payload(req)
        try:
            if not req.stream:
                resp = await self._client.post(url, json=payload, headers=headers)
                data = _json(resp)
                if resp.status_code >= 400:
                    raise UpstreamHTTPError(resp.status_code, data, self.base_url)
                yield _completion(data, req)
                return
            async with self._client.stream("POST", url, json=payload, headers=headers) as resp:
                if resp.status_code >= 400:
                    await resp.aread()
                    raise UpstreamHTTPError(resp.status_code, _json(resp), self.base_url)
                async for item in _parse_sse(resp, req):
                    yield item
        except UpstreamHTTPError as e:
            raise e.scrubbed(self.api_key) from None
        except httpx.TimeoutException as e:
            raise UpstreamError(
                f"Upstream {without_userinfo(self.base_url)} timed out ({type(e).__name__}).", status=504,
                kind="gateway_timeout",
            ) from None
        except httpx.TransportError as e:
            raise UpstreamError(
                f"Could not reach upstream {without_userinfo(self.base_url)}: {type(e).__name__}: "
                f"{scrub(str(e), self.api_key)}"
            ) from None


def openai_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Neutral turns as OpenAI chat messages, tool calls and results included. Calls without
    an id (Gemini before 3 gives none) get one, and each result without one takes the id of
    the earliest unanswered call of its tool (else of any tool)."""
    out: list[dict[str, Any]] = []
    pending: list[tuple[str, str]] = []  # (id, tool name) of calls not yet answered
    for m in messages:
        if m.tool_calls:
            calls = []
            for c in m.tool_calls:
                call_id = c.id or f"call_{len(out)}_{len(calls)}"
                pending.append((call_id, c.name))
                calls.append({"id": call_id, "type": "function",
                              "function": {"name": c.name, "arguments": arguments_json(c)}})
            out.append({"role": "assistant", "content": m.content or None, "tool_calls": calls})
        elif m.role == "tool":
            call_id = m.tool_call_id
            if not call_id:
                match = next((p for p in pending if p[1] == m.name), pending[0] if pending else None)
                call_id = match[0] if match else "call_unknown"
            pending = [p for p in pending if p[0] != call_id]
            out.append({"role": "tool", "tool_call_id": call_id, "content": m.content})
        else:
            out.append({"role": m.role, "content": m.content})
    return out


def _tool_call(raw: Any) -> ToolCall:
    """An upstream's call: its ``call_`` prefix off (vendors add their own), arguments decoded."""
    f = raw.get("function") or {}
    return ToolCall(str(raw.get("id") or "").removeprefix("call_"), str(f.get("name") or ""),
                    _arguments(f.get("arguments")))


def _arguments(text: Any) -> dict[str, Any]:
    if isinstance(text, dict):
        return text
    try:
        value = json.loads(text or "{}")
    except (TypeError, ValueError):
        return {"arguments": text}  # not JSON: kept as text under one key
    return value if isinstance(value, dict) else {"arguments": value}


def _finish(reason: Any) -> str:
    return {"length": "length", "tool_calls": "tool_calls", "function_call": "tool_calls"}.get(reason, "stop")


def _json(resp: httpx.Response) -> Any:
    try:
        return orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        return {"error": {"message": resp.text[:500], "type": "upstream_error"}}


def _completion(data: Any, req: GenerateRequest) -> Completion:
    try:
        choice = data["choices"][0]
        text = choice["message"].get("content") or ""
        calls = [_tool_call(c) for c in choice["message"].get("tool_calls") or []]
        finish = choice.get("finish_reason") or "stop"
        usage = data.get("usage") or {}
    except (KeyError, IndexError, TypeError, AttributeError):
        raise UpstreamError("Upstream answered with an unexpected JSON shape.") from None
    return Completion(
        text,
        Usage(int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)),
        "tool_calls" if calls else _finish(finish),
        None,
        0.0,
        str(data.get("model") or req.model),
        raw=data,
        tool_calls=calls,
        logprobs=_logprobs(choice, req),
    )


def _logprobs(choice: Any, req: GenerateRequest) -> list[TokenLogprob] | None:
    """The upstream's ``logprobs.content`` (OpenAI's shape) as neutral tokens; None when not
    asked or not given (token ids are the upstream's secret: -1)."""
    if req.logprobs is None:
        return None
    content = (choice.get("logprobs") or {}).get("content")
    if not isinstance(content, list):
        return None

    def one(t: Any) -> TokenLogprob:
        data = bytes(t["bytes"]) if t.get("bytes") is not None else str(t.get("token", "")).encode("utf-8")
        return TokenLogprob(-1, data, float(t.get("logprob") or 0.0), [one(a) for a in t.get("top_logprobs") or ()])

    try:
        return [one(t) for t in content]
    except (KeyError, TypeError, ValueError, AttributeError):
        raise UpstreamError("Upstream answered with malformed logprobs.") from None


async def _parse_sse(resp: httpx.Response, req: GenerateRequest) -> AsyncIterator[Chunk | Completion]:
    text: list[str] = []
    finish = "stop"
    usage = Usage(0, 0)
    model = req.model
    calls: dict[int, tuple[ToolCall, list[str]]] = {}  # by the upstream's index: the call, its pieces
    tokens: list[TokenLogprob] | None = None if req.logprobs is None else []
    async for line in resp.aiter_lines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            break
        try:
            data = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise UpstreamError("Upstream sent a malformed stream chunk.") from None
        if "error" in data:
            raise UpstreamHTTPError(500, data, str(resp.url))
        model = data.get("model") or model
        if data.get("usage"):
            u = data["usage"]
            usage = Usage(int(u.get("prompt_tokens") or 0), int(u.get("completion_tokens") or 0))
        piece = ""
        lp: list[TokenLogprob] | None = None
        for choice in data.get("choices") or []:
            lp = _logprobs(choice, req)
            delta = choice.get("delta") or {}
            piece += delta.get("content") or ""
            for raw in delta.get("tool_calls") or []:
                for chunk in _call_delta(raw, calls):
                    yield chunk
            if choice.get("finish_reason"):
                finish = _finish(choice["finish_reason"])
        text.append(piece)
        if tokens is not None and lp:
            tokens += lp
        yield Chunk(piece, raw=data, logprobs=lp)
    done = [ToolCall(c.id, c.name, _arguments("".join(pieces))) for c, pieces in calls.values()]
    yield Completion("".join(text), usage, "tool_calls" if done else finish, None, 0.0, model, tool_calls=done,
                     logprobs=tokens)


def _call_delta(raw: Any, calls: dict[int, tuple[ToolCall, list[str]]]) -> list[Chunk]:
    """A streamed tool-call delta as Chunks: the call's opening (its id and name come first),
    then a piece of its arguments JSON."""
    index = int(raw.get("index") or 0)
    out = []
    if index not in calls:
        call = _tool_call({**raw, "function": {"name": (raw.get("function") or {}).get("name")}})
        calls[index] = (call, [])
        out.append(Chunk("", tool_call=call, tool_index=index))
    call, pieces = calls[index]
    piece = (raw.get("function") or {}).get("arguments") or ""
    if piece:
        pieces.append(piece)
        out.append(Chunk(piece, tool_call=call, tool_index=index))
    return out


register("upstream", UpstreamEngine)
