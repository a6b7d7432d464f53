"""The baseline: a bare Starlette route doing the same echo as vendor E."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def echo(request: Request) -> JSONResponse:
    body = await request.json()
    return JSONResponse({"response": "You entered " + body["prompt"]})


app = Starlette(routes=[Route("/vendor-e/messages", echo, methods=["POST"])])
