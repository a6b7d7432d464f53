"""The baseline: bare Starlette routes doing the same echo as vendor E and as the OpenAI
chat route on the ``echo`` model (a minimal chat completion in OpenAI's shape), and the echo
held for the delay a request asks for (``bench/held_requests.py``)."""

import asyncio
import time
import uuid

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def echo(request: Request) -> JSONResponse:
    body = await request.json()
    return JSONResponse({"response": "You entered " + body["prompt"]})


async def chat(request: Request) -> JSONResponse:
    body = await request.json()
    text = body["messages"][-1]["content"]
    n = len(text.split())
    return JSONResponse({
        "id": "chatcmpl-" + uuid.uuid4().hex, "object": "chat.completion", "created": int(time.time()),
        "model": body["model"],
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": None},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": n, "completion_tokens": n, "total_tokens": 2 * n},
    })


async def held(request: Request) -> JSONResponse:
    """The echo after the delay the request asks for (``x-mockvendor-delay-ms``), as vendor E does."""
    body = await request.json()
    await asyncio.sleep(int(request.headers.get("x-mockvendor-delay-ms", "0")) / 1000)
    return JSONResponse({"response": "You entered " + body["prompt"]})


app = Starlette(routes=[Route("/vendor-e/messages", echo, methods=["POST"]),
                        Route("/v1/chat/completions", chat, methods=["POST"]),
                        Route("/held", held, methods=["POST"])])
