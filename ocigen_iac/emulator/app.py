"""The ASGI application: routing, and the request pipeline every API call goes through:

    match route -> faults (latency, drop, 429, 5xx) -> auth -> OpenAI-Project -> opc-compartment-id
    -> handler -> lost-create fault -> counters -> response (the access-log line is written before
    the response's last body chunk, so a client that has its answer can already read the line).

Routes live where OCI puts them: vector-store CRUD only under the management prefix
/20231130/openai/v1; files, vector-store files, batches, search and containers only under the
data-plane prefix /openai/v1 (no /containers at all with `no_containers`). The other prefix
answers 404. /n routes (Object Storage) get faults and auth but not the project/compartment
checks; /_admin routes get none of it and only answer loopback clients.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from . import admin, api_containers, api_files, api_vector_stores, control_plane, objectstorage
from .auth import authenticate
from .config import EmulatorConfig
from .context import BodyCheck, Ctx
from .core import Emulator
from .errors import ApiError, OsError
from .faults import DATA_PREFIX, MANAGEMENT_PREFIX
from .responses import JSONResponse
from .router import Route, Router

log = logging.getLogger("ocigen_iac.emulator")
LOOPBACK = {"127.0.0.1", "::1", "localhost", "testclient"}
OCI_FAMILIES = ("os", "cp")  # native OCI routes: {"code", "message"} errors and opc-request-id


def _family_of(path: str) -> str:
    """The family of an unmatched path, so its 404/405 has the right shape."""
    if path.startswith("/n"):
        return "os"
    if path.startswith("/20231130/") and not path.startswith("/20231130/openai/"):
        return "cp"
    return "api"


def build_router(config: EmulatorConfig) -> Router:
    router = Router()
    api = [*api_files.ROUTES, *api_vector_stores.ROUTES, *([] if config.no_containers else api_containers.ROUTES)]
    for r in api:
        prefix = MANAGEMENT_PREFIX if r.management else DATA_PREFIX
        router.add(Route(r.method, prefix + r.template, r.handler, r.family, r.management, r.create))
    for r in (*objectstorage.ROUTES, *control_plane.ROUTES, *admin.ROUTES):
        router.add(r)
    return router


def _drop_connection(send: Any) -> bool:
    """Close the TCP connection without a response (uvicorn's h11 protocol exposes the transport)."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        return False
    transport.abort()
    cycle.disconnected = True
    return True


class EmulatorApp:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.router = build_router(emu.config)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        await self._http(scope, receive, send)

    async def _http(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        emu = self.emu
        t0 = time.perf_counter()
        method, path = scope["method"], scope["path"]
        route, params, known = self.router.match(method, path)
        request = Request(scope, receive)
        if route is not None and route.family == "admin":
            client = (scope.get("client") or ("",))[0]
            if client not in LOOPBACK:
                resp: Response = JSONResponse(ApiError(403, "admin routes are loopback-only").body(), 403)
            else:
                try:
                    resp = await self._run(route, request, params, BodyCheck(None), "api")
                except ApiError as exc:
                    resp = self._error(exc, "admin")
            await resp(scope, receive, send)
            return
        family = route.family if route is not None else _family_of(path)
        key = f"{method} {route.template}" if route is not None else f"{method} <unmatched>"
        emu.counters.arrive(key)  # before any injected latency: a test can act while a request waits
        try:
            decision = emu.faults.decide(method, path, bool(route and route.create))
            if decision.latency_s:
                await asyncio.sleep(decision.latency_s)
            if decision.action == "drop" and _drop_connection(send):
                emu.counters.inject("drop")
                self._dropped(key, method, path, t0)
                return
            if decision.action == "429":
                emu.counters.inject("429")
                ra = emu.faults.faults.retry_after_s
                raise ApiError(
                    429,
                    "Rate limit exceeded (injected by the emulator). Retry after the indicated delay.",
                    code="rate_limit_exceeded",
                    headers={
                        "retry-after": f"{ra:g}" if ra == int(ra) else str(int(ra) + 1),
                        "retry-after-ms": str(int(ra * 1000)),
                    },
                )
            if decision.action == "5xx":
                emu.counters.inject("5xx")
                raise ApiError(500, "Internal server error (injected by the emulator).", code="server_error")
            if route is None:
                if known:
                    raise ApiError(405, f"Method {method} is not allowed on {path}.", code="method_not_allowed")
                raise ApiError(404, f"Unknown route {method} {path}.", code="not_found")
            resp = await self._api(route, request, params)
            if decision.lost and 200 <= resp.status_code < 300:
                emu.counters.inject("lost_create")
                if decision.lost == "drop" and _drop_connection(send):
                    self._dropped(key, method, path, t0)
                    return
                raise ApiError(500, "Internal server error (injected after a successful create).", code="server_error")
        except (ApiError, OsError) as exc:
            resp = self._error(exc, family)
        except ClientDisconnect:  # the client went away mid-body (killed, timed out): nothing to answer
            self._dropped(key, method, path, t0)
            return
        except Exception:
            log.exception("unhandled error on %s %s", method, path)
            resp = self._error(ApiError(500, "Internal server error.", code="server_error"), family)
        status = resp.status_code
        if family in OCI_FAMILIES:
            resp.headers.setdefault("opc-request-id", uuid.uuid4().hex.upper())
        emu.counters.record(key, status)
        logged = False

        async def send_logged(message: dict[str, Any]) -> None:
            nonlocal logged
            if message["type"] == "http.response.body" and not message.get("more_body") and not logged:
                logged = True
                self._log(method, path, status, t0)
            await send(message)

        try:
            await resp(scope, receive, send_logged)
        finally:
            if not logged:  # the body never completed (the client went away)
                self._log(method, path, status, t0)

    def _dropped(self, key: str, method: str, path: str, t0: float) -> None:
        self.emu.counters.record(key, None)
        self._log(method, path, None, t0)

    def _log(self, method: str, path: str, status: int | None, t0: float) -> None:
        if self.emu.config.access_log:
            ms = (time.perf_counter() - t0) * 1000
            print(f"{method} {path} {status if status is not None else 'DROP'} {ms:.1f}ms", flush=True)

    def _error(self, exc: ApiError | OsError, family: str) -> Response:
        if isinstance(exc, OsError):
            return JSONResponse({"code": exc.code, "message": exc.message}, exc.status)
        if family in OCI_FAMILIES:
            return JSONResponse({"code": exc.code or "Error", "message": exc.message}, exc.status, headers=exc.headers)
        status = exc.status
        if exc.missing and family == "api" and self.emu.config.missing_is_400:
            status = 400  # servers that answer 400 for a missing object
        return JSONResponse(exc.body(), status, headers=exc.headers)

    async def _api(self, route: Route, request: Request, params: dict[str, str]) -> Response:
        cfg = self.emu.config
        target = scope_target(request.scope)
        auth = authenticate(
            cfg, request.method, target, request.headers, body_headers_required=route.family in ("api", "cp")
        )
        if route.family == "api":
            if cfg.require_project and not request.headers.get("openai-project"):
                raise ApiError(
                    400,
                    "The OpenAI-Project header (project OCID) is required.",
                    param="OpenAI-Project",
                    code="missing_project",
                )
            if (
                route.management
                and cfg.require_compartment
                and not (request.headers.get("opc-compartment-id") or request.headers.get("compartmentid"))
            ):
                raise ApiError(
                    400,
                    "Compartment ID must be provided: send the opc-compartment-id header.",
                    param="opc-compartment-id",
                    code="missing_compartment",
                )
        return await self._run(route, request, params, BodyCheck(auth.expected_sha256), route.family)

    async def _run(
        self, route: Route, request: Request, params: dict[str, str], check: BodyCheck, family: str
    ) -> Response:
        ctx = Ctx(self.emu, request, params, check)
        return await route.handler(ctx)


def scope_target(scope: dict[str, Any]) -> str:
    raw = scope.get("raw_path") or scope["path"].encode()
    target = raw.decode("latin-1")
    if scope.get("query_string"):
        target += "?" + scope["query_string"].decode("latin-1")
    return target
