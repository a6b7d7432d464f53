"""Function calling on the Gemini-compatible API, driven by the official google-genai SDK:
against a real server process over real sockets (echo engine, so it is fast), and once on the
real embedded model in-process."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as gt

from mockvendor import Settings

from .helpers import ServerProcess, assert_vendor_error, running
from .sse import data_json

MODEL = "gemini-2.0-flash"  # answered by echo on this module's server
GEMINI_3 = "gemini-3-flash"  # a Gemini 3 name: its calls carry ids
QUESTION = "What is the weather in Paris today?"

# Google's OpenAPI subset, upper-case types, as the SDK sends it.
WEATHER_SCHEMA: dict[str, Any] = {
    "type": "OBJECT",
    "properties": {
        "city": {"type": "STRING", "description": "The city, e.g. Paris"},
        "unit": {"type": "STRING", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "INTEGER", "minimum": 1, "maximum": 7},
    },
    "required": ["city", "unit"],
}
# Plain JSON Schema, sent as parametersJsonSchema.
TIME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"timezone": {"type": "string"}, "format24h": {"type": "boolean"}},
    "required": ["timezone", "format24h"],
    "additionalProperties": False,
}
WEATHER = gt.FunctionDeclaration(
    name="get_weather", description="Get the current weather for a city",
    parameters=gt.Schema.model_validate(WEATHER_SCHEMA),
)
CLOCK = gt.FunctionDeclaration(
    name="get_time", description="Get the current time in a timezone", parameters_json_schema=TIME_SCHEMA
)
SCHEMAS = {"get_weather": WEATHER_SCHEMA, "get_time": TIME_SCHEMA}


def json_schema(schema: Any) -> Any:
    """Google's schema as JSON Schema: its types lower-cased."""
    if isinstance(schema, dict):
        return {k: v.lower() if k == "type" and isinstance(v, str) else json_schema(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [json_schema(v) for v in schema]
    return schema


def assert_valid_args(call: gt.FunctionCall) -> None:
    assert call.name in SCHEMAS, call
    jsonschema.validate(call.args, json_schema(SCHEMAS[call.name]))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real server with every model name on the echo engine (no model to load)."""
    names = [*Settings.from_env(env={}, dotenv=None).models, GEMINI_3]
    config = tmp_path_factory.mktemp("tools-gemini") / "mockvendor.toml"
    config.write_text("".join(f'[models."{n}"]\nengine = "echo"\n' for n in dict.fromkeys(names)))
    yield from running({"MOCKVENDOR_FAULTS": "off", "MOCKVENDOR_CONFIG": str(config), "OPENAI_API_KEY": ""}, )


@pytest.fixture(scope="module")
def gg(server: ServerProcess) -> genai.Client:
    """One SDK client for the module (a collected genai.Client closes its HTTP client mid-call)."""
    return genai.Client(api_key="AIza-test", http_options=gt.HttpOptions(base_url=server.url))


def config(*decls: gt.FunctionDeclaration, mode: str | None = None, allowed: list[str] | None = None,
           **kw: Any) -> gt.GenerateContentConfig:
    tool_config = None
    if mode is not None or allowed is not None:
        fcc = gt.FunctionCallingConfig(mode=gt.FunctionCallingConfigMode(mode) if mode else None,
                                       allowed_function_names=allowed)
        tool_config = gt.ToolConfig(function_calling_config=fcc)
    return gt.GenerateContentConfig(
        tools=[gt.Tool(function_declarations=list(decls or (WEATHER,)))], tool_config=tool_config, seed=3,
        automatic_function_calling=gt.AutomaticFunctionCallingConfig(disable=True), **kw,
    )


def only_call(response: gt.GenerateContentResponse) -> gt.FunctionCall:
    assert response.function_calls and len(response.function_calls) == 1, response
    (call,) = response.function_calls
    assert_valid_args(call)
    return call


# -- a call ------------------------------------------------------------------------------
@pytest.mark.parametrize("api_version", [None, "v1beta"])
def test_generate_content_calls_the_weather_function(server: ServerProcess, api_version: str | None) -> None:
    client = genai.Client(api_key="AIza-test",
                          http_options=gt.HttpOptions(base_url=server.url, api_version=api_version))
    r = client.models.generate_content(model=MODEL, contents=QUESTION, config=config())
    call = only_call(r)
    assert call.name == "get_weather" and call.args and call.args["city"] == "Paris"
    assert call.id is None  # Gemini 2.x gives its calls no id
    assert r.candidates and r.candidates[0].finish_reason == gt.FinishReason.STOP
    assert r.candidates[0].content and r.candidates[0].content.role == "model"
    usage = r.usage_metadata
    assert usage and usage.prompt_token_count and usage.candidates_token_count
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count


def test_parameters_json_schema_and_the_best_matching_tool(gg: genai.Client) -> None:
    r = gg.models.generate_content(model=MODEL, contents="What time is it in the Europe/Paris timezone?",
                                   config=config(WEATHER, CLOCK))
    call = only_call(r)
    assert call.name == "get_time" and call.args and set(call.args) == {"timezone", "format24h"}


def test_stream_yields_the_same_call_whole(gg: genai.Client, server: ServerProcess) -> None:
    plain = gg.models.generate_content(model=MODEL, contents=QUESTION, config=config())
    chunks = list(gg.models.generate_content_stream(model=MODEL, contents=QUESTION, config=config()))
    calls = [c for chunk in chunks for c in chunk.function_calls or []]
    assert [(c.name, c.args) for c in calls] == [(c.name, c.args) for c in plain.function_calls or []]
    last = chunks[-1]
    assert last.candidates and last.candidates[0].finish_reason == gt.FinishReason.STOP
    assert last.usage_metadata == plain.usage_metadata
    # On the wire: one event holding the whole call, finishReason and usage (as Gemini sends it).
    body = {"contents": [{"role": "user", "parts": [{"text": QUESTION}]}],
            "tools": [{"functionDeclarations": [{"name": "get_weather", "parameters": WEATHER_SCHEMA}]}]}
    wire = httpx.post(f"{server.url}/v1beta/models/{MODEL}:streamGenerateContent?alt=sse", json=body)
    (event,) = data_json(wire.text)
    (part,) = event["candidates"][0]["content"]["parts"]
    assert set(part) == {"functionCall"} and set(part["functionCall"]) == {"name", "args"}
    jsonschema.validate(part["functionCall"]["args"], json_schema(WEATHER_SCHEMA))
    assert event["candidates"][0]["finishReason"] == "STOP" and event["usageMetadata"]["totalTokenCount"] > 0


def test_same_request_same_call(gg: genai.Client) -> None:
    a, b = (gg.models.generate_content(model=GEMINI_3, contents=QUESTION, config=config(WEATHER, CLOCK))
            for _ in range(2))
    assert only_call(a).model_dump() == only_call(b).model_dump()


# -- the loop ----------------------------------------------------------------------------
@pytest.mark.parametrize("model", [MODEL, GEMINI_3])
def test_loop_question_call_result_answer(gg: genai.Client, model: str) -> None:
    history: list[gt.Content] = [gt.Content(role="user", parts=[gt.Part.from_text(text=QUESTION)])]
    first = gg.models.generate_content(model=model, contents=history, config=config())
    call = only_call(first)
    assert (call.id is not None) == (model == GEMINI_3)  # Gemini 3 ids every call, to be echoed back
    assert first.candidates and first.candidates[0].content
    history.append(first.candidates[0].content)
    result = gt.Part(function_response=gt.FunctionResponse(
        id=call.id, name=call.name, response={"temperature": 21, "sky": "clear"}
    ))
    history.append(gt.Content(role="user", parts=[result]))
    answer = gg.models.generate_content(model=model, contents=history, config=config())
    assert not answer.function_calls
    # The echo engine answers with what the model saw last: the function's result, as text.
    assert answer.text and "get_weather" in answer.text and "21" in answer.text
    streamed = list(gg.models.generate_content_stream(model=model, contents=history, config=config()))
    assert "".join(c.text or "" for c in streamed) == answer.text


def test_results_and_text_in_one_turn(server: ServerProcess) -> None:
    """Several functionResponse parts and a text part: the results, then the user's words."""
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": QUESTION}]},
            {"role": "model", "parts": [{"text": "Let me look."},
                                        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
                                        {"functionCall": {"name": "get_weather", "args": {"city": "Lyon"}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"c": 21}}},
                                       {"functionResponse": {"name": "get_weather", "response": {"c": 18}}},
                                       {"text": "And which one is warmer?"}]},
        ],
        "tools": [{"functionDeclarations": [{"name": "get_weather", "parameters": WEATHER_SCHEMA}]}],
        "toolConfig": {"functionCallingConfig": {"mode": "NONE"}},
    }
    r = httpx.post(f"{server.url}/v1beta/models/{MODEL}:generateContent", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["candidates"][0]["content"]["parts"] == [{"text": "And which one is warmer?"}]


# -- functionCallingConfig ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "allowed", "contents", "called"),
    [
        ("NONE", None, QUESTION, None),
        ("AUTO", None, QUESTION, "get_weather"),
        ("VALIDATED", None, QUESTION, "get_weather"),
        ("ANY", None, "Tell me a joke.", "get_weather"),  # forced, though nothing asks for it
        ("ANY", ["get_time"], QUESTION, "get_time"),  # the one allowed, though the question is the weather
        ("ANY", ["get_time", "get_weather"], QUESTION, "get_weather"),  # several allowed: the best of them
        ("AUTO", ["get_time"], QUESTION, "get_time"),
    ],
)
def test_function_calling_modes(
    gg: genai.Client, mode: str, allowed: list[str] | None, contents: str, called: str | None
) -> None:
    r = gg.models.generate_content(model=MODEL, contents=contents, config=config(WEATHER, CLOCK, mode=mode,
                                                                                   allowed=allowed))
    if called is None:
        assert not r.function_calls and r.text == contents
    else:
        assert only_call(r).name == called


