"""The seed prototype's four vendors, in their exact documented shapes.

- A ``/vendor-a/messages``: instruction-following chat on the local model.
- B ``/vendor-b/messages``: creative raw continuation, OpenAI-like answer shape.
- E ``/vendor-e/messages``: echo.
- O ``/vendor-o/messages``: passthrough to OpenAI's chat completions.

All four take ``{"prompt", "system_prompt"?}``; A, B and O also ``max_tokens``,
``temperature``, ``seed`` and ``stream``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, ClassVar

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from ..errors import MockVendorError
from ..pipeline import endpoint
from ..types import Chunk, Completion, GenerateRequest, Message
from . import openapi_docs as docs
from .base import BaseVendor, boolean, obj, sampling, sse, string

if TYPE_CHECKING:
    from ..app import AppContext
    from ..engines import Engine
    from ..settings import Settings

MAX_PROMPT_CHARS = 200_000


def _prompt_fields(body: Any) -> tuple[str, str | None, dict[str, Any], bool]:
    b = obj(body)
    prompt = string(b, "prompt", required=True, nonempty=True, max_len=MAX_PROMPT_CHARS)
    system = string(b, "system_prompt", max_len=MAX_PROMPT_CHARS)
    return prompt or "", system, sampling(b), bool(boolean(b, "stream"))


class SeedVendor(BaseVendor):
    """Shared parsing for the seed's ``{"prompt", "system_prompt"}`` vendors."""

    path: ClassVar[str] = ""
    summary: ClassVar[str] = ""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def routes(self, ctx: AppContext) -> list[BaseRoute]:
        return [Route(self.path, endpoint(ctx, self), methods=["POST"], name=f"vendor-{self.name}")]

    def openapi(self) -> dict[str, Any]:
        return docs.seed_path(self)


class VendorA(SeedVendor):
    name = "a"
    title = "Vendor A"
    path = "/vendor-a/messages"
    summary = "Instruction-following chat on the local model (the seed's TinyLlama vendor)."

    def parse(self, body: Any, request: Request) -> GenerateRequest:
        prompt, system, samp, stream = _prompt_fields(body)
        messages = [Message("system", system)] if system else []
        messages.append(Message("user", prompt))
        if samp["max_tokens"] is None:
            samp["max_tokens"] = self.settings.default_max_tokens
        if samp["temperature"] is None:
            samp["temperature"] = 0.7
        return GenerateRequest(self.settings.vendor_a_model, messages, stream=stream, **samp)

    def render(self, req: GenerateRequest, c: Completion) -> Any:
        return {
            "outputText": c.text,
            "tokensIn": c.usage.input_tokens,
            "tokensOut": c.usage.output_tokens,
            "latencyMS": round(c.latency_ms),
        }

    async def render_stream(
        self, req: GenerateRequest, events: AsyncIterator[Chunk | Completion]
    ) -> AsyncIterator[bytes]:
        async for ev in events:
            if isinstance(ev, Completion):
                yield sse({**self.render(req, ev), "done": True})
            elif ev.text:
                yield sse({"delta": ev.text})


class VendorB(SeedVendor):
    name = "b"
    title = "Vendor B"
    path = "/vendor-b/messages"
    summary = "Creative continuation (sampled raw text generation, GPT-2 style)."

    def parse(self, body: Any, request: Request) -> GenerateRequest:
        prompt, system, samp, stream = _prompt_fields(body)
        text = f"{system}\n\n{prompt}" if system else prompt
        if samp["max_tokens"] is None:
            samp["max_tokens"] = self.settings.vendor_b_max_tokens
        if samp["temperature"] is None:
            samp["temperature"] = self.settings.vendor_b_temperature
        return GenerateRequest(self.settings.vendor_b_model, prompt=text, stream=stream, **samp)

    def render(self, req: GenerateRequest, c: Completion) -> Any:
        return {
            "choices": [{"message": {"content": c.text}}],
            "usage": {"input_tokens": c.usage.input_tokens, "output_tokens": c.usage.output_tokens},
        }

    def error_body(self, err: MockVendorError) -> Any:
        body: dict[str, Any] = {"error": {"type": err.kind, "message": err.message}}
        if err.retry_after_ms is not None:
            body["retryAfterMs"] = err.retry_after_ms
        return body

    async def render_stream(
        self, req: GenerateRequest, events: AsyncIterator[Chunk | Completion]
    ) -> AsyncIterator[bytes]:
        async for ev in events:
            if isinstance(ev, Completion):
                yield sse(
                    {
                        "choices": [{"delta": {}, "finish_reason": ev.finish_reason}],
                        "usage": {
                            "input_tokens": ev.usage.input_tokens,
                            "output_tokens": ev.usage.output_tokens,
                        },
                    }
                )
                yield b"data: [DONE]\n\n"
            elif ev.text:
                yield sse({"choices": [{"delta": {"content": ev.text}}]})


class VendorE(SeedVendor):
    name = "e"
    title = "Vendor E"
    path = "/vendor-e/messages"
    summary = "Echo: answers with the prompt it was given."

    def parse(self, body: Any, request: Request) -> GenerateRequest:
        b = obj(body)
        prompt = string(b, "prompt", required=True, nonempty=True, max_len=MAX_PROMPT_CHARS)
        return GenerateRequest("echo", prompt=prompt)

    def render(self, req: GenerateRequest, c: Completion) -> Any:
        return {"response": "You entered " + c.text}

    async def render_stream(
        self, req: GenerateRequest, events: AsyncIterator[Chunk | Completion]
    ) -> AsyncIterator[bytes]:  # E never streams: parse() never sets stream.
        async for ev in events:
            if isinstance(ev, Completion):
                yield sse(self.render(req, ev))


class VendorO(SeedVendor):
    name = "o"
    title = "Vendor O"
    path = "/vendor-o/messages"
    summary = "Passthrough to OpenAI's chat completions (needs OPENAI_API_KEY)."

    def parse(self, body: Any, request: Request) -> GenerateRequest:
        prompt, system, samp, stream = _prompt_fields(body)
        model = string(obj(body), "model", nonempty=True, max_len=256) or "gpt-3.5-turbo"
        messages = [Message("system", system)] if system else []
        messages.append(Message("user", prompt))
        return GenerateRequest(model, messages, stream=stream, **samp)

    def resolve(self, ctx: AppContext, req: GenerateRequest) -> Engine:
        return ctx.openai_passthrough

    def render(self, req: GenerateRequest, c: Completion) -> Any:
        return c.raw

    def error_body(self, err: MockVendorError) -> Any:
        upstream_body = getattr(err, "body", None)
        if upstream_body is not None:
            return upstream_body  # the upstream's own error, verbatim
        return {"error": {"message": err.message, "type": err.kind, "param": err.param, "code": None}}

    async def render_stream(
        self, req: GenerateRequest, events: AsyncIterator[Chunk | Completion]
    ) -> AsyncIterator[bytes]:
        async for ev in events:
            if isinstance(ev, Completion):
                yield b"data: [DONE]\n\n"
            elif ev.raw is not None:
                yield sse(ev.raw)
