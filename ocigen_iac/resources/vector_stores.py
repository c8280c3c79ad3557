"""Vector stores: name, metadata and expires_after update in place; description forces a replace.

Manifest: `kind: VectorStore`; its `files:` declare attachments (see vector_store_files.py).

Ownership: every store carries one metadata key (`owner_tag_key`, default `ocigen-iac-owner`)
whose value names the project (`owner:` in ocigen.yaml, else this state's lineage), the
environment and the address. It is how a store whose create response was lost, or whose state
was lost, is found and *proposed* for adoption; two projects never share the value.

Metadata: services add keys of their own (embedding model, index ids). Plans diff only the keys
the manifests declare or the tool wrote before; an update sends the whole map (the API replaces
it) with the keys the tool never managed kept as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import Field, StringConstraints

from ocigen_iac.addresses import Address
from ocigen_iac.manifest.desired import DesiredResource
from ocigen_iac.manifest.models import MAX_MAP_KEYS, ChunkingStrategy, Metadata, VectorStoreExpiresAfter, _Model
from ocigen_iac.resources.base import DocumentKind, Instance, ResourceType, strip_none
from ocigen_iac.resources.ownership import DEFAULT_OWNER_KEY, TaggedAdoption
from ocigen_iac.resources.registry import register
from ocigen_iac.resources.vector_store_files import (
    Attachment,
    FileRef,
    attachment_instances,
    collect_attachments,
    remember_attachments,
)
from ocigen_iac.state.model import ResourceState

if TYPE_CHECKING:
    from ocigen_iac.engine.context import ExpandContext, RunContext
    from ocigen_iac.engine.plan import Change
    from ocigen_iac.manifest.parse import ParsedDoc
    from ocigen_iac.manifest.resolve import Resolver

STORE_READY_WAIT_S = 120.0
# What the service accepts (Oracle's own sample names a store "OCI Support FAQ Vector Store"):
# printable text up to 255 characters, no control characters.
STORE_NAME_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,255}$")


# ------------------------------------------------------------------------------------ manifest
class VectorStoreSpecModel(_Model):
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = Field(
        None, description="default: metadata.name; 1-255 printable characters")
    description: Annotated[str, StringConstraints(max_length=512)] | None = Field(
        None, description="create-only: changing it replaces the store"
    )
    metadata: Metadata = Field(default_factory=dict)
    expires_after: VectorStoreExpiresAfter | None = None
    chunking_strategy: ChunkingStrategy | None = Field(
        None, description="default chunking for files attached to this store"
    )
    files: list[FileRef] = Field(default_factory=list)


@dataclass(frozen=True)
class VectorStoreSpec:
    name: str
    description: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)  # user metadata (no ownership tag)
    expires_after: dict[str, Any] | None = None  # {"anchor": "last_active_at", "days": N}
    chunking_strategy: dict[str, Any] | None = None  # default for attachments
    files: tuple[Attachment, ...] = ()


class VectorStoreDocument(DocumentKind):
    kind: ClassVar[str] = "VectorStore"
    prefix: ClassVar[str] = "vector_store"
    spec_model = VectorStoreSpecModel
    produces: ClassVar[tuple[str, ...]] = ("vector_store", "vector_store_file")
    rank: ClassVar[int] = 10
    references: ClassVar[tuple[str, ...]] = ("File",)

    def resolve(self, doc: ParsedDoc, r: Resolver) -> None:
        from ocigen_iac.manifest.resolve import dump

        spec = doc.model.spec
        lifecycle = r.lifecycle(doc)
        name = spec.name if spec.name is not None else doc.name
        name_pos = doc.pos("spec", "name") if spec.name is not None else doc.pos("metadata", "name")
        if not STORE_NAME_RE.match(name):
            r.error(doc, name_pos, f"vector store name {name!r}"
                    + (" (after interpolation)" if "${" in str(doc.tree_at("spec", "name") or "") else "")
                    + " is not valid", "use 1-255 printable characters (no line breaks or control characters)")
        if r.owner_tag_key in spec.metadata:
            r.error(doc, doc.key_pos("spec", "metadata", r.owner_tag_key),
                    f"metadata key {r.owner_tag_key!r} is reserved for ocigen-iac's ownership tag", "rename the key")
        elif len(spec.metadata) > MAX_MAP_KEYS - 1:
            r.error(doc, doc.pos("spec", "metadata"),
                    f"spec.metadata has {len(spec.metadata)} keys; at most {MAX_MAP_KEYS - 1} are allowed "
                    f"(the API allows {MAX_MAP_KEYS} and ocigen-iac uses one for its ownership tag)",
                    "drop some metadata keys")
        atts = collect_attachments(doc, r, list(spec.files), ("spec", "files"))
        address = Address(self.prefix, doc.name)
        r.add(doc, address, VectorStoreSpec(
            name=name, description=spec.description, metadata=dict(spec.metadata),
            expires_after=dump(spec.expires_after), chunking_strategy=dump(spec.chunking_strategy),
            files=tuple(a for a, _ in atts)), lifecycle, depends_on=[a.file for a, _ in atts])
        remember_attachments(r, address, doc, atts)

    def expand(self, res: DesiredResource, x: ExpandContext) -> list[Instance]:
        spec: VectorStoreSpec = res.spec
        attrs = {
            "name": spec.name,
            "description": spec.description,
            "metadata": dict(spec.metadata),
            "expires_after": spec.expires_after,
            "ownership": {"key": x.owner_tag_key, "value": x.owner_tag(res.address)},
            "chunking_strategy": spec.chunking_strategy,
        }
        store = Instance(res.address, VectorStoreType.type, attrs, lifecycle=res.lifecycle, location=res.location)
        return [store, *attachment_instances(res, res.address, spec.files, spec.chunking_strategy)]


# ------------------------------------------------------------------------------------ live
class VectorStoreType(TaggedAdoption, ResourceType):
    type: ClassVar[str] = "vector_store"
    collection: ClassVar[str] = "/vector_stores"
    needs_scope: ClassVar[frozenset[str]] = frozenset({"project"})  # every call carries OpenAI-Project
    update_fields: ClassVar[frozenset[str]] = frozenset({"name", "metadata", "expires_after", "ownership"})
    # the store's default chunking only shapes its attachments (they carry it); never diffed here
    informational: ClassVar[frozenset[str]] = frozenset({"chunking_strategy"})
    shown_on_create: ClassVar[tuple[str, ...]] = ("name", "description", "metadata", "expires_after")
    output_fields: ClassVar[tuple[str, ...]] = ("name",)
    observed_fields: ClassVar[tuple[str, ...]] = ("usage_bytes",)  # as of the last apply that touched it

    def slim(self, live: dict[str, Any]) -> dict[str, Any]:
        return {k: live.get(k) for k in ("id", "name", "status", "metadata", "expires_after", "file_counts",
                                          "created_at", "usage_bytes", "expires_at", "last_active_at")}

    async def list_live(self, ctx: RunContext, parent_id: str | None) -> dict[str, dict[str, Any]]:
        return {v.id: self.slim(v.model_dump()) async for v in ctx.api().iter_vector_stores()}

    async def get_live(self, ctx: RunContext, rs: ResourceState) -> dict[str, Any] | None:
        from ocigen_iac.api import NotFound

        try:
            return self.slim((await ctx.api().get_vector_store(rs.id)).model_dump())
        except NotFound:
            return None

    def gone_reason(self, live: dict[str, Any]) -> str | None:
        return "expired" if live.get("status") == "expired" else None

    async def health(self, ctx: RunContext, rs: ResourceState, live: dict[str, Any] | None) -> dict[str, Any]:
        """File counts, each failed or cancelled file with its last_error, usage and expiry."""
        from ocigen_iac.resources.store_health import store_health

        return {} if live is None else await store_health(ctx, rs, live)

    @staticmethod
    def _managed_keys(rs: ResourceState | None, inst: Instance | None) -> set[str]:
        keys: set[str] = set()
        for attrs in ((rs.attrs if rs else {}), (inst.attrs if inst else {})):
            keys |= set(attrs.get("metadata") or {})
        return keys

    def project_live(self, live: dict[str, Any], rs: ResourceState, inst: Instance | None) -> dict[str, Any]:
        ownership = (inst.attrs if inst else rs.attrs).get("ownership") or {}
        key = ownership.get("key") or rs.live.get("owner_key") or DEFAULT_OWNER_KEY
        metadata = live.get("metadata") or {}
        managed = self._managed_keys(rs, inst)
        expires = live.get("expires_after")
        return {
            "name": live.get("name"),
            "description": rs.attrs.get("description"),  # write-only: what we sent
            "metadata": {k: v for k, v in metadata.items() if k in managed and k != key},
            "expires_after": {"anchor": expires.get("anchor"), "days": expires.get("days")} if expires else None,
            "ownership": {"key": key, "value": metadata.get(key)},
            "chunking_strategy": rs.attrs.get("chunking_strategy"),
        }

    def snapshot(self, live: dict[str, Any]) -> dict[str, Any]:
        return {"name": live.get("name"), "metadata": live.get("metadata") or {}}

    def plan_warnings(self, ctx: RunContext, changes: list[Change]) -> list[str]:
        if ctx.settings.owner or not any(c.action.makes_new_object for c in changes):
            return []
        return ["`owner:` is not set in ocigen.yaml: new vector stores are tagged with this state's lineage, so "
                "if the state is ever lost they cannot be recognised and adopted again. Set `owner: <a name no "
                "other project uses>` (e.g. team/repo) before the first apply."]

    # --- adoption ----------------------------------------------------------------------------
    def fingerprint(self, ctx: RunContext, change: Change) -> dict[str, Any]:
        a = change.after or {}
        return {"owner": (a.get("ownership") or {}).get("value"), "owner_key": (a.get("ownership") or {}).get("key"),
                "attrs": dict(a)}

    def owner_tags(self, live: dict[str, Any]) -> dict[str, Any]:
        return live.get("metadata") or {}

    # --- apply -------------------------------------------------------------------------------
    def _metadata(self, ctx: RunContext, change: Change, live: dict[str, Any] | None) -> dict[str, Any]:
        a = change.after or {}
        own = a["ownership"]
        keep = {}
        if live is not None:  # keys the service added (or someone else manages): send them back as they are
            managed = set(a.get("metadata") or {}) | set((change.before or {}).get("metadata") or {}) | {own["key"]}
            keep = {k: v for k, v in (live.get("metadata") or {}).items() if k not in managed}
        return {**keep, **(a.get("metadata") or {}), own["key"]: own["value"]}

    async def create(self, ctx: RunContext, change: Change) -> ResourceState:
        a = change.after or {}
        client = ctx.api()
        body = strip_none({"name": a["name"], "description": a.get("description"),
                           "metadata": self._metadata(ctx, change, None), "expires_after": a.get("expires_after")})

        async def send() -> dict[str, Any]:
            return self.slim((await client.create_vector_store(body)).model_dump())

        async def relist() -> dict[str, dict[str, Any]]:
            return await self.list_live(ctx, None)

        live = await ctx.create_once(self, change, send, relist)
        ctx.extras.setdefault("new_stores", set()).add(live["id"])
        live = await self._wait_ready(ctx, live)
        return self._state(change, live)

    async def _wait_ready(self, ctx: RunContext, live: dict[str, Any]) -> dict[str, Any]:
        """A new store is `in_progress` for a moment; its files cannot be attached before it is ready."""
        from ocigen_iac.api import NotFound
        from ocigen_iac.clock import Backoff

        backoff = Backoff(ctx.clock, first=0.1, cap=2.0, timeout_s=min(ctx.poll_timeout_s, STORE_READY_WAIT_S))
        while live.get("status") == "in_progress" and not backoff.expired:
            await backoff.wait()
            try:
                live = self.slim((await ctx.api().get_vector_store(live["id"])).model_dump())
            except NotFound:  # not visible yet on a lagging list/get
                continue
        return live

    def _state(self, change: Change, live: dict[str, Any]) -> ResourceState:
        a = change.after or {}
        snap = self.snapshot(live)
        snap["owner_key"] = a["ownership"]["key"]
        return ResourceState(self.type, live["id"], attrs=dict(a), live=snap, created_at=live.get("created_at"))

    async def update(self, ctx: RunContext, change: Change, rs: ResourceState) -> ResourceState:
        a = change.after or {}
        live = ctx.live.get(self.type, rs.id)
        if live is None:
            live = await self.get_live(ctx, rs)
        changed = {c.path.split(".", 1)[0] for c in change.attr_changes}
        body: dict[str, Any] = {"metadata": self._metadata(ctx, change, live)}
        if "name" in changed:
            body["name"] = a["name"]
        if "expires_after" in changed:
            body["expires_after"] = a.get("expires_after")
        new_live = self.slim((await ctx.api().update_vector_store(rs.id, body)).model_dump())
        new = self._state(change, new_live)
        new.created_at = rs.created_at
        return new

    async def delete(self, ctx: RunContext, rs: ResourceState) -> str | None:
        from ocigen_iac.api import NotFound

        try:
            await ctx.api().delete_vector_store(rs.id)
        except NotFound as exc:
            return f"already gone or not permitted ({exc.code or 404})"
        return None

    async def import_object(self, ctx: RunContext, inst: Instance, object_id: str,
                            ids: dict[str, str]) -> tuple[ResourceState, str | None]:
        live = self.slim((await ctx.api().get_vector_store(object_id)).model_dump())
        attrs = dict(inst.attrs)
        attrs["name"] = live.get("name")
        key = inst.attrs["ownership"]["key"]
        managed = set(inst.attrs.get("metadata") or {})
        attrs["metadata"] = {k: v for k, v in (live.get("metadata") or {}).items() if k in managed}
        attrs["ownership"] = {"key": key, "value": (live.get("metadata") or {}).get(key)}
        snap = self.snapshot(live)
        snap["owner_key"] = key
        return ResourceState(self.type, object_id, attrs=attrs, live=snap, created_at=live.get("created_at")), \
            "its description cannot be read back from the service; the manifest's is assumed"

    def outputs(self, rs: ResourceState) -> dict[str, Any]:
        return {"name": rs.attrs.get("name"), "usage_bytes": rs.live.get("usage_bytes")}


register(VectorStoreDocument(), VectorStoreType())
