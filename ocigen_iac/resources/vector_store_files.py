"""Attachments (vector store files): a File attached to a store, with attributes and chunking.

Declared by a store's `files:` (address `vector_store.S.files[file.X]`) or by a
`VectorStoreFileBatch` document (`vector_store_file_batch.B.files[file.X]`, many files through
file-batch calls). An attachment *is* its File in its store (its id is the File's id):

* attributes update in place;
* a different chunking strategy, or a failed ingestion, means detach and re-attach the same
  file (destroy first: one file cannot be attached twice);
* a File with a new object (content changed, or re-made) means attach the new one, then detach
  the old (create-before-destroy): the store never lacks the document.

Creates go through file-batch calls (at most 500 files each, one call per group of equal
attributes and chunking, sent as `file_ids` + shared fields as every server accepts) and are
polled until ingestion settles. After apply each touched attachment is re-read.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field

from ocigen_iac.addresses import Address
from ocigen_iac.manifest.desired import DesiredResource
from ocigen_iac.manifest.models import MAX_MAP_KEYS, Attributes, ChunkingStrategy, NonEmptyStr, _Model
from ocigen_iac.resources.base import CreateOutcome, DocumentKind, Instance, ResourceType, shared_text
from ocigen_iac.resources.registry import register
from ocigen_iac.state.model import ResourceState

if TYPE_CHECKING:
    from ocigen_iac.engine.context import ExpandContext, RunContext
    from ocigen_iac.engine.plan import Change
    from ocigen_iac.manifest.parse import ParsedDoc
    from ocigen_iac.manifest.resolve import Resolver

MAX_BATCH_FILES = 500
SETTLED = ("completed", "failed", "cancelled")
BATCH_CREATE_ATTEMPTS = 3
INGEST_RETRIES = 2  # in-run re-attach rounds for transient ingestion failures
NEW_STORE_WAIT_S = 60.0  # how long a just-made store may answer 404 on the data plane
VERIFY_BY_GET_MAX = 50  # after apply, read back up to this many touched attachments one by one
FIELD = "files"
_SLIM_FIELDS = ("id", "status", "last_error", "attributes", "created_at")  # what a listing keeps


# ------------------------------------------------------------------------------------ manifest
def _name_to_ref(value: Any) -> Any:
    return {"file": value} if isinstance(value, str) else value


class FileRefModel(_Model):
    """A File attached to a vector store, with optional per-file attributes and chunking."""

    file: NonEmptyStr = Field(description="metadata.name of a File (a glob File means all its members)")
    attributes: Attributes | None = None
    chunking_strategy: ChunkingStrategy | None = None


FileRef = Annotated[FileRefModel, BeforeValidator(_name_to_ref, json_schema_input_type=str | FileRefModel)]


class VectorStoreFileBatchSpecModel(_Model):
    vector_store: NonEmptyStr = Field(description="metadata.name of a VectorStore")
    files: Annotated[list[FileRef], Field(min_length=1)]
    attributes: Attributes | None = Field(None, description="applied to every file (per-file keys win)")
    chunking_strategy: ChunkingStrategy | None = Field(None, description="applied to every file without its own")


@dataclass(frozen=True, slots=True)
class Attachment:
    """One file to attach to a vector store."""

    file: Address  # a File (glob references are already expanded to members)
    attributes: dict[str, str | int | float | bool] | None = None
    chunking_strategy: dict[str, Any] | None = None  # None -> the store's default


@dataclass(frozen=True)
class FileBatchSpec:
    vector_store: Address
    files: tuple[Attachment, ...] = ()  # batch-level attributes/chunking already folded in


def collect_attachments(doc: ParsedDoc, r: Resolver, entries: list[Any], loc: tuple[Any, ...],
                        batch_attrs: dict[str, Any] | None = None,
                        batch_chunking: dict[str, Any] | None = None) -> list[tuple[Attachment, tuple[int, int]]]:
    """A `files:` list -> attachments (glob Files expanded to members), references checked."""
    from ocigen_iac.manifest.resolve import dump

    out: list[tuple[Attachment, tuple[int, int]]] = []
    for i, entry in enumerate(entries):
        pos = doc.pos(*loc, i)
        ref_pos = doc.pos(*loc, i, "file") if isinstance(doc.tree_at(*loc, i), dict) else pos
        if r.lookup(doc, ref_pos, entry.file, "File", f"{'.'.join(map(str, loc))}[{i}]") is None:
            continue
        attrs = entry.attributes
        if batch_attrs is not None or attrs is not None:
            attrs = {**(batch_attrs or {}), **(attrs or {})}
            if len(attrs) > MAX_MAP_KEYS:
                r.error(doc, pos, f"file {entry.file!r} would get {len(attrs)} attributes (batch + per-file); "
                                  f"at most {MAX_MAP_KEYS} are allowed", "drop some attributes")
                continue
        chunking = dump(entry.chunking_strategy) or batch_chunking
        plain: dict[Address, Attachment] = r.scratch.setdefault("plain_attachments", {})
        for address in r.expansion("File", entry.file):
            if attrs is None and chunking is None:  # one object for a file however many stores attach it
                att = plain.get(address) or plain.setdefault(address, Attachment(address))
            else:
                att = Attachment(address, attrs, chunking)
            out.append((att, pos))
    return out


def remember_attachments(r: Resolver, store: Address, doc: ParsedDoc,
                         atts: list[tuple[Attachment, tuple[int, int]]]) -> None:
    r.scratch.setdefault("attachments", {}).setdefault(store, []).append((doc, atts))


def check_duplicate_attachments(r: Resolver) -> None:
    for store, groups in r.scratch.get("attachments", {}).items():
        first: dict[Address, tuple[ParsedDoc, tuple[int, int]]] = {}
        reported: set[tuple[str, tuple[int, int]]] = set()
        for doc, atts in groups:
            for att, pos in atts:
                if att.file in first:
                    prev_doc, prev_pos = first[att.file]
                    if (doc.file, pos) in reported:
                        continue
                    reported.add((doc.file, pos))
                    via = "" if doc.kind != "VectorStoreFileBatch" else f" (through batch {doc.name!r})"
                    r.error(doc, pos, f"{att.file} is attached to {store} twice{via}; it is already attached at "
                                      f"{prev_doc.file}:{prev_pos[0]}:{prev_pos[1]}",
                            "attach each file to a vector store once: remove one of the entries")
                else:
                    first[att.file] = (doc, pos)


def effective_chunking(*candidates: dict[str, Any] | None) -> dict[str, Any] | None:
    for c in candidates:
        if c is not None:
            return None if c.get("type") == "auto" else c
    return None


def attachment_instances(res: DesiredResource, store: Address, attachments: tuple[Attachment, ...],
                         store_chunking: dict[str, Any] | None) -> list[Instance]:
    out = []
    for att in attachments:
        attrs = {
            "vector_store": str(store),
            "file": str(att.file),
            "attributes": dict(att.attributes or {}),
            "chunking_strategy": effective_chunking(att.chunking_strategy, store_chunking),
        }
        out.append(Instance(res.address.child(FIELD, att.file), AttachmentType.type, attrs, deps=(store, att.file),
                            parent=store, lifecycle=res.lifecycle, location=res.location))
    return out


class VectorStoreFileBatchDocument(DocumentKind):
    kind: ClassVar[str] = "VectorStoreFileBatch"
    prefix: ClassVar[str] = "vector_store_file_batch"
    spec_model = VectorStoreFileBatchSpecModel
    produces: ClassVar[tuple[str, ...]] = ("vector_store_file",)
    rank: ClassVar[int] = 20
    references: ClassVar[tuple[str, ...]] = ("File", "VectorStore")

    def resolve(self, doc: ParsedDoc, r: Resolver) -> None:
        from ocigen_iac.manifest.resolve import dump

        spec = doc.model.spec
        lifecycle = r.lifecycle(doc)
        store = r.lookup(doc, doc.pos("spec", "vector_store"), spec.vector_store, "VectorStore", "spec.vector_store")
        atts = collect_attachments(doc, r, list(spec.files), ("spec", "files"),
                                   batch_attrs=dict(spec.attributes) if spec.attributes is not None else None,
                                   batch_chunking=dump(spec.chunking_strategy))
        if store is None:  # still report a file listed twice in this batch
            remember_attachments(r, r.address_of("VectorStore", spec.vector_store), doc, atts)
            return
        r.add(doc, Address(self.prefix, doc.name), FileBatchSpec(store, tuple(a for a, _ in atts)), lifecycle,
              depends_on=[store, *(a.file for a, _ in atts)])
        remember_attachments(r, store, doc, atts)

    def finish(self, r: Resolver) -> None:
        check_duplicate_attachments(r)

    def expand(self, res: DesiredResource, x: ExpandContext) -> list[Instance]:
        spec: FileBatchSpec = res.spec
        store = x.instances.get(spec.vector_store)
        store_chunking = store.attrs.get("chunking_strategy") if store is not None else None
        return attachment_instances(res, spec.vector_store, spec.files, store_chunking)


def _batch_key(change: Change) -> str:
    a = change.after or {}
    return json.dumps([a["attributes"], a["chunking_strategy"]], sort_keys=True)


def file_batches(changes: list[Change]) -> list[list[Change]]:
    """The file-batch calls that attach `changes` to one store: a batch carries one set of
    attributes and one chunking strategy, so one group per distinct pair, at most
    MAX_BATCH_FILES files each. Every batch, a retry's too, is made here."""
    groups: dict[str, list[Change]] = defaultdict(list)
    for c in changes:
        groups[_batch_key(c)].append(c)
    return [members[i:i + MAX_BATCH_FILES] for members in groups.values()
            for i in range(0, len(members), MAX_BATCH_FILES)]


