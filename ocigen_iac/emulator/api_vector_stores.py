"""Vector stores (management routes), vector store files, file batches and search.

A new store carries server keys in its metadata (model.SERVER_METADATA_KEYS); they count towards
the 16-key limit. Metadata update REPLACES the whole map with what is sent, so a client that does
not send the server keys back loses them (each such loss is counted per store and shown by
/_admin/objects under `store_server_keys`). Sending `metadata: null` clears it;
`expires_after: null` removes the expiry policy.

Data-plane routes (files, batches, search) do not see a store before it is ready: 404.
"""

from __future__ import annotations

import json
import time
from typing import Any

from . import model, search, validate
from .context import Ctx
from .errors import bad_request, not_found
from .listing import list_page
from .responses import JSONResponse
from .router import Route

VSF_FILTERS = ("in_progress", "completed", "failed", "cancelled")


def _wake(ctx: Ctx) -> None:
    ctx.emu.worker.wake()


def _name(value: Any) -> str | None:
    """Any string of 1..255 characters (no console-style character rule), or absent/null."""
    if value is not None and (not isinstance(value, str) or not 1 <= len(value) <= 255):
        raise bad_request("name must be a string of 1 to 255 characters", param="name")
    return value


def _server_keys_kept(metadata: dict[str, str] | None, server: dict[str, str]) -> bool:
    return all((metadata or {}).get(k) == v for k, v in server.items())


# -- stores --------------------------------------------------------------------------------------
async def create_store(ctx: Ctx) -> JSONResponse:
    emu = ctx.emu
    body = await ctx.json(allow_empty=True)
    validate.only_keys(body, {"name", "description", "file_ids", "chunking_strategy", "expires_after", "metadata"})
    name = _name(body.get("name"))
    desc = body.get("description")
    if desc is not None and (not isinstance(desc, str) or len(desc) > 512):
        raise bad_request("description must be a string of at most 512 characters", param="description")
    file_ids = validate.string_list(body.get("file_ids", []), "file_ids", 500)
    chunking = validate.chunking(body.get("chunking_strategy"))
    expires_after = validate.store_expiry(body.get("expires_after"))
    server = model.server_metadata()
    metadata = {**(validate.metadata(body.get("metadata")) or {}), **server}
    if len(metadata) > 16:
        raise bad_request(
            f"metadata may have at most 16 keys including the {len(server)} the server adds"
            f" ({', '.join(server)}); got {len(metadata)}",
            param="metadata",
        )
    model.check_files_exist(emu, file_ids, "file_ids")
    now = emu.now()
    ready_at = time.time() + emu.config.store_ready_delay_s
    vs_id = emu.new_id("vs")
    with emu.db.tx() as c:
        c.execute(
            "INSERT INTO vector_stores(id, name, description, created_at, last_active_at, expires_after,"
            " expires_at, metadata, ready_at, server_metadata, project) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                vs_id,
                name,
                desc,
                now,
                now,
                json.dumps(expires_after) if expires_after else None,
                now + expires_after["days"] * 86400 if expires_after else None,
                json.dumps(metadata),
                ready_at,
                json.dumps(server),
                ctx.request.headers.get("openai-project"),
            ],
        )
        model.attach(emu, c, vs_id, [(fid, None, chunking) for fid in file_ids], not_before=ready_at)
    _wake(ctx)
    return JSONResponse(model.store_obj(emu, model.get_store(emu, vs_id)))


async def list_stores(ctx: Ctx) -> JSONResponse:
    emu = ctx.emu
    return list_page(ctx, table="vector_stores", where="", params=[], key_where="id = ?",
                     render=lambda r: model.store_obj(emu, r))


async def get_store(ctx: Ctx) -> JSONResponse:
    return JSONResponse(model.store_obj(ctx.emu, model.get_store(ctx.emu, ctx.params["id"])))


