"""The Bedrock-compatible API against a real server process over real sockets, through boto3's
``bedrock-runtime`` client (SigV4-signed, its own retry loop and event stream decoder) and
the Anthropic SDK's ``AnthropicBedrock``: Converse and ConverseStream, InvokeModel and
InvokeModelWithResponseStream with Claude's body, tool use, AWS's error names, simulated
faults before and during a stream, and the event stream framing read by botocore's decoder."""

from __future__ import annotations

import base64
import itertools
import json
import random
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import boto3
import botocore.eventstream
import httpx
import pytest
import urllib3
from botocore.config import Config
from botocore.exceptions import ClientError, EventStreamError

from mockvendor.errors import ModelNotFound, Overloaded, RequestTimeout
from mockvendor.pytest_plugin import MockVendor
from mockvendor.vendors.bedrock import eventstream
from mockvendor.vendors.bedrock.vendor import error_code

from .helpers import ServerProcess, assert_vendor_error, serving

CLAUDE = "anthropic.claude-3-5-sonnet-20240620-v1:0"
PROMPT = "Write one short sentence about the sea."
ECHO = "echo"  # the echo engine's own name: answers the last user text, word by word
WEATHER = {
    "toolSpec": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}},
                                 "required": ["city"]}},
    }
}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with serving() as s:
        yield s


def client(server: ServerProcess, *, attempts: int = 1, key: str = "AKIDEXAMPLE",
           headers: Callable[[int], dict[str, str]] | None = None, **config: Any) -> Any:
    """boto3's client on our server; ``headers(n)`` adds headers to the n-th attempt (from 0)."""
    c = boto3.client(
        "bedrock-runtime", region_name="us-east-1", endpoint_url=server.url,
        aws_access_key_id=key, aws_secret_access_key="not-a-real-secret",
        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}, **config),
    )
    if headers is not None:
        count = itertools.count()

        def add(request: Any, **_: Any) -> None:  # runs before each attempt is signed
            for name, value in headers(next(count)).items():
                request.headers[name] = value

        c.meta.events.register("before-sign.bedrock-runtime.*", add)
    return c


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"text": text}]}


def claude_body(text: str = PROMPT, **extra: Any) -> str:
    return json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 16,
                       "messages": [{"role": "user", "content": text}], **extra})


def always(fault: str, **more: str) -> Callable[[int], dict[str, str]]:
    return lambda n: {"x-mockvendor-fault": fault, **more}


# -- Converse on the embedded model --------------------------------------------------------
def test_converse_and_stream_on_the_real_model(server: ServerProcess) -> None:
    c = client(server)
    args: dict[str, Any] = {
        "modelId": CLAUDE, "system": [{"text": "You are terse."}], "messages": [user(PROMPT)],
        "inferenceConfig": {"maxTokens": 8, "temperature": 0.7}, "additionalModelRequestFields": {"seed": 3},
    }
    plain = c.converse(**args)
    assert plain["ResponseMetadata"]["HTTPStatusCode"] == 200 and plain["ResponseMetadata"]["RequestId"]
    message = plain["output"]["message"]
    assert message["role"] == "assistant" and message["content"][0]["text"].strip()
    assert plain["stopReason"] in ("end_turn", "max_tokens")
    usage = plain["usage"]
    assert usage["inputTokens"] > 5 and 0 < usage["outputTokens"] <= 8
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    assert isinstance(plain["metrics"]["latencyMs"], int) and plain["metrics"]["latencyMs"] >= 0

    events = list(c.converse_stream(**args)["stream"])
    names = [next(iter(e)) for e in events]
    assert names[0] == "messageStart" and names[-3:] == ["contentBlockStop", "messageStop", "metadata"], names
    assert set(names[1:-3]) == {"contentBlockDelta"} and len(names) > 5, names
    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events[1:-3])
    assert text == message["content"][0]["text"]  # the same seed: the same words, streamed
    assert events[-2]["messageStop"]["stopReason"] == plain["stopReason"]
    assert events[-1]["metadata"]["usage"] == usage

    short = c.converse(**{**args, "inferenceConfig": {"maxTokens": 3}})
    assert short["stopReason"] == "max_tokens" and short["usage"]["outputTokens"] == 3


@pytest.mark.parametrize("model", [
    "us.anthropic.claude-sonnet-4-20250514-v1:0",
    "amazon.nova-lite-v1:0",
    "meta.llama3-8b-instruct-v1:0",
    "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0",
])
def test_bedrock_model_ids_are_answered(server: ServerProcess, model: str) -> None:
    r = client(server).converse(modelId=model, messages=[user(PROMPT)], inferenceConfig={"maxTokens": 2})
    assert r["usage"]["outputTokens"] <= 2 and r["output"]["message"]["content"][0]["text"]


