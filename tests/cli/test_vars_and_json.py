"""--var / --var-file, and failures as JSON diagnostics under --json."""

from __future__ import annotations

import json

from tests.engine.harness import Project

STORE = "vector_store.support-kb"


def store_name(plan: dict) -> str:
    return next(c["after"]["name"] for c in plan["resource_changes"] if c["address"] == STORE)


def test_var_and_var_file_override_ocigen_yaml(project: Project) -> None:
    # the harness's ocigen.yaml says vars: {env: test}; the store is named support-kb-${var.env}
    assert store_name(project.run("plan", "manifests", "--json").json()) == "support-kb-test"
    assert store_name(project.run("plan", "manifests", "--json", "--var", "env=blue").json()) == "support-kb-blue"
    (project.root / "vars.yaml").write_text("env: green\n")
    (project.root / "vars.json").write_text(json.dumps({"env": "amber"}))
    plan = project.run("plan", "manifests", "--json", "--var-file", "vars.yaml").json()
    assert store_name(plan) == "support-kb-green"
    plan = project.run("plan", "manifests", "--json", "--var-file", "vars.yaml", "--var-file", "vars.json").json()
    assert store_name(plan) == "support-kb-amber"  # later files win
    plan = project.run("plan", "manifests", "--json", "--var", "env=red", "--var-file", "vars.yaml").json()
    assert store_name(plan) == "support-kb-red"  # --var wins over files
    assert project.run("validate", "manifests", "--var", "env=x").exit_code == 0


def test_bad_vars_are_reported_with_their_place(project: Project) -> None:
    (project.root / "vars.yaml").write_text("env: ok\nlist: [1, 2]\n")
    r = project.run("validate", "manifests", "--var-file", "vars.yaml", "--var", "novalue")
    assert r.exit_code == 1
    assert "vars.yaml:2:7: error: variable 'list' must be a string, number or boolean" in r.stderr
    assert "--var: error: 'novalue' is not NAME=VALUE" in r.stderr


def test_a_saved_plan_keeps_its_variables(project: Project) -> None:
    assert project.run("plan", "manifests", "--var", "env=blue", "-out", "p.plan").exit_code == 0
    refused = project.run("apply", "p.plan", "--var", "env=red")
    assert refused.exit_code == 1 and "a saved plan carries the variables it was made with" in refused.stderr
    r = project.run("apply", "p.plan")
    assert r.exit_code == 0, r.output  # planned again with env=blue: not stale
    live = project.objects()["vector_stores"]
    assert [s["name"] for s in live] == ["support-kb-blue"]
    destroyed = project.run("destroy", "manifests", "--var", "env=blue", "--auto-approve")
    assert destroyed.exit_code == 0, destroyed.output


def test_plan_json_reports_bad_manifests_as_json_diagnostics(project: Project) -> None:
    kb = project.root / "manifests" / "knowledge-base.yaml"
    kb.write_text(kb.read_text().replace("purpose: assistants", "purpos: assistants"))
    r = project.run("plan", "manifests", "--json")
    assert r.exit_code == 1 and r.stderr == ""
    data = r.json()
    assert data["success"] is False and data["valid"] is False and data["error_count"] == 1
    [d] = data["diagnostics"]
    assert d["code"] == "validation_failed" and d["severity"] == "error"
    assert (d["file"], d["line"], d["column"]) == ("manifests/knowledge-base.yaml", 9, 3)
    assert d["message"] == "unknown field 'purpos' in spec" and "did you mean 'purpose'?" in d["hint"]
    same = project.run("plan", "manifests", "--format", "json")
    assert same.exit_code == 1 and same.json() == data


def test_apply_json_reports_a_refused_plan_as_a_json_diagnostic(project: Project) -> None:
    assert project.run("apply", "manifests", "--auto-approve").exit_code == 0
    kb = project.root / "manifests" / "knowledge-base.yaml"
    kb.write_text(kb.read_text().replace("prevent_destroy: false", "prevent_destroy: true"))
    r = project.run("apply", "manifests", "--destroy", "--auto-approve", "--json")
    assert r.exit_code == 1 and r.stderr == ""
    data = r.json()
    assert data["success"] is False and "valid" not in data
    [d] = data["diagnostics"]
    assert d["code"] == "plan_error" and f"{STORE} has lifecycle.prevent_destroy set" in d["message"]
    bad_flag = project.run("plan", "manifests", "--json", "--lock-timeout", "soon")
    assert bad_flag.exit_code == 1 and bad_flag.json()["diagnostics"][0]["code"] == "command_line_error"


def test_the_gitops_kit_reads_a_failed_plan_back_as_text(project: Project) -> None:
    import subprocess
    import sys

    (project.root / "manifests" / "broken.yaml").write_text("apiVersion: ocigen-iac/v1\nkind: Nope\n")
    r = project.run("plan", "manifests", "--json")
    (project.root / "plan.json").write_text(r.stdout)
    text = subprocess.run([sys.executable, "-m", "ocigen_iac.gitops.markdown", "--errors", "plan.json"],
                          cwd=project.root, capture_output=True, text=True, timeout=60, check=True).stdout
    assert text.startswith("manifests/broken.yaml:2:7: error: unknown kind 'Nope'\n    hint: ")