async def update_store(ctx: Ctx) -> JSONResponse:
    emu = ctx.emu
    vs_id = ctx.params["id"]
    body = await ctx.json()
    validate.only_keys(body, {"name", "metadata", "expires_after"})
    row = model.get_store(emu, vs_id, usable=True)
    sets: list[str] = []
    args: list[Any] = []
    if "name" in body:
        sets.append("name = ?")
        args.append(_name(body["name"]))
    if "metadata" in body:
        md = validate.metadata(body["metadata"])
        sets.append("metadata = ?")
        args.append(None if md is None else json.dumps(md))
        server = json.loads(row["server_metadata"] or "{}")
        old = json.loads(row["metadata"] or "{}")
        if _server_keys_kept(old, server) and not _server_keys_kept(md, server):
            sets.append("server_keys_dropped = server_keys_dropped + 1")
    if "expires_after" in body:
        ea = validate.store_expiry(body["expires_after"])
        sets += ["expires_after = ?", "expires_at = ?"]
        args += [
            None if ea is None else json.dumps(ea),
            None if ea is None else (row["last_active_at"] or emu.now()) + ea["days"] * 86400,
        ]
    if sets:
        emu.db.run(f"UPDATE vector_stores SET {', '.join(sets)} WHERE id = ?", [*args, vs_id])
    return JSONResponse(model.store_obj(emu, model.get_store(emu, vs_id)))


async def delete_store(ctx: Ctx) -> JSONResponse:
    vs_id = ctx.params["id"]
    model.get_store(ctx.emu, vs_id)
    model.delete_store(ctx.emu, vs_id)
    return JSONResponse({"id": vs_id, "object": "vector_store.deleted", "deleted": True})


# -- vector store files --------------------------------------------------------------------------
async def attach_file(ctx: Ctx) -> JSONResponse:
    emu = ctx.emu
    vs_id = ctx.params["id"]
    body = await ctx.json()
    validate.only_keys(body, {"file_id", "attributes", "chunking_strategy"})
    fid = body.get("file_id")
    if not isinstance(fid, str) or not fid:
        raise bad_request("file_id is required", param="file_id")
    attributes = validate.attributes(body.get("attributes"))
    chunking = validate.chunking(body.get("chunking_strategy"))
    model.get_store(emu, vs_id, usable=True, data_plane=True)
    model.check_files_exist(emu, [fid], "file_id")
    with emu.db.tx() as c:
        model.attach(emu, c, vs_id, [(fid, attributes, chunking)])
    model.touch_store(emu, vs_id)
    _wake(ctx)
    return JSONResponse(model.vsf_obj(model.get_vsf(emu, vs_id, fid)))


def _status_filter(ctx: Ctx) -> str | None:
    f = ctx.q("filter")
    if f is not None and f not in VSF_FILTERS:
        raise bad_request(f"filter must be one of {', '.join(VSF_FILTERS)}", param="filter")
    return f


async def list_vsf(ctx: Ctx) -> JSONResponse:
    emu = ctx.emu
    vs_id = ctx.params["id"]
    model.get_store(emu, vs_id, data_plane=True)
    where, params = "vs_id = ?", [vs_id]
    status = _status_filter(ctx)
    if status:
        where += " AND status = ?"
        params.append(status)
    return list_page(ctx, table="vs_files", where=where, params=params, key_where="vs_id = ? AND file_id = ?",
                     key_params=[vs_id], render=model.vsf_obj)


async def get_vsf(ctx: Ctx) -> JSONResponse:
    model.get_store(ctx.emu, ctx.params["id"], data_plane=True)
    return JSONResponse(model.vsf_obj(model.get_vsf(ctx.emu, ctx.params["id"], ctx.params["file_id"])))


async def update_vsf(ctx: Ctx) -> JSONResponse:
    emu = ctx.emu
    vs_id, fid = ctx.params["id"], ctx.params["file_id"]
    body = await ctx.json()
    validate.only_keys(body, {"attributes"})
    if "attributes" not in body:
        raise bad_request("attributes is required (it may be null)", param="attributes")
    attributes = validate.attributes(body["attributes"])
    model.get_store(emu, vs_id, usable=True, data_plane=True)
    model.get_vsf(emu, vs_id, fid)
    emu.db.run(
        "UPDATE vs_files SET attributes = ? WHERE vs_id = ? AND file_id = ?",
        [None if attributes is None else json.dumps(attributes), vs_id, fid],
    )
    return JSONResponse(model.vsf_obj(model.get_vsf(emu, vs_id, fid)))