# -- errors ------------------------------------------------------------------------------
def declared(*decls: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"functionDeclarations": list(decls)}]


WEATHER_DECL = {"name": "get_weather", "parameters": WEATHER_SCHEMA}
ASK = [{"role": "user", "parts": [{"text": QUESTION}]}]


@pytest.mark.parametrize(
    ("extra", "mentions"),
    [
        ({"tools": declared(WEATHER_DECL), "toolConfig": {"functionCallingConfig": {
            "mode": "ANY", "allowedFunctionNames": ["get_time"]}}}, "allowedFunctionNames"),
        ({"tools": declared(WEATHER_DECL), "toolConfig": {"functionCallingConfig": {"mode": "SOMETIMES"}}},
         "functionCallingConfig.mode"),
        ({"tools": declared({"name": "1st_tool"})}, "functionDeclarations[0].name"),
        ({"tools": declared({"name": "get weather"})}, "functionDeclarations[0].name"),
        ({"tools": declared({"name": "x" * 65})}, "functionDeclarations[0].name"),
        ({"tools": declared(WEATHER_DECL, {"name": "get_weather"})}, "functionDeclarations[1].name"),
        ({"tools": declared({"name": "f", "parameters": "OBJECT"})}, "functionDeclarations[0].parameters"),
        ({"tools": [{"googleSearch": {}}]}, "tools[0].googleSearch"),
        ({"tools": [*declared(WEATHER_DECL), {"codeExecution": {}}]}, "tools[1].codeExecution"),
        ({"tools": [{"url_context": {}}]}, "tools[0].urlContext"),
        ({"tools": {"functionDeclarations": []}}, "tools"),
        ({"contents": [{"role": "user", "parts": [{"functionCall": {"name": "get_weather"}}]}]},
         "contents[0].parts[0].functionCall"),
        ({"contents": [*ASK, {"role": "model", "parts": [{"functionResponse": {"name": "f", "response": {}}}]}]},
         "contents[1].parts[0].functionResponse"),
        ({"contents": [*ASK, {"role": "model", "parts": [{"functionCall": {"name": "f"}}]},
                       {"role": "user", "parts": [{"functionResponse": {"name": "f"}}]}]},
         "contents[2].parts[0].functionResponse.response"),
        ({"contents": [*ASK, {"role": "model", "parts": [{"functionCall": {"name": "f", "args": [1]}}]}]},
         "contents[1].parts[0].functionCall.args"),
    ],
)
def test_bad_tool_requests(server: ServerProcess, extra: dict[str, Any], mentions: str) -> None:
    body = {"contents": copy.deepcopy(ASK), **extra}
    r = httpx.post(f"{server.url}/v1beta/models/{MODEL}:generateContent", json=body)
    err = assert_vendor_error("gemini", r, 400, mentions=mentions)["error"]
    assert err["code"] == 400 and err["status"] == "INVALID_ARGUMENT"


