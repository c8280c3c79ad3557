"""The compatibility matrix: the engine's end-to-end scenario against every emulator variant
(ocigen_iac.emulator.VARIANTS), each with its strict defaults on (stores and files not ready at
once). On `no-containers` the example manifests go without their Container document.

Scenario, each step followed by a plan that must say "No changes.": apply the example manifests;
edit a document; rename a File with a `moved:` entry (ids kept); delete a document; kill -9 an
apply mid-way, then ONE apply converges; destroy leaves nothing. The README's matrix table is
this test's result."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from ocigen_iac.emulator import VARIANTS, EmulatorServer, Faults
from tests.engine.harness import Project
from tests.fidelity.support import (
    CONTAINER,
    HANDBOOK,
    STORE,
    apply_ok,
    assert_no_changes,
    objects,
    project_for,
    reset_counters,
    set_faults,
    state_ids,
)
from tests.safety.checks import assert_no_stray_files, assert_store_has_exactly
from tests.safety.corpus import uploads
from tests.safety.proc import interrupt, spawn_cli, wait_until

FAQS = ("account.md", "billing.md", "storage.md")
POLICIES = ("acceptable-use.md", "data-retention.md", "refunds.md")


def documents(faq: str = "faq", policies: tuple[str, ...] = POLICIES) -> set[str]:
    return {HANDBOOK, *(f'file.{faq}["{n}"]' for n in FAQS), *(f'file.policies["{n}"]' for n in policies)}


def assert_converged(project: Project, docs: set[str], containers: bool) -> None:
    assert_store_has_exactly(project, STORE, docs)
    assert_no_stray_files(project)
    if containers:
        live = objects(project)
        assert [c["id"] for c in live["containers"]] == [state_ids(project, "container")[CONTAINER]]
        assert {f["id"] for f in live["container_files"]} == set(state_ids(project, "container_file").values())
        assert len(live["container_files"]) == 2
    assert_no_changes(project)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path.name} no longer contains {old!r}"
    path.write_text(text.replace(old, new))


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_end_to_end_scenario_converges_on_every_variant(
        variant: str, tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> None:
    containers = variant != "no-containers"
    project = project_for(tmp_path, make_emulator, variant, containers=containers)
    manifests = project.root / "manifests"

    # 1. apply the example manifests
    apply_ok(project)
    assert_converged(project, documents(), containers)

    # 2. edit a document: replaced (create before destroy), the store keeps it throughout
    old_handbook = state_ids(project, "file")[HANDBOOK]
    handbook = manifests / "docs" / "handbook.md"  # an edit that keeps what the retrieval checks ask for
    handbook.write_text(handbook.read_text() + "\nEdited: escalations also go to tier 2.\n")
    apply_ok(project)
    assert state_ids(project, "file")[HANDBOOK] != old_handbook
    assert_converged(project, documents(), containers)

    # 3. rename a File with a `moved:` entry: same objects under new addresses
    faq_ids = {n: state_ids(project, "file")[f'file.faq["{n}"]'] for n in FAQS}
    kb = manifests / "knowledge-base.yaml"
    edit(kb, "metadata:\n  name: faq\nspec:", "metadata:\n  name: faqs\nmoved:\n  - from: file.faq\nspec:")
    edit(kb, "    - file: faq\n", "    - file: faqs\n")
    edit(manifests / "retrieval-checks.yaml", "'faq[", "'faqs[")  # what the checks expect follows the rename
    apply_ok(project)
    assert {n: state_ids(project, "file")[f'file.faqs["{n}"]'] for n in FAQS} == faq_ids
    assert_converged(project, documents("faqs"), containers)

    # 4. delete a document (one no retrieval check asks for): detached and deleted
    (manifests / "docs" / "policies" / "acceptable-use.md").unlink()
    apply_ok(project)
    kept = POLICIES[1:]
    assert_converged(project, documents("faqs", kept), containers)

    # 5. kill -9 in the middle of an apply (four documents being replaced), then ONE apply converges
    for doc in ("handbook.md", *(f"faq/{n}" for n in FAQS)):
        path = manifests / "docs" / doc
        path.write_text(path.read_text() + "\nEdited again before the crash.\n")
    reset_counters(project)
    set_faults(project, Faults(latency_ms=40))
    run = spawn_cli(project.root, "apply", "manifests", "--auto-approve", "--parallelism", "2")
    try:
        wait_until(lambda: uploads(project.server.url) >= 1 or not run.alive(), 60, "the first upload")
        assert run.alive(), f"apply finished before it could be killed:\n{run.stdout()[-2000:]}"
        code, _, _ = interrupt(run, signal.SIGKILL)
    finally:
        run.ensure_dead()
        set_faults(project, Faults())
    assert code == -signal.SIGKILL
    apply_ok(project)
    assert_converged(project, documents("faqs", kept), containers)

    # 6. destroy: nothing this project made is left
    r = project.run("destroy", "manifests", "--auto-approve")
    assert r.exit_code == 0, r.output[-3000:]
    left = objects(project)
    assert (left["files"], left["vector_stores"], left["containers"]) == ([], [], [])
    assert project.state()["resources"] == {}