async def delete_vsf(ctx: Ctx) -> JSONResponse:
    vs_id, fid = ctx.params["id"], ctx.params["file_id"]
    model.get_store(ctx.emu, vs_id, data_plane=True)
    if not model.detach(ctx.emu, vs_id, fid):
        raise not_found("vector store file", fid)
    return JSONResponse({"id": fid, "object": "vector_store.file.deleted", "deleted": True})


# -- batches -------------------------------------------------------------------------------------
async def create_batch(ctx: Ctx) -> JSONResponse:
    emu = ctx.emu
    vs_id = ctx.params["id"]
    body = await ctx.json()
    if emu.config.file_ids_only_batches:  # older servers: file_ids is the only form
        if "file_ids" not in body:
            raise bad_request("body.file_ids: Field required", param="file_ids")
        validate.only_keys(body, {"file_ids", "attributes", "chunking_strategy"})
    validate.only_keys(body, {"file_ids", "files", "attributes", "chunking_strategy"})
    limit = emu.config.max_batch_files
    entries: list[tuple[str, dict[str, Any] | None, dict[str, Any]]] = []
    if ("file_ids" in body) == ("files" in body):
        raise bad_request("Provide exactly one of file_ids or files.", param="file_ids")
    if "file_ids" in body:
        ids = validate.string_list(body["file_ids"], "file_ids")
        attrs = validate.attributes(body.get("attributes"))
        chunking = validate.chunking(body.get("chunking_strategy"))
        entries = [(f, attrs, chunking) for f in ids]
        param = "file_ids"
    else:
        files = body["files"]
        if not isinstance(files, list):
            raise bad_request("files must be a list of {file_id, attributes?, chunking_strategy?}", param="files")
        for i, item in enumerate(files):
            if not isinstance(item, dict) or not isinstance(item.get("file_id"), str):
                raise bad_request(f"files[{i}].file_id is required", param="files")
            validate.only_keys(item, {"file_id", "attributes", "chunking_strategy"})
            entries.append(
                (
                    item["file_id"],
                    validate.attributes(item.get("attributes"), f"files[{i}].attributes"),
                    validate.chunking(item.get("chunking_strategy"), f"files[{i}].chunking_strategy"),
                )
            )
        param = "files"
    if not entries:
        raise bad_request(f"{param} must not be empty", param=param)
    if len(entries) > limit:
        raise bad_request(f"A file batch may hold at most {limit} files; got {len(entries)}.", param=param)
    model.get_store(emu, vs_id, usable=True, data_plane=True)
    model.check_files_exist(emu, [e[0] for e in entries], param)
    bid = emu.new_id("batch")
    with emu.db.tx() as c:
        c.execute("INSERT INTO batches(id, vs_id, created_at) VALUES (?, ?, ?)", [bid, vs_id, emu.now()])
        model.attach(emu, c, vs_id, entries, batch_id=bid)
    model.touch_store(emu, vs_id)
    _wake(ctx)
    return JSONResponse(model.batch_obj(emu, emu.db.one("SELECT * FROM batches WHERE id = ?", [bid])))


def _get_batch(ctx: Ctx) -> Any:
    vs_id = ctx.params["id"]
    model.get_store(ctx.emu, vs_id, data_plane=True)
    bid = ctx.params["batch_id"]
    row = ctx.emu.db.one("SELECT * FROM batches WHERE id = ? AND vs_id = ?", [bid, vs_id])
    if row is None:
        raise not_found("file batch", bid)
    return row


async def get_batch(ctx: Ctx) -> JSONResponse:
    return JSONResponse(model.batch_obj(ctx.emu, _get_batch(ctx)))


