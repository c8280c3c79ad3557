"""Error responses: OpenAI-shaped `{"error": {message, type, param, code}}` for the API routes and
Object-Storage-shaped `{"code", "message"}` for the /n routes. Handlers raise; app.py renders.

A missing object is OCI's generic 404: code `NotAuthorizedOrNotFound`, "... not found, or you are
not authorized to access it" (`missing=True`, so app.py can answer 400 under `missing_is_400`)."""

from __future__ import annotations

from typing import Any

_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "invalid_request_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    409: "invalid_request_error",
    412: "invalid_request_error",
    413: "invalid_request_error",
    429: "requests",
    500: "server_error",
}


class ApiError(Exception):
    """An error the client sees. `headers` are added to the response (e.g. Retry-After)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        type_: str | None = None,
        headers: dict[str, str] | None = None,
        missing: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.type = type_ or _TYPES.get(status, "invalid_request_error")
        self.headers = headers or {}
        self.missing = missing

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def bad_request(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code)


NOT_FOUND_CODE = "NotAuthorizedOrNotFound"


def not_found(kind: str, ident: str, *, param: str | None = None, suffix: str = "") -> ApiError:
    """A missing object (`kind` as users say it: "vector store", "file", ...)."""
    return ApiError(
        404,
        f"{kind[0].upper()}{kind[1:]} '{ident}' not found, or you are not authorized to access it{suffix}.",
        code=NOT_FOUND_CODE,
        param=param,
        missing=True,
    )


class OsError(Exception):
    """An Object Storage error: body `{"code": ..., "message": ...}`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
