"""The state model: plain, JSON-serialisable records of what ocigen-iac manages.

A `State` maps each address to a `ResourceState` (live id, what was last applied, a snapshot of
the live fields we watch for drift) and holds pending create `Intent`s. `lineage` identifies one
state's history; `serial` increases only when something actually changed. Secrets never enter
here: no API keys, no file contents, only ids, hashes and the attributes we manage.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

STATE_FORMAT_VERSION = 1


@dataclass
class ResourceState:
    kind: str  # file | vector_store | vector_store_file | container | container_file
    id: str  # live id (for vector_store_file: the file id)
    attrs: dict[str, Any] = field(default_factory=dict)  # last applied desired attributes
    live: dict[str, Any] = field(default_factory=dict)  # last seen live projection (drift baseline)
    parent_id: str | None = None  # store id / container id for children
    deps: list[str] = field(default_factory=list)  # addresses this depends on
    status: str | None = None  # readiness (vector_store_file: completed | failed | in_progress)
    last_error: dict[str, Any] | None = None
    created_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, [], {})}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResourceState:
        if data.keys() <= _RESOURCE_FIELDS:  # the usual case: no filtering needed
            return cls(**data)
        return cls(**{k: v for k, v in data.items() if k in _RESOURCE_FIELDS})


_RESOURCE_FIELDS = frozenset(ResourceState.__dataclass_fields__)


@dataclass
class Intent:
    """Recorded before a create so that a crash or lost response leads to adoption, not a duplicate."""

    address: str
    kind: str
    fingerprint: dict[str, Any]  # what identifies the object we are about to create
    started_at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Intent:
        return cls(**data)


@dataclass
class State:
    lineage: str = field(default_factory=lambda: str(uuid.uuid4()))
    serial: int = 0
    env: str = "default"
    resources: dict[str, ResourceState] = field(default_factory=dict)
    intents: dict[str, Intent] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": STATE_FORMAT_VERSION,
            "lineage": self.lineage,
            "serial": self.serial,
            "env": self.env,
            "resources": {a: r.to_dict() for a, r in sorted(self.resources.items())},
            "intents": {a: i.to_dict() for a, i in sorted(self.intents.items())},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> State:
        version = data.get("format_version")
        if version != STATE_FORMAT_VERSION:
            from ocigen_iac.errors import StateError

            raise StateError(
                f"state format_version {version!r} is not supported by this ocigen-iac "
                f"(expects {STATE_FORMAT_VERSION}); upgrade ocigen-iac or restore a backup"
            )
        return cls(
            lineage=data["lineage"],
            serial=int(data["serial"]),
            env=data.get("env", "default"),
            resources={a: ResourceState.from_dict(r) for a, r in data.get("resources", {}).items()},
            intents={a: Intent.from_dict(i) for a, i in data.get("intents", {}).items()},
        )

    def apply_record(self, record: dict[str, Any]) -> None:
        """Apply one journal record (see state/journal.py) to this state."""
        op = record["op"]
        address = record.get("address", "")
        if op == "put":
            self.resources[address] = ResourceState.from_dict(record["resource"])
        elif op == "remove":
            self.resources.pop(address, None)
        elif op == "intent":
            self.intents[address] = Intent.from_dict(record["intent"])
        elif op == "clear_intent":
            self.intents.pop(address, None)
        elif op == "move":
            # Replays must be idempotent: a crash between writing a snapshot and clearing the journal
            # replays records the snapshot already holds. Move only the object the record moved.
            moved = self.resources.get(address)
            if moved is not None and record.get("id") in (None, moved.id):
                self.resources[record["to"]] = self.resources.pop(address)
