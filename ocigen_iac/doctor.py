"""`ocigen-iac doctor`: a read-only check of the configured target, with a fix per failure.

What it checks, each with one or two GET list calls (`limit=1`) and one search:

* TLS: each base URL is https (certificates verified) or plain http on loopback (the emulator);
* authentication on both hosts: the data plane (files, store files, search, containers) and
  vector-store management (create/list/get/update/delete of stores);
* the headers: `OpenAI-Project` accepted on the data plane, `opc-compartment-id` on management;
* which APIs answer: files, vector stores, vector store files, search, containers. Store files
  and search need a store: the first one the list returns (else "skipped"). A search counts as
  activity on that store (it refreshes its `last_active_at`); nothing is created or changed;
* clock skew: the server's `Date` header against the local clock. OCI refuses signed (IAM)
  requests more than 5 minutes off; for an API key it is only a warning.

An API the service does not serve (404 on its list route) is a failure, except containers: a
service without containers is fine for manifests that declare none. Without manifests to look
at, a missing containers API is a warning; with manifests that declare containers, a failure.

Never writes: no state is read or locked, and nothing on the service is created or changed.
"""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from ocigen_iac.api import ApiError, GenAIClient
    from ocigen_iac.settings import Settings

Status = Literal["ok", "warn", "fail", "skipped"]
MAX_SKEW_S = 300.0  # OCI's limit on a signed request's date
WARN_SKEW_S = 60.0
SEARCH_QUERY = "ocigen-iac doctor"

# the collections an API check covers (as resource types name them), to tell whether manifests need it
FILES, STORES, STORE_FILES, CONTAINERS = "/files", "/vector_stores", "/vector_stores/{id}/files", "/containers"
OPTIONAL = frozenset({CONTAINERS})  # a service may lack these; only declared objects need them


@dataclass
class Check:
    name: str
    status: Status
    detail: str
    fix: str | None = None


@dataclass
class Report:
    target: dict[str, str]
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return not any(c.status == "fail" for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "target": self.target, "checks": [asdict(c) for c in self.checks]}


@dataclass
class _Outcome:
    body: Any = None
    error: ApiError | None = None


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tls_check(name: str, url: str) -> Check:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https":
        return Check(name, "ok", f"https to {host}, certificate verified")
    if parts.scheme == "http" and _loopback(host):
        return Check(name, "ok", f"plain http on loopback ({host}: the emulator)")
    return Check(name, "fail", f"{url} is not https", "use an https:// endpoint (plain http only for loopback)")


def clock_check(server_date: tuple[str, float] | None, iam: bool) -> Check:
    """Compare the server's `Date` header with the local clock at the moment it arrived."""
    name = "clock skew"
    if server_date is None:
        return Check(name, "skipped", "no response carried a Date header")
    header, local = server_date
    try:
        server = email.utils.parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError, IndexError):
        return Check(name, "skipped", f"the server's Date header is not a date: {header!r}")
    skew = local - server  # positive: the local clock is ahead
    side = "ahead of" if skew >= 0 else "behind"
    shown = f"local clock {side} the server by {abs(skew):.0f} s (Date has 1 s resolution)"
    fix = "synchronise the clock (NTP, e.g. `chronyc makestep` or `timedatectl set-ntp true`)"
    if abs(skew) > MAX_SKEW_S:
        if iam:
            return Check(name, "fail", f"{shown}; OCI refuses signed requests more than 5 minutes off", fix)
        return Check(name, "warn", f"{shown}; harmless with an API key, fatal with IAM signing", fix)
    if abs(skew) > WARN_SKEW_S:
        return Check(name, "warn", shown, fix)
    return Check(name, "ok", shown)


def _is_auth(e: ApiError) -> bool:
    return e.status in (401, 403)


def _mentions(e: ApiError, word: str) -> bool:
    return e.status == 400 and (word in (e.message or "").lower() or word in (e.code or "").lower())


def _short(e: ApiError) -> str:
    head = " ".join(str(x) for x in (f"HTTP {e.status}" if e.status else "", e.code or "") if x)
    return f"{head}: {e.message}" if head else e.message


