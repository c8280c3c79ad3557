"""What OCI's answers mean (issue #12, items 10 and 11): a 404 `NotAuthorizedOrNotFound` on a
delete is "already gone, or not permitted", never a silent success; a container's expiry is what
the server accepted (OCI fixes it at 20 minutes), not what was asked."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from ocigen_iac.emulator import EmulatorServer, Faults
from tests.fidelity.support import (
    CONTAINER,
    HANDBOOK,
    admin,
    apply_ok,
    assert_no_changes,
    expire,
    objects,
    project_for,
    quiet,
    requests_by_route,
    reset_counters,
    set_faults,
    state_ids,
)
from tests.support.background import looking


def test_a_delete_answered_not_found_is_reported_as_already_gone_or_not_permitted(
        tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> None:
    project = project_for(tmp_path, make_emulator, **quiet())
    apply_ok(project)
    handbook = state_ids(project, "file")[HANDBOOK]

    # The handbook disappears after refresh saw it, while its own delete is on the way: hold file
    # deletes at the server for a second, and remove the file once its dependents are gone.
    set_faults(project, Faults(latency_ms=1000, routes=["DELETE /files"]))
    removed = threading.Event()

    def remove_when_detached() -> bool:
        live = objects(project)
        if not any(a["id"] == handbook for a in live["vector_store_files"]) and \
                not any(f.get("source") == handbook for f in live["container_files"]):
            expire(project, file_id=handbook)
            removed.set()
        return removed.is_set()

    try:
        with looking(remove_when_detached, looks=3000, pause_s=0.02):  # bounded: about 60 s
            r = project.run("destroy", "manifests", "--auto-approve")
    finally:
        set_faults(project, Faults())
    assert r.exit_code == 0, r.output
    assert removed.is_set(), "the test did not get to remove the handbook before its delete"
    assert admin(project, "counters")["status"].get("404", 0) >= 1  # its delete answered 404
    lines = [line for line in r.output.splitlines() if HANDBOOK in line and handbook in line]
    assert any("already gone or not permitted" in line for line in lines), r.output[-3000:]
    assert objects(project)["files"] == []
    again = project.run("plan", "manifests", "--destroy", "--detailed-exitcode")
    assert again.exit_code == 0 and "No changes." in again.stdout, again.output  # nothing left to destroy


def test_a_container_whose_server_fixes_its_expiry_is_not_replaced_on_every_apply(
        tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> None:
    project = project_for(tmp_path, make_emulator, **quiet())  # asks for 60 minutes
    apply_ok(project)
    container_id = state_ids(project, "container")[CONTAINER]
    live = objects(project)["containers"][0]
    assert live["expires_after"]["minutes"] == 20, "the default emulator should answer OCI's fixed 20 minutes"

    reset_counters(project)
    assert_no_changes(project)
    apply_ok(project)
    assert state_ids(project, "container")[CONTAINER] == container_id
    assert [c["id"] for c in objects(project)["containers"]] == [container_id]
    # retrieving a container counts as activity (it refreshes last_active_at): refresh lists instead
    assert requests_by_route(project).get("GET /openai/v1/containers/{id}", 0) == 0
