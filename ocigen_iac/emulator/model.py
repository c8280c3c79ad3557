"""Resource semantics shared by several routes: rendering rows as API objects (with true status,
file_counts, usage_bytes), attaching/detaching files, deleting files, readiness, and expiry.

Readiness (wall-clock times stored with the row, so a restart keeps them):
- a File is `uploaded` until `processed_at`, then `processed`; attaching it earlier is accepted and
  the attachment ends `failed` (invalid_file, "still being processed");
- a Vector store is `in_progress` until `ready_at`; the data plane (its files, batches, search)
  answers 404 until `ready_at + store_visibility_lag_s`.

Expiry is evaluated lazily on every read (`refresh_*`) and eagerly by the background sweeper:
- a File with expires_at <= now disappears (row, blob and every attachment);
- a Vector store whose expires_at passed turns `expired` and loses its attachments (as OpenAI does);
  the store object stays visible with status "expired";
- a Container idle for expires_after.minutes turns `expired` and loses its files; it stays visible.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
import uuid
from typing import TYPE_CHECKING, Any

import orjson

from .errors import ApiError, not_found

if TYPE_CHECKING:
    from .core import Emulator

AUTO_CHUNKING = {"type": "static", "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}}
DEFAULT_CONTAINER_MINUTES = 20
# Keys the server adds to every new store's metadata (as OCI and other servers do); they count
# towards the 16-key limit, and an update that replaces the metadata without them loses them.
SERVER_METADATA_KEYS = ("oci_embedding_model", "oci_index_id")
EMBEDDING_MODEL = "cohere.embed-v4.0"


def _j(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _server_json(text: str | None) -> Any:
    """A column the emulator wrote itself (chunking, last_error): orjson, as a list page decodes
    two per row. Not for what a client sent: orjson reads an integer past 64 bits as a float."""
    return None if text is None else orjson.loads(text)


# -- files ---------------------------------------------------------------------------------------
def file_obj(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "file",
        "bytes": row["bytes"],
        "created_at": row["created_at"],
        "expires_at": row["expires_at"],
        "filename": row["filename"],
        "purpose": row["purpose"],
        "status": "processed" if file_processed(row) else "uploaded",
        "status_details": None,
    }


def file_processed(row: sqlite3.Row) -> bool:
    return bool(time.time() >= row["processed_at"])


def still_processing_error(file_id: str) -> dict[str, str]:
    return {
        "code": "invalid_file",
        "message": f"File {file_id} is still being processed; attach it once its status is 'processed'.",
    }


def get_file(emu: Emulator, file_id: str) -> sqlite3.Row:
    row = emu.db.one("SELECT * FROM files WHERE id = ?", [file_id])
    if row is None or (row["expires_at"] is not None and row["expires_at"] <= emu.now()):
        raise not_found("file", file_id)
    return row


def delete_file(emu: Emulator, file_id: str) -> None:
    """Delete a File, its blob and its attachments to every vector store (and their chunks)."""
    with emu.db.tx() as c:
        for r in c.execute("SELECT vs_id FROM vs_files WHERE file_id = ?", [file_id]).fetchall():
            _drop_attachment(c, r["vs_id"], file_id)
        # a batch stops counting a lost attachment of a deleted File, as it does a live one
        c.execute("UPDATE batch_files SET lost = 0 WHERE file_id = ? AND lost = 1", [file_id])
        c.execute("DELETE FROM files WHERE id = ?", [file_id])
    emu.unlink(emu.blob("files", file_id))


# -- vector stores -------------------------------------------------------------------------------
def _drop_attachment(c: sqlite3.Connection, vs_id: str, file_id: str) -> None:
    c.execute(
        "DELETE FROM postings WHERE chunk_id IN (SELECT id FROM chunks WHERE vs_id = ? AND file_id = ?)",
        [vs_id, file_id],
    )
    c.execute("DELETE FROM chunks WHERE vs_id = ? AND file_id = ?", [vs_id, file_id])
    c.execute("DELETE FROM vs_files WHERE vs_id = ? AND file_id = ?", [vs_id, file_id])


def detach(emu: Emulator, vs_id: str, file_id: str) -> bool:
    with emu.db.tx() as c:
        if c.execute("SELECT 1 FROM vs_files WHERE vs_id = ? AND file_id = ?", [vs_id, file_id]).fetchone():
            _drop_attachment(c, vs_id, file_id)
            return True
    return False


def _purge_store_contents(c: sqlite3.Connection, vs_id: str) -> None:
    c.execute("DELETE FROM postings WHERE vs_id = ?", [vs_id])
    c.execute("DELETE FROM chunks WHERE vs_id = ?", [vs_id])
    c.execute("DELETE FROM vs_files WHERE vs_id = ?", [vs_id])
    c.execute("DELETE FROM batch_files WHERE vs_id = ?", [vs_id])
    c.execute("DELETE FROM batches WHERE vs_id = ?", [vs_id])
    c.execute("DELETE FROM vs_counts WHERE vs_id = ?", [vs_id])


def delete_store(emu: Emulator, vs_id: str) -> None:
    with emu.db.tx() as c:
        _purge_store_contents(c, vs_id)
        c.execute("DELETE FROM vector_stores WHERE id = ?", [vs_id])


def refresh_store(emu: Emulator, row: sqlite3.Row) -> sqlite3.Row:
    """Expire the store if its time has come; returns the current row."""
    if not row["expired"] and row["expires_at"] is not None and row["expires_at"] <= emu.now():
        expire_store(emu, row["id"])
        row = emu.db.one("SELECT * FROM vector_stores WHERE id = ?", [row["id"]]) or row
    return row


def expire_store(emu: Emulator, vs_id: str) -> None:
    with emu.db.tx() as c:
        c.execute(
            "UPDATE vector_stores SET expired = 1, expires_at = MIN(COALESCE(expires_at, ?), ?) WHERE id = ?",
            [emu.now(), emu.now(), vs_id],
        )
        _purge_store_contents(c, vs_id)


def get_store(emu: Emulator, vs_id: str, *, usable: bool = False, data_plane: bool = False) -> sqlite3.Row:
    """`data_plane`: the caller is a data-plane route, which cannot see a store that is not ready."""
    row = emu.db.one("SELECT * FROM vector_stores WHERE id = ?", [vs_id])
    if row is None or (data_plane and time.time() < row["ready_at"] + emu.config.store_visibility_lag_s):
        raise not_found("vector store", vs_id)
    row = refresh_store(emu, row)
    if usable and row["expired"]:
        raise ApiError(400, f"Vector store '{vs_id}' has expired.", code="vector_store_expired")
    return row


def server_metadata() -> dict[str, str]:
    return {"oci_embedding_model": EMBEDDING_MODEL, "oci_index_id": str(uuid.uuid4())}


def touch_store(emu: Emulator, vs_id: str) -> None:
    """Mark activity: last_active_at = now and expires_at moves with it."""
    row = emu.db.one("SELECT expires_after FROM vector_stores WHERE id = ?", [vs_id])
    if row is None:
        return
    now = emu.now()
    ea = _j(row["expires_after"])
    exp = now + int(ea["days"]) * 86400 if ea else None
    emu.db.run(
        "UPDATE vector_stores SET last_active_at = ?, expires_at = ? WHERE id = ? AND expired = 0",
        [now, exp, vs_id],
    )


def file_counts(emu: Emulator, where: str, params: list[Any]) -> tuple[dict[str, int], int]:
    """Counts over an arbitrary subset of a store's files (used for batches)."""
    return _counts(
        emu.db.all(
            f"SELECT status, COUNT(*) n, SUM(usage_bytes) bytes FROM vs_files WHERE {where} GROUP BY status",
            params,
        )
    )


