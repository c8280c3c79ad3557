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

import logging
import threading
import time
from typing import TYPE_CHECKING

from . import cp_sync
from .cp_common import SCHEMA, finish_work_request

if TYPE_CHECKING:
    import sqlite3

    from .core import Emulator

log = logging.getLogger("ocigen_iac.emulator")
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


class ControlPlane:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        with emu.db.lock:
            emu.db.conn.executescript(SCHEMA)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="emulator-control-plane", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def wake(self) -> None:
        self._wake.set()

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

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = 0.5
            try:
                if self.step():
                    wait = 0.02
            except Exception:  # keep the thread alive; the error is logged
                if self._stop.is_set():
                    return
                log.exception("control-plane worker error")
            self._wake.wait(wait)
            self._wake.clear()
