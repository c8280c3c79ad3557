"""The one lost-create helper: creates are not idempotent, so a create whose outcome is unknown
is never sent again blindly.

Before the request leaves, an intent (address, type, fingerprint, time) is made durable. If the
response is lost (timeout, reset, 5xx after the body was sent), the type's collection is listed
and the object the create may have made is looked for (`leaked_candidates` + `verify_leaked`);
only when nothing matches is the create sent again (a bounded number of rounds). A crash leaves
the intent in state, and the next refresh runs the same search (`find_leaked`) and proposes the
adoption in the plan.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ocigen_iac.state.model import Intent

if TYPE_CHECKING:
    from ocigen_iac.engine.context import RunContext
    from ocigen_iac.engine.plan import Change
    from ocigen_iac.resources import ResourceType

LOST_CREATE_ROUNDS = 3  # look-up-then-create rounds after a create whose outcome is unknown
PARENT_KEY = "_parent_id"  # where an intent's fingerprint keeps the parent's id (children)


def tracked_ids(ctx: RunContext, type_name: str) -> set[str]:
    """Ids of this type that state (or this run) already accounts for: never adoption candidates."""
    state = ctx.state.state
    ids = {r.id for r in state.resources.values() if r.kind == type_name}
    ids |= {d.resource.id for d in state.deposed if d.resource.kind == type_name}
    ids |= set(state.released)
    ids |= set(ctx.ids.values())
    return ids


def dependency_ids(ctx: RunContext, change: Change) -> dict[str, str]:
    """The live ids of a change's dependencies as of now (what its new object is made against)."""
    out = {}
    for dep in change.deps:
        key = str(dep)
        if key in ctx.ids:
            out[key] = ctx.ids[key]
        elif key in ctx.state.state.resources:
            out[key] = ctx.state.state.resources[key].id
    return out


async def find_leaked(ctx: RunContext, kind: ResourceType, intent: Intent, pool: dict[str, dict[str, Any]],
                      tracked: set[str]) -> tuple[dict[str, Any], str | None] | None:
    """The live object an interrupted or lost create made, with a note of what was trusted."""
    for candidate in kind.leaked_candidates(intent, pool, tracked):
        accepted, note = await kind.verify_leaked(ctx, intent, candidate)
        if accepted:
            return candidate, note
    return None


async def create_once(ctx: RunContext, kind: ResourceType, change: Change,
                      send: Callable[[], Awaitable[dict[str, Any]]],
                      relist: Callable[[], Awaitable[dict[str, dict[str, Any]]]],
                      parent_id: str | None = None) -> dict[str, Any]:
    """Send a create under a durable intent; on a lost response, adopt what it made or send again."""
    from ocigen_iac.api import OutcomeUnknown

    fingerprint = kind.fingerprint(ctx, change)
    if parent_id is not None:
        fingerprint[PARENT_KEY] = parent_id
    fingerprint["dep_ids"] = dependency_ids(ctx, change)
    intent = Intent(str(change.address), kind.type, fingerprint, started_at=ctx.clock.time())
    ctx.state.record_intent(intent)
    await ctx.state.durable()
    last: OutcomeUnknown | None = None
    for _ in range(LOST_CREATE_ROUNDS):
        try:
            return await send()
        except OutcomeUnknown as exc:
            last = exc
            found = await find_leaked(ctx, kind, intent, await relist(), tracked_ids(ctx, kind.type))
            if found is not None:
                live, note = found
                if note:
                    ctx.note(note)
                return live
    assert last is not None
    raise last
