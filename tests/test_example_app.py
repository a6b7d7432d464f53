"""The pytest plugin as a user meets it: testing a small agent (a tool, retries, a fallback)
with the ``mockvendor`` fixture; no server is started by hand."""

from __future__ import annotations

import pytest

from mockvendor.pytest_plugin import MockVendor

from .example_app.agent import Agent


def agent(mv: MockVendor) -> Agent:
    return Agent(mv.base_url("openai"), mv.base_url("anthropic"))


def test_the_agent_calls_the_refund_tool_then_answers(mockvendor: MockVendor) -> None:
    mockvendor.rule(user={"regex": r"refund order (\d+)"}, tool_result=False,
                    tool_calls=[{"name": "issue_refund", "arguments": {"order_id": "{{1}}"}}])
    mockvendor.rule(tool_result={"regex": r"order (\d+) refunded"}, text="Done: order {{1}} is refunded.")
    app = agent(mockvendor)
    assert app.run("Please refund order 42") == "Done: order 42 is refunded."
    assert app.refunds == ["42"]
    assert [r["rule"] for r in mockvendor.requests()] == ["rule-1", "rule-2"]


def test_the_sdk_retries_a_503(mockvendor: MockVendor) -> None:
    mockvendor.fail({"fault": "503", "retry_after_ms": 50})
    mockvendor.rule(user="hello", text="Hi there!")
    assert agent(mockvendor).run("hello") == "Hi there!"
    assert [r["status"] for r in mockvendor.requests()] == [503, 200]
    report = mockvendor.retries()
    assert report["callers"], report


def test_the_agent_falls_back_when_openai_keeps_failing(mockvendor: MockVendor) -> None:
    mockvendor.fail(*[{"fault": "503", "retry_after_ms": 20}] * 3, vendor="openai")
    mockvendor.rule(vendor="anthropic", text="Answered by the fallback.")
    assert agent(mockvendor).run("hello") == "Answered by the fallback."
    assert [(r["vendor"], r["status"]) for r in mockvendor.requests()] == [
        ("openai", 503), ("openai", 503), ("openai", 503), ("anthropic", 200)]


@pytest.mark.mockvendor_cassette("example_refund")
def test_a_recorded_conversation_replays_offline(mockvendor: MockVendor) -> None:
    # tests/cassettes/example_refund.yaml was recorded with --mockvendor-record=all from a
    # vendor (a mockvendor on the embedded model stood in); here it replays, no vendor needed.
    app = agent(mockvendor)
    answer = app.run("Please refund order A7")
    assert app.refunds == ["A7"]
    assert answer
    assert [r["rule"][:3] for r in mockvendor.requests()] == ["rec", "rec"]  # recorded, or replayed
