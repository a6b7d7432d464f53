"""OpenAI-compatible API: chat completions, legacy completions and the model list, in
OpenAI's own JSON, data-only SSE framing, headers and error shapes
(shared/design/wire-formats.md, "OpenAI")."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ...errors import InvalidRequest, MockVendorError
from ...http import sse
from ...pipeline import endpoint
from ...tools import arguments_json
from ...types import Chunk, Completion, GenerateRequest, Message, Tool, ToolCall, Usage
from .. import model_list, model_list_openapi
from ..base import BaseVendor, boolean, integer, number, obj, stop_list, string
from . import embeddings, responses
from . import openapi as docs

if TYPE_CHECKING:
    from ...context import AppContext
    from ...settings import Settings

Handler = Callable[[Request], Awaitable[Response]]

FINISH = {"stop": "stop", "length": "length", "stop_sequence": "stop", "tool_calls": "tool_calls"}
ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant", "tool": "tool"}
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_TOOLS = 128
# The legacy completions endpoint's documented default answer length.
LEGACY_DEFAULT_MAX_TOKENS = 16
DONE = b"data: [DONE]\n\n"


@dataclass(slots=True)
class OpenAIRequest(GenerateRequest):
    """A chat (``chat=True``) or legacy text completion request, with its stream options."""

    chat: bool = True
    include_usage: bool = False


def _id(prefix: str) -> str:
    return prefix + os.urandom(15).hex()


def _usage(u: Usage) -> dict[str, int]:
    return {"prompt_tokens": u.input_tokens, "completion_tokens": u.output_tokens, "total_tokens": u.total_tokens}


def go_duration(ms: int) -> str:
    """A delay the way OpenAI's ``x-ratelimit-reset-*`` headers write it: ``12ms``, ``1.5s``, ``6m0s``."""
    if ms < 1000:
        return f"{ms}ms"
    minutes, rest = divmod(ms, 60_000)
    seconds = f"{rest / 1000:g}s"
    return f"{minutes}m{seconds}" if minutes else seconds


def error_type_code(err: MockVendorError) -> tuple[str, str | None]:
    """OpenAI's ``type`` and ``code`` for a neutral error."""
    if err.kind == "insufficient_quota":
        return "insufficient_quota", "insufficient_quota"
    if err.status == 429:
        return "requests", "rate_limit_exceeded"
    if err.status >= 500:
        return "server_error", None
    code = {
        "context_length_exceeded": "context_length_exceeded",
        "authentication": "invalid_api_key",
        "model_not_found": "model_not_found",
    }.get(err.kind)
    return "invalid_request_error", code


def _content(value: Any, path: str) -> str:
    """A message's text: a string, null (assistant turns) or a list of text parts."""
    if value is None or isinstance(value, str):
        return value or ""
    if not isinstance(value, list):
        raise InvalidRequest(f"Field '{path}' must be a string or an array of content parts.", param=path)
    texts = []
    for j, part in enumerate(value):
        p = obj(part, f"'{path}[{j}]'")
        kind = p.get("type")
        if kind != "text":
            raise InvalidRequest(
                f"Content part type {kind!r} in '{path}[{j}]' is not supported: mockvendor answers "
                "text parts only.",
                param=f"{path}[{j}].type",
            )
        texts.append(string(p, "text", required=True, path=f"{path}[{j}].") or "")
    return "\n".join(texts)


