"""HTTP transport for the API client: one connection pool, limits, retries, errors, debug log.

This module owns *how* a request is sent, not *what* is sent:

* one `httpx.AsyncClient` (pool sized to `parallelism`), an adaptive (AIMD) limit bounding
  in-flight requests and an optional token bucket (`rps`) pacing attempts;
* the retry policy. Retryable: 408, 409, 429, 5xx (not 501), connect errors, read/write errors
  and timeouts. Wait = full-jitter exponential backoff `uniform(0, min(cap, base * 2**n))`,
  raised to at least the server's `retry-after-ms` / `Retry-After` (seconds or HTTP date). A
  server asking for more than `max_retry_after_s` (120 s) is not waited for: the call fails
  with a clear message. `max_attempts` and a total `deadline_s` bound every call;
* non-idempotent creates are retried only when the request certainly was not applied
  (connect error / pool timeout, 408, 409, 429). A 5xx or a network failure after the body may
  have been sent raises `OutcomeUnknown` so the engine can adopt instead of duplicating;
* IAM 401: credentials are reloaded once and the request re-signed;
* error mapping to `ApiError` subclasses, with the API key scrubbed from every message. Some
  servers answer 400 instead of 404 for a missing object; a 400 on a call addressed to one object
  (a GET, DELETE or POST whose route has an `{id}`) whose code or message says the object does
  not exist (`NotAuthorizedOrNotFound`, "not found", "does not exist", "no such") is raised as
  `NotFound`, so deletes, confirmations and refresh treat it as missing. Other 400s stay errors;
* the debug log: method, URL, status, latency, attempt; never headers or bodies.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email.utils
import functools
import hashlib
import json as _json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ocigen_iac.clock import Clock

from ._auth import AuthProvider
from ._exceptions import (
    ApiError,
    AuthFailed,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    TransportFailed,
    parse_error_body,
)
from ._limits import AdaptiveLimit
from ._upload import MultipartFile

__all__ = [
    "ClientOptions",
    "Clock",
    "TokenBucket",
    "Transport",
    "backoff_delay",
    "parse_retry_after",
    "redact_headers",
]

RETRYABLE_STATUS = frozenset({408, 409, 429})
NOT_APPLIED_STATUS = frozenset({408, 409, 429})  # a create answered with these did not happen
# A 400 that means "this object does not exist" (see the module docstring).
MISSING_CODES = frozenset({"notauthorizedornotfound", "not_found", "notfound", "resource_not_found"})
MISSING_MESSAGE = re.compile(r"\bnot found\b|\bdoes not exist\b|\bno such\b", re.IGNORECASE)
_DRAINED = httpx.ByteStream(b"")  # what a read response's stream is set to (see _attempt)
SENSITIVE_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "cookie", "set-cookie",
                               "proxy-authorization", "x-goog-api-key"})


@dataclass
class ClientOptions:
    """Tuning knobs for `GenAIClient` (all have production defaults)."""

    parallelism: int = 16  # most concurrent requests (and pool size); 429s lower it for a while (AIMD)
    rps: float | None = None  # optional cap on request attempts per second
    max_attempts: int = 6  # attempts per call, first one included
    deadline_s: float = 300.0  # total budget per call, retries and waits included
    timeout_s: float = 120.0  # per socket operation (read/write/pool)
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 20.0
    debug_log: Callable[[str], None] | None = None
    verify_tls: bool = True
    max_retry_after_s: float = 120.0  # a longer server-requested wait fails the call instead
    connect_timeout_s: float = 10.0


@functools.cache
def tls_context(verify: bool) -> Any:
    """One TLS context per process: loading the CA bundle costs ~50 ms, and a run opens a client
    for its plan and another for its apply (each in its own event loop). Honours SSL_CERT_FILE /
    SSL_CERT_DIR as httpx does (trust_env)."""
    return httpx.create_ssl_context(verify=verify, trust_env=True)


def backoff_delay(retry_no: int, base: float, cap: float, rand: float) -> float:
    """Full jitter: uniform(0, min(cap, base * 2**(retry_no-1))) with rand in [0, 1)."""
    exp = min(cap, base * (2 ** max(0, retry_no - 1)))
    return max(0.0, rand) * exp


def parse_retry_after(headers: httpx.Headers | dict[str, str], now: float | None = None) -> float | None:
    """Seconds the server asks us to wait: `retry-after-ms`, else `Retry-After` (secs or date)."""
    h = httpx.Headers(headers) if not isinstance(headers, httpx.Headers) else headers
    ms = h.get("retry-after-ms")
    if ms is not None:
        try:
            v = float(ms) / 1000.0
            if v >= 0 and v == v and v != float("inf"):
                return v
        except ValueError:
            pass
    ra = h.get("retry-after")
    if ra is None:
        return None
    ra = ra.strip()
    try:
        v = float(ra)
        if v >= 0 and v == v and v != float("inf"):
            return v
        return None
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(ra)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def redact_headers(headers: Iterable[tuple[str, str]] | dict[str, str]) -> dict[str, str]:
    """A copy of `headers` safe to log: credentials replaced by '***'."""
    items = headers.items() if isinstance(headers, dict) else headers
    out: dict[str, str] = {}
    for k, v in items:
        if k.lower() in SENSITIVE_HEADERS:
            scheme = v.split(" ", 1)[0] if " " in v else ""
            out[k] = f"{scheme} ***".strip() if scheme.lower() in ("bearer", "signature", "basic") else "***"
        else:
            out[k] = v
    return out


def missing_object(code: str | None, message: str | None) -> bool:
    """Does an error's code or message say the addressed object does not exist?"""
    return (code or "").lower() in MISSING_CODES or bool(MISSING_MESSAGE.search(message or ""))


