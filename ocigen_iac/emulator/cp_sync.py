"""Vector store connector file syncs: one run reads the emulator's Object Storage objects under the
connector's buckets and prefixes and makes the connector's vector store hold them.

A sync is ACCEPTED, then (after the control-plane delay) `start` compares the objects with what
the connector synced before (`cp_connector_objects`):
- a new object becomes a File (purpose "assistants", filename = the object name) attached to the
  store; the existing ingestion worker chunks and indexes it, so search finds it;
- an object whose content changed (md5 or size) replaces its File; an object re-written with the
  same bytes (new etag, same md5) is "metadataUpdated" and is not re-ingested;
- a tracked object that no longer exists (or left the connector's scope) loses its File;
- an unchanged object (same etag) is "ignored", unless its File was deleted or detached from the
  store meanwhile: then it is ingested again (counted as created).
The sync is IN_PROGRESS until every attachment it made has left `in_progress`, then SUCCEEDED.
An ingestion failure does not fail the sync: the file's log says FAILED and the stats count it
as `unsupported` (ingestion error `unsupported_file`) or `failed`. The sync itself FAILS only when
it cannot run (vector store, namespace or bucket missing); lifecycleDetails says why.
Cancelling (CANCELING -> CANCELED) cancels the run's pending attachments and forgets those
objects, so the next sync ingests them again.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from collections import Counter
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from . import model
from .cp_common import finish_work_request, j, ts

if TYPE_CHECKING:
    from .core import Emulator

STAT_KEYS = ("created", "updated", "deleted", "metadataUpdated", "ignored", "unsupported", "inProgress", "failed")
TALLY_KEYS = ("deleted", "metadataUpdated", "ignored")
PENDING = ("QUEUED", "IN_PROGRESS")
_VSF_STATUS = {"completed": "COMPLETED", "failed": "FAILED", "cancelled": "CANCELLED"}
MAX_DETAIL_FILES = 5


def ext_of(name: str) -> str:
    return PurePosixPath(name).suffix.lower().lstrip(".") or "none"


def _link(src: Any, dst: Any) -> None:
    """Object blobs are never rewritten in place (a PUT writes a new blob), so a hard link is a
    safe, instant copy; fall back to copying across file systems."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _fail(c: sqlite3.Connection, sync: sqlite3.Row, details: str) -> None:
    c.execute(
        "UPDATE cp_file_syncs SET state = 'FAILED', lifecycle_details = ?, time_started = COALESCE(time_started, ?),"
        " time_ended = ?, due_at = NULL WHERE id = ?",
        [details, time.time(), time.time(), sync["id"]],
    )
    finish_work_request(c, sync["wr_id"], "FAILED", "FAILED")


def _scan(emu: Emulator, configuration: dict[str, Any]) -> tuple[dict[tuple[str, str, str], sqlite3.Row], str | None]:
    found: dict[tuple[str, str, str], sqlite3.Row] = {}
    for sc in configuration.get("storageConfigList") or []:
        ns, bucket = sc["namespace"], sc["bucketName"]
        if ns != emu.config.os_namespace:
            return found, f"Object Storage namespace '{ns}' not found, or the connector is not authorized to read it."
        if emu.db.one("SELECT 1 FROM os_buckets WHERE ns = ? AND name = ?", [ns, bucket]) is None:
            return found, (
                f"Bucket '{bucket}' not found in namespace '{ns}', or the connector is not authorized to read it."
            )
        for prefix in sc.get("prefixList") or [""]:
            for r in emu.db.all(
                "SELECT * FROM os_objects WHERE ns = ? AND bucket = ? AND substr(name, 1, ?) = ? ORDER BY name",
                [ns, bucket, len(prefix), prefix],
            ):
                if not r["name"].endswith("/"):  # folder markers hold no document
                    found[(ns, bucket, r["name"])] = r
    return found, None