class _Doctor:
    def __init__(self, settings: Settings, client: GenAIClient, declared: set[str] | None) -> None:
        self.s = settings
        self.c = client
        self.declared = declared  # collections the manifests need; None = no manifests given
        self.checks: list[Check] = []
        self.auth = "the embedded emulator's key (--local)" if settings.local else client.auth_description

    # -- endpoints ------------------------------------------------------------------------------
    def _management_fix(self) -> str:
        region, realm = self.s.region, self.s.realm_domain
        iam = f"https://generativeai.{region}.oci.{realm}/20231130/openai/v1"
        key = f"https://inference.generativeai.{region}.oci.{realm}/20231130/openai/v1"
        same_host = urlsplit(self.c.vector_store_base).netloc == urlsplit(self.c.inference_base).netloc
        if same_host:
            return (f"vector-store management answered 404 on the inference host: set endpoints.vector_stores "
                    f"to {iam}")
        return f"set endpoints.vector_stores to the management base ({iam}, or {key} with an API key)"

    def _inference_fix(self) -> str:
        return (f"set endpoints.inference to https://inference.generativeai.{self.s.region}.oci."
                f"{self.s.realm_domain}/openai/v1 (region and realm must match the project)")

    # -- calls ----------------------------------------------------------------------------------
    async def _get(self, call: Callable[[], Awaitable[Any]]) -> _Outcome:
        from ocigen_iac.api import ApiError

        try:
            return _Outcome(body=await call())
        except ApiError as exc:
            return _Outcome(error=exc)

    def _list(self, path: str, route: str, management: bool = False) -> Callable[[], Awaitable[Any]]:
        return lambda: self.c.probe("GET", path, route=route, management=management, params={"limit": 1})

    async def run(self) -> list[Check]:
        self.checks += [tls_check("TLS (data plane)", self.c.inference_base),
                        tls_check("TLS (vector-store management)", self.c.vector_store_base)]
        files, stores, containers = await asyncio.gather(
            self._get(self._list("/files", "/files")),
            self._get(self._list("/vector_stores", "/vector_stores", management=True)),
            self._get(self._list("/containers", "/containers")))
        self._host("data plane", files, self.c.inference_base)
        self._host("vector-store management", stores, self.c.vector_store_base)
        self._headers(files, stores)
        self._api("files API", FILES, files, self._inference_fix())
        self._api("vector stores API", STORES, stores, self._management_fix())
        await self._store_apis(stores)
        self._api("containers API", CONTAINERS, containers, self._inference_fix(), upstream=files)
        self.checks.append(clock_check(self.c.server_date, self.s.auth.is_iam))
        return self.checks

    def _host(self, host: str, got: _Outcome, url: str) -> None:
        from ocigen_iac.api import NotFound, TransportFailed

        name = f"authentication ({host})"
        e = got.error
        if e is None or (e.status == 400):  # a 400 about headers came after authentication
            self.checks.append(Check(name, "ok", f"{self.auth} accepted by {urlsplit(url).netloc}"))
        elif _is_auth(e):
            self.checks.append(Check(name, "fail", _short(e), e.hint or "check the credentials"))
        elif isinstance(e, TransportFailed):
            self.checks.append(Check(name, "fail", f"cannot reach {urlsplit(url).netloc}: {e.message}",
                                     "check the region, the endpoint URL and the network / proxy settings"))
        elif isinstance(e, NotFound):
            self.checks.append(Check(name, "skipped", f"{urlsplit(url).netloc} answered 404: nothing to authenticate"))
        else:
            self.checks.append(Check(name, "skipped", f"not known: {_short(e)}"))

    def _headers(self, files: _Outcome, stores: _Outcome) -> None:
        project = self.s.project
        e = files.error if files.error is not None and _mentions(files.error, "project") else \
            stores.error if stores.error is not None and _mentions(stores.error, "project") else None
        fix = "set `project:` in ocigen.yaml (or OCIGEN_PROJECT) to the Generative AI project's OCID"
        if e is not None:
            self.checks.append(Check("project header", "fail",
                                     f"OpenAI-Project {project or '(not set)'}: {_short(e)}", fix))
        elif files.error is None:
            self.checks.append(Check("project header", "ok", f"OpenAI-Project {project or '(not set)'} accepted"))
        else:
            self.checks.append(Check("project header", "skipped" if project else "warn",
                                     "not checked (the data plane did not answer)" if project else
                                     "no project is configured", None if project else fix))
        compartment = self.s.compartment
        fix = "set `compartment:` in ocigen.yaml (or OCIGEN_COMPARTMENT) to the compartment's OCID"
        e = stores.error
        if e is not None and _mentions(e, "compartment"):
            self.checks.append(Check("compartment header", "fail",
                                     f"opc-compartment-id {compartment or '(not set)'}: {_short(e)}", fix))
        elif e is None:
            self.checks.append(Check("compartment header", "ok",
                                     f"opc-compartment-id {compartment or '(not set, not required)'} accepted"))
        elif compartment is None:
            self.checks.append(Check("compartment header", "warn", "no compartment is configured (not checked: "
                                     "vector-store management did not answer)", fix))
        else:
            self.checks.append(Check("compartment header", "skipped",
                                     "not checked (vector-store management did not answer)"))

    def _api(self, name: str, collection: str, got: _Outcome, fix_404: str, *, upstream: _Outcome | None = None,
             detail: str = "answers") -> None:
        from ocigen_iac.api import NotFound

        e = got.error
        if e is None:
            self.checks.append(Check(name, "ok", detail))
            return
        if _is_auth(e) or _mentions(e, "project") or _mentions(e, "compartment"):  # reported above
            self.checks.append(Check(name, "skipped", f"not checked: {_short(e)}"))
            return
        if isinstance(e, NotFound):
            if collection in OPTIONAL and (upstream is None or upstream.error is None):
                if self.declared is None:
                    self.checks.append(Check(name, "warn", f"not served ({e.method} {e.url} answered 404); fine "
                                             "unless the manifests declare such objects"))
                elif collection in self.declared:
                    self.checks.append(Check(name, "fail", f"not served ({e.method} {e.url} answered 404), but the "
                                             "manifests declare such objects", "remove those documents, or point "
                                             "endpoints.inference at a service that serves them"))
                else:
                    self.checks.append(Check(name, "ok", "not served, and the manifests declare none"))
                return
            self.checks.append(Check(name, "fail", f"{e.method} {e.url} answered 404", fix_404))
            return
        self.checks.append(Check(name, "fail", _short(e), e.hint))

    async def _store_apis(self, stores: _Outcome) -> None:
        data = (stores.body or {}).get("data") if isinstance(stores.body, dict) else None
        if stores.error is not None or not data:
            why = "vector-store management did not answer" if stores.error is not None else \
                "no vector store to try them on"
            self.checks += [Check("vector store files API", "skipped", why), Check("search API", "skipped", why)]
            return
        store = data[0].get("id")
        files, found = await asyncio.gather(
            self._get(self._list(f"/vector_stores/{store}/files", "/vector_stores/{id}/files")),
            self._get(lambda: self.c.probe("POST", f"/vector_stores/{store}/search", route="/vector_stores/{id}/search",
                                           json={"query": SEARCH_QUERY, "max_num_results": 1})))
        lag = "the data plane does not know that store yet (a new store takes a while), or endpoints.inference " \
              "points at another region"
        self._api("vector store files API", STORE_FILES, files, lag, detail=f"answers (on {store})")
        self._api("search API", STORE_FILES, found, lag, detail=f"answers (searched {store})")


