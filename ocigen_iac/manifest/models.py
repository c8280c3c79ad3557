"""The manifest language as pydantic models: field names, types and the API's limits.

Owns *shape* validation of one document (after interpolation): what fields exist, their types
and ranges. It knows nothing about other documents, files on disk or positions; references are
still plain names here (resolve.py checks them) and paths are still strings (paths.py).

Limits (reference/openai-resource-semantics.md §1, §2, §3, §5, §7; oci-openai-compatible-api.md):
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
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

API_VERSION = "ocigen-iac/v1"
KINDS = ("File", "VectorStore", "VectorStoreFileBatch", "Container")

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


# ---------------------------------------------------------------------------------------- specs


class FileSpecModel(_Model):
    """A File: one local file (`path`) or one managed file per match of `glob`."""

    path: NonEmptyStr | None = Field(None, description="a local file, relative to this manifest file")
    glob: NonEmptyStr | None = Field(
        None, description="one managed file per match (`**` recurses), relative to this manifest file"
    )
    exclude: list[NonEmptyStr] = Field(default_factory=list, description="patterns removed from the glob's matches")
    purpose: Literal["assistants", "batch", "fine-tune", "vision", "user_data", "evals"] = "assistants"
    filename: NonEmptyStr | None = Field(None, description="name sent to the API (default: the file's base name)")
    expires_after: FileExpiresAfter | None = None

    @model_validator(mode="after")
    def _path_or_glob(self) -> FileSpecModel:
        if (self.path is None) == (self.glob is None):
            raise ValueError("set exactly one of 'path' (one file) or 'glob' (one file per match)")
        if self.exclude and self.glob is None:
            raise ValueError("'exclude' only applies to 'glob'")
        if self.filename is not None and self.glob is not None:
            raise ValueError("'filename' cannot be used with 'glob' (every member would get the same name)")
        return self


def _name_to_ref(value: Any) -> Any:
    return {"file": value} if isinstance(value, str) else value


class FileRefModel(_Model):
    """A File attached to a vector store, with optional per-file attributes and chunking."""

    file: NonEmptyStr = Field(description="metadata.name of a File (a glob File means all its members)")
    attributes: Attributes | None = None
    chunking_strategy: ChunkingStrategy | None = None


FileRef = Annotated[FileRefModel, BeforeValidator(_name_to_ref, json_schema_input_type=str | FileRefModel)]


class VectorStoreSpecModel(_Model):
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = Field(
        None,
        description="default: metadata.name; 1-255 letters, digits, '-', '_'; starts with a letter or '_'",
    )
    description: Annotated[str, StringConstraints(max_length=512)] | None = Field(
        None, description="create-only: changing it replaces the store"
    )
    metadata: Metadata = Field(default_factory=dict)
    expires_after: VectorStoreExpiresAfter | None = None
    chunking_strategy: ChunkingStrategy | None = Field(
        None, description="default chunking for files attached to this store"
    )
    files: list[FileRef] = Field(default_factory=list)


class VectorStoreFileBatchSpecModel(_Model):
    vector_store: NonEmptyStr = Field(description="metadata.name of a VectorStore")
    files: Annotated[list[FileRef], Field(min_length=1)]
    attributes: Attributes | None = Field(None, description="applied to every file (per-file keys win)")
    chunking_strategy: ChunkingStrategy | None = Field(None, description="applied to every file without its own")


class ContainerFileRefModel(_Model):
    """A file in a container: a managed File (`file`) copied in, or a local `path` uploaded."""

    file: NonEmptyStr | None = Field(None, description="metadata.name of a File")
    path: NonEmptyStr | None = Field(None, description="a local file, relative to this manifest file")
    filename: NonEmptyStr | None = Field(None, description="only with 'path' (default: its base name)")

    @model_validator(mode="after")
    def _file_or_path(self) -> ContainerFileRefModel:
        if (self.file is None) == (self.path is None):
            raise ValueError("set exactly one of 'file' (a managed File) or 'path' (a local file)")
        if self.filename is not None and self.path is None:
            raise ValueError("'filename' only applies to 'path'")
        return self


ContainerFileRef = Annotated[
    ContainerFileRefModel,
    BeforeValidator(_name_to_ref, json_schema_input_type=str | ContainerFileRefModel),
]


class ContainerSpecModel(_Model):
    name: NonEmptyStr | None = Field(None, description="default: metadata.name")
    memory_limit: Literal["1g", "4g", "16g", "64g"] | None = None
    expires_after: ContainerExpiresAfter | None = None
    files: list[ContainerFileRef] = Field(default_factory=list)


# ------------------------------------------------------------------------------------ documents


class DocumentMetadata(_Model):
    name: Annotated[str, StringConstraints(pattern=RESOURCE_NAME_RE)] = Field(
        description="the address key: letters, digits, '-' or '_', starting with a letter or '_'"
    )


class _Document(_Model):
    api_version: Literal["ocigen-iac/v1"] = Field(alias="apiVersion")
    metadata: DocumentMetadata
    lifecycle: Lifecycle | None = None


class FileDocument(_Document):
    kind: Literal["File"]
    spec: FileSpecModel


class VectorStoreDocument(_Document):
    kind: Literal["VectorStore"]
    spec: VectorStoreSpecModel


class VectorStoreFileBatchDocument(_Document):
    kind: Literal["VectorStoreFileBatch"]
    spec: VectorStoreFileBatchSpecModel


class ContainerDocument(_Document):
    kind: Literal["Container"]
    spec: ContainerSpecModel


DOCUMENT_MODELS: dict[str, type[_Document]] = {
    "File": FileDocument,
    "VectorStore": VectorStoreDocument,
    "VectorStoreFileBatch": VectorStoreFileBatchDocument,
    "Container": ContainerDocument,
}
AnyDocument = Annotated[
    FileDocument | VectorStoreDocument | VectorStoreFileBatchDocument | ContainerDocument,
    Field(discriminator="kind"),
]
SPEC_FIELDS: dict[str, tuple[str, ...]] = {
    kind: tuple(model.model_fields["spec"].annotation.model_fields)  # type: ignore[union-attr]
    for kind, model in DOCUMENT_MODELS.items()
}
