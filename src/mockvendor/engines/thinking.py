"""Think, then answer (Anthropic's ``thinking``, OpenAI's reasoning models, Gemini's
``thinkingConfig``): the model first writes a thinking passage about the request, asked to
think step by step and capped by the request's budget or effort, then answers the request
itself. The passage's chunks are marked ``Chunk.thinking``; the Completion carries it in
``thinking``, and its usage counts the thinking tokens in ``output_tokens`` and again in
``reasoning_tokens``, as the vendors bill them. The answer's ``max_tokens`` is what the
thinking left of it (the vendors count thinking against it too).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from ..types import Chunk, Completion, GenerateRequest, Message, Usage
from .wrapping import Wrapping

# The embedded model is small: it thinks at most this many tokens, whatever the budget.
MAX_THINKING = 64
EFFORT_TOKENS = {"none": 0, "minimal": 8, "low": 16, "medium": 32, "high": 64}
INSTRUCTION = ("Before answering, think step by step about the user's request: what is asked, "
               "and how to answer it. Write only your thoughts, not the answer.")


def thinking_tokens(req: GenerateRequest) -> int:
    """How many tokens the model may think for ``req``."""
    r = req.reasoning
    if r is None:
        return 0
    cap = r.budget_tokens if r.budget_tokens is not None else EFFORT_TOKENS.get(r.effort, EFFORT_TOKENS["medium"])
    return max(0, min(cap, MAX_THINKING))


def _think_request(req: GenerateRequest, cap: int) -> GenerateRequest:
    if req.prompt is not None:
        return replace(req, prompt=f"{INSTRUCTION}\n\n{req.prompt}\n\nThoughts:", max_tokens=cap, tools=[],
                       response_format=None, stop=[], n=1, reasoning=None, engine_state=None)
    messages = list(req.messages)
    if messages and messages[0].role == "system":
        messages[0] = replace(messages[0], content=f"{messages[0].content}\n\n{INSTRUCTION}")
    else:
        messages.insert(0, Message("system", INSTRUCTION))
    return replace(req, messages=messages, max_tokens=cap, tools=[], tool_choice="auto", response_format=None,
                   stop=[], n=1, reasoning=None, engine_state=None)


class Thinking(Wrapping):
    """``base`` writes the thinking passage; ``inner`` (``base`` or a wrapper of it, such as
    a tool caller) answers."""

    name = "thinking"

    def __init__(self, base: Any, inner: Any) -> None:
        super().__init__(inner)
        self.base = base

    async def stream(self, req: GenerateRequest) -> AsyncIterator[Chunk | Completion]:
        cap = thinking_tokens(req)
        text, spent = "", 0
        if cap > 0:
            async for item in self.base.stream(_think_request(req, cap)):
                if isinstance(item, Completion):
                    text, spent = item.text, item.usage.output_tokens
                elif item.tool_call is None and item.text:
                    yield replace(item, thinking=True)
        answer = replace(req, reasoning=None, engine_state=None)
        if answer.max_tokens is not None:
            answer.max_tokens = max(1, answer.max_tokens - spent)
        async for item in self.inner.stream(answer):
            if isinstance(item, Completion):
                item.thinking = text.strip()
                item.usage = Usage(item.usage.input_tokens, item.usage.output_tokens + spent,
                                   cached_tokens=item.usage.cached_tokens, reasoning_tokens=spent)
            yield item
