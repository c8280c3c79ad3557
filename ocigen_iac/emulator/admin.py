"""/_admin routes: a loopback-only test and benchmark tool (no auth, never faulted, not counted).

GET|PUT /_admin/faults, GET /_admin/counters, POST /_admin/counters/reset, GET /_admin/objects,
POST /_admin/expire {container_id | vector_store_id | file_id}, POST /_admin/seed_files
{count, prefix, purpose, size} -> {"ids": [...]} (seeded files are processed at once),
GET /_admin/health.

/_admin/objects shows every object as the API renders it (in insertion order), `projects` (the
OpenAI-Project header each file, store and container was created with), plus
`store_server_keys`: per store id, the metadata keys the server added at create (`keys`), whether
the store's metadata still holds them unchanged (`present`) and how many updates dropped them
(`dropped`), so a test can prove a client preserved them.
"""

from __future__ import annotations

import json
from typing import Any

from . import model
from .config import Faults
from .context import Ctx
from .errors import bad_request
from .responses import JSONResponse
from .router import Route

MAX_SEED = 200_000


async def get_faults(ctx: Ctx) -> JSONResponse:
    return JSONResponse(ctx.emu.faults.faults.to_dict())


async def put_faults(ctx: Ctx) -> JSONResponse:
    body = await ctx.json(allow_empty=True)
    try:
        faults = Faults.from_dict(body)
    except (TypeError, ValueError) as exc:
        raise bad_request(str(exc)) from None
    ctx.emu.set_faults(faults)
    return JSONResponse(faults.to_dict())


async def counters(ctx: Ctx) -> JSONResponse:
    return JSONResponse(ctx.emu.counters.snapshot())


async def reset_counters(ctx: Ctx) -> JSONResponse:
    ctx.emu.counters.reset()
    return JSONResponse(ctx.emu.counters.snapshot())


async def health(ctx: Ctx) -> JSONResponse:
    return JSONResponse({"ok": True})


def all_objects(emu: Any) -> dict[str, list[dict[str, Any]]]:
    model.sweep(emu)
    db = emu.db
    stores = db.all("SELECT * FROM vector_stores ORDER BY seq")
    return {
        "files": [model.file_obj(r) for r in db.all("SELECT * FROM files ORDER BY seq")],
        "vector_stores": [model.store_obj(emu, r) for r in stores],
        "store_server_keys": {r["id"]: _server_keys(r) for r in stores},
        "vector_store_files": [model.vsf_obj(r) for r in db.all("SELECT * FROM vs_files ORDER BY seq")],
        "file_batches": [model.batch_obj(emu, r) for r in db.all("SELECT * FROM batches ORDER BY seq")],
        "containers": [model.container_obj(r) for r in db.all("SELECT * FROM containers ORDER BY seq")],
        "container_files": [model.cfile_obj(r) for r in db.all("SELECT * FROM container_files ORDER BY seq")],
        # the OpenAI-Project header each file, store and container was created with
        "projects": {r["id"]: r["project"] for t in ("files", "vector_stores", "containers")
                     for r in db.all(f"SELECT id, project FROM {t} ORDER BY seq")},
        "objects": [
            {
                "namespace": r["ns"],
                "bucket": r["bucket"],
                "name": r["name"],
                "etag": r["etag"],
                "size": r["size"],
            }
            for r in db.all("SELECT * FROM os_objects ORDER BY ns, bucket, name")
        ],
    }


def _server_keys(row: Any) -> dict[str, Any]:
    keys = json.loads(row["server_metadata"] or "{}")
    metadata = json.loads(row["metadata"] or "{}")
    return {
        "keys": keys,
        "present": all(metadata.get(k) == v for k, v in keys.items()),
        "dropped": row["server_keys_dropped"],
    }


async def objects(ctx: Ctx) -> JSONResponse:
    return JSONResponse(all_objects(ctx.emu))


async def expire(ctx: Ctx) -> JSONResponse:
    emu = ctx.emu
    body = await ctx.json()
    if "container_id" in body:
        model.get_container(emu, body["container_id"])
        model.expire_container(emu, body["container_id"])
        return JSONResponse(model.container_obj(model.get_container(emu, body["container_id"])))
    if "vector_store_id" in body:
        model.get_store(emu, body["vector_store_id"])
        model.expire_store(emu, body["vector_store_id"])
        return JSONResponse(model.store_obj(emu, model.get_store(emu, body["vector_store_id"])))
    if "file_id" in body:
        model.get_file(emu, body["file_id"])
        model.delete_file(emu, body["file_id"])
        return JSONResponse({"id": body["file_id"], "expired": True})
    raise bad_request("Send container_id, vector_store_id or file_id.")


async def seed_files(ctx: Ctx) -> JSONResponse:
    """Bulk-create small text files straight into the database (benchmarks)."""
    emu = ctx.emu
    body = await ctx.json()
    count = body.get("count")
    if not isinstance(count, int) or not 1 <= count <= MAX_SEED:
        raise bad_request(f"count must be an integer in 1..{MAX_SEED}", param="count")
    prefix = str(body.get("prefix", "seed-"))
    purpose = str(body.get("purpose", "assistants"))
    size = body.get("size", 64)
    if not isinstance(size, int) or not 1 <= size <= 1_000_000:
        raise bad_request("size must be an integer in 1..1000000", param="size")
    now = emu.now()
    rows = []
    for i in range(count):
        fid = emu.new_id("file")
        words = f"{prefix}{i} seeded emulator file number {i} " * (size // 16 + 1)
        data = words.encode()[:size]
        emu.blob("files", fid).write_bytes(data)
        rows.append((fid, f"{prefix}{i}.txt", purpose, len(data), now, None))
    with emu.db.tx() as c:
        c.executemany(
            "INSERT INTO files(id, filename, purpose, bytes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
    return JSONResponse({"ids": [r[0] for r in rows]})


ROUTES = [
    Route("GET", "/_admin/faults", get_faults, family="admin"),
    Route("PUT", "/_admin/faults", put_faults, family="admin"),
    Route("GET", "/_admin/counters", counters, family="admin"),
    Route("POST", "/_admin/counters/reset", reset_counters, family="admin"),
    Route("GET", "/_admin/objects", objects, family="admin"),
    Route("POST", "/_admin/expire", expire, family="admin"),
    Route("POST", "/_admin/seed_files", seed_files, family="admin"),
    Route("GET", "/_admin/health", health, family="admin"),
]
