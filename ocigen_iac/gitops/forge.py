"""The GitHub and GitLab REST calls the kit needs, over httpx, with bounded retries.

Tokens go into request headers only: they are never part of a URL, a message or an exception.
Idempotent requests (GET, PATCH, PUT, DELETE) are retried on 429, 5xx, GitHub's rate-limit 403
and connection errors, at most `attempts` times within `deadline_s`; a POST is not retried here,
because a lost response may mean the object was created: callers look before they post again.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

MAX_PAGES = 30  # 3,000 comments, notes or runs: far more than one pull request has
PAGE_SIZE = 100
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class ForgeError(Exception):
    """A clear, token-free message about a failed API call."""


class TransientError(ForgeError):
    """A failure that may succeed when tried again (the request may or may not have taken effect)."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    backoff_s: float = 1.0  # doubled after each failure
    max_sleep_s: float = 20.0  # cap on one wait, also on a server's Retry-After
    deadline_s: float = 90.0  # no retry starts after this much time


@dataclass
class Comment:
    id: int
    body: str


def token_from_env(name: str) -> str:
    token = os.environ.get(name, "").strip()
    if not token:
        raise ForgeError(f"${name} is not set: the comment needs an API token in that environment variable "
                         "(GitHub Actions: `GITHUB_TOKEN: ${{ github.token }}`; GitLab: a project access "
                         "token with the `api` scope stored as a masked CI/CD variable)")
    return token


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        text = response.text.strip()
    else:
        text = ""
        if isinstance(data, dict):
            text = str(data.get("message") or data.get("error") or data.get("error_description") or "")
            if data.get("errors"):
                text += f" {data['errors']}"
    text = " ".join(text.split())
    return text[:300] if text else response.reason_phrase


class Forge:
    """One API (GitHub or GitLab): base URL, auth header, retries, readable errors."""

    def __init__(self, name: str, base_url: str, auth_headers: dict[str, str], *, token_env: str,
                 retry: RetryPolicy | None = None, timeout_s: float = 30.0) -> None:
        self.name = name
        self.token_env = token_env
        self.retry = retry or RetryPolicy()
        headers = {"User-Agent": "ocigen-iac-gitops", **auth_headers}
        self.client = httpx.Client(base_url=base_url.rstrip("/") + "/", headers=headers, timeout=timeout_s)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Forge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, *, ok_missing: bool = False, **kwargs: Any) -> httpx.Response:
        """`path` is relative to the base URL. 404 returns the response when `ok_missing`."""
        idempotent = method.upper() != "POST"
        started = time.monotonic()
        for attempt in range(1, self.retry.attempts + 1):
            try:
                response = self.client.request(method, path.lstrip("/"), **kwargs)
            except httpx.TransportError as exc:
                problem = f"{self.name} API {method} /{path.lstrip('/')}: {exc.__class__.__name__}: {exc}"
                retry_after = None
            else:
                if response.is_success or response.is_redirect or (ok_missing and response.status_code == 404):
                    return response
                if not self._retryable(response):
                    raise ForgeError(self._explain(method, path, response))
                problem = self._explain(method, path, response)
                retry_after = response.headers.get("retry-after")
            sleep = self._sleep_for(attempt, retry_after)
            if (not idempotent or attempt == self.retry.attempts
                    or time.monotonic() - started + sleep > self.retry.deadline_s):
                raise TransientError(problem + (f" (after {attempt} attempt(s))" if idempotent else ""))
            time.sleep(sleep)
        raise AssertionError("unreachable")  # pragma: no cover

    def download(self, path: str, max_bytes: int) -> bytes:
        """A file the API answers with a redirect to storage (GitHub artifacts): the storage URL is
        pre-signed, so it is fetched without our token, which must not leave the API host."""
        response = self.request("GET", path, follow_redirects=False)
        if not response.is_redirect:
            data = response.content
        else:
            location = response.headers.get("location", "")
            with httpx.Client(timeout=self.client.timeout, follow_redirects=True, max_redirects=5) as storage:
                try:
                    fetched = storage.get(location)
                except httpx.TransportError as exc:
                    raise TransientError(f"{self.name} artifact storage: {exc.__class__.__name__}: {exc}") from None
            if not fetched.is_success:
                raise ForgeError(f"{self.name} artifact storage: HTTP {fetched.status_code} for /{path.lstrip('/')}")
            data = fetched.content
        if len(data) > max_bytes:
            raise ForgeError(f"{self.name} API GET /{path.lstrip('/')}: over {max_bytes} bytes")
        return data

    def paged(self, path: str, params: dict[str, Any] | None = None) -> list[Any]:
        """Every item of a list endpoint, following page numbers (both APIs take `page`/`per_page`)."""
        items: list[Any] = []
        for page in range(1, MAX_PAGES + 1):
            response = self.request("GET", path, params={**(params or {}), "per_page": PAGE_SIZE, "page": page})
            batch = response.json()
            if not isinstance(batch, list):
                raise ForgeError(f"{self.name} API GET /{path}: expected a list, got {type(batch).__name__}")
            items.extend(batch)
            has_next = "next" in response.links or bool(response.headers.get("x-next-page", "").strip())
            if not has_next or not batch:
                return items
        raise ForgeError(f"{self.name} API GET /{path}: more than {MAX_PAGES * PAGE_SIZE} items; giving up")

    def _retryable(self, response: httpx.Response) -> bool:
        if response.status_code in _RETRY_STATUS:
            return True
        # GitHub's primary and secondary rate limits answer 403 with these headers
        return response.status_code == 403 and (response.headers.get("x-ratelimit-remaining") == "0"
                                                 or "retry-after" in response.headers)

    def _sleep_for(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(max(float(retry_after), 0.0), self.retry.max_sleep_s)
            except ValueError:
                pass
        return min(self.retry.backoff_s * 2 ** (attempt - 1), self.retry.max_sleep_s)

    def _explain(self, method: str, path: str, response: httpx.Response) -> str:
        status = response.status_code
        head = f"{self.name} API {method} /{path.lstrip('/')}: HTTP {status}: {_message(response)}"
        hints = {
            401: f"the token in ${self.token_env} was rejected (wrong or expired)",
            403: ("the token may not do this: a GitHub workflow needs `permissions: pull-requests: write` "
                  "(and `issues: write` for labels); a GitLab token needs the `api` scope and the Reporter "
                  "role or higher"),
            404: "not found: check the repository or project and the pull/merge request number "
                 "(an API also answers 404 to a token that cannot see the project)",
        }
        return head + (f" — {hints[status]}" if status in hints else "")


def github(api_url: str, token: str, *, token_env: str = "GITHUB_TOKEN", retry: RetryPolicy | None = None) -> Forge:
    return Forge("GitHub", api_url, {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                                     "X-GitHub-Api-Version": "2022-11-28"}, token_env=token_env, retry=retry)


def gitlab(api_url: str, token: str, *, token_env: str = "GITLAB_TOKEN", retry: RetryPolicy | None = None) -> Forge:
    return Forge("GitLab", api_url, {"PRIVATE-TOKEN": token}, token_env=token_env, retry=retry)


def seg(value: str | int) -> str:
    """One URL path segment (a GitLab project path `group/app` becomes `group%2Fapp`)."""
    return quote(str(value), safe="")
