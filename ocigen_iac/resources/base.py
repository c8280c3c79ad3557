"""The kind protocol: everything the generic layers need from a kind, and nothing more.

Two halves, because one manifest document can declare objects of several resource types (a
`VectorStore` document declares the store and its attachments):

* `DocumentKind` — the manifest side: the pydantic model of the document's `spec`, reference
  resolution and cross-document checks (`resolve`), and expansion into `Instance`s (`expand`).
* `ResourceType` — the live side: how to list live objects (per parent), confirm one, which
  fields update in place / force replacement / are informational, create / create-many (batched
  by a key the type gives) / update / delete, how to find a leaked create and what a match must
  pass, import, outputs and render hints.

Kinds register themselves once (`resources.registry.register`); the manifest layer, refresh,
planner, applier, renderers and commands iterate the registry and never name a kind.
Defaults here are the common case, so a simple kind overrides little.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ocigen_iac.addresses import Address
from ocigen_iac.manifest.desired import DesiredResource, Lifecycle, Location
from ocigen_iac.state.model import Intent, ResourceState

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ocigen_iac.engine.context import ApplyContext, ExpandContext, RunContext
    from ocigen_iac.engine.plan import Change
    from ocigen_iac.manifest.parse import ParsedDoc
    from ocigen_iac.manifest.resolve import Resolver

# Tolerance when matching a leaked create by its creation time (client/server clock skew).
CLOCK_SKEW_S = 300.0

# What `ResourceType.health` may answer (Argo CD's health statuses), best first.
HEALTHY, PROGRESSING, DEGRADED, MISSING, UNKNOWN = "Healthy", "Progressing", "Degraded", "Missing", "Unknown"


def shared_text(value: Any) -> Any:
    """A string from a listed page, interned: ids and statuses repeat across the state, the live
    view and the instances (100,000 objects hold each id two or three times otherwise)."""
    return sys.intern(value) if type(value) is str else value


@dataclass(slots=True)
class Instance:
    """One managed object the manifests ask for. `attrs` is complete: a saved plan carries it and
    apply creates the object from it alone (paths in it are relative to the project root)."""

    address: Address
    kind: str  # resource type
    attrs: dict[str, Any]
    deps: tuple[Address, ...] = ()  # objects whose live ids this one needs (parent included)
    parent: Address | None = None  # the object it lives in (a store for an attachment)
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    location: Location | None = None  # the manifest document, for messages


@dataclass
class CheckCase:
    """One case of a check (a query of a retrieval check): a JUnit test case, a block of text."""

    name: str
    passed: bool
    message: str = ""  # why it failed, one line
    lines: list[str] = field(default_factory=list)  # what the text report shows under it
    seconds: float = 0.0


@dataclass
class CheckResult:
    """One declared check's outcome (e.g. a retrieval check run after apply or by `check`)."""

    name: str  # what it checks, as the user named it (an address or a label)
    passed: bool
    summary: str  # one line for the terminal
    details: dict[str, Any] = field(default_factory=dict)  # for JSON / JUnit
    cases: list[CheckCase] = field(default_factory=list)  # for the text report and JUnit


@dataclass
class CreateOutcome:
    """One result of `create_many`: a state record, an error message, or both (ingestion failed)."""

    change: Change
    state: ResourceState | None
    error: str | None = None


class DocumentKind:
    """A manifest `kind:`. Subclasses set the class variables and override resolve/expand."""

    kind: ClassVar[str]  # "VectorStore"
    prefix: ClassVar[str]  # address prefix: "vector_store"
    spec_model: ClassVar[type[BaseModel]]
    references: ClassVar[tuple[str, ...]] = ()  # document kinds this one may reference (resolve order)
    produces: ClassVar[tuple[str, ...]] = ()  # resource types its instances have (refresh lists them)
    rank: ClassVar[int] = 100  # listing order among kinds (summaries, schema); references still come first

    @property
    def article(self) -> str:
        return ("an " if self.kind[:1] in "AEIOU" else "a ") + self.kind

    def resolve(self, doc: ParsedDoc, r: Resolver) -> None:
        """Check references and local paths; add DesiredResource(s) through `r.add(...)`."""
        r.add(doc, Address(self.prefix, doc.name), doc.model.spec)

    def finish(self, r: Resolver) -> None:
        """Checks across every document of this kind, after all documents were resolved."""

    def local_paths(self, res: DesiredResource) -> Iterable[Any]:
        """Local files whose content the instances hash (Paths, or absolute paths as text)."""
        return ()

    def expand(self, res: DesiredResource, x: ExpandContext) -> list[Instance]:
        raise NotImplementedError

    def summarize(self, resources: list[DesiredResource]) -> str:
        """One `validate` summary item for this kind's documents."""
        docs = len({r.name for r in resources})
        return f"{docs} {self.kind}"

    async def run_checks(self, ctx: RunContext, resources: list[DesiredResource],
                         touched: set[Address] | None) -> list[CheckResult]:
        """Declared checks of this kind's documents, run after an apply (only those about objects
        in `touched`) or on demand by `ocigen-iac check` (`touched` None: all). Default: none."""
        return []


