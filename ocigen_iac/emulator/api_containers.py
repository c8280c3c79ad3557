"""Containers and container files. Containers cannot be updated; any container operation (retrieve,
and every container-file call) refreshes `last_active_at`, listing containers does not. After 20
idle minutes a container turns `expired`, its files are discarded and it cannot be reactivated
(file operations then answer 400 `container_expired`; retrieve and list still show it). The
client's `expires_after` is validated and ignored (OCI's fixed 20 minutes) unless
`container_expiry_honoured`. A container file's path is /mnt/data/<hex8>-<filename> unless
`plain_container_paths`."""

from __future__ import annotations

import os
import shutil
from typing import Any

from starlette.responses import FileResponse

from . import model, validate
from .context import Ctx
from .errors import bad_request, not_found
from .listing import list_page
from .responses import JSONResponse
from .router import Route
from .uploads import receive_multipart

MEMORY_LIMITS = ("1g", "4g", "16g", "64g")


def _copy_blob(src: Any, dst: Any) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


async def create_container(ctx: Ctx) -> JSONResponse:
    emu = ctx.emu
    body = await ctx.json()
    validate.only_keys(body, {"name", "memory_limit", "expires_after", "file_ids", "network_policy", "skills"})
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise bad_request("name is required", param="name")
    if body.get("network_policy") is not None or body.get("skills") is not None:
        raise bad_request("Skills and Network Policies aren't supported.", param="network_policy")
    mem = body.get("memory_limit") or "1g"
    if mem not in MEMORY_LIMITS:
        raise bad_request(f"memory_limit must be one of {', '.join(MEMORY_LIMITS)}", param="memory_limit")
    asked = validate.container_expiry(body.get("expires_after"))
    minutes = (asked if emu.config.container_expiry_honoured else None) or model.DEFAULT_CONTAINER_MINUTES
    file_ids = validate.string_list(body.get("file_ids", []), "file_ids")
    model.check_files_exist(emu, file_ids, "file_ids")
    now = emu.now()
    cid = emu.new_id("container")
    copies = []
    with emu.db.tx() as c:
        c.execute(
            "INSERT INTO containers(id, name, created_at, last_active_at, expires_minutes, memory_limit, project)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [cid, name, now, now, minutes, mem, ctx.request.headers.get("openai-project")],
        )
        for fid in dict.fromkeys(file_ids):
            f = model.get_file(emu, fid)
            cf = emu.new_id("cfile")
            c.execute(
                "INSERT INTO container_files(id, container_id, filename, path, bytes, created_at, source)"
                " VALUES (?, ?, ?, ?, ?, ?, 'user')",
                [cf, cid, f["filename"], model.container_path(emu, cf, f["filename"]), f["bytes"], now],
            )
            copies.append((emu.blob("files", fid), emu.blob("cfiles", cf)))
    for src, dst in copies:
        _copy_blob(src, dst)
    return JSONResponse(model.container_obj(model.get_container(emu, cid)))


async def list_containers(ctx: Ctx) -> JSONResponse:
    emu = ctx.emu
    where, params = "", []
    name = ctx.q("name")
    if name is not None:
        where, params = "name = ?", [name]
    return list_page(ctx, table="containers", where=where, params=params, key_where="id = ?",
                     render=lambda r: model.container_obj(model.refresh_container(emu, r)), with_before=False)


async def get_container(ctx: Ctx) -> JSONResponse:
    return JSONResponse(model.container_obj(model.get_container(ctx.emu, ctx.params["id"], touch=True)))


async def delete_container(ctx: Ctx) -> JSONResponse:
    cid = ctx.params["id"]
    model.get_container(ctx.emu, cid)
    model.delete_container(ctx.emu, cid)
    return JSONResponse({"id": cid, "object": "container.deleted", "deleted": True})


