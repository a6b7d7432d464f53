"""Gemini's models listing: ``GET /v1beta/models`` (``pageSize``, ``pageToken``) and
``GET /v1beta/models/{model}`` (and the same under ``/v1``), the configured names as
Google's ``Model`` objects."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from ...engines.sampling import Defaults
from ...errors import InvalidRequest
from .. import model_list
from ..model_list_wire import GeminiModel, GeminiModelList

if TYPE_CHECKING:
    from ...context import AppContext

DEFAULT_PAGE_SIZE = 50  # Google's documented default; 0 means the default too
MAX_PAGE_SIZE = 1000  # larger sizes are cut to this, as Google does
# Google reports a limit for every model; an engine without a context window gets Gemini's largest.
UNBOUNDED_TOKENS = 1_048_576
VERSION = "001"
CHAT_METHODS = ["generateContent", "streamGenerateContent", "countTokens"]
EMBED_METHODS = ["embedContent", "batchEmbedContents", "countTokens"]
SAMPLING = Defaults()
MAX_TEMPERATURE = 2.0  # the most generationConfig.temperature accepts (gemini.py checks it)


def claims(request: Request) -> bool:
    """google-genai sends its key as ``x-goog-api-key`` (older clients as ``?key=``); the
    OpenAI and Anthropic SDKs never do."""
    return "x-goog-api-key" in request.headers or "key" in request.query_params


def list_models(ctx: AppContext, request: Request) -> Any:
    q = request.query_params
    size = _page_size(q.get("pageSize"))
    token = q.get("pageToken") or None  # an empty token is the first page, as Google reads it
    try:
        names, more = model_list.page(ctx.models.names("google"), size, after=_after(token) if token else None)
    except KeyError:
        raise _bad_token() from None
    token = base64.urlsafe_b64encode(names[-1].encode()).decode().rstrip("=") if more else None
    return GeminiModelList([model_info(ctx, name) for name in names], token)


def model_info(ctx: AppContext, name: str) -> Any:
    tokens = model_list.token_limit(ctx, name) or UNBOUNDED_TOKENS
    engine = ctx.models.spec(name).engine
    card = ctx.models.card(name)
    info = {"name": f"models/{name}", "version": VERSION, "displayName": name,
            "description": f"{name}, answered by mockvendor's {engine} engine.", "inputTokenLimit": tokens}
    if model_list.is_embedding(name):
        # Google's embedding models have no sampling, and one "output token" (the vector).
        return GeminiModel(**info, outputTokenLimit=1, supportedGenerationMethods=EMBED_METHODS)
    return GeminiModel(
        **info, outputTokenLimit=model_list.output_limit(ctx, name) or tokens,
        supportedGenerationMethods=CHAT_METHODS, thinking=card.reasoning if card is not None else None,
        temperature=SAMPLING.temperature,
        topP=1.0,  # no nucleus cut unless the request asks for one
        topK=SAMPLING.top_k, maxTemperature=MAX_TEMPERATURE,
    )


def _page_size(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    try:
        size = model_list.query_int(raw)
    except ValueError:
        raise InvalidRequest(f"Invalid value at 'page_size' (TYPE_INT32), \"{raw}\"", param="pageSize") from None
    if size < 0:
        raise InvalidRequest(f"Invalid value at 'page_size': must not be negative, got {size}.", param="pageSize")
    return min(size, MAX_PAGE_SIZE) or DEFAULT_PAGE_SIZE


def _after(token: str) -> str:
    """The model name a page token continues after (tokens are opaque to clients)."""
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _bad_token() from None


def _bad_token() -> InvalidRequest:
    return InvalidRequest("Invalid page token: pass the nextPageToken of the previous page.", param="pageToken")