def store_counts(emu: Emulator, vs_id: str) -> tuple[dict[str, int], int]:
    """O(1): read the trigger-maintained vs_counts table."""
    return _counts(emu.db.all("SELECT status, n, bytes FROM vs_counts WHERE vs_id = ? AND n > 0", [vs_id]))


def _counts(rows: list[Any]) -> tuple[dict[str, int], int]:
    counts = {"in_progress": 0, "completed": 0, "failed": 0, "cancelled": 0, "total": 0}
    usage = 0
    for r in rows:
        counts[r["status"]] = r["n"]
        counts["total"] += r["n"]
        if r["status"] == "completed":
            usage = r["bytes"] or 0
    return counts, usage


def store_obj(emu: Emulator, row: sqlite3.Row) -> dict[str, Any]:
    row = refresh_store(emu, row)
    counts, usage = store_counts(emu, row["id"])
    if row["expired"]:
        status = "expired"
    elif counts["in_progress"] or time.time() < row["ready_at"]:
        status = "in_progress"
    else:
        status = "completed"
    return {
        "id": row["id"],
        "object": "vector_store",
        "created_at": row["created_at"],
        "name": row["name"],
        "description": row["description"],
        "usage_bytes": usage,
        "file_counts": counts,
        "status": status,
        "expires_after": _j(row["expires_after"]),
        "expires_at": row["expires_at"],
        "last_active_at": row["last_active_at"],
        "metadata": _j(row["metadata"]) or {},
    }


