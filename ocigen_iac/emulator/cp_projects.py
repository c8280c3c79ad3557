"""GenerativeAiProject routes: create (CREATING -> ACTIVE), get, list, update (UPDATING -> ACTIVE),
delete (DELETING -> DELETED), change compartment (UPDATING -> ACTIVE). Mutations answer with an
`opc-work-request-id`; creates honour `opc-retry-token`; update/delete/move honour `If-Match`."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

from . import cp_validate as v
from .context import Ctx
from .cp_common import (
    API,
    accepted,
    body,
    check_if_match,
    filters,
    incorrect_state,
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

KIND = "GenerativeAiProject"
CONFIG_KEYS = ("conversationConfig", "longTermMemoryConfig", "shortTermMemoryOptimizationConfig", "sandboxConfig")
UPDATABLE = {"displayName", "description", *CONFIG_KEYS, "freeformTags", "definedTags"}
LIFECYCLE_STATES = ("ACTIVE", "CREATING", "UPDATING", "DELETING", "DELETED", "FAILED")


def _configs(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in CONFIG_KEYS:
        if key in data and data[key] is not None:
            out[key] = v.conversation_config(data[key]) if key == "conversationConfig" else v.opt_obj(data, key)
    return out


def project_obj(r: sqlite3.Row, summary: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": r["id"],
        "displayName": r["display_name"],
        "description": r["description"],
        "compartmentId": r["compartment_id"],
        "timeCreated": ts(r["time_created"]),
        "timeUpdated": ts(r["time_updated"]),
        "lifecycleState": r["state"],
        "lifecycleDetails": None,
    }
    if not summary:
        configs = j(r["configs"])
        out.update({key: configs.get(key) for key in CONFIG_KEYS})
    out.update({"freeformTags": j(r["freeform_tags"]), "definedTags": j(r["defined_tags"]), "systemTags": {}})
    return out


def _get(ctx: Ctx, pid: str) -> sqlite3.Row:
    ctx.emu.control_plane.settle()
    row = ctx.emu.db.one("SELECT * FROM cp_projects WHERE id = ?", [pid])
    if row is None:
        raise not_found(KIND, pid)
    return row


def _mutable(ctx: Ctx, row: sqlite3.Row, verb: str) -> None:
    if row["state"] == "DELETED":
        raise not_found(KIND, row["id"])
    check_if_match(ctx, row["etag"])
    if row["state"] != "ACTIVE":
        raise incorrect_state(f"{KIND} '{row['id']}' is {row['state']}; it can be {verb} only when ACTIVE.")


async def create_project(ctx: Ctx) -> Response:
    emu = ctx.emu
    data, raw = await body(ctx)
    prior = retried(ctx, "create_project", raw)
    if prior:
        row = _get(ctx, prior[0])
        return ok(ctx, project_obj(row), etag=row["etag"], wr_id=prior[1])
    v.only_keys(data, {"compartmentId", *UPDATABLE}, "CreateGenerativeAiProjectDetails")
    compartment = v.req_str(data, "compartmentId")
    now = time.time()
    name = v.opt_str(data, "displayName") or "generativeaiproject" + datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    description = v.opt_str(data, "description", v.MAX_DESCRIPTION)
    configs = _configs(data)
    freeform, defined = v.freeform_tags(data) or {}, v.defined_tags(data) or {}
    pid = new_ocid("generativeaiproject")
    with emu.db.tx() as c:
        c.execute(
            "INSERT INTO cp_projects(id, compartment_id, tenant_id, display_name, description, configs,"
            " freeform_tags, defined_tags, state, time_created, time_updated, etag)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'CREATING', ?, ?, ?)",
            [pid, compartment, tenant_of(ctx), name, description, json.dumps(configs), json.dumps(freeform),
             json.dumps(defined), now, now, new_etag()],
        )
        wr = new_work_request(c, "CREATE_GENERATIVE_AI_PROJECT", compartment, KIND, pid,
                              f"{API}/generativeAiProjects/{pid}")
        begin(c, emu, "cp_projects", pid, "CREATING", "ACTIVE", wr)
        remember(c, ctx, "create_project", raw, pid, wr)
    row = _get(ctx, pid)
    return ok(ctx, project_obj(row), etag=row["etag"], wr_id=wr)


async def get_project(ctx: Ctx) -> Response:
    row = _get(ctx, ctx.params["id"])
    return ok(ctx, project_obj(row), etag=row["etag"])


async def list_projects(ctx: Ctx) -> Response:
    ctx.emu.control_plane.settle()
    where, params = filters(
        ctx, "compartment_id = ?", [required_query(ctx, "compartmentId")],
        {"lifecycleState": "state", "displayName": "display_name", "id": "id"},
    )
    return list_page(ctx, table="cp_projects", where=where, params=params,
                     sorts={"timeCreated": ("seq", "DESC"), "displayName": ("display_name", "ASC")},
                     default_sort="timeCreated", render=lambda r: project_obj(r, summary=True))


async def update_project(ctx: Ctx) -> Response:
    emu = ctx.emu
    row = _get(ctx, ctx.params["id"])
    data, _ = await body(ctx)
    v.only_keys(data, UPDATABLE, "UpdateGenerativeAiProjectDetails")
    _mutable(ctx, row, "updated")
    sets: dict[str, Any] = {}
    if data.get("displayName") is not None:
        sets["display_name"] = v.req_str(data, "displayName")
    if "description" in data:
        sets["description"] = v.opt_str(data, "description", v.MAX_DESCRIPTION)
    configs = {**j(row["configs"]), **_configs(data)}
    sets["configs"] = json.dumps(configs)
    if data.get("freeformTags") is not None:
        sets["freeform_tags"] = json.dumps(v.freeform_tags(data))
    if data.get("definedTags") is not None:
        sets["defined_tags"] = json.dumps(v.defined_tags(data))
    sets["etag"] = new_etag()
    with emu.db.tx() as c:
        c.execute(f"UPDATE cp_projects SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
                  [*sets.values(), row["id"]])
        wr = new_work_request(c, "UPDATE_GENERATIVE_AI_PROJECT", row["compartment_id"], KIND, row["id"],
                              f"{API}/generativeAiProjects/{row['id']}")
        begin(c, emu, "cp_projects", row["id"], "UPDATING", "ACTIVE", wr)
    row = _get(ctx, row["id"])
    return ok(ctx, project_obj(row), etag=row["etag"], wr_id=wr)


async def delete_project(ctx: Ctx) -> Response:
    emu = ctx.emu
    row = _get(ctx, ctx.params["id"])
    _mutable(ctx, row, "deleted")
    with emu.db.tx() as c:
        wr = new_work_request(c, "DELETE_GENERATIVE_AI_PROJECT", row["compartment_id"], KIND, row["id"],
                              f"{API}/generativeAiProjects/{row['id']}")
        begin(c, emu, "cp_projects", row["id"], "DELETING", "DELETED", wr)
    return accepted(ctx, wr)


async def change_project_compartment(ctx: Ctx) -> Response:
    emu = ctx.emu
    row = _get(ctx, ctx.params["id"])
    data, _ = await body(ctx)
    v.only_keys(data, {"compartmentId"}, "ChangeGenerativeAiProjectCompartmentDetails")
    compartment = v.req_str(data, "compartmentId")
    _mutable(ctx, row, "moved")
    with emu.db.tx() as c:
        c.execute("UPDATE cp_projects SET compartment_id = ?, etag = ? WHERE id = ?",
                  [compartment, new_etag(), row["id"]])
        wr = new_work_request(c, "MOVE_GENERATIVE_AI_PROJECT", compartment, KIND, row["id"],
                              f"{API}/generativeAiProjects/{row['id']}")
        begin(c, emu, "cp_projects", row["id"], "UPDATING", "ACTIVE", wr)
    return accepted(ctx, wr)