def test_unknown_model_is_a_validation_exception(server: ServerProcess) -> None:
    with pytest.raises(ClientError) as e:
        client(server).converse(modelId="acme.nothing-v1:0", messages=[user(PROMPT)])
    assert e.value.response["Error"] == {"Code": "ValidationException",
                                         "Message": "The provided model identifier is invalid."}
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


# -- tools -------------------------------------------------------------------------------------
def test_tool_use_round_trip(server: ServerProcess) -> None:
    c = client(server)
    tools = {"tools": [WEATHER], "toolChoice": {"auto": {}}}
    question = user("What is the weather in Paris?")
    first = c.converse(modelId=ECHO, messages=[question], toolConfig=tools)
    assert first["stopReason"] == "tool_use"
    (block,) = [b for b in first["output"]["message"]["content"] if "toolUse" in b]
    call = block["toolUse"]
    assert call["name"] == "get_weather" and call["toolUseId"].startswith("tooluse_")
    assert isinstance(call["input"]["city"], str) and set(call["input"]) <= {"city"}
    result = {"role": "user", "content": [{"toolResult": {
        "toolUseId": call["toolUseId"], "content": [{"json": {"celsius": 21, "sky": "clear"}}]}}]}
    second = c.converse(modelId=ECHO, messages=[question, first["output"]["message"], result], toolConfig=tools)
    assert second["stopReason"] == "end_turn"
    assert second["output"]["message"]["content"][0]["text"].strip()

    # Streamed: the call opens its block with contentBlockStart, its input comes as JSON pieces.
    events = list(c.converse_stream(modelId=ECHO, messages=[question], toolConfig={
        "tools": [WEATHER], "toolChoice": {"tool": {"name": "get_weather"}}})["stream"])
    (start,) = [e["contentBlockStart"] for e in events if "contentBlockStart" in e]
    assert start["start"]["toolUse"]["name"] == "get_weather"
    pieces = [e["contentBlockDelta"]["delta"]["toolUse"]["input"] for e in events if "contentBlockDelta" in e
              and e["contentBlockDelta"]["contentBlockIndex"] == start["contentBlockIndex"]]
    assert isinstance(json.loads("".join(pieces))["city"], str)
    assert next(e["messageStop"] for e in events if "messageStop" in e)["stopReason"] == "tool_use"


@pytest.mark.parametrize(("fault", "stop"), [
    ("invalid-json", "malformed_tool_use"),  # Bedrock's own word for a model's broken tool JSON
    ("unknown-tool", "tool_use"),
    ("refusal", "content_filtered"),
])
def test_content_faults_in_bedrocks_words(server: ServerProcess, fault: str, stop: str) -> None:
    c = client(server, headers=always(fault))
    args = {"modelId": ECHO, "messages": [user("What is the weather in Paris?")], "toolConfig": {"tools": [WEATHER]}}
    assert c.converse(**args)["stopReason"] == stop
    events = list(c.converse_stream(**args)["stream"])
    assert next(e["messageStop"] for e in events if "messageStop" in e)["stopReason"] == stop
    if fault == "invalid-json":  # the streamed pieces are the broken JSON itself
        pieces = "".join(e["contentBlockDelta"]["delta"]["toolUse"]["input"] for e in events
                         if "toolUse" in e.get("contentBlockDelta", {}).get("delta", {}))
        with pytest.raises(ValueError):
            json.loads(pieces)


def test_a_tool_use_must_be_answered(server: ServerProcess) -> None:
    c = client(server)
    call = {"role": "assistant", "content": [{"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather",
                                                          "input": {"city": "Paris"}}}]}
    with pytest.raises(ClientError) as e:
        c.converse(modelId=ECHO, messages=[user("Weather?"), call, user("Well?")], toolConfig={"tools": [WEATHER]})
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "tooluse_1" in e.value.response["Error"]["Message"]


# -- InvokeModel with Claude's body ---------------------------------------------------------
def test_invoke_model_answers_anthropic_json(server: ServerProcess) -> None:
    r = client(server).invoke_model(modelId=ECHO, body=claude_body(), contentType="application/json")
    assert r["contentType"] == "application/json"
    body = json.loads(r["body"].read())
    assert body["type"] == "message" and body["role"] == "assistant" and body["id"].startswith("msg_")
    assert body["content"] == [{"type": "text", "text": PROMPT}]  # the echo engine answers the prompt
    assert body["stop_reason"] == "end_turn" and body["stop_sequence"] is None
    headers = r["ResponseMetadata"]["HTTPHeaders"]
    assert int(headers["x-amzn-bedrock-input-token-count"]) == body["usage"]["input_tokens"] > 0
    assert int(headers["x-amzn-bedrock-output-token-count"]) == body["usage"]["output_tokens"] > 0


