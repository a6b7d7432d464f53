"""The fault lab's admin API.

- ``/admin/faults``: GET the runtime configuration, PUT to replace it, PATCH to merge
  into it, DELETE to reset it to the startup settings (random streams and rate-limit
  buckets start again too).
- ``/admin/scenarios``: GET all (with positions), DELETE all;
  ``/admin/scenarios/{name}``: PUT to install (or reinstall: position and clock start
  again), GET, DELETE; ``POST /admin/scenarios/{name}/reset`` rewinds one.
- ``/admin/retries``: GET the retry telemetry (``?test_id=`` or ``?caller=`` for one
  caller), DELETE to clear it.

When ``MOCKVENDOR_ADMIN_TOKEN`` is set, every ``/admin`` route (these included, reads
too) needs it, checked once in front of the router (``mockvendor.security``); the check
on writes below is a second lock.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..errors import AuthenticationFailed, InvalidRequest, MockVendorError, NotFound
from ..http import JSONResponse, read_json
from .config import RuntimeConfig
from .policy import FaultPolicy
from .scenarios import parse_scenario

if TYPE_CHECKING:
    from ..context import AppContext

Handler = Callable[[Request], Awaitable[Response]]
WRITES = ("PUT", "PATCH", "POST", "DELETE")


def fault_admin_routes(ctx: AppContext) -> list[BaseRoute]:
    policy: FaultPolicy = ctx.faults
    token = ctx.settings.admin_token
    limit = ctx.settings.max_body_bytes

    def guarded(fn: Handler) -> Handler:
        async def handle(request: Request) -> Response:
            try:
                if token and request.method in WRITES:
                    given = request.headers.get("x-admin-token") or _bearer(request) or ""
                    if not hmac.compare_digest(given.encode(), token.encode()):
                        raise AuthenticationFailed(
                            "This admin endpoint needs the admin token (MOCKVENDOR_ADMIN_TOKEN) as "
                            "'Authorization: Bearer <token>' or 'x-admin-token'."
                        )
                return await fn(request)
            except MockVendorError as err:
                return JSONResponse({"error": {"type": err.kind, "message": err.message}}, err.status)

        return handle

    async def config_view() -> dict[str, Any]:
        cfg, _ = await policy.state()
        return {
            **cfg.to_json(),
            "status": {
                "seed": policy.seed,
                "allow_fault_headers": ctx.settings.allow_fault_headers,
                "rate_limit_by": ctx.settings.rate_limit_by,
                "inflight": policy.inflight,
                "store": policy.store.health(),
            },
        }

    async def body_of(request: Request) -> dict[str, Any]:
        body = await read_json(request, limit)
        if not isinstance(body, dict):
            raise InvalidRequest("The body must be a JSON object.")
        body.pop("status", None)  # read-only part of GET: a GET body can be PUT back as is
        return body

    async def faults(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(await config_view())
        if request.method == "DELETE":
            await policy.reset()
            return JSONResponse(await config_view())
        body = await body_of(request)
        names = policy.vendor_names

        def change(raw: bytes | None) -> bytes:
            current = RuntimeConfig.loads(raw) if raw else policy.defaults
            new = current.replaced(body, names) if request.method == "PUT" else current.patched(body, names)
            return new.dumps()

        await policy.store.update_doc("faults", change)
        return JSONResponse(await config_view())

    async def scenario_list(request: Request) -> Response:
        if request.method == "DELETE":
            await policy.store.set_doc("scenarios", None)
            await policy.store.clear("scn:")
            return JSONResponse({"scenarios": []})
        _, scenarios = await policy.state()
        positions = await policy.store.counters([s.counter_key() for s in scenarios.values()])
        return JSONResponse(
            {"scenarios": [s.to_json(p) for s, p in zip(scenarios.values(), positions, strict=True)]}
        )

    async def scenario_one(request: Request) -> Response:
        name = request.path_params["name"]
        if request.method == "PUT":
            spec = await body_of(request)
            scn = parse_scenario(name, spec, t0=policy.clock())
            entry = {"spec": spec, "gen": scn.gen, "t0": scn.t0}
            await policy.store.update_doc("scenarios", lambda raw: _with(raw, name, entry))
            return JSONResponse(scn.to_json(0), 201)
        _, scenarios = await policy.state()
        scn = scenarios.get(name)
        if scn is None:
            raise NotFound(f"No scenario named {name!r}; installed: {sorted(scenarios) or 'none'}.")
        if request.method == "DELETE":
            await policy.store.update_doc("scenarios", lambda raw: _with(raw, name, None))
            return JSONResponse({"deleted": name})
        (pos,) = await policy.store.counters([scn.counter_key()])
        return JSONResponse(scn.to_json(pos))

    async def scenario_reset(request: Request) -> Response:
        name = request.path_params["name"]
        _, scenarios = await policy.state()
        scn = scenarios.get(name)
        if scn is None:
            raise NotFound(f"No scenario named {name!r}; installed: {sorted(scenarios) or 'none'}.")
        fresh = parse_scenario(name, scn.spec, t0=policy.clock())
        entry = {"spec": scn.spec, "gen": fresh.gen, "t0": fresh.t0}
        await policy.store.update_doc("scenarios", lambda raw: _with(raw, name, entry))
        return JSONResponse(fresh.to_json(0))

    async def retries(request: Request) -> Response:
        if request.method == "DELETE":
            await policy.telemetry.reset()
            return JSONResponse({"callers": {}})
        q = request.query_params
        caller = q.get("caller") or (("test:" + q["test_id"]) if q.get("test_id") else None)
        return JSONResponse(await policy.telemetry.report(caller))

    return [
        Route("/admin/faults", guarded(faults), methods=["GET", "PUT", "PATCH", "DELETE"]),
        Route("/admin/scenarios", guarded(scenario_list), methods=["GET", "DELETE"]),
        Route("/admin/scenarios/{name}", guarded(scenario_one), methods=["GET", "PUT", "DELETE"]),
        Route("/admin/scenarios/{name}/reset", guarded(scenario_reset), methods=["POST"]),
        Route("/admin/retries", guarded(retries), methods=["GET", "DELETE"]),
    ]


def _with(raw: bytes | None, name: str, entry: dict[str, Any] | None) -> bytes | None:
    """The scenarios document with one entry set (None: removed); order is kept."""
    doc = orjson.loads(raw) if raw else {}
    if entry is None:
        doc.pop(name, None)
    else:
        doc.pop(name, None)  # a reinstalled scenario moves to the end
        doc[name] = entry
    return orjson.dumps(doc) if doc else None


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth[:7].lower() == "bearer " else None


def fault_lab_description() -> str:
    """The fault lab's part of the API document's description (the API docs page shows it):
    the admin API and every knob, from the same table the settings validate against."""
    from .config import KNOB_HELP

    return "\n\n".join([
        "Fault lab: every answer can be made to fail the way vendors fail. Per request with the "
        "`x-mockvendor-*` headers below; by test id or route with scenarios; at random and by load "
        "with these knobs, set per vendor (`MOCKVENDOR_<VENDOR>_<KNOB>`), for all vendors "
        "(`MOCKVENDOR_<KNOB>`), in the config file (`[faults.<vendor>]`) or at runtime:",
        "\n".join([
            "- `GET /admin/faults`: the runtime configuration; `PUT` replaces it, `PATCH` merges "
            "(`{\"vendors\": {\"*\": {\"rate_limit_rpm\": 60}}}`), `DELETE` resets it",
            "- `PUT /admin/scenarios/{name}`: a script such as `{\"steps\": [\"503\", \"503\", \"ok\"]}` "
            "for test id `name` (or a `route`), and timelines; `GET /admin/scenarios` shows positions",
            "- `GET /admin/retries?test_id=...`: every attempt, the hint given, the wait taken, violations",
        ]),
        "\n".join(f"- `{knob}`: {text}" for knob, text in KNOB_HELP.items()),
    ])