class TokenBucket:
    """Paces attempts to `rate` per second (burst of one: strictly spaced)."""

    def __init__(self, rate: float, clock: Clock) -> None:
        if rate <= 0:
            raise ValueError("rps must be > 0")
        self.rate = rate
        self.clock = clock
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            now = self.clock.monotonic()
            wait = self._next - now
            self._next = max(now, self._next) + 1.0 / self.rate
        if wait > 0:
            await self.clock.sleep(wait)


@dataclass
class _Stats:
    requests: Counter[str] = field(default_factory=Counter)  # "METHOD /route/{id}" -> calls
    attempts: int = 0
    retries: int = 0
    retry_reasons: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    bytes_uploaded: int = 0
    outcome_unknown: int = 0

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "total_requests": sum(self.requests.values()),
            "attempts": self.attempts,
            "retries": self.retries,
            "retry_reasons": dict(self.retry_reasons),
            "statuses": dict(self.statuses),
            "bytes_uploaded": self.bytes_uploaded,
            "outcome_unknown": self.outcome_unknown,
        }


def _b64sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


class _Retry(Exception):
    """Internal: this attempt failed in a retryable way."""

    def __init__(self, reason: str, error: ApiError, server_wait: float | None = None) -> None:
        self.reason = reason
        self.error = error
        self.server_wait = server_wait