def test_invoke_model_with_response_stream(server: ServerProcess) -> None:
    r = client(server).invoke_model_with_response_stream(modelId=ECHO, body=claude_body())
    assert r["contentType"] == "application/json"
    events = [json.loads(e["chunk"]["bytes"]) for e in r["body"]]
    types = [e["type"] for e in events]
    assert types[:2] == ["message_start", "content_block_start"], types
    assert types[-3:] == ["content_block_stop", "message_delta", "message_stop"], types
    assert "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta") == PROMPT
    metrics = events[-1]["amazon-bedrock-invocationMetrics"]
    assert metrics["outputTokenCount"] == events[-2]["usage"]["output_tokens"] > 0
    assert metrics["inputTokenCount"] == events[0]["message"]["usage"]["input_tokens"] > 0


def test_invoke_model_says_which_body_it_takes(server: ServerProcess) -> None:
    mistral = {"prompt": "<s>[INST] Hi [/INST]", "max_tokens": 8}
    with pytest.raises(ClientError) as e:
        client(server).invoke_model(modelId="mistral.mistral-7b-instruct-v0:2", body=json.dumps(mistral))
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "Claude's Anthropic Messages body" in str(e.value) and "Converse" in str(e.value)


# -- InvokeModel with Titan's, Llama's and Nova's own bodies (on the embedded model) -------------
TITAN, LLAMA, NOVA = "amazon.titan-text-express-v1", "meta.llama3-8b-instruct-v1:0", "us.amazon.nova-lite-v1:0"


