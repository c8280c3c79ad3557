"""Messages a user reads when something is refused or wrong: true, specific, with a way out."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.cli.runner import run
from tests.engine.harness import Project

REPO = Path(__file__).resolve().parents[2]
STORE = "vector_store.support-kb"
CONTAINER = "container.analyst-sandbox"


@pytest.fixture
def applied(project: Project) -> Project:
    r = project.run("apply", "manifests", "--auto-approve")
    assert r.exit_code == 0, r.output
    return project


def test_force_unlock_without_a_lock_fails(project: Project) -> None:
    r = project.run("force-unlock", "nonexistent")
    assert r.exit_code == 1
    assert "no lock is held" in r.stderr and "nothing was unlocked" in r.stderr
    assert "successfully" not in r.output


def test_a_non_http_endpoint_gets_the_hint_for_urls(project: Project) -> None:
    cfg = project.root / "ocigen.yaml"
    cfg.write_text(cfg.read_text().replace(f"inference: {project.server.inference_base}",
                                           "inference: ftp://files.example.com/openai/v1"))
    r = project.run("validate", "manifests")
    assert r.exit_code == 1
    assert "endpoints.inference 'ftp://files.example.com/openai/v1' is not an http(s) URL" in r.stderr
    assert "https://" in r.stderr and "letters, digits" not in r.stderr


def test_no_project_file_points_at_notes_users_do_not_have() -> None:
    banned = ["DESIGN" + ".md", "shared" + "/", "reference" + "/"]
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    offenders = []
    for name in files:
        path = REPO / name
        if not path.is_file() or path.suffix in (".svg", ".png", ".csv"):
            continue
        text = path.read_text(errors="replace")
        offenders += [f"{name}: {word}" for word in banned if word in text]
    assert offenders == []


def test_prevent_destroy_names_the_store_and_its_own_document(applied: Project) -> None:
    kb = applied.root / "manifests" / "knowledge-base.yaml"
    kb.write_text(kb.read_text().replace("prevent_destroy: false", "prevent_destroy: true"))
    line = kb.read_text().splitlines().index("kind: VectorStore")  # its apiVersion line, 1-based
    r = applied.run("plan", "manifests", "--destroy")
    assert r.exit_code == 1
    assert f"{STORE} has lifecycle.prevent_destroy set (at manifests/knowledge-base.yaml:{line}:1)" in r.stderr
    assert ".files[" not in r.stderr


def test_a_stale_saved_plan_names_what_changed_on_the_service(applied: Project) -> None:
    doc = applied.root / "manifests" / "docs" / "handbook.md"
    doc.write_text(doc.read_text() + "\nOne more line.\n")
    assert applied.run("plan", "manifests", "-out", "p.plan").exit_code == 0
    container_id = applied.state_id(CONTAINER)
    assert applied.http.delete(f"/containers/{container_id}").status_code == 200  # someone else deletes it
    r = applied.run("apply", "p.plan")
    assert r.exit_code == 1
    assert "Saved plan is stale: the live service changed since the plan was made: " in r.stderr
    assert CONTAINER in r.stderr and "Run plan again." in r.stderr


def test_an_emptied_glob_folder_is_an_error_unless_allowed(applied: Project) -> None:
    (applied.root / "manifests" / "retrieval-checks.yaml").unlink()  # they ask for policy documents
    for f in (applied.root / "manifests" / "docs" / "policies").iterdir():
        f.unlink()
    r = applied.run("plan", "manifests")
    assert r.exit_code == 1 and "allow_empty: true" in r.stderr
    kb = applied.root / "manifests" / "knowledge-base.yaml"
    kb.write_text(kb.read_text().replace('exclude: ["draft-*.md"]', 'exclude: ["draft-*.md"]\n  allow_empty: true'))
    plan = applied.run("plan", "manifests", "--json")
    assert plan.exit_code == 0, plan.output
    deleted = {c["address"] for c in plan.json()["resource_changes"] if c["action"] == "delete"}
    assert deleted and all("policies" in a for a in deleted)


def test_output_without_local_after_a_local_apply_says_add_local(tmp_path: Path) -> None:
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "a.md").write_text("a\n")
    (tmp_path / "manifests" / "m.yaml").write_text(
        "apiVersion: ocigen-iac/v1\nkind: File\nmetadata: {name: a}\nspec: {path: a.md}\n")
    # no ocigen.yaml: the quickstart's situation, with the embedded emulator
    assert run(tmp_path, "output").stdout.strip() == "No outputs: state is empty. Run `ocigen-iac apply` first."
    assert run(tmp_path, "apply", "manifests", "--local", "--auto-approve").exit_code == 0
    r = run(tmp_path, "output")
    assert "add --local" in r.stdout
    r = run(tmp_path, "output", "file.a")
    assert r.exit_code == 1 and "add --local" in r.stderr
    assert run(tmp_path, "output", "file.a", "--local", "--raw").stdout.startswith("file-")
