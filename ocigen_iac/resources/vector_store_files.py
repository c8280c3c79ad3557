"""Vector store files (attachments): a File attached to a store, with attributes and chunking.

Attributes update in place; a different chunking strategy or a failed ingestion means detach
and re-attach (same file id, so destroy-first); a replaced File means attach the new one, then
detach the old (create-before-destroy). Creates are grouped into file-batch calls (≤ 500 files
each, grouped by attributes and chunking) and polled until ingestion settles.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ocigen_iac.manifest.desired import Attachment, DesiredResource
from ocigen_iac.resources.base import Instance, ResourceKind
from ocigen_iac.state.model import ResourceState

if TYPE_CHECKING:
    from ocigen_iac.engine.context import RunContext

MAX_BATCH_FILES = 500
SETTLED = ("completed", "failed", "cancelled")
BATCH_CREATE_ATTEMPTS = 3
INGEST_RETRIES = 2  # in-run re-attach rounds for transient ingestion failures


def attachment_address(owner: str, file_address: str) -> str:
    return f"{owner}.files[{file_address}]"


def effective_chunking(*candidates: dict[str, Any] | None) -> dict[str, Any] | None:
    for c in candidates:
        if c is not None:
            return None if c.get("type") == "auto" else c
    return None


def chunk_label(batch: dict[str, Any]) -> str:
    return f"batch {batch.get('id', '?')}"


@dataclass
class BatchOutcome:
    inst: Instance
    state: ResourceState | None
    error: str | None = None


class VectorStoreFileKind(ResourceKind):
    kind: ClassVar[str] = "vector_store_file"
    order: ClassVar[int] = 2
    update_fields: ClassVar[frozenset[str]] = frozenset({"attributes"})
    create_before_destroy: ClassVar[bool] = False  # same file id cannot be attached twice
    identity_follows_deps: ClassVar[bool] = True  # (store id, file id)

    def expand(self, owner: DesiredResource, store_address: str, attachment: Attachment,
               store_chunking: dict[str, Any] | None) -> Instance:
        attrs = {
            "vector_store": store_address,
            "file": attachment.file,
            "attributes": dict(attachment.attributes or {}),
            "chunking_strategy": effective_chunking(attachment.chunking_strategy, store_chunking),
        }
        return Instance(
            attachment_address(owner.address, attachment.file), self.kind, attrs,
            deps=[store_address, attachment.file], parent=store_address, lifecycle=owner.lifecycle,
            origin=owner,
        )

    def find_live(self, ctx: RunContext, rs: ResourceState) -> dict[str, Any] | None:
        return ctx.live.store_files.get(rs.parent_id or "", {}).get(rs.id)

    def failure(self, live: dict[str, Any]) -> str | None:
        status = live.get("status")
        if status in ("failed", "cancelled"):
            err = live.get("last_error") or {}
            return f"ingestion {status}: {err.get('code', 'unknown')}: {err.get('message', '')}".rstrip(": ")
        return None

    def project_live(self, live: dict[str, Any], rs: ResourceState) -> dict[str, Any]:
        return {
            "vector_store": rs.attrs.get("vector_store"),
            "file": rs.attrs.get("file"),
            "attributes": dict(live.get("attributes") or {}),
            "chunking_strategy": rs.attrs.get("chunking_strategy"),
        }

    def snapshot(self, live: dict[str, Any]) -> dict[str, Any]:
        return {"attributes": dict(live.get("attributes") or {})}

    def untracked_live(self, ctx: RunContext, inst: Instance) -> ResourceState | None:
        """An attachment that already exists (e.g. a batch whose response was lost): adopt it."""
        try:
            store_id = ctx.id_of(inst.attrs["vector_store"])
            file_id = ctx.id_of(inst.attrs["file"])
        except KeyError:
            return None
        live = ctx.live.store_files.get(store_id, {}).get(file_id)
        if live is None:
            return None
        attrs = dict(inst.attrs)
        attrs["attributes"] = dict(live.get("attributes") or {})
        return ResourceState(self.kind, file_id, attrs=attrs, live=self.snapshot(live), parent_id=store_id,
                             deps=list(inst.deps), status=live.get("status"), last_error=live.get("last_error"))

    def _state(self, inst: Instance, store_id: str, file_id: str, status: str,
               last_error: dict[str, Any] | None = None) -> ResourceState:
        return ResourceState(self.kind, file_id, attrs=dict(inst.attrs),
                             live={"attributes": dict(inst.attrs["attributes"])}, parent_id=store_id,
                             deps=list(inst.deps), status=status, last_error=last_error,
                             created_at=time.time())

    async def create(self, ctx: RunContext, inst: Instance) -> ResourceState:
        store_id = ctx.id_of(inst.attrs["vector_store"])
        file_id = ctx.id_of(inst.attrs["file"])
        client = ctx.api()
        obj = await client.attach_file(store_id, file_id, attributes=inst.attrs["attributes"] or None,
                                       chunking_strategy=inst.attrs["chunking_strategy"])
        live = obj.model_dump()
        live = await self._wait_one(ctx, store_id, file_id, live)
        return self._state(inst, store_id, file_id, live.get("status", "completed"), live.get("last_error"))

    async def _wait_one(self, ctx: RunContext, store_id: str, file_id: str, live: dict[str, Any]) -> dict[str, Any]:
        deadline = time.monotonic() + ctx.poll_timeout_s
        delay = 0.1
        while live.get("status") not in SETTLED and time.monotonic() < deadline:
            await asyncio.sleep(delay)
            delay = min(delay * 1.6, 2.0)
            live = (await ctx.api().get_vector_store_file(store_id, file_id)).model_dump()
        return live

    async def create_batch(self, ctx: RunContext, insts: list[Instance]) -> list[BatchOutcome]:
        """Attach many files to one store through file-batch calls, then wait for ingestion."""
        from ocigen_iac.api import ApiError

        store_id = ctx.id_of(insts[0].attrs["vector_store"])
        groups: dict[str, list[Instance]] = defaultdict(list)
        for inst in insts:
            key = json.dumps([inst.attrs["attributes"], inst.attrs["chunking_strategy"]], sort_keys=True)
            groups[key].append(inst)
        outcomes: list[BatchOutcome] = []
        for members in groups.values():
            for start in range(0, len(members), MAX_BATCH_FILES):
                chunk = members[start:start + MAX_BATCH_FILES]
                try:
                    outcomes.extend(await self._one_batch(ctx, store_id, chunk))
                except ApiError as exc:
                    if exc.status != 400 or len(chunk) == 1:
                        raise
                    # One bad file can fail a whole batch: attach one by one so only it fails.
                    for inst in chunk:
                        try:
                            outcomes.append(BatchOutcome(inst, await self.create(ctx, inst)))
                        except ApiError as one_exc:
                            outcomes.append(BatchOutcome(inst, None, str(one_exc)))
        return await self._retry_transient(ctx, store_id, outcomes)

    async def _retry_transient(self, ctx: RunContext, store_id: str,
                               outcomes: list[BatchOutcome]) -> list[BatchOutcome]:
        """Ingestion that failed with a transient `server_error` is detached and attached again
        (at most INGEST_RETRIES rounds); other failures (bad file types, ...) are reported as they are."""
        from ocigen_iac.api import ApiError, NotFound

        for _ in range(INGEST_RETRIES):
            transient = [o for o in outcomes if o.error and o.state is not None
                         and (o.state.last_error or {}).get("code") == "server_error"]
            if not transient:
                break
            try:
                for o in transient:
                    try:
                        await ctx.api().detach_file(store_id, o.state.id)  # type: ignore[union-attr]
                    except NotFound:
                        pass
                again = await self._one_batch(ctx, store_id, [o.inst for o in transient])
            except ApiError:
                break  # keep the reported failures; the next apply retries them
            by_address = {o.inst.address: o for o in again}
            outcomes = [by_address.get(o.inst.address, o) for o in outcomes]
        return outcomes

    async def _one_batch(self, ctx: RunContext, store_id: str, chunk: list[Instance]) -> list[BatchOutcome]:
        client = ctx.api()
        by_file = {ctx.id_of(i.attrs["file"]): i for i in chunk}
        files = []
        for file_id, inst in by_file.items():
            item: dict[str, Any] = {"file_id": file_id}
            if inst.attrs["attributes"]:
                item["attributes"] = inst.attrs["attributes"]
            if inst.attrs["chunking_strategy"]:
                item["chunking_strategy"] = inst.attrs["chunking_strategy"]
            files.append(item)
        batch = await self._create_batch(ctx, store_id, files)
        ctx.stats["file_batches"] = ctx.stats.get("file_batches", 0) + 1
        batch = await self._poll_batch(ctx, store_id, batch.model_dump())
        problems: dict[str, dict[str, Any]] = {}
        counts = batch.get("file_counts") or {}
        if counts.get("failed") or counts.get("cancelled") or batch.get("status") == "in_progress":
            async for vsf in client.iter_file_batch_files(store_id, batch["id"]):
                item = vsf.model_dump()
                if item.get("status") != "completed":
                    problems[item["id"]] = item
        outcomes = []
        for file_id, inst in by_file.items():
            item = problems.get(file_id)
            if item is None:
                outcomes.append(BatchOutcome(inst, self._state(inst, store_id, file_id, "completed")))
            else:
                rs = self._state(inst, store_id, file_id, item.get("status", "in_progress"), item.get("last_error"))
                outcomes.append(BatchOutcome(inst, rs, self.failure(item)))
        return outcomes

    async def _create_batch(self, ctx: RunContext, store_id: str, files: list[dict[str, Any]]) -> Any:
        """Create a file batch. Attaching is idempotent (an attached file stays as it is and joins
        the new batch), so a batch whose outcome is unknown (5xx, lost response) is sent again."""
        from ocigen_iac.api import OutcomeUnknown

        for attempt in range(BATCH_CREATE_ATTEMPTS):
            try:
                return await ctx.api().create_file_batch(store_id, files)
            except OutcomeUnknown:
                if attempt == BATCH_CREATE_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.2 * (attempt + 1) * (0.5 + random.random()))
        raise AssertionError("unreachable")

    async def _poll_batch(self, ctx: RunContext, store_id: str, batch: dict[str, Any]) -> dict[str, Any]:
        deadline = time.monotonic() + ctx.poll_timeout_s
        delay = 0.1
        while time.monotonic() < deadline:
            counts = batch.get("file_counts") or {}
            total = int(counts.get("total") or 0)
            if total:
                ctx.reporter.ingestion(chunk_label(batch), total - int(counts.get("in_progress") or 0), total)
            if batch.get("status") in SETTLED or (counts.get("total") and not counts.get("in_progress")):
                return batch
            await asyncio.sleep(delay * (0.5 + random.random() / 2))
            delay = min(delay * 1.6, 3.0)
            batch = (await ctx.api().get_file_batch(store_id, batch["id"])).model_dump()
        return batch

    async def update(self, ctx: RunContext, inst: Instance, rs: ResourceState) -> ResourceState:
        obj = await ctx.api().update_vector_store_file(rs.parent_id or "", rs.id, inst.attrs["attributes"])
        live = obj.model_dump()
        new = self._state(inst, rs.parent_id or "", rs.id, live.get("status", rs.status or "completed"),
                          live.get("last_error"))
        new.created_at = rs.created_at
        return new

    async def delete(self, ctx: RunContext, address: str, rs: ResourceState) -> None:
        from ocigen_iac.api import NotFound

        try:
            await ctx.api().detach_file(rs.parent_id or "", rs.id)
        except NotFound:
            pass