def test_titan_text_body_plain_and_streamed(server: ServerProcess) -> None:
    body = json.dumps({"inputText": "User: Write one word about the sea.\nBot:",
                       "textGenerationConfig": {"maxTokenCount": 6, "temperature": 0}})
    answer = json.loads(client(server).invoke_model(modelId=TITAN, body=body)["body"].read())
    (result,) = answer["results"]
    assert set(answer) == {"inputTextTokenCount", "results"} and answer["inputTextTokenCount"] > 5
    assert result["outputText"] and 0 < result["tokenCount"] <= 6
    assert result["completionReason"] in ("FINISH", "LENGTH")
    chunks = [json.loads(e["chunk"]["bytes"]) for e in client(server).invoke_model_with_response_stream(
        modelId=TITAN, body=body)["body"]]
    assert "".join(c["outputText"] for c in chunks) == result["outputText"]  # greedy: the same words
    assert chunks[0]["inputTextTokenCount"] == answer["inputTextTokenCount"]
    assert [c["completionReason"] for c in chunks[:-1]] == [None] * (len(chunks) - 1)
    assert chunks[-1]["completionReason"] == result["completionReason"]
    assert chunks[-1]["totalOutputTextTokenCount"] == result["tokenCount"]
    assert chunks[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"] == result["tokenCount"]


def test_llama_body_plain_and_streamed(server: ServerProcess) -> None:
    prompt = ("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\nSay hi.<|eot_id|>"
              "<|start_header_id|>assistant<|end_header_id|>\n")
    body = json.dumps({"prompt": prompt, "max_gen_len": 6, "temperature": 0})
    answer = json.loads(client(server).invoke_model(modelId=LLAMA, body=body)["body"].read())
    assert answer["generation"] and answer["stop_reason"] in ("stop", "length")
    assert 0 < answer["generation_token_count"] <= 6 and answer["prompt_token_count"] > 5
    chunks = [json.loads(e["chunk"]["bytes"]) for e in client(server).invoke_model_with_response_stream(
        modelId=LLAMA, body=body)["body"]]
    assert "".join(c["generation"] for c in chunks) == answer["generation"]
    assert chunks[0]["prompt_token_count"] == answer["prompt_token_count"]
    assert chunks[-1]["stop_reason"] == answer["stop_reason"]
    assert chunks[-1]["amazon-bedrock-invocationMetrics"]["inputTokenCount"] == answer["prompt_token_count"]
    with pytest.raises(ClientError) as e:
        client(server).invoke_model(modelId=LLAMA, body=json.dumps({"prompt": "x", "max_tokens": 5}))
    assert "max_tokens" in e.value.response["Error"]["Message"]


def test_nova_body_plain_and_streamed(server: ServerProcess) -> None:
    body = json.dumps({"schemaVersion": "messages-v1", "system": [{"text": "Be brief."}],
                       "messages": [user("Say hello.")], "inferenceConfig": {"maxTokens": 6, "temperature": 0}})
    answer = json.loads(client(server).invoke_model(modelId=NOVA, body=body)["body"].read())
    (part,) = answer["output"]["message"]["content"]
    assert answer["output"]["message"]["role"] == "assistant" and part["text"]
    assert answer["stopReason"] in ("end_turn", "max_tokens") and 0 < answer["usage"]["outputTokens"] <= 6
    chunks = [json.loads(e["chunk"]["bytes"]) for e in client(server).invoke_model_with_response_stream(
        modelId=NOVA, body=body)["body"]]
    kinds = [next(iter(c)) for c in chunks]
    assert kinds[0] == "messageStart" and kinds[-3:] == ["contentBlockStop", "messageStop", "metadata"], kinds
    assert "".join(c["contentBlockDelta"]["delta"]["text"] for c in chunks if "contentBlockDelta" in c) == part["text"]
    assert chunks[-2]["messageStop"]["stopReason"] == answer["stopReason"]
    assert chunks[-1]["metadata"]["usage"] == answer["usage"]
    assert chunks[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"] == answer["usage"]["outputTokens"]
    assert all("p" not in c[k] for c, k in zip(chunks, kinds, strict=True))


@pytest.mark.parametrize(("body", "words"), [
    ({"model": CLAUDE}, "extraneous key [model] is not permitted"),
    ({"stream": True}, "extraneous key [stream] is not permitted"),
    ({"messages": [{"role": "user", "content": []}]}, "#/messages/0/content: expected minimum item count: 1"),
    ({"temperature": 1.5}, "#/temperature: 1.5 is not less or equal to 1"),
    ({"anthropic_version": None}, "anthropic_version"),
    ({"max_tokens": 0}, "#/max_tokens: 0 is not greater or equal to 1"),
])
def test_invoke_model_refuses_what_bedrock_refuses(server: ServerProcess, body: dict[str, Any], words: str) -> None:
    sent = {**json.loads(claude_body()), **body}
    sent = {k: v for k, v in sent.items() if v is not None}
    with pytest.raises(ClientError) as e:
        client(server).invoke_model(modelId=CLAUDE, body=json.dumps(sent))
    err = e.value.response["Error"]
    assert err["Code"] == "ValidationException" and words in err["Message"], err
    assert err["Message"].startswith("Malformed input request: ")


# -- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("fault", "code", "status"), [
    ("400", "ValidationException", 400),
    ("403", "AccessDeniedException", 403),
    ("404", "ResourceNotFoundException", 404),
    ("408", "ModelTimeoutException", 408),
    ("429", "ThrottlingException", 429),
    ("500", "InternalServerException", 500),
    ("503", "ServiceUnavailableException", 503),
    # Forced statuses stay as forced; the name is the nearest Bedrock has.
    ("overloaded", "ServiceUnavailableException", 529),
    ("quota", "ServiceQuotaExceededException", 429),
    ("401", "UnrecognizedClientException", 401),
])
def test_each_error_is_botocores_client_error(server: ServerProcess, fault: str, code: str, status: int) -> None:
    with pytest.raises(ClientError) as e:
        client(server, headers=always(fault)).converse(modelId=ECHO, messages=[user(PROMPT)])
    resp = e.value.response
    assert resp["Error"]["Code"] == code and resp["Error"]["Message"].startswith("Simulated")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == status
    assert resp["ResponseMetadata"]["HTTPHeaders"]["x-mockvendor-fault"]


PNG = {"format": "png", "source": {"bytes": "aGk="}}


@pytest.mark.parametrize(("body", "mentions"), [
    ({}, "start with a user message"),
    ({"messages": [{"role": "assistant", "content": [{"text": "Hi"}]}]}, "start with a user message"),
    ({"messages": [user("a"), user("b")]}, "alternate between user and assistant"),
    ({"messages": [user("Hi")], "inferenceConfig": {"temperature": 2}}, "inferenceConfig.temperature"),
    ({"messages": [{"role": "user", "content": [{"text": "a", "image": PNG}]}]}, "exactly one"),
    ({"messages": [{"role": "system", "content": [{"text": "a"}]}]}, "messages.1.member.role"),
    ({"messages": [user("Hi")], "toolConfig": {"tools": []}}, "toolConfig.tools"),
    ({"messages": [user("Hi")], "toolConfig": {"tools": [WEATHER], "toolChoice": {"tool": {"name": "nope"}}}},
     "nope"),
])
def test_bad_converse_bodies(server: ServerProcess, body: dict[str, Any], mentions: str) -> None:
    r = httpx.post(f"{server.url}/model/{ECHO}/converse", json=body)
    assert_vendor_error("bedrock", r, 400, mentions=mentions)
    assert r.headers["x-amzn-errortype"] == "ValidationException"