class Transport:
    def __init__(
        self,
        opts: ClientOptions,
        auth: AuthProvider,
        default_headers: dict[str, str],
        *,
        clock: Clock | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        if opts.parallelism < 1:
            raise ValueError("parallelism must be >= 1")
        if opts.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        self.opts = opts
        self.auth = auth
        self.clock = clock or Clock()
        self.default_headers = dict(default_headers)
        limits = httpx.Limits(max_connections=opts.parallelism, max_keepalive_connections=opts.parallelism)
        timeout = httpx.Timeout(opts.timeout_s, connect=min(opts.connect_timeout_s, opts.timeout_s))
        self.http = http or httpx.AsyncClient(
            limits=limits, timeout=timeout, verify=tls_context(opts.verify_tls), follow_redirects=False,
            trust_env=True,  # HTTPS_PROXY / SSL_CERT_FILE from the environment ...
            # ... but never send loopback traffic (the emulator) through a proxy
            mounts={"all://127.0.0.1": None, "all://localhost": None, "all://[::1]": None},
        )
        self._sem = AdaptiveLimit(opts.parallelism, self.clock)
        self._bucket = TokenBucket(opts.rps, self.clock) if opts.rps else None
        self.stats = _Stats()
        # the server's `Date` header on the last response, with the local time it arrived
        # (`ocigen-iac doctor` compares them: IAM signatures are refused past a few minutes of skew)
        self.server_date: tuple[str, float] | None = None

    async def aclose(self) -> None:
        await self.http.aclose()

    def stop_new_requests(self) -> None:
        """After Ctrl-C: requests in flight finish; the ones not sent yet never are (NotSent)."""
        self._sem.close()

    # -- redaction / logging --

    def scrub(self, text: str) -> str:
        for secret in self.auth.secrets():
            if secret:
                text = text.replace(secret, "***")
        return text

    def _log(self, line: str) -> None:
        if self.opts.debug_log is not None:
            with contextlib.suppress(Exception):
                self.opts.debug_log(self.scrub(line))

    # -- the call --

    async def request(
        self,
        method: str,
        url: str,
        *,
        route: str,
        operation: str,
        params: dict[str, Any] | None = None,
        json: Any = None,
        upload: MultipartFile | None = None,
        headers: dict[str, str] | None = None,
        idempotent: bool = True,
        not_found_hint: str | None = None,
        accept: str | None = None,
    ) -> httpx.Response:
        """Send with retries; return the successful response (body read) or raise ApiError."""
        method = method.upper()
        self.stats.requests[f"{method} {route}"] += 1
        await self.auth.prepare()
        body: bytes | None = None
        if json is not None:
            body = _json.dumps(json, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        elif method in ("POST", "PUT", "PATCH") and upload is None:
            body = b""
        sha: str | None = None
        if body is not None:
            sha = _b64sha256(body)
        elif upload is not None and self.auth.kind not in ("api_key", "none"):
            sha = await upload.sha256_b64()  # first pass: hash by streaming; second pass sends
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}
        object_call = "{id}" in route and method in ("GET", "DELETE", "POST")
        start = self.clock.monotonic()
        deadline = start + self.opts.deadline_s
        refreshed = False
        attempt = 0
        last_error: ApiError | None = None
        while True:
            attempt += 1
            try:
                return await self._attempt(
                    method, url, clean_params, body, sha, upload, headers, accept,
                    attempt=attempt, idempotent=idempotent, operation=operation,
                    not_found_hint=not_found_hint, object_call=object_call,
                )
            except _Retry as r:
                last_error = r.error
                if r.reason == "auth_refresh":
                    if not refreshed and await self.auth.refresh():
                        refreshed = True
                        self._log(f"{method} {url}: 401, reloaded {self.auth.kind} credentials, re-signing")
                        continue
                    raise r.error from None
                if r.server_wait is not None and r.server_wait > self.opts.max_retry_after_s:
                    err = r.error
                    err.message += (f"; the server asked to wait {r.server_wait:.0f} s before retrying, "
                                    f"more than the {self.opts.max_retry_after_s:.0f} s this tool waits")
                    err.hint = err.hint or "try again later, or lower --parallelism / the request rate"
                    raise err from None
                if attempt >= self.opts.max_attempts:
                    err = r.error
                    err.message += f" (gave up after {attempt} attempts)"
                    raise err from None
                wait = backoff_delay(attempt, self.opts.backoff_base_s, self.opts.backoff_cap_s,
                                     self.clock.random())
                if r.server_wait is not None:
                    wait = max(wait, r.server_wait)
                if self.clock.monotonic() + wait > deadline:
                    err = r.error
                    err.message += (f" (gave up after {attempt} attempts: the {self.opts.deadline_s:.0f} s "
                                    "deadline would pass before the next one)")
                    raise err from None
                self.stats.retries += 1
                self.stats.retry_reasons[r.reason] += 1
                self._log(f"{method} {url}: {r.reason}, retry {attempt}/{self.opts.max_attempts - 1} "
                          f"in {wait:.3f} s")
                await self.clock.sleep(wait)
        raise AssertionError(last_error)  # pragma: no cover

    async def _attempt(
        self,
        method: str,
        url: str,
        params: dict[str, Any],
        body: bytes | None,
        sha: str | None,
        upload: MultipartFile | None,
        headers: dict[str, str] | None,
        accept: str | None,
        *,
        attempt: int,
        idempotent: bool,
        operation: str,
        not_found_hint: str | None,
        object_call: bool = False,
    ) -> httpx.Response:
        if self._bucket is not None:
            await self._bucket.acquire()
        hdrs = dict(self.default_headers)
        if headers:
            hdrs.update(headers)
        if accept:
            hdrs["Accept"] = accept
        content: Any = None
        length: int | None = None
        if body is not None:
            content = body
            length = len(body)
            if body:
                hdrs["Content-Type"] = "application/json"
        elif upload is not None:
            length = upload.length
            hdrs["Content-Type"] = upload.content_type
            hdrs["Content-Length"] = str(length)

            def _count(n: int) -> None:
                self.stats.bytes_uploaded += n

            content = upload.stream(_count)
        req = self.http.build_request(method, url, params=params or None, headers=hdrs, content=content)
        if upload is not None:
            req.headers.pop("Transfer-Encoding", None)
        if body is not None and not body and method in ("POST", "PUT", "PATCH"):
            req.headers["Content-Length"] = "0"
        await self.auth.apply(req, sha, length)
        shown = str(req.url)
        async with self._sem:
            self.stats.attempts += 1
            t0 = time.monotonic()
            try:
                resp = await self.http.send(req)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                ms = (time.monotonic() - t0) * 1000
                self._log(f"{method} {shown} -> {type(exc).__name__} after {ms:.0f} ms "
                          f"(attempt {attempt}/{self.opts.max_attempts})")
                raise _Retry(
                    type(exc).__name__,
                    TransportFailed(None, "network_error",
                                    self.scrub(f"{type(exc).__name__}: {exc or 'connection failed'}"),
                                    None, method, shown,
                                    hint="check the endpoint URL and your network / proxy settings"),
                ) from None
            except httpx.TransportError as exc:
                ms = (time.monotonic() - t0) * 1000
                self._log(f"{method} {shown} -> {type(exc).__name__} after {ms:.0f} ms "
                          f"(attempt {attempt}/{self.opts.max_attempts})")
                if isinstance(exc, (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.ProxyError)):
                    raise TransportFailed(None, "network_error",
                                          self.scrub(f"{type(exc).__name__}: {exc}"),
                                          None, method, shown) from None
                detail = self.scrub(f"{type(exc).__name__}: {exc or 'connection lost'}")
                if not idempotent:
                    self.stats.outcome_unknown += 1
                    raise OutcomeUnknown(operation, detail, method=method, url=shown) from None
                raise _Retry(type(exc).__name__,
                             TransportFailed(None, "network_error", detail, None, method, shown)) from None
            ms = (time.monotonic() - t0) * 1000
        # The body is read; httpx's response and its stream point at each other, so without this
        # every response (a 100-item page is ~35 kB) waits for the cyclic collector, which a large
        # plan runs rarely (engine.runner.fewer_gc_passes): break the cycle, free it at once.
        resp.stream = _DRAINED
        status = resp.status_code
        self.stats.statuses[status] += 1
        if status == 429:
            self._sem.throttled()
        elif status < 500:
            self._sem.success()
        if resp.headers.get("date"):
            self.server_date = (resp.headers["date"], self.clock.time())
        rid = resp.headers.get("opc-request-id") or resp.headers.get("x-request-id")
        self._log(f"{method} {shown} -> {status} in {ms:.0f} ms (attempt {attempt}/{self.opts.max_attempts})"
                  + (f" opc-request-id={rid}" if rid else ""))
        if 200 <= status < 300:
            return resp
        return self._fail(resp, method, shown, rid, idempotent=idempotent, operation=operation,
                          not_found_hint=not_found_hint, object_call=object_call)

    def _fail(self, resp: httpx.Response, method: str, url: str, rid: str | None, *,
              idempotent: bool, operation: str, not_found_hint: str | None, object_call: bool = False) -> Any:
        status = resp.status_code
        code, message = parse_error_body(resp.content)
        message = self.scrub(message or resp.reason_phrase or "error")
        code = self.scrub(code) if code else None
        should = resp.headers.get("x-should-retry", "").lower()
        server_wait = parse_retry_after(resp.headers, self.clock.time())
        if status in (401, 403):
            what = "authentication failed" if status == 401 else "permission denied"
            hint = ("check that the key is valid, not expired and in this region"
                    if self.auth.kind == "api_key" else
                    "check the profile's key/fingerprint/token (`oci session refresh` for session "
                    "tokens) and the IAM policies for generative-ai-family")
            err = AuthFailed(status, code, f"{what} using {self.auth.describe()}: {message}",
                             rid, method, url, hint=hint)
            if status == 401 and self.auth.kind not in ("api_key", "none"):
                raise _Retry("auth_refresh", err)
            raise err
        if status == 404 or (status == 400 and object_call and missing_object(code, message)):
            raise NotFound(status, code, message, rid, method, url, hint=not_found_hint)
        retryable = status in RETRYABLE_STATUS or (status >= 500 and status != 501)
        if should == "false":
            retryable = False
        elif should == "true":
            retryable = True
        if status == 429:
            err: ApiError = RateLimited(status, code, message, rid, method, url,
                                        hint="lower --parallelism or set a request rate limit")
        else:
            err = ApiError(status, code, message, rid, method, url)
        if not retryable:
            raise err
        if not idempotent and status not in NOT_APPLIED_STATUS:
            self.stats.outcome_unknown += 1
            raise OutcomeUnknown(operation, f"HTTP {status}: {message}", status=status, request_id=rid,
                                 method=method, url=url)
        raise _Retry(f"HTTP {status}", err, server_wait)
