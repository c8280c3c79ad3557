"""`ocigen-iac status`: the health of every object state tracks (Argo CD's app health).

Read-only, and through list endpoints only: each top-level type state tracks is listed once
(as refresh does), and each tracked object's health comes from its listed live object through
`ResourceType.health`. Children are not listed one by one (listing a container's files counts
as activity and keeps it alive); a parent's health speaks for them (a store's file counts and
its failed files). An object the list did not return is Missing; one that is gone
(`gone_reason`) is Missing with the reason; one with a readiness `failure` is Degraded; else
Healthy, unless the kind says otherwise.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ocigen_iac.engine.context import RunContext
from ocigen_iac.engine.refresh import apply_known_scope
from ocigen_iac.resources import DEGRADED, HEALTHY, MISSING, PROGRESSING, UNKNOWN, ResourceType, registry
from ocigen_iac.state.model import ResourceState

if TYPE_CHECKING:
    from ocigen_iac.engine.runner import RunOptions
    from ocigen_iac.settings import Settings

ORDER = (DEGRADED, MISSING, UNKNOWN, PROGRESSING, HEALTHY)  # worst first
ENGINE_KEYS = ("health", "summary", "problems")


@dataclass
class ObjectHealth:
    address: str
    type: str
    id: str
    health: str
    summary: str = ""
    problems: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # what the kind reports beside (counts, times ...)

    def to_dict(self) -> dict[str, Any]:
        return {"address": self.address, "type": self.type, "id": self.id, "health": self.health,
                "summary": self.summary, "problems": self.problems, **self.data}


@dataclass
class StatusReport:
    objects: list[ObjectHealth] = field(default_factory=list)
    deposed: int = 0  # old objects of replacements still to delete (the next apply does)
    pending_creates: int = 0  # intents of interrupted creates (the next plan resolves them)

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.objects:
            out[o.health] = out.get(o.health, 0) + 1
        return {h: out[h] for h in ORDER if h in out}

    @property
    def healthy(self) -> bool:
        return all(o.health == HEALTHY for o in self.objects)

    def to_dict(self) -> dict[str, Any]:
        return {"healthy": self.healthy, "counts": self.counts, "deposed": self.deposed,
                "pending_creates": self.pending_creates, "objects": [o.to_dict() for o in self.objects]}


def derived(kind: ResourceType, live: dict[str, Any] | None) -> tuple[str, str, list[str]]:
    """The health the protocol's generic verbs imply (what a kind without `health` gets)."""
    if live is None:
        return MISSING, f"not returned by GET {kind.collection}", []
    gone = kind.gone_reason(live)
    if gone:
        return MISSING, gone, []
    failure = kind.failure(live)
    if failure:
        return DEGRADED, failure, [failure]
    return HEALTHY, "", []


async def _list(ctx: RunContext, kind: ResourceType) -> dict[str, dict[str, Any]] | str:
    """Every live object of a top-level type, or why it could not be listed."""
    from ocigen_iac.api import ApiError

    missing = sorted(set(kind.needs_scope) - set(ctx.scope))
    if missing:
        return f"no {missing[0]} is configured (set `{missing[0]}:` in ocigen.yaml), so it cannot be listed"
    try:
        objects = await kind.list_live(ctx, None)
    except ApiError as exc:
        return f"GET {kind.collection} failed: {exc}"
    ctx.live.put_all(kind.type, None, objects, kind.unpack)
    return ctx.live.objects(kind.type)  # as dicts (a type may list its objects compact)


async def _one(ctx: RunContext, address: str, kind: ResourceType, rs: ResourceState,
               listed: dict[str, dict[str, Any]] | str) -> ObjectHealth:
    from ocigen_iac.api import ApiError

    if isinstance(listed, str):
        return ObjectHealth(address, kind.type, rs.id, UNKNOWN, listed)
    live = listed.get(rs.id)
    health, summary, problems = derived(kind, live)
    try:
        extra = await kind.health(ctx, rs, live)
    except ApiError as exc:
        extra = {"health": UNKNOWN, "problems": [f"could not read its health: {exc}"]}
    if health == MISSING:  # gone is gone, whatever else the kind reports about it
        extra = {k: v for k, v in extra.items() if k not in ENGINE_KEYS}
    data = {k: v for k, v in extra.items() if k not in ENGINE_KEYS}
    return ObjectHealth(address, kind.type, rs.id, str(extra.get("health") or health),
                        str(extra.get("summary") or summary), list(extra.get("problems") or problems), data)


async def collect_health(ctx: RunContext) -> StatusReport:
    apply_known_scope(ctx)
    state = ctx.state.state
    tracked = {rs.kind for rs in state.resources.values()}
    top = [registry.resource_type(t) for t in sorted(tracked) if registry.has_type(t)]
    top = [k for k in top if k.parent_type is None]
    listed = dict(zip([k.type for k in top], await asyncio.gather(*(_list(ctx, k) for k in top)), strict=True))
    jobs = []
    for address, rs in sorted(state.resources.items()):
        if rs.kind in listed:
            jobs.append(_one(ctx, address, registry.resource_type(rs.kind), rs, listed[rs.kind]))
    report = StatusReport(list(await asyncio.gather(*jobs)), len(state.deposed), len(state.intents))
    return report


def run_status(settings: Settings, opts: RunOptions) -> StatusReport:
    """Open state read-only (as plan does), list, and collect every tracked object's health."""
    from ocigen_iac.engine.report import Reporter
    from ocigen_iac.engine.runner import api_client, local_emulator, locked_state, make_context

    with local_emulator(settings) as settings, \
            locked_state(settings, "status", opts.lock_timeout_s, readonly=True) as sync:
        ctx = make_context(settings, sync, opts, Reporter(quiet=True))

        async def go() -> StatusReport:
            if not sync.state.resources:
                return StatusReport(deposed=len(sync.state.deposed), pending_creates=len(sync.state.intents))
            async with api_client(settings, opts) as client:
                ctx.client = client
                ctx.set_scope(dict(ctx.scope))
                return await collect_health(ctx)

        return asyncio.run(go())
