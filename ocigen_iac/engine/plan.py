"""Plans are data: actions, reasons and attribute changes, rendered only at the edges.

`Action` values are the words of the JSON plan; `Action.symbol` is what the text renderer prints.
`ReasonCode`s are stable strings (`replace_because_content_changed`); prose comes from the
renderers. A `Plan` carries what it was computed against (state lineage and serial, digests of
manifests, local files and settings) and round-trips through its JSON (`to_dict` / `from_dict`):
`apply PLANFILE` executes exactly the saved changes after the staleness checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ocigen_iac.addresses import Address

PLAN_FORMAT_VERSION = "1.1"


class Action(StrEnum):
    NOOP = "no-op"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REPLACE = "replace"  # create the replacement, then delete the old object (create-before-destroy)
    REPLACE_DESTROY_FIRST = "replace-destroy-first"  # delete, then create (the two cannot coexist)
    ADOPT = "adopt"  # record an existing object in state; nothing changes on the service
    MOVE = "move"  # the object keeps its identity under a new address (a `moved:` entry)

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]

    @property
    def is_replace(self) -> bool:
        return self in (Action.REPLACE, Action.REPLACE_DESTROY_FIRST)

    @property
    def makes_new_object(self) -> bool:
        return self in (Action.CREATE, Action.REPLACE, Action.REPLACE_DESTROY_FIRST)


_SYMBOLS = {
    Action.NOOP: " ",
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.DELETE: "-",
    Action.REPLACE: "+/-",
    Action.REPLACE_DESTROY_FIRST: "-/+",
    Action.ADOPT: "=",
    Action.MOVE: ">",
}


class ReasonCode(StrEnum):
    NEW = "create_because_new"
    DELETED_OUTSIDE = "create_because_deleted_outside"
    EXPIRED = "create_because_expired"
    PARENT_REPLACED = "create_because_parent_replaced"
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
    DEPENDENCY_DELETED = "delete_because_dependency_deleted"
    DEPOSED = "delete_because_deposed"
    ADOPT_INTERRUPTED = "adopt_after_interrupted_create"
    ADOPT_OWNED = "adopt_by_ownership_tag"
    ADOPT_EXISTING = "adopt_existing_object"
    MOVED = "move_because_moved_in_manifests"
    MOVED_SAME_OBJECT = "move_because_same_object"  # its object is tracked under an address no longer declared


@dataclass
class Reason:
    code: ReasonCode
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code.value, "detail": self.detail}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reason:
        return cls(ReasonCode(data["code"]), data.get("detail", ""))


@dataclass
class AttrChange:
    path: str  # dotted attribute path, e.g. "metadata.team"
    before: Any = None
    after: Any = None
    forces_replacement: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "before": self.before, "after": self.after,
                "forces_replacement": self.forces_replacement}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AttrChange:
        return cls(data["path"], data.get("before"), data.get("after"), bool(data.get("forces_replacement")))


@dataclass
class Change:
    address: Address
    kind: str  # resource type
    action: Action
    reasons: list[Reason] = field(default_factory=list)
    before: dict[str, Any] | None = None  # attributes now (state/live); None for a create
    after: dict[str, Any] | None = None  # desired attributes (complete: creates are made from them)
    attr_changes: list[AttrChange] = field(default_factory=list)
    id: str | None = None  # live id of the existing object
    deps: tuple[Address, ...] = ()  # objects this change's new object depends on
    parent: Address | None = None
    previous_address: Address | None = None  # a move (with or without other changes)
    deposed: bool = False  # deletes an old object left over from a replacement (id = its id)
    importing: dict[str, Any] | None = None  # the state record an adoption writes (ResourceState dict)
    live_digest: str | None = None  # digest of the live object this was planned against
    location: str | None = None  # the manifest document ("file:line:col"), for messages

    @property
    def reason(self) -> ReasonCode | None:
        return self.reasons[0].code if self.reasons else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "address": str(self.address),
            "kind": self.kind,
            "action": self.action.value,
            "reasons": [r.to_dict() for r in self.reasons],
            "before": self.before,
            "after": self.after,
            "attr_changes": [a.to_dict() for a in self.attr_changes],
            "id": self.id,
            "deps": [str(d) for d in self.deps],
            "parent": str(self.parent) if self.parent else None,
        }
        if self.previous_address is not None:
            out["previous_address"] = str(self.previous_address)
        if self.deposed:
            out["deposed"] = self.id
        if self.importing is not None:
            out["importing"] = {"id": self.importing.get("id"), "resource": self.importing}
        if self.live_digest is not None:
            out["live_digest"] = self.live_digest
        if self.location is not None:
            out["location"] = self.location
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        importing = data.get("importing")
        return cls(
            address=Address.parse(data["address"]),
            kind=data["kind"],
            action=Action(data["action"]),
            reasons=[Reason.from_dict(r) for r in data.get("reasons", [])],
            before=data.get("before"),
            after=data.get("after"),
            attr_changes=[AttrChange.from_dict(a) for a in data.get("attr_changes", [])],
            id=data.get("id"),
            deps=tuple(Address.parse(d) for d in data.get("deps", [])),
            parent=Address.parse(data["parent"]) if data.get("parent") else None,
            previous_address=Address.parse(data["previous_address"]) if data.get("previous_address") else None,
            deposed="deposed" in data,
            importing=importing.get("resource") if isinstance(importing, dict) else None,
            live_digest=data.get("live_digest"),
            location=data.get("location"),
        )


@dataclass
class Drift:
    """An object that changed outside ocigen-iac since the last apply."""

    address: Address
    kind: str
    status: str  # "changed" | "deleted" | "expired"
    attr_changes: list[AttrChange] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"address": str(self.address), "kind": self.kind, "status": self.status,
                "attr_changes": [a.to_dict() for a in self.attr_changes]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Drift:
        return cls(Address.parse(data["address"]), data["kind"], data["status"],
                   [AttrChange.from_dict(a) for a in data.get("attr_changes", [])])


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
    targets: list[str] = field(default_factory=list)
    excludes: list[str] = field(default_factory=list)
    stale_intents: list[str] = field(default_factory=list)  # intents this plan resolves (apply clears them)
    manifests_dir: str = "manifests"
    upload_bytes: int = 0  # local content the apply sends
    variables: dict[str, str] = field(default_factory=dict)  # --var/--var-file values: `apply FILE` reuses them

    def counts(self) -> dict[str, int]:
        n = {"add": 0, "change": 0, "destroy": 0, "import": 0, "move": 0}
        for c in self.changes:
            if c.importing is not None:
                n["import"] += 1
            if c.previous_address is not None:
                n["move"] += 1
            if c.action == Action.CREATE:
                n["add"] += 1
            elif c.action == Action.UPDATE:
                n["change"] += 1
            elif c.action == Action.DELETE:
                n["destroy"] += 1
            elif c.action.is_replace:
                n["add"] += 1
                n["destroy"] += 1
        return n

    @property
    def has_changes(self) -> bool:
        if self.mode == "refresh-only":
            return bool(self.drift or any(c.action == Action.ADOPT for c in self.changes))
        return bool(self.changes)

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
            "upload_bytes": self.upload_bytes,
            "resource_changes": [c.to_dict() for c in self.changes],
            "resource_drift": [d.to_dict() for d in self.drift],
            "unchanged": self.unchanged,
            "warnings": self.warnings,
            "targets": self.targets,
            "excludes": self.excludes,
            "stale_intents": self.stale_intents,
            "manifests_dir": self.manifests_dir,
            "variables": self.variables,
            "digests": {
                "manifests": self.manifest_digests,
                "files": self.file_digests,
                "settings": self.settings_digest,
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        prior = data.get("prior_state") or {}
        digests = data.get("digests") or {}
        return cls(
            mode=data["mode"],
            env=data["env"],
            changes=[Change.from_dict(c) for c in data.get("resource_changes", [])],
            drift=[Drift.from_dict(d) for d in data.get("resource_drift", [])],
            unchanged=int(data.get("unchanged", 0)),
            lineage=prior.get("lineage"),
            serial=int(prior.get("serial") or 0),
            manifest_digests=dict(digests.get("manifests") or {}),
            file_digests=dict(digests.get("files") or {}),
            settings_digest=digests.get("settings") or "",
            warnings=list(data.get("warnings", [])),
            targets=list(data.get("targets", [])),
            excludes=list(data.get("excludes", [])),
            stale_intents=list(data.get("stale_intents", [])),
            manifests_dir=data.get("manifests_dir", "manifests"),
            upload_bytes=int(data.get("upload_bytes") or 0),
            variables={str(k): str(v) for k, v in (data.get("variables") or {}).items()},
        )
