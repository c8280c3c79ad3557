"""The composite action's scripts, run the way a GitHub runner runs them (bash -eo pipefail, the
step's `env:`, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files), against the emulator over HTTP:
plan -> apply the saved plan -> a stale plan is refused -> drift check, clean and drifted."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from ocigen_iac.emulator import EmulatorServer
from tests.engine.harness import API_KEY, KEY_ENV, Project

ACTION = yaml.safe_load((Path(__file__).resolve().parents[2] / "gitops" / "github" / "action.yml").read_text())
BIN = str(Path(sys.executable).parent)  # ocigen-iac and python of this venv
STORE = "vector_store.support-kb"


@dataclass
class StepResult:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]


class Runner:
    """Runs named steps of the action in order, carrying step outputs like the runner does."""

    def __init__(self, project: Project, tmp: Path, inputs: dict[str, str]) -> None:
        self.project, self.tmp = project, tmp
        self.inputs = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()} | inputs
        self.outputs: dict[str, dict[str, str]] = {}
        self.summary = tmp / "summary.md"
        (tmp / "runner").mkdir(parents=True)

    def _expand(self, value: Any) -> str:
        def one(m: re.Match[str]) -> str:
            expr = m.group(1).strip()
            if expr.startswith("inputs."):
                return self.inputs[expr.removeprefix("inputs.")]
            if sm := re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr):
                return self.outputs.get(sm.group(1), {}).get(sm.group(2), "")
            raise AssertionError(f"the test runner cannot evaluate ${{{{ {expr} }}}}")
        return re.sub(r"\$\{\{(.*?)\}\}", one, str(value))

    def step(self, name: str, **fake_outputs: dict[str, str]) -> StepResult:
        self.outputs.update(fake_outputs)
        step = next(s for s in ACTION["runs"]["steps"] if s.get("name") == name)
        out_file = self.tmp / "github_output"
        out_file.write_text("")
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", KEY_ENV: API_KEY,
               "RUNNER_TEMP": str(self.tmp / "runner"), "GITHUB_OUTPUT": str(out_file),
               "GITHUB_STEP_SUMMARY": str(self.summary), "GITHUB_SHA": "1" * 40, "CI": "true"}
        env.update({k: self._expand(v) for k, v in (step.get("env") or {}).items()})
        cwd = self.project.root / self._expand(step.get("working-directory", "."))
        script = self.tmp / "step.sh"
        script.write_text(step["run"])
        r = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd, env=env,
                           capture_output=True, text=True, timeout=300)
        outputs = dict(line.split("=", 1) for line in out_file.read_text().splitlines() if "=" in line)
        if "id" in step:
            self.outputs[step["id"]] = outputs
        return StepResult(r.returncode, r.stdout, r.stderr, outputs)

    def take_summary(self) -> str:
        text = self.summary.read_text() if self.summary.exists() else ""
        self.summary.write_text("")
        return text


@pytest.fixture
def applied(tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> Project:
    project = Project(tmp_path / "proj", make_emulator())
    r = project.run("apply", "manifests", "--auto-approve")
    assert r.exit_code == 0, r.output
    return project


def test_plan_apply_and_drift_steps_end_to_end(applied: Project, tmp_path: Path) -> None:
    project = applied
    runner = Runner(project, tmp_path / "gh", {"command": "plan", "env": "default", "lock-timeout": "30s"})
    assert runner.step("Check inputs").code == 0
    plan_file = Path(runner.outputs["paths"]["plan-file"])

    # a pull request edits the handbook: the plan replaces it (and what holds it)
    handbook = project.root / "manifests" / "docs" / "handbook.md"
    handbook.write_text(handbook.read_text() + "\nA new section.\n")
    plan = runner.step("Plan")
    assert plan.code == 0, plan.stderr
    assert plan.outputs == {"exitcode": "2", "has-changes": "true", "label": "destroy"}
    assert plan_file.is_file() and (plan_file.stat().st_mode & 0o077) == 0
    summary = runner.take_summary()
    assert summary.startswith("<!-- ocigen-iac:plan env=default -->\n### ocigen-iac plan for `default`")
    assert "+/- file.handbook" in summary and "> [!WARNING]" in summary
    assert "**Plan: " in plan.stdout  # the log shows the same comment

    # merged: apply exactly that plan
    apply = runner.step("Apply", saved={"found": "true"})
    assert apply.code == 0, apply.stdout + apply.stderr
    assert runner.outputs["apply"]["exitcode"] == "0"
    summary = runner.take_summary()
    assert "### ocigen-iac apply for `default`: done" in summary
    assert "Applied the plan reviewed on the pull request." in summary and "Apply complete!" in summary

    # the same plan again: the state moved on, so it is refused, loudly, and nothing is applied
    again = runner.step("Apply", saved={"found": "true"})
    assert again.code == 1
    assert "Saved plan is stale" in again.stdout
    assert "::error title=ocigen-iac apply failed (default)::" in again.stdout

    # drift check: clean, then someone edits the store in the console
    drift = runner.step("Drift check")
    assert drift.code == 0, drift.stderr
    assert drift.outputs == {"exitcode": "0", "has-changes": "false"}
    assert "No changes. Your infrastructure still matches the configuration." in runner.take_summary()

    store_id = project.state_id(STORE)
    live = project.http.get(f"{project.server.management_base}/vector_stores/{store_id}").json()
    project.http.post(f"{project.server.management_base}/vector_stores/{store_id}",
                      json={"metadata": {**live["metadata"], "team": "edited-in-console"}})
    drift = runner.step("Drift check")
    assert drift.code == 2
    assert drift.outputs == {"exitcode": "2", "has-changes": "true"}
    assert "::error title=Drift detected (default)::" in drift.stdout
    summary = runner.take_summary()
    assert "### ocigen-iac drift check for `default` (refresh-only)" in summary
    assert "**Note: Objects have changed outside of ocigen-iac**" in summary
    assert '~     metadata.team = "support" -> "edited-in-console"' in summary


def test_a_failing_plan_is_recorded_then_fails_the_job(applied: Project, tmp_path: Path) -> None:
    runner = Runner(applied, tmp_path / "gh", {"command": "plan", "env": "default"})
    assert runner.step("Check inputs").code == 0
    (applied.root / "manifests" / "broken.yaml").write_text("apiVersion: ocigen-iac/v1\nkind: Nope\n")
    plan = runner.step("Plan")
    assert plan.code == 0  # the comment step still runs and posts the error
    assert plan.outputs == {"exitcode": "1"}
    assert "::error title=ocigen-iac plan failed (default)::exit code 1" in plan.stdout
    summary = runner.take_summary()
    assert "### ocigen-iac plan for `default` failed" in summary and "broken.yaml" in summary
    fail = runner.step("Fail when the plan failed")
    assert fail.code == 1


def test_bad_inputs_fail_before_anything_runs(applied: Project, tmp_path: Path) -> None:
    r = Runner(applied, tmp_path / "gh", {"command": "destroy"}).step("Check inputs")
    assert r.code == 1
    assert "command 'destroy' is not one of plan, apply, drift" in r.stdout
