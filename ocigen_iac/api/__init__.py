"""ocigen_iac.api: the async client for OCI Generative AI's OpenAI-compatible building blocks.

Public surface (the engine codes against these names)::

    from ocigen_iac.api import GenAIClient, ClientOptions
    from ocigen_iac.api import ApiError, NotFound, AuthFailed, RateLimited, OutcomeUnknown, TransportFailed
    from ocigen_iac.api import models

Importing this package never imports `oci` (that happens only when IAM auth signs a request).
Layout: `_client` (calls, endpoints, headers), `_transport` (pool, limits, retries, errors, debug
log), `_auth` (API key, IAM signing), `_upload` (streaming multipart), `_pagination`,
`_exceptions`, `models`.
"""

from __future__ import annotations

from . import models
from ._client import FILES_PAGE_LIMIT, PAGE_LIMIT, GenAIClient
from ._exceptions import (
    ApiError,
    AuthFailed,
    MalformedResponse,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    TransportFailed,
)
from ._limits import NotSent
from ._listing import ListingIncomplete, list_complete, spread
from ._transport import ClientOptions, Clock
from ._upload import UploadChanged

__all__ = [
    "FILES_PAGE_LIMIT",
    "PAGE_LIMIT",
    "ApiError",
    "AuthFailed",
    "ClientOptions",
    "Clock",
    "GenAIClient",
    "ListingIncomplete",
    "MalformedResponse",
    "NotFound",
    "NotSent",
    "OutcomeUnknown",
    "RateLimited",
    "TransportFailed",
    "UploadChanged",
    "list_complete",
    "models",
    "spread",
]
