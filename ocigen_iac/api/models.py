"""Pydantic models of the objects the service returns (this module owns their shapes).

Built to survive drift: every model keeps unknown fields (`extra="allow"`), enum-like fields
(`status`, `purpose`, `object`, `last_error.code` ...) are plain `str` so a new value never
fails parsing, and everything except `id` has a default. The known values are listed in the
`*_STATUSES` constants for callers that want to branch on them.

`parse(model, data)` is what the client uses: it turns a validation failure into
`MalformedResponse` instead of a pydantic traceback.
"""

from __future__ import annotations

import functools
import types
import typing
from typing import Any, Required, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from typing_extensions import TypedDict

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
    "listing_view",
    "parse",
    "parse_page",
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
        raise _malformed(exc, what, method, url, request_id) from None


def _malformed(exc: ValidationError, what: str, method: str | None, url: str | None,
               request_id: str | None = None) -> MalformedResponse:
    """A validation failure as the API error users see: where (field path) and what, no traceback."""
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()[:5])
    return MalformedResponse(None, "malformed_response",
                             f"malformed response{' for ' + what if what else ''}: {problems}",
                             request_id, method, url)


# --- listing views: a page's items as plain dicts of the fields a caller keeps ------------------
#
# A refresh of a large project lists 100,000 objects and keeps a few fields of each. Building a
# model per item and dumping it back costs ~20 µs an item; validating a whole page into dicts of
# just those fields is one call into pydantic's core at ~2 µs an item. The types are the models'
# own (read from their fields), so both paths accept and refuse the same values.


@functools.cache
def listing_view(model: type[BaseModel], fields: tuple[str, ...]) -> TypeAdapter[list[dict[str, Any]]]:
    """Validates a page's `data` into dicts holding `fields` of `model` (those present; other keys
    dropped). `id` is required, as in the model; nested models become dicts."""
    unknown = [f for f in fields if f not in model.model_fields]
    if unknown:
        raise ValueError(f"{model.__name__} has no field {unknown[0]!r}")
    return TypeAdapter(list[_as_typed_dict(model, fields)])  # type: ignore[valid-type]


def _as_typed_dict(model: type[BaseModel], fields: tuple[str, ...] | None = None) -> Any:
    chosen = fields if fields is not None else tuple(model.model_fields)
    annotations: dict[str, Any] = {}
    for name in chosen:
        info = model.model_fields[name]
        tp = _plain(info.annotation)
        annotations[name] = Required[tp] if info.is_required() else tp
    return TypedDict(f"{model.__name__}View", annotations, total=False)  # type: ignore[operator]


def _plain(tp: Any) -> Any:
    """The annotation with nested models replaced by TypedDicts of all their fields."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return _as_typed_dict(tp)
    args = typing.get_args(tp)
    if args and typing.get_origin(tp) in (typing.Union, types.UnionType):
        return functools.reduce(lambda a, b: a | b, (_plain(a) if a is not type(None) else a for a in args))
    return tp


def parse_page(view: TypeAdapter[list[dict[str, Any]]], data: list[Any], *, what: str = "",
               method: str | None = None, url: str | None = None) -> list[dict[str, Any]]:
    """Validate a page's items with a `listing_view`; a failure becomes MalformedResponse."""
    try:
        return view.validate_python(data)
    except ValidationError as exc:
        raise _malformed(exc, what, method, url) from None
