"""VectorStoreConnector and VectorStoreConnectorFileSync routes, connector stats and ingestion logs.

A connector names an existing emulator vector store (`vectorStoreId`) and Object Storage sources;
it is CREATING -> ACTIVE, UPDATING -> ACTIVE, DELETING -> DELETED like a project. A file sync is
one manual run (see cp_sync): it needs an ACTIVE connector with no other run in flight (else 409
IncorrectState), and a connector with a run in flight cannot be deleted (409; OCI's default retry
strategy retries that). `schedule_config` is stored and returned; the emulator runs no schedules.
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

from . import cp_sync
from . import cp_validate as v
from .context import Ctx
from .cp_common import (
    API,
    accepted,
    body,
    check_if_match,
    filters,
    incorrect_state,
    invalid,
    j,
    list_page,
    new_etag,
    new_ocid,
    new_work_request,
    not_found,
    ok,
    remember,
    required_query,
    retried,
    tenant_of,
    ts,
)
from .cp_lifecycle import begin

KIND = "VectorStoreConnector"
SYNC_KIND = "VectorStoreConnectorFileSync"
UPDATABLE = {"displayName", "description", "scheduleConfig", "configuration", "freeformTags", "definedTags"}
RUNNING = ("ACCEPTED", "IN_PROGRESS", "CANCELING")
LOG_STATUSES = ("COMPLETED", "CANCELLED", "FAILED", "QUEUED", "IN_PROGRESS")
# list_vector_store_connector_file_sync_ingestion_logs filters with the sync lifecycle vocabulary
SYNC_STATE_TO_LOG = {"ACCEPTED": "QUEUED", "IN_PROGRESS": "IN_PROGRESS", "FAILED": "FAILED",
                     "SUCCEEDED": "COMPLETED", "CANCELING": "CANCELLED", "CANCELED": "CANCELLED"}
LOG_SORTS = {"filePath": ("file_path", "ASC"), "fileSize": ("size", "ASC"), "status": ("status", "ASC")}


# -- connectors ----------------------------------------------------------------------------------
def connector_obj(r: sqlite3.Row, summary: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": r["id"],
        "displayName": r["display_name"],
        "description": r["description"],
        "vectorStoreId": r["vector_store_id"],
        "compartmentId": r["compartment_id"],
        "tenantId": r["tenant_id"],
        "timeCreated": ts(r["time_created"]),
        "timeUpdated": ts(r["time_updated"]),
    }
    if not summary:
        out["vaultSecretId"] = r["vault_secret_id"]
    out.update({
        "lifecycleState": r["state"],
        "lifecycleDetails": None,
        "scheduleConfig": j(r["schedule_config"]),
        "configuration": j(r["configuration"]),
        "freeformTags": j(r["freeform_tags"]),
        "definedTags": j(r["defined_tags"]),
        "systemTags": {},
    })
    return out


def _get(ctx: Ctx, cid: str) -> sqlite3.Row:
    ctx.emu.control_plane.settle()
    row = ctx.emu.db.one("SELECT * FROM cp_connectors WHERE id = ?", [cid])
    if row is None:
        raise not_found(KIND, cid)
    return row


def _running_sync(ctx: Ctx, cid: str) -> sqlite3.Row | None:
    q = ",".join("?" * len(RUNNING))
    return ctx.emu.db.one(f"SELECT id, state FROM cp_file_syncs WHERE connector_id = ? AND state IN ({q})",
                          [cid, *RUNNING])


def _mutable(ctx: Ctx, row: sqlite3.Row, verb: str) -> None:
    if row["state"] == "DELETED":
        raise not_found(KIND, row["id"])
    check_if_match(ctx, row["etag"])
    if row["state"] != "ACTIVE":
        raise incorrect_state(f"{KIND} '{row['id']}' is {row['state']}; it can be {verb} only when ACTIVE.")


def _check_store(ctx: Ctx, vs_id: str) -> None:
    vs = ctx.emu.db.one("SELECT expired FROM vector_stores WHERE id = ?", [vs_id])
    if vs is None or vs["expired"]:
        raise not_found("Vector store (vectorStoreId)", vs_id)


async def create_connector(ctx: Ctx) -> Response:
    emu = ctx.emu
    data, raw = await body(ctx)
    prior = retried(ctx, "create_connector", raw)
    if prior:
        row = _get(ctx, prior[0])
        return ok(ctx, connector_obj(row), etag=row["etag"], wr_id=prior[1])
    v.only_keys(data, {"compartmentId", "vectorStoreId", "vaultSecretId", *UPDATABLE},
                "CreateVectorStoreConnectorDetails")
    compartment = v.req_str(data, "compartmentId")
    vs_id = v.req_str(data, "vectorStoreId")
    name = v.req_str(data, "displayName")
    description = v.opt_str(data, "description", v.MAX_DESCRIPTION)
    schedule = v.schedule(data.get("scheduleConfig"))
    configuration = v.configuration(data.get("configuration"))
    vault_secret = v.opt_str(data, "vaultSecretId")
    freeform, defined = v.freeform_tags(data) or {}, v.defined_tags(data) or {}
    _check_store(ctx, vs_id)
    cid, now = new_ocid("generativeaivectorstoreconnector"), time.time()
    with emu.db.tx() as c:
        c.execute(
            "INSERT INTO cp_connectors(id, compartment_id, tenant_id, display_name, description, vector_store_id,"
            " vault_secret_id, schedule_config, configuration, freeform_tags, defined_tags, state, time_created,"
            " time_updated, etag) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'CREATING', ?, ?, ?)",
            [cid, compartment, tenant_of(ctx), name, description, vs_id, vault_secret,
             None if schedule is None else json.dumps(schedule), json.dumps(configuration), json.dumps(freeform),
             json.dumps(defined), now, now, new_etag()],
        )
        wr = new_work_request(c, "CREATE_VECTOR_STORE_CONNECTOR", compartment, KIND, cid,
                              f"{API}/vectorStoreConnectors/{cid}")
        begin(c, emu, "cp_connectors", cid, "CREATING", "ACTIVE", wr)
        remember(c, ctx, "create_connector", raw, cid, wr)
    row = _get(ctx, cid)
    return ok(ctx, connector_obj(row), etag=row["etag"], wr_id=wr)


async def get_connector(ctx: Ctx) -> Response:
    row = _get(ctx, ctx.params["id"])
    return ok(ctx, connector_obj(row), etag=row["etag"])


async def list_connectors(ctx: Ctx) -> Response:
    ctx.emu.control_plane.settle()
    where, params = filters(
        ctx, "compartment_id = ?", [required_query(ctx, "compartmentId")],
        {"vectorStoreId": "vector_store_id", "lifecycleState": "state", "displayName": "display_name", "id": "id"},
    )
    return list_page(ctx, table="cp_connectors", where=where, params=params,
                     sorts={"timeCreated": ("seq", "DESC"), "name": ("display_name", "ASC")},
                     default_sort="timeCreated", render=lambda r: connector_obj(r, summary=True))


async def update_connector(ctx: Ctx) -> Response:
    emu = ctx.emu
    row = _get(ctx, ctx.params["id"])
    data, _ = await body(ctx)
    v.only_keys(data, UPDATABLE, "UpdateVectorStoreConnectorDetails")
    _mutable(ctx, row, "updated")
    sets: dict[str, Any] = {}
    if data.get("displayName") is not None:
        sets["display_name"] = v.req_str(data, "displayName")
    if "description" in data:
        sets["description"] = v.opt_str(data, "description", v.MAX_DESCRIPTION)
    if data.get("scheduleConfig") is not None:
        sets["schedule_config"] = json.dumps(v.schedule(data["scheduleConfig"]))
    if data.get("configuration") is not None:
        sets["configuration"] = json.dumps(v.configuration(data["configuration"]))
    if data.get("freeformTags") is not None:
        sets["freeform_tags"] = json.dumps(v.freeform_tags(data))
    if data.get("definedTags") is not None:
        sets["defined_tags"] = json.dumps(v.defined_tags(data))
    sets["etag"] = new_etag()
    with emu.db.tx() as c:
        c.execute(f"UPDATE cp_connectors SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
                  [*sets.values(), row["id"]])
        wr = new_work_request(c, "UPDATE_VECTOR_STORE_CONNECTOR", row["compartment_id"], KIND, row["id"],
                              f"{API}/vectorStoreConnectors/{row['id']}")
        begin(c, emu, "cp_connectors", row["id"], "UPDATING", "ACTIVE", wr)
    row = _get(ctx, row["id"])
    return ok(ctx, connector_obj(row), etag=row["etag"], wr_id=wr)


async def delete_connector(ctx: Ctx) -> Response:
    emu = ctx.emu
    row = _get(ctx, ctx.params["id"])
    _mutable(ctx, row, "deleted")
    running = _running_sync(ctx, row["id"])
    if running:
        raise incorrect_state(f"File sync '{running['id']}' of {KIND} '{row['id']}' is {running['state']};"
                              " wait for it to finish or cancel it, then delete the connector.")
    with emu.db.tx() as c:
        wr = new_work_request(c, "DELETE_VECTOR_STORE_CONNECTOR", row["compartment_id"], KIND, row["id"],
                              f"{API}/vectorStoreConnectors/{row['id']}")
        begin(c, emu, "cp_connectors", row["id"], "DELETING", "DELETED", wr)
    return accepted(ctx, wr)


async def connector_stats(ctx: Ctx) -> Response:
    row = _get(ctx, ctx.params["id"])
    return ok(ctx, cp_sync.stats(ctx.emu, "connector_id = ?", [row["id"]]))


async def connector_logs(ctx: Ctx) -> Response:
    """The latest log of each object the connector currently holds."""
    row = _get(ctx, ctx.params["id"])
    where = (
        "connector_id = ? AND seq IN (SELECT MAX(seq) FROM cp_sync_items WHERE connector_id = ?"
        " GROUP BY ns, bucket, object_name) AND EXISTS (SELECT 1 FROM cp_connector_objects o"
        " WHERE o.connector_id = cp_sync_items.connector_id AND o.ns = cp_sync_items.ns"
        " AND o.bucket = cp_sync_items.bucket AND o.name = cp_sync_items.object_name)"
    )
    params: list[Any] = [row["id"], row["id"]]
    status = ctx.q("status")
    if status:
        if status not in LOG_STATUSES:
            raise invalid(f"status must be one of {', '.join(LOG_STATUSES)}; got '{status}'.")
        where += " AND status = ?"
        params.append(status)
    return list_page(ctx, table="cp_sync_items", where=where, params=params, sorts=LOG_SORTS,
                     default_sort="filePath", render=lambda r: cp_sync.log_obj(r, with_sync=True))


# -- file syncs ----------------------------------------------------------------------------------
def sync_obj(ctx: Ctx, r: sqlite3.Row) -> dict[str, Any]:
    start, end = r["time_started"], r["time_ended"]
    return {
        "id": r["id"],
        "displayName": r["display_name"],
        "vectorStoreConnectorId": r["connector_id"],
        "compartmentId": r["compartment_id"],
        "tenantId": r["tenant_id"],
        "timeCreated": ts(r["time_created"]),
        "lifecycleState": r["state"],
        "lifecycleDetails": r["lifecycle_details"],
        "timeStarted": ts(start),
        "timeEnded": ts(end),
        "durationInSeconds": None if start is None or end is None else round(end - start),
        "triggerType": r["trigger_type"],
        "stats": cp_sync.stats(ctx.emu, "id = ?", [r["id"]]),
        "freeformTags": j(r["freeform_tags"]),
        "definedTags": j(r["defined_tags"]),
        "systemTags": {},
    }


def _get_sync(ctx: Ctx, sid: str) -> sqlite3.Row:
    ctx.emu.control_plane.settle()
    row = ctx.emu.db.one("SELECT * FROM cp_file_syncs WHERE id = ?", [sid])
    if row is None:
        raise not_found(SYNC_KIND, sid)
    return row


async def create_file_sync(ctx: Ctx) -> Response:
    emu = ctx.emu
    data, raw = await body(ctx)
    prior = retried(ctx, "create_file_sync", raw)
    if prior:
        row = _get_sync(ctx, prior[0])
        return ok(ctx, sync_obj(ctx, row), etag=row["etag"], wr_id=prior[1])
    v.only_keys(data, {"vectorStoreConnectorId", "displayName", "freeformTags", "definedTags"},
                "CreateVectorStoreConnectorFileSyncDetails")
    conn = _get(ctx, v.req_str(data, "vectorStoreConnectorId"))
    if conn["state"] == "DELETED":
        raise not_found(KIND, conn["id"])
    if conn["state"] != "ACTIVE":
        raise incorrect_state(f"{KIND} '{conn['id']}' is {conn['state']}; a file sync needs it ACTIVE.")
    name = v.opt_str(data, "displayName") or "filesync" + datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    freeform, defined = v.freeform_tags(data) or {}, v.defined_tags(data) or {}
    sid, now = new_ocid("generativeaivectorstoreconnectorfilesync"), time.time()
    with emu.db.tx() as c:
        running = _running_sync(ctx, conn["id"])
        if running:
            raise incorrect_state(f"File sync '{running['id']}' of {KIND} '{conn['id']}' is {running['state']};"
                                  " one sync runs at a time: wait for it or cancel it.")
        wr = new_work_request(c, "TRIGGER_FILE_SYNC", conn["compartment_id"], SYNC_KIND, sid,
                              f"{API}/vectorStoreConnectorFileSyncs/{sid}")
        c.execute(
            "INSERT INTO cp_file_syncs(id, connector_id, compartment_id, tenant_id, display_name, trigger_type, state,"
            " due_at, wr_id, tallies, freeform_tags, defined_tags, time_created, etag)"
            " VALUES (?, ?, ?, ?, ?, 'MANUAL', 'ACCEPTED', ?, ?, '{}', ?, ?, ?, ?)",
            [sid, conn["id"], conn["compartment_id"], tenant_of(ctx), name, now + emu.config.control_plane_delay_s,
             wr, json.dumps(freeform), json.dumps(defined), now, new_etag()],
        )
        remember(c, ctx, "create_file_sync", raw, sid, wr)
    emu.control_plane.wake()
    row = _get_sync(ctx, sid)
    return ok(ctx, sync_obj(ctx, row), etag=row["etag"], wr_id=wr)


async def get_file_sync(ctx: Ctx) -> Response:
    row = _get_sync(ctx, ctx.params["id"])
    return ok(ctx, sync_obj(ctx, row), etag=row["etag"])


async def list_file_syncs(ctx: Ctx) -> Response:
    ctx.emu.control_plane.settle()
    where, params = filters(
        ctx, "compartment_id = ?", [required_query(ctx, "compartmentId")],
        {"lifecycleState": "state", "id": "id", "vectorStoreConnectorId": "connector_id",
         "displayName": "display_name"},
    )
    return list_page(ctx, table="cp_file_syncs", where=where, params=params,
                     sorts={"timeCreated": ("seq", "DESC"), "displayName": ("display_name", "ASC")},
                     default_sort="timeCreated", render=lambda r: sync_obj(ctx, r))


async def cancel_file_sync(ctx: Ctx) -> Response:
    emu = ctx.emu
    row = _get_sync(ctx, ctx.params["id"])
    check_if_match(ctx, row["etag"])
    if row["state"] not in ("ACCEPTED", "IN_PROGRESS"):
        raise incorrect_state(f"{SYNC_KIND} '{row['id']}' is {row['state']}; only ACCEPTED or IN_PROGRESS syncs"
                              " can be canceled.")
    with emu.db.tx() as c:
        wr = new_work_request(c, "CANCEL_FILE_SYNC", row["compartment_id"], SYNC_KIND, row["id"],
                              f"{API}/vectorStoreConnectorFileSyncs/{row['id']}")
        cur = c.execute(
            "UPDATE cp_file_syncs SET state = 'CANCELING', due_at = ?, cancel_wr_id = ?, etag = ?"
            " WHERE id = ? AND state IN ('ACCEPTED', 'IN_PROGRESS')",
            [time.time() + emu.config.control_plane_delay_s, wr, new_etag(), row["id"]],
        )
        if cur.rowcount != 1:
            raise incorrect_state(f"{SYNC_KIND} '{row['id']}' finished before it could be canceled.")
    emu.control_plane.wake()
    return accepted(ctx, wr)


async def file_sync_logs(ctx: Ctx) -> Response:
    row = _get_sync(ctx, ctx.params["id"])
    where, params = "sync_id = ?", [row["id"]]
    state = ctx.q("lifecycleState")
    if state:
        status = SYNC_STATE_TO_LOG.get(state, state)
        if status not in LOG_STATUSES:
            raise invalid(f"lifecycleState must be one of {', '.join(SYNC_STATE_TO_LOG)}; got '{state}'.")
        where += " AND status = ?"
        params.append(status)
    return list_page(ctx, table="cp_sync_items", where=where, params=params, sorts=LOG_SORTS,
                     default_sort="filePath", render=lambda r: cp_sync.log_obj(r, with_sync=False))