def _tools(b: dict[str, Any]) -> tuple[list[Tool], str]:
    """``tools`` and ``tool_choice`` (function tools; the choice in neutral terms)."""
    raw = b.get("tools")
    tools: list[Tool] = []
    if raw is not None:
        if not isinstance(raw, list):
            raise InvalidRequest("Invalid type for 'tools': expected an array of tools.", param="tools")
        if len(raw) > MAX_TOOLS:
            raise InvalidRequest(f"Invalid 'tools': array too long. Expected an array with maximum length "
                                 f"{MAX_TOOLS}, but got an array with length {len(raw)} instead.", param="tools")
        for i, item in enumerate(raw):
            t = obj(item, f"'tools[{i}]'")
            kind = t.get("type")
            if kind != "function":
                raise InvalidRequest(
                    f"Invalid value for 'tools[{i}].type': {kind!r}. mockvendor answers 'function' tools only.",
                    param=f"tools[{i}].type",
                )
            f = obj(t.get("function"), f"'tools[{i}].function'")
            name = string(f, "name", required=True, path=f"tools[{i}].function.") or ""
            if not TOOL_NAME.match(name):
                raise InvalidRequest(
                    f"Invalid 'tools[{i}].function.name': string does not match pattern. Expected a string "
                    "that matches the pattern '^[a-zA-Z0-9_-]{1,64}$'.",
                    param=f"tools[{i}].function.name",
                )
            if any(x.name == name for x in tools):
                raise InvalidRequest(f"Invalid 'tools': duplicate function name {name!r}.", param="tools")
            params = f.get("parameters", {"type": "object", "properties": {}})
            if not isinstance(params, dict):
                raise InvalidRequest(f"Invalid type for 'tools[{i}].function.parameters': expected an object.",
                                     param=f"tools[{i}].function.parameters")
            boolean(f, "strict", path=f"tools[{i}].function.")
            tools.append(Tool(name, string(f, "description", path=f"tools[{i}].function.") or "", params))
    boolean(b, "parallel_tool_calls")
    choice = b.get("tool_choice")
    if choice is None:
        return tools, "auto"
    if not tools:
        raise InvalidRequest(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            param="tool_choice",
        )
    if choice in ("none", "auto", "required"):
        return tools, choice
    if isinstance(choice, dict) and choice.get("type") == "function":
        name = string(obj(choice.get("function"), "'tool_choice.function'"), "name", required=True,
                      path="tool_choice.function.")
        if not any(t.name == name for t in tools):
            raise InvalidRequest(f"Invalid value for 'tool_choice': function {name!r} not found in 'tools'.",
                                 param="tool_choice")
        return tools, f"tool:{name}"
    raise InvalidRequest(
        "Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or "
        '{"type": "function", "function": {"name": ...}}.',
        param="tool_choice",
    )


def _tool_calls(value: Any, path: str) -> list[ToolCall]:
    if not isinstance(value, list):
        raise InvalidRequest(f"Invalid type for '{path}': expected an array of tool calls.", param=path)
    calls = []
    for j, item in enumerate(value):
        c = obj(item, f"'{path}[{j}]'")
        call_id = string(c, "id", required=True, nonempty=True, path=f"{path}[{j}].") or ""
        f = obj(c.get("function"), f"'{path}[{j}].function'")
        name = string(f, "name", required=True, path=f"{path}[{j}].function.") or ""
        text = string(f, "arguments", required=True, path=f"{path}[{j}].function.") or ""
        try:
            args = json.loads(text) if text.strip() else {}
        except ValueError:
            args = {"arguments": text}  # OpenAI stores them as given; the model sees them as text
        calls.append(ToolCall(call_id, name, args if isinstance(args, dict) else {"arguments": args}))
    return calls


def _check_tool_turns(messages: list[Message]) -> None:
    """Each tool turn answers a call of the assistant turn before it, and every call is answered."""
    open_calls: dict[str, str] = {}
    for i, m in enumerate(messages):
        if m.role == "tool":
            if m.tool_call_id not in open_calls:
                raise InvalidRequest(
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
                    f"with 'tool_calls'. messages[{i}].tool_call_id {m.tool_call_id!r} answers no such call.",
                    param=f"messages[{i}].tool_call_id",
                )
            m.name = open_calls.pop(m.tool_call_id or "")
            continue
        if open_calls:
            raise InvalidRequest(
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                "'tool_call_id'. The following tool_call_ids did not have response messages: "
                + ", ".join(open_calls),
                param=f"messages[{i}].role",
            )
        open_calls = {c.id: c.name for c in m.tool_calls}
    if open_calls:
        raise InvalidRequest(
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
            "'tool_call_id'. The following tool_call_ids did not have response messages: " + ", ".join(open_calls),
            param="messages",
        )


