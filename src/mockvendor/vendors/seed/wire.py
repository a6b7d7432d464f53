"""The seed vendors' bodies, declared once: parsing and the OpenAPI document come from here."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

MAX_PROMPT_CHARS = 200_000

Prompt = Annotated[str, Meta(min_length=1, max_length=MAX_PROMPT_CHARS, description="The user's prompt.")]
SystemPrompt = Annotated[str, Meta(max_length=MAX_PROMPT_CHARS, description="Optional system prompt.")]
MaxTokens = Annotated[int, Meta(ge=1, le=1_000_000, description="Most tokens to generate.")]
Temperature = Annotated[float, Meta(ge=0, le=2)]
TopP = Annotated[float, Meta(ge=0, le=1)]
Seed = Annotated[int, Meta(description="Same seed, same prompt: same text.")]
Stream = Annotated[bool, Meta(description="Answer as server-sent events.")]


# -- requests -------------------------------------------------------------------------------
class EchoRequest(Struct, kw_only=True):
    """Vendor E: the prompt to echo."""

    prompt: Prompt


class PromptRequest(EchoRequest, kw_only=True):
    """Vendors A and B: a prompt, an optional system prompt and the sampling fields."""

    system_prompt: SystemPrompt | None = None
    max_tokens: MaxTokens | None = None
    temperature: Temperature | None = None
    top_p: TopP | None = None
    seed: Seed | None = None
    stream: Stream | None = None


class PassthroughRequest(PromptRequest, kw_only=True):
    """Vendor O: as A, plus the OpenAI model to pass the request to."""

    model: Annotated[str, Meta(min_length=1, max_length=256, description="The OpenAI model.")] = "gpt-3.5-turbo"


# -- answers --------------------------------------------------------------------------------
class AnswerA(Struct):
    """Vendor A's answer: text, token counts (the model's own tokenizer) and latency."""

    outputText: str
    tokensIn: int
    tokensOut: int
    latencyMS: int


class StreamEndA(AnswerA):
    """Vendor A's last stream event: the whole answer, marked done."""

    done: bool = True


class DeltaA(Struct):
    delta: str


class MessageB(Struct):
    content: str


class ChoiceB(Struct):
    message: MessageB


class UsageB(Struct):
    input_tokens: int
    output_tokens: int


class AnswerB(Struct):
    """Vendor B's answer (OpenAI-like)."""

    choices: list[ChoiceB]
    usage: UsageB


class DeltaContentB(Struct, omit_defaults=True):
    content: str | None = None


class StreamChoiceB(Struct, omit_defaults=True):
    delta: DeltaContentB
    finish_reason: str | None = None


class StreamChunkB(Struct, omit_defaults=True):
    choices: list[StreamChoiceB]
    usage: UsageB | None = None


class AnswerE(Struct):
    """Vendor E's answer: ``You entered`` and the prompt."""

    response: str


class ErrorDetail(Struct):
    type: str
    message: str


class ErrorBody(Struct, omit_defaults=True):
    """Every seed vendor's error; B adds ``retryAfterMs`` to its 429s."""

    error: ErrorDetail
    retryAfterMs: int | None = None
