"""ObjectStorageObjects: a local folder uploaded to a bucket prefix, one object per file.

Manifest: `kind: ObjectStorageObjects` with `bucket`, `namespace` (default: the tenancy's own,
asked once per run), `prefix` (prepended to each file's path below `path`), `path` (the local
folder, relative to the manifest file), `include` (default `**/*`), `exclude` and `allow_empty`.
Each file is an instance `object_storage_objects.NAME["rel/path"]`; the object's name is
`prefix + rel/path`. The bucket must exist.

Identity: `namespace/bucket/name` (the id in state). Content: the sha256 of the local file, as
the hash cache gives it; the live side is Object Storage's md5 (from one listing per bucket
prefix, no downloads): an object whose md5 is still the one recorded when it was uploaded still
holds that sha256. So unchanged documents are never sent again, a changed one is uploaded again
(shown as a replacement, "content changed", as Object Storage objects are immutable: a PUT writes
a new object under the same name) and a removed one is deleted. The old object of a replacement
is never deleted by name: the PUT already replaced it (a deposed record whose name is tracked
again is dropped without a call; otherwise the delete carries `If-Match` of its etag).

Lost creates: a PUT is idempotent (same name, same bytes), so a lost response is simply sent
again; a crash between the PUT and the state write leaves an intent, and the next refresh adopts
the object when its md5 is the local file's. A declared object that already exists in a bucket
this state tracks is proposed for adoption (and replaced if its content differs). Objects in
buckets the state does not track yet are not looked for: the first apply uploads them (cheap and
idempotent), as listing needs the bucket before the manifests are expanded.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import Field, StringConstraints

from ocigen_iac.addresses import Address
from ocigen_iac.errors import PlanError
from ocigen_iac.manifest.desired import DesiredResource
from ocigen_iac.manifest.models import NonEmptyStr, _Model
from ocigen_iac.manifest.paths import PathProblem, expand_glob
from ocigen_iac.resources import _oci
from ocigen_iac.resources.base import DocumentKind, Instance, ResourceType, recent
from ocigen_iac.resources.registry import register
from ocigen_iac.state.model import Intent, ResourceState

if TYPE_CHECKING:
    from ocigen_iac.engine.context import ExpandContext, RunContext
    from ocigen_iac.engine.plan import Change
    from ocigen_iac.manifest.parse import ParsedDoc
    from ocigen_iac.manifest.resolve import Resolver

MAX_OBJECT_NAME = 1024
LIST_PAGE = 1000
MAX_LIST_PAGES = 10_000
SHA_META = "ocigen-iac-sha256"  # written as opc-meta-ocigen-iac-sha256 (for people; never read back)
BucketName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,256}$")]


# ------------------------------------------------------------------------------------ manifest
class ObjectsSpecModel(_Model):
    """A local folder uploaded to a bucket prefix."""

    bucket: BucketName = Field(description="an existing bucket")
    namespace: NonEmptyStr | None = Field(None, description="Object Storage namespace (default: the tenancy's)")
    prefix: str = Field("", description="prepended to every object name, e.g. handbook/")
    path: NonEmptyStr = Field(description="the local folder, relative to this manifest file")
    include: NonEmptyStr = Field("**/*", description="which files of the folder (`**` recurses)")
    exclude: list[NonEmptyStr] = Field(default_factory=list, description="patterns removed from the matches")
    allow_empty: bool = Field(False, description="the folder may hold no matching file")


@dataclass(frozen=True)
class ObjectFile:
    key: str  # path below the folder (the instance key)
    path: Path  # absolute
    rel_path: str  # relative to the project root


@dataclass(frozen=True)
class ObjectsSpec:
    bucket: str
    namespace: str | None
    prefix: str
    files: tuple[ObjectFile, ...]


class ObjectsDocument(DocumentKind):
    kind: ClassVar[str] = "ObjectStorageObjects"
    prefix: ClassVar[str] = "object_storage_objects"
    spec_model = ObjectsSpecModel
    produces: ClassVar[tuple[str, ...]] = ("object_storage_object",)
    rank: ClassVar[int] = 5

    def resolve(self, doc: ParsedDoc, r: Resolver) -> None:
        spec = doc.model.spec
        _oci.check_credentials(doc, r)
        folder = Path(os.path.normpath(doc.manifest_dir / spec.path))
        pattern = f"{spec.path.rstrip('/')}/{spec.include.lstrip('/')}"
        try:
            found = expand_glob(r.conf, doc.manifest_dir, pattern, list(spec.exclude), allow_empty=spec.allow_empty)
        except PathProblem as p:
            r.error(doc, doc.pos("spec", p.where or "path"), p.message, p.hint)
            return
        files = []
        for m in found:
            try:
                key = m.path.relative_to(folder).as_posix()
            except ValueError:
                key = m.key
            name = spec.prefix + key
            if len(name.encode()) > MAX_OBJECT_NAME:
                r.error(doc, doc.pos("spec", "prefix"), f"object name {name[:60]!r}... is longer than "
                        f"{MAX_OBJECT_NAME} bytes", "use a shorter prefix or shorter paths")
                return
            files.append(ObjectFile(key, m.path, r.conf.display(m.path)))
        r.add(doc, Address(self.prefix, doc.name), ObjectsSpec(spec.bucket, spec.namespace, spec.prefix, tuple(files)))

    def local_paths(self, res: DesiredResource) -> list[Path]:
        return [f.path for f in res.spec.files]

    def expand(self, res: DesiredResource, x: ExpandContext) -> list[Instance]:
        spec: ObjectsSpec = res.spec
        out = []
        for f in spec.files:
            sha256, size = x.digests[str(f.path)]
            attrs = {"namespace": spec.namespace, "bucket": spec.bucket, "name": spec.prefix + f.key,
                     "sha256": sha256, "bytes": size, "source": f.rel_path}
            out.append(Instance(res.address.instance(f.key), ObjectType.type, attrs, lifecycle=res.lifecycle,
                                location=res.location))
        return out

    def summarize(self, resources: list[DesiredResource]) -> str:
        n = sum(len(r.spec.files) for r in resources)
        return f"{len(resources)} {self.kind} ({n} object{'s' if n != 1 else ''})"


# ------------------------------------------------------------------------------------ live
def object_id(namespace: str, bucket: str, name: str) -> str:
    return f"{namespace}/{bucket}/{name}"


def split_id(oid: str) -> tuple[str, str, str]:
    ns, bucket, name = oid.split("/", 2)
    return ns, bucket, name


async def namespace(ctx: RunContext, declared: str | None) -> str:
    """The declared namespace, else the tenancy's own (asked once per run)."""
    if declared:
        return declared
    cached = ctx.extras.get("oci_namespace")
    if cached is None:
        resp = await _oci.sdk(ctx).call("object_storage", "get_namespace")
        cached = ctx.extras["oci_namespace"] = str(resp.data)
    return cached