def start(emu: Emulator, sync: sqlite3.Row) -> None:
    """ACCEPTED -> IN_PROGRESS (files created, replaced, removed) or FAILED."""
    db = emu.db
    conn = db.one("SELECT * FROM cp_connectors WHERE id = ?", [sync["connector_id"]])
    with db.tx() as c:
        if c.execute("SELECT state FROM cp_file_syncs WHERE id = ?", [sync["id"]]).fetchone()[0] != "ACCEPTED":
            return  # cancelled meanwhile
        if conn is None or conn["state"] in ("DELETING", "DELETED"):
            _fail(c, sync, "The vector store connector was deleted.")
            return
        vs_id = conn["vector_store_id"]
        vs = c.execute("SELECT expired FROM vector_stores WHERE id = ?", [vs_id]).fetchone()
        if vs is None or vs["expired"]:
            _fail(c, sync, f"Vector store '{vs_id}' no longer exists or has expired.")
            return
        objects, problem = _scan(emu, j(conn["configuration"]))
        if problem:
            _fail(c, sync, problem)
            return
        to_delete = _apply(emu, c, sync, conn, objects)
    for fid in to_delete:
        model.delete_file(emu, fid)
    model.touch_store(emu, vs_id)
    emu.worker.wake()


def _apply(
    emu: Emulator,
    c: sqlite3.Connection,
    sync: sqlite3.Row,
    conn: sqlite3.Row,
    objects: dict[tuple[str, str, str], sqlite3.Row],
) -> list[str]:
    """Diff and record, inside the caller's transaction. Returns the File ids to delete afterwards."""
    cid, now = conn["id"], time.time()
    tracked = {
        (r["ns"], r["bucket"], r["name"]): r
        for r in c.execute("SELECT * FROM cp_connector_objects WHERE connector_id = ?", [cid])
    }
    tallies: dict[str, Counter[str]] = {k: Counter() for k in TALLY_KEYS}
    to_delete: list[str] = []
    for key in sorted(tracked.keys() - objects.keys()):
        if tracked[key]["file_id"]:
            to_delete.append(tracked[key]["file_id"])
        c.execute("DELETE FROM cp_connector_objects WHERE connector_id = ? AND ns = ? AND bucket = ? AND name = ?",
                  [cid, *key])
        tallies["deleted"][ext_of(key[2])] += 1
    entries: list[tuple[str, dict[str, Any] | None, dict[str, Any]]] = []
    attached = {r[0] for r in c.execute("SELECT file_id FROM vs_files WHERE vs_id = ?", [conn["vector_store_id"]])}
    for key, obj in sorted(objects.items()):
        ns, bucket, name = key
        ext, old = ext_of(name), tracked.get(key)
        if old is not None and old["file_id"] and old["file_id"] not in attached:
            # its File was deleted or detached by someone else: ingest the object again
            to_delete.append(old["file_id"])
            old = None
        if old is not None and old["etag"] == obj["etag"]:
            tallies["ignored"][ext] += 1
            continue
        if old is not None and old["md5"] == obj["md5"] and old["size"] == obj["size"]:
            tallies["metadataUpdated"][ext] += 1
            c.execute("UPDATE cp_connector_objects SET etag = ? WHERE connector_id = ? AND ns = ? AND bucket = ?"
                      " AND name = ?", [obj["etag"], cid, *key])
            continue
        if old is not None and old["file_id"]:
            to_delete.append(old["file_id"])
        fid: str | None = None
        error: dict[str, str] | None = None
        if obj["size"] == 0:
            error = {"code": "invalid_file", "message": f"Object '{name}' is empty."}
        elif obj["size"] > emu.config.max_file_bytes:
            error = {"code": "file_too_large",
                     "message": f"Object '{name}' exceeds the {emu.config.max_file_bytes}-byte file limit."}
        else:
            fid = emu.new_id("file")
            try:
                _link(emu.blob("objects", obj["blob"]), emu.blob("files", fid))
            except OSError as exc:
                error, fid = {"code": "server_error", "message": f"Could not read object '{name}': {exc}."}, None
        if fid is not None:
            c.execute("INSERT INTO files(id, filename, purpose, bytes, created_at, expires_at, project)"
                      " VALUES (?, ?, 'assistants', ?, ?, NULL, (SELECT project FROM vector_stores WHERE id = ?))",
                      [fid, name, obj["size"], emu.now(), conn["vector_store_id"]])
            entries.append((fid, None, model.AUTO_CHUNKING))
        c.execute(
            "INSERT INTO cp_sync_items(sync_id, connector_id, ns, bucket, object_name, file_path, ext, action,"
            " file_id, size, status, error, started, finished) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [sync["id"], cid, ns, bucket, name, f"{bucket}/{name}", ext, "updated" if old else "created", fid,
             obj["size"], "IN_PROGRESS" if fid else "FAILED", None if error is None else json.dumps(error), now,
             None if fid else now],
        )
        c.execute(
            "INSERT OR REPLACE INTO cp_connector_objects(connector_id, ns, bucket, name, etag, md5, size, file_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [cid, ns, bucket, name, obj["etag"], obj["md5"], obj["size"], fid],
        )
    if entries:
        model.attach(emu, c, conn["vector_store_id"], entries)
    c.execute(
        "UPDATE cp_file_syncs SET state = 'IN_PROGRESS', time_started = ?, due_at = NULL, tallies = ? WHERE id = ?",
        [now, json.dumps({k: dict(v) for k, v in tallies.items()}), sync["id"]],
    )
    return to_delete