def attempts_of(server: ServerProcess, test_id: str) -> list[dict[str, Any]]:
    r = httpx.get(server.url + "/admin/requests", params={"test_id": test_id})
    return sorted(r.json()["data"], key=lambda rec: rec["time"])


def test_throttling_is_retried_by_boto3(server: ServerProcess) -> None:
    # Throttled on every attempt: boto3's standard mode tries three times, then raises.
    test_id = uuid.uuid4().hex
    c = client(server, attempts=3, headers=always("rate-limit", **{"x-mockvendor-test-id": test_id}))
    with pytest.raises(ClientError) as e:
        c.converse(modelId=ECHO, messages=[user(PROMPT)])
    assert e.value.response["Error"]["Code"] == "ThrottlingException"
    assert e.value.response["ResponseMetadata"]["RetryAttempts"] == 2
    recs = attempts_of(server, test_id)
    assert [(r["status"], r["retry_count"], r["fault"]) for r in recs] == [(429, n, "rate-limit") for n in range(3)]
    # Throttled once: the retry answers.
    test_id = uuid.uuid4().hex
    once = client(server, attempts=3, headers=lambda n: {"x-mockvendor-test-id": test_id,
                                                         **({"x-mockvendor-fault": "rate-limit"} if n == 0 else {})})
    ok = once.converse(modelId=ECHO, messages=[user(PROMPT)])
    assert ok["ResponseMetadata"]["RetryAttempts"] == 1 and ok["output"]["message"]["content"][0]["text"] == PROMPT
    assert [r["status"] for r in attempts_of(server, test_id)] == [429, 200]


# -- faults in a stream ----------------------------------------------------------------------
LONG = "one two three four five six seven eight nine ten"


@pytest.mark.parametrize(("fault", "error"), [
    ("disconnect", urllib3.exceptions.ProtocolError),  # boto3 hands urllib3's own error through
    ("malformed", botocore.eventstream.ChecksumMismatch),
])
def test_a_stream_cut_or_broken_midway_raises(server: ServerProcess, fault: str, error: type) -> None:
    c = client(server, headers=always(fault, **{"x-mockvendor-fault-after-chunks": "2"}), read_timeout=20)
    got: list[str] = []
    t0 = time.monotonic()
    with pytest.raises(error):
        for event in c.converse_stream(modelId=ECHO, messages=[user(LONG)])["stream"]:
            got.append(next(iter(event)))
    assert time.monotonic() - t0 < 15  # raised, not timed out
    assert got[0] == "messageStart" and got.count("contentBlockDelta") >= 2 and "metadata" not in got


@pytest.mark.parametrize("fault", ["malformed", "disconnect"])
def test_botocore_misses_a_cut_plain_answer(server: ServerProcess, fault: str) -> None:
    """What the docs warn of: a non-streaming answer cut in half parses, without its `output`."""
    r = client(server, headers=always(fault)).converse(modelId=ECHO, messages=[user(LONG)])
    assert r["ResponseMetadata"]["HTTPHeaders"]["x-mockvendor-fault"] == fault and "output" not in r


@pytest.mark.parametrize(("fault", "code", "after"), [
    ("stream-error-429", "throttlingException", 0),
    ("stream-error", "serviceUnavailableException", 3),  # the default in-band error: overloaded
    ("stream-error-500", "internalServerException", 1),
    ("stream-error-408", "modelStreamErrorException", 2),  # not a member of the stream: the catch-all
])
def test_in_stream_exception_events(server: ServerProcess, fault: str, code: str, after: int) -> None:
    c = client(server, headers=always(fault, **{"x-mockvendor-fault-after-chunks": str(after)}))
    text = []
    with pytest.raises(EventStreamError) as e:
        for event in c.converse_stream(modelId=ECHO, messages=[user(LONG)])["stream"]:
            text.append(event.get("contentBlockDelta", {}).get("delta", {}).get("text", ""))
    assert e.value.response["Error"]["Code"] == code and "Simulated" in e.value.response["Error"]["Message"]
    assert "".join(text).split() == LONG.split()[:after]  # exactly N chunks, then the exception


