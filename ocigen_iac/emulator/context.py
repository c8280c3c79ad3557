"""Per-request context handed to route handlers: path params, query helpers, and bounded body reading
that checks `x-content-sha256` when the request was signed."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from .errors import ApiError, bad_request

if TYPE_CHECKING:
    from .core import Emulator


@dataclass
class BodyCheck:
    """Hashes the raw body as it streams; `verify()` compares it with the signed x-content-sha256."""

    expected: str | None
    _h: Any = field(default_factory=hashlib.sha256)

    def update(self, chunk: bytes) -> None:
        if self.expected is not None:
            self._h.update(chunk)

    def verify(self) -> None:
        if self.expected is None:
            return
        got = base64.b64encode(self._h.digest()).decode()
        if got != self.expected:
            raise ApiError(
                401,
                "The body does not match the signed x-content-sha256 header (body altered in transit?).",
                code="NotAuthenticated",
            )


@dataclass
class Ctx:
    emu: Emulator
    request: Request
    params: dict[str, str]
    body_check: BodyCheck

    def q(self, name: str) -> str | None:
        return self.request.query_params.get(name)

    async def body(self, limit: int) -> bytes:
        declared = self.request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise ApiError(413, f"Request body exceeds {limit} bytes.", code="request_too_large")
        buf = bytearray()
        async for chunk in self.request.stream():
            self.body_check.update(chunk)
            buf += chunk
            if len(buf) > limit:
                raise ApiError(413, f"Request body exceeds {limit} bytes.", code="request_too_large")
        self.body_check.verify()
        return bytes(buf)

    async def json(self, *, allow_empty: bool = False) -> dict[str, Any]:
        raw = await self.body(self.emu.config.max_json_bytes)
        if not raw.strip():
            if allow_empty:
                return {}
            raise bad_request("A JSON request body is required.")
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise bad_request(f"Malformed JSON body: {exc}.", code="invalid_json") from None
        if not isinstance(data, dict):
            raise bad_request("The JSON body must be an object.", code="invalid_json")
        return data
