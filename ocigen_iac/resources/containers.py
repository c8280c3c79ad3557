"""Containers and their files. Containers cannot be updated and expire after inactivity, so any
change, expiry or deletion outside means a new container with its files uploaded again.

Refresh reads containers through the list endpoint only: retrieving a container refreshes its
`last_active_at`, and a plan should not keep a sandbox alive by looking at it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from ocigen_iac.manifest.desired import ContainerFileSpec, ContainerSpec, DesiredResource
from ocigen_iac.resources.base import Instance, ResourceKind, recent, strip_none
from ocigen_iac.state.model import Intent, ResourceState

if TYPE_CHECKING:
    from ocigen_iac.engine.context import RunContext

DEFAULT_MEMORY = "1g"
DEFAULT_EXPIRY = {"anchor": "last_active_at", "minutes": 20}


class ContainerKind(ResourceKind):
    kind: ClassVar[str] = "container"
    order: ClassVar[int] = 1

    def expand(self, res: DesiredResource) -> Instance:
        spec = res.spec
        assert isinstance(spec, ContainerSpec)
        attrs = {
            "name": spec.name,
            "memory_limit": spec.memory_limit or DEFAULT_MEMORY,
            "expires_after": spec.expires_after or DEFAULT_EXPIRY,
        }
        return Instance(res.address, self.kind, attrs, lifecycle=res.lifecycle, source=spec, origin=res)

    def find_live(self, ctx: RunContext, rs: ResourceState) -> dict[str, Any] | None:
        return ctx.live.containers.get(rs.id)

    def gone_reason(self, live: dict[str, Any]) -> str | None:
        status = str(live.get("status") or "").lower()
        return status if status in ("expired", "deleted") else None

    def project_live(self, live: dict[str, Any], rs: ResourceState) -> dict[str, Any]:
        expires = live.get("expires_after") or rs.attrs.get("expires_after")
        return {
            "name": live.get("name"),
            "memory_limit": live.get("memory_limit") or rs.attrs.get("memory_limit"),
            "expires_after": {"anchor": expires.get("anchor"), "minutes": expires.get("minutes")} if expires else None,
        }

    def snapshot(self, live: dict[str, Any]) -> dict[str, Any]:
        return {"name": live.get("name"), "memory_limit": live.get("memory_limit")}

    async def create(self, ctx: RunContext, inst: Instance) -> ResourceState:
        from ocigen_iac.api import OutcomeUnknown

        fingerprint = {"name": inst.attrs["name"], "attrs": dict(inst.attrs)}
        ctx.state.record_intent(Intent(inst.address, self.kind, fingerprint))
        body = strip_none(dict(inst.attrs))
        client = ctx.api()
        try:
            live = (await client.create_container(body)).model_dump()
        except OutcomeUnknown:
            ctx.live.containers = {c.id: c.model_dump() async for c in client.iter_containers()}
            tracked = {r.id for r in ctx.state.state.resources.values() if r.kind == self.kind}
            found = self.adopt(ctx, ctx.state.state.intents[inst.address], tracked)
            live = ctx.live.containers[found.id] if found else (await client.create_container(body)).model_dump()
        return ResourceState(self.kind, live["id"], attrs=dict(inst.attrs), live=self.snapshot(live),
                             created_at=live.get("created_at"))

    async def delete(self, ctx: RunContext, address: str, rs: ResourceState) -> None:
        from ocigen_iac.api import NotFound

        try:
            await ctx.api().delete_container(rs.id)
        except NotFound:
            pass

    def adopt(self, ctx: RunContext, intent: Intent, tracked_ids: set[str]) -> ResourceState | None:
        name = intent.fingerprint.get("name")
        for live in sorted(ctx.live.containers.values(), key=lambda c: c.get("created_at") or 0):
            if live["id"] in tracked_ids or live.get("name") != name or self.gone_reason(live):
                continue
            if recent(live.get("created_at"), intent.started_at):
                return ResourceState(self.kind, live["id"], attrs=dict(intent.fingerprint.get("attrs", {})),
                                     live=self.snapshot(live), created_at=live.get("created_at"))
        return None


class ContainerFileKind(ResourceKind):
    """A file inside a container: a copy of a managed File, or a local path uploaded directly."""

    kind: ClassVar[str] = "container_file"
    order: ClassVar[int] = 2
    create_before_destroy: ClassVar[bool] = False  # same path inside the container
    informational: ClassVar[frozenset[str]] = frozenset()

    def expand(self, res: DesiredResource, item: ContainerFileSpec,
               digests: dict[str, tuple[str, int]], file_attrs: dict[str, dict[str, Any]]) -> Instance:
        if item.file:
            source_attrs = file_attrs[item.file]
            attrs = {"container": res.address, "source": item.file, "filename": source_attrs["filename"],
                     "sha256": source_attrs["sha256"], "bytes": source_attrs["bytes"]}
            deps = [res.address, item.file]
        else:
            assert item.path is not None
            sha256, size = digests[str(item.path)]
            attrs = {"container": res.address, "source": f"path:{item.rel_path}",
                     "filename": item.filename or item.path.name, "sha256": sha256, "bytes": size}
            deps = [res.address]
        return Instance(f"{res.address}.files[{item.key}]", self.kind, attrs, deps=deps, parent=res.address,
                        lifecycle=res.lifecycle, source=item, origin=res)

    def find_live(self, ctx: RunContext, rs: ResourceState) -> dict[str, Any] | None:
        return ctx.live.container_files.get(rs.parent_id or "", {}).get(rs.id)

    def project_live(self, live: dict[str, Any], rs: ResourceState) -> dict[str, Any]:
        projected = dict(rs.attrs)
        if live.get("bytes") is not None:
            projected["bytes"] = live.get("bytes")
        return projected

    def snapshot(self, live: dict[str, Any]) -> dict[str, Any]:
        return {"path": live.get("path"), "bytes": live.get("bytes")}

    async def create(self, ctx: RunContext, inst: Instance) -> ResourceState:
        from ocigen_iac.api import OutcomeUnknown

        item: ContainerFileSpec = inst.source
        container_id = ctx.id_of(inst.attrs["container"])
        fingerprint = {"container_id": container_id, "filename": inst.attrs["filename"],
                       "bytes": inst.attrs["bytes"], "attrs": dict(inst.attrs)}
        ctx.state.record_intent(Intent(inst.address, self.kind, fingerprint))
        client = ctx.api()

        async def _create() -> dict[str, Any]:
            if item.file:
                obj = await client.create_container_file(container_id, file_id=ctx.id_of(item.file))
            else:
                obj = await client.create_container_file(container_id, path=item.path,
                                                         filename=inst.attrs["filename"])
            return obj.model_dump()

        try:
            live = await _create()
        except OutcomeUnknown:
            ctx.live.container_files[container_id] = {
                f.id: f.model_dump() async for f in client.iter_container_files(container_id)
            }
            tracked = {r.id for r in ctx.state.state.resources.values() if r.kind == self.kind}
            found = self.adopt(ctx, ctx.state.state.intents[inst.address], tracked)
            live = ctx.live.container_files[container_id][found.id] if found else await _create()
        return ResourceState(self.kind, live["id"], attrs=dict(inst.attrs), live=self.snapshot(live),
                             parent_id=container_id, deps=list(inst.deps), created_at=live.get("created_at"))

    async def delete(self, ctx: RunContext, address: str, rs: ResourceState) -> None:
        from ocigen_iac.api import NotFound

        try:
            await ctx.api().delete_container_file(rs.parent_id or "", rs.id)
        except NotFound:
            pass

    def adopt(self, ctx: RunContext, intent: Intent, tracked_ids: set[str]) -> ResourceState | None:
        fp = intent.fingerprint
        files = ctx.live.container_files.get(fp.get("container_id", ""), {})
        for live in sorted(files.values(), key=lambda f: f.get("created_at") or 0):
            if live["id"] in tracked_ids:
                continue
            path = str(live.get("path") or "")
            if path.rsplit("/", 1)[-1] == fp.get("filename") and live.get("bytes") in (None, fp.get("bytes")) \
                    and recent(live.get("created_at"), intent.started_at):
                return ResourceState(self.kind, live["id"], attrs=dict(fp.get("attrs", {})),
                                     live=self.snapshot(live), parent_id=fp.get("container_id"),
                                     created_at=live.get("created_at"))
        return None
