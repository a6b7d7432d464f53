"""InvokeModel with the bodies of the models that are not Claude: Amazon Titan Text
(``inputText``), Meta Llama (``prompt``, ``max_gen_len``) and Amazon Nova (the Converse request
and answer shapes, each stream event base64 in a ``chunk`` as ``{"messageStart": {...}}``). The
raw prompts of Titan and Llama are continued as written, as legacy completions are; each answer
and stream chunk is that provider's own JSON."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from msgspec import UNSET, structs

from ...http import dumps
from ...types import Chunk, Completion
from ...wire import decode
from . import converse, eventstream, wire
from .common import BedrockRequest, given, pad

TITAN_REASON = {"stop": "FINISH", "stop_sequence": "STOP_CRITERIA_MET", "length": "LENGTH", "tool_calls": "FINISH",
                "refusal": "CONTENT_FILTERED"}
LLAMA_REASON = {"length": "length"}  # anything else: "stop"
APIS = ("titan", "llama", "nova")
PROFILES = {"us", "eu", "apac", "jp", "au", "ca", "us-gov", "global"}


def provider(model: str) -> str:
    """The body family of a model id (``us.amazon.nova-lite-v1:0`` -> ``nova``); ``claude`` otherwise."""
    parts = model.split(".")
    if len(parts) > 2 and parts[0] in PROFILES:  # a cross-region inference profile
        parts = parts[1:]
    vendor, name = parts[0], ".".join(parts[1:])
    if vendor == "amazon" and name.startswith("titan-text"):
        return "titan"
    if vendor == "amazon" and name.startswith("nova"):
        return "nova"
    if vendor == "meta":
        return "llama"
    return "claude"


def request(kind: str, model: str, body: Any, stream: bool) -> BedrockRequest:
    if kind == "nova":
        req = converse.request(model, body, stream)
        req.api = "nova"
        return req
    if kind == "titan":
        t = decode(wire.TitanRequest, body, wire.INVOKE_WORDING)
        cfg = t.textGenerationConfig or wire.TitanConfig()
        return BedrockRequest(model, prompt=t.inputText, max_tokens=given(cfg.maxTokenCount) or 512,
                              temperature=given(cfg.temperature), top_p=given(cfg.topP),
                              stop=list(cfg.stopSequences or []), stream=stream, api="titan")
    b = decode(wire.LlamaRequest, body, wire.INVOKE_WORDING)
    return BedrockRequest(model, prompt=b.prompt, max_tokens=given(b.max_gen_len) or 512,
                          temperature=given(b.temperature), top_p=given(b.top_p), stream=stream, api="llama")


# -- answers ---------------------------------------------------------------------------------
def answer(req: BedrockRequest, c: Completion) -> Any:
    if req.api == "nova":
        return converse.answer(c)
    if req.api == "titan":
        return wire.TitanResponse(inputTextTokenCount=c.usage.input_tokens, results=[wire.TitanResult(
            tokenCount=c.usage.output_tokens, outputText=c.text, completionReason=TITAN_REASON[c.finish_reason])])  # type: ignore[arg-type]
    return wire.LlamaResponse(generation=c.text, prompt_token_count=c.usage.input_tokens,
                              generation_token_count=c.usage.output_tokens,
                              stop_reason=LLAMA_REASON.get(c.finish_reason, "stop"))  # type: ignore[arg-type]


def _chunk(payload: bytes) -> bytes:
    part = wire.PayloadPart(bytes=base64.b64encode(payload).decode(), p=pad())
    return eventstream.event("chunk", dumps(part))


def _metrics(c: Completion, t0: float, first: float | None) -> wire.InvocationMetrics:
    now = time.perf_counter()
    return wire.InvocationMetrics(inputTokenCount=c.usage.input_tokens, outputTokenCount=c.usage.output_tokens,
                                  invocationLatency=round((now - t0) * 1000),
                                  firstByteLatency=round(((first or now) - t0) * 1000))


async def stream(req: BedrockRequest, events: AsyncIterator[Chunk | Completion]) -> AsyncIterator[bytes]:
    t0, first = time.perf_counter(), None
    if req.api == "nova":
        async for data in _nova(events, t0):
            yield data
        return
    prompt_tokens = req.engine.prompt_tokens(req) if req.engine is not None else 0
    produced = 0
    async for ev in events:
        first = first or time.perf_counter()
        if isinstance(ev, Completion):
            metrics = _metrics(ev, t0, first)
            if req.api == "titan":
                last: Any = wire.TitanChunk(outputText="", totalOutputTextTokenCount=ev.usage.output_tokens,
                                            completionReason=TITAN_REASON[ev.finish_reason],
                                            invocation_metrics=metrics)
            else:
                last = wire.LlamaChunk(generation="", prompt_token_count=None,
                                       generation_token_count=ev.usage.output_tokens,
                                       stop_reason=LLAMA_REASON.get(ev.finish_reason, "stop"),  # type: ignore[arg-type]
                                       invocation_metrics=metrics)
            yield _chunk(dumps(last))
            return
        if not ev.text:
            continue
        produced += 1
        if req.api == "titan":
            piece: Any = wire.TitanChunk(outputText=ev.text, totalOutputTextTokenCount=produced, completionReason=None,
                                         inputTextTokenCount=prompt_tokens if produced == 1 else UNSET)
        else:
            piece = wire.LlamaChunk(generation=ev.text, prompt_token_count=prompt_tokens if produced == 1 else None,
                                    generation_token_count=produced, stop_reason=None)
        yield _chunk(dumps(piece))


async def _nova(events: AsyncIterator[Chunk | Completion], t0: float) -> AsyncIterator[bytes]:
    """ConverseStream's events, each as Nova's chunk JSON ``{"<event>": {...}}`` (no padding inside;
    the chunk has its own); the metadata chunk also carries Bedrock's invocation metrics."""
    done: Completion | None = None
    first: float | None = None

    async def watched() -> AsyncIterator[Chunk | Completion]:
        nonlocal done, first
        async for ev in events:
            first = first or time.perf_counter()
            if isinstance(ev, Completion):
                done = ev
            yield ev

    async for framed in converse.stream(watched(), emit=lambda name, payload: (name, payload)):
        name, payload = framed  # type: ignore[misc]
        inner = structs.replace(payload, p=UNSET) if hasattr(payload, "p") else payload
        body: dict[str, Any] = {name: msgspec.to_builtins(inner)}
        if name == "metadata" and done is not None:
            body["amazon-bedrock-invocationMetrics"] = msgspec.to_builtins(_metrics(done, t0, first))
        yield _chunk(dumps(body))