async def cancel_batch(ctx: Ctx) -> JSONResponse:
    emu = ctx.emu
    row = _get_batch(ctx)
    with emu.db.tx() as c:
        c.execute("UPDATE batches SET cancelled = 1 WHERE id = ?", [row["id"]])
        c.execute(
            "UPDATE vs_files SET status = 'cancelled' WHERE vs_id = ? AND status = 'in_progress'"
            " AND file_id IN (SELECT file_id FROM batch_files WHERE batch_id = ?)",
            [row["vs_id"], row["id"]],
        )
    return JSONResponse(model.batch_obj(emu, emu.db.one("SELECT * FROM batches WHERE id = ?", [row["id"]])))


async def list_batch_files(ctx: Ctx) -> JSONResponse:
    row = _get_batch(ctx)
    where = "v.vs_id = ? AND b.batch_id = ?"
    params: list[Any] = [row["vs_id"], row["id"]]
    status = _status_filter(ctx)
    if status:
        where += " AND v.status = ?"
        params.append(status)
    return list_page(ctx, table="vs_files v JOIN batch_files b ON b.vs_id = v.vs_id AND b.file_id = v.file_id",
                     where=where, params=params, key_where="v.vs_id = ? AND v.file_id = ?",
                     key_params=[row["vs_id"]], render=model.vsf_obj, cols="v.*", prefix="v.")


# -- search --------------------------------------------------------------------------------------
async def search_store(ctx: Ctx) -> JSONResponse:
    emu = ctx.emu
    vs_id = ctx.params["id"]
    body = await ctx.json()
    validate.only_keys(body, {"query", "max_num_results", "filters", "rewrite_query", "ranking_options"})
    raw = body.get("query")
    queries = [raw] if isinstance(raw, str) else raw
    if not isinstance(queries, list) or not all(isinstance(q, str) for q in queries) or not "".join(queries).strip():
        raise bad_request("query must be a non-empty string (or list of strings)", param="query")
    query = " ".join(queries)
    n = body.get("max_num_results", 10)
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 50:
        raise bad_request("max_num_results must be an integer in 1..50", param="max_num_results")
    filters = body.get("filters")
    if filters is not None:
        search.validate_filter(filters)
    model.get_store(emu, vs_id, usable=True, data_plane=True)
    model.touch_store(emu, vs_id)
    data = search.search(emu, vs_id, query, n, filters)
    threshold = (body.get("ranking_options") or {}).get("score_threshold")
    if isinstance(threshold, int | float):
        data = [d for d in data if d["score"] >= threshold]
    return JSONResponse(
        {
            "object": "vector_store.search_results.page",
            "search_query": queries,  # a list of strings, as in the spec
            "data": data,
            "has_more": False,
            "next_page": None,
        }
    )


ROUTES = [
    Route("POST", "/vector_stores", create_store, management=True, create=True),
    Route("GET", "/vector_stores", list_stores, management=True),
    Route("GET", "/vector_stores/{id}", get_store, management=True),
    Route("POST", "/vector_stores/{id}", update_store, management=True),
    Route("DELETE", "/vector_stores/{id}", delete_store, management=True),
    Route("POST", "/vector_stores/{id}/files", attach_file, create=True),
    Route("GET", "/vector_stores/{id}/files", list_vsf),
    Route("GET", "/vector_stores/{id}/files/{file_id}", get_vsf),
    Route("POST", "/vector_stores/{id}/files/{file_id}", update_vsf),
    Route("DELETE", "/vector_stores/{id}/files/{file_id}", delete_vsf),
    Route("POST", "/vector_stores/{id}/file_batches", create_batch, create=True),
    Route("GET", "/vector_stores/{id}/file_batches/{batch_id}", get_batch),
    Route("POST", "/vector_stores/{id}/file_batches/{batch_id}/cancel", cancel_batch),
    Route("GET", "/vector_stores/{id}/file_batches/{batch_id}/files", list_batch_files),
    Route("POST", "/vector_stores/{id}/search", search_store),
]
