"""A tiny application under test: a support agent that asks an LLM, runs the tool the model
calls, answers with what the model says next; the OpenAI SDK retries what it may, and when
OpenAI keeps failing the agent falls back to Anthropic."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import openai

TOOLS = [{"type": "function", "function": {
    "name": "issue_refund", "description": "Refund an order",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}}]


class Agent:
    def __init__(self, openai_url: str, anthropic_url: str) -> None:
        self.primary = openai.OpenAI(base_url=openai_url, api_key="sk-app", max_retries=2)
        self.fallback = anthropic.Anthropic(base_url=anthropic_url, api_key="sk-ant-app", max_retries=0)
        self.refunds: list[str] = []

    def issue_refund(self, order_id: str) -> str:
        self.refunds.append(order_id)
        return f"order {order_id} refunded"

    def run(self, question: str) -> str:
        try:
            return self._openai(question)
        except (openai.APIStatusError, openai.APIConnectionError):
            msg = self.fallback.messages.create(model="claude-haiku-4-5", max_tokens=200,
                                                messages=[{"role": "user", "content": question}])
            return "".join(b.text for b in msg.content if b.type == "text")

    def _openai(self, question: str) -> str:
        messages: list[Any] = [{"role": "user", "content": question}]
        for _ in range(5):  # the agent loop: call tools until the model answers in text
            out = self.primary.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
            msg = out.choices[0].message
            if not msg.tool_calls:
                return msg.content or ""
            messages.append(msg.model_dump(exclude_none=True))
            for call in msg.tool_calls:
                result = self.issue_refund(**json.loads(call.function.arguments))
                messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
        raise RuntimeError("the model never answered in text")
