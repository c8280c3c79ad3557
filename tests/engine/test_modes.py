"""Plan modes and selection flags: --target, --replace, --refresh-only, --env."""

from __future__ import annotations

from tests.engine.harness import Project

STORE = "vector_store.support-kb"


def test_target_limits_the_plan_to_an_address_and_what_it_needs(project: Project) -> None:
    plan = project.run("plan", "manifests", "--json", "--target", f"{STORE}.files[file.handbook]").json()
    addresses = sorted(c["address"] for c in plan["resource_changes"])
    assert addresses == ["file.handbook", STORE, f"{STORE}.files[file.handbook]"]
    r = project.run("apply", "manifests", "--auto-approve", "--target", "container.analyst-sandbox")
    assert r.exit_code == 0, r.output
    objects = project.objects()
    assert len(objects["containers"]) == 1 and len(objects["vector_stores"]) == 0
    assert len(objects["files"]) == 1  # the container's managed file, nothing else


def test_unknown_target_is_a_clear_error(project: Project) -> None:
    r = project.run("plan", "manifests", "--target", "vector_store.nope")
    assert r.exit_code == 1
    assert "--target vector_store.nope: no such resource" in r.stderr


def test_replace_forces_a_replacement_of_an_unchanged_object(applied: Project) -> None:
    project = applied
    old = project.state_id("file.handbook")
    plan = project.run("plan", "manifests", "--json", "--replace", "file.handbook").json()
    by_address = {c["address"]: c for c in plan["resource_changes"]}
    assert by_address["file.handbook"]["action"] == "replace"
    assert by_address["file.handbook"]["reasons"][0]["code"] == "replace_because_requested"
    assert project.run("apply", "manifests", "--auto-approve", "--replace", "file.handbook").exit_code == 0
    assert project.state_id("file.handbook") != old
    assert project.run("plan", "manifests", "--detailed-exitcode").exit_code == 0


def test_refresh_only_records_drift_without_changing_anything(applied: Project) -> None:
    project = applied
    store_id = project.state_id(STORE)
    live = project.http.get(f"{project.server.management_base}/vector_stores/{store_id}").json()
    changed = {**live["metadata"], "team": "edited-in-console"}
    project.http.post(f"{project.server.management_base}/vector_stores/{store_id}", json={"metadata": changed})

    plan = project.run("plan", "manifests", "--refresh-only", "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert f"# {STORE} has changed" in plan.stdout
    assert '~ metadata.team = "support" -> "edited-in-console"' in plan.stdout

    r = project.run("apply", "manifests", "--refresh-only", "--auto-approve")
    assert r.exit_code == 0, r.output
    after = project.http.get(f"{project.server.management_base}/vector_stores/{store_id}").json()
    assert after["metadata"]["team"] == "edited-in-console"  # nothing was changed remotely
    assert project.run("plan", "manifests", "--refresh-only", "--detailed-exitcode").exit_code == 0
    # a normal plan still wants the configured value back, as an update in place
    normal = project.run("plan", "manifests", "--json").json()
    assert [(c["address"], c["action"]) for c in normal["resource_changes"]] == [(STORE, "update")]


def test_drift_is_reported_and_repaired_in_place(applied: Project) -> None:
    project = applied
    store_id = project.state_id(STORE)
    project.http.post(f"{project.server.management_base}/vector_stores/{store_id}", json={"name": "renamed"})
    plan = project.run("plan", "manifests", "--json").json()
    assert plan["resource_drift"][0]["address"] == STORE
    change = plan["resource_changes"][0]
    assert (change["action"], change["reasons"][0]["code"]) == ("update", "update_because_changed_outside")
    assert project.run("apply", "manifests", "--auto-approve").exit_code == 0
    live = project.http.get(f"{project.server.management_base}/vector_stores/{store_id}").json()
    assert live["name"] == "support-kb-test"


def test_each_environment_has_its_own_state(project: Project) -> None:
    cfg = project.root / "ocigen.yaml"
    cfg.write_text(cfg.read_text() + "environments:\n  dev: {vars: {env: dev}}\n  prod: {vars: {env: prod}}\n")
    assert project.run("apply", "manifests", "--env", "dev", "--auto-approve").exit_code == 0
    prod = project.run("plan", "manifests", "--env", "prod", "--json").json()
    assert prod["change_summary"]["add"] == 18  # prod starts empty: dev's objects are not prod's
    names = {c["after"].get("name") for c in prod["resource_changes"] if c["kind"] == "vector_store"}
    assert names == {"support-kb-prod"}
    assert (project.root / ".ocigen" / "state" / "dev.json").exists()
    assert not (project.root / ".ocigen" / "state" / "prod.json").exists() or \
        project.run("state", "list", "--env", "prod").stdout.strip() == ""
