"""Vector stores: name, metadata and expires_after update in place; description forces a replace.

Every store carries one ownership metadata key (`settings.owner_tag_key`) naming environment and
address. Plans ignore it when diffing user metadata; it is how a store whose create response was
lost is found and adopted instead of duplicated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from ocigen_iac.manifest.desired import DesiredResource, VectorStoreSpec
from ocigen_iac.resources.base import Instance, ResourceKind, strip_none
from ocigen_iac.state.model import Intent, ResourceState

if TYPE_CHECKING:
    from ocigen_iac.engine.context import RunContext


class VectorStoreKind(ResourceKind):
    kind: ClassVar[str] = "vector_store"
    order: ClassVar[int] = 1
    update_fields: ClassVar[frozenset[str]] = frozenset({"name", "metadata", "expires_after"})

    def expand(self, res: DesiredResource) -> Instance:
        spec = res.spec
        assert isinstance(spec, VectorStoreSpec)
        attrs = {
            "name": spec.name,
            "description": spec.description,
            "metadata": dict(spec.metadata),
            "expires_after": spec.expires_after,
        }
        return Instance(res.address, self.kind, attrs, lifecycle=res.lifecycle, source=spec, origin=res)

    def find_live(self, ctx: RunContext, rs: ResourceState) -> dict[str, Any] | None:
        return ctx.live.stores.get(rs.id)

    def gone_reason(self, live: dict[str, Any]) -> str | None:
        return "expired" if live.get("status") == "expired" else None

    def _user_metadata(self, ctx_key: str, live: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in (live.get("metadata") or {}).items() if k != ctx_key}

    def project_live(self, live: dict[str, Any], rs: ResourceState) -> dict[str, Any]:
        owner_key = rs.live.get("owner_key", "ocigen-iac-owner")
        expires = live.get("expires_after")
        return {
            "name": live.get("name"),
            "description": rs.attrs.get("description"),  # write-only: what we sent
            "metadata": self._user_metadata(owner_key, live),
            "expires_after": {"anchor": expires.get("anchor"), "days": expires.get("days")} if expires else None,
        }

    def snapshot(self, live: dict[str, Any]) -> dict[str, Any]:
        return {"name": live.get("name"), "metadata": live.get("metadata") or {}}

    def _body(self, ctx: RunContext, inst: Instance, *, create: bool) -> dict[str, Any]:
        key = ctx.settings.owner_tag_key
        metadata = {**inst.attrs["metadata"], key: ctx.owner_tag(inst.address)}
        body: dict[str, Any] = {"name": inst.attrs["name"], "metadata": metadata,
                                "expires_after": inst.attrs["expires_after"]}
        if create:
            body["description"] = inst.attrs["description"]
            return strip_none(body)
        return body

    def _state(self, ctx: RunContext, inst: Instance, live: dict[str, Any]) -> ResourceState:
        snap = self.snapshot(live)
        snap["owner_key"] = ctx.settings.owner_tag_key
        return ResourceState(self.kind, live["id"], attrs=dict(inst.attrs), live=snap,
                             created_at=live.get("created_at"))

    async def create(self, ctx: RunContext, inst: Instance) -> ResourceState:
        from ocigen_iac.api import OutcomeUnknown

        tag = ctx.owner_tag(inst.address)
        ctx.state.record_intent(Intent(inst.address, self.kind, {"owner": tag, "attrs": dict(inst.attrs)}))
        client = ctx.api()
        try:
            live = (await client.create_vector_store(self._body(ctx, inst, create=True))).model_dump()
        except OutcomeUnknown:
            ctx.live.stores = {s.id: s.model_dump() async for s in client.iter_vector_stores()}
            tracked = {r.id for r in ctx.state.state.resources.values() if r.kind == self.kind}
            found = self.adopt(ctx, ctx.state.state.intents[inst.address], tracked)
            if found is not None:
                live = ctx.live.stores[found.id]
            else:
                live = (await client.create_vector_store(self._body(ctx, inst, create=True))).model_dump()
        return self._state(ctx, inst, live)

    async def update(self, ctx: RunContext, inst: Instance, rs: ResourceState) -> ResourceState:
        live = (await ctx.api().update_vector_store(rs.id, self._body(ctx, inst, create=False))).model_dump()
        new = self._state(ctx, inst, live)
        new.created_at = rs.created_at
        return new

    async def delete(self, ctx: RunContext, address: str, rs: ResourceState) -> None:
        from ocigen_iac.api import NotFound

        try:
            await ctx.api().delete_vector_store(rs.id)
        except NotFound:
            pass

    def adopt(self, ctx: RunContext, intent: Intent, tracked_ids: set[str]) -> ResourceState | None:
        key = ctx.settings.owner_tag_key
        owner = intent.fingerprint.get("owner")
        for live in sorted(ctx.live.stores.values(), key=lambda s: s.get("created_at") or 0):
            if live["id"] in tracked_ids or live.get("status") == "expired":
                continue
            if (live.get("metadata") or {}).get(key) == owner:
                snap = self.snapshot(live)
                snap["owner_key"] = key
                return ResourceState(self.kind, live["id"], attrs=dict(intent.fingerprint.get("attrs", {})),
                                     live=snap, created_at=live.get("created_at"))
        return None