def _call_json(call: ToolCall, arguments: str | None = None) -> dict[str, Any]:
    return {"id": "call_" + call.id, "type": "function",
            "function": {"name": call.name, "arguments": arguments_json(call) if arguments is None else arguments}}


class OpenAIVendor(BaseVendor):
    """OpenAI's ``/v1`` API on the configured models."""

    name = "openai"
    title = "OpenAI-compatible"
    url_prefixes: ClassVar[tuple[str, ...]] = ("/v1/",)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def routes(self, ctx: AppContext) -> list[BaseRoute]:
        models = model_list.shared(ctx, self.models_handler(ctx))
        return [
            Route("/v1/chat/completions", timed(endpoint(ctx, self)), methods=["POST"], name="openai-chat"),
            Route(
                "/v1/completions",
                timed(endpoint(ctx, self, parse=self.parse_completion)),
                methods=["POST"],
                name="openai-completions",
            ),
            Route(
                "/v1/responses",
                timed(endpoint(ctx, self, parse=responses.parse)),
                methods=["POST"],
                name="openai-responses",
            ),
            Route(
                "/v1/embeddings",
                timed(endpoint(ctx, self, parse=lambda body, request: embeddings.parse(body))),
                methods=["POST"],
                name="openai-embeddings",
            ),
            # Every vendor's SDK lists models here: the one that claims the request answers.
            Route("/v1/models", models, methods=["GET"], name="openai-models"),
            Route("/v1/models/{model_id:path}", models, methods=["GET"], name="openai-model"),
        ]

    # -- requests -------------------------------------------------------------------
    def parse(self, body: Any, request: Request) -> GenerateRequest:
        b = obj(body)
        model = string(b, "model", required=True, nonempty=True, max_len=256) or ""
        raw = b.get("messages")
        if raw is None:
            raise InvalidRequest("Missing required field 'messages'.", param="messages")
        if not isinstance(raw, list) or not raw:
            raise InvalidRequest("Field 'messages' must be a non-empty array of messages.", param="messages")
        messages = []
        for i, item in enumerate(raw):
            m = obj(item, f"'messages[{i}]'")
            role = string(m, "role", required=True, path=f"messages[{i}].")
            if role not in ROLES:
                raise InvalidRequest(
                    f"Invalid value {role!r} for 'messages[{i}].role': expected one of "
                    "'system', 'developer', 'user', 'assistant', 'tool'.",
                    param=f"messages[{i}].role",
                )
            message = Message(ROLES[role], _content(m.get("content"), f"messages[{i}].content"))
            if role == "assistant" and m.get("tool_calls") is not None:
                message.tool_calls = _tool_calls(m["tool_calls"], f"messages[{i}].tool_calls")
            elif role == "tool":
                message.tool_call_id = string(m, "tool_call_id", required=True, nonempty=True,
                                              path=f"messages[{i}].")
            messages.append(message)
        _check_tool_turns(messages)
        tools, choice = _tools(b)
        max_tokens = integer(b, "max_completion_tokens", lo=1, hi=1_000_000)
        legacy_max = integer(b, "max_tokens", lo=1, hi=1_000_000)
        return OpenAIRequest(
            model, messages, max_tokens=max_tokens or legacy_max, stop=stop_list(b, "stop"),
            tools=tools, tool_choice=choice, **self._common(b),
        )

    def parse_completion(self, body: Any, request: Request) -> GenerateRequest:
        """``POST /v1/completions``: a raw prompt, continued without a chat template."""
        b = obj(body)
        model = string(b, "model", required=True, nonempty=True, max_len=256) or ""
        prompt = b.get("prompt")
        if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
            prompt = prompt[0]
        if prompt is None:
            raise InvalidRequest("Missing required field 'prompt'.", param="prompt")
        if not isinstance(prompt, str):
            raise InvalidRequest(
                "Field 'prompt' must be a string (or an array of one string): mockvendor answers one "
                "prompt per request.",
                param="prompt",
            )
        unsupported = {
            "echo": boolean(b, "echo") is True,
            "suffix": bool(string(b, "suffix")),
            "best_of": integer(b, "best_of", lo=1, hi=20) not in (None, 1),
        }
        for field, used in unsupported.items():
            if used:
                raise InvalidRequest(f"Field '{field}' is not supported by mockvendor.", param=field)
        max_tokens = integer(b, "max_tokens", lo=1, hi=1_000_000)
        return OpenAIRequest(
            model, prompt=prompt, max_tokens=max_tokens or LEGACY_DEFAULT_MAX_TOKENS,
            stop=stop_list(b, "stop"), chat=False, **self._common(b),
        )

    def _common(self, b: Any) -> dict[str, Any]:
        n = integer(b, "n", lo=1, hi=128)
        if n not in (None, 1):
            raise InvalidRequest(f"mockvendor answers one choice per request; 'n' must be 1, got {n}.", param="n")
        stream = bool(boolean(b, "stream"))
        include_usage = False
        options = b.get("stream_options")
        if options is not None:
            if not stream:
                raise InvalidRequest(
                    "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                    param="stream_options",
                )
            include_usage = bool(boolean(obj(options, "'stream_options'"), "include_usage", path="stream_options."))
        return {
            "temperature": number(b, "temperature", lo=0.0, hi=2.0),
            "top_p": number(b, "top_p", lo=0.0, hi=1.0),
            "seed": integer(b, "seed", lo=-(2**63), hi=2**64 - 1),
            "stream": stream,
            "include_usage": include_usage,
        }

    # -- answers --------------------------------------------------------------------
    def render_embeddings(self, req: GenerateRequest, vectors: list[list[float]], tokens: int) -> Any:
        assert isinstance(req, embeddings.EmbeddingRequest)
        return embeddings.render(req, vectors, tokens)

    def render(self, req: GenerateRequest, c: Completion) -> Any:
        if isinstance(req, responses.ResponsesRequest):
            return responses.render(req, c)
        finish = FINISH[c.finish_reason]
        if isinstance(req, OpenAIRequest) and not req.chat:
            choice: dict[str, Any] = {"text": c.text, "index": 0, "logprobs": None, "finish_reason": finish}
            return {
                "id": _id("cmpl-"), "object": "text_completion", "created": int(time.time()),
                "model": req.model, "choices": [choice], "usage": _usage(c.usage),
            }
        message: dict[str, Any] = {"role": "assistant", "content": c.text, "refusal": None}
        if c.tool_calls:
            message = {"role": "assistant", "content": None, "refusal": None,
                       "tool_calls": [_call_json(call) for call in c.tool_calls]}
        return {
            "id": _id("chatcmpl-"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": req.model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": _usage(c.usage),
            "system_fingerprint": None,
        }

    async def render_stream(
        self, req: GenerateRequest, events: AsyncIterator[Chunk | Completion]
    ) -> AsyncIterator[bytes]:
        if isinstance(req, responses.ResponsesRequest):
            async for data in responses.render_stream(req, events):
                yield data
            return
        chat = not isinstance(req, OpenAIRequest) or req.chat
        include_usage = isinstance(req, OpenAIRequest) and req.include_usage
        head: dict[str, Any] = {
            "id": _id("chatcmpl-" if chat else "cmpl-"),
            "object": "chat.completion.chunk" if chat else "text_completion",
            "created": int(time.time()),
            "model": req.model,
        }
        if chat:
            head["system_fingerprint"] = None
        # With include_usage every chunk says "usage": null until the usage chunk.
        tail = {"usage": None} if include_usage else {}

        def chunk(text: str | None, finish: str | None, delta: dict[str, Any] | None = None) -> bytes:
            if chat:
                choice = {"index": 0, "delta": delta if delta is not None else {"content": text},
                          "logprobs": None, "finish_reason": finish}
            else:
                choice = {"text": text or "", "index": 0, "logprobs": None, "finish_reason": finish}
            return sse({**head, "choices": [choice], **tail})

        role = {"role": "assistant", "content": "", "refusal": None}
        # With tools the first delta waits for the first event: a call opens in it.
        opening = chat and bool(req.tools)
        if chat and not opening:
            yield chunk(None, None, role)
        async for ev in events:
            if opening:
                opening = False
                if isinstance(ev, Chunk) and ev.tool_call is not None:
                    call = {"index": ev.tool_index, **_call_json(ev.tool_call, "")}
                    yield chunk(None, None, {**role, "content": None, "tool_calls": [call]})
                    continue
                yield chunk(None, None, role)
            if isinstance(ev, Completion):
                yield chunk(None, FINISH[ev.finish_reason], {} if chat else None)
                if include_usage:
                    yield sse({**head, "choices": [], "usage": _usage(ev.usage)})
                yield DONE
            elif ev.tool_call is not None:
                if ev.text:
                    piece = {"index": ev.tool_index, "function": {"arguments": ev.text}}
                else:  # a further call opens
                    piece = {"index": ev.tool_index, **_call_json(ev.tool_call, "")}
                yield chunk(None, None, {"tool_calls": [piece]})
            elif ev.text:
                yield chunk(ev.text, None)

    # -- errors and auth ------------------------------------------------------------
    def error_body(self, err: MockVendorError) -> Any:
        kind, code = error_type_code(err)
        return {"error": {"message": err.message, "type": kind, "param": err.param, "code": code}}

    def error_headers(self, err: MockVendorError) -> dict[str, str]:
        h = err.response_headers()
        # Stand-in numbers only when the fault lab's rate limits are off (they bring real ones).
        if err.status == 429 and err.kind != "insufficient_quota" and not any(k.startswith("x-ratelimit-") for k in h):
            reset = go_duration(err.retry_after_ms if err.retry_after_ms is not None else 1000)
            h.update({
                "x-ratelimit-limit-requests": "60",
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": reset,
                "x-ratelimit-limit-tokens": "150000",
                "x-ratelimit-remaining-tokens": "150000",
                "x-ratelimit-reset-tokens": "0s",
            })
        return h

    def stream_error(self, err: MockVendorError) -> bytes | None:
        if isinstance(err, responses.InBandError):  # the Responses stream rendered its own event
            return responses.stream_error(err)
        return sse(self.error_body(err))

    # -- models ---------------------------------------------------------------------
    def models_handler(self, ctx: AppContext) -> Handler:
        return timed(model_list.handler(ctx, self))

    def list_models(self, ctx: AppContext, request: Request) -> Any:
        return {"object": "list", "data": [self.model_info(ctx, name) for name in ctx.models.names("openai")]}

    def model_info(self, ctx: AppContext, name: str) -> Any:
        spec = ctx.models.spec(name)
        return {"id": name, "object": "model", "created": model_list.MODEL_CREATED, "owned_by": spec.owned_by}

    def openapi(self) -> dict[str, Any]:
        return {**docs.openai_paths(self), **model_list_openapi.shared_paths(self)}


def timed(handler: Handler) -> Handler:
    """Add ``openai-processing-ms`` (time to the response head) as OpenAI does."""

    async def handle(request: Request) -> Response:
        t0 = time.perf_counter()
        resp = await handler(request)
        resp.headers["openai-processing-ms"] = str(round((time.perf_counter() - t0) * 1000))
        return resp

    return handle


VENDOR = OpenAIVendor
