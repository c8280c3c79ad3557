"""The state model: plain, JSON-serialisable records of what ocigen-iac manages.

A `State` maps each address (its string form, see `ocigen_iac.addresses`) to a `ResourceState`:
the live id, what was last applied, a snapshot of the live fields watched for drift, and the ids
of the objects it was made against (`dep_ids`: an attachment records which File id it attached).
Beside them:

* `deposed`   old objects left over from a create-before-destroy replacement, still to delete
              (data, not address suffixes); each remembers the address it belonged to;
* `intents`   pending creates, recorded before the request is sent, so a crash or a lost
              response leads to adoption instead of a duplicate;
* `released`  ids removed from management with `state rm`: never adopted again automatically.

`lineage` identifies one state's history; `serial` increases only when something changed.
Secrets never enter here: no API keys, no file contents, only ids, hashes and managed attributes.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

STATE_FORMAT_VERSION = 2
_DEPOSED_MARK = "#deposed-"  # how format 1 spelled deposed objects (read for migration only)


_SCALARS = (str, int, float, bool, type(None))


class ValueSharer:
    """Makes the records read from a snapshot share what they repeat: string values interned,
    and small dicts (empty, or one key holding a scalar or such a dict) held once. A large state
    repeats the same ids, addresses and small values many times (an attachment's id is its
    File's id, every attachment names its store, most carry `attributes: {}`); interned strings
    are also shared with the live view and the instances. Records are replaced, never mutated in
    place (see `ResourceState.to_dict`), so sharing their values is safe. One sharer per load.

    It works in place on freshly parsed JSON, and keeps its loops flat: it runs for every value
    of every record of a large state."""

    def __init__(self) -> None:
        self._dicts: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._shared: set[int] = set()  # ids of the dicts in _dicts (alive as long as this is)

    def record(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._values(data)

    def _values(self, d: dict[str, Any]) -> dict[str, Any]:
        for k, v in d.items():  # replacing values only: the dict does not change size
            t = type(v)
            if t is str:
                d[k] = sys.intern(v)
            elif t is dict:
                shared = self._small(v)
                d[k] = shared if shared is not None else self._values(v)
            elif t is list:
                d[k] = [sys.intern(x) if type(x) is str else x for x in v]
        return d

    def _small(self, d: dict[str, Any]) -> dict[str, Any] | None:
        """The shared copy of an empty or one-key dict; None for a larger one. Its key holds the
        value's type too (1, 1.0 and True are equal) and a nested dict by identity (it is shared,
        so alive as long as this is)."""
        if not d:
            key: tuple[Any, ...] = ()
        elif len(d) == 1:
            ((k, v),) = d.items()
            t = type(v)
            if t is str:
                v = d[k] = sys.intern(v)
                key = (k, str, v)
            elif t in _SCALARS:
                key = (k, t, v)
            elif t is dict and len(v) <= 1:
                v = d[k] = self._small(v)
                key = (k, dict, id(v))
            else:
                return self._values(d)  # a list, or a larger dict: kept, not shared
        else:
            return None
        shared = self._dicts.setdefault(key, d)
        self._shared.add(id(shared))
        return shared


class DepIds(tuple):  # type: ignore[type-arg]
    """A loaded record's `dep_ids` (address -> id), read-only, held as one flat tuple (address,
    id, address, id, ...): 72 bytes for an attachment's two entries where a dict takes 184, and a
    large state loads 100,000 of them. It reads like the dict it was (get, [], in, items, ==,
    `dict(...)`); records are replaced, never mutated in place, so nothing writes to it."""

    __slots__ = ()

    def keys(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple.__getitem__(self, slice(0, None, 2))

    def values(self) -> tuple[str, ...]:
        return tuple.__getitem__(self, slice(1, None, 2))

    def items(self) -> list[tuple[str, str]]:
        return list(zip(self.keys(), self.values(), strict=True))

    def get(self, key: str, default: Any = None) -> Any:
        keys = self.keys()
        return tuple.__getitem__(self, 2 * keys.index(key) + 1) if key in keys else default

    def __getitem__(self, key: str) -> str:  # type: ignore[override]
        keys = self.keys()
        if key not in keys:
            raise KeyError(key)
        return tuple.__getitem__(self, 2 * keys.index(key) + 1)  # type: ignore[no-any-return]

    def __contains__(self, key: object) -> bool:
        return key in self.keys()

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        return iter(self.keys())

    def __len__(self) -> int:
        return tuple.__len__(self) // 2

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DepIds | dict):
            return dict(self.items()) == dict(other.items())
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = None  # type: ignore[assignment]  # like the dict it stands for

    def __repr__(self) -> str:
        return repr(dict(self.items()))


@dataclass(slots=True)
class ResourceState:
    kind: str  # the resource type (a registered kind's `type`)
    id: str  # live id
    attrs: dict[str, Any] = field(default_factory=dict)  # last applied desired attributes
    live: dict[str, Any] = field(default_factory=dict)  # last seen live projection (drift baseline)
    parent_id: str | None = None  # the parent's live id, for children (store id, container id)
    dep_ids: dict[str, str] | DepIds = field(default_factory=dict)  # dependency address -> its id when made
    status: str | None = None  # readiness (attachments: completed | failed | in_progress)
    last_error: dict[str, Any] | None = None
    created_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        # By hand, not dataclasses.asdict: that deep-copies every value, and a checkpoint of a
        # large state calls this 100,000 times. One level of copying is enough: records are
        # replaced, never mutated in place.
        out: dict[str, Any] = {"kind": self.kind, "id": self.id}
        if self.attrs:
            out["attrs"] = dict(self.attrs)
        if self.live:
            out["live"] = dict(self.live)
        if self.parent_id is not None:
            out["parent_id"] = self.parent_id
        if self.dep_ids:
            out["dep_ids"] = dict(self.dep_ids)
        if self.status is not None:
            out["status"] = self.status
        if self.last_error:
            out["last_error"] = dict(self.last_error)
        if self.created_at is not None:
            out["created_at"] = self.created_at
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResourceState:
        if data.keys() <= _RESOURCE_FIELDS:  # the usual case: no filtering needed
            return cls(**data)
        return cls(**{k: v for k, v in data.items() if k in _RESOURCE_FIELDS})

    @classmethod
    def loaded(cls, data: dict[str, Any], share: ValueSharer) -> ResourceState:
        """A record read from a snapshot, its values shared with other records (`ValueSharer`).
        Its `dep_ids` are held compact (`DepIds`), their addresses interned: the texts the state's keys hold."""
        data = share.record(data)  # dep_ids' values interned; its keys below
        deps = data.get("dep_ids")
        if deps and type(deps) is dict:
            flat: list[Any] = []
            for address, dep_id in deps.items():
                flat.append(sys.intern(address))
                flat.append(dep_id)
            data["dep_ids"] = DepIds(flat)
        return cls.from_dict(data)


