"""The rules' admin API.

- ``/admin/rules`` (``?test_id=`` for one test's rules, else the global ones): GET lists
  them with their use counts; POST adds (a rule, a list, ``{"rules": [...]}``, aimock
  fixtures or mockllm responses; ``?first=1`` puts them first); PUT replaces; DELETE
  clears. ``/admin/rules/{name}``: DELETE one.
- ``POST /admin/rules/from-request/{id}``: a rule answering a logged request's last user
  message the way it was answered ("answer this the same way next time").
- ``/admin/cassettes/{test_id}``: PUT ``{"mode", "timing", "upstream", "rules"}`` binds a
  cassette to a test id; GET returns it with what it recorded (a rules file); DELETE unbinds.

Behind the admin token when one is set (``mockvendor.security`` closes ``/admin``; writes
are checked here again, as the fault lab's are).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..errors import AuthenticationFailed, InvalidRequest, MockVendorError, NotFound
from ..http import JSONResponse, read_json
from .cassette import Cassette
from .imports import rule_docs
from .learn import rule_from_record
from .spec import parse_rule

if TYPE_CHECKING:
    from ..context import AppContext

Handler = Callable[[Request], Awaitable[Response]]
WRITES = ("PUT", "PATCH", "POST", "DELETE")


def rule_admin_routes(ctx: AppContext) -> list[BaseRoute]:
    token = ctx.settings.admin_token
    limit = max(ctx.settings.max_body_bytes, 32 * 1024 * 1024)  # a cassette may be large

    def guarded(fn: Handler) -> Handler:
        async def handle(request: Request) -> Response:
            try:
                if token and request.method in WRITES:
                    auth = request.headers.get("authorization", "")
                    given = (request.headers.get("x-admin-token") or request.headers.get("x-mockvendor-admin-token")
                             or (auth[7:].strip() if auth[:7].lower() == "bearer " else ""))
                    if not hmac.compare_digest(given.encode(), token.encode()):
                        raise AuthenticationFailed("This admin endpoint needs the admin token "
                                                   "(MOCKVENDOR_ADMIN_TOKEN).")
                return await fn(request)
            except MockVendorError as err:
                return JSONResponse({"error": {"type": err.kind, "message": err.message}}, err.status)

        return handle

    def test_id_of(request: Request) -> str | None:
        return request.query_params.get("test_id") or None

    def listing(test_id: str | None) -> dict[str, Any]:
        book = ctx.rules
        if test_id is not None:
            rs = book.by_test.get(test_id)
            return {"test_id": test_id, "rules": [r.to_json() for r in rs.rules] if rs else []}
        return {"rules": [r.to_json() for r in book.global_rules.rules],
                "tests": {t: [r.to_json() for r in rs.rules] for t, rs in book.by_test.items()}}

    async def rules(request: Request) -> Response:
        test_id = test_id_of(request)
        if request.method == "GET":
            return JSONResponse(listing(test_id))
        if request.method == "DELETE":
            ctx.rules.clear(test_id)
            return JSONResponse(listing(test_id))
        body = await read_json(request, limit)
        docs = [body] if isinstance(body, dict) and ("match" in body or "answer" in body) else rule_docs(body)
        if request.method == "PUT":
            # All or nothing: the new set is parsed before the old one goes.
            for i, doc in enumerate(docs):
                parse_rule(doc, f"rules[{i}]", default_name="check")
            ctx.rules.clear(test_id)
        added = ctx.rules.add(docs, test_id, first=request.query_params.get("first") in ("1", "true"))
        return JSONResponse({"rules": [r.to_json() for r in added]}, 201 if request.method == "POST" else 200)

    async def rule_one(request: Request) -> Response:
        name = request.path_params["name"]
        test_id = test_id_of(request)
        rs = ctx.rules.global_rules if test_id is None else ctx.rules.by_test.get(test_id)
        if rs is None or not rs.remove(name):
            raise NotFound(f"No rule named {name!r}" + (f" for test id {test_id!r}." if test_id else "."))
        return JSONResponse({"deleted": name})

    async def from_request(request: Request) -> Response:
        rec = await ctx.requests.aget(request.path_params["id"])
        if rec is None:
            raise NotFound("No such request in the log.")
        doc = rule_from_record(rec)
        test_id = test_id_of(request)
        added = ctx.rules.add([doc], test_id, first=True)
        return JSONResponse({"rules": [r.to_json() for r in added]}, 201)

    async def cassette(request: Request) -> Response:
        test_id = request.path_params["test_id"]
        book = ctx.rules
        if request.method == "PUT":
            body = await read_json(request, limit)
            if not isinstance(body, dict):
                raise InvalidRequest("A cassette is an object with mode, timing, upstream and rules.")
            docs = rule_docs(body.get("rules") or [])
            fixtures = [parse_rule(d, f"rules[{i}]", default_name=f"rec-{i + 1}") for i, d in enumerate(docs)]
            book.cassettes[test_id] = Cassette(
                fixtures, str(body.get("mode", "none")), timing=str(body.get("timing", "recorded")),
                upstream=str(body.get("upstream") or ctx.settings.record_upstream), name=str(body.get("name", test_id)),
                redact_headers=tuple(h.strip() for h in ctx.settings.record_redact_headers.split(",") if h.strip()),
            )
            return JSONResponse(_view(book.cassettes[test_id]), 201)
        found = book.cassettes.get(test_id)
        if found is None:
            raise NotFound(f"No cassette for test id {test_id!r}.")
        if request.method == "DELETE":
            del book.cassettes[test_id]
        return JSONResponse(_view(found))

    return [
        Route("/admin/rules", guarded(rules), methods=["GET", "POST", "PUT", "DELETE"]),
        Route("/admin/rules/from-request/{id}", guarded(from_request), methods=["POST"]),
        Route("/admin/rules/{name}", guarded(rule_one), methods=["DELETE"]),
        Route("/admin/cassettes/{test_id}", guarded(cassette), methods=["GET", "PUT", "DELETE"]),
    ]


def _view(c: Cassette) -> dict[str, Any]:
    return {"name": c.name, "mode": c.mode, "timing": c.timing, "replays": c.replays, "records": c.records,
            "recorded": len(c.recorded), **c.to_doc()}
