"""The Terraform habits a user brings: show PLANFILE, -no-color, targeting, output --raw, markdown."""

from __future__ import annotations

import json

from ocigen_iac.gitops.markdown import render_markdown
from tests.engine.harness import Project

HANDBOOK = "file.handbook"
CONTAINER = "container.analyst-sandbox"


def test_show_prints_a_saved_plan_as_text_and_json(project: Project) -> None:
    planned = project.run("plan", "manifests", "-out", "p.plan", "-no-color")
    assert planned.exit_code == 0, planned.output
    shown = project.run("show", "p.plan", "-no-color")
    assert shown.exit_code == 0
    assert shown.stdout.strip() in planned.stdout  # the same plan, without the "Saved the plan" note
    assert "\x1b[" not in shown.stdout
    data = project.run("show", "p.plan", "--json").json()
    assert data["change_summary"]["add"] == 18 and data == json.loads((project.root / "p.plan").read_text())
    missing = project.run("show", "nope.plan")
    assert missing.exit_code == 1 and "Traceback" not in missing.output


def test_plan_format_markdown_is_the_pull_request_comment(project: Project) -> None:
    md = project.run("plan", "manifests", "--format", "markdown")
    assert md.exit_code == 0, md.output
    plan = project.run("plan", "manifests", "--json").json()
    assert md.stdout == render_markdown(plan)  # one renderer for comments and the command
    assert md.stdout.startswith("<!-- ocigen-iac:plan env=default -->\n### ocigen-iac plan for `default`")


def test_targeting_warns_and_exclude_leaves_things_out(project: Project) -> None:
    r = project.run("plan", "manifests", "--target", HANDBOOK, "--exclude", CONTAINER, "--json").json()
    addresses = {c["address"] for c in r["resource_changes"]}
    assert HANDBOOK in addresses and not any(a.startswith(CONTAINER) for a in addresses)
    text = project.run("plan", "manifests", "--exclude", CONTAINER)
    assert "Warning: Resource targeting is in effect" in text.stdout + text.stderr


def test_output_raw_prints_only_the_id(project: Project) -> None:
    assert project.run("apply", "manifests", "--auto-approve").exit_code == 0
    raw = project.run("output", HANDBOOK, "--raw")
    assert raw.exit_code == 0 and raw.stdout.strip() == project.state_id(HANDBOOK)
    assert project.run("output", "--raw").exit_code == 1


def test_lock_timeout_takes_compound_durations(project: Project) -> None:
    assert project.run("plan", "manifests", "--lock-timeout", "1h30m").exit_code == 0
    bad = project.run("plan", "manifests", "--lock-timeout", "30m1h")
    assert bad.exit_code == 1 and "is not a duration" in bad.stderr
