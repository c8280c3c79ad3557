"""Plans are data: actions, reasons and attribute changes, rendered only at the edges.

`Action` values are the symbols the text renderer prints. `Reason` codes are stable strings used
in JSON plans (`replace_because_content_changed`); prose comes from the renderers. A `Plan`
carries what it was computed against (state lineage/serial, digests of manifests and local
files) so that applying a saved plan is a check, not a hope.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

PLAN_FORMAT_VERSION = "1.0"


class Action(StrEnum):
    NOOP = "no-op"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REPLACE = "replace"  # create the replacement, then delete the old object (create-before-destroy)
    REPLACE_DESTROY_FIRST = "replace-destroy-first"  # delete, then create (identity cannot coexist)
    FORGET = "forget"  # removed from state only (prevent_destroy never applies)

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]

    @property
    def is_replace(self) -> bool:
        return self in (Action.REPLACE, Action.REPLACE_DESTROY_FIRST)


_SYMBOLS = {
    Action.NOOP: " ",
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.DELETE: "-",
    Action.REPLACE: "+/-",
    Action.REPLACE_DESTROY_FIRST: "-/+",
    Action.FORGET: ".",
}


class ReasonCode(StrEnum):
    NEW = "create_because_new"
    DELETED_OUTSIDE = "create_because_deleted_outside"
    EXPIRED = "create_because_expired"
    PARENT_REPLACED = "create_because_parent_replaced"
    ADOPTED = "adopt_after_interrupted_create"
    CONTENT_CHANGED = "replace_because_content_changed"
    CANNOT_UPDATE = "replace_because_cannot_update"
    DEPENDENCY_REPLACED = "replace_because_dependency_replaced"
    INGESTION_FAILED = "replace_because_ingestion_failed"
    REPLACE_REQUESTED = "replace_because_requested"
    UPDATE_IN_PLACE = "update_in_place"
    DRIFT = "update_because_changed_outside"
    NOT_IN_CONFIG = "delete_because_no_resource_config"
    DESTROY_MODE = "delete_because_destroy_mode"
    PARENT_DELETED = "delete_because_parent_deleted"


@dataclass
class Reason:
    code: ReasonCode
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code.value, "detail": self.detail}


@dataclass
class AttrChange:
    path: str  # dotted attribute path, e.g. "metadata.team"
    before: Any = None
    after: Any = None
    forces_replacement: bool = False


@dataclass
class Change:
    address: str
    kind: str
    action: Action
    reasons: list[Reason] = field(default_factory=list)
    before: dict[str, Any] | None = None  # attributes now (state/live); None for create
    after: dict[str, Any] | None = None  # attributes after apply; None for delete
    attr_changes: list[AttrChange] = field(default_factory=list)
    id: str | None = None  # live id of the existing object, when there is one
    deps: list[str] = field(default_factory=list)  # addresses this change's object depends on
    parent: str | None = None  # parent address for children (store / container)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["action"] = self.action.value
        data["reasons"] = [r.to_dict() for r in self.reasons]
        return data


@dataclass
class Drift:
    """An object that changed outside ocigen-iac since the last apply."""

    address: str
    kind: str
    status: str  # "changed" | "deleted" | "expired"
    attr_changes: list[AttrChange] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Plan:
    mode: str  # normal | destroy | refresh-only
    env: str
    changes: list[Change] = field(default_factory=list)  # actionable changes only (no no-ops)
    drift: list[Drift] = field(default_factory=list)
    unchanged: int = 0
    lineage: str | None = None
    serial: int = 0
    manifest_digests: dict[str, str] = field(default_factory=dict)
    file_digests: dict[str, str] = field(default_factory=dict)
    settings_digest: str = ""
    warnings: list[str] = field(default_factory=list)
    adoptions: list[str] = field(default_factory=list)  # addresses adopted during refresh

    def counts(self) -> dict[str, int]:
        add = change = destroy = forget = 0
        for c in self.changes:
            if c.action == Action.CREATE:
                add += 1
            elif c.action == Action.UPDATE:
                change += 1
            elif c.action == Action.DELETE:
                destroy += 1
            elif c.action.is_replace:
                add += 1
                destroy += 1
            elif c.action == Action.FORGET:
                forget += 1
        return {"add": add, "change": change, "destroy": destroy, "forget": forget}

    @property
    def has_changes(self) -> bool:
        return bool(self.changes) or (self.mode == "refresh-only" and bool(self.drift or self.adoptions))

    def to_dict(self) -> dict[str, Any]:
        from ocigen_iac import __version__

        return {
            "format_version": PLAN_FORMAT_VERSION,
            "tool_version": __version__,
            "mode": self.mode,
            "env": self.env,
            "prior_state": {"lineage": self.lineage, "serial": self.serial},
            "change_summary": self.counts(),
            "has_changes": self.has_changes,
            "resource_changes": [c.to_dict() for c in self.changes],
            "resource_drift": [d.to_dict() for d in self.drift],
            "unchanged": self.unchanged,
            "adoptions": self.adoptions,
            "warnings": self.warnings,
            "digests": {
                "manifests": self.manifest_digests,
                "files": self.file_digests,
                "settings": self.settings_digest,
            },
        }
