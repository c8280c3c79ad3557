"""Desired state: what the manifests ask for, validated, interpolated and reference-resolved.

This is the contract between the manifest loader and the engine. Everything here is plain data
with absolute paths resolved and references expanded to addresses, so the engine never reads
YAML and never has to know about globs, variables or file:line positions (kept in `location`
for messages only). What a `spec` holds is the kind's business (its module in `resources/`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ocigen_iac.addresses import Address


@dataclass(frozen=True, slots=True)
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
class Move:
    """A `moved:` entry: objects at `source` (a resource or one instance) now live at `target`."""

    source: Address
    target: Address
    location: Location | None = None


@dataclass(frozen=True, slots=True)
class DesiredResource:
    address: Address
    kind: str  # the manifest kind ("VectorStore")
    name: str  # metadata.name
    spec: Any  # the kind's resolved spec (a frozen dataclass of its module)
    lifecycle: Lifecycle = Lifecycle()
    location: Location | None = None
    depends_on: tuple[Address, ...] = ()  # addresses this document references


@dataclass
class DesiredSet:
    resources: dict[Address, DesiredResource] = field(default_factory=dict)  # insertion-ordered
    manifest_digests: dict[str, str] = field(default_factory=dict)  # rel path -> sha256 of the YAML
    moves: list[Move] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[DesiredResource]:
        return [r for r in self.resources.values() if r.kind == kind]

    def counts_by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.resources.values():
            counts[r.kind] = counts.get(r.kind, 0) + 1
        return counts
