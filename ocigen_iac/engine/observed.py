"""Server-computed values kept in state for `output` (a type's `observed_fields`, e.g. a vector
store's usage_bytes), recorded after a verified apply for the objects it touched, and by
`apply --refresh-only`. They sit in the record's `live` beside the drift snapshot; the planner
compares only the snapshot's own keys, so they never show as drift.

Best effort: a read that fails leaves the value from before (the apply itself succeeded).
"""

from __future__ import annotations

import asyncio
from typing import Any

from ocigen_iac.addresses import Address
from ocigen_iac.engine.context import RunContext
from ocigen_iac.resources import ResourceType, registry
from ocigen_iac.state.model import ResourceState


def observed_values(kind: ResourceType, live: dict[str, Any]) -> dict[str, Any]:
    return {k: live.get(k) for k in kind.observed_fields}


async def record_observed(ctx: RunContext, addresses: set[Address]) -> None:
    from ocigen_iac.api import ApiError

    async def one(address: str, kind: ResourceType, rs: ResourceState) -> None:
        try:
            live = await kind.get_live(ctx, rs)
        except ApiError:
            return
        if live is None:
            return
        values = observed_values(kind, live)
        if all(rs.live.get(k) == v for k, v in values.items()):
            return
        updated = ResourceState.from_dict(rs.to_dict())
        updated.live = {**rs.live, **values}
        ctx.state.put(address, updated)

    jobs = []
    for address in sorted(str(a) for a in addresses):
        rs = ctx.state.state.resources.get(address)
        if rs is None:
            continue
        kind = registry.resource_type(rs.kind)
        if kind.observed_fields:
            jobs.append(one(address, kind, rs))
    await asyncio.gather(*jobs)
