"""Gemini-compatible API: ``models/{model}:generateContent`` and
``:streamGenerateContent`` under ``/v1beta`` and ``/v1``, with Google's JSON, SSE and
error shapes (shared/design/wire-formats.md, "Google Gemini")."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from ..errors import InvalidRequest, MockVendorError, NotFound
from ..pipeline import endpoint
from ..types import Chunk, Completion, GenerateRequest, Message
from . import openapi_compat as docs
from .base import BaseVendor, bearer, integer, number, obj, sse, stop_list

if TYPE_CHECKING:
    from ..app import AppContext
    from ..faults.ratelimit import RateLimitState
    from ..settings import Settings

FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "stop_sequence": "STOP"}
METHODS = ("generateContent", "streamGenerateContent")
# google.rpc status names by HTTP status (the standard gRPC <-> HTTP mapping).
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
    529: "UNAVAILABLE",
}
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"


@dataclass(slots=True)
class GeminiRequest(GenerateRequest):
    """A generateContent request; ``as_array``: a stream asked for without ``alt=sse``."""

    as_array: bool = False


def status_name(status: int) -> str:
    return STATUS_NAMES.get(status) or ("INTERNAL" if status >= 500 else "INVALID_ARGUMENT")


def proto_duration(ms: int) -> str:
    """A google.protobuf.Duration in JSON: seconds with 0 or 3 fractional digits."""
    seconds, rest = divmod(ms, 1000)
    return f"{seconds}.{rest:03d}s" if rest else f"{seconds}s"


def _camel(d: Any) -> dict[str, Any]:
    """Google's JSON accepts ``max_output_tokens`` as well as ``maxOutputTokens``."""
    out: dict[str, Any] = {}
    for key, value in d.items():
        head, *rest = key.split("_")
        out[head + "".join(w[:1].upper() + w[1:] for w in rest)] = value
    return out


def _parts_text(content: Any, path: str) -> str:
    c = obj(content, f"'{path}'")
    parts = c.get("parts")
    if not isinstance(parts, list) or not parts:
        raise InvalidRequest(f"'{path}.parts' must be a non-empty array of parts.", param=f"{path}.parts")
    texts = []
    for j, part in enumerate(parts):
        p = obj(part, f"'{path}.parts[{j}]'")
        text = p.get("text")
        if not isinstance(text, str):
            kinds = ", ".join(sorted(p)) or "nothing"
            raise InvalidRequest(
                f"'{path}.parts[{j}]' must hold a 'text' string (got {kinds}): mockvendor answers text "
                "parts only.",
                param=f"{path}.parts[{j}]",
            )
        texts.append(text)
    return "".join(texts)


