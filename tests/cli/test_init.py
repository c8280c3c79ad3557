"""`ocigen-iac init` in an empty folder: a project that validates, plans locally and has CI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.cli.runner import run

ACTIONLINT = Path(sys.executable).parent / "actionlint"  # installed by the `test` extra
WORKFLOW = ".github/workflows/ocigen-iac-plan.yml"


def test_init_scaffolds_a_project_that_works_out_of_the_box(tmp_path: Path) -> None:
    root = tmp_path / "team-kb"
    root.mkdir()
    r = run(root, "init")
    assert r.exit_code == 0, r.output
    for name in ("ocigen.yaml", "manifests/knowledge-base.yaml", "manifests/docs/welcome.md", ".gitignore", WORKFLOW):
        assert name in r.stdout and (root / name).is_file()
    config = (root / "ocigen.yaml").read_text()
    assert "owner: team-kb" in config and config.count("#") > 5  # commented
    assert (root / ".gitignore").read_text().splitlines()[-1] == ".ocigen/"
    valid = run(root, "validate")
    assert valid.exit_code == 0 and "2 documents declare 3 objects" in valid.stdout
    plan = run(root, "plan", "--local", "--json")
    assert plan.exit_code == 0, plan.output
    assert plan.json()["env"] == "dev" and plan.json()["change_summary"]["add"] == 3
    lint = subprocess.run([str(ACTIONLINT), "-no-color", "-oneline", WORKFLOW], cwd=root, capture_output=True,
                          text=True, timeout=120)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    again = run(root, "init")  # a configured project: init checks the backend and writes nothing
    assert again.exit_code == 0 and "State backend: local" in again.stdout
    assert (root / "ocigen.yaml").read_text() == config


def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / WORKFLOW).write_text("name: mine\n")
    r = run(tmp_path, "init")
    assert r.exit_code == 1 and WORKFLOW in r.stderr
    assert (tmp_path / WORKFLOW).read_text() == "name: mine\n"
    assert not (tmp_path / "ocigen.yaml").exists() and not (tmp_path / "manifests").exists()
    (tmp_path / WORKFLOW).unlink()
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "mine.yaml").write_text("kind: File\n")
    r = run(tmp_path, "init")
    assert r.exit_code == 1 and "manifests/ (it already holds manifests" in r.stderr
    assert not (tmp_path / "ocigen.yaml").exists()


def test_init_adds_to_an_existing_gitignore(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("node_modules/")
    r = run(tmp_path, "init")
    assert r.exit_code == 0 and ".gitignore (added .ocigen/)" in r.stdout
    assert (tmp_path / ".gitignore").read_text().startswith("node_modules/\n# ocigen-iac")
