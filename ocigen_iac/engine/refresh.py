"""Refresh: read the live service into a LiveView, through list endpoints, in bulk.

About one request per page of live objects: files (10,000 a page), stores, containers, then the
files of each managed store and container concurrently. An object state tracks but no list
returned is confirmed with a direct GET before anyone calls it gone (lists can lag). Pending
create intents are resolved here: the object a crashed or lost create left behind is adopted.
Reading never mutates the service.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ocigen_iac.engine.context import RunContext
from ocigen_iac.resources import KINDS
from ocigen_iac.state.model import ResourceState

PAGE_LIMIT = 100  # the API's largest page for vector store files


async def _collect(aiter: Any) -> dict[str, dict[str, Any]]:
    return {obj.id: obj.model_dump() async for obj in aiter}


async def collect_both_ends(make_iter: Callable[[str], AsyncIterator[Any]],
                            page_size: int = PAGE_LIMIT) -> dict[str, dict[str, Any]]:
    """List a collection from both ends at once (order=asc and order=desc) until the two meet.

    A large vector store is a chain of 100-item pages, each needing the previous page's cursor,
    so listing it alone costs (pages x round-trip). Two chains, one from each end, halve that.
    The descending chain starts only once the ascending one has seen a full first page, so a
    small collection still costs one request. The chains have met as soon as one of them sees
    an id the other has seen: the ascending chain covers a prefix and the descending chain a
    suffix of one order, so together they cover everything. At most one page per chain is
    fetched past the meeting point.
    """
    out: dict[str, dict[str, Any]] = {}
    seen = {"asc": set[str](), "desc": set[str]()}
    met = False
    desc_task: asyncio.Task[None] | None = None

    async def chain(order: str) -> None:
        nonlocal met, desc_task
        mine, other = seen[order], seen["desc" if order == "asc" else "asc"]
        async with contextlib.aclosing(make_iter(order)) as items:
            async for obj in items:
                if met:
                    return
                if obj.id in other:
                    met = True
                    return
                mine.add(obj.id)
                out[obj.id] = obj.model_dump()
                if order == "asc" and desc_task is None and len(mine) >= page_size:
                    desc_task = asyncio.ensure_future(chain("desc"))
        met = True  # this chain reached the far end on its own

    try:
        await chain("asc")
    finally:
        if desc_task is not None:
            if not met:  # only on an error in the ascending chain
                desc_task.cancel()
            await asyncio.gather(desc_task, return_exceptions=not met)
    return out


async def refresh(ctx: RunContext, instances_ready: Awaitable[Any] | None = None) -> list[str]:
    """Fill ctx.live; adopt leaked creates into state. Returns the adopted addresses.

    `instances_ready` completes when ctx.instances is filled (expansion may still be running
    when refresh starts; only the ownership-tag adoption below needs it)."""
    from ocigen_iac.api import NotFound

    client = ctx.api()
    resources = ctx.state.state.resources

    async def list_store_files(store_id: str) -> dict[str, dict[str, Any]]:
        return await collect_both_ends(lambda order: client.iter_vector_store_files(store_id, order=order))

    # The files of the stores state tracks are listed at once, alongside the top-level lists (the
    # long part of a refresh is these page chains); stores found gone or expired are dropped below.
    early = {rs.id: asyncio.ensure_future(list_store_files(rs.id))
             for rs in resources.values() if rs.kind == "vector_store"}
    try:
        ctx.live.files, ctx.live.stores, ctx.live.containers = await asyncio.gather(
            _collect(client.iter_files()), _collect(client.iter_vector_stores()), _collect(client.iter_containers())
        )
    except BaseException:
        for task in early.values():
            task.cancel()
        await asyncio.gather(*early.values(), return_exceptions=True)
        raise
    adopted: list[str] = []

    # Leaked top-level creates (crash between create and state write, or a lost response).
    for address, intent in list(ctx.state.state.intents.items()):
        kind = KINDS.get(intent.kind)
        if kind is None or intent.kind == "container_file":
            continue
        tracked = {r.id for r in resources.values() if r.kind == intent.kind}
        found = await kind.adopt_verified(ctx, intent, tracked)
        if found is not None:
            _adopt(ctx, address, found)
            adopted.append(address)
        ctx.state.clear_intent(address)

    # Stores this environment owns but state lost (e.g. state deleted): adopt by ownership tag.
    if instances_ready is not None:
        await instances_ready
    key = ctx.settings.owner_tag_key
    tracked_stores = {r.id for r in resources.values() if r.kind == "vector_store"}
    for address, inst in ctx.instances.items():
        if inst.kind != "vector_store" or address in resources:
            continue
        for live in ctx.live.stores.values():
            if live["id"] not in tracked_stores and (live.get("metadata") or {}).get(key) == ctx.owner_tag(address) \
                    and live.get("status") != "expired":
                snap = KINDS["vector_store"].snapshot(live)
                snap["owner_key"] = key
                ctx.state.put(address, ResourceState("vector_store", live["id"], attrs=dict(inst.attrs),
                                                     live=snap, created_at=live.get("created_at")))
                adopted.append(address)
                tracked_stores.add(live["id"])
                break

    # Confirm top-level objects the lists did not return.
    async def confirm(rs: ResourceState) -> None:
        getters = {"file": (client.get_file, ctx.live.files),
                   "vector_store": (client.get_vector_store, ctx.live.stores),
                   "container": (client.get_container, ctx.live.containers)}
        getter, table = getters[rs.kind]
        try:
            table[rs.id] = (await getter(rs.id)).model_dump()
        except NotFound:
            pass

    missing = [rs for rs in resources.values()
               if rs.kind in ("file", "vector_store", "container") and rs.id not in _live_ids(ctx, rs.kind)]
    await asyncio.gather(*(confirm(rs) for rs in missing))

    # Children: files of every managed store and container that is alive.
    store_ids = {rs.id for rs in resources.values() if rs.kind == "vector_store" and rs.id in ctx.live.stores
                 and ctx.live.stores[rs.id].get("status") != "expired"}
    container_ids = {rs.id for rs in resources.values() if rs.kind == "container" and rs.id in ctx.live.containers
                     and not KINDS["container"].gone_reason(ctx.live.containers[rs.id])}

    async def store_files(store_id: str) -> None:
        task = early.pop(store_id, None)
        ctx.live.store_files[store_id] = await (task if task is not None else list_store_files(store_id))

    async def container_files(cid: str) -> None:
        ctx.live.container_files[cid] = await _collect(client.iter_container_files(cid))

    try:
        await asyncio.gather(*(store_files(s) for s in store_ids), *(container_files(c) for c in container_ids))
    finally:
        # listings of stores that turned out gone or expired: their outcome (often 404) is moot
        for task in early.values():
            task.cancel()
        await asyncio.gather(*early.values(), return_exceptions=True)

    # Confirm attachments the store listings did not return (lists can lag).
    async def confirm_child(rs: ResourceState) -> None:
        try:
            obj = await client.get_vector_store_file(rs.parent_id or "", rs.id)
            ctx.live.store_files.setdefault(rs.parent_id or "", {})[rs.id] = obj.model_dump()
        except NotFound:
            pass

    lost_children = [rs for rs in resources.values() if rs.kind == "vector_store_file"
                     and rs.parent_id in store_ids and rs.id not in ctx.live.store_files.get(rs.parent_id or "", {})]
    await asyncio.gather(*(confirm_child(rs) for rs in lost_children))

    # Container-file intents can only be resolved once container files are listed.
    for address, intent in list(ctx.state.state.intents.items()):
        if intent.kind != "container_file":
            continue
        tracked = {r.id for r in resources.values() if r.kind == "container_file"}
        found = KINDS["container_file"].adopt(ctx, intent, tracked)
        if found is not None:
            _adopt(ctx, address, found)
            adopted.append(address)
        ctx.state.clear_intent(address)
    return adopted


def _live_ids(ctx: RunContext, kind: str) -> dict[str, Any]:
    return {"file": ctx.live.files, "vector_store": ctx.live.stores, "container": ctx.live.containers}.get(kind, {})


def deposed_address(address: str, old_id: str) -> str:
    return f"{address}#deposed-{old_id}"


def _adopt(ctx: RunContext, address: str, found: ResourceState) -> None:
    """Record an adopted object; an object already tracked at that address becomes deposed."""
    existing = ctx.state.state.resources.get(address)
    if existing is not None and existing.id != found.id:
        ctx.state.move(address, deposed_address(address, existing.id))
    ctx.state.put(address, found)