_RESOURCE_FIELDS = frozenset(ResourceState.__dataclass_fields__)


@dataclass
class Deposed:
    """An old object replaced by a newer one at `address`, waiting to be deleted."""

    address: str
    resource: ResourceState

    @property
    def key(self) -> tuple[str, str]:
        return (self.address, self.resource.id)

    def to_dict(self) -> dict[str, Any]:
        return {"address": self.address, "resource": self.resource.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Deposed:
        return cls(data["address"], ResourceState.from_dict(data["resource"]))


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
    deposed: list[Deposed] = field(default_factory=list)
    intents: dict[str, Intent] = field(default_factory=dict)
    released: dict[str, str] = field(default_factory=dict)  # id -> the address it had

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": STATE_FORMAT_VERSION,
            "lineage": self.lineage,
            "serial": self.serial,
            "env": self.env,
            "resources": {a: r.to_dict() for a, r in sorted(self.resources.items())},
            "deposed": [d.to_dict() for d in self.deposed],
            "intents": {a: i.to_dict() for a, i in sorted(self.intents.items())},
            "released": dict(sorted(self.released.items())),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> State:
        version = data.get("format_version")
        if version == 1:
            data = _migrate_v1(data)
        elif version != STATE_FORMAT_VERSION:
            from ocigen_iac.errors import StateError

            raise StateError(
                f"state format_version {version!r} is not supported by this ocigen-iac "
                f"(expects {STATE_FORMAT_VERSION}); upgrade ocigen-iac or restore a backup"
            )
        share = ValueSharer()
        return cls(
            lineage=data["lineage"],
            serial=int(data["serial"]),
            env=data.get("env", "default"),
            resources={cls.address_key(a): ResourceState.loaded(r, share)
                       for a, r in data.get("resources", {}).items()},
            deposed=[Deposed.from_dict(d) for d in data.get("deposed", [])],
            intents={a: Intent.from_dict(i) for a, i in data.get("intents", {}).items()},
            released=dict(data.get("released", {})),
        )

    @staticmethod
    def address_key(address: str) -> str:
        return sys.intern(address)  # the same text as the instance's address (see addresses._render)

    # --- the journal's operations (one place; SyncState writes them, replay reads them) ------
    def apply_record(self, record: dict[str, Any]) -> None:
        """Apply one journal record. Replays must be idempotent: a crash between writing a
        snapshot and clearing the journal replays records the snapshot already holds."""
        op = record["op"]
        address = record.get("address", "")
        if op == "put":
            self.resources[address] = ResourceState.from_dict(record["resource"])
        elif op == "remove":
            self.resources.pop(address, None)
        elif op == "move":
            moved = self.resources.get(address)
            if moved is not None and record.get("id") in (None, moved.id):
                self.resources[record["to"]] = self.resources.pop(address)
            for d in self.deposed:
                if d.address == address:
                    d.address = record["to"]
            if address in self.intents:
                intent = self.intents.pop(address)
                intent.address = record["to"]
                self.intents[record["to"]] = intent
        elif op == "depose":
            current = self.resources.get(address)
            if current is not None and current.id == record["id"]:
                del self.resources[address]
                if not any(d.key == (address, current.id) for d in self.deposed):
                    self.deposed.append(Deposed(address, current))
        elif op == "remove_deposed":
            self.deposed = [d for d in self.deposed if d.key != (address, record["id"])]
        elif op == "intent":
            self.intents[address] = Intent.from_dict(record["intent"])
        elif op == "clear_intent":
            self.intents.pop(address, None)
        elif op == "release":
            self.released[record["id"]] = address
        else:
            raise ValueError(f"unknown state journal operation {op!r}")

    def deposed_of(self, address: str) -> list[Deposed]:
        return [d for d in self.deposed if d.address == address]


def _migrate_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Format 1 kept deposed objects as `ADDRESS#deposed-ID` entries and dependencies as a list."""
    resources: dict[str, Any] = {}
    deposed: list[dict[str, Any]] = []
    for address, record in data.get("resources", {}).items():
        record = {k: v for k, v in record.items() if k != "deps"}
        if _DEPOSED_MARK in address:
            deposed.append({"address": address.split(_DEPOSED_MARK, 1)[0], "resource": record})
        else:
            resources[address] = record
    return {**data, "format_version": STATE_FORMAT_VERSION, "resources": resources, "deposed": deposed,
            "released": {}}
