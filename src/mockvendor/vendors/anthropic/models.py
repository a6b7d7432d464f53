"""Anthropic's Models API: ``GET /v1/models`` (``limit``, ``after_id``, ``before_id``) and
``GET /v1/models/{model_id}``, the configured names as Anthropic's ``ModelInfo`` objects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from ...errors import InvalidRequest
from .. import model_list
from ..model_list_wire import AnthropicModel, AnthropicModelPage

if TYPE_CHECKING:
    from ...context import AppContext

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
CREATED_AT = datetime.fromtimestamp(model_list.MODEL_CREATED, UTC).isoformat().replace("+00:00", "Z")


def claims(request: Request) -> bool:
    """The Anthropic SDK sends ``anthropic-version`` on every request; OpenAI's and Google's never do."""
    return "anthropic-version" in request.headers


def list_models(ctx: AppContext, request: Request) -> Any:
    q = request.query_params
    after, before = q.get("after_id"), q.get("before_id")
    if after is not None and before is not None:
        raise InvalidRequest("after_id: cannot be set together with before_id", param="after_id")
    try:
        names, more = model_list.page(ctx.models.names("anthropic"), _limit(q.get("limit")), after=after, before=before)
    except KeyError as e:
        field = "after_id" if after is not None else "before_id"
        raise InvalidRequest(f"{field}: no model with id {e.args[0]!r}", param=field) from None
    return AnthropicModelPage([model_info(ctx, name) for name in names], more,
                              names[0] if names else None, names[-1] if names else None)


def model_info(ctx: AppContext, name: str) -> Any:
    tokens = model_list.token_limit(ctx, name)
    return AnthropicModel(id=name, display_name=name, created_at=CREATED_AT, max_input_tokens=tokens,
                          max_tokens=model_list.output_limit(ctx, name))


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    try:
        limit = model_list.query_int(raw)
    except ValueError:
        raise InvalidRequest("limit: Input should be a valid integer", param="limit") from None
    if limit < 1:
        raise InvalidRequest("limit: Input should be greater than or equal to 1", param="limit")
    if limit > MAX_LIMIT:
        raise InvalidRequest(f"limit: Input should be less than or equal to {MAX_LIMIT}", param="limit")
    return limit
