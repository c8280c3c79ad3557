"""A recursive glob with the same base name in two folders: two Files, both uploaded as the base
name, attached to the store, and the next plan is clean."""

from __future__ import annotations

from collections.abc import Callable

from tests.engine.harness import Project
from tests.safety.checks import apply_ok, assert_converged, live_files, resources
from tests.support.corpus import kb_manifest

MANIFEST = kb_manifest("kb", "kb/**/*.md")
A = 'file.kb["a/doc.md"]'
B = 'file.kb["b/doc.md"]'


def test_nested_glob_members_with_the_same_base_name_are_two_files_uploaded_as_the_base_name(
        make_project: Callable[..., Project]) -> None:
    project = make_project()
    m = project.root / "manifests"
    for folder in ("a", "b"):
        (m / "kb" / folder).mkdir(parents=True)
        (m / "kb" / folder / "doc.md").write_text(f"# Notes from team {folder}\n\nOnly {folder} knows this.\n")
    (m / "kb.yaml").write_text(MANIFEST)

    plan = project.run("plan", "manifests", "--json").json()
    files = {c["address"]: c["after"] for c in plan["resource_changes"] if c["kind"] == "file"}
    assert set(files) == {A, B}
    assert {f["filename"] for f in files.values()} == {"doc.md"}, files

    apply_ok(project)
    state = resources(project)
    assert state[A]["id"] != state[B]["id"]
    live = {f["id"]: f["filename"] for f in live_files(project.http)}
    assert live == {state[A]["id"]: "doc.md", state[B]["id"]: "doc.md"}
    assert_converged(project, {"vector_store.kb": {A, B}})
