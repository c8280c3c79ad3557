"""Files: multipart create (streamed to disk), list, retrieve, content, delete.

A new File is `uploaded` for `file_process_delay_s`, then `processed`. Its content cannot be
downloaded for purposes assistants and user_data unless `downloads_allowed` (OpenAI's rule)."""

from __future__ import annotations

import os
import time
from pathlib import PurePosixPath

from starlette.responses import FileResponse

from . import model
from .context import Ctx
from .errors import ApiError, bad_request
from .listing import list_page
from .responses import JSONResponse
from .router import Route
from .uploads import receive_multipart

PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
NO_DOWNLOAD_PURPOSES = ("assistants", "user_data")
_EXT_BY_PURPOSE = {
    "batch": {".jsonl"},
    "fine-tune": {".jsonl"},
    "evals": {".jsonl"},
    "vision": {".gif", ".jpeg", ".jpg", ".png", ".webp"},
}


def _expiry(fields: dict[str, str], now: int) -> int | None:
    anchor = fields.get("expires_after[anchor]")
    seconds = fields.get("expires_after[seconds]")
    if anchor is None and seconds is None:
        return None
    if anchor != "created_at":
        raise bad_request("expires_after[anchor] must be 'created_at'", param="expires_after")
    try:
        secs = int(seconds or "")
    except ValueError:
        raise bad_request("expires_after[seconds] must be an integer", param="expires_after") from None
    if not 3600 <= secs <= 2592000:
        raise bad_request("expires_after[seconds] must be in 3600..2592000", param="expires_after")
    return now + secs


async def create_file(ctx: Ctx) -> JSONResponse:
    emu = ctx.emu
    up = await receive_multipart(ctx, emu.tmp_path(), emu.config.max_file_bytes)
    try:
        if up.path is None:
            raise bad_request("A 'file' part (with a filename) is required.", param="file")
        purpose = up.fields.get("purpose")
        if purpose not in PURPOSES:
            raise bad_request(f"purpose must be one of {', '.join(PURPOSES)}; got {purpose!r}", param="purpose")
        ext = PurePosixPath(up.filename or "").suffix.lower()
        allowed = _EXT_BY_PURPOSE.get(purpose)
        if allowed and ext not in allowed:
            raise bad_request(
                f"Files with purpose '{purpose}' must be {' or '.join(sorted(allowed))}; got '{up.filename}'.",
                param="file",
                code="invalid_file_format",
            )
        if up.size == 0:
            raise bad_request("The file is empty.", param="file", code="empty_file")
        now = emu.now()
        expires_at = _expiry(up.fields, now)
        fid = emu.new_id("file")
        os.replace(up.path, emu.blob("files", fid))
        up.path = None
        emu.db.run(
            "INSERT INTO files(id, filename, purpose, bytes, created_at, expires_at, processed_at, project)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [fid, up.filename, purpose, up.size, now, expires_at, time.time() + emu.config.file_process_delay_s,
             ctx.request.headers.get("openai-project")],
        )
    finally:
        up.discard()
    return JSONResponse(model.file_obj(model.get_file(emu, fid)))


async def list_files(ctx: Ctx) -> JSONResponse:
    emu = ctx.emu
    where, params = "(expires_at IS NULL OR expires_at > ?)", [emu.now()]
    purpose = ctx.q("purpose")
    if purpose:
        where += " AND purpose = ?"
        params.append(purpose)
    return list_page(ctx, table="files", where=where, params=params, key_where="id = ?",
                     render=model.file_obj, default_limit=10000, max_limit=10000, with_before=False)


async def get_file(ctx: Ctx) -> JSONResponse:
    return JSONResponse(model.file_obj(model.get_file(ctx.emu, ctx.params["id"])))


async def file_content(ctx: Ctx) -> FileResponse:
    row = model.get_file(ctx.emu, ctx.params["id"])
    if row["purpose"] in NO_DOWNLOAD_PURPOSES and not ctx.emu.config.downloads_allowed:
        raise bad_request(f"Not allowed to download files of purpose: {row['purpose']}")
    path = ctx.emu.blob("files", row["id"])
    if not path.exists():
        raise ApiError(500, "File content is missing on the server.", code="server_error")
    return FileResponse(path, media_type="application/octet-stream", filename=row["filename"])


async def delete_file(ctx: Ctx) -> JSONResponse:
    fid = ctx.params["id"]
    model.get_file(ctx.emu, fid)
    model.delete_file(ctx.emu, fid)
    return JSONResponse({"id": fid, "object": "file", "deleted": True})


ROUTES = [
    Route("POST", "/files", create_file, create=True),
    Route("GET", "/files", list_files),
    Route("GET", "/files/{id}", get_file),
    Route("GET", "/files/{id}/content", file_content),
    Route("DELETE", "/files/{id}", delete_file),
]
