"""An attachment that changes the document declaring it (a VectorStoreFileBatch is removed and
its store now lists the same files itself) is the same object under a new address: it moves in
state. Before, the plan adopted it at the new address and destroyed it at the old one, so the
apply detached the very object it had just adopted and then failed to update it (HTTP 404)."""

from __future__ import annotations

from collections.abc import Callable

from tests.engine.harness import Project
from tests.safety.checks import apply_ok, assert_converged, resources

STORE = "vector_store.kb"
HEADER = "apiVersion: ocigen-iac/v1\n"


def write(project: Project, with_batch: bool) -> None:
    m = project.root / "manifests"
    for name in ("a.md", "b.md", "c.md"):
        path = m / "docs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {name}\nSome text about {name}.\n")
    files = "[]" if with_batch else "[docs]"
    text = (f"{HEADER}kind: File\nmetadata: {{name: docs}}\nspec: {{glob: 'docs/*.md'}}\n---\n"
            f"{HEADER}kind: VectorStore\nmetadata: {{name: kb}}\nspec:\n  name: kb\n  files: {files}\n")
    if with_batch:
        text += (f"---\n{HEADER}kind: VectorStoreFileBatch\nmetadata: {{name: bulk}}\n"
                 "spec:\n  vector_store: kb\n  files: [docs]\n  attributes: {source: batch}\n")
    for old in m.glob("*.yaml"):
        old.unlink()
    (m / "kb.yaml").write_text(text)


def test_files_moving_from_a_batch_document_to_their_store_keep_their_attachments(
        make_project: Callable[..., Project]) -> None:
    project = make_project()
    write(project, with_batch=True)
    apply_ok(project)
    before = {a: rs["id"] for a, rs in resources(project).items() if rs["kind"] == "vector_store_file"}
    assert len(before) == 3 and all(a.startswith("vector_store_file_batch.bulk.files[") for a in before)

    write(project, with_batch=False)  # the batch document goes; the store declares the files itself
    plan = project.run("plan", "manifests")
    assert plan.exit_code == 0, plan.output
    assert "destroyed" not in plan.output, plan.output  # nothing is detached: the objects stay
    assert "has moved from vector_store_file_batch.bulk.files[" in plan.output, plan.output
    assert "3 to move" in plan.output and "to import" not in plan.output, plan.output

    r = apply_ok(project)
    assert "0 destroyed" in r.output, r.output[-2000:]
    after = {a: rs["id"] for a, rs in resources(project).items() if rs["kind"] == "vector_store_file"}
    assert sorted(after.values()) == sorted(before.values())  # the same attachments, now the store's
    assert all(a.startswith(f"{STORE}.files[") for a in after)
    assert_converged(project, {STORE: {'file.docs["a.md"]', 'file.docs["b.md"]', 'file.docs["c.md"]'}})
