"""The small protocol between the generic engine and each kind of resource.

The engine (planner, applier) talks to every kind through `ResourceKind`: expand desired
documents into instances, project a live object into the attributes we manage, say which
attributes force replacement, and create/update/delete/adopt. Everything kind-specific (API
calls, readiness, how to find a leaked create) lives in the kind's module.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ocigen_iac.manifest.desired import DesiredResource, Lifecycle
from ocigen_iac.state.model import Intent, ResourceState

if TYPE_CHECKING:
    from ocigen_iac.engine.context import RunContext

# Tolerance when matching a leaked create by its creation time (client/server clock skew).
CLOCK_SKEW_S = 300.0


@dataclass
class Instance:
    """One managed object the manifests ask for."""

    address: str
    kind: str
    attrs: dict[str, Any]  # desired attributes, in the same space as `project_live`
    deps: list[str] = field(default_factory=list)  # addresses whose live ids this object needs
    parent: str | None = None  # store / container address for children
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    source: Any = None  # the spec (paths for uploads)
    origin: DesiredResource | None = None


@dataclass
class LiveView:
    """Everything refresh read from the service, as plain dicts keyed by id."""

    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    stores: dict[str, dict[str, Any]] = field(default_factory=dict)
    store_files: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    containers: dict[str, dict[str, Any]] = field(default_factory=dict)
    container_files: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


class ResourceKind:
    """Base class; subclasses override what differs. Attribute names follow the API."""

    kind: ClassVar[str]
    order: ClassVar[int]  # planning/apply order among kinds (parents first)
    update_fields: ClassVar[frozenset[str]] = frozenset()  # changed in place
    # replacement strategy when a replace is needed
    create_before_destroy: ClassVar[bool] = True
    # identity includes the live ids of dependencies (an attachment is (store id, file id)), so a
    # dependency that gets a new object means a replacement even when no attribute changed
    identity_follows_deps: ClassVar[bool] = False
    # attributes shown in plans but never diffed (informational)
    informational: ClassVar[frozenset[str]] = frozenset()

    def find_live(self, ctx: RunContext, rs: ResourceState) -> dict[str, Any] | None:
        raise NotImplementedError

    def gone_reason(self, live: dict[str, Any]) -> str | None:
        """Why a live object no longer counts as present (e.g. "expired"), or None."""
        return None

    def failure(self, live: dict[str, Any]) -> str | None:
        """A readiness failure that should make the next apply retry (e.g. ingestion failed)."""
        return None

    def project_live(self, live: dict[str, Any], rs: ResourceState) -> dict[str, Any]:
        raise NotImplementedError

    def snapshot(self, live: dict[str, Any]) -> dict[str, Any]:
        """The live fields recorded in state as the drift baseline."""
        return {}

    # --- apply -----------------------------------------------------------------------------
    async def create(self, ctx: RunContext, inst: Instance) -> ResourceState:
        raise NotImplementedError

    async def update(self, ctx: RunContext, inst: Instance, rs: ResourceState) -> ResourceState:
        raise NotImplementedError(f"{self.kind} cannot be updated in place")

    async def delete(self, ctx: RunContext, address: str, rs: ResourceState) -> None:
        raise NotImplementedError

    # --- adoption --------------------------------------------------------------------------
    def adopt(self, ctx: RunContext, intent: Intent, tracked_ids: set[str]) -> ResourceState | None:
        """Find the object a crashed or lost create left behind, from the live view."""
        return None

    async def adopt_verified(self, ctx: RunContext, intent: Intent, tracked_ids: set[str]) -> ResourceState | None:
        """`adopt`, plus whatever check the kind can make against the live object (see files)."""
        return self.adopt(ctx, intent, tracked_ids)


def recent(created_at: Any, since: float) -> bool:
    try:
        return float(created_at) >= since - CLOCK_SKEW_S
    except (TypeError, ValueError):
        return False


def now() -> float:
    return time.time()


def strip_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}