@pytest.mark.parametrize(
    ("cfg", "mentions"),
    [
        (config(WEATHER, mode="ANY", allowed=["get_time"]), "allowedFunctionNames"),
        (config(gt.FunctionDeclaration(name="get weather")), "name"),
        (gt.GenerateContentConfig(tools=[gt.Tool(google_search=gt.GoogleSearch())]), "googleSearch"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_sdk_raises_invalid_argument(gg: genai.Client, cfg: gt.GenerateContentConfig, mentions: str,
                                     stream: bool) -> None:
    with pytest.raises(genai_errors.ClientError) as e:
        if stream:
            list(gg.models.generate_content_stream(model=MODEL, contents=QUESTION, config=cfg))
        else:
            gg.models.generate_content(model=MODEL, contents=QUESTION, config=cfg)
    assert (e.value.code, e.value.status) == (400, "INVALID_ARGUMENT")
    assert e.value.message and mentions in e.value.message


# -- the real model ----------------------------------------------------------------------
async def test_loop_on_the_real_model_ends_in_text(model_app: Any) -> None:
    """In-process on SmolLM2: question, call, result, and then the model's own words."""
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=model_app), base_url="http://test", timeout=120)
    client = genai.Client(api_key="AIza-test",
                          http_options=gt.HttpOptions(base_url="http://test", httpx_async_client=http))
    cfg = config(max_output_tokens=24)
    try:
        history = [gt.Content(role="user", parts=[gt.Part.from_text(text=QUESTION)])]
        first = await client.aio.models.generate_content(model=MODEL, contents=history, config=cfg)
        call = only_call(first)
        assert first.candidates and first.candidates[0].content
        history += [
            first.candidates[0].content,
            gt.Content(role="user", parts=[gt.Part.from_function_response(
                name=call.name or "", response={"temperature_celsius": 21, "sky": "sunny"}
            )]),
        ]
        answer = await client.aio.models.generate_content(model=MODEL, contents=history, config=cfg)
        assert not answer.function_calls
        assert answer.text and answer.text.strip()
        assert answer.candidates and answer.candidates[0].finish_reason in (
            gt.FinishReason.STOP, gt.FinishReason.MAX_TOKENS
        )
    finally:
        await http.aclose()
