"""OpenAPI path items for listing models: the shared ``/v1/models`` routes (OpenAI's shape,
or Anthropic's or Gemini's when the request carries that SDK's headers) and Gemini's own
``/v1beta/models`` routes."""

from __future__ import annotations

from typing import Any

from ..wire import schema
from . import model_list_wire as wire
from .openapi import (
    ANTHROPIC_ERROR,
    GEMINI_ERROR,
    GEMINI_ERRORS,
    OPENAI_ERROR,
    STR,
    _operation,
)

OPENAI_MODEL, ANTHROPIC_MODEL, GEMINI_MODEL = (schema(wire.OpenAIModel), schema(wire.AnthropicModel),
                                             schema(wire.GeminiModel))
OPENAI_LIST, ANTHROPIC_LIST, GEMINI_LIST = (schema(wire.OpenAIModelList), schema(wire.AnthropicModelPage),
                                            schema(wire.GeminiModelList))
# Which shape a /v1/models answer has depends on the request's headers.
SHAPES = (
    "OpenAI's shape; with an `anthropic-version` header (the Anthropic SDK always sends one) Anthropic's, "
    "with `x-goog-api-key` or `?key=` (google-genai) Gemini's."
)
ANY_ERROR = {"anyOf": [OPENAI_ERROR, ANTHROPIC_ERROR, GEMINI_ERROR], "description": "In the answering vendor's shape."}


def _param(name: str, where: str, schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": where, "required": False, "schema": schema, "description": description, **extra}


ANTHROPIC_VERSION = _param("anthropic-version", "header", STR, "Answer in Anthropic's shape.")
GOOG_KEY = _param("x-goog-api-key", "header", STR, "Gemini's key header.")
GOOG_QUERY_KEY = _param("key", "query", STR, "Gemini's key as a query parameter.")
PAGE_SIZE = _param("pageSize", "query", {"type": "integer", "minimum": 0}, "Gemini: models per page (0 or none: "
                   "50; above 1000: 1000). Negative: INVALID_ARGUMENT.")
PAGE_TOKEN = _param("pageToken", "query", STR, "Gemini: the previous page's `nextPageToken`; any other: "
                    "INVALID_ARGUMENT.")
ANTHROPIC_PAGING = [
    _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 20},
           "Anthropic: models per page; out of range, invalid_request_error."),
    _param("after_id", "query", STR, "Anthropic: the page right after this model id (the previous `last_id`)."),
    _param("before_id", "query", STR, "Anthropic: the page right before this model id (not with `after_id`)."),
]


def shared_paths(vendor: Any) -> dict[str, Any]:
    """``/v1/models`` and ``/v1/models/{model_id}``, served by the OpenAI vendor's routes."""
    headers = [ANTHROPIC_VERSION, _param("x-api-key", "header", STR, "Anthropic's key header."), GOOG_KEY,
               GOOG_QUERY_KEY]
    auth = {"401": "OpenAI's or Anthropic's authentication error (only when MOCKVENDOR_API_KEYS is set).",
            "403": "Gemini: no key (only when MOCKVENDOR_API_KEYS is set; a wrong Gemini key is a 400)."}
    model_param = {"name": "model_id", "in": "path", "required": True, "schema": STR}
    return {
        "/v1/models": {
            "get": _operation(
                vendor, "openai_list_models", "The configured model names: " + SHAPES, request=None, example=None,
                response={"anyOf": [OPENAI_LIST, ANTHROPIC_LIST, GEMINI_LIST]}, error=ANY_ERROR,
                errors={"400": "Anthropic's or Gemini's paging parameters out of range, or an unknown cursor.",
                        **auth},
                stream_doc=None, parameters=[*headers, *ANTHROPIC_PAGING, PAGE_SIZE, PAGE_TOKEN],
            )
        },
        "/v1/models/{model_id}": {
            "get": _operation(
                vendor, "openai_get_model", "One configured model: " + SHAPES, request=None, example=None,
                response={"anyOf": [OPENAI_MODEL, ANTHROPIC_MODEL, GEMINI_MODEL]}, error=ANY_ERROR,
                # A model id ending in ":generateContent" names the Gemini route, which only takes POST.
                errors={**auth, "404": "Unknown model: model_not_found, not_found_error or NOT_FOUND.",
                        "405": "The path names a POST-only route (e.g. Gemini's :generateContent)."},
                stream_doc=None, parameters=[model_param, *headers],
            )
        },
    }


def gemini_paths(vendor: Any) -> dict[str, Any]:
    """``/v1beta/models`` and ``/v1beta/models/{model}`` (the ``/v1`` ones are :func:`shared_paths`)."""
    model_param = {"name": "model", "in": "path", "required": True, "schema": STR, "example": "gemini-2.0-flash"}
    return {
        "/v1beta/models": {
            "get": _operation(
                vendor, "gemini_v1beta_list_models", "Gemini: the configured models, paged.", request=None,
                example=None, response=GEMINI_LIST, error=GEMINI_ERROR,
                errors={"400": "INVALID_ARGUMENT: a negative pageSize, an unknown pageToken or a wrong key "
                               "(MOCKVENDOR_API_KEYS set: reason API_KEY_INVALID).",
                        "403": GEMINI_ERRORS["403"]},
                stream_doc=None, parameters=[GOOG_KEY, PAGE_SIZE, PAGE_TOKEN],
            )
        },
        "/v1beta/models/{model}": {
            "get": _operation(
                vendor, "gemini_v1beta_get_model", "Gemini: one configured model.", request=None, example=None,
                response=GEMINI_MODEL, error=GEMINI_ERROR,
                errors={"400": "INVALID_ARGUMENT: a wrong key (MOCKVENDOR_API_KEYS set: reason API_KEY_INVALID).",
                        "403": GEMINI_ERRORS["403"], "404": "NOT_FOUND: unknown model."},
                stream_doc=None, parameters=[model_param, GOOG_KEY],
            )
        },
    }
