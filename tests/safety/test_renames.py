"""Renaming a File keeps its documents: `state mv` moves every glob member and every address that
depends on it, and a manifest can declare the move itself (`moved:`) for GitOps, where nobody runs
state commands. The live objects keep their ids and the store never loses a document."""

from __future__ import annotations

from ocigen_iac.emulator import Faults
from tests.engine.harness import Project
from tests.safety.checks import (
    apply_ok,
    assert_converged,
    assert_plan_clean,
    assert_store_has_exactly,
    live_store_files,
    resources,
)
from tests.support.background import looking

STORE = "vector_store.support-kb"
CONTAINER = "container.analyst-sandbox"
FAQS = ("account.md", "billing.md", "storage.md")


def old_faq(name: str) -> str:
    return f'file.faq["{name}"]'


def new_faq(name: str) -> str:
    return f'file.faqs["{name}"]'


def edit(project: Project, manifest: str, *replacements: tuple[str, str]) -> None:
    path = project.root / "manifests" / manifest
    text = path.read_text()
    for old, new in replacements:
        assert old in text, f"{manifest} no longer contains {old!r}"
        text = text.replace(old, new)
    path.write_text(text)


def rename_faq_in_manifests(project: Project, moved_block: str = "") -> None:
    edit(project, "knowledge-base.yaml",
         ("metadata:\n  name: faq\nspec:", f"metadata:\n  name: faqs\n{moved_block}spec:"),
         ("    - file: faq\n", "    - file: faqs\n"))
    edit(project, "retrieval-checks.yaml", ("'faq[", "'faqs["))  # what the checks expect follows the rename


def store_documents(project: Project) -> set[str]:
    return {rs["attrs"]["file"] for rs in resources(project).values()
            if rs["kind"] == "vector_store_file" and rs["attrs"].get("vector_store") == STORE}


def test_state_mv_of_a_glob_file_moves_every_member_and_attachment_and_the_renamed_manifest_plans_no_changes(
        examples: Project) -> None:
    project = examples
    apply_ok(project)
    ids = {name: resources(project)[old_faq(name)]["id"] for name in FAQS}

    r = project.run("state", "mv", "file.faq", "file.faqs")
    assert r.exit_code == 0, r.output
    state = resources(project)
    for name in FAQS:
        assert old_faq(name) not in state and state[new_faq(name)]["id"] == ids[name]
        assert f"{STORE}.files[{old_faq(name)}]" not in state
        assert state[f"{STORE}.files[{new_faq(name)}]"]["id"] == ids[name]

    rename_faq_in_manifests(project)
    assert_plan_clean(project)
    assert_store_has_exactly(project, STORE, store_documents(project))
    assert {new_faq(n) for n in FAQS} <= store_documents(project)


def test_state_mv_of_a_file_moves_its_attachments_and_container_copies(examples: Project) -> None:
    project = examples
    apply_ok(project)
    file_id = resources(project)["file.handbook"]["id"]
    moved = {f"{STORE}.files[file.handbook]": f"{STORE}.files[file.guide]",
             f"{CONTAINER}.files[file.handbook]": f"{CONTAINER}.files[file.guide]"}
    ids = {old: resources(project)[old]["id"] for old in moved}

    r = project.run("state", "mv", "file.handbook", "file.guide")
    assert r.exit_code == 0, r.output
    state = resources(project)
    assert state["file.guide"]["id"] == file_id
    left_behind = sorted(old for old in moved if old in state)
    assert not left_behind, f"state mv left dependent addresses behind: {left_behind}"
    for old, new in moved.items():
        assert state[new]["id"] == ids[old]

    edit(project, "knowledge-base.yaml", ("metadata:\n  name: handbook\n", "metadata:\n  name: guide\n"),
         ("    - handbook\n", "    - guide\n"))
    edit(project, "analyst-sandbox.yaml", ("    - handbook\n", "    - guide\n"))
    edit(project, "retrieval-checks.yaml", ("expect: [handbook]", "expect: [guide]"))
    assert_plan_clean(project)
    assert_store_has_exactly(project, STORE, store_documents(project))


def test_a_moved_block_in_the_manifest_renames_a_glob_file_without_losing_a_document(examples: Project) -> None:
    project = examples
    apply_ok(project)
    ids = {name: resources(project)[old_faq(name)]["id"] for name in FAQS}
    store_id = resources(project)[STORE]["id"]
    rename_faq_in_manifests(project, moved_block="moved:\n  - from: file.faq\n")

    text = project.run("plan", "manifests")
    assert text.exit_code == 0, text.output
    for name in FAQS:
        assert f"# {old_faq(name)} has moved to {new_faq(name)}" in text.stdout, text.stdout
    data = project.run("plan", "manifests", "--json").json()
    assert data["change_summary"]["add"] == 0 and data["change_summary"]["destroy"] == 0, data["change_summary"]
    assert {c["action"] for c in data["resource_changes"]} == {"move"}, data["resource_changes"]
    moves = {c["address"]: c.get("previous_address") for c in data["resource_changes"]}
    for name in FAQS:
        assert moves.get(new_faq(name)) == old_faq(name)

    # Watch the store while apply runs: every look must hold every FAQ document.
    project.server.set_faults(Faults(latency_ms=20))
    seen: list[set[str]] = []
    try:
        with looking(lambda: seen.append({f["id"] for f in live_store_files(project.http, store_id)})):
            r = project.run("apply", "manifests", "--auto-approve")
    finally:
        project.server.set_faults(Faults())
    assert r.exit_code == 0, r.output
    assert seen and all(set(ids.values()) <= look for look in seen), "the store lost a document during the move"
    state = resources(project)
    for name in FAQS:
        assert old_faq(name) not in state and state[new_faq(name)]["id"] == ids[name]
    assert_converged(project, {STORE: store_documents(project)})
