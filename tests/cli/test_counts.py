"""Counts a user compares: validate's documents and objects, plan's objects, the progress bar."""

from __future__ import annotations

import re

from tests.engine.harness import Project
from tests.safety.terminal import TerminalSession


def test_validate_says_documents_and_objects_and_plan_counts_the_objects(project: Project) -> None:
    r = project.run("validate", "manifests")
    assert r.exit_code == 0, r.output
    first = r.stdout.splitlines()[0]
    assert first == "Found 3 manifest files: 7 documents declare 18 objects (plan counts objects)."
    assert "  documents: 3 File (7 files after glob expansion), 1 VectorStore" in r.stdout
    assert "  objects:   7 file, 1 vector_store, 7 vector_store_file, 1 container, 2 container_file" in r.stdout
    data = project.run("validate", "manifests", "--json").json()
    assert data["object_count"] == 18 and data["documents"]["File"] == 3
    plan = project.run("plan", "manifests", "--json").json()
    assert plan["change_summary"]["add"] == data["object_count"]


def _bar_totals(text: str, label: str) -> set[str]:
    """The totals shown by progress bars labelled `label` ("destroy ━━━━ 3/18")."""
    return {total for _, total in re.findall(rf"^{label} .*?(\d+)/(\d+)", text, flags=re.M)}


def test_the_progress_bar_counts_objects_and_names_the_operation(project: Project) -> None:
    for command, label in (("apply", "apply"), ("destroy", "destroy")):
        session = TerminalSession(project.root, command, "manifests", "--auto-approve")
        try:
            assert session.wait(120) == 0, session.text[-2000:]
        finally:
            session.close()
        assert _bar_totals(session.text, label) == {"18"}, session.text[-3000:]
        other = "apply" if label == "destroy" else "destroy"
        assert not re.search(rf"^{other} .*\d+/\d+", session.text, flags=re.M)