def _common_prefix(names: list[str]) -> str:
    """The longest string every name starts with (one listing covers a folder's objects)."""
    if not names:
        return ""
    lo, hi = min(names), max(names)
    n = 0
    while n < len(lo) and lo[n] == hi[n]:
        n += 1
    return lo[:n]


def local_md5(path: Path) -> str:
    """Object Storage's md5 form (base64 of the digest) of a local file."""
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return base64.b64encode(h.digest()).decode()


class ObjectType(ResourceType):
    type: ClassVar[str] = "object_storage_object"
    collection: ClassVar[str] = "/n/{namespace}/b/{bucket}/o"
    informational: ClassVar[frozenset[str]] = frozenset({"source"})
    shown_on_create: ClassVar[tuple[str, ...]] = ("bucket", "name", "bytes", "source")
    output_fields: ClassVar[tuple[str, ...]] = ("bucket", "name")

    # --- refresh ------------------------------------------------------------------------------
    def _where(self, ctx: RunContext) -> dict[tuple[str, str], list[str]]:
        """(namespace, bucket) -> object names state knows of there (records and intents)."""
        names: dict[tuple[str, str], list[str]] = defaultdict(list)
        records = [r for r in ctx.state.state.resources.values() if r.kind == self.type]
        records += [d.resource for d in ctx.state.state.deposed if d.resource.kind == self.type]
        for rs in records:
            ns, bucket, name = split_id(rs.id)
            names[(ns, bucket)].append(name)
        for intent in ctx.state.state.intents.values():
            fp = intent.fingerprint
            if intent.kind == self.type and fp.get("namespace_resolved"):
                names[(fp["namespace_resolved"], fp["bucket"])].append(fp["name"])
        return names

    async def list_live(self, ctx: RunContext, parent_id: str | None) -> dict[str, dict[str, Any]]:
        import asyncio

        where = self._where(ctx)
        results = await asyncio.gather(*(self._list(ctx, ns, bucket, _common_prefix(names))
                                         for (ns, bucket), names in sorted(where.items())))
        out: dict[str, dict[str, Any]] = {}
        for part in results:
            out.update(part)
        return out

    async def _list(self, ctx: RunContext, ns: str, bucket: str, prefix: str) -> dict[str, dict[str, Any]]:
        from ocigen_iac.api import NotFound

        clients = _oci.sdk(ctx)
        out: dict[str, dict[str, Any]] = {}
        start = None
        for _ in range(MAX_LIST_PAGES):
            try:
                resp = await clients.call("object_storage", "list_objects", ns, bucket, prefix=prefix or None,
                                          start=start, limit=LIST_PAGE, fields="name,size,md5,etag,timeCreated")
            except NotFound:
                return out  # the bucket is gone: so are its objects
            for o in resp.data.objects or []:
                live = self._live(ns, bucket, o.name, o.md5, o.size, o.etag, o.time_created)
                out[live["id"]] = live
            start = resp.data.next_start_with
            if not start:
                break
        return out

    @staticmethod
    def _live(ns: str, bucket: str, name: str, md5: Any, size: Any, etag: Any, created: Any) -> dict[str, Any]:
        created_at = created.timestamp() if hasattr(created, "timestamp") else None
        return {"id": object_id(ns, bucket, name), "namespace": ns, "bucket": bucket, "name": name,
                "md5": md5, "size": size, "etag": etag, "created_at": created_at}

    async def get_live(self, ctx: RunContext, rs: ResourceState) -> dict[str, Any] | None:
        from ocigen_iac.api import NotFound

        ns, bucket, name = split_id(rs.id)
        try:
            resp = await _oci.sdk(ctx).call("object_storage", "head_object", ns, bucket, name)
        except NotFound:
            return None
        h = resp.headers
        size = h.get("content-length")
        return self._live(ns, bucket, name, h.get("content-md5") or h.get("opc-multipart-md5"),
                          int(size) if size is not None else None, h.get("etag"), None)

    def project_live(self, live: dict[str, Any], rs: ResourceState, inst: Instance | None) -> dict[str, Any]:
        same = live.get("md5") is not None and live.get("md5") == rs.live.get("md5")
        return {
            "namespace": rs.attrs.get("namespace"),
            "bucket": live.get("bucket"),
            "name": live.get("name"),
            "sha256": rs.attrs.get("sha256") if same else f"md5:{live.get('md5')}",  # what it holds now
            "bytes": live.get("size"),
            "source": rs.attrs.get("source"),
        }

    def snapshot(self, live: dict[str, Any]) -> dict[str, Any]:
        return {"md5": live.get("md5"), "size": live.get("size")}

    def upload_size(self, change: Change) -> int:
        return int((change.after or {}).get("bytes") or 0)

    # --- adoption -----------------------------------------------------------------------------
    def fingerprint(self, ctx: RunContext, change: Change) -> dict[str, Any]:
        a = change.after or {}
        return {"namespace_resolved": ctx.extras.get(("namespace_of", str(change.address))), "bucket": a["bucket"],
                "name": a["name"], "sha256": a["sha256"], "bytes": a["bytes"], "attrs": dict(a)}

    def leaked_candidates(self, intent: Intent, pool: dict[str, dict[str, Any]],
                          tracked_ids: set[str]) -> list[dict[str, Any]]:
        fp = intent.fingerprint
        oid = object_id(fp.get("namespace_resolved") or "", fp["bucket"], fp["name"])
        live = pool.get(oid)
        if live is None or oid in tracked_ids or live.get("size") != fp.get("bytes"):
            return []
        if live.get("created_at") is not None and not recent(live["created_at"], intent.started_at):
            return []
        return [live]

    async def verify_leaked(self, ctx: RunContext, intent: Intent, live: dict[str, Any]) -> tuple[bool, str | None]:
        import asyncio

        path = ctx.settings.root / intent.fingerprint["attrs"]["source"]
        try:
            md5 = await asyncio.to_thread(local_md5, path)
        except OSError:
            return False, None
        return md5 == live.get("md5"), None

    def find_existing(self, ctx: RunContext, inst: Instance, ids: dict[str, str]) -> dict[str, Any] | None:
        ns = inst.attrs.get("namespace") or ctx.extras.get("oci_namespace")
        if ns is None:
            return None
        live = ctx.live.get(self.type, object_id(ns, inst.attrs["bucket"], inst.attrs["name"]))
        if live is None or live["id"] in set(ids.values()):
            return None
        return live

    def adopted_state(self, ctx: RunContext, attrs: dict[str, Any], live: dict[str, Any],
                      parent_id: str | None, dep_ids: dict[str, str]) -> ResourceState:
        attrs = dict(attrs)
        try:
            same = local_md5(ctx.settings.root / attrs["source"]) == live.get("md5")
        except OSError:
            same = False
        if not same:
            attrs["sha256"] = f"md5:{live.get('md5')}"  # not the local content: the plan replaces it
        return ResourceState(self.type, live["id"], attrs=attrs, live={**self.snapshot(live), "etag": live.get("etag")},
                             created_at=live.get("created_at"))

    # --- apply -------------------------------------------------------------------------------
    async def create(self, ctx: RunContext, change: Change) -> ResourceState:
        a = change.after or {}
        path = ctx.settings.root / a["source"]
        sha256, size = ctx.hashes.digest(path)  # the cache (as File does): no re-read when unchanged
        if sha256 != a["sha256"]:
            raise PlanError(f"{a['source']} changed after the plan was made (sha256 {a['sha256'][:12]}… -> "
                            f"{sha256[:12]}…); run plan again")
        ns = await namespace(ctx, a.get("namespace"))
        ctx.extras[("namespace_of", str(change.address))] = ns
        clients = _oci.sdk(ctx)
        content_type = mimetypes.guess_type(a["name"])[0] or "application/octet-stream"

        async def send() -> dict[str, Any]:
            def put() -> Any:
                with open(path, "rb") as fh:
                    return clients.object_storage().put_object(
                        ns, a["bucket"], a["name"], fh, content_length=size, content_type=content_type,
                        opc_meta={SHA_META: sha256})

            resp = await clients.call_blocking(f"put_object {a['bucket']}/{a['name']}", put, create=True)
            h = resp.headers
            return self._live(ns, a["bucket"], a["name"], h.get("opc-content-md5"), size, h.get("etag"), None)

        async def relist() -> dict[str, dict[str, Any]]:
            return await self._list(ctx, ns, a["bucket"], a["name"])

        live = await ctx.create_once(self, change, send, relist)
        ctx.reporter.uploaded(size)
        if live.get("md5") is None:  # a lost response adopted from a listing has it; a PUT answers it
            live = await self.get_live(ctx, ResourceState(self.type, live["id"])) or live
        return ResourceState(self.type, live["id"], attrs=dict(a),
                             live={**self.snapshot(live), "etag": live.get("etag")}, created_at=ctx.clock.time())

    async def delete(self, ctx: RunContext, rs: ResourceState) -> str | None:
        from ocigen_iac.api import ApiError, NotFound

        state = ctx.state.state
        deposed_at = next((d.address for d in state.deposed if d.resource is rs), None)
        if deposed_at is not None:
            current = state.resources.get(deposed_at)
            if current is not None and current.id == rs.id:
                return None  # its replacement was written under the same name: nothing old is left
        ns, bucket, name = split_id(rs.id)
        if_match = rs.live.get("etag") if deposed_at is not None else None
        try:
            await _oci.sdk(ctx).call("object_storage", "delete_object", ns, bucket, name, if_match=if_match)
        except NotFound:
            return None
        except ApiError as exc:
            if exc.status == 412:  # rewritten since: the object is no longer the old one
                return None
            raise
        return None

    async def import_object(self, ctx: RunContext, inst: Instance, object_id_: str,
                            ids: dict[str, str]) -> tuple[ResourceState, str | None]:
        live = await self.get_live(ctx, ResourceState(self.type, object_id_))
        if live is None:
            raise PlanError(f"object {object_id_} does not exist (write the id as namespace/bucket/name)")
        return self.adopted_state(ctx, inst.attrs, live, None, {}), None

    def outputs(self, rs: ResourceState) -> dict[str, Any]:
        return {"bucket": rs.attrs.get("bucket"), "name": rs.attrs.get("name")}


register(ObjectsDocument(), ObjectType())
