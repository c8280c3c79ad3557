"""Lost create responses and adoption without downloads (issue #12, items 6 and 7): OCI refuses to
download `assistants` files and prefixes container file paths with a hash; neither may make a
lost create end in a duplicate, nor an import depend on a download."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from ocigen_iac.emulator import EmulatorServer, Faults
from tests.engine.harness import API_KEY, PROJECT
from tests.fidelity.support import (
    CONTAINER,
    HANDBOOK,
    apply_ok,
    assert_no_changes,
    objects,
    project_for,
    quiet,
    set_faults,
    state_ids,
)

TRUSTED = "by filename, size and creation time"


def test_lost_file_creates_are_adopted_without_downloading_and_the_output_says_what_was_trusted(
        tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> None:
    project = project_for(tmp_path, make_emulator, **quiet())
    set_faults(project, Faults(rate_lost_create=1.0, routes=["POST /files"]))
    r = apply_ok(project)
    set_faults(project, Faults())
    assert TRUSTED in r.output, r.output[-3000:]
    live = {f["id"] for f in objects(project)["files"]}
    assert live == set(state_ids(project, "file").values()) and len(live) == 7  # no duplicate uploads
    assert_no_changes(project)


def test_import_of_a_file_the_service_will_not_let_us_download_trusts_name_and_size_and_says_so(
        tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> None:
    project = project_for(tmp_path, make_emulator, **quiet())
    handbook = project.root / "manifests" / "docs" / "handbook.md"
    up = project.http.post("/files", data={"purpose": "assistants"},
                           files={"file": ("handbook.md", handbook.read_bytes(), "text/markdown")},
                           headers={"Authorization": f"Bearer {API_KEY}", "OpenAI-Project": PROJECT})
    up.raise_for_status()
    file_id = up.json()["id"]
    assert project.http.get(f"/files/{file_id}/content").status_code == 400  # downloads are refused

    r = project.run("import", HANDBOOK, file_id)
    assert r.exit_code == 0, r.output
    assert "trusted" in r.output and "download" in r.output, r.output
    plan = project.run("plan", "manifests", "--json")
    assert plan.exit_code == 0, plan.output
    touched = {c["address"] for c in plan.json()["resource_changes"]}
    assert HANDBOOK not in touched, "the imported file would be uploaded again"
    apply_ok(project)
    assert state_ids(project, "file")[HANDBOOK] == file_id
    assert len(objects(project)["files"]) == 7
    assert_no_changes(project)


def test_lost_container_and_container_file_creates_are_adopted_despite_hashed_paths(
        tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> None:
    project = project_for(tmp_path, make_emulator, **quiet())
    set_faults(project, Faults(rate_lost_create=1.0, routes=["POST /containers"]))
    apply_ok(project)
    set_faults(project, Faults())
    live = objects(project)
    assert len(live["containers"]) == 1
    paths = sorted(f["path"] for f in live["container_files"])
    assert len(paths) == 2, f"untracked duplicates left in the container: {paths}"
    assert all(re.fullmatch(r"/mnt/data/[0-9a-f]{8}-(handbook\.md|prices\.csv)", p) for p in paths), paths
    tracked = {r["id"] for r in project.state()["resources"].values() if r["kind"] == "container_file"}
    assert tracked == {f["id"] for f in live["container_files"]}
    assert state_ids(project, "container")[CONTAINER] == live["containers"][0]["id"]
    assert_no_changes(project)
