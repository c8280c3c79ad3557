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

from . import cp_lifecycle as life
from . import cp_sync
from . import cp_validate as v
from .context import Ctx
from .cp_common import (
    Kind,
    accepted,
    body,
    check_if_match,
    incorrect_state,
    invalid,
    j,
    list_in_compartment,
    list_page,
    new_etag,
    new_ocid,
    not_found,
    ok,
    remember,
    retried,
    tenant_of,
    ts,
)

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


CONNECTOR = Kind("VectorStoreConnector", "cp_connectors", "/vectorStoreConnectors", lambda _ctx, r: connector_obj(r))


def _running_sync(ctx: Ctx, cid: str) -> sqlite3.Row | None:
    q = ",".join("?" * len(RUNNING))
    return ctx.emu.db.one(f"SELECT id, state FROM cp_file_syncs WHERE connector_id = ? AND state IN ({q})",
                          [cid, *RUNNING])


def _check_store(ctx: Ctx, vs_id: str) -> None:
    vs = ctx.emu.db.one("SELECT expired FROM vector_stores WHERE id = ?", [vs_id])
    if vs is None or vs["expired"]:
        raise not_found("Vector store (vectorStoreId)", vs_id)


def _settings_columns(data: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    if data.get("scheduleConfig") is not None:
        out["schedule_config"] = json.dumps(v.schedule(data["scheduleConfig"]))
    if data.get("configuration") is not None:
        out["configuration"] = json.dumps(v.configuration(data["configuration"]))
    return out


async def create_connector(ctx: Ctx) -> Response:
    data, raw = await body(ctx)
    prior = retried(ctx, "create_connector", raw)
    if prior:
        return CONNECTOR.answer(ctx, *prior)
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
    return life.create(
        ctx, CONNECTOR, ocid_kind="generativeaivectorstoreconnector", operation="CREATE_VECTOR_STORE_CONNECTOR",
        retry_op="create_connector", raw=raw, compartment_id=compartment,
        columns={"display_name": name, "description": description, "vector_store_id": vs_id,
                 "vault_secret_id": vault_secret, "schedule_config": None if schedule is None else json.dumps(schedule),
                 "configuration": json.dumps(configuration), "freeform_tags": json.dumps(freeform),
                 "defined_tags": json.dumps(defined)},
    )


async def get_connector(ctx: Ctx) -> Response:
    return CONNECTOR.answer(ctx, ctx.params["id"])


async def list_connectors(ctx: Ctx) -> Response:
    return list_in_compartment(
        ctx, table=CONNECTOR.table,
        columns={"vectorStoreId": "vector_store_id", "lifecycleState": "state", "displayName": "display_name",
                 "id": "id"},
        sorts={"name": ("display_name", "ASC")}, render=lambda r: connector_obj(r, summary=True),
    )


async def update_connector(ctx: Ctx) -> Response:
    row = CONNECTOR.get(ctx, ctx.params["id"])
    data, _ = await body(ctx)
    v.only_keys(data, UPDATABLE, "UpdateVectorStoreConnectorDetails")
    life.mutable(ctx, CONNECTOR, row, "updated")
    columns = {**v.name_columns(data), **_settings_columns(data), **v.tag_columns(data)}
    return life.update(ctx, CONNECTOR, row, "UPDATE_VECTOR_STORE_CONNECTOR", columns)


async def delete_connector(ctx: Ctx) -> Response:
    row = CONNECTOR.get(ctx, ctx.params["id"])
    life.mutable(ctx, CONNECTOR, row, "deleted")
    running = _running_sync(ctx, row["id"])
    if running:
        raise incorrect_state(f"File sync '{running['id']}' of {CONNECTOR.name} '{row['id']}' is {running['state']};"
                              " wait for it to finish or cancel it, then delete the connector.")
    return life.delete(ctx, CONNECTOR, row, "DELETE_VECTOR_STORE_CONNECTOR")


async def connector_stats(ctx: Ctx) -> Response:
    row = CONNECTOR.get(ctx, ctx.params["id"])
    return ok(ctx, cp_sync.stats(ctx.emu, "connector_id = ?", [row["id"]]))


async def connector_logs(ctx: Ctx) -> Response:
    """The latest log of each object the connector currently holds."""
    row = CONNECTOR.get(ctx, ctx.params["id"])
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


FILE_SYNC = Kind("VectorStoreConnectorFileSync", "cp_file_syncs", "/vectorStoreConnectorFileSyncs", sync_obj)


async def create_file_sync(ctx: Ctx) -> Response:
    emu = ctx.emu
    data, raw = await body(ctx)
    prior = retried(ctx, "create_file_sync", raw)
    if prior:
        return FILE_SYNC.answer(ctx, *prior)
    v.only_keys(data, {"vectorStoreConnectorId", "displayName", "freeformTags", "definedTags"},
                "CreateVectorStoreConnectorFileSyncDetails")
    conn = CONNECTOR.get(ctx, v.req_str(data, "vectorStoreConnectorId"))
    if conn["state"] == "DELETED":
        raise not_found(CONNECTOR.name, conn["id"])
    if conn["state"] != "ACTIVE":
        raise incorrect_state(f"{CONNECTOR.name} '{conn['id']}' is {conn['state']}; a file sync needs it ACTIVE.")
    name = v.opt_str(data, "displayName") or "filesync" + datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    freeform, defined = v.freeform_tags(data) or {}, v.defined_tags(data) or {}
    sid, now = new_ocid("generativeaivectorstoreconnectorfilesync"), time.time()
    with emu.db.tx() as c:
        running = _running_sync(ctx, conn["id"])
        if running:
            raise incorrect_state(f"File sync '{running['id']}' of {CONNECTOR.name} '{conn['id']}' is"
                                  f" {running['state']}; one sync runs at a time: wait for it or cancel it.")
        wr = FILE_SYNC.work_request(c, "TRIGGER_FILE_SYNC", conn["compartment_id"], sid)
        c.execute(
            "INSERT INTO cp_file_syncs(id, connector_id, compartment_id, tenant_id, display_name, trigger_type, state,"
            " due_at, wr_id, tallies, freeform_tags, defined_tags, time_created, etag)"
            " VALUES (?, ?, ?, ?, ?, 'MANUAL', 'ACCEPTED', ?, ?, '{}', ?, ?, ?, ?)",
            [sid, conn["id"], conn["compartment_id"], tenant_of(ctx), name, now + emu.config.control_plane_delay_s,
             wr, json.dumps(freeform), json.dumps(defined), now, new_etag()],
        )
        remember(c, ctx, "create_file_sync", raw, sid, wr)
    emu.control_plane.wake()
    return FILE_SYNC.answer(ctx, sid, wr)


async def get_file_sync(ctx: Ctx) -> Response:
    return FILE_SYNC.answer(ctx, ctx.params["id"])


async def list_file_syncs(ctx: Ctx) -> Response:
    return list_in_compartment(
        ctx, table=FILE_SYNC.table,
        columns={"lifecycleState": "state", "id": "id", "vectorStoreConnectorId": "connector_id",
                 "displayName": "display_name"},
        sorts={"displayName": ("display_name", "ASC")}, render=lambda r: sync_obj(ctx, r),
    )


async def cancel_file_sync(ctx: Ctx) -> Response:
    emu = ctx.emu
    row = FILE_SYNC.get(ctx, ctx.params["id"])
    check_if_match(ctx, row["etag"])
    if row["state"] not in ("ACCEPTED", "IN_PROGRESS"):
        raise incorrect_state(f"{FILE_SYNC.name} '{row['id']}' is {row['state']}; only ACCEPTED or IN_PROGRESS syncs"
                              " can be canceled.")
    with emu.db.tx() as c:
        wr = FILE_SYNC.work_request(c, "CANCEL_FILE_SYNC", row["compartment_id"], row["id"])
        cur = c.execute(
            "UPDATE cp_file_syncs SET state = 'CANCELING', due_at = ?, cancel_wr_id = ?, etag = ?"
            " WHERE id = ? AND state IN ('ACCEPTED', 'IN_PROGRESS')",
            [time.time() + emu.config.control_plane_delay_s, wr, new_etag(), row["id"]],
        )
        if cur.rowcount != 1:
            raise incorrect_state(f"{FILE_SYNC.name} '{row['id']}' finished before it could be canceled.")
    emu.control_plane.wake()
    return accepted(ctx, wr)


async def file_sync_logs(ctx: Ctx) -> Response:
    row = FILE_SYNC.get(ctx, ctx.params["id"])
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
