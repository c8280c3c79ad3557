"""Refresh: read the live service into a LiveView, in bulk, and *propose* adoptions.

Level by level (top-level types, then their children per live parent): each type that is
declared or tracked is listed through its list endpoint (about one request per page of live
objects); a type nobody declares or tracks is not asked for at all, so a service that does not
serve it never fails a plan. Children of tracked parents start listing at once, alongside the
top-level lists (the long part of a refresh is these page chains). An object state tracks that
no list returned is confirmed with a direct read before anyone calls it gone (lists can lag).

Adoptions are found here and returned, never written: pending create intents are matched
against what the service holds (engine/adoption.py), and untracked declared objects that already
exist (a store carrying this project's ownership tag, an attachment already in its store) are
proposed. The plan shows them; apply records them. Reading never mutates the service or state.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from ocigen_iac.addresses import Address
from ocigen_iac.engine.adoption import PARENT_KEY, find_leaked, tracked_ids
from ocigen_iac.engine.context import RunContext
from ocigen_iac.engine.moves import renamed_state
from ocigen_iac.engine.plan import ReasonCode
from ocigen_iac.errors import OcigenError
from ocigen_iac.resources import ResourceType, registry
from ocigen_iac.state.model import ResourceState


class ServiceMissing(OcigenError):
    """A kind the manifests or the state need is not served by the configured service."""


class ScopeMissing(OcigenError):
    """Calls need a value (the project) that neither the configuration nor the manifests give."""


def apply_known_scope(ctx: RunContext) -> None:
    """Scope values supplied by objects state tracks (a managed Project)."""
    for rs in ctx.state.state.resources.values():
        kind = registry.resource_type(rs.kind)
        if kind.provides_scope:
            ctx.set_scope(kind.scope(rs))


def _scope_pending(ctx: RunContext, kind: ResourceType, declared: set[str]) -> bool:
    """True if this type's objects cannot exist yet: its scope is made by a declared object that
    does not exist yet. Raises if nothing gives the scope at all."""
    missing = set(kind.needs_scope) - set(ctx.scope)
    if not missing:
        return False
    providers = {k for t in declared for k in registry.resource_type(t).provides_scope}
    if missing <= providers:
        return True
    key = sorted(missing - providers)[0]
    raise ScopeMissing(
        f"no {key} is configured, and {kind.type} objects need one for every call. Set `{key}:` in "
        f"ocigen.yaml (or OCIGEN_{key.upper()}), declare it in the manifests, or use --local to run against "
        "the embedded emulator."
    )


@dataclass
class Adoption:
    address: Address
    state: ResourceState
    code: ReasonCode
    detail: str = ""


@dataclass
class RefreshResult:
    adoptions: dict[Address, Adoption] = field(default_factory=dict)
    stale_intents: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def needed_types(ctx: RunContext, declared: set[str]) -> set[str]:
    state = ctx.state.state
    return (set(declared) | {r.kind for r in state.resources.values()}
            | {d.resource.kind for d in state.deposed} | {i.kind for i in state.intents.values()})


async def _list(ctx: RunContext, kind: ResourceType, parent_id: str | None, declared: bool) -> dict[str, Any]:
    from ocigen_iac.api import NotFound

    try:
        return await kind.list_live(ctx, parent_id)
    except NotFound as exc:
        if parent_id is not None:
            return {}  # the parent is gone (lists lag behind deletes); its children with it
        why = "the manifests declare objects of this kind" if declared else "the state tracks objects of this kind"
        raise ServiceMissing(
            f"the service does not serve {kind.collection} (GET {exc.url or kind.collection} answered 404), but "
            f"{why} ({kind.type}). Remove those documents (and `ocigen-iac state rm` what is tracked), or point "
            "`endpoints:` in ocigen.yaml at a service that serves them."
        ) from None


async def refresh(ctx: RunContext, declared: set[str], renames: dict[str, str] | None = None) -> RefreshResult:
    """Fill ctx.live. `declared`: resource types the manifests declare (ctx.instances is filled);
    `renames`: old -> new addresses from `moved:` entries."""
    state = ctx.state.state
    result = RefreshResult()
    apply_known_scope(ctx)
    needed = needed_types(ctx, declared)
    pending = {t.type for t in registry.resource_types() if t.type in needed and _scope_pending(ctx, t, declared)}
    for type_name in pending:  # nothing of it can exist before its scope does (a project being made)
        ctx.live.put_all(type_name, None, {})
    needed -= pending
    levels = [[t for t in level if t.type in needed] for level in registry.levels()]
    view = renamed_state(state.resources, renames or {})  # address (after moves) -> record

    # Children of tracked parents start now, beside the top-level lists.
    early: dict[tuple[str, str], asyncio.Task[dict[str, Any]]] = {}
    for level in levels[1:2]:
        for kind in level:
            for rs in state.resources.values():
                if rs.kind == kind.parent_type:
                    early[(kind.type, rs.id)] = asyncio.ensure_future(
                        _list(ctx, kind, rs.id, kind.type in declared))
    try:
        for depth, level in enumerate(levels):
            if depth == 0:
                listed = await asyncio.gather(*(_list(ctx, k, None, k.type in declared) for k in level))
                for kind, objects in zip(level, listed, strict=True):
                    ctx.live.put_all(kind.type, None, objects, kind.unpack)
            else:
                await _list_children(ctx, level, declared, result, early)
            await _confirm(ctx, level)
            await _adopt_intents(ctx, level, result)
            _adopt_existing(ctx, level, view, result)
    finally:
        for task in early.values():
            task.cancel()
        await asyncio.gather(*early.values(), return_exceptions=True)

    adopted = {str(a.address) for a in result.adoptions.values()}
    result.stale_intents = sorted(a for a in state.intents if a not in adopted)
    return result


def _alive_parents(ctx: RunContext, kind: ResourceType, result: RefreshResult) -> set[str]:
    assert kind.parent_type is not None
    parent = registry.resource_type(kind.parent_type)
    ids = {rs.id for rs in ctx.state.state.resources.values() if rs.kind == parent.type}
    ids |= {a.state.id for a in result.adoptions.values() if a.state.kind == parent.type}
    alive = set()
    for pid in ids:
        live = ctx.live.get(parent.type, pid, None)
        if live is not None and not parent.gone_reason(live):
            alive.add(pid)
    return alive


async def _list_children(ctx: RunContext, level: list[ResourceType], declared: set[str], result: RefreshResult,
                         early: dict[tuple[str, str], asyncio.Task[dict[str, Any]]]) -> None:
    async def one(kind: ResourceType, pid: str) -> None:
        task = early.pop((kind.type, pid), None)
        objects = await (task if task is not None else _list(ctx, kind, pid, kind.type in declared))
        assert kind.parent_type is not None
        expected = kind.expected_children(ctx.live.get(kind.parent_type, pid) or {})
        if expected is not None and len(objects) < expected:  # started before the parent's counts were known
            objects = await kind.list_live(ctx, pid)
        ctx.live.put_all(kind.type, pid, objects, kind.unpack)

    await asyncio.gather(*(one(kind, pid) for kind in level for pid in _alive_parents(ctx, kind, result)))


async def _confirm(ctx: RunContext, level: list[ResourceType]) -> None:
    """Objects state tracks that a list did not return: read them directly before calling them gone."""
    async def one(kind: ResourceType, rs: ResourceState) -> None:
        live = await kind.get_live(ctx, rs)
        if live is not None:
            ctx.live.put(kind.type, rs.parent_id if kind.parent_type else None, live)

    jobs = []
    types = {kind.type for kind in level}
    by_type: dict[str, list[ResourceState]] = {t: [] for t in types}
    for r in ctx.state.state.resources.values():  # one pass over a large state, not one per kind
        if r.kind in types:
            by_type[r.kind].append(r)
    for d in ctx.state.state.deposed:
        if d.resource.kind in types:
            by_type[d.resource.kind].append(d.resource)
    for kind in level:
        for rs in by_type[kind.type]:
            parent = rs.parent_id if kind.parent_type else None
            if parent is not None and not ctx.live.listed(kind.type, parent):
                continue  # its parent is gone: so is it
            if ctx.live.get(kind.type, rs.id, parent) is None:
                jobs.append(one(kind, rs))
    await asyncio.gather(*jobs)


async def _adopt_intents(ctx: RunContext, level: list[ResourceType], result: RefreshResult) -> None:
    """What a crashed or lost create left behind, matched against the live objects."""
    for address, intent in sorted(ctx.state.state.intents.items()):
        kind = next((k for k in level if k.type == intent.kind), None)
        if kind is None:
            continue
        parent_id = intent.fingerprint.get(PARENT_KEY) if kind.parent_type else None
        pool = ctx.live.objects(kind.type, parent_id)
        taken = tracked_ids(ctx, kind.type) | {a.state.id for a in result.adoptions.values()}
        found = await find_leaked(ctx, kind, intent, pool, taken)
        if found is None:
            continue
        live, note = found
        if note:
            result.warnings.append(note)
        attrs = dict(intent.fingerprint.get("attrs") or {})
        dep_ids = {k: v for k, v in (intent.fingerprint.get("dep_ids") or {}).items()}
        rs = kind.adopted_state(ctx, attrs, live, parent_id, dep_ids)
        addr = Address.parse(address)
        result.adoptions[addr] = Adoption(addr, rs, ReasonCode.ADOPT_INTERRUPTED,
                                          f"{live['id']} was created by an interrupted run")


def _adopt_existing(ctx: RunContext, level: list[ResourceType], view: dict[str, ResourceState],
                    result: RefreshResult) -> None:
    """Declared objects state does not track, that already exist on the service."""
    types = {k.type: k for k in level}
    untracked = [inst for inst in ctx.instances.values() if inst.kind in types
                 and str(inst.address) not in view and inst.address not in result.adoptions]
    if not untracked:  # the usual case (no id map of every record, at the plan's peak of memory)
        return
    ids = {a: rs.id for a, rs in view.items()}
    ids |= {str(a.address): a.state.id for a in result.adoptions.values()}
    for inst in untracked:
        kind = types[inst.kind]
        live = kind.find_existing(ctx, inst, ids)
        if live is None:
            continue
        parent_id = ids.get(str(inst.parent)) if inst.parent is not None else None
        dep_ids = {str(d): ids[str(d)] for d in inst.deps if str(d) in ids}
        rs = kind.adopted_state(ctx, inst.attrs, live, parent_id, dep_ids)
        code = ReasonCode.ADOPT_OWNED if not kind.parent_type else ReasonCode.ADOPT_EXISTING
        detail = (f"{live['id']} carries this project's ownership tag" if code == ReasonCode.ADOPT_OWNED
                  else f"{live['id']} is already there")
        result.adoptions[inst.address] = Adoption(inst.address, rs, code, detail)
        ids[str(inst.address)] = rs.id
