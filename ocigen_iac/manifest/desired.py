"""Desired state: what the manifests ask for, validated, interpolated and reference-resolved.

This is the contract between the manifest loader and the engine. Everything here is plain data
with absolute paths resolved and references expanded to addresses, so the engine never reads
YAML and never has to know about globs, variables or file:line positions (kept in `location`
for messages only).

Addresses:
  File (path)         file.NAME
  File (glob member)  file.NAME["rel/path"]      rel/path relative to the glob's fixed base dir
  VectorStore         vector_store.NAME
  VectorStoreFileBatch vector_store_file_batch.NAME
  Container           container.NAME
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Kind = Literal["File", "VectorStore", "VectorStoreFileBatch", "Container"]

KIND_PREFIX: dict[str, str] = {
    "File": "file",
    "VectorStore": "vector_store",
    "VectorStoreFileBatch": "vector_store_file_batch",
    "Container": "container",
}


@dataclass(frozen=True)
class Location:
    file: str  # relative to the project root where possible
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Lifecycle:
    prevent_destroy: bool = False
    ignore_changes: tuple[str, ...] = ()  # attribute names (top-level spec fields), or "all"


@dataclass(frozen=True)
class FileSpec:
    path: Path  # absolute, confined to the project root unless allowed
    rel_path: str  # relative to the project root, posix separators (for display and state)
    filename: str  # name sent to the API (spec.filename, else the member key / basename)
    purpose: str = "assistants"
    expires_after: dict[str, Any] | None = None  # {"anchor": "created_at", "seconds": N}


@dataclass(frozen=True)
class Attachment:
    """One file to attach to a vector store."""

    file: str  # address of a File (glob references are already expanded to members)
    attributes: dict[str, str | int | float | bool] | None = None
    chunking_strategy: dict[str, Any] | None = None  # None -> the store's default


@dataclass(frozen=True)
class VectorStoreSpec:
    name: str
    description: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)  # user metadata (no ownership tag)
    expires_after: dict[str, Any] | None = None  # {"anchor": "last_active_at", "days": N}
    chunking_strategy: dict[str, Any] | None = None  # default for attachments
    files: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class FileBatchSpec:
    vector_store: str  # address of a VectorStore
    files: tuple[Attachment, ...] = ()  # batch-level attributes/chunking already folded in


@dataclass(frozen=True)
class ContainerFileSpec:
    """Either a managed File (by address) or a local path uploaded straight into the container."""

    file: str | None = None  # address of a File
    path: Path | None = None  # absolute local path
    rel_path: str | None = None
    filename: str | None = None

    @property
    def key(self) -> str:
        """Stable identity inside its container (used in the child address)."""
        return self.file if self.file else f"path:{self.rel_path}"


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    memory_limit: str | None = None  # "1g" | "4g" | "16g" | "64g"
    expires_after: dict[str, Any] | None = None  # {"anchor": "last_active_at", "minutes": N}
    files: tuple[ContainerFileSpec, ...] = ()


Spec = FileSpec | VectorStoreSpec | FileBatchSpec | ContainerSpec


@dataclass(frozen=True)
class DesiredResource:
    address: str
    kind: Kind
    name: str  # metadata.name
    spec: Spec
    lifecycle: Lifecycle = Lifecycle()
    location: Location | None = None
    depends_on: tuple[str, ...] = ()  # addresses this document references


@dataclass
class DesiredSet:
    resources: dict[str, DesiredResource] = field(default_factory=dict)  # insertion-ordered
    manifest_digests: dict[str, str] = field(default_factory=dict)  # rel path -> sha256 of the YAML

    def of_kind(self, kind: Kind) -> list[DesiredResource]:
        return [r for r in self.resources.values() if r.kind == kind]

    def counts_by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.resources.values():
            counts[r.kind] = counts.get(r.kind, 0) + 1
        return counts
