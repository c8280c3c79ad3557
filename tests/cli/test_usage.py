"""Usage errors, help and environment selection, through the real command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.engine.harness import Project


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ocigen_iac.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "COLUMNS": "200", **(env or {})})


def test_a_usage_error_exits_1_not_2_even_with_detailed_exitcode(tmp_path: Path) -> None:
    # 2 means "there are changes" under --detailed-exitcode: a typo in a pipeline must not read as that
    r = cli("plan", "--detailed-exitcode", "--bogus", cwd=tmp_path)
    assert r.returncode == 1
    assert "No such option: --bogus" in r.stderr and "Try 'ocigen-iac plan --help' for help." in r.stderr
    assert "Traceback" not in r.stderr
    r = cli("plan", "--parallelism", "0", cwd=tmp_path)
    assert r.returncode == 1 and "--parallelism" in r.stderr
    r = cli("nope", cwd=tmp_path)
    assert r.returncode == 1 and "No such command 'nope'" in r.stderr


def test_top_level_help_lines_are_whole_at_200_columns(tmp_path: Path) -> None:
    r = cli("--help", cwd=tmp_path)
    assert r.returncode == 0
    commands = r.stdout.split("Commands:")[1].strip().splitlines()
    assert "…" not in r.stdout and "..." not in "".join(commands)
    assert [line.split()[0] for line in commands][:5] == ["init", "validate", "plan", "apply", "destroy"]


def test_init_help_shows_one_dash_flags_only_where_terraform_has_them(tmp_path: Path) -> None:
    r = cli("init", "--help", cwd=tmp_path)
    assert "--migrate-state" in r.stdout and "-migrate-state," not in r.stdout


def test_without_env_a_project_with_environments_fails_listing_them(project: Project) -> None:
    cfg = project.root / "ocigen.yaml"
    cfg.write_text(cfg.read_text() + "environments:\n  dev: {vars: {env: dev}}\n  prod: {vars: {env: prod}}\n")
    r = project.run("plan", "manifests")
    assert r.exit_code == 1
    assert "no environment selected, and ocigen.yaml defines 2: dev, prod" in r.stderr
    assert "pass --env dev (or set OCIGEN_ENV), or add `default_environment: dev`" in r.stderr
    assert not (project.root / ".ocigen" / "state").exists()
    assert project.run("plan", "manifests", "--env", "prod", "--json").json()["env"] == "prod"
    cfg.write_text(cfg.read_text() + "default_environment: dev\n")
    assert project.run("apply", "manifests", "--auto-approve").exit_code == 0
    assert (project.root / ".ocigen" / "state" / "dev.json").exists()
    assert not (project.root / ".ocigen" / "state" / "default.json").exists()


def test_the_repository_quickstart_runs_without_env(tmp_path: Path) -> None:
    # the README's first command applies manifests/ with --local and no --env: the committed
    # ocigen.yaml defines dev and prod, so it must name a default environment
    repo = Path(__file__).resolve().parents[2]
    from ocigen_iac.config import load_settings

    assert load_settings(repo, environ={}).env == "dev"
