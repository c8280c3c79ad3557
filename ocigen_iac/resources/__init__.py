"""Kinds: one module per kind, each registering itself with the registry.

The generic layers import only this package: `registry` to iterate kinds, and the protocol
types (`DocumentKind`, `ResourceType`, `Instance`, `CreateOutcome`). Importing it registers the
built-in kinds (their modules call `registry.register` at import).
"""

from __future__ import annotations

from ocigen_iac.resources import (  # noqa: F401
           containers,
           files,
           object_storage_objects,
           projects,
           registry,
           retrieval_checks,
           vector_store_connectors,
           vector_store_files,
           vector_stores,
)
from ocigen_iac.resources.base import (
           DEGRADED,
           HEALTHY,
           MISSING,
           PROGRESSING,
           UNKNOWN,
           CheckCase,
           CheckResult,
           CreateOutcome,
           DocumentKind,
           Instance,
           ResourceType,
)

__all__ = [
           "DEGRADED",
           "HEALTHY",
           "MISSING",
           "PROGRESSING",
           "UNKNOWN",
           "CheckCase",
           "CheckResult",
           "CreateOutcome",
           "DocumentKind",
           "Instance",
           "ResourceType",
           "registry",
]