def test_stream_pacing(server: ServerProcess) -> None:
    c = client(server, headers=lambda n: {"x-mockvendor-ttft-ms": "400", "x-mockvendor-token-ms": "100"})
    t0 = time.monotonic()
    stream = c.converse_stream(modelId=ECHO, messages=[user("one two three")])["stream"]
    arrivals = [time.monotonic() - t0 for e in stream if "contentBlockDelta" in e]
    assert len(arrivals) == 3 and arrivals[0] >= 0.4
    assert all(b - a >= 0.08 for a, b in itertools.pairwise(arrivals)), arrivals  # each text chunk paced


def test_a_stream_without_its_last_message_ends_quietly(server: ServerProcess) -> None:
    """botocore does not miss the last message (`metadata`): the stream just ends without usage."""
    c = client(server, headers=always("no-terminator"))
    names = [next(iter(e)) for e in c.converse_stream(modelId=ECHO, messages=[user(LONG)])["stream"]]
    assert names[-1] == "messageStop" and "metadata" not in names


def test_error_names_and_statuses() -> None:
    assert error_code(Overloaded("queue full")) == ("ServiceUnavailableException", 503)  # AWS has no 529
    assert error_code(Overloaded("forced", fault="error-529")) == ("ServiceUnavailableException", 529)
    assert error_code(ModelNotFound("x", status=400)) == ("ValidationException", 400)
    assert error_code(RequestTimeout("slow")) == ("ModelTimeoutException", 408)


# -- the framing -----------------------------------------------------------------------------
def decode_all(data: bytes, rng: random.Random) -> list[botocore.eventstream.EventStreamMessage]:
    """botocore's own decoder, fed in pieces of random sizes."""
    buf = botocore.eventstream.EventStreamBuffer()
    out, i = [], 0
    while i < len(data):
        n = rng.randint(1, 40)
        buf.add_data(data[i:i + n])
        out.extend(buf)
        i += n
    return out


def test_botocore_reads_every_frame() -> None:
    rng = random.Random(5)
    sent = [
        eventstream.event("contentBlockDelta", json.dumps({"delta": {"text": "é" * n}}).encode())
        for n in (0, 1, 300)
    ] + [eventstream.exception("throttlingException", b'{"message":"slow down"}')]
    got = decode_all(b"".join(sent), rng)
    assert [m.headers for m in got] == [
        {":event-type": "contentBlockDelta", ":content-type": "application/json", ":message-type": "event"}] * 3 + [
        {":exception-type": "throttlingException", ":content-type": "application/json", ":message-type": "exception"}]
    assert json.loads(got[2].payload) == {"delta": {"text": "é" * 300}}
    assert all(eventstream.is_message(m) for m in sent)
    with pytest.raises(botocore.eventstream.ChecksumMismatch):
        decode_all(eventstream.corrupt(sent[0]), rng)


def test_a_stream_on_the_wire_is_all_frames(server: ServerProcess) -> None:
    with httpx.stream("POST", f"{server.url}/model/{ECHO}/converse-stream", json={"messages": [user(LONG)]}) as r:
        assert r.headers["content-type"] == "application/vnd.amazon.eventstream"
        data = r.read()
    messages = decode_all(data, random.Random(1))
    assert sum(m.prelude.total_length for m in messages) == len(data)  # nothing between or after the frames
    assert [m.headers[":event-type"] for m in messages][-2:] == ["messageStop", "metadata"]


# -- SigV4 -------------------------------------------------------------------------------------
SIGNED = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/bedrock/aws4_request, " \
         "SignedHeaders=host;x-amz-date, Signature=" + "ab" * 32


@pytest.mark.parametrize(("authorization", "code"), [
    ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/bedrock/aws4_request", "IncompleteSignature"),
    (SIGNED.replace("/bedrock/", "/s3/"), "InvalidSignatureException"),
    (SIGNED.replace("20240101", "yesterday"), "IncompleteSignatureException"),
    (SIGNED.replace("ab" * 32, "xyz"), "IncompleteSignatureException"),
    ("AWS4-HMAC-SHA1 " + SIGNED.split(" ", 1)[1], "IncompleteSignatureException"),
])
def test_a_malformed_signature_header_is_a_403(server: ServerProcess, authorization: str, code: str) -> None:
    r = httpx.post(f"{server.url}/model/{ECHO}/converse", json={"messages": [user("Hi")]},
                   headers={"authorization": authorization, "x-amz-date": "20240101T000000Z"})
    assert_vendor_error("bedrock", r, 403)
    assert r.headers["x-amzn-errortype"].startswith(code)
    ok = httpx.post(f"{server.url}/model/{ECHO}/converse", json={"messages": [user("Hi")]},
                    headers={"authorization": SIGNED, "x-amz-date": "20240101T000000Z"})
    assert ok.status_code == 200, ok.text