async def diagnose(settings: Settings, client: GenAIClient, declared: set[str] | None) -> Report:
    """Run every check against `client`'s target. `declared`: collections the manifests need."""
    doctor = _Doctor(settings, client, declared)
    checks = await doctor.run()
    target = {"data plane": client.inference_base, "vector-store management": client.vector_store_base,
              "auth": doctor.auth}
    return Report(target, checks)


def render(report: Report) -> str:
    width = max(len(c.name) for c in report.checks)
    lines = [f"Target: {report.target['data plane']} (data plane)",
             f"        {report.target['vector-store management']} (vector-store management)",
             f"        {report.target['auth']}", "",
             f"{'CHECK'.ljust(width)}  {'RESULT'.ljust(7)}  DETAIL"]
    for c in report.checks:
        lines.append(f"{c.name.ljust(width)}  {c.status.ljust(7)}  {c.detail}")
    fixes = [c for c in report.checks if c.fix and c.status in ("fail", "warn")]
    if fixes:
        lines += ["", "How to fix:"]
        lines += [f"  {c.name}: {c.fix}" for c in fixes]
    failed = sum(c.status == "fail" for c in report.checks)
    warned = sum(c.status == "warn" for c in report.checks)
    lines += ["", (f"{failed} check(s) failed" if failed else "All checks passed")
              + (f", {warned} warning(s)." if warned else ".")]
    return "\n".join(lines)


def declared_collections(desired: Any) -> set[str]:
    """The collections the manifests' objects live in (as their resource types name them)."""
    from ocigen_iac.engine.runner import declared_types
    from ocigen_iac.resources import registry

    return {registry.resource_type(t).collection for t in declared_types(desired) if registry.has_type(t)}


def run_doctor(settings: Settings, desired: Any | None, *, debug_log: Callable[[str], None] | None = None) -> Report:
    """Check `settings`' target (with --local: the embedded emulator, started as plan starts it)."""
    from ocigen_iac.api import ClientOptions, GenAIClient
    from ocigen_iac.engine.runner import LOCAL_API_KEY, local_emulator

    declared = declared_collections(desired) if desired is not None else None
    # quick answers: a doctor that retries for minutes does not tell anyone anything
    opts = ClientOptions(parallelism=4, max_attempts=2, deadline_s=30.0, timeout_s=20.0, debug_log=debug_log)
    with local_emulator(settings) as target:
        async def go() -> Report:
            async with GenAIClient(target, opts, api_key=LOCAL_API_KEY if target.local else None) as client:
                return await diagnose(target, client, declared)

        return asyncio.run(go())
