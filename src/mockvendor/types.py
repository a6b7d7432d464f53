"""Neutral types spoken between vendors and engines.

Vendors parse their wire JSON into a :class:`GenerateRequest` and render a
:class:`Completion` (or a stream of :class:`Chunk` followed by one Completion) back
into it. Engines never see vendor JSON; vendors never see engine internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Message:
    """One chat turn: role is ``system``, ``user`` or ``assistant``."""

    role: str
    content: str


@dataclass(slots=True)
class GenerateRequest:
    """What to generate. ``prompt`` set means raw completion (no chat template)."""

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

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(slots=True)
class Chunk:
    """A piece of streamed text (``raw``: the upstream's own chunk, for passthrough)."""

    text: str
    raw: Any = None


@dataclass(slots=True)
class Completion:
    """A finished answer.

    ``finish_reason`` is neutral: ``stop`` (end of turn), ``length`` (max_tokens
    reached) or ``stop_sequence`` (then ``stop_sequence`` says which one).
    """

    text: str
    usage: Usage
    finish_reason: str = "stop"
    stop_sequence: str | None = None
    latency_ms: float = 0.0
    model: str = ""
    raw: Any = None
