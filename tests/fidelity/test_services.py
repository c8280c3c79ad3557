"""Servers that differ from OCI in what they serve and how they say "missing" (issue #12, items 1
and 12, and the `missing-400` variant)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ocigen_iac.emulator import EmulatorServer
from tests.engine.harness import Project
from tests.fidelity.support import (
    HANDBOOK,
    apply_ok,
    assert_no_changes,
    expire,
    objects,
    project_for,
    quiet,
    state_ids,
)


def test_manifests_without_containers_plan_and_apply_on_a_server_without_containers(
        tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> None:
    project = project_for(tmp_path, make_emulator, "no-containers", containers=False, **quiet())
    plan = project.run("plan", "manifests")
    assert plan.exit_code == 0, plan.output
    apply_ok(project)
    assert_no_changes(project)
    assert len(objects(project)["files"]) == 7


def test_declared_containers_on_a_server_without_them_fail_naming_the_endpoint(
        tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> None:
    project = project_for(tmp_path, make_emulator, "no-containers", **quiet())
    r = project.run("apply", "manifests", "--auto-approve")
    assert r.exit_code == 1, r.output
    assert "does not serve /containers" in r.output, r.output
    assert "/openai/v1/containers" in r.output  # the endpoint that answered 404
    assert "Traceback" not in r.output
    assert objects(project)["files"] == []  # refused before anything was uploaded


def test_a_server_answering_400_for_missing_objects_still_plans_recreate_and_destroys(
        tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> None:
    project = project_for(tmp_path, make_emulator, "missing-400", **quiet())
    apply_ok(project)
    expire(project, file_id=state_ids(project, "file")[HANDBOOK])  # deleted behind the tool's back

    plan = project.run("plan", "manifests", "--json")
    assert plan.exit_code == 0, plan.output
    reasons = {c["address"]: c["reasons"][0]["code"] for c in plan.json()["resource_changes"]}
    assert reasons.get(HANDBOOK) == "create_because_deleted_outside", reasons
    apply_ok(project)
    assert_no_changes(project)

    gone = project.run("destroy", "manifests", "--auto-approve")
    assert gone.exit_code == 0, gone.output
    left = objects(project)
    assert (left["files"], left["vector_stores"], left["containers"]) == ([], [], [])


def test_oracles_sample_store_name_validates_and_round_trips(
        tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> None:
    project = Project(tmp_path / "proj", make_emulator(**quiet()))
    kb = project.root / "manifests" / "knowledge-base.yaml"
    kb.write_text(kb.read_text().replace("name: support-kb-${var.env}", "name: OCI Support FAQ Vector Store"))
    r = project.run("validate", "manifests")
    assert r.exit_code == 0, r.output
    apply_ok(project)
    assert [s["name"] for s in objects(project)["vector_stores"]] == ["OCI Support FAQ Vector Store"]
    assert_no_changes(project)
