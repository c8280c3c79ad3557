"""The manifest language's shared pydantic types: the document envelope and the API's limits.

Owns *shape* validation of one document (after interpolation). Each kind's `spec` model lives in
its kind's module (`ocigen_iac/resources/`); `document_model(kind)` wraps it in the envelope
(apiVersion, kind, metadata, lifecycle, moved). References are still plain names here (the
kinds' `resolve` checks them) and paths are still strings (paths.py).

Limits (from the OpenAI API reference and OCI's documentation):
  metadata (vector stores)   ≤ 16 keys, key ≤ 64 chars, value: string ≤ 512 chars
  attributes (attachments)   ≤ 16 keys, key ≤ 64 chars, value: string ≤ 512 chars, number or bool
  File.expires_after         anchor created_at, seconds 3600..2592000 (1 h .. 30 days)
  VectorStore.expires_after  anchor last_active_at, days 1..365
  Container.expires_after    anchor last_active_at, minutes 1..1440. The API gives no range; OCI
                             expires idle containers after 20 minutes anyway, so a day is a
                             generous cap that still catches typos such as 60000.
  Container.memory_limit     1g | 4g | 16g | 64g
  static chunking            max_chunk_size_tokens 100..4096, chunk_overlap_tokens 0..max/2
  File.purpose               assistants | batch | fine-tune | vision | user_data | evals
                             (file types per purpose: see PURPOSE_EXTENSIONS)
  VectorStore.name           1..255 chars; starts with a letter or underscore, then letters,
                             digits, hyphens, underscores (OCI console rule; checked after
                             interpolation in resolve.py, since `${var.env}` is not a name yet)
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

API_VERSION = "ocigen-iac/v1"

PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
# Purpose -> accepted file extensions (None: any type the API accepts).
PURPOSE_EXTENSIONS: dict[str, tuple[str, ...] | None] = {
    "assistants": None,
    "user_data": None,
    "batch": (".jsonl",),
    "fine-tune": (".jsonl",),
    "evals": (".jsonl",),
    "vision": (".gif", ".jpeg", ".jpg", ".png", ".webp"),
}
MEMORY_LIMITS = ("1g", "4g", "16g", "64g")
MAX_MAP_KEYS = 16
MAX_KEY_LEN = 64
MAX_VALUE_LEN = 512
VECTOR_STORE_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,254}$")
RESOURCE_NAME_RE = r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$"
CONTAINER_MINUTES_MAX = 1440


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


MapKey = Annotated[str, StringConstraints(min_length=1, max_length=MAX_KEY_LEN)]
MapStr = Annotated[str, StringConstraints(max_length=MAX_VALUE_LEN)]
Metadata = Annotated[
    dict[MapKey, MapStr],
    Field(max_length=MAX_MAP_KEYS, description="≤ 16 keys; keys ≤ 64 chars; string values ≤ 512 chars"),
]
AttributeValue = MapStr | bool | int | float
Attributes = Annotated[
    dict[MapKey, AttributeValue],
    Field(
        max_length=MAX_MAP_KEYS,
        description="≤ 16 keys; keys ≤ 64 chars; values: strings ≤ 512 chars, numbers or booleans",
    ),
]
NonEmptyStr = Annotated[str, StringConstraints(min_length=1)]


class Lifecycle(_Model):
    """Per-document lifecycle rules (Terraform's `lifecycle` block)."""

    prevent_destroy: bool = Field(False, description="refuse to plan a destroy or replace of this resource")
    ignore_changes: list[str] | Literal["all"] = Field(
        default_factory=list, description='top-level spec fields whose drift is ignored, or "all"'
    )


class AutoChunking(_Model):
    type: Literal["auto"]


class StaticChunkingParams(_Model):
    max_chunk_size_tokens: int = Field(ge=100, le=4096)
    chunk_overlap_tokens: int = Field(ge=0, description="≤ max_chunk_size_tokens / 2")

    @field_validator("chunk_overlap_tokens")
    @classmethod
    def _overlap_at_most_half(cls, value: int, info: ValidationInfo) -> int:
        max_size = info.data.get("max_chunk_size_tokens")
        if isinstance(max_size, int) and value > max_size / 2:
            raise ValueError(
                f"chunk_overlap_tokens ({value}) must not exceed half of max_chunk_size_tokens "
                f"({max_size} / 2 = {max_size // 2})"
            )
        return value


class StaticChunking(_Model):
    type: Literal["static"]
    static: StaticChunkingParams


ChunkingStrategy = Annotated[AutoChunking | StaticChunking, Field(discriminator="type")]


class FileExpiresAfter(_Model):
    anchor: Literal["created_at"] = "created_at"
    seconds: int = Field(ge=3600, le=2592000, description="3600 (1 hour) .. 2592000 (30 days)")


class VectorStoreExpiresAfter(_Model):
    anchor: Literal["last_active_at"] = "last_active_at"
    days: int = Field(ge=1, le=365)


class ContainerExpiresAfter(_Model):
    anchor: Literal["last_active_at"] = "last_active_at"
    minutes: int = Field(ge=1, le=CONTAINER_MINUTES_MAX)


# ------------------------------------------------------------------------------------ documents


class DocumentMetadata(_Model):
    name: Annotated[str, StringConstraints(pattern=RESOURCE_NAME_RE)] = Field(
        description="the address key: letters, digits, '-' or '_', starting with a letter or '_'"
    )


class _Document(_Model):
    api_version: Literal["ocigen-iac/v1"] = Field(alias="apiVersion")
    metadata: DocumentMetadata
    lifecycle: Lifecycle | None = None
    moved: list[MovedEntry] | None = Field(
        None, description="addresses this document's objects had before a rename (Terraform's moved blocks)"
    )


class MovedEntry(_Model):
    """An earlier address of this document's objects: state follows the rename, nothing is re-made."""

    from_: NonEmptyStr = Field(alias="from", description="the old address, e.g. file.faq")
    to: NonEmptyStr | None = Field(None, description="the new address (default: this document's address)")


_Document.model_rebuild()

_MODELS: dict[str, type[_Document]] = {}


def document_model(kind: str, spec_model: type[BaseModel]) -> type[_Document]:
    """The full document model of one kind (cached): the envelope around its spec model."""
    cached = _MODELS.get(kind)
    if cached is not None and cached.model_fields["spec"].annotation is spec_model:
        return cached
    from pydantic import create_model

    model = create_model(  # type: ignore[call-overload]
        f"{kind}Document",
        __base__=_Document,
        kind=(Literal[kind], ...),  # type: ignore[valid-type]
        spec=(spec_model, ...),
    )
    _MODELS[kind] = model
    return model


def spec_fields(spec_model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(spec_model.model_fields)

