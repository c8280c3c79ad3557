"""Errors raised by the API client (`ocigen_iac.api`).

This module owns the client's exception hierarchy and the parsing of service error bodies
(OpenAI `{"error": {...}}` and OCI `{"code", "message"}` shapes)::

    OcigenError                      (ocigen_iac.errors) the CLI prints str(e), exits e.exit_code
    └── ApiError                     the service (or the network to it) said no
        ├── NotFound                 404: the object (or the endpoint) does not exist
        ├── AuthFailed               401/403, or credentials that cannot be loaded; names the
        │                            auth kind and the profile / env var in use
        ├── RateLimited              429 still returned after all retries (or Retry-After > cap)
        ├── OutcomeUnknown           a non-idempotent create may or may not have happened
        │                            (5xx / timeout / reset after the body was sent): the engine
        │                            looks the object up (adoption) instead of creating again
        ├── TransportFailed          connect/read errors or timeouts after all retries
        └── MalformedResponse        2xx with an error body, bad JSON or wrong field types

Every instance carries `status`, `code`, `message`, `request_id` (`opc-request-id`),
`method` and `url`. No message ever contains credentials: the client scrubs the API key
from anything echoed by the server before building an error.
"""

from __future__ import annotations

import json
from typing import Any

from ocigen_iac.errors import OcigenError

__all__ = [
    "ApiError",
    "AuthFailed",
    "MalformedResponse",
    "NotFound",
    "OutcomeUnknown",
    "RateLimited",
    "TransportFailed",
    "parse_error_body",
]


class ApiError(OcigenError):
    """The service returned an error (or could not be reached / understood)."""

    def __init__(
        self,
        status: int | None,
        code: str | None,
        message: str,
        request_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
        *,
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.method = method
        self.url = url
        self.hint = hint
        super().__init__(status, code, message, request_id, method, url)

    def __str__(self) -> str:
        parts: list[str] = []
        if self.method and self.url:
            parts.append(f"{self.method} {self.url}")
        head = []
        if self.status is not None:
            head.append(f"HTTP {self.status}")
        if self.code:
            head.append(str(self.code))
        text = " ".join(head)
        text = f"{text}: {self.message}" if text else self.message
        if parts:
            text = f"{parts[0]} failed: {text}"
        if self.request_id:
            text += f" (opc-request-id: {self.request_id})"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text

    def __reduce__(self) -> tuple[Any, ...]:  # keep pickling/copying working with the kw-only hint
        return (
            _rebuild,
            (type(self), self.__dict__.copy()),
        )


def _rebuild(cls: type[ApiError], state: dict[str, Any]) -> ApiError:
    obj = cls.__new__(cls)
    Exception.__init__(obj)
    obj.__dict__.update(state)
    return obj


class NotFound(ApiError):
    """HTTP 404."""


class AuthFailed(ApiError):
    """HTTP 401/403, or credentials that could not be loaded."""


class RateLimited(ApiError):
    """HTTP 429 after the retry budget was spent, or a Retry-After beyond the allowed cap."""


class TransportFailed(ApiError):
    """Network failure (connect/read/write error, timeout) after the retry budget was spent."""


class MalformedResponse(ApiError):
    """A response the client cannot interpret (error body on 2xx, bad JSON, wrong types)."""


class OutcomeUnknown(ApiError):
    """A non-idempotent create was sent and we cannot tell whether the server applied it.

    `operation` names the create ("create_file", "create_vector_store", ...); `detail` says
    what happened (the status or network error). The caller must look the object up rather than
    retrying the create blindly.
    """

    def __init__(
        self,
        operation: str,
        detail: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.operation = operation
        self.detail = detail
        super().__init__(
            status,
            "outcome_unknown",
            f"outcome of {operation} is unknown ({detail}); the object may or may not have been "
            "created: look it up before creating it again",
            request_id,
            method,
            url,
        )


def parse_error_body(raw: bytes) -> tuple[str | None, str | None]:
    """(code, message) from an error response body; tolerant of every shape seen in the wild.

    OpenAI: {"error": {"message", "type", "code", "param"}}; OCI: {"code", "message"};
    FastAPI/Starlette style {"detail": ...}; anything else -> (None, a short excerpt).
    """
    if not raw:
        return None, None
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        text = raw[:300].decode("utf-8", "replace").strip()
        return None, text or None
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            code = err.get("code") or err.get("type")
            msg = err.get("message")
            return (str(code) if code is not None else None, str(msg) if msg is not None else None)
        if isinstance(err, str):
            return None, err
        if "code" in body or "message" in body:
            code = body.get("code")
            msg = body.get("message")
            return (str(code) if code is not None else None, str(msg) if msg is not None else None)
        if "detail" in body:
            return None, str(body["detail"])
    excerpt = json.dumps(body)[:300]
    return None, excerpt