class ResourceType:
    """A kind of live object. Attribute names follow the API."""

    type: ClassVar[str]  # "vector_store"
    collection: ClassVar[str] = ""  # the API collection, for messages: "/vector_stores"
    parent_type: ClassVar[str | None] = None  # children are listed per live parent object
    update_fields: ClassVar[frozenset[str]] = frozenset()  # changed in place; others force replacement
    informational: ClassVar[frozenset[str]] = frozenset()  # shown in plans, never diffed
    create_before_destroy: ClassVar[bool] = True  # replacement order when old and new can coexist
    batch_limit: ClassVar[int] = 0  # > 0: creates go through create_many, grouped by batch_key
    verify_after_apply: ClassVar[bool] = False  # re-read after apply before saying "complete"
    shown_on_create: ClassVar[tuple[str, ...]] = ()  # attributes the text plan lists for a create
    output_fields: ClassVar[tuple[str, ...]] = ()  # attributes `output` prints beside the id
    # Server-computed fields (e.g. usage_bytes) recorded in state beside the drift snapshot after
    # a verified apply and by `apply --refresh-only`, for `output`; never diffed.
    observed_fields: ClassVar[tuple[str, ...]] = ()
    importable: ClassVar[bool] = True
    # Scope: values every call of the run carries (the OpenAI-Project header is the "project"
    # scope). A type that `provides_scope` (a managed Project) supplies them from its state record
    # (`scope`); a type that `needs_scope` cannot have live objects before its scope exists, and
    # its creates wait for the object that provides it.
    provides_scope: ClassVar[frozenset[str]] = frozenset()
    needs_scope: ClassVar[frozenset[str]] = frozenset()

    def scope(self, rs: ResourceState) -> dict[str, str]:
        return {}

    # --- refresh ------------------------------------------------------------------------------
    async def list_live(self, ctx: RunContext, parent_id: str | None) -> dict[str, Any]:
        """Every live object (of one parent, for children), keyed by id, in as few requests as
        possible: each a dict, or a compact value `unpack` turns into one."""
        raise NotImplementedError

    def unpack(self, object_id: str, packed: Any) -> dict[str, Any]:
        """A listed object that `list_live` kept compact (not a dict), as the dict `slim` makes of
        it. Types whose lists hold dicts never get here."""
        raise TypeError(f"{self.type}: a listed object is {type(packed).__name__}, not a dict")

    async def get_live(self, ctx: RunContext, rs: ResourceState) -> dict[str, Any] | None:
        """One object by id (lists can lag), or None if it does not exist."""
        return None

    def gone_reason(self, live: dict[str, Any]) -> str | None:
        """Why a live object no longer counts as present (e.g. "expired"), or None."""
        return None

    def failure(self, live: dict[str, Any]) -> str | None:
        """A readiness failure that the next apply should repair (e.g. ingestion failed)."""
        return None

    def project_live(self, live: dict[str, Any], rs: ResourceState, inst: Instance | None) -> dict[str, Any]:
        """The live object in the attribute space of `Instance.attrs` (what diffs compare)."""
        raise NotImplementedError

    def snapshot(self, live: dict[str, Any]) -> dict[str, Any]:
        """The live fields recorded in state as the drift baseline."""
        return {}

    def slim(self, live: dict[str, Any]) -> dict[str, Any]:
        """What refresh keeps of a listed object (memory: a large plan holds 100,000 of them)."""
        return live

    # --- identity and dependencies ---------------------------------------------------------
    def follows(self, inst: Instance, dep: Address) -> bool:
        """True if this object's identity is the dependency's object (an attachment *is* its
        File in its store): a dependency with a new object means this one must be re-made."""
        return False

    def pointed_ids(self, rs: ResourceState) -> dict[str, str]:
        """Which live objects this one was made against (dependency address -> id)."""
        return rs.dep_ids

    def can_coexist(self, inst: Instance, rs: ResourceState, new_dependency: bool) -> bool:
        """Whether the replacement and the old object may exist at once (create-before-destroy)."""
        return self.create_before_destroy

    # --- adoption ----------------------------------------------------------------------------
    def fingerprint(self, ctx: ApplyContext, change: Change) -> dict[str, Any]:
        """What identifies the object a create is about to make (recorded as the intent)."""
        return {"attrs": dict(change.after or {})}

    def leaked_candidates(self, intent: Intent, pool: dict[str, dict[str, Any]],
                          tracked_ids: set[str]) -> list[dict[str, Any]]:
        """Live objects that may be what an interrupted or lost create made, best first."""
        return []

    async def verify_leaked(self, ctx: RunContext, intent: Intent, live: dict[str, Any]) -> tuple[bool, str | None]:
        """Extra checks on a candidate: (accepted, what was trusted instead of checked, if anything)."""
        return True, None

    def find_existing(self, ctx: RunContext, inst: Instance, ids: dict[str, str]) -> dict[str, Any] | None:
        """An untracked live object that already is this instance (found by an ownership tag, or
        an attachment already in its store), given the live ids of its dependencies; or None."""
        return None

    def adopted_state(self, ctx: RunContext, attrs: dict[str, Any], live: dict[str, Any],
                      parent_id: str | None, dep_ids: dict[str, str]) -> ResourceState:
        """The state record for an adopted live object."""
        return ResourceState(self.type, live["id"], attrs=dict(attrs), live=self.snapshot(live),
                             parent_id=parent_id, dep_ids=dict(dep_ids), created_at=live.get("created_at"))

    # --- apply -------------------------------------------------------------------------------
    def upload_size(self, change: Change) -> int:
        """Bytes of local content creating this object sends (for the plan's summary)."""
        return 0

    def plan_warnings(self, ctx: RunContext, changes: list[Change]) -> list[str]:
        """Warnings about this type's planned changes (shown with the plan)."""
        return []

    def expected_children(self, parent_live: dict[str, Any]) -> int | None:
        """How many objects of this (child) type the parent says it holds, if it says."""
        return None

    async def verify_children(self, ctx: ApplyContext, parent_id: str, expected: dict[str, ResourceState],
                              touched: set[str]) -> dict[str, str]:
        """After apply: check the children of one parent (address -> state) are present and
        ready; `touched` are the ones this run made or changed. Returns address -> problem."""
        problems = {}
        for address, rs in expected.items():
            problem = await self.verify(ctx, rs)
            if problem:
                problems[address] = problem
        return problems

    def batch_key(self, change: Change) -> Hashable:
        return change.parent

    async def create(self, ctx: ApplyContext, change: Change) -> ResourceState:
        raise NotImplementedError

    async def create_many(self, ctx: ApplyContext, changes: list[Change]) -> list[CreateOutcome]:
        """Create several objects of one batch key. Default: one by one."""
        out = []
        for c in changes:
            try:
                out.append(CreateOutcome(c, await self.create(ctx, c)))
            except Exception as exc:  # reported per object; the rest of the batch goes on
                out.append(CreateOutcome(c, None, str(exc) or exc.__class__.__name__))
        return out

    async def ready(self, ctx: ApplyContext, rs: ResourceState) -> None:
        """Wait until an adopted object is usable (a File a crashed run uploaded may still be
        processing). Creates wait inside `create`."""

    async def update(self, ctx: ApplyContext, change: Change, rs: ResourceState) -> ResourceState:
        raise NotImplementedError(f"{self.type} cannot be updated in place")

    async def delete(self, ctx: ApplyContext, rs: ResourceState) -> str | None:
        """Delete the object. Returns None, or a note when the service answered that it is gone
        (which on OCI may also mean "not permitted")."""
        raise NotImplementedError

    async def verify(self, ctx: ApplyContext, rs: ResourceState) -> str | None:
        """After apply: re-read the object; None if present and ready, else what is wrong."""
        return None

    # --- import and outputs ------------------------------------------------------------------
    async def import_object(self, ctx: RunContext, inst: Instance, object_id: str,
                            ids: dict[str, str]) -> tuple[ResourceState, str | None]:
        """Read an existing object into a state record for `inst` (and a note of what was trusted)."""
        raise NotImplementedError(f"{self.type} cannot be imported")

    def outputs(self, rs: ResourceState) -> dict[str, Any]:
        out = {k: rs.attrs.get(k) for k in self.output_fields}
        out.update({k: rs.live.get(k) for k in self.observed_fields})
        return out

    # --- health (`ocigen-iac status`) --------------------------------------------------------
    async def health(self, ctx: RunContext, rs: ResourceState, live: dict[str, Any] | None) -> dict[str, Any]:
        """How a tracked object is doing, from its listed live object (None: the list did not
        return it). Read-only, and only through list endpoints (a retrieve may count as activity).
        Keys the engine knows: `health` (Healthy | Progressing | Degraded | Missing | Unknown),
        `summary` (one line) and `problems` (lines); any other key goes to the JSON as it is.
        Default: {} (the engine derives the health from `gone_reason` and `failure`)."""
        return {}


def recent(created_at: Any, since: float) -> bool:
    try:
        return float(created_at) >= since - CLOCK_SKEW_S
    except (TypeError, ValueError):
        return False


def now() -> float:
    return time.time()


def strip_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}
