"""GenerativeAiProject routes: create (CREATING -> ACTIVE), get, list, update (UPDATING -> ACTIVE),
delete (DELETING -> DELETED), change compartment (UPDATING -> ACTIVE). Mutations answer with an
`opc-work-request-id`; creates honour `opc-retry-token`; update/delete/move honour `If-Match`."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

from . import cp_lifecycle as life
from . import cp_validate as v
from .context import Ctx
from .cp_common import Kind, accepted, body, j, list_in_compartment, new_etag, retried, ts

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


PROJECT = Kind("GenerativeAiProject", "cp_projects", "/generativeAiProjects", lambda _ctx, r: project_obj(r))


async def create_project(ctx: Ctx) -> Response:
    data, raw = await body(ctx)
    prior = retried(ctx, "create_project", raw)
    if prior:
        return PROJECT.answer(ctx, *prior)
    v.only_keys(data, {"compartmentId", *UPDATABLE}, "CreateGenerativeAiProjectDetails")
    compartment = v.req_str(data, "compartmentId")
    name = v.opt_str(data, "displayName") or "generativeaiproject" + datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    description = v.opt_str(data, "description", v.MAX_DESCRIPTION)
    configs = _configs(data)
    freeform, defined = v.freeform_tags(data) or {}, v.defined_tags(data) or {}
    return life.create(
        ctx, PROJECT, ocid_kind="generativeaiproject", operation="CREATE_GENERATIVE_AI_PROJECT",
        retry_op="create_project", raw=raw, compartment_id=compartment,
        columns={"display_name": name, "description": description, "configs": json.dumps(configs),
                 "freeform_tags": json.dumps(freeform), "defined_tags": json.dumps(defined)},
    )


async def get_project(ctx: Ctx) -> Response:
    return PROJECT.answer(ctx, ctx.params["id"])


async def list_projects(ctx: Ctx) -> Response:
    return list_in_compartment(ctx, table=PROJECT.table,
                               columns={"lifecycleState": "state", "displayName": "display_name", "id": "id"},
                               sorts={"displayName": ("display_name", "ASC")},
                               render=lambda r: project_obj(r, summary=True))


async def update_project(ctx: Ctx) -> Response:
    row = PROJECT.get(ctx, ctx.params["id"])
    data, _ = await body(ctx)
    v.only_keys(data, UPDATABLE, "UpdateGenerativeAiProjectDetails")
    life.mutable(ctx, PROJECT, row, "updated")
    columns = {**v.name_columns(data), "configs": json.dumps({**j(row["configs"]), **_configs(data)}),
               **v.tag_columns(data)}
    return life.update(ctx, PROJECT, row, "UPDATE_GENERATIVE_AI_PROJECT", columns)


async def delete_project(ctx: Ctx) -> Response:
    row = PROJECT.get(ctx, ctx.params["id"])
    life.mutable(ctx, PROJECT, row, "deleted")
    return life.delete(ctx, PROJECT, row, "DELETE_GENERATIVE_AI_PROJECT")


async def change_project_compartment(ctx: Ctx) -> Response:
    row = PROJECT.get(ctx, ctx.params["id"])
    data, _ = await body(ctx)
    v.only_keys(data, {"compartmentId"}, "ChangeGenerativeAiProjectCompartmentDetails")
    compartment = v.req_str(data, "compartmentId")
    life.mutable(ctx, PROJECT, row, "moved")
    with ctx.emu.db.tx() as c:
        c.execute("UPDATE cp_projects SET compartment_id = ?, etag = ? WHERE id = ?",
                  [compartment, new_etag(), row["id"]])
        wr_id = life.transition(c, ctx.emu, PROJECT, "MOVE_GENERATIVE_AI_PROJECT", compartment, row["id"],
                                "UPDATING", "ACTIVE")
    return accepted(ctx, wr_id)
