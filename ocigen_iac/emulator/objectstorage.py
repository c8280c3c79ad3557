"""The few OCI Object Storage routes the remote state backend needs, under /n:

GET /n/ (namespace as a JSON string), POST /n/{ns}/b/ (create bucket), GET|HEAD /n/{ns}/b/{bucket},
GET /n/{ns}/b/{bucket}/o (list), PUT|GET|HEAD|DELETE /n/{ns}/b/{bucket}/o/{object}.

ETags are strong (a new uuid per write). `If-Match: <etag>` and `If-None-Match: *` are honoured on
PUT (checked and applied atomically under the database lock), `If-Match` on GET/HEAD/DELETE, and
`If-None-Match: <etag>` on GET/HEAD answers 304. Failures are 412 with code IfMatchFailed or
IfNoneMatchFailed. Buckets are created on the first PUT. Bodies stream to disk.
Errors use the Object Storage shape {"code", "message"}; every response carries opc-request-id.
Auth: the same checks as the API (OCI signatures; Bearer API keys are accepted too, for tests).
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from starlette.responses import Response, StreamingResponse

from .context import Ctx
from .errors import OsError
from .responses import JSONResponse
from .router import Route


def _now_http() -> str:
    return format_datetime(datetime.now(UTC), usegmt=True)


def _ns(ctx: Ctx) -> str:
    ns = ctx.params["ns"]
    if ns != ctx.emu.config.os_namespace:
        raise OsError(
            404, "NamespaceNotFound", f"Either the namespace '{ns}' does not exist or you are not authorized."
        )
    return ns


def _strip(etag: str) -> str:
    etag = etag.strip()
    if etag.startswith("W/"):
        etag = etag[2:]
    return etag.strip('"')


def _bucket(ctx: Ctx, ns: str, name: str) -> Any:
    row = ctx.emu.db.one("SELECT * FROM os_buckets WHERE ns = ? AND name = ?", [ns, name])
    if row is None:
        raise OsError(
            404,
            "BucketNotFound",
            f"Either the bucket named '{name}' does not exist in the namespace '{ns}'"
            " or you are not authorized to access it",
        )
    return row


def _bucket_obj(row: Any) -> dict[str, Any]:
    return {
        "namespace": row["ns"],
        "name": row["name"],
        "compartmentId": row["compartment_id"],
        "timeCreated": row["created_at"],
        "etag": row["etag"],
        "createdBy": "emulator",
        "metadata": {},
        "publicAccessType": "NoPublicAccess",
        "storageTier": "Standard",
        "versioning": "Disabled",
        "objectEventsEnabled": False,
    }


async def get_namespace(ctx: Ctx) -> Response:
    return Response(json.dumps(ctx.emu.config.os_namespace), media_type="application/json")


async def create_bucket(ctx: Ctx) -> Response:
    ns = _ns(ctx)
    raw = await ctx.body(1024 * 1024)
    try:
        body = json.loads(raw or b"{}")
        name = body["name"]
    except (ValueError, KeyError, TypeError):
        raise OsError(400, "InvalidParameter", "The body must be JSON with a 'name'.") from None
    with ctx.emu.db.tx() as c:
        if c.execute("SELECT 1 FROM os_buckets WHERE ns = ? AND name = ?", [ns, name]).fetchone():
            raise OsError(409, "BucketAlreadyExists", f"Bucket '{name}' already exists in namespace '{ns}'.")
        c.execute(
            "INSERT INTO os_buckets(ns, name, compartment_id, created_at, etag) VALUES (?, ?, ?, ?, ?)",
            [ns, name, body.get("compartmentId"), datetime.now(UTC).isoformat(), str(uuid.uuid4())],
        )
    return JSONResponse(_bucket_obj(_bucket(ctx, ns, name)))


async def get_bucket(ctx: Ctx) -> Response:
    row = _bucket(ctx, _ns(ctx), ctx.params["bucket"])
    if ctx.request.method == "HEAD":
        return Response(status_code=200, headers={"etag": row["etag"]})
    return JSONResponse(_bucket_obj(row), headers={"etag": row["etag"]})


async def list_objects(ctx: Ctx) -> Response:
    ns = _ns(ctx)
    bucket = ctx.params["bucket"]
    _bucket(ctx, ns, bucket)
    prefix = ctx.q("prefix") or ""
    start = ctx.q("start") or ""
    try:
        limit = max(1, min(int(ctx.q("limit") or 1000), 1000))
    except ValueError:
        raise OsError(400, "InvalidParameter", "limit must be an integer") from None
    rows = ctx.emu.db.all(
        "SELECT * FROM os_objects WHERE ns = ? AND bucket = ? AND name >= ? AND substr(name, 1, ?) = ?"
        " ORDER BY name LIMIT ?",
        [ns, bucket, start, len(prefix), prefix, limit + 1],
    )
    objs = [
        {
            "name": r["name"],
            "size": r["size"],
            "md5": r["md5"],
            "etag": r["etag"],
            "timeCreated": r["modified_at"],
            "timeModified": r["modified_at"],
        }
        for r in rows[:limit]
    ]
    body: dict[str, Any] = {"objects": objs, "prefixes": []}
    if len(rows) > limit:
        body["nextStartWith"] = rows[limit]["name"]
    return JSONResponse(body)


def _obj_headers(row: Any) -> dict[str, str]:
    return {
        "etag": row["etag"],
        "content-md5": row["md5"],
        "last-modified": row["modified_at"],
        "content-type": row["content_type"] or "application/octet-stream",
        "accept-ranges": "bytes",
    }


async def put_object(ctx: Ctx) -> Response:
    emu = ctx.emu
    ns, bucket, name = _ns(ctx), ctx.params["bucket"], ctx.params["object"]
    if_match = ctx.request.headers.get("if-match")
    if_none = ctx.request.headers.get("if-none-match")
    if if_none is not None and if_none.strip() != "*":
        raise OsError(400, "InvalidParameter", "If-None-Match on PUT only supports '*'.")
    blob = emu.blob("objects", uuid.uuid4().hex)
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    try:
        with open(blob, "wb") as fh:
            async for chunk in ctx.request.stream():
                ctx.body_check.update(chunk)
                md5.update(chunk)
                size += len(chunk)
                fh.write(chunk)
        ctx.body_check.verify()
        etag = str(uuid.uuid4())
        old_blob = None
        with emu.db.tx() as c:
            cur = c.execute(
                "SELECT etag, blob FROM os_objects WHERE ns = ? AND bucket = ? AND name = ?",
                [ns, bucket, name],
            ).fetchone()
            if if_match is not None and (cur is None or _strip(if_match) != cur["etag"]):
                raise OsError(412, "IfMatchFailed", f"The If-Match precondition failed for object '{name}'.")
            if if_none is not None and cur is not None:
                raise OsError(412, "IfNoneMatchFailed", f"Object '{name}' already exists (If-None-Match: *).")
            if not c.execute("SELECT 1 FROM os_buckets WHERE ns = ? AND name = ?", [ns, bucket]).fetchone():
                c.execute(
                    "INSERT INTO os_buckets(ns, name, compartment_id, created_at, etag) VALUES (?, ?, NULL, ?, ?)",
                    [ns, bucket, datetime.now(UTC).isoformat(), str(uuid.uuid4())],
                )
            old_blob = cur["blob"] if cur else None
            c.execute(
                "INSERT OR REPLACE INTO os_objects(ns, bucket, name, etag, size, md5, content_type,"
                " modified_at, blob)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    ns,
                    bucket,
                    name,
                    etag,
                    size,
                    base64.b64encode(md5.digest()).decode(),
                    ctx.request.headers.get("content-type"),
                    _now_http(),
                    blob.name,
                ],
            )
    except BaseException:
        emu.unlink(blob)
        raise
    if old_blob:
        emu.unlink(emu.blob("objects", old_blob))
    return Response(
        status_code=200,
        headers={
            "etag": etag,
            "opc-content-md5": base64.b64encode(md5.digest()).decode(),
            "last-modified": _now_http(),
        },
    )


def _object(ctx: Ctx) -> Any:
    ns, bucket, name = _ns(ctx), ctx.params["bucket"], ctx.params["object"]
    row = ctx.emu.db.one("SELECT * FROM os_objects WHERE ns = ? AND bucket = ? AND name = ?", [ns, bucket, name])
    if row is None:
        _bucket(ctx, ns, bucket)
        raise OsError(404, "ObjectNotFound", f"The object '{name}' was not found in the bucket '{bucket}'")
    if_match = ctx.request.headers.get("if-match")
    if if_match is not None and _strip(if_match) != row["etag"]:
        raise OsError(412, "IfMatchFailed", f"The If-Match precondition failed for object '{name}'.")
    return row


async def get_object(ctx: Ctx) -> Response:
    row = _object(ctx)
    headers = _obj_headers(row)
    inm = ctx.request.headers.get("if-none-match")
    if inm is not None and (inm.strip() == "*" or _strip(inm) == row["etag"]):
        return Response(status_code=304, headers={"etag": row["etag"]})
    if ctx.request.method == "HEAD":
        headers["content-length"] = str(row["size"])
        return Response(status_code=200, headers=headers)
    path = ctx.emu.blob("objects", row["blob"])
    ctype = headers.pop("content-type")
    # Open now: a PUT replacing this object may unlink the blob while we stream it; an open
    # descriptor keeps the old bytes readable (the reader gets one consistent version).
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the generator
    except FileNotFoundError:
        return await get_object(ctx)  # replaced between the row read and the open: serve the new one

    def chunks():  # type: ignore[no-untyped-def]
        with fh:
            while block := fh.read(1 << 20):
                yield block

    headers["content-length"] = str(row["size"])
    return StreamingResponse(chunks(), headers=headers, media_type=ctype)


async def delete_object(ctx: Ctx) -> Response:
    emu = ctx.emu
    with emu.db.tx():
        row = _object(ctx)
        emu.db.run(
            "DELETE FROM os_objects WHERE ns = ? AND bucket = ? AND name = ?",
            [row["ns"], row["bucket"], row["name"]],
        )
    emu.unlink(emu.blob("objects", row["blob"]))
    return Response(status_code=204, headers={"last-modified": _now_http()})


ROUTES = [
    Route("GET", "/n/", get_namespace, family="os"),
    Route("GET", "/n", get_namespace, family="os"),
    Route("POST", "/n/{ns}/b/", create_bucket, family="os"),
    Route("POST", "/n/{ns}/b", create_bucket, family="os"),
    Route("GET", "/n/{ns}/b/{bucket}", get_bucket, family="os"),
    Route("HEAD", "/n/{ns}/b/{bucket}", get_bucket, family="os"),
    Route("GET", "/n/{ns}/b/{bucket}/o", list_objects, family="os"),
    Route("GET", "/n/{ns}/b/{bucket}/o/", list_objects, family="os"),
    Route("PUT", "/n/{ns}/b/{bucket}/o/{object:path}", put_object, family="os"),
    Route("GET", "/n/{ns}/b/{bucket}/o/{object:path}", get_object, family="os"),
    Route("HEAD", "/n/{ns}/b/{bucket}/o/{object:path}", get_object, family="os"),
    Route("DELETE", "/n/{ns}/b/{bucket}/o/{object:path}", delete_object, family="os"),
]