# ------------------------------------------------------------------------------------ live
class AttachmentType(ResourceType):
    type: ClassVar[str] = "vector_store_file"
    collection: ClassVar[str] = "/vector_stores/{id}/files"
    needs_scope: ClassVar[frozenset[str]] = frozenset({"project"})  # every call carries OpenAI-Project
    parent_type: ClassVar[str | None] = "vector_store"
    update_fields: ClassVar[frozenset[str]] = frozenset({"attributes"})
    # which store and which File are the attachment's identity (its address and pointed ids), not
    # attributes to diff: a rename of either moves the attachment, it does not re-make it
    informational: ClassVar[frozenset[str]] = frozenset({"vector_store", "file"})
    create_before_destroy: ClassVar[bool] = False  # one file cannot be attached to a store twice
    batch_limit: ClassVar[int] = MAX_BATCH_FILES
    verify_after_apply: ClassVar[bool] = True
    shown_on_create: ClassVar[tuple[str, ...]] = ("vector_store", "file", "attributes", "chunking_strategy")
    importable: ClassVar[bool] = True

    def slim(self, live: dict[str, Any]) -> dict[str, Any]:  # of _SLIM_FIELDS
        # attributes: None when empty (every reader here takes `or {}`); ids and statuses interned
        return {"id": shared_text(live["id"]), "status": shared_text(live.get("status")),
                "last_error": live.get("last_error"), "attributes": live.get("attributes") or None,
                "created_at": live.get("created_at")}

    def _listed(self, live: dict[str, Any], times: dict[int, int]) -> Any:
        """What a list keeps: the usual attachment (ingested, no error, no attributes) as its
        `created_at` alone (one int object per second: a batch attaches hundreds at once), the
        rest as `slim` makes it (`unpack` turns the first back)."""
        created = live.get("created_at")
        if live.get("status") == "completed" and live.get("last_error") is None and not live.get("attributes") \
                and type(created) is int:
            return times.setdefault(created, created)
        return self.slim(live)

    def unpack(self, object_id: str, packed: Any) -> dict[str, Any]:
        return {"id": object_id, "status": "completed", "last_error": None, "attributes": None, "created_at": packed}

    async def list_live(self, ctx: RunContext, parent_id: str | None) -> dict[str, Any]:
        times: dict[int, int] = {}
        return await self._list_all(ctx, parent_id, lambda live: self._listed(live, times))

    async def _list_all(self, ctx: RunContext, parent_id: str | None, slim: Any) -> dict[str, Any]:
        from ocigen_iac.api import list_complete, spread

        assert parent_id is not None
        store = ctx.live.get("vector_store", parent_id) or {}
        total = (store.get("file_counts") or {}).get("total")
        total = total if isinstance(total, int) else None
        # what state attached there, oldest first: cursors to list the store from several places at once
        known = sorted((r for r in ctx.state.state.resources.values()
                        if r.kind == self.type and r.parent_id == parent_id), key=lambda r: (r.created_at or 0, r.id))
        client = ctx.api()
        return await list_complete(
            lambda order, after=None: client.iter_vector_store_file_pages(parent_id, _SLIM_FIELDS, order=order,
                                                                          after=after),
            what=f"the files of vector store {parent_id}", slim=slim, expected_total=total,
            cursors=spread([r.id for r in known], total, 100))

    def expected_children(self, parent_live: dict[str, Any]) -> int | None:
        total = (parent_live.get("file_counts") or {}).get("total")
        return total if isinstance(total, int) else None

    async def verify_children(self, ctx: RunContext, parent_id: str, expected: dict[str, ResourceState],
                              touched: set[str]) -> dict[str, str]:
        """Cheap when all is well: the store's own counts must account for every declared file, and
        each touched attachment is read back; only a mismatch costs a full listing."""
        import asyncio

        from ocigen_iac.api import NotFound

        problems: dict[str, str] = {}
        touched_rs = {a: rs for a, rs in expected.items() if a in touched}
        if len(touched_rs) > VERIFY_BY_GET_MAX:  # a listing (100 a page) is cheaper than that many reads
            touched_rs = {}

        async def store_now() -> dict[str, Any] | None:
            try:
                return (await ctx.api().get_vector_store(parent_id)).model_dump()
            except NotFound:
                return None

        store, *results = await asyncio.gather(store_now(), *(self.verify(ctx, rs) for rs in touched_rs.values()))
        if store is None:
            return {a: f"vector store {parent_id} no longer exists" for a in expected}
        for address, problem in zip(touched_rs, results, strict=True):
            if problem:
                problems[address] = problem
        counts = store.get("file_counts") or {}
        if not problems and counts.get("completed") == len(expected) and not counts.get("in_progress") \
                and counts.get("total") == len(expected) and len(touched_rs) == len(touched & set(expected)):
            return problems
        listed = await self._list_all(ctx, parent_id, self.slim)
        for address, rs in expected.items():
            problem = self._differs(rs, listed.get(rs.id))
            if problem:
                problems[address] = problem
            else:
                problems.pop(address, None)
        return problems

    async def get_live(self, ctx: RunContext, rs: ResourceState) -> dict[str, Any] | None:
        from ocigen_iac.api import NotFound

        try:
            return self.slim((await ctx.api().get_vector_store_file(rs.parent_id or "", rs.id)).model_dump())
        except NotFound:
            return None

    def failure(self, live: dict[str, Any]) -> str | None:
        status = live.get("status")
        if status in ("failed", "cancelled"):
            err = live.get("last_error") or {}
            return f"ingestion {status}: {err.get('code', 'unknown')}: {err.get('message', '')}".rstrip(": ")
        return None

    def project_live(self, live: dict[str, Any], rs: ResourceState, inst: Instance | None) -> dict[str, Any]:
        return {
            "vector_store": rs.attrs.get("vector_store"),
            "file": rs.attrs.get("file"),
            "attributes": dict(live.get("attributes") or {}),
            "chunking_strategy": rs.attrs.get("chunking_strategy"),
        }

    def snapshot(self, live: dict[str, Any]) -> dict[str, Any]:
        return {"attributes": dict(live.get("attributes") or {})}

    # --- identity -----------------------------------------------------------------------------
    def follows(self, inst: Instance, dep: Address) -> bool:
        return str(dep) == inst.attrs["file"]

    def pointed_ids(self, rs: ResourceState) -> dict[str, str]:
        out = {rs.attrs.get("file", ""): rs.id}
        if rs.parent_id:
            out[rs.attrs.get("vector_store", "")] = rs.parent_id
        return out

    def can_coexist(self, inst: Instance, rs: ResourceState, new_dependency: bool) -> bool:
        return new_dependency  # a new File id can be attached beside the old one

    def find_existing(self, ctx: RunContext, inst: Instance, ids: dict[str, str]) -> dict[str, Any] | None:
        store_id, file_id = ids.get(inst.attrs["vector_store"]), ids.get(inst.attrs["file"])
        if store_id is None or file_id is None:
            return None
        return ctx.live.get(self.type, file_id, store_id)

    def adopted_state(self, ctx: RunContext, attrs: dict[str, Any], live: dict[str, Any],
                      parent_id: str | None, dep_ids: dict[str, str]) -> ResourceState:
        attrs = dict(attrs)
        attrs["attributes"] = dict(live.get("attributes") or {})
        return ResourceState(self.type, live["id"], attrs=attrs, live=self.snapshot(live), parent_id=parent_id,
                             dep_ids=dict(dep_ids), status=live.get("status"), last_error=live.get("last_error"),
                             created_at=live.get("created_at"))

    def _state(self, ctx: RunContext, change: Change, store_id: str, file_id: str, status: str,
               last_error: dict[str, Any] | None = None) -> ResourceState:
        a = change.after or {}
        return ResourceState(self.type, file_id, attrs=dict(a), live={"attributes": dict(a.get("attributes") or {})},
                             parent_id=store_id, dep_ids={a["vector_store"]: store_id, a["file"]: file_id},
                             status=status, last_error=last_error, created_at=ctx.clock.time())

    # --- apply ------------------------------------------------------------------------------
    def batch_key(self, change: Change) -> Any:
        return (change.after or {}).get("vector_store")

    async def create(self, ctx: RunContext, change: Change) -> ResourceState:
        from ocigen_iac.resources.files import ensure_processed

        a = change.after or {}
        store_id, file_id = ctx.id_of(a["vector_store"]), ctx.id_of(a["file"])
        await ensure_processed(ctx, [file_id])
        obj = await self._retry_new_store(ctx, store_id, lambda: ctx.api().attach_file(
            store_id, file_id, attributes=a["attributes"] or None, chunking_strategy=a["chunking_strategy"]))
        live = await self._wait_one(ctx, store_id, file_id, obj.model_dump())
        return self._state(ctx, change, store_id, file_id, live.get("status", "completed"), live.get("last_error"))

    async def _wait_one(self, ctx: RunContext, store_id: str, file_id: str, live: dict[str, Any]) -> dict[str, Any]:
        from ocigen_iac.clock import Backoff

        backoff = Backoff(ctx.clock, timeout_s=ctx.poll_timeout_s, cap=2.0)
        while live.get("status") not in SETTLED and not backoff.expired:
            await backoff.wait()
            live = (await ctx.api().get_vector_store_file(store_id, file_id)).model_dump()
        return live

    async def _retry_new_store(self, ctx: RunContext, store_id: str, call: Any) -> Any:
        """A store that exists may still answer 404 on the data plane for a while after it was made
        (OCI's sample waits for it; field reports say 10-30 s): when the management side has the
        store, retry with backoff, bounded."""
        from ocigen_iac.api import NotFound
        from ocigen_iac.clock import Backoff

        backoff = Backoff(ctx.clock, first=0.2, cap=3.0, timeout_s=NEW_STORE_WAIT_S)
        confirmed = store_id in ctx.extras.get("new_stores", set())
        while True:
            try:
                return await call()
            except NotFound:
                if backoff.expired:
                    raise
                if not confirmed:
                    try:
                        store = await ctx.api().get_vector_store(store_id)
                    except NotFound:
                        raise  # the store itself is gone
                    if store.status == "expired":
                        raise
                    confirmed = True
                await backoff.wait()

    async def create_many(self, ctx: RunContext, changes: list[Change]) -> list[CreateOutcome]:
        """Attach many files to one store through file-batch calls, then wait for ingestion."""
        from ocigen_iac.api import ApiError

        store_id = ctx.id_of((changes[0].after or {})["vector_store"])
        outcomes: list[CreateOutcome] = []
        for chunk in file_batches(changes):
            try:
                outcomes.extend(await self._one_batch(ctx, store_id, chunk))
            except ApiError as exc:
                if exc.status != 400 or len(chunk) == 1:
                    raise
                # One bad file can fail a whole batch: attach one by one so only it fails.
                for c in chunk:
                    try:
                        outcomes.append(CreateOutcome(c, await self.create(ctx, c)))
                    except ApiError as one_exc:
                        outcomes.append(CreateOutcome(c, None, str(one_exc)))
        return await self._retry_transient(ctx, store_id, outcomes)

    async def _retry_transient(self, ctx: RunContext, store_id: str,
                               outcomes: list[CreateOutcome]) -> list[CreateOutcome]:
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
                # regrouped: the failed files of one store may have different attributes
                again = [outcome for chunk in file_batches([o.change for o in transient])
                         for outcome in await self._one_batch(ctx, store_id, chunk)]
            except ApiError:
                break  # keep the reported failures; the next apply retries them
            by_address = {o.change.address: o for o in again}
            outcomes = [by_address.get(o.change.address, o) for o in outcomes]
        return outcomes

    async def _one_batch(self, ctx: RunContext, store_id: str, chunk: list[Change]) -> list[CreateOutcome]:
        from ocigen_iac.resources.files import ensure_processed

        client = ctx.api()
        by_file = {ctx.id_of((c.after or {})["file"]): c for c in chunk}
        await ensure_processed(ctx, list(by_file))
        shared = chunk[0].after or {}
        assert all(_batch_key(c) == _batch_key(chunk[0]) for c in chunk), "one batch, one set of attributes"
        batch = await self._create_batch(ctx, store_id, list(by_file), shared["attributes"] or None,
                                         shared["chunking_strategy"])
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
        for file_id, c in by_file.items():
            item = problems.get(file_id)
            if item is None:
                outcomes.append(CreateOutcome(c, self._state(ctx, c, store_id, file_id, "completed")))
            else:
                rs = self._state(ctx, c, store_id, file_id, item.get("status", "in_progress"), item.get("last_error"))
                outcomes.append(CreateOutcome(c, rs, self.failure(item) or f"ingestion {item.get('status')}"))
        return outcomes

    async def _create_batch(self, ctx: RunContext, store_id: str, file_ids: list[str],
                            attributes: dict[str, Any] | None, chunking: dict[str, Any] | None) -> Any:
        """Create a file batch. Attaching is idempotent (an attached file stays as it is and joins
        the new batch), so a batch whose outcome is unknown (5xx, lost response) is sent again."""
        from ocigen_iac.api import OutcomeUnknown
        from ocigen_iac.clock import Backoff

        backoff = Backoff(ctx.clock, first=0.2, cap=2.0, timeout_s=120.0)
        for attempt in range(BATCH_CREATE_ATTEMPTS):
            try:
                return await self._retry_new_store(ctx, store_id, lambda: ctx.api().create_file_batch(
                    store_id, file_ids, attributes=attributes, chunking_strategy=chunking))
            except OutcomeUnknown:
                if attempt == BATCH_CREATE_ATTEMPTS - 1:
                    raise
                await backoff.wait()
        raise AssertionError("unreachable")

    async def _poll_batch(self, ctx: RunContext, store_id: str, batch: dict[str, Any]) -> dict[str, Any]:
        from ocigen_iac.clock import Backoff

        # a batch of a few small files is often ingested within a round trip or two: poll soon,
        # then back off quickly (a 10 s ingestion takes about 10 polls)
        backoff = Backoff(ctx.clock, first=0.05, timeout_s=ctx.poll_timeout_s)
        while not backoff.expired:
            counts = batch.get("file_counts") or {}
            total = int(counts.get("total") or 0)
            if total:
                ctx.reporter.ingestion(f"batch {batch.get('id', '?')}", total - int(counts.get("in_progress") or 0),
                                       total)
            if batch.get("status") in SETTLED or (total and not counts.get("in_progress")):
                return batch
            await backoff.wait()
            batch = (await ctx.api().get_file_batch(store_id, batch["id"])).model_dump()
        return batch

    async def update(self, ctx: RunContext, change: Change, rs: ResourceState) -> ResourceState:
        a = change.after or {}
        obj = await ctx.api().update_vector_store_file(rs.parent_id or "", rs.id, a["attributes"])
        live = obj.model_dump()
        new = self._state(ctx, change, rs.parent_id or "", rs.id, live.get("status") or rs.status or "completed",
                          live.get("last_error"))
        new.created_at = rs.created_at
        return new

    async def delete(self, ctx: RunContext, rs: ResourceState) -> str | None:
        from ocigen_iac.api import NotFound

        try:
            await ctx.api().detach_file(rs.parent_id or "", rs.id)
        except NotFound as exc:
            return f"already gone or not permitted ({exc.code or 404})"
        return None

    async def verify(self, ctx: RunContext, rs: ResourceState) -> str | None:
        return self._differs(rs, await self.get_live(ctx, rs))

    def _differs(self, rs: ResourceState, live: dict[str, Any] | None) -> str | None:
        """How the attachment read back differs from what apply made (None: it does not)."""
        if live is None:
            return f"{rs.id} is not attached to vector store {rs.parent_id}"
        if live.get("status") != "completed":
            return self.failure(live) or f"ingestion is {live.get('status')}"
        declared, got = rs.attrs.get("attributes") or {}, live.get("attributes") or {}
        if got != declared:  # what the next plan would show as drift: apply is not complete
            return (f"its attributes are {json.dumps(got, sort_keys=True)}, not "
                    f"{json.dumps(declared, sort_keys=True)} as declared")
        return None

    async def import_object(self, ctx: RunContext, inst: Instance, object_id: str,
                            ids: dict[str, str]) -> tuple[ResourceState, str | None]:
        from ocigen_iac.errors import PlanError

        store_id = ids.get(inst.attrs["vector_store"])
        if store_id is None:
            raise PlanError(f"import {inst.attrs['vector_store']} first (the store this attachment is in)")
        live = (await ctx.api().get_vector_store_file(store_id, object_id)).model_dump()
        dep_ids = {inst.attrs["vector_store"]: store_id, inst.attrs["file"]: object_id}
        return self.adopted_state(ctx, inst.attrs, live, store_id, dep_ids), None


register(VectorStoreFileBatchDocument(), AttachmentType())
