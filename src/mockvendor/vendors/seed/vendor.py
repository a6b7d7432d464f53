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

from ...errors import MockVendorError
from ...http import sse
from ...pipeline import endpoint
from ...types import Chunk, Completion, GenerateRequest, Message
from ...wire import decode
from ..base import BaseVendor
from . import openapi as docs
from . import wire

if TYPE_CHECKING:
    from ...context import AppContext
    from ...engines import Engine
    from ...settings import Settings


def _sampling(b: wire.PromptRequest) -> dict[str, Any]:
    return {"max_tokens": b.max_tokens, "temperature": b.temperature, "top_p": b.top_p, "seed": b.seed}


class SeedVendor(BaseVendor):
    """What the seed's ``{"prompt", "system_prompt"}`` vendors share.

    ``request`` and ``response`` are the declared bodies (``.wire``): :meth:`body` parses
    with the one, and the OpenAPI document shows both."""

    path: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    request: ClassVar[type[wire.EchoRequest]] = wire.PromptRequest
    response: ClassVar[Any] = None

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def routes(self, ctx: AppContext) -> list[BaseRoute]:
        return [Route(self.path, endpoint(ctx, self), methods=["POST"], name=f"vendor-{self.name}")]

    def body(self, body: Any) -> Any:
        """The JSON body as this vendor's declared request (a 400 naming what does not fit)."""
        return decode(self.request, body)

    def openapi(self) -> dict[str, Any]:
        return docs.seed_path(self)


class VendorA(SeedVendor):
    name = "a"
    title = "Vendor A"
    path = "/vendor-a/messages"
    summary = "Instruction-following chat on the local model (the seed's TinyLlama vendor)."
    response = wire.AnswerA

    def parse(self, body: Any, request: Request) -> GenerateRequest:
        b = self.body(body)
        messages = [Message("system", b.system_prompt)] if b.system_prompt else []
        messages.append(Message("user", b.prompt))
        samp = _sampling(b)
        if samp["max_tokens"] is None:
            samp["max_tokens"] = self.settings.default_max_tokens
        if samp["temperature"] is None:
            samp["temperature"] = 0.7
        return GenerateRequest(self.settings.vendor_a_model, messages, stream=bool(b.stream), **samp)

    def render(self, req: GenerateRequest, c: Completion, kind: type[wire.AnswerA] = wire.AnswerA) -> Any:
        return kind(c.text, c.usage.input_tokens, c.usage.output_tokens, round(c.latency_ms))

    async def render_stream(
        self, req: GenerateRequest, events: AsyncIterator[Chunk | Completion]
    ) -> AsyncIterator[bytes]:
        async for ev in events:
            if isinstance(ev, Completion):
                yield sse(self.render(req, ev, wire.StreamEndA))
            elif ev.text:
                yield sse(wire.DeltaA(ev.text))


class VendorB(SeedVendor):
    name = "b"
    title = "Vendor B"
    path = "/vendor-b/messages"
    summary = "Creative continuation (sampled raw text generation, GPT-2 style)."

    response = wire.AnswerB

    def parse(self, body: Any, request: Request) -> GenerateRequest:
        b = self.body(body)
        text = f"{b.system_prompt}\n\n{b.prompt}" if b.system_prompt else b.prompt
        samp = _sampling(b)
        if samp["max_tokens"] is None:
            samp["max_tokens"] = self.settings.vendor_b_max_tokens
        if samp["temperature"] is None:
            samp["temperature"] = self.settings.vendor_b_temperature
        return GenerateRequest(self.settings.vendor_b_model, prompt=text, stream=bool(b.stream), **samp)

    def render(self, req: GenerateRequest, c: Completion) -> Any:
        return wire.AnswerB([wire.ChoiceB(wire.MessageB(c.text))], _usage(c))

    def error_body(self, err: MockVendorError) -> Any:
        return wire.ErrorBody(wire.ErrorDetail(err.kind, err.message), err.retry_after_ms)

    async def render_stream(
        self, req: GenerateRequest, events: AsyncIterator[Chunk | Completion]
    ) -> AsyncIterator[bytes]:
        async for ev in events:
            if isinstance(ev, Completion):
                end = wire.StreamChoiceB(wire.DeltaContentB(), ev.finish_reason)
                yield sse(wire.StreamChunkB([end], _usage(ev)))
                yield b"data: [DONE]\n\n"
            elif ev.text:
                yield sse(wire.StreamChunkB([wire.StreamChoiceB(wire.DeltaContentB(ev.text))]))


class VendorE(SeedVendor):
    name = "e"
    title = "Vendor E"
    path = "/vendor-e/messages"
    summary = "Echo: answers with the prompt it was given."

    request = wire.EchoRequest
    response = wire.AnswerE

    def parse(self, body: Any, request: Request) -> GenerateRequest:
        return GenerateRequest("echo", prompt=self.body(body).prompt)

    def render(self, req: GenerateRequest, c: Completion) -> Any:
        return wire.AnswerE("You entered " + c.text)

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

    request = wire.PassthroughRequest

    def parse(self, body: Any, request: Request) -> GenerateRequest:
        b = self.body(body)
        assert isinstance(b, wire.PassthroughRequest)
        messages = [Message("system", b.system_prompt)] if b.system_prompt else []
        messages.append(Message("user", b.prompt))
        return GenerateRequest(b.model, messages, stream=bool(b.stream), **_sampling(b))

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


def _usage(c: Completion) -> wire.UsageB:
    return wire.UsageB(c.usage.input_tokens, c.usage.output_tokens)
