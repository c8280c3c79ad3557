"""Pydantic models of the objects the service returns (this module owns their shapes).

Built to survive drift: every model keeps unknown fields (`extra="allow"`), enum-like fields
(`status`, `purpose`, `object`, `last_error.code` ...) are plain `str` so a new value never
fails parsing, and everything except `id` has a default. The known values are listed in the
`*_STATUSES` constants for callers that want to branch on them.

`parse(model, data)` is what the client uses: it turns a validation failure into
`MalformedResponse` instead of a pydantic traceback.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ._exceptions import MalformedResponse

__all__ = [
    "BATCH_OBJECT_NAMES",
    "VECTOR_STORE_FILE_STATUSES",
    "VECTOR_STORE_STATUSES",
    "Container",
    "ContainerFile",
    "Deleted",
    "ErrorBody",
    "FileBatch",
    "FileCounts",
    "FileObject",
    "LastError",
    "ListPage",
    "VectorStore",
    "VectorStoreFile",
    "parse",
]

VECTOR_STORE_STATUSES = frozenset({"expired", "in_progress", "completed"})
VECTOR_STORE_FILE_STATUSES = frozenset({"in_progress", "completed", "cancelled", "failed"})
# the spec's enum says files_batch, its examples say file_batch: accept both
BATCH_OBJECT_NAMES = frozenset({"vector_store.files_batch", "vector_store.file_batch"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class FileCounts(_Model):
    in_progress: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    total: int = 0


class LastError(_Model):
    code: str | None = None
    message: str | None = None


class FileObject(_Model):
    id: str
    object: str = "file"
    bytes: int | None = None
    created_at: int | None = None
    expires_at: int | None = None
    filename: str | None = None
    purpose: str | None = None
    status: str | None = None  # deprecated upstream: uploaded | processed | error
    status_details: str | None = None


class VectorStore(_Model):
    id: str
    object: str = "vector_store"
    created_at: int | None = None
    name: str | None = None
    usage_bytes: int | None = None
    file_counts: FileCounts | None = None
    status: str | None = None  # expired | in_progress | completed
    expires_after: dict[str, Any] | None = None
    expires_at: int | None = None
    last_active_at: int | None = None
    metadata: dict[str, Any] | None = None


class VectorStoreFile(_Model):
    id: str  # the File id
    object: str = "vector_store.file"
    usage_bytes: int | None = None
    created_at: int | None = None
    vector_store_id: str | None = None
    status: str | None = None  # in_progress | completed | cancelled | failed
    last_error: LastError | None = None
    chunking_strategy: dict[str, Any] | None = None
    attributes: dict[str, Any] | None = None


class FileBatch(_Model):
    id: str
    object: str = "vector_store.files_batch"
    created_at: int | None = None
    vector_store_id: str | None = None
    status: str | None = None  # in_progress | completed | cancelled | failed
    file_counts: FileCounts | None = None


class Container(_Model):
    id: str
    object: str = "container"
    name: str | None = None
    created_at: int | None = None
    status: str | None = None  # free-form upstream (running, active, expired, deleted ...)
    last_active_at: int | None = None
    expires_after: dict[str, Any] | None = None
    memory_limit: str | None = None
    network_policy: dict[str, Any] | None = None


class ContainerFile(_Model):
    id: str
    object: str = "container.file"
    container_id: str | None = None
    created_at: int | None = None
    bytes: int | None = None
    path: str | None = None
    source: str | None = None


class Deleted(_Model):
    id: str | None = None
    object: str | None = None
    deleted: bool | None = None


class ListPage(_Model):
    object: str | None = "list"
    data: list[dict[str, Any]]
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool | None = None


class ErrorBody(_Model):
    """OpenAI `{"error": {...}}`; see `_exceptions.parse_error_body` for the tolerant parser."""

    message: str | None = None
    type: str | None = None
    code: str | None = None
    param: str | None = None


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: Any, *, what: str = "", method: str | None = None,
          url: str | None = None, request_id: str | None = None) -> M:
    """Validate `data` as `model`; a failure becomes MalformedResponse (no pydantic traceback)."""
    if not isinstance(data, dict):
        raise MalformedResponse(
            None, "malformed_response",
            f"malformed response{' for ' + what if what else ''}: expected a JSON object, "
            f"got {type(data).__name__}",
            request_id, method, url,
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise MalformedResponse(
            None, "malformed_response",
            f"malformed response{' for ' + what if what else ''}: {problems}",
            request_id, method, url,
        ) from None