def test_configured_keys_are_access_key_ids() -> None:
    with serving(MOCKVENDOR_CATALOG_MODEL="echo", MOCKVENDOR_API_KEYS="AKIAGOODKEY,bedrock-api-key-1") as s:
        ok = client(s, key="AKIAGOODKEY").converse(modelId=CLAUDE, messages=[user("Hi")])
        assert ok["output"]["message"]["content"][0]["text"] == "Hi"
        with pytest.raises(ClientError) as e:
            client(s, key="AKIAWRONGKEY").converse(modelId=CLAUDE, messages=[user("Hi")])
        resp = e.value.response
        assert resp["Error"]["Code"] == "UnrecognizedClientException"
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 403 and "AKIAWRONGKEY" not in resp["Error"]["Message"]
        unsigned = httpx.post(f"{s.url}/model/{CLAUDE}/converse", json={"messages": [user("Hi")]})
        assert_vendor_error("bedrock", unsigned, 403)
        assert unsigned.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
        # A Bedrock API key is a Bearer token (boto3 sends one only over HTTPS; AnthropicBedrock does here).
        def claude_with(key: str) -> Any:
            ab = anthropic.AnthropicBedrock(api_key=key, aws_region="us-east-1", base_url=s.url, max_retries=0)
            return ab.messages.create(model=CLAUDE, max_tokens=8, messages=[{"role": "user", "content": "Hi"}])

        assert claude_with("bedrock-api-key-1").content[0].text == "Hi"
        with pytest.raises(anthropic.PermissionDeniedError) as denied:
            claude_with("bedrock-api-key-2")
        assert denied.value.body == {"message": "The security token included in the request is invalid."}


# -- the Anthropic SDK's Bedrock client ---------------------------------------------------------
def test_anthropic_bedrock_client(server: ServerProcess) -> None:
    ab = anthropic.AnthropicBedrock(aws_access_key="AKIDEXAMPLE", aws_secret_key="not-a-real-secret",
                                    aws_region="us-east-1", base_url=server.url, max_retries=0)
    args: dict[str, Any] = {"model": CLAUDE, "max_tokens": 8, "messages": [{"role": "user", "content": PROMPT}],
                            "extra_body": {"seed": 4}}
    plain = ab.messages.create(**args)
    assert isinstance(plain, anthropic.types.Message) and plain.model == "claude-3-5-sonnet-20240620"
    assert plain.content[0].type == "text" and plain.content[0].text.strip()
    assert plain.stop_reason in ("end_turn", "max_tokens") and plain.usage.input_tokens > 5
    with ab.messages.stream(**args) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(pieces) > 1 and "".join(pieces) == plain.content[0].text == final.content[0].text
    assert final.usage.output_tokens == plain.usage.output_tokens
    with pytest.raises(anthropic.RateLimitError) as e:
        ab.messages.create(**args, extra_headers={"x-mockvendor-fault": "429"})
    assert e.value.body == {"message": "Simulated rate limit: too many requests, please retry later."}
    with pytest.raises(anthropic.APIStatusError) as err, ab.messages.stream(
            **args, extra_headers={"x-mockvendor-fault": "stream-error-429",
                                   "x-mockvendor-fault-after-chunks": "1"}) as broken:
        list(broken.text_stream)
    assert "throttlingException" in str(err.value)


def test_base64_chunks_are_anthropic_events(server: ServerProcess) -> None:
    """The raw wire of invoke-with-response-stream: `chunk` events whose payload holds `bytes`."""
    with httpx.stream("POST", f"{server.url}/model/{ECHO}/invoke-with-response-stream",
                      content=claude_body("Hello there")) as r:
        assert r.headers["x-amzn-bedrock-content-type"] == "application/json"
        messages = decode_all(r.read(), random.Random(2))
    assert {m.headers[":event-type"] for m in messages} == {"chunk"}
    first = json.loads(base64.b64decode(json.loads(messages[0].payload)["bytes"]))
    assert first["type"] == "message_start"