class GeminiVendor(BaseVendor):
    """Google's Generative Language API on the configured models."""

    name = "gemini"
    title = "Gemini-compatible"
    url_prefixes: ClassVar[tuple[str, ...]] = ("/v1beta/",)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def routes(self, ctx: AppContext) -> list[BaseRoute]:
        handler = endpoint(ctx, self)
        # "{model}:{method}" is one path segment: split in parse(), not by the router.
        return [
            Route("/v1beta/models/{target:path}", handler, methods=["POST"], name="gemini-v1beta"),
            Route("/v1/models/{target:path}", handler, methods=["POST"], name="gemini-v1"),
        ]

    def api_key(self, request: Request) -> str | None:
        return request.headers.get("x-goog-api-key") or request.query_params.get("key") or bearer(request)

    # -- requests -------------------------------------------------------------------
    def parse(self, body: Any, request: Request) -> GenerateRequest:
        target = request.path_params.get("target", "")
        model, sep, method = target.removeprefix("models/").rpartition(":")
        if not sep or not model or method not in METHODS:
            raise NotFound(
                f"Method {target!r} is not found: use models/{{model}}:generateContent or "
                "models/{model}:streamGenerateContent."
            )
        b = obj(body)
        messages = []
        system = b.get("systemInstruction", b.get("system_instruction"))
        if system is not None:
            messages.append(Message("system", _parts_text(system, "systemInstruction")))
        contents = b.get("contents")
        if contents is None:
            raise InvalidRequest("Missing required field 'contents'.", param="contents")
        if not isinstance(contents, list) or not contents:
            raise InvalidRequest("'contents' must be a non-empty array of Content.", param="contents")
        for i, content in enumerate(contents):
            c = obj(content, f"'contents[{i}]'")
            role = c.get("role") or "user"
            if role not in ("user", "model"):
                raise InvalidRequest(
                    f"Invalid value {role!r} for 'contents[{i}].role': expected 'user' or 'model'.",
                    param=f"contents[{i}].role",
                )
            messages.append(Message("assistant" if role == "model" else "user", _parts_text(c, f"contents[{i}]")))
        cfg = _camel(obj(b.get("generationConfig", b.get("generation_config")) or {}, "'generationConfig'"))
        p = "generationConfig."
        count = integer(cfg, "candidateCount", lo=1, hi=8, path=p)
        if count not in (None, 1):
            raise InvalidRequest(
                f"mockvendor answers one candidate per request; 'candidateCount' must be 1, got {count}.",
                param=p + "candidateCount",
            )
        stream = method == "streamGenerateContent"
        return GeminiRequest(
            model,
            messages,
            max_tokens=integer(cfg, "maxOutputTokens", lo=1, hi=1_000_000, path=p),
            temperature=number(cfg, "temperature", lo=0.0, hi=2.0, path=p),
            top_p=number(cfg, "topP", lo=0.0, hi=1.0, path=p),
            top_k=integer(cfg, "topK", lo=1, hi=1_000_000, path=p),
            stop=stop_list(cfg, "stopSequences", max_items=5),
            seed=integer(cfg, "seed", lo=-(2**31), hi=2**32 - 1, path=p),
            stream=stream and request.query_params.get("alt") == "sse",
            # Without alt=sse Google streams one JSON array; we send it as one body.
            as_array=stream and request.query_params.get("alt") != "sse",
        )

    # -- answers --------------------------------------------------------------------
    def render(self, req: GenerateRequest, c: Completion) -> Any:
        body = self._final(req, c.text, c, _response_id())
        return [body] if isinstance(req, GeminiRequest) and req.as_array else body

    def _final(self, req: GenerateRequest, text: str, c: Completion, rid: str) -> dict[str, Any]:
        return {
            "candidates": [
                {
                    "content": {"role": "model", "parts": [{"text": text}]},
                    "finishReason": FINISH[c.finish_reason],
                    "index": 0,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": c.usage.input_tokens,
                "candidatesTokenCount": c.usage.output_tokens,
                "totalTokenCount": c.usage.total_tokens,
            },
            "modelVersion": req.model,
            "responseId": rid,
        }

    async def render_stream(
        self, req: GenerateRequest, events: AsyncIterator[Chunk | Completion]
    ) -> AsyncIterator[bytes]:
        rid = _response_id()
        # One piece is held back so the last event carries text, finishReason and usage
        # together, as Gemini's own last event does.
        held: str | None = None
        async for ev in events:
            if isinstance(ev, Completion):
                yield sse(self._final(req, held or "", ev, rid))
            elif ev.text:
                if held is not None:
                    yield sse(self._partial(req, held, rid))
                held = ev.text

    def _partial(self, req: GenerateRequest, text: str, rid: str) -> dict[str, Any]:
        return {
            "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}],
            "modelVersion": req.model,
            "responseId": rid,
        }

    # -- errors ---------------------------------------------------------------------
    def error_body(self, err: MockVendorError) -> Any:
        error: dict[str, Any] = {"code": err.status, "message": err.message, "status": status_name(err.status)}
        if err.status == 429 and err.retry_after_ms is not None:
            error["details"] = [{"@type": RETRY_INFO, "retryDelay": proto_duration(err.retry_after_ms)}]
        return {"error": error}

    def stream_error(self, err: MockVendorError) -> bytes | None:
        return sse(self.error_body(err))

    def ratelimit_headers(self, state: RateLimitState) -> dict[str, str]:
        # Gemini sends no rate-limit headers: its 429 says when to retry in the body (RetryInfo).
        return {}

    def openapi(self) -> dict[str, Any]:
        return docs.gemini_paths(self)


def _response_id() -> str:
    return os.urandom(12).hex()


VENDOR = GeminiVendor
