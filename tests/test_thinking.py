"""Reasoning written by the embedded model (engines.thinking), as each vendor shows it,
through the official SDKs over real sockets: Anthropic's thinking blocks (signed, streamed
as thinking_delta / signature_delta), its checks of budget_tokens and the sampling knobs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import types as genai_types

from .helpers import ServerProcess, assert_vendor_error, running

CLAUDE = "claude-sonnet-4-5"
THINK = {"type": "enabled", "budget_tokens": 1024}
QUESTION = [{"role": "user", "content": "Why is the sky blue?"}]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    """A real server on the embedded model."""
    yield from running({"MOCKVENDOR_FAULTS": "off", "OPENAI_API_KEY": ""})


def claude(server: ServerProcess) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)


def think(server: ServerProcess, seed: int = 5, **kw: Any) -> anthropic.types.Message:
    args: dict[str, Any] = {"model": CLAUDE, "max_tokens": 1100, "thinking": THINK, "messages": QUESTION,
                            "extra_body": {"seed": seed}}
    return claude(server).messages.create(**{**args, **kw})


def test_anthropic_thinking_block_first(server: ServerProcess) -> None:
    m = think(server)
    assert [b.type for b in m.content] == ["thinking", "text"]
    block = m.content[0]
    assert isinstance(block, anthropic.types.ThinkingBlock)
    assert block.thinking.strip() and block.signature
    assert m.content[1].text.strip()
    # The thinking is the model's: another seed thinks otherwise; the same seed the same.
    again = think(server)
    assert again.content[0].thinking == block.thinking and again.content[0].signature == block.signature
    other = think(server, seed=6)
    assert other.content[0].thinking != block.thinking and other.content[0].signature != block.signature
    # Thinking counts as output: more than the answer's own tokens.
    plain = claude(server).messages.create(model=CLAUDE, max_tokens=1100, messages=QUESTION,
                                           extra_body={"seed": 5})
    assert [b.type for b in plain.content] == ["text"]
    assert m.usage.output_tokens > len(m.content[1].text.split()) // 2


def test_anthropic_thinking_streamed(server: ServerProcess) -> None:
    with claude(server).messages.stream(model=CLAUDE, max_tokens=1100, thinking=THINK, messages=QUESTION,
                                        extra_body={"seed": 5}) as stream:
        kinds = [(ev.type, getattr(getattr(ev, "delta", None), "type", None)) for ev in stream]
        final = stream.get_final_message()
    deltas = [d for t, d in kinds if t == "content_block_delta"]
    assert "thinking_delta" in deltas and "signature_delta" in deltas and "text_delta" in deltas
    first_text = deltas.index("text_delta")
    assert deltas.index("signature_delta") < first_text and deltas.count("signature_delta") == 1
    assert all(d != "thinking_delta" for d in deltas[first_text:])
    # The streamed message is the one answered whole.
    whole = think(server)
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == whole.content[0].thinking
    assert final.content[0].signature == whole.content[0].signature
    assert final.content[1].text == whole.content[1].text
    assert final.usage.output_tokens == whole.usage.output_tokens


def test_anthropic_thinking_sent_back(server: ServerProcess) -> None:
    m = think(server)
    turns = [*QUESTION, {"role": "assistant", "content": [b.model_dump() for b in m.content]},
             {"role": "user", "content": "And at sunset?"}]
    nxt = think(server, messages=turns)
    assert nxt.content[0].type == "thinking"
    redacted = [*QUESTION, {"role": "assistant", "content": [{"type": "redacted_thinking", "data": "ZW5jcnlwdGVk"},
                                                              {"type": "text", "text": "Scattering."}]},
                {"role": "user", "content": "More?"}]
    assert think(server, messages=redacted).content[-1].type == "text"


def test_anthropic_display_omitted_and_disabled(server: ServerProcess) -> None:
    m = think(server, thinking={"type": "enabled", "budget_tokens": 1024, "display": "omitted"})
    assert m.content[0].type == "thinking" and m.content[0].thinking == "" and m.content[0].signature
    off = think(server, thinking={"type": "disabled"})
    assert [b.type for b in off.content] == ["text"]


def test_anthropic_thinking_with_tools(server: ServerProcess) -> None:
    tool = {"name": "get_weather", "description": "Weather in a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
    m = think(server, tools=[tool], messages=[{"role": "user", "content": "What is the weather in Paris?"}])
    assert [b.type for b in m.content] == ["thinking", "tool_use"] and m.stop_reason == "tool_use"
    with claude(server).messages.stream(model=CLAUDE, max_tokens=1100, thinking=THINK, tools=[tool],
                                        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
                                        extra_body={"seed": 5}) as stream:
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "tool_use"]
    assert final.content[0].signature == m.content[0].signature
    # The tool loop goes on: the thinking and the call sent back, then the result.
    call = m.content[1]
    turns = [{"role": "user", "content": "What is the weather in Paris?"},
             {"role": "assistant", "content": [b.model_dump() for b in m.content]},
             {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "Sunny, 21C"}]}]
    after = think(server, tools=[tool], messages=turns)
    assert [b.type for b in after.content] == ["thinking", "text"] and after.stop_reason in ("end_turn", "max_tokens")


@pytest.mark.parametrize(
    ("extra", "mentions"),
    [
        ({"thinking": {"type": "enabled", "budget_tokens": 1023}}, "budget_tokens"),
        ({"thinking": {"type": "enabled", "budget_tokens": 2000}}, "greater than `thinking.budget_tokens`"),
        ({"temperature": 0.5}, "temperature"),
        ({"top_k": 5}, "top_k"),
        ({"top_p": 0.5}, "top_p"),
        ({"tools": [{"name": "f", "input_schema": {"type": "object"}}], "tool_choice": {"type": "any"}},
         "tool_choice"),
    ],
)
def test_anthropic_thinking_checks(server: ServerProcess, extra: dict[str, Any], mentions: str) -> None:
    body = {"model": CLAUDE, "max_tokens": 1100, "thinking": THINK, "messages": QUESTION, **extra}
    r = httpx.post(server.url + "/v1/messages", json=body, timeout=60)
    assert_vendor_error("anthropic", r, 400, mentions=mentions)


# -- OpenAI chat: reasoning models think, hidden; usage counts the reasoning tokens ----------------
def gpt(server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)


def test_openai_reasoning_tokens(server: ServerProcess) -> None:
    ask = {"model": "o4-mini", "messages": QUESTION, "max_completion_tokens": 120, "seed": 5}
    r = gpt(server).chat.completions.create(reasoning_effort="low", **ask)
    details = r.usage.completion_tokens_details
    assert details is not None and 0 < details.reasoning_tokens <= 16
    assert r.usage.completion_tokens > details.reasoning_tokens
    assert r.choices[0].message.content
    plain = gpt(server).chat.completions.create(**ask)
    assert plain.usage.completion_tokens_details is None  # no reasoning asked: none done
    # Streamed: the same answer, the reasoning text never shown, its tokens counted.
    stream = gpt(server).chat.completions.create(reasoning_effort="low", stream=True,
                                                 stream_options={"include_usage": True}, **ask)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == r.choices[0].message.content
    assert chunks[-1].usage.completion_tokens_details.reasoning_tokens == details.reasoning_tokens


def test_openai_reasoning_effort_refused_by_other_models(server: ServerProcess) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        gpt(server).chat.completions.create(model="gpt-4o", messages=QUESTION, reasoning_effort="low")
    assert e.value.code == "unsupported_parameter" and e.value.param == "reasoning_effort"
    assert "reasoning_effort" in e.value.message


# -- OpenAI Responses: a reasoning item before the message, its summary the model's thinking -----
def test_responses_reasoning_summary(server: ServerProcess) -> None:
    ask: dict[str, Any] = {"model": "o4-mini", "input": "Why is the sky blue?", "max_output_tokens": 120,
                           "extra_body": {"seed": 5}}
    r = gpt(server).responses.create(reasoning={"effort": "low", "summary": "auto"}, **ask)
    assert [o.type for o in r.output] == ["reasoning", "message"]
    item = r.output[0]
    assert len(item.summary) == 1 and item.summary[0].text.strip()
    assert r.output_text and r.reasoning.effort == "low" and r.reasoning.summary == "auto"
    assert 0 < r.usage.output_tokens_details.reasoning_tokens < r.usage.output_tokens
    hidden = gpt(server).responses.create(reasoning={"effort": "low"}, **ask)
    assert hidden.output[0].type == "reasoning" and hidden.output[0].summary == []
    assert hidden.output_text == r.output_text
    # Streamed: the summary's events, then the message; the final response the same.
    with gpt(server).responses.stream(reasoning={"effort": "low", "summary": "auto"}, **ask) as stream:
        events = list(stream)
    kinds = [ev.type for ev in events]
    assert kinds[-1] == ("response.completed" if r.status == "completed" else "response.incomplete")
    final = events[-1].response
    order = ["response.output_item.added", "response.reasoning_summary_part.added",
             "response.reasoning_summary_text.delta", "response.reasoning_summary_text.done",
             "response.reasoning_summary_part.done", "response.output_item.done", "response.output_text.delta"]
    assert [k for k in kinds if k in order][:3] == order[:3]
    positions = [kinds.index(k) for k in order]
    assert positions == sorted(positions)
    assert final.output[0].summary[0].text == item.summary[0].text and final.output_text == r.output_text
    assert final.usage.output_tokens_details.reasoning_tokens == r.usage.output_tokens_details.reasoning_tokens
    # The reasoning item sent back in the next turn's input is accepted.
    turns = [{"role": "user", "content": "Why is the sky blue?"}, item.model_dump(exclude_none=True),
             {"role": "assistant", "content": r.output_text}, {"role": "user", "content": "And sunsets?"}]
    nxt = gpt(server).responses.create(model="o4-mini", input=turns, reasoning={"effort": "low"},
                                       max_output_tokens=60)
    assert nxt.output[0].type == "reasoning"
    with pytest.raises(openai.BadRequestError) as e:
        gpt(server).responses.create(model="gpt-4o", input="hi", reasoning={"effort": "low"})
    assert e.value.code == "unsupported_parameter" and "reasoning.effort" in e.value.message


# -- Gemini: thinkingConfig; thought parts (thought: true) before the answer with includeThoughts ----
def gemini_config(**thinking: Any) -> genai_types.GenerateContentConfig:
    return genai_types.GenerateContentConfig(max_output_tokens=80, seed=5,
                                             thinking_config=genai_types.ThinkingConfig(**thinking))


def test_gemini_thoughts(server: ServerProcess) -> None:
    ge = genai.Client(api_key="AIza-test", http_options=genai_types.HttpOptions(base_url=server.url))
    ask = {"model": "gemini-2.5-flash", "contents": "Why is the sky blue?"}
    r = ge.models.generate_content(config=gemini_config(include_thoughts=True, thinking_budget=24), **ask)
    parts = r.candidates[0].content.parts
    assert parts[0].thought is True and parts[0].text.strip()
    assert all(not p.thought for p in parts[1:]) and r.text
    usage = r.usage_metadata
    assert 0 < usage.thoughts_token_count <= 24
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count \
        + usage.thoughts_token_count
    hidden = ge.models.generate_content(config=gemini_config(thinking_budget=24), **ask)
    assert all(not p.thought for p in hidden.candidates[0].content.parts)
    assert hidden.usage_metadata.thoughts_token_count == usage.thoughts_token_count and hidden.text == r.text
    off = ge.models.generate_content(config=gemini_config(thinking_budget=0), **ask)
    assert off.usage_metadata.thoughts_token_count is None
    # Streamed: the thoughts first, then the answer; the same as the whole.
    pieces = list(ge.models.generate_content_stream(config=gemini_config(include_thoughts=True, thinking_budget=24),
                                                    **ask))
    flags = [bool(p.thought) for c in pieces for p in c.candidates[0].content.parts if p.text]
    assert flags[0] is True and False in flags and flags == sorted(flags, reverse=True)
    thoughts = "".join(p.text for c in pieces for p in c.candidates[0].content.parts if p.thought)
    answer = "".join(p.text or "" for c in pieces for p in c.candidates[0].content.parts if not p.thought)
    assert thoughts.strip() == parts[0].text and answer == r.text
    assert pieces[-1].usage_metadata.thoughts_token_count == usage.thoughts_token_count