def test_rate_limits_throttle_without_headers_as_bedrock_does() -> None:
    """The fault lab's request buckets (MOCKVENDOR_BEDROCK_RATE_LIMIT_RPM) per access key id:
    the request past the limit is a ThrottlingException; Bedrock sends no rate-limit headers."""
    with serving(MOCKVENDOR_CATALOG_MODEL="echo", MOCKVENDOR_FAULTS="on", MOCKVENDOR_BEDROCK_RATE_LIMIT_RPM="2") as s:
        c = client(s, key="AKIAFIRST")
        answers = [c.converse(modelId=CLAUDE, messages=[user("Hi")]) for _ in range(2)]
        assert not [h for a in answers for h in a["ResponseMetadata"]["HTTPHeaders"] if "ratelimit" in h]
        with pytest.raises(ClientError) as e:
            c.converse(modelId=CLAUDE, messages=[user("Hi")])
        assert e.value.response["Error"]["Code"] == "ThrottlingException" and "Limit 2" in str(e.value)
        assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["x-mockvendor-fault"] == "rate-limit-rpm"
        # Another access key id has its own bucket.
        assert client(s, key="AKIASECOND").converse(modelId=CLAUDE, messages=[user("Hi")])["stopReason"] == "end_turn"


def test_count_tokens_of_either_body(server: ServerProcess) -> None:
    c = client(server)
    system = [{"text": "You are terse."}]
    counted = c.count_tokens(modelId=CLAUDE, input={"converse": {"system": system, "messages": [user(PROMPT)]}})
    answered = c.converse(modelId=CLAUDE, system=system, messages=[user(PROMPT)], inferenceConfig={"maxTokens": 1})
    assert counted["inputTokens"] == answered["usage"]["inputTokens"] > 5
    body = claude_body(system="You are terse.").encode()
    invoked = c.count_tokens(modelId=CLAUDE, input={"invokeModel": {"body": body}})
    assert invoked["inputTokens"] == json.loads(c.invoke_model(modelId=CLAUDE, body=body)["body"].read())[
        "usage"]["input_tokens"]
    with pytest.raises(ClientError) as e:
        c.count_tokens(modelId=CLAUDE, input={"invokeModel": {"body": b"not json"}})
    assert e.value.response["Error"]["Code"] == "ValidationException" and "input.invokeModel.body" in str(e.value)


def test_the_pytest_plugin_binds_boto3_to_a_test(mockvendor: MockVendor) -> None:
    """boto3 on ``mockvendor.base_url("bedrock")``: rules answer, a scenario fails the first
    attempt, and boto3's retry is counted as the test's own."""
    mockvendor.rule(vendor="bedrock", user="weather", tool_result=False,
                    tool_calls=[{"name": "get_weather", "arguments": {"city": "Oslo"}}])
    mockvendor.rule(vendor="bedrock", tool_result="21", text="It is 21 degrees in Oslo.")
    mockvendor.fail({"fault": "rate-limit"}, vendor="bedrock")
    c = boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=mockvendor.base_url("bedrock"),
                     aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="not-a-real-secret",
                     config=Config(retries={"mode": "standard", "total_max_attempts": 2}))
    question = user("What is the weather like?")
    first = c.converse(modelId=CLAUDE, messages=[question], toolConfig={"tools": [WEATHER]})
    assert first["ResponseMetadata"]["RetryAttempts"] == 1
    call = first["output"]["message"]["content"][0]["toolUse"]
    assert (call["name"], call["input"]) == ("get_weather", {"city": "Oslo"})
    answer = {"role": "user", "content": [{"toolResult": {"toolUseId": call["toolUseId"],
                                                          "content": [{"text": "21"}]}}]}
    second = c.converse(modelId=CLAUDE, messages=[question, first["output"]["message"], answer],
                        toolConfig={"tools": [WEATHER]})
    assert second["output"]["message"]["content"] == [{"text": "It is 21 degrees in Oslo."}]
    assert [(r["status"], r["retry_count"]) for r in mockvendor.requests()] == [(429, 0), (200, 1), (200, 0)]


# -- LiteLLM's bedrock provider (InvokeModel with Claude's body, and Converse) ------------------
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("route", ["bedrock/", "bedrock/converse/"])
def test_litellm_bedrock(server: ServerProcess, route: str) -> None:
    import litellm

    args: dict[str, Any] = {"model": route + CLAUDE, "api_base": server.url, "aws_region_name": "us-east-1",
                            "aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "not-a-real-secret",
                            "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 8, "temperature": 0}
    plain = litellm.completion(**args)
    text = plain.choices[0].message.content
    assert text and plain.choices[0].finish_reason in ("stop", "length")
    assert 0 < plain.usage.completion_tokens <= 8 and plain.usage.prompt_tokens > 5
    chunks = list(litellm.completion(stream=True, **args))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == text  # greedy: same words
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason][-1] == \
        plain.choices[0].finish_reason
