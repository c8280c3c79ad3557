"""Containers and their files. Containers cannot be updated and expire after inactivity (OCI: 20
minutes idle, no revival), so any change, expiry or deletion outside means a new container with
its files uploaded again.

Manifest: `kind: Container`; its `files:` are managed Files copied in (`container.C.files[file.X]`)
or local paths uploaded straight in (`container.C.files[path:data/prices.csv]`).

Refresh reads containers through the list endpoint only (retrieving a container refreshes its
`last_active_at`). It does list the files of each managed container, which services count as
activity: a plan extends a sandbox's life (documented in the README). A service may answer with
another `expires_after` than was asked (OCI's is fixed): what it accepted is recorded, so that
is not a difference on every plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field, model_validator

from ocigen_iac.addresses import PATH_MEMBER, Address
from ocigen_iac.manifest.desired import DesiredResource
from ocigen_iac.manifest.models import ContainerExpiresAfter, NonEmptyStr, _Model
from ocigen_iac.manifest.paths import PathProblem
from ocigen_iac.resources.base import DocumentKind, Instance, ResourceType, recent, strip_none
from ocigen_iac.resources.registry import register
from ocigen_iac.state.model import Intent, ResourceState

if TYPE_CHECKING:
    from ocigen_iac.engine.context import ExpandContext, RunContext
    from ocigen_iac.engine.plan import Change
    from ocigen_iac.manifest.parse import ParsedDoc
    from ocigen_iac.manifest.resolve import Resolver

DEFAULT_MEMORY = "1g"
DEFAULT_EXPIRY = {"anchor": "last_active_at", "minutes": 20}
FIELD = "files"


# ------------------------------------------------------------------------------------ manifest
def _name_to_ref(value: Any) -> Any:
    return {"file": value} if isinstance(value, str) else value


class ContainerFileRefModel(_Model):
    """A file in a container: a managed File (`file`) copied in, or a local `path` uploaded."""

    file: NonEmptyStr | None = Field(None, description="metadata.name of a File")
    path: NonEmptyStr | None = Field(None, description="a local file, relative to this manifest file")
    filename: NonEmptyStr | None = Field(None, description="only with 'path' (default: its base name)")

    @model_validator(mode="after")
    def _file_or_path(self) -> ContainerFileRefModel:
        if (self.file is None) == (self.path is None):
            raise ValueError("set exactly one of 'file' (a managed File) or 'path' (a local file)")
        if self.filename is not None and self.path is None:
            raise ValueError("'filename' only applies to 'path'")
        return self


ContainerFileRef = Annotated[
    ContainerFileRefModel,
    BeforeValidator(_name_to_ref, json_schema_input_type=str | ContainerFileRefModel),
]


class ContainerSpecModel(_Model):
    name: NonEmptyStr | None = Field(None, description="default: metadata.name")
    memory_limit: Literal["1g", "4g", "16g", "64g"] | None = None
    expires_after: ContainerExpiresAfter | None = None
    files: list[ContainerFileRef] = Field(default_factory=list)


@dataclass(frozen=True)
class ContainerFileSpec:
    """Either a managed File (by address) or a local path uploaded straight into the container."""

    file: Address | None = None
    path: Path | None = None  # absolute local path
    rel_path: str | None = None
    filename: str | None = None

    @property
    def member(self) -> Address | str:
        """Identity inside its container (the child address's member)."""
        return self.file if self.file is not None else f"{PATH_MEMBER}{self.rel_path}"


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    memory_limit: str | None = None  # "1g" | "4g" | "16g" | "64g"
    expires_after: dict[str, Any] | None = None  # {"anchor": "last_active_at", "minutes": N}
    files: tuple[ContainerFileSpec, ...] = ()


class ContainerDocument(DocumentKind):
    kind: ClassVar[str] = "Container"
    prefix: ClassVar[str] = "container"
    spec_model = ContainerSpecModel
    produces: ClassVar[tuple[str, ...]] = ("container", "container_file")
    rank: ClassVar[int] = 30
    references: ClassVar[tuple[str, ...]] = ("File",)

    def resolve(self, doc: ParsedDoc, r: Resolver) -> None:
        from ocigen_iac.manifest.resolve import dump

        spec = doc.model.spec
        lifecycle = r.lifecycle(doc)
        files: list[ContainerFileSpec] = []
        seen: dict[Address | str, int] = {}
        for i, entry in enumerate(spec.files):
            pos = doc.pos("spec", "files", i)
            if entry.file is not None:
                ref_pos = doc.pos("spec", "files", i, "file") if isinstance(doc.tree_at("spec", "files", i), dict) \
                    else pos
                if r.lookup(doc, ref_pos, entry.file, "File", f"spec.files[{i}]") is None:
                    continue
                items = [ContainerFileSpec(file=a) for a in r.expansion("File", entry.file)]
            else:
                try:
                    path = r.conf.resolve_file(doc.manifest_dir, entry.path)
                except PathProblem as p:
                    r.error(doc, doc.pos("spec", "files", i, "path"), p.message, p.hint)
                    continue
                items = [ContainerFileSpec(path=path, rel_path=r.conf.display(path),
                                           filename=entry.filename or path.name)]
            for item in items:
                if item.member in seen:
                    r.error(doc, pos, f"container {doc.name!r} lists {str(item.member)!r} twice "
                                      f"(also spec.files[{seen[item.member]}])", "remove the duplicate entry")
                    continue
                seen[item.member] = i
                files.append(item)
        r.add(doc, Address(self.prefix, doc.name), ContainerSpec(
            name=spec.name if spec.name is not None else doc.name, memory_limit=spec.memory_limit,
            expires_after=dump(spec.expires_after), files=tuple(files)),
            lifecycle, depends_on=[f.file for f in files if f.file is not None])

    def local_paths(self, res: DesiredResource) -> list[Path]:
        return [f.path for f in res.spec.files if f.path is not None]

    def expand(self, res: DesiredResource, x: ExpandContext) -> list[Instance]:
        spec: ContainerSpec = res.spec
        attrs = {
            "name": spec.name,
            "memory_limit": spec.memory_limit or DEFAULT_MEMORY,
            "expires_after": spec.expires_after or DEFAULT_EXPIRY,
        }
        out = [Instance(res.address, ContainerType.type, attrs, lifecycle=res.lifecycle, location=res.location)]
        for item in spec.files:
            if item.file is not None:
                source = x.instances[item.file].attrs
                cattrs = {"container": str(res.address), "source": str(item.file), "filename": source["filename"],
                          "sha256": source["sha256"], "bytes": source["bytes"]}
                deps: tuple[Address, ...] = (res.address, item.file)
            else:
                assert item.path is not None
                sha256, size = x.digests[str(item.path)]
                cattrs = {"container": str(res.address), "source": f"{PATH_MEMBER}{item.rel_path}",
                          "filename": item.filename or item.path.name, "sha256": sha256, "bytes": size,
                          "upload": item.rel_path}
                deps = (res.address,)
            out.append(Instance(res.address.child(FIELD, item.member), ContainerFileType.type, cattrs, deps=deps,
                                parent=res.address, lifecycle=res.lifecycle, location=res.location))
        return out

    def summarize(self, resources: list[DesiredResource]) -> str:
        n = sum(len(r.spec.files) for r in resources)
        return f"{len(resources)} {self.kind}" + (f" ({n} container file{'s' if n != 1 else ''})" if n else "")


# ------------------------------------------------------------------------------------ live
def _expiry(live: dict[str, Any]) -> dict[str, Any] | None:
    expires = live.get("expires_after")
    return {"anchor": expires.get("anchor"), "minutes": expires.get("minutes")} if expires else None


class ContainerType(ResourceType):
    type: ClassVar[str] = "container"
    collection: ClassVar[str] = "/containers"
    needs_scope: ClassVar[frozenset[str]] = frozenset({"project"})  # every call carries OpenAI-Project
    shown_on_create: ClassVar[tuple[str, ...]] = ("name", "memory_limit", "expires_after")
    output_fields: ClassVar[tuple[str, ...]] = ("name",)

    def slim(self, live: dict[str, Any]) -> dict[str, Any]:
        return {k: live.get(k) for k in ("id", "name", "status", "created_at", "last_active_at", "expires_after",
                                          "memory_limit")}

    async def list_live(self, ctx: RunContext, parent_id: str | None) -> dict[str, dict[str, Any]]:
        return {c.id: self.slim(c.model_dump()) async for c in ctx.api().iter_containers()}

    async def get_live(self, ctx: RunContext, rs: ResourceState) -> dict[str, Any] | None:
        from ocigen_iac.api import NotFound

        try:
            return self.slim((await ctx.api().get_container(rs.id)).model_dump())
        except NotFound:
            return None

    def gone_reason(self, live: dict[str, Any]) -> str | None:
        status = str(live.get("status") or "").lower()
        return status if status in ("expired", "deleted") else None

    async def health(self, ctx: RunContext, rs: ResourceState, live: dict[str, Any] | None) -> dict[str, Any]:
        """Status, last activity and when it expires, from the list only: retrieving a container
        (or listing its files) counts as activity and would keep it alive."""
        from ocigen_iac.resources.health_text import DEGRADED, HEALTHY, relative, utc

        if live is None:
            return {}
        expiry = _expiry(live) or {}
        last, minutes = live.get("last_active_at"), expiry.get("minutes")
        expires_at = last + minutes * 60 if isinstance(last, int | float) and isinstance(minutes, int) else None
        out: dict[str, Any] = {"status": live.get("status"), "last_active_at": last, "expires_at": expires_at,
                               "expires_after": expiry or None, "memory_limit": live.get("memory_limit")}
        if self.gone_reason(live):
            return out
        summary = f"{live.get('status') or 'status unknown'}; last active {relative(last)}"
        if expires_at is not None:
            summary += f"; expires {relative(expires_at)} ({utc(expires_at)}) unless used"
        out["summary"] = summary
        out["health"] = HEALTHY
        if expires_at is not None and expires_at <= ctx.clock.time():
            out["health"] = DEGRADED
            out["problems"] = ["idle past its expiry time: the service may expire it at any moment (the next apply "
                               "then re-creates it with its files)"]
        return out

    def project_live(self, live: dict[str, Any], rs: ResourceState, inst: Instance | None) -> dict[str, Any]:
        expires = _expiry(live) or rs.attrs.get("expires_after")
        if expires is not None and expires == rs.live.get("expires_after"):
            expires = rs.attrs.get("expires_after")  # the service's answer to what we asked for
        return {
            "name": live.get("name"),
            "memory_limit": live.get("memory_limit") or rs.attrs.get("memory_limit"),
            "expires_after": expires,
        }

    def snapshot(self, live: dict[str, Any]) -> dict[str, Any]:
        # expires_after as the service accepted it (OCI answers its fixed 20 minutes whatever we ask)
        return {"name": live.get("name"), "memory_limit": live.get("memory_limit"), "expires_after": _expiry(live)}

    def fingerprint(self, ctx: RunContext, change: Change) -> dict[str, Any]:
        return {"name": (change.after or {})["name"], "attrs": dict(change.after or {})}

    def leaked_candidates(self, intent: Intent, pool: dict[str, dict[str, Any]],
                          tracked_ids: set[str]) -> list[dict[str, Any]]:
        name = intent.fingerprint.get("name")
        return sorted((c for c in pool.values() if c["id"] not in tracked_ids and c.get("name") == name
                       and not self.gone_reason(c) and recent(c.get("created_at"), intent.started_at)),
                      key=lambda c: c.get("created_at") or 0)

    async def create(self, ctx: RunContext, change: Change) -> ResourceState:
        a = change.after or {}
        body = strip_none({"name": a["name"], "memory_limit": a.get("memory_limit"),
                           "expires_after": a.get("expires_after")})
        client = ctx.api()

        async def send() -> dict[str, Any]:
            return self.slim((await client.create_container(body)).model_dump())

        async def relist() -> dict[str, dict[str, Any]]:
            return await self.list_live(ctx, None)

        live = await ctx.create_once(self, change, send, relist)
        return ResourceState(self.type, live["id"], attrs=dict(a), live=self.snapshot(live),
                             created_at=live.get("created_at"))

    async def delete(self, ctx: RunContext, rs: ResourceState) -> str | None:
        from ocigen_iac.api import NotFound

        try:
            await ctx.api().delete_container(rs.id)
        except NotFound as exc:
            return f"already gone or not permitted ({exc.code or 404})"
        return None

    async def import_object(self, ctx: RunContext, inst: Instance, object_id: str,
                            ids: dict[str, str]) -> tuple[ResourceState, str | None]:
        live = self.slim((await ctx.api().get_container(object_id)).model_dump())
        rs = ResourceState(self.type, object_id, attrs=dict(inst.attrs), live=self.snapshot(live),
                           created_at=live.get("created_at"))
        rs.attrs.update(self.project_live(live, rs, inst))
        return rs, None


class ContainerFileType(ResourceType):
    """A file inside a container: a copy of a managed File, or a local path uploaded directly."""

    type: ClassVar[str] = "container_file"
    collection: ClassVar[str] = "/containers/{id}/files"
    needs_scope: ClassVar[frozenset[str]] = frozenset({"project"})  # every call carries OpenAI-Project
    parent_type: ClassVar[str | None] = "container"
    create_before_destroy: ClassVar[bool] = False  # the same name inside the container
    informational: ClassVar[frozenset[str]] = frozenset({"container", "source", "upload"})  # identity, not content
    verify_after_apply: ClassVar[bool] = True
    shown_on_create: ClassVar[tuple[str, ...]] = ("container", "source", "filename", "bytes")
    importable: ClassVar[bool] = False

    def slim(self, live: dict[str, Any]) -> dict[str, Any]:
        return {k: live.get(k) for k in ("id", "path", "bytes", "created_at", "source")}

    async def list_live(self, ctx: RunContext, parent_id: str | None) -> dict[str, dict[str, Any]]:
        assert parent_id is not None
        return {f.id: self.slim(f.model_dump()) async for f in ctx.api().iter_container_files(parent_id)}

    async def get_live(self, ctx: RunContext, rs: ResourceState) -> dict[str, Any] | None:
        return None  # listing the container's files is the only way to look (and it counts as activity)

    def project_live(self, live: dict[str, Any], rs: ResourceState, inst: Instance | None) -> dict[str, Any]:
        projected = dict(rs.attrs)
        if live.get("bytes") is not None:
            projected["bytes"] = live.get("bytes")
        return projected

    def snapshot(self, live: dict[str, Any]) -> dict[str, Any]:
        return {"path": live.get("path"), "bytes": live.get("bytes")}

    def upload_size(self, change: Change) -> int:
        a = change.after or {}
        return int(a.get("bytes") or 0) if a.get("upload") else 0

    def fingerprint(self, ctx: RunContext, change: Change) -> dict[str, Any]:
        a = change.after or {}
        return {"container_id": ctx.id_of(a["container"]), "filename": a["filename"], "bytes": a["bytes"],
                "attrs": dict(a)}

    @staticmethod
    def _matching(pool: dict[str, dict[str, Any]], name: str, size: Any, tracked_ids: set[str]) -> list[dict[str, Any]]:
        """Files of this name and size: services prefix the path (`/mnt/data/<hash>-<name>`)."""
        def same_name(path: str) -> bool:
            base = path.rsplit("/", 1)[-1]
            return base == name or base.endswith("-" + name)

        found = [f for f in pool.values() if f["id"] not in tracked_ids and same_name(str(f.get("path") or ""))
                 and f.get("bytes") in (None, size)]
        return sorted(found, key=lambda f: f.get("created_at") or 0)

    def leaked_candidates(self, intent: Intent, pool: dict[str, dict[str, Any]],
                          tracked_ids: set[str]) -> list[dict[str, Any]]:
        fp = intent.fingerprint
        return [f for f in self._matching(pool, fp.get("filename") or "", fp.get("bytes"), tracked_ids)
                if recent(f.get("created_at"), intent.started_at)]

    def find_existing(self, ctx: RunContext, inst: Instance, ids: dict[str, str]) -> dict[str, Any] | None:
        """In a container this project manages (an imported one, say), a file of the declared name
        and size already there is the declared container file."""
        container_id = ids.get(inst.attrs["container"])
        if container_id is None:
            return None
        taken = set(ids.values())  # tracked, or proposed for another address already
        found = self._matching(ctx.live.objects(self.type, container_id), inst.attrs["filename"],
                               inst.attrs["bytes"], taken)
        return found[0] if found else None

    async def create(self, ctx: RunContext, change: Change) -> ResourceState:
        a = change.after or {}
        container_id = ctx.id_of(a["container"])
        client = ctx.api()

        if not a.get("upload"):
            from ocigen_iac.resources.files import ensure_processed

            await ensure_processed(ctx, [ctx.id_of(a["source"])])

        async def send() -> dict[str, Any]:
            if a.get("upload"):
                obj = await client.create_container_file(container_id, path=ctx.settings.root / a["upload"],
                                                         filename=a["filename"])
            else:
                obj = await client.create_container_file(container_id, file_id=ctx.id_of(a["source"]))
            return self.slim(obj.model_dump())

        async def relist() -> dict[str, dict[str, Any]]:
            return await self.list_live(ctx, container_id)

        live = await ctx.create_once(self, change, send, relist, parent_id=container_id)
        dep_ids = {a["container"]: container_id}
        if not a.get("upload"):
            dep_ids[a["source"]] = ctx.id_of(a["source"])
        return ResourceState(self.type, live["id"], attrs=dict(a), live=self.snapshot(live), parent_id=container_id,
                             dep_ids=dep_ids, created_at=live.get("created_at"))

    async def delete(self, ctx: RunContext, rs: ResourceState) -> str | None:
        from ocigen_iac.api import NotFound

        try:
            await ctx.api().delete_container_file(rs.parent_id or "", rs.id)
        except NotFound as exc:
            return f"already gone or not permitted ({exc.code or 404})"
        return None

    async def verify_children(self, ctx: RunContext, parent_id: str, expected: dict[str, ResourceState],
                              touched: set[str]) -> dict[str, str]:
        from ocigen_iac.api import NotFound

        try:
            present = await self.list_live(ctx, parent_id)
        except NotFound:
            return {a: f"container {parent_id} no longer exists" for a in expected}
        return {a: f"{rs.id} is not in container {parent_id}" for a, rs in expected.items() if rs.id not in present}


register(ContainerDocument(), ContainerType(), ContainerFileType())