def refresh(emu: Emulator, sync: sqlite3.Row) -> None:
    """Copy finished attachments' outcomes into the run's items; SUCCEEDED when none is pending."""
    db = emu.db
    conn = db.one("SELECT vector_store_id FROM cp_connectors WHERE id = ?", [sync["connector_id"]])
    vs_id = conn["vector_store_id"] if conn else ""
    with db.tx() as c:
        if c.execute("SELECT state FROM cp_file_syncs WHERE id = ?", [sync["id"]]).fetchone()[0] != "IN_PROGRESS":
            return
        rows = c.execute(
            "SELECT i.seq, i.file_id, v.status, v.last_error FROM cp_sync_items i"
            " LEFT JOIN vs_files v ON v.vs_id = ? AND v.file_id = i.file_id"
            " WHERE i.sync_id = ? AND i.status IN ('QUEUED', 'IN_PROGRESS')",
            [vs_id, sync["id"]],
        ).fetchall()
        pending = 0
        for r in rows:
            if r["status"] == "in_progress":
                pending += 1
                continue
            status = _VSF_STATUS.get(r["status"], "FAILED")
            error = r["last_error"] if r["status"] else json.dumps(
                {"code": "server_error", "message": "The file is no longer attached to the vector store."})
            chunks = c.execute("SELECT COUNT(*) FROM chunks WHERE vs_id = ? AND file_id = ?",
                               [vs_id, r["file_id"]]).fetchone()[0]
            c.execute("UPDATE cp_sync_items SET status = ?, error = ?, chunks = ?, finished = ? WHERE seq = ?",
                      [status, error, chunks, time.time(), r["seq"]])
        if pending:
            return
        now = time.time()
        c.execute("UPDATE cp_file_syncs SET state = 'SUCCEEDED', time_ended = ?, lifecycle_details = ? WHERE id = ?",
                  [now, summary(emu, sync["id"]), sync["id"]])
        finish_work_request(c, sync["wr_id"], "SUCCEEDED", "CREATED")


