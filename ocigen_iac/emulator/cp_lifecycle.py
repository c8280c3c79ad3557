"""Lifecycle of the control-plane resources and the thread that moves them along.

A mutation puts a project or connector in a transient state (CREATING, UPDATING, DELETING) with
a target state and a due time `control_plane_delay_s` ahead; `settle` applies every due transition
(and completes its work request). It runs before each control-plane request, so a client sees the
new state as soon as it is due, and on the worker thread. DELETED resources stay readable for
DELETED_RETENTION_S, as in OCI, then disappear.

File syncs need real work (reading objects, attaching files), so only the worker thread runs them:
due ACCEPTED runs start, IN_PROGRESS runs follow their attachments, due CANCELING runs finish.
Everything lives in SQLite, so a restarted emulator carries on where it stopped.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from . import cp_sync
from .background import BackgroundThread
from .cp_common import (
    SCHEMA,
    Kind,
    accepted,
    check_if_match,
    finish_work_request,
    incorrect_state,
    new_etag,
    new_ocid,
    not_found,
    remember,
    tenant_of,
)

if TYPE_CHECKING:
    import sqlite3

    from starlette.responses import Response

    from .context import Ctx
    from .core import Emulator

DELETED_RETENTION_S = 3600.0
_ACTIONS = {"ACTIVE": "UPDATED", "DELETED": "DELETED"}
_TABLES = ("cp_projects", "cp_connectors")


def begin(
    c: sqlite3.Connection, emu: Emulator, table: str, rid: str, state: str, target: str, wr_id: str
) -> None:
    """Enter a transient `state` that becomes `target` after the control-plane delay."""
    now = time.time()
    c.execute(
        f"UPDATE {table} SET state = ?, target_state = ?, due_at = ?, wr_id = ?, time_updated = ? WHERE id = ?",
        [state, target, now + emu.config.control_plane_delay_s, wr_id, now, rid],
    )


def transition(
    c: sqlite3.Connection, emu: Emulator, kind: Kind, operation: str, compartment_id: str, rid: str,
    state: str, target: str,
) -> str:
    """Record the work request `operation` and `begin` its transition; returns the work request id."""
    wr_id = kind.work_request(c, operation, compartment_id, rid)
    begin(c, emu, kind.table, rid, state, target, wr_id)
    return wr_id


def mutable(ctx: Ctx, kind: Kind, row: sqlite3.Row, verb: str) -> None:
    """404 once DELETED, 412 on an If-Match mismatch, 409 unless ACTIVE."""
    if row["state"] == "DELETED":
        raise not_found(kind.name, row["id"])
    check_if_match(ctx, row["etag"])
    if row["state"] != "ACTIVE":
        raise incorrect_state(f"{kind.name} '{row['id']}' is {row['state']}; it can be {verb} only when ACTIVE.")


# -- the routes' mutations (validation stays with each kind) -------------------------------------
def create(
    ctx: Ctx, kind: Kind, *, ocid_kind: str, operation: str, retry_op: str, raw: bytes, compartment_id: str,
    columns: dict[str, Any],
) -> Response:
    """Insert a CREATING row with the kind's own `columns`, due to become ACTIVE; remember the retry
    token; answer the new resource."""
    rid, now = new_ocid(ocid_kind), time.time()
    row = {"id": rid, "compartment_id": compartment_id, "tenant_id": tenant_of(ctx), **columns,
           "state": "CREATING", "time_created": now, "time_updated": now, "etag": new_etag()}
    with ctx.emu.db.tx() as c:
        c.execute(f"INSERT INTO {kind.table}({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                  list(row.values()))
        wr_id = transition(c, ctx.emu, kind, operation, compartment_id, rid, "CREATING", "ACTIVE")
        remember(c, ctx, retry_op, raw, rid, wr_id)
    return kind.answer(ctx, rid, wr_id)


def update(ctx: Ctx, kind: Kind, row: sqlite3.Row, operation: str, columns: dict[str, Any]) -> Response:
    """Set `columns` and a new etag, UPDATING -> ACTIVE; answer the resource."""
    sets = {**columns, "etag": new_etag()}
    with ctx.emu.db.tx() as c:
        c.execute(f"UPDATE {kind.table} SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
                  [*sets.values(), row["id"]])
        wr_id = transition(c, ctx.emu, kind, operation, row["compartment_id"], row["id"], "UPDATING", "ACTIVE")
    return kind.answer(ctx, row["id"], wr_id)


def delete(ctx: Ctx, kind: Kind, row: sqlite3.Row, operation: str) -> Response:
    """DELETING -> DELETED; answer 202 with the work request."""
    with ctx.emu.db.tx() as c:
        wr_id = transition(c, ctx.emu, kind, operation, row["compartment_id"], row["id"], "DELETING", "DELETED")
    return accepted(ctx, wr_id)


class ControlPlane(BackgroundThread):
    label = "control-plane"

    def __init__(self, emu: Emulator) -> None:
        super().__init__()
        self.emu = emu
        with emu.db.lock:
            emu.db.conn.executescript(SCHEMA)

    # -- transitions ---------------------------------------------------------------------------
    def settle(self) -> None:
        now = time.time()
        with self.emu.db.tx() as c:
            for table in _TABLES:
                for r in c.execute(
                    f"SELECT id, state, target_state, wr_id FROM {table}"
                    " WHERE target_state IS NOT NULL AND due_at <= ?",
                    [now],
                ).fetchall():
                    c.execute(
                        f"UPDATE {table} SET state = target_state, target_state = NULL, due_at = NULL,"
                        " time_updated = ? WHERE id = ?",
                        [now, r["id"]],
                    )
                    action = "CREATED" if r["state"] == "CREATING" else _ACTIONS.get(r["target_state"], "UPDATED")
                    finish_work_request(c, r["wr_id"], "SUCCEEDED", action)
                    if table == "cp_connectors" and r["target_state"] == "DELETED":
                        c.execute("DELETE FROM cp_connector_objects WHERE connector_id = ?", [r["id"]])
                c.execute(
                    f"DELETE FROM {table} WHERE state = 'DELETED' AND time_updated <= ?", [now - DELETED_RETENTION_S]
                )

    def step(self) -> bool:
        """Settle and advance file syncs. Returns True while any work is pending."""
        db, now = self.emu.db, time.time()
        self.settle()
        for s in db.all("SELECT * FROM cp_file_syncs WHERE state = 'ACCEPTED' AND due_at <= ? ORDER BY seq", [now]):
            cp_sync.start(self.emu, s)
        for s in db.all("SELECT * FROM cp_file_syncs WHERE state = 'IN_PROGRESS' ORDER BY seq"):
            cp_sync.refresh(self.emu, s)
        for s in db.all("SELECT * FROM cp_file_syncs WHERE state = 'CANCELING' AND due_at <= ? ORDER BY seq", [now]):
            cp_sync.finish_cancel(self.emu, s)
        busy = db.one(
            "SELECT (SELECT COUNT(*) FROM cp_file_syncs WHERE state IN ('ACCEPTED', 'IN_PROGRESS', 'CANCELING'))"
            " + (SELECT COUNT(*) FROM cp_projects WHERE target_state IS NOT NULL)"
            " + (SELECT COUNT(*) FROM cp_connectors WHERE target_state IS NOT NULL) AS n"
        )
        return bool(busy and busy["n"])

    def tick(self) -> float:
        return 0.02 if self.step() else 0.5