def vsf_obj(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["file_id"],
        "object": "vector_store.file",
        "usage_bytes": row["usage_bytes"],
        "created_at": row["created_at"],
        "vector_store_id": row["vs_id"],
        "status": row["status"],
        "last_error": _server_json(row["last_error"]),
        "chunking_strategy": _server_json(row["chunking"]),
        "attributes": _j(row["attributes"]),
    }


def get_vsf(emu: Emulator, vs_id: str, file_id: str) -> sqlite3.Row:
    row = emu.db.one("SELECT * FROM vs_files WHERE vs_id = ? AND file_id = ?", [vs_id, file_id])
    if row is None:
        raise not_found("vector store file", file_id)
    return row


def _ids_in(c: sqlite3.Connection, sql: str, head: list[Any], ids: list[str]) -> set[str]:
    """Run `sql` (whose last placeholder list is written `({q})`) over ids in chunks of 500."""
    out: set[str] = set()
    for i in range(0, len(ids), 500):
        part = ids[i : i + 500]
        out |= {r[0] for r in c.execute(sql.format(q=",".join("?" * len(part))), [*head, *part])}
    return out


def attach(
    emu: Emulator,
    c: sqlite3.Connection,
    vs_id: str,
    entries: list[tuple[str, dict[str, Any] | None, dict[str, Any]]],
    batch_id: str | None = None,
    not_before: float = 0.0,
) -> None:
    """Attach (file_id, attributes, chunking) entries inside an open transaction, in bulk.
    Idempotent: an existing attachment is kept as it is (and joins the batch). A File that is not
    yet processed is attached with a pending error (it ends `failed`). Ingestion starts no earlier
    than `not_before` (a new store's ready time)."""
    ids = [e[0] for e in entries]
    existing = _ids_in(c, "SELECT file_id FROM vs_files WHERE vs_id = ? AND file_id IN ({q})", [vs_id], ids)
    unprocessed = _ids_in(c, "SELECT id FROM files WHERE processed_at > ? AND id IN ({q})", [time.time()], ids)
    now, ready = emu.now(), max(time.time() + emu.ingest_delay(), not_before)
    rows = []
    for fid, attributes, chunking in entries:
        if fid in existing:
            continue
        existing.add(fid)
        pending = still_processing_error(fid) if fid in unprocessed else None
        rows.append(
            (
                vs_id,
                fid,
                now,
                json.dumps(chunking),
                None if attributes is None else json.dumps(attributes),
                ready,
                1 if emu.faults.ingest_fails(vs_id, fid) else 0,
                None if pending is None else json.dumps(pending),
                1 if emu.faults.attach_lost() else 0,
            )
        )
    c.executemany(
        "INSERT INTO vs_files(vs_id, file_id, created_at, status, usage_bytes, chunking, attributes,"
        " ready_at, fail_injected, pending_error, lose_injected) VALUES (?, ?, ?, 'in_progress', 0, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    # an attachment lost earlier and attached again is live again for every batch that held it
    c.executemany("UPDATE batch_files SET lost = 0 WHERE vs_id = ? AND file_id = ? AND lost = 1",
                  [(vs_id, r[1]) for r in rows])
    if batch_id is not None:
        c.executemany(
            "INSERT OR IGNORE INTO batch_files(batch_id, vs_id, file_id) VALUES (?, ?, ?)",
            [(batch_id, vs_id, fid) for fid in dict.fromkeys(ids)],
        )


def check_files_exist(emu: Emulator, file_ids: list[str], param: str) -> None:
    """All-or-nothing: every id must name a live File, else 404 for the whole request."""
    now = emu.now()
    live = "SELECT id FROM files WHERE (expires_at IS NULL OR expires_at > ?) AND id IN ({q})"
    with emu.db.lock:
        found = _ids_in(emu.db.conn, live, [now], file_ids)
    missing = [f for f in file_ids if f not in found]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise not_found("file", missing[0], param=param, suffix=f"{more}; nothing was attached")


# -- batches -------------------------------------------------------------------------------------
def batch_obj(emu: Emulator, row: sqlite3.Row) -> dict[str, Any]:
    counts, _ = file_counts(
        emu,
        "vs_id = ? AND file_id IN (SELECT file_id FROM batch_files WHERE batch_id = ?)",
        [row["vs_id"], row["id"]],
    )
    # attachments lost after they completed (fault rate_attach_lost): the batch still counts them
    lost = emu.db.one("SELECT COUNT(*) n FROM batch_files WHERE batch_id = ? AND lost = 1", [row["id"]])
    if lost is not None and lost["n"]:
        counts["completed"] += lost["n"]
        counts["total"] += lost["n"]
    if row["cancelled"]:
        status = "cancelled"
    elif counts["in_progress"]:
        status = "in_progress"
    elif counts["total"] and counts["failed"] == counts["total"]:
        status = "failed"
    else:
        status = "completed"
    return {
        "id": row["id"],
        "object": "vector_store.files_batch",
        "created_at": row["created_at"],
        "vector_store_id": row["vs_id"],
        "status": status,
        "file_counts": counts,
    }


# -- containers ----------------------------------------------------------------------------------
def refresh_container(emu: Emulator, row: sqlite3.Row) -> sqlite3.Row:
    if not row["expired"] and row["last_active_at"] + row["expires_minutes"] * 60 <= emu.now():
        expire_container(emu, row["id"])
        row = emu.db.one("SELECT * FROM containers WHERE id = ?", [row["id"]]) or row
    return row


def expire_container(emu: Emulator, cid: str) -> None:
    with emu.db.tx() as c:
        ids = [r["id"] for r in c.execute("SELECT id FROM container_files WHERE container_id = ?", [cid])]
        c.execute("DELETE FROM container_files WHERE container_id = ?", [cid])
        c.execute("UPDATE containers SET expired = 1 WHERE id = ?", [cid])
    for i in ids:
        emu.unlink(emu.blob("cfiles", i))


def get_container(emu: Emulator, cid: str, *, usable: bool = False, touch: bool = False) -> sqlite3.Row:
    row = emu.db.one("SELECT * FROM containers WHERE id = ?", [cid])
    if row is None:
        raise not_found("container", cid)
    row = refresh_container(emu, row)
    if usable and row["expired"]:
        raise ApiError(400, f"Container '{cid}' has expired and cannot be reactivated.", code="container_expired")
    if touch and not row["expired"]:
        emu.db.run("UPDATE containers SET last_active_at = ? WHERE id = ?", [emu.now(), cid])
        row = emu.db.one("SELECT * FROM containers WHERE id = ?", [cid]) or row
    return row


def container_obj(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "container",
        "name": row["name"],
        "created_at": row["created_at"],
        "status": "expired" if row["expired"] else "running",
        "last_active_at": row["last_active_at"],
        "expires_after": {"anchor": "last_active_at", "minutes": row["expires_minutes"]},
        "memory_limit": row["memory_limit"],
    }


def container_path(emu: Emulator, cfile_id: str, filename: str) -> str:
    """Where a container file lives: /mnt/data/<hex8>-<filename> (the spec's example shape)."""
    if emu.config.plain_container_paths:
        return f"/mnt/data/{filename}"
    return f"/mnt/data/{hashlib.sha256(cfile_id.encode()).hexdigest()[:8]}-{filename}"


def cfile_obj(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "container.file",
        "container_id": row["container_id"],
        "created_at": row["created_at"],
        "bytes": row["bytes"],
        "path": row["path"],
        "source": row["source"],
    }


def delete_container(emu: Emulator, cid: str) -> None:
    with emu.db.tx() as c:
        ids = [r["id"] for r in c.execute("SELECT id FROM container_files WHERE container_id = ?", [cid])]
        c.execute("DELETE FROM container_files WHERE container_id = ?", [cid])
        c.execute("DELETE FROM containers WHERE id = ?", [cid])
    for i in ids:
        emu.unlink(emu.blob("cfiles", i))


# -- sweeping ------------------------------------------------------------------------------------
def sweep(emu: Emulator) -> None:
    """Apply every expiry that is due. Bounded: at most 1000 objects of each kind per sweep."""
    now = emu.now()
    for r in emu.db.all("SELECT id FROM files WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT 1000", [now]):
        delete_file(emu, r["id"])
    for r in emu.db.all(
        "SELECT id FROM vector_stores WHERE expired = 0 AND expires_at IS NOT NULL AND expires_at <= ? LIMIT 1000",
        [now],
    ):
        expire_store(emu, r["id"])
    for r in emu.db.all(
        "SELECT id FROM containers WHERE expired = 0 AND last_active_at + expires_minutes * 60 <= ? LIMIT 1000",
        [now],
    ):
        expire_container(emu, r["id"])
