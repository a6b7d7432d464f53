"""Neutral types spoken between vendors and engines.

Vendors parse their wire JSON into a :class:`GenerateRequest` and render a
:class:`Completion` (or a stream of :class:`Chunk` followed by one Completion) back
into it. Engines never see vendor JSON; vendors never see engine internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Tool:
    """A function the caller offers the model: ``parameters`` is its JSON Schema."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ToolCall:
    """The model asking for one tool: ``arguments`` is the decoded JSON object."""

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    # The arguments' JSON text when it is not ``arguments`` written out (a content fault's
    # broken JSON); vendors whose wire carries text send this instead.
    raw: str | None = None


@dataclass(slots=True)
class Message:
    """One chat turn: role is ``system``, ``user``, ``assistant`` or ``tool``.

    An assistant turn may carry the ``tool_calls`` it made; a ``tool`` turn is one tool's
    result (``tool_call_id`` names the call, ``name`` the tool when the vendor says it).
    Engines only ever see the first three roles (see :func:`mockvendor.tools.plain_messages`).
    """

    role: str
    content: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None


@dataclass(slots=True)
class ResponseFormat:
    """Structured output: the answer must be JSON of this shape.

    ``kind`` is ``json_object`` (any JSON object; ``schema`` unused) or ``json_schema``
    (a value valid against ``schema``, a JSON Schema). ``name`` and ``strict`` are what the
    vendor was told (OpenAI's ``json_schema.name`` / ``strict``); engines only need ``schema``.
    """

    kind: str = "json_object"
    schema: dict[str, Any] | None = None
    name: str = ""
    strict: bool = False


@dataclass(slots=True)
class Reasoning:
    """Think before answering (Anthropic's ``thinking``, OpenAI's ``reasoning_effort`` /
    ``reasoning``, Gemini's ``thinkingConfig``): engines.thinking has the model write a
    thinking passage first, at most ``budget_tokens`` (or what ``effort`` allows), then the
    answer. ``include``: the vendor shows the thinking text (or a summary of it)."""

    effort: str = "medium"  # minimal, low, medium, high (vendors' words mapped to these)
    budget_tokens: int | None = None
    include: bool = False


@dataclass(slots=True)
class GenerateRequest:
    """What to generate. ``prompt`` set means raw completion (no chat template).

    ``response_format`` set asks for structured output (:class:`ResponseFormat`): the
    model's text is then JSON that the llama.cpp engine constrains token by token with a
    grammar, and that the echo engine answers with the schema's smallest valid instance.
    A schema the engine cannot enforce raises :class:`~mockvendor.errors.InvalidRequest`.
    """

    model: str
    messages: list[Message] = field(default_factory=list)
    prompt: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    stream: bool = False
    tools: list[Tool] = field(default_factory=list)
    # ``auto`` (the default when tools are given), ``none``, ``required`` (some tool) or
    # ``tool:<name>`` (that one); the vendor maps its own spelling to these.
    tool_choice: str = "auto"
    # Several calls in one answer allowed (OpenAI's parallel_tool_calls, Anthropic's
    # disable_parallel_tool_use negated): a request asking for several things gets a call each.
    parallel_tool_calls: bool = True
    # Count the prompt's tokens instead of answering (Anthropic's count_tokens, Gemini's
    # countTokens): the vendor then renders the count with ``render_count``.
    count_only: bool = False
    # Structured output (see ResponseFormat); None = free text.
    response_format: ResponseFormat | None = None
    # Embed these texts instead of answering (OpenAI's /v1/embeddings, Gemini's
    # embedContent): the vendor then renders the vectors with ``render_embeddings``.
    embed_input: list[str] | None = None
    # Several answers to one request (OpenAI's n, Gemini's candidateCount): engines.several
    # runs n copies side by side; ``choice`` numbers a copy, and sampling seeds it seed + choice.
    n: int = 1
    choice: int = 0
    # Repetition control, as llama.cpp's penalties sampler applies them (OpenAI's and Gemini's
    # presence and frequency penalties, -2..2) and a bias per token id of the model's vocabulary.
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    logit_bias: dict[int, float] = field(default_factory=dict)
    # What the images, audio and files in the prompt cost, by the vendor's billing rule
    # (mockvendor.media): added to the input tokens the model's tokenizer counts.
    media_tokens: int = 0
    # Log-probabilities of the answer's tokens: None = not asked (nothing computed); else how
    # many top alternatives per token (0..20) are wanted too. See engines/logprobs.py.
    logprobs: int | None = None
    # OpenAI legacy ``echo``: the answer's text starts with the prompt; with ``logprobs`` the
    # engine also scores the prompt's tokens (Completion.prompt_logprobs).
    echo_prompt: bool = False
    # Think first (engines.thinking); None = answer at once.
    reasoning: Reasoning | None = None
    # Engines may cache per-request work here (e.g. the tokenised prompt).
    engine_state: Any = None

    def last_user_text(self) -> str:
        """The text an echo answers: the raw prompt, or the last user message."""
        if self.prompt is not None:
            return self.prompt
        for m in reversed(self.messages):
            if m.role == "user":
                return m.content
        return ""


