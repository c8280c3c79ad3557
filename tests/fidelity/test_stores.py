"""Vector stores as OCI serves them (issue #12, items 2-5): server-added metadata keys, the
`file_ids` batch body, a new store that is not ready at once, files still being processed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ocigen_iac.emulator import EmulatorServer
from tests.engine.harness import Project
from tests.fidelity.support import (
    STORE,
    apply_ok,
    assert_no_changes,
    objects,
    project_for,
    quiet,
    requests_by_route,
    state_ids,
)

BATCH_ROUTE = "POST /openai/v1/vector_stores/{id}/file_batches"
ATTACH_ROUTE = "POST /openai/v1/vector_stores/{id}/files"


def attachments_by_file(project: Project) -> dict[str, dict]:
    store_id = state_ids(project, "vector_store")[STORE]
    return {a["id"]: a for a in objects(project)["vector_store_files"] if a["vector_store_id"] == store_id}


def assert_store_complete(project: Project, expected: int = 7) -> None:
    live = attachments_by_file(project)
    assert len(live) == expected, f"{len(live)} of {expected} documents attached"
    bad = {i: (a["status"], a.get("last_error")) for i, a in live.items() if a["status"] != "completed"}
    assert not bad, bad


def test_server_added_metadata_keys_cause_no_diff_and_survive_an_update(
        tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> None:
    project = project_for(tmp_path, make_emulator, **quiet())
    apply_ok(project)
    store_id = state_ids(project, "vector_store")[STORE]
    server_keys = objects(project)["store_server_keys"][store_id]
    assert server_keys["keys"], "the emulator should have added its own metadata keys"
    assert_no_changes(project)

    kb = project.root / "manifests" / "knowledge-base.yaml"
    kb.write_text(kb.read_text().replace("team: support", "team: platform"))
    plan = project.run("plan", "manifests", "--json").json()
    changes = [(c["address"], c["action"], [a["path"] for a in c["attr_changes"]]) for c in plan["resource_changes"]]
    assert changes == [(STORE, "update", ["metadata.team"])], changes
    apply_ok(project)

    after = objects(project)
    assert after["store_server_keys"][store_id]["present"], "the update dropped the server's metadata keys"
    assert after["store_server_keys"][store_id]["dropped"] == 0
    store = next(s for s in after["vector_stores"] if s["id"] == store_id)
    assert store["metadata"]["team"] == "platform"
    assert_no_changes(project)


def test_a_server_that_takes_only_file_ids_gets_one_batch_per_group_with_shared_attributes(
        tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> None:
    project = project_for(tmp_path, make_emulator, "file-ids-batches", **quiet())
    apply_ok(project)
    assert_store_complete(project)
    sections = sorted((a.get("attributes") or {}).get("section", "-") for a in attachments_by_file(project).values())
    assert sections == ["-", "faq", "faq", "faq", "policy", "policy", "policy"]
    served = requests_by_route(project)
    assert served.get(ATTACH_ROUTE, 0) == 0, "files were attached one by one instead of in batches"
    assert 1 <= served.get(BATCH_ROUTE, 0) <= 3  # one per group of equal attributes (3 groups), none rejected
    batches = objects(project)["file_batches"]
    assert sum(b["file_counts"]["completed"] for b in batches) == 7
    assert_no_changes(project)


def test_a_new_store_that_is_not_ready_at_once_is_waited_for(
        tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> None:
    project = project_for(tmp_path, make_emulator,
                          **quiet(store_ready_delay_s=1.5, store_visibility_lag_s=1.0))
    apply_ok(project)  # one apply: no "run apply again"
    assert_store_complete(project)
    assert_no_changes(project)


def test_files_still_processing_are_waited_for_before_they_are_attached(
        tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> None:
    project = project_for(tmp_path, make_emulator, **quiet(file_process_delay_s=1.0))
    apply_ok(project)
    assert_store_complete(project)  # none `failed` with invalid_file ("still being processed")
    assert_no_changes(project)