# -- container files -----------------------------------------------------------------------------
def _insert_cfile(ctx: Ctx, cid: str, cf: str, filename: str, size: int) -> JSONResponse:
    emu = ctx.emu
    emu.db.run(
        "INSERT INTO container_files(id, container_id, filename, path, bytes, created_at, source)"
        " VALUES (?, ?, ?, ?, ?, ?, 'user')",
        [cf, cid, filename, model.container_path(emu, cf, filename), size, emu.now()],
    )
    return JSONResponse(model.cfile_obj(_get_cfile(ctx, cid, cf)))


async def create_cfile(ctx: Ctx) -> JSONResponse:
    emu = ctx.emu
    cid = ctx.params["id"]
    model.get_container(emu, cid, usable=True, touch=True)
    ctype = ctx.request.headers.get("content-type", "")
    cf = emu.new_id("cfile")
    if ctype.startswith("multipart/form-data"):
        up = await receive_multipart(ctx, emu.tmp_path(), emu.config.max_file_bytes)
        try:
            if up.path is None or not up.filename:
                raise bad_request("A 'file' part (with a filename) is required.", param="file")
            os.replace(up.path, emu.blob("cfiles", cf))
            up.path = None
        finally:
            up.discard()
        return _insert_cfile(ctx, cid, cf, up.filename, up.size)
    body = await ctx.json()
    validate.only_keys(body, {"file_id"})
    fid = body.get("file_id")
    if not isinstance(fid, str) or not fid:
        raise bad_request("Send a multipart 'file' or a JSON body with file_id.", param="file_id")
    f = model.get_file(emu, fid)
    _copy_blob(emu.blob("files", fid), emu.blob("cfiles", cf))
    return _insert_cfile(ctx, cid, cf, f["filename"], f["bytes"])


def _get_cfile(ctx: Ctx, cid: str, cf: str) -> Any:
    row = ctx.emu.db.one("SELECT * FROM container_files WHERE id = ? AND container_id = ?", [cf, cid])
    if row is None:
        raise not_found("container file", cf)
    return row


async def list_cfiles(ctx: Ctx) -> JSONResponse:
    emu = ctx.emu
    cid = ctx.params["id"]
    model.get_container(emu, cid, usable=True, touch=True)
    return list_page(ctx, table="container_files", where="container_id = ?", params=[cid], key_where="id = ?",
                     render=model.cfile_obj, with_before=False)


async def get_cfile(ctx: Ctx) -> JSONResponse:
    cid = ctx.params["id"]
    model.get_container(ctx.emu, cid, usable=True, touch=True)
    return JSONResponse(model.cfile_obj(_get_cfile(ctx, cid, ctx.params["file_id"])))


async def cfile_content(ctx: Ctx) -> FileResponse:
    cid = ctx.params["id"]
    model.get_container(ctx.emu, cid, usable=True, touch=True)
    row = _get_cfile(ctx, cid, ctx.params["file_id"])
    return FileResponse(ctx.emu.blob("cfiles", row["id"]), media_type="application/octet-stream")


async def delete_cfile(ctx: Ctx) -> JSONResponse:
    emu = ctx.emu
    cid, cf = ctx.params["id"], ctx.params["file_id"]
    model.get_container(emu, cid, usable=True, touch=True)
    _get_cfile(ctx, cid, cf)
    emu.db.run("DELETE FROM container_files WHERE id = ?", [cf])
    emu.unlink(emu.blob("cfiles", cf))
    return JSONResponse({"id": cf, "object": "container.file.deleted", "deleted": True})


ROUTES = [
    Route("POST", "/containers", create_container, create=True),
    Route("GET", "/containers", list_containers),
    Route("GET", "/containers/{id}", get_container),
    Route("DELETE", "/containers/{id}", delete_container),
    Route("POST", "/containers/{id}/files", create_cfile, create=True),
    Route("GET", "/containers/{id}/files", list_cfiles),
    Route("GET", "/containers/{id}/files/{file_id}", get_cfile),
    Route("GET", "/containers/{id}/files/{file_id}/content", cfile_content),
    Route("DELETE", "/containers/{id}/files/{file_id}", delete_cfile),
]
