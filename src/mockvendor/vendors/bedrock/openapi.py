"""OpenAPI path items of the Bedrock-compatible API: operation metadata; every schema comes
from the declarations in :mod:`.wire`."""

from __future__ import annotations

from typing import Any

from ...wire import schema
from ..openapi import STR, _not_a_chat, _operation
from . import eventstream, wire

ERRORS = {
    "400": "ValidationException (a malformed body, an unknown model id: `x-amzn-ErrorType` names the error).",
    "403": "AccessDeniedException (simulated); a malformed SigV4 `Authorization` header (IncompleteSignatureException)"
           ", or with MOCKVENDOR_API_KEYS set an unknown access key id (UnrecognizedClientException).",
    "404": "ResourceNotFoundException (simulated).",
    "408": "ModelTimeoutException (simulated).",
    "429": "ThrottlingException (simulated).",
    "500": "InternalServerException (simulated only).",
    "503": "ServiceUnavailableException (simulated, or the model queue is full).",
}
MODEL_PARAM = {"name": "modelId", "in": "path", "required": True, "schema": STR,
               "example": "anthropic.claude-3-5-sonnet-20240620-v1:0"}
AUTH = {"name": "authorization", "in": "header", "required": False, "schema": STR,
        "description": "SigV4 (`AWS4-HMAC-SHA256 Credential=AKID/date/region/bedrock/aws4_request, ...`; the "
                       "signature is not verified) or `Bearer <Bedrock API key>`."}
CONVERSE_EXAMPLE = {
    "system": [{"text": "You are terse."}],
    "messages": [{"role": "user", "content": [{"text": "Say hello."}]}],
    "inferenceConfig": {"maxTokens": 32},
}
INVOKE_EXAMPLE = {
    "anthropic_version": "bedrock-2023-05-31",
    "max_tokens": 32,
    "messages": [{"role": "user", "content": "Say hello."}],
}
CONVERSE_STREAM = ("an AWS event stream (application/vnd.amazon.eventstream): messages named by `:event-type` "
                   "(messageStart, contentBlockStart, contentBlockDelta, contentBlockStop, messageStop, metadata); "
                   "an error after the start is a `:message-type: exception` message (throttlingException, ...).")
INVOKE_STREAM = ("an AWS event stream of `chunk` messages whose `bytes` are, base64, the model's own stream JSON: "
                 "Anthropic's events for Claude (message_start ... message_stop), Titan's `outputText` pieces, "
                 "Llama's `generation` pieces, or Nova's `{\"contentBlockDelta\": ...}` events.")


def _streamed(op: dict[str, Any], event: Any) -> dict[str, Any]:
    """A stream operation: its 200 is an event stream of ``event`` payloads, not JSON (which the
    chat page, reading JSON and server-sent events, leaves out)."""
    ok = op["responses"]["200"]
    ok["content"] = {eventstream.CONTENT_TYPE: {"schema": schema(event)}}
    return _not_a_chat(op)


def bedrock_paths(vendor: Any) -> dict[str, Any]:
    error = schema(wire.ErrorBody)
    params = [MODEL_PARAM, AUTH]
    converse = {"request": schema(wire.ConverseRequest), "example": CONVERSE_EXAMPLE, "error": error,
                "errors": ERRORS, "parameters": params}
    # Claude's body, or (by the model id's provider) Titan Text's, Meta Llama's or Nova's (Converse's shapes).
    bodies = {"anyOf": [schema(wire.InvokeRequest), schema(wire.TitanRequest), schema(wire.LlamaRequest),
                        schema(wire.ConverseRequest)]}
    answers = {"anyOf": [schema(wire.AMessageOut), schema(wire.TitanResponse), schema(wire.LlamaResponse),
                         schema(wire.ConverseResponse)]}
    invoke = {"request": bodies, "example": INVOKE_EXAMPLE, "error": error, "errors": ERRORS, "parameters": params}
    return {
        # The chat page writes Anthropic's and OpenAI's bodies, not Converse's content blocks: it
        # talks to Bedrock through InvokeModel.
        "/model/{modelId}/converse": {"post": _not_a_chat(_operation(
            vendor, "bedrock_converse", "Bedrock Converse.", response=schema(wire.ConverseResponse),
            stream_doc=None, **converse))},
        "/model/{modelId}/converse-stream": {"post": _streamed(_operation(
            vendor, "bedrock_converse_stream", "Bedrock ConverseStream.", response=schema(wire.ConverseResponse),
            stream_doc=CONVERSE_STREAM, **converse), wire.ConverseStreamOutput)},
        "/model/{modelId}/invoke": {"post": _operation(
            vendor, "bedrock_invoke", "Bedrock InvokeModel: Claude's Anthropic Messages body, or the native body of "
            "Amazon Titan Text, Meta Llama or Amazon Nova (by the model id).",
            response=answers, stream_doc=None, **invoke)},
        "/model/{modelId}/invoke-with-response-stream": {"post": _streamed(_operation(
            vendor, "bedrock_invoke_stream", "Bedrock InvokeModelWithResponseStream (the same bodies).",
            response=answers, stream_doc=INVOKE_STREAM, **invoke), wire.PayloadPart)},
        "/model/{modelId}/count-tokens": {"post": _not_a_chat(_operation(
            vendor, "bedrock_count_tokens", "Bedrock CountTokens: the model's own tokenizer, no generation.",
            request=schema(wire.CountTokensRequest), example={"input": {"converse": CONVERSE_EXAMPLE}},
            response=schema(wire.CountTokensResponse), error=error, errors=ERRORS, stream_doc=None,
            parameters=params))},
    }