@dataclass(slots=True)
class Usage:
    """Token counts, measured with the answering model's own tokenizer."""

    input_tokens: int
    output_tokens: int
    # Of input_tokens, those whose work was reused from the engine's prefix cache (llama.cpp:
    # the KV of a prompt prefix an earlier request computed). Counted in the answering model's
    # tokenizer, like input_tokens; vendors report it as their cached-token fields.
    cached_tokens: int = 0
    # Of output_tokens, those spent thinking (engines.thinking).
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def cache_hit(self, step: int = 1) -> int:
        """cached_tokens as vendors report them (see :func:`reported_cache`)."""
        return reported_cache(self.cached_tokens, step)


CACHE_MINIMUM = 1024  # the vendors cache prompts from this many tokens on (OpenAI, Gemini, Anthropic)


def reported_cache(cached: int, step: int = 1) -> int:
    """Cached prompt tokens as a vendor reports them: none below CACHE_MINIMUM (vendors cache
    only long prompts), else rounded down to a multiple of ``step`` (OpenAI: 128)."""
    return 0 if cached < CACHE_MINIMUM else cached // step * step


@dataclass(slots=True)
class TokenLogprob:
    """One generated token and the model's log-probability of it (natural log, before
    temperature and penalties); ``top``: the most likely tokens at that step, descending."""

    id: int
    bytes: bytes
    logprob: float
    top: list[TokenLogprob] = field(default_factory=list)

    @property
    def token(self) -> str:
        """The token as text (``bytes:\\xe2...`` when it is part of a character, as OpenAI writes it)."""
        try:
            return self.bytes.decode("utf-8")
        except UnicodeDecodeError:
            return "bytes:" + "".join(f"\\x{b:02x}" for b in self.bytes)


@dataclass(slots=True)
class Chunk:
    """A piece of streamed text (``raw``: the upstream's own chunk, for passthrough).

    With ``tool_call`` set, ``text`` is a piece of that call's arguments JSON instead; the
    call's first chunk has ``text == ""`` (vendors open the call there: id and name).
    """

    text: str
    raw: Any = None
    tool_call: ToolCall | None = None
    tool_index: int = 0
    index: int = 0  # the choice it belongs to (n > 1)
    # With req.logprobs set: the tokens whose text starts in this chunk (possibly none).
    logprobs: list[TokenLogprob] | None = None
    # With req.echo_prompt and req.logprobs: the prompt's tokens, on a choice's first event.
    prompt_logprobs: list[TokenLogprob] | None = None
    thinking: bool = False  # a piece of the thinking passage, not of the answer (engines.thinking)


@dataclass(slots=True)
class Completion:
    """A finished answer.

    ``finish_reason`` is neutral: ``stop`` (end of turn), ``length`` (max_tokens
    reached), ``stop_sequence`` (then ``stop_sequence`` says which one),
    ``tool_calls`` (then ``tool_calls`` holds them and ``text`` is empty) or ``refusal``
    (the model declined; ``text`` is its words, which vendors put where they put refusals).
    """

    text: str
    usage: Usage
    finish_reason: str = "stop"
    stop_sequence: str | None = None
    latency_ms: float = 0.0
    model: str = ""
    raw: Any = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    # With n > 1: the other choices (1..n-1), each a Completion; ``usage`` then covers them all.
    choices: list[Completion] = field(default_factory=list)
    # With req.logprobs set: every token of ``text``, in order (None: not asked, or the engine
    # cannot say).
    logprobs: list[TokenLogprob] | None = None
    # With req.echo_prompt and req.logprobs: the prompt's tokens (the first one has no context:
    # vendors render it null), when the engine can score them.
    prompt_logprobs: list[TokenLogprob] | None = None
    # The thinking passage written before the answer (engines.thinking); "" when none.
    thinking: str = ""

    def all_choices(self) -> list[Completion]:
        return [self, *self.choices]
