"""The model listing's answers, declared once, in each vendor's shape: the renderers in
``openai``, ``anthropic/models.py`` and ``gemini/models.py`` build them and the OpenAPI
document shows them (:mod:`.model_list_openapi`)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

NextPage = Annotated[str, Meta(description="The `pageToken` of the next page; absent on the last.")]
Tokens = Annotated[int, Meta(description="The model's context window (null: unbounded).")]


class OpenAIModel(Struct):
    """OpenAI's ``Model``."""

    id: str
    created: int
    owned_by: str
    object: Literal["model"] = "model"


class OpenAIModelList(Struct):
    data: list[OpenAIModel]
    object: Literal["list"] = "list"


class AnthropicModel(Struct, kw_only=True):
    """Anthropic's ``ModelInfo``."""

    id: str
    display_name: str
    created_at: Annotated[str, Meta(extra_json_schema={"format": "date-time"}, description="RFC 3339.")]
    lifecycle: Literal["active", "deprecated", "retired"] = "active"
    max_input_tokens: Tokens | None
    max_tokens: int | None
    type: Literal["model"] = "model"


class AnthropicModelPage(Struct):
    data: list[AnthropicModel]
    has_more: Annotated[bool, Meta(description="More models lie in the direction asked.")]
    first_id: Annotated[str, Meta(description="The `before_id` of the previous page.")] | None
    last_id: Annotated[str, Meta(description="The `after_id` of the next page.")] | None


class GeminiModel(Struct, kw_only=True, omit_defaults=True):
    """Google's ``Model``; embedding models have no sampling fields."""

    name: Annotated[str, Meta(pattern="^models/", examples=["models/gemini-2.0-flash"])]
    version: str
    displayName: str
    description: str
    inputTokenLimit: int
    outputTokenLimit: int
    supportedGenerationMethods: Annotated[list[str], Meta(
        description="generateContent, streamGenerateContent, countTokens; embedding models (names with `embed`) "
        "embedContent, batchEmbedContents, countTokens.")]
    temperature: float | None = None
    topP: float | None = None
    topK: int | None = None
    maxTemperature: float | None = None
    thinking: Annotated[bool, Meta(description="Whether the model thinks (thinkingConfig).")] | None = None


class GeminiModelList(Struct, omit_defaults=True):
    models: list[GeminiModel]
    nextPageToken: NextPage | None = None
