"""Files: uploaded bytes with a purpose. Immutable: any change is a replacement.

Manifest: `kind: File` with `path` (one file) or `glob` + `exclude` (one managed file per match,
address `file.NAME["rel/path"]`; the uploaded filename is the base name, as the service keeps it).

Identity: the API id in state, plus sha256 / size / filename. A leaked create (crash or lost
response) is found by filename + size + created_at after the recorded intent and, when the
service allows downloads and the file is small, confirmed by its content. Services that refuse
downloads (OpenAI refuses them for `assistants` and `user_data`) are not depended on: the match
then rests on filename + size + time, and the plan says so.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, model_validator

from ocigen_iac.addresses import Address
from ocigen_iac.errors import PlanError
from ocigen_iac.manifest.desired import DesiredResource
from ocigen_iac.manifest.models import PURPOSE_EXTENSIONS, FileExpiresAfter, NonEmptyStr, _Model
from ocigen_iac.manifest.paths import PathProblem, expand_glob
from ocigen_iac.resources.base import DocumentKind, Instance, ResourceType, now, recent, shared_text
from ocigen_iac.resources.registry import register
from ocigen_iac.state.model import Intent, ResourceState

if TYPE_CHECKING:
    from ocigen_iac.engine.context import ExpandContext, RunContext
    from ocigen_iac.engine.plan import Change
    from ocigen_iac.manifest.parse import ParsedDoc
    from ocigen_iac.manifest.resolve import Resolver

VERIFY_CONTENT_MAX_BYTES = 8 << 20
PROCESSED = ("processed", "uploaded_and_processed")
UNPROCESSED = "files_not_yet_processed"  # ctx.extras key: ids uploaded (or adopted) this run, maybe still processing
PROCESSING_WAIT_S = 300.0
PROCESSING_POLL_BY_GET_MAX = 16  # pending files read one by one (in one round) rather than listed


async def _file_now(ctx: RunContext, file_id: str) -> dict[str, Any] | None:
    from ocigen_iac.api import NotFound

    try:
        return (await ctx.api().get_file(file_id)).model_dump()
    except NotFound:
        return None  # gone: nothing to wait for (as when a listing does not show it)


async def ensure_processed(ctx: RunContext, file_ids: list[str]) -> None:
    """Wait (bounded) until these Files are processed: some services report a new file as
    `uploaded` for a while, and attaching it then fails. Uploads do not wait (that would hold an
    upload slot per file); whatever attaches or copies them waits here, with one list request per
    poll round for all of them."""
    from ocigen_iac.clock import Backoff

    known = ctx.extras.setdefault(UNPROCESSED, set())
    for fid in file_ids:  # files an earlier (interrupted) run uploaded may still be processing too
        live = ctx.live.get(FileType.type, fid)
        if live is not None and live.get("status") not in (None, *PROCESSED):
            known.add(fid)
    pending = set(file_ids) & known
    if not pending:
        return
    # poll often at first, then back off: a short wait overshoots little, a long one costs few
    # requests (a poll reads only the pending files, unless there are many). Small files are
    # processed in well under a second, so the first polls come every 50-100 ms; a 10 s wait
    # still takes about 20 polls.
    backoff = Backoff(ctx.clock, first=0.05, factor=1.25, cap=2.0, timeout_s=min(ctx.poll_timeout_s, PROCESSING_WAIT_S))
    while True:
        # a few reads, all in flight at once, beat listing every file
        if len(pending) <= min(PROCESSING_POLL_BY_GET_MAX, ctx.api().opts.parallelism):
            ids = sorted(pending)
            live = dict(zip(ids, await asyncio.gather(*(_file_now(ctx, fid) for fid in ids)), strict=True))
        else:
            live = {f["id"]: f async for page in ctx.api().iter_file_pages(("id", "status", "status_details"))
                    for f in page}
        for fid in list(pending):
            status = (live.get(fid) or {}).get("status")
            if status == "error":
                raise PlanError(f"the service could not process file {fid}: "
                                f"{(live.get(fid) or {}).get('status_details') or 'status error'}")
            if status in (None, *PROCESSED):
                pending.discard(fid)
        ctx.extras[UNPROCESSED] -= set(file_ids) - pending
        if not pending or backoff.expired:
            return
        await backoff.wait()


# ------------------------------------------------------------------------------------ manifest
class FileSpecModel(_Model):
    """A File: one local file (`path`) or one managed file per match of `glob`."""

    path: NonEmptyStr | None = Field(None, description="a local file, relative to this manifest file")
    glob: NonEmptyStr | None = Field(
        None, description="one managed file per match (`**` recurses), relative to this manifest file"
    )
    exclude: list[NonEmptyStr] = Field(default_factory=list, description="patterns removed from the glob's matches")
    allow_empty: bool = Field(False, description="a glob may match nothing (the folder was emptied)")
    purpose: Literal["assistants", "batch", "fine-tune", "vision", "user_data", "evals"] = "assistants"
    filename: NonEmptyStr | None = Field(None, description="name sent to the API (default: the file's base name)")
    expires_after: FileExpiresAfter | None = None

    @model_validator(mode="after")
    def _path_or_glob(self) -> FileSpecModel:
        if (self.path is None) == (self.glob is None):
            raise ValueError("set exactly one of 'path' (one file) or 'glob' (one file per match)")
        if (self.exclude or self.allow_empty) and self.glob is None:
            raise ValueError("'exclude' and 'allow_empty' only apply to 'glob'")
        if self.filename is not None and self.glob is not None:
            raise ValueError("'filename' cannot be used with 'glob' (every member would get the same name)")
        return self


@dataclass(frozen=True, slots=True)
class FileSpec:
    abs_path: str  # absolute, confined to the project root unless allowed (text: a glob has 100,000)
    rel_path: str  # relative to the project root, posix separators (for display and state)
    filename: str  # name sent to the API (spec.filename, else the base name)
    purpose: str = "assistants"
    expires_after: dict[str, Any] | None = None  # {"anchor": "created_at", "seconds": N}

    @classmethod
    def of(cls, path: Path, rel_path: str, filename: str, purpose: str,
           expires_after: dict[str, Any] | None) -> FileSpec:
        # texts shared (interned) with the hash cache, the state records and the instances
        return cls(shared_text(str(path)), shared_text(rel_path), shared_text(filename), purpose, expires_after)

    @property
    def path(self) -> Path:
        return Path(self.abs_path)


def _ext_ok(purpose: str, filename: str) -> bool:
    allowed = PURPOSE_EXTENSIONS.get(purpose)
    return allowed is None or filename.lower().endswith(allowed)


class FileDocument(DocumentKind):
    kind: ClassVar[str] = "File"
    prefix: ClassVar[str] = "file"
    spec_model = FileSpecModel
    produces: ClassVar[tuple[str, ...]] = ("file",)
    rank: ClassVar[int] = 0

    def resolve(self, doc: ParsedDoc, r: Resolver) -> None:
        from ocigen_iac.manifest.resolve import dump

        spec = doc.model.spec
        lifecycle = r.lifecycle(doc)
        members: list[Address] = []
        r.set_expansion(self.kind, doc.name, members)
        exp = dump(spec.expires_after)
        if spec.path is not None:
            try:
                path = r.conf.resolve_file(doc.manifest_dir, spec.path)
            except PathProblem as p:
                r.error(doc, doc.pos("spec", "path"), p.message, p.hint)
                return
            filename = spec.filename or path.name
            if not self._purpose_ok(doc, r, filename, ("spec", "path")):
                return
            address = Address(self.prefix, doc.name)
            r.add(doc, address, FileSpec.of(path, r.conf.display(path), filename, spec.purpose, exp), lifecycle)
            members.append(address)
            return
        try:
            found = expand_glob(r.conf, doc.manifest_dir, spec.glob, list(spec.exclude),
                                allow_empty=spec.allow_empty)
        except PathProblem as p:
            r.error(doc, doc.pos("spec", p.where or "glob"), p.message, p.hint)
            return
        bad = [m.key for m in found if not _ext_ok(spec.purpose, m.key)]
        if bad:
            self._purpose_ok(doc, r, bad[0], ("spec", "glob"), count=len(bad))
            return
        for m in found:
            address = Address(self.prefix, doc.name, m.key)
            # The service keeps only the base name; the address keeps the relative path, so two
            # files of the same name in different folders stay distinct objects.
            r.add(doc, address, FileSpec.of(m.path, r.conf.display(m.path), m.path.name, spec.purpose, exp),
                  lifecycle)
            members.append(address)

    @staticmethod
    def _purpose_ok(doc: ParsedDoc, r: Resolver, filename: str, loc: tuple[str, ...], count: int = 1) -> bool:
        purpose = doc.model.spec.purpose
        if _ext_ok(purpose, filename):
            return True
        allowed = PURPOSE_EXTENSIONS[purpose] or ()
        more = f" (and {count - 1} more)" if count > 1 else ""
        pos = doc.pos("spec", "purpose") if "purpose" in doc.tree.get("spec", {}) else doc.pos(*loc)
        r.error(
            doc,
            pos,
            f"purpose {purpose!r} accepts only {' '.join(allowed)} files, but {filename!r}{more} is not one",
            "use purpose: assistants (or user_data) for documents, or point at files of the accepted type",
        )
        return False

    def local_paths(self, res: DesiredResource) -> list[str]:
        return [res.spec.abs_path]  # the text: no Path object per file while hashing 100,000

    def expand(self, res: DesiredResource, x: ExpandContext) -> list[Instance]:
        spec: FileSpec = res.spec
        sha256, size = x.digests[spec.abs_path]
        attrs: dict[str, Any] = {
            "filename": spec.filename,
            "purpose": spec.purpose,
            "sha256": sha256,
            "bytes": size,
            "expires_after": spec.expires_after,
            "source": spec.rel_path,
        }
        return [Instance(res.address, FileType.type, attrs, lifecycle=res.lifecycle, location=res.location)]

    def summarize(self, resources: list[DesiredResource]) -> str:
        docs = len({r.name for r in resources})
        text = f"{docs} {self.kind}"
        if len(resources) != docs:
            text += f" ({len(resources)} files after glob expansion)"
        return text


# ------------------------------------------------------------------------------------ live
_LIVE_FIELDS = ("id", "filename", "purpose", "bytes", "created_at", "expires_at", "status")


class FileType(ResourceType):
    type: ClassVar[str] = "file"
    collection: ClassVar[str] = "/files"
    needs_scope: ClassVar[frozenset[str]] = frozenset({"project"})  # every call carries OpenAI-Project
    informational: ClassVar[frozenset[str]] = frozenset({"source"})
    shown_on_create: ClassVar[tuple[str, ...]] = ("filename", "purpose", "bytes", "expires_after", "source")
    output_fields: ClassVar[tuple[str, ...]] = ("filename",)

    async def list_live(self, ctx: RunContext, parent_id: str | None) -> dict[str, Any]:
        # each file as the tuple of its slim values after the id (88 bytes where the dict takes 272)
        return {shared_text(f["id"]): tuple(self.slim(f).values())[1:]
                async for page in ctx.api().iter_file_pages(_LIVE_FIELDS) for f in page}

    def unpack(self, object_id: str, packed: Any) -> dict[str, Any]:
        return dict(zip(_LIVE_FIELDS, (object_id, *packed), strict=True))

    def slim(self, live: dict[str, Any]) -> dict[str, Any]:
        return {k: shared_text(live.get(k)) for k in _LIVE_FIELDS}

    async def get_live(self, ctx: RunContext, rs: ResourceState) -> dict[str, Any] | None:
        from ocigen_iac.api import NotFound

        try:
            return self.slim((await ctx.api().get_file(rs.id)).model_dump())
        except NotFound:
            return None

    def gone_reason(self, live: dict[str, Any]) -> str | None:
        expires_at = live.get("expires_at")
        if expires_at and float(expires_at) <= now():
            return "expired"
        if live.get("status") == "error":
            return "in error"
        return None

    async def health(self, ctx: RunContext, rs: ResourceState, live: dict[str, Any] | None) -> dict[str, Any]:
        from ocigen_iac.resources.health_text import DEGRADED, human_bytes, relative, utc

        if live is None:
            return {}
        out: dict[str, Any] = {"status": live.get("status"), "bytes": live.get("bytes"),
                               "expires_at": live.get("expires_at")}
        summary = f"{live.get('status') or 'present'}, {human_bytes(live.get('bytes'))}"
        if live.get("expires_at"):
            summary += f"; expires {utc(live['expires_at'])} ({relative(live['expires_at'])})"
        out["summary"] = summary
        if live.get("status") == "error":
            out["health"] = DEGRADED
            out["problems"] = ["the service could not process it (status error): the next apply uploads it again"]
        return out

    def project_live(self, live: dict[str, Any], rs: ResourceState, inst: Instance | None) -> dict[str, Any]:
        return {
            "filename": live.get("filename"),
            "purpose": live.get("purpose"),
            "sha256": rs.attrs.get("sha256"),  # not observable: the hash we uploaded
            "bytes": live.get("bytes"),
            "expires_after": rs.attrs.get("expires_after"),
            "source": rs.attrs.get("source"),
        }

    def snapshot(self, live: dict[str, Any]) -> dict[str, Any]:
        return {"filename": live.get("filename"), "purpose": live.get("purpose"), "bytes": live.get("bytes")}

    def upload_size(self, change: Change) -> int:
        return int((change.after or {}).get("bytes") or 0)

    # --- adoption ----------------------------------------------------------------------------
    def fingerprint(self, ctx: RunContext, change: Change) -> dict[str, Any]:
        a = change.after or {}
        return {"filename": a["filename"], "bytes": a["bytes"], "sha256": a["sha256"], "purpose": a["purpose"],
                "attrs": dict(a)}

    def leaked_candidates(self, intent: Intent, pool: dict[str, dict[str, Any]],
                          tracked_ids: set[str]) -> list[dict[str, Any]]:
        fp = intent.fingerprint
        found = [
            f for f in pool.values()
            if f["id"] not in tracked_ids
            and f.get("filename") == fp["filename"]
            and f.get("bytes") == fp["bytes"]
            and f.get("purpose") in (None, fp["purpose"])
            and recent(f.get("created_at"), intent.started_at)
        ]
        return sorted(found, key=lambda f: f.get("created_at") or 0)

    async def verify_leaked(self, ctx: RunContext, intent: Intent, live: dict[str, Any]) -> tuple[bool, str | None]:
        """Confirm a candidate by content when the service lets us download it and it is small."""
        from ocigen_iac.api import ApiError, NotFound

        size = intent.fingerprint.get("bytes", 0)
        if size > VERIFY_CONTENT_MAX_BYTES:
            return True, f"{intent.address}: adopted {live['id']} by filename, size and creation time (too large to " \
                         "download and compare)"
        try:
            content = await ctx.api().file_content(live["id"])
        except NotFound:
            return False, None
        except ApiError as exc:
            if exc.status not in (400, 403, 405):
                raise
            return True, (f"{intent.address}: adopted {live['id']} by filename, size and creation time; the service "
                          f"refuses downloads of its content ({exc.status}), so the content was not compared")
        return hashlib.sha256(content).hexdigest() == intent.fingerprint.get("sha256"), None

    # --- apply -------------------------------------------------------------------------------
    async def create(self, ctx: RunContext, change: Change) -> ResourceState:
        a = change.after or {}
        path = ctx.settings.root / a["source"]
        sha256, _ = ctx.hashes.digest(path)
        if sha256 != a["sha256"]:
            raise PlanError(
                f"{a['source']} changed after the plan was made (sha256 {a['sha256'][:12]}… -> {sha256[:12]}…); "
                "run plan again"
            )
        client = ctx.api()
        sent = 0

        def progress(total_sent: int) -> None:  # cumulative per attempt -> increments for the bar
            nonlocal sent
            if total_sent > sent:
                ctx.reporter.uploaded(total_sent - sent)
            sent = total_sent

        async def send() -> dict[str, Any]:
            obj = await client.create_file(path, purpose=a["purpose"], filename=a["filename"],
                                           expires_after=a.get("expires_after"), progress=progress)
            return obj.model_dump()

        async def relist() -> dict[str, dict[str, Any]]:
            return {shared_text(f["id"]): self.slim(f)
                    async for page in ctx.api().iter_file_pages(_LIVE_FIELDS) for f in page}

        live = await ctx.create_once(self, change, send, relist)
        if live.get("status") not in (None, *PROCESSED):
            ctx.extras.setdefault(UNPROCESSED, set()).add(live["id"])  # whoever uses it waits (ensure_processed)
        return ResourceState(self.type, live["id"], attrs=dict(a), live=self.snapshot(live),
                             created_at=live.get("created_at"))

    async def ready(self, ctx: RunContext, rs: ResourceState) -> None:
        ctx.extras.setdefault(UNPROCESSED, set()).add(rs.id)  # adopted: may still be processing

    async def delete(self, ctx: RunContext, rs: ResourceState) -> str | None:
        from ocigen_iac.api import NotFound

        try:
            await ctx.api().delete_file(rs.id)
        except NotFound as exc:
            return f"already gone or not permitted ({exc.code or 404})"
        return None

    async def import_object(self, ctx: RunContext, inst: Instance, object_id: str,
                            ids: dict[str, str]) -> tuple[ResourceState, str | None]:
        from ocigen_iac.api import ApiError

        live = (await ctx.api().get_file(object_id)).model_dump()
        attrs = dict(inst.attrs)
        note = None
        try:
            content = await ctx.api().file_content(object_id)
            attrs["sha256"] = hashlib.sha256(content).hexdigest()
        except ApiError as exc:
            if exc.status not in (400, 403, 405):
                raise
            if live.get("filename") != inst.attrs["filename"] or live.get("bytes") != inst.attrs["bytes"]:
                attrs["sha256"] = None  # unknown content: the next plan replaces it
                note = (f"the service refuses to download {object_id}, and its filename/size differ from "
                        f"{inst.attrs['source']}: the next plan replaces it")
            else:
                note = (f"the service refuses to download {object_id}; its filename and size match "
                        f"{inst.attrs['source']}, so its content is trusted to be the same")
        attrs.update({k: live.get(k) for k in ("filename", "purpose", "bytes")})
        return ResourceState(self.type, object_id, attrs=attrs, live=self.snapshot(live),
                             created_at=live.get("created_at")), note


register(FileDocument(), FileType())
