"""`destroy --target` removes exactly what its plan lists: the target and what cannot outlive
it, never a File that other objects still use, and the stores keep every other document."""

from __future__ import annotations

import re

from tests.engine.harness import Project
from tests.safety.checks import apply_ok, assert_converged, assert_store_has_exactly, container_file_name, resources

STORE = "vector_store.support-kb"
CONTAINER = "container.analyst-sandbox"
HANDBOOK = "file.handbook"


def destroyed_in_text(text: str) -> set[str]:
    return set(re.findall(r"^  # (.+?) will be destroyed", text, flags=re.M))


def destroy_plan(project: Project, target: str) -> tuple[set[str], set[str]]:
    """(addresses the JSON plan deletes, addresses the text plan says will be destroyed)."""
    data = project.run("plan", "manifests", "--destroy", "--target", target, "--json").json()
    assert {c["action"] for c in data["resource_changes"]} <= {"delete"}, data["resource_changes"]
    text = project.run("plan", "manifests", "--destroy", "--target", target).stdout
    return {c["address"] for c in data["resource_changes"]}, destroyed_in_text(text)


def store_documents(project: Project) -> set[str]:
    """File addresses the example store declares (directly and through its file batch)."""
    return {rs["attrs"]["file"] for rs in resources(project).values()
            if rs["kind"] == "vector_store_file" and rs["attrs"].get("vector_store") == STORE}


def creates_in_next_plan(project: Project) -> set[str]:
    data = project.run("plan", "manifests", "--json").json()
    assert {c["action"] for c in data["resource_changes"]} <= {"create"}, data["resource_changes"]
    return {c["address"] for c in data["resource_changes"]}


def test_destroy_target_container_destroys_it_and_its_files_but_never_the_files_it_copies(
        examples: Project) -> None:
    project = examples
    apply_ok(project)
    documents = store_documents(project)
    assert HANDBOOK in documents and len(documents) == 7
    handbook_id = resources(project)[HANDBOOK]["id"]
    container_part = {a for a in resources(project) if a == CONTAINER or a.startswith(CONTAINER + ".")}
    assert len(container_part) == 3  # the container, its copy of the handbook, prices.csv

    in_json, in_text = destroy_plan(project, CONTAINER)
    assert in_json == container_part, f"the plan should destroy exactly the container and its files: {in_json}"
    assert in_text == container_part

    r = project.run("destroy", "manifests", "--target", CONTAINER, "--auto-approve")
    assert r.exit_code == 0, r.output
    assert "Destroy complete! Resources: 3 destroyed." in r.stdout
    state = resources(project)
    assert HANDBOOK in state and state[HANDBOOK]["id"] == handbook_id, "the copied File left state"
    assert handbook_id in {f["id"] for f in project.objects()["files"]}, "the copied File was deleted"
    assert_store_has_exactly(project, STORE, documents)  # the store lost nothing

    assert creates_in_next_plan(project) == container_part  # only what was destroyed comes back
    apply_ok(project)
    assert_converged(project, {STORE: documents})


def test_destroy_target_file_lists_and_destroys_its_attachments_and_copies_and_stores_keep_the_rest(
        examples: Project) -> None:
    project = examples
    apply_ok(project)
    documents = store_documents(project)
    attachment = f"{STORE}.files[{HANDBOOK}]"
    copy = f"{CONTAINER}.files[{HANDBOOK}]"
    assert {attachment, copy} <= set(resources(project))
    implied = {HANDBOOK, attachment, copy}

    in_json, in_text = destroy_plan(project, HANDBOOK)
    assert in_json == implied, f"the plan should list the File, its attachment and its container copy: {in_json}"
    assert in_text == implied

    r = project.run("destroy", "manifests", "--target", HANDBOOK, "--auto-approve")
    assert r.exit_code == 0, r.output
    assert "Destroy complete! Resources: 3 destroyed." in r.stdout
    assert not implied & set(resources(project)), "state still records what was destroyed"
    assert_store_has_exactly(project, STORE, documents - {HANDBOOK})  # every other document stays
    cid = resources(project)[CONTAINER]["id"]
    names = sorted(container_file_name(f["path"])
                   for f in project.http.get(f"/containers/{cid}/files").json()["data"])
    assert names == ["prices.csv"]

    assert creates_in_next_plan(project) == implied
    apply_ok(project)
    assert_converged(project, {STORE: documents})