def finish_cancel(emu: Emulator, sync: sqlite3.Row) -> None:
    """CANCELING -> CANCELED: cancel the run's pending attachments and forget those objects."""
    db = emu.db
    conn = db.one("SELECT vector_store_id FROM cp_connectors WHERE id = ?", [sync["connector_id"]])
    vs_id = conn["vector_store_id"] if conn else ""
    to_delete: list[str] = []
    with db.tx() as c:
        now = time.time()
        for r in c.execute("SELECT * FROM cp_sync_items WHERE sync_id = ? AND status IN ('QUEUED', 'IN_PROGRESS')",
                           [sync["id"]]).fetchall():
            c.execute("UPDATE vs_files SET status = 'cancelled' WHERE vs_id = ? AND file_id = ? AND status = "
                      "'in_progress'", [vs_id, r["file_id"]])
            c.execute("UPDATE cp_sync_items SET status = 'CANCELLED', finished = ? WHERE seq = ?", [now, r["seq"]])
            c.execute("DELETE FROM cp_connector_objects WHERE connector_id = ? AND ns = ? AND bucket = ? AND name = ?",
                      [sync["connector_id"], r["ns"], r["bucket"], r["object_name"]])
            if r["file_id"]:
                to_delete.append(r["file_id"])
        c.execute("UPDATE cp_file_syncs SET state = 'CANCELED', time_ended = ?, due_at = NULL,"
                  " lifecycle_details = 'Canceled by request.' WHERE id = ?", [now, sync["id"]])
        finish_work_request(c, sync["cancel_wr_id"], "SUCCEEDED", "UPDATED")
        finish_work_request(c, sync["wr_id"], "CANCELED", "RELATED")
    for fid in to_delete:
        model.delete_file(emu, fid)


# -- statistics and logs -------------------------------------------------------------------------
def _item_stat(action: str, status: str, error: str | None) -> str | None:
    if status in PENDING:
        return "inProgress"
    if status == "COMPLETED":
        return action
    if status == "FAILED":
        return "unsupported" if (j(error) or {}).get("code") == "unsupported_file" else "failed"
    return None  # CANCELLED


def stats(emu: Emulator, where: str, params: list[Any]) -> dict[str, Any]:
    """VectorStoreConnectorStats over the runs matching `where` (on cp_file_syncs)."""
    counts: dict[str, Counter[str]] = {k: Counter() for k in STAT_KEYS}
    for r in emu.db.all(
        "SELECT action, status, error, ext, COUNT(*) n FROM cp_sync_items WHERE sync_id IN"
        f" (SELECT id FROM cp_file_syncs WHERE {where}) GROUP BY action, status, error, ext",
        params,
    ):
        key = _item_stat(r["action"], r["status"], r["error"])
        if key:
            counts[key][r["ext"]] += r["n"]
    for r in emu.db.all(f"SELECT tallies FROM cp_file_syncs WHERE {where}", params):
        for key, by_ext in json.loads(r["tallies"]).items():
            counts[key].update(by_ext)
    out: dict[str, Any] = {"timeGenerated": ts(time.time())}
    for key in STAT_KEYS:
        out[key] = {"totalFilesSynced": sum(counts[key].values()), "syncStatsByFileType": dict(counts[key])}
    out.update({"freeformTags": {}, "definedTags": {}, "systemTags": {}})
    return out


def summary(emu: Emulator, sync_id: str) -> str:
    s = stats(emu, "id = ?", [sync_id])
    text = ", ".join(f"{s[k]['totalFilesSynced']} {k}" for k in STAT_KEYS if k != "inProgress") + "."
    bad = emu.db.all(
        "SELECT file_path, error FROM cp_sync_items WHERE sync_id = ? AND status = 'FAILED' ORDER BY seq LIMIT ?",
        [sync_id, MAX_DETAIL_FILES + 1],
    )
    if bad:
        shown = [f"{r['file_path']}: {(j(r['error']) or {}).get('message', 'failed')}" for r in bad[:MAX_DETAIL_FILES]]
        text += " Not ingested: " + "; ".join(shown) + ("; ..." if len(bad) > MAX_DETAIL_FILES else "")
    return text


def log_obj(row: sqlite3.Row, with_sync: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"fileId": row["file_id"]}
    if with_sync:
        out["vectorStoreConnectorFileSyncId"] = row["sync_id"]
    out.update({
        "filePath": row["file_path"],
        "fileSizeInBytes": row["size"],
        "totalChunksCreated": row["chunks"],
        "durationInSeconds": None if row["finished"] is None else round(row["finished"] - row["started"]),
        "status": row["status"],
        "freeformTags": {},
        "definedTags": {},
        "systemTags": {},
    })
    return out
