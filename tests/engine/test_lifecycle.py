"""Plan/apply end to end over real HTTP against the emulator: the behaviours issue 5 promises."""

from __future__ import annotations

import re
import time

from ocigen_iac.emulator import Faults
from tests.engine.harness import Project
from tests.support.background import looking

HANDBOOK = "file.handbook"
STORE = "vector_store.support-kb"
CONTAINER = "container.analyst-sandbox"


def test_example_manifests_apply_then_plan_shows_no_changes(project: Project) -> None:
    first = project.run("apply", "manifests", "--auto-approve")
    assert first.exit_code == 0, first.output
    assert "Apply complete! Resources: 18 added, 0 changed, 0 destroyed." in first.stdout
    again = project.run("plan", "manifests", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes. Your infrastructure matches the configuration." in again.stdout
    objects = project.objects()
    assert len(objects["files"]) == 7
    assert len(objects["vector_store_files"]) == 7
    assert all(f["status"] == "completed" for f in objects["vector_store_files"])
    assert len(objects["containers"]) == 1


def test_plan_with_changes_exits_2_with_detailed_exitcode(project: Project) -> None:
    r = project.run("plan", "manifests", "--detailed-exitcode")
    assert r.exit_code == 2, r.output
    assert "Plan: 18 to add, 0 to change, 0 to destroy." in r.stdout
    assert project.objects()["files"] == []  # plan never mutates


def test_edited_document_is_replaced_before_old_is_deleted(applied: Project) -> None:
    project = applied
    store_id = project.state_id(STORE)
    old_id = project.state_id(HANDBOOK)
    doc = project.root / "manifests" / "docs" / "handbook.md"
    doc.write_text(doc.read_text() + "\nA new paragraph about escalations.\n")

    plan = project.run("plan", "manifests", "--json").json()
    content_replaces = [c for c in plan["resource_changes"]
                        if c["reasons"][0]["code"] == "replace_because_content_changed"]
    assert [c["address"] for c in content_replaces] == [HANDBOOK]
    assert content_replaces[0]["action"] == "replace"
    assert "sha256" in content_replaces[0]["reasons"][0]["detail"]

    # Watch the store's file list while apply runs (latency makes the apply span many looks).
    project.server.set_faults(Faults(latency_ms=40))
    seen: list[list[str]] = []
    with looking(lambda: seen.append(project.store_file_ids(store_id))):
        r = project.run("apply", "manifests", "--auto-approve")
    project.server.set_faults(Faults())
    assert r.exit_code == 0, r.output
    new_id = project.state_id(HANDBOOK)
    assert new_id != old_id
    assert len(seen) >= 3
    for ids in seen:  # at every look, the store held the old or the new version
        assert old_id in ids or new_id in ids, ids
    assert any(new_id in ids for ids in seen)
    final = project.store_file_ids(store_id)
    assert new_id in final and old_id not in final
    assert old_id not in {f["id"] for f in project.objects()["files"]}  # old file deleted, not leaked


def test_removing_a_manifest_deletes_only_what_state_owns(applied: Project) -> None:
    project = applied
    # objects created outside the tool, in the same project
    foreign_file = project.http.post("/files", files={"file": ("notes.md", b"# mine\n")},
                                     data={"purpose": "assistants"}).json()["id"]
    foreign_container = project.http.post("/containers", json={"name": "analyst-sandbox"}).json()["id"]
    (project.root / "manifests" / "analyst-sandbox.yaml").unlink()
    r = project.run("apply", "manifests", "--auto-approve")
    assert r.exit_code == 0, r.output
    assert "0 added, 0 changed, 3 destroyed" in r.stdout
    objects = project.objects()
    container_ids = {c["id"] for c in objects["containers"] if c.get("status") != "deleted"}
    assert container_ids == {foreign_container}
    assert foreign_file in {f["id"] for f in objects["files"]}
    assert len(objects["files"]) == 8  # 7 managed + the foreign one


def test_changing_store_metadata_is_an_update_in_place(applied: Project) -> None:
    project = applied
    store_id = project.state_id(STORE)
    m = project.root / "manifests" / "knowledge-base.yaml"
    m.write_text(m.read_text().replace("team: support", "team: platform"))
    plan = project.run("plan", "manifests", "--json").json()
    assert [(c["address"], c["action"]) for c in plan["resource_changes"]] == [(STORE, "update")]
    assert plan["change_summary"] == {"add": 0, "change": 1, "destroy": 0, "import": 0, "move": 0}
    r = project.run("apply", "manifests", "--auto-approve")
    assert r.exit_code == 0, r.output
    assert project.state_id(STORE) == store_id
    live = project.http.get(f"{project.server.management_base}/vector_stores/{store_id}").json()
    assert live["metadata"]["team"] == "platform"
    assert project.run("plan", "manifests", "--detailed-exitcode").exit_code == 0


def test_container_deleted_behind_the_tools_back_is_recreated_with_its_files(applied: Project) -> None:
    project = applied
    old = project.state_id(CONTAINER)
    assert project.http.delete(f"/containers/{old}").status_code == 200
    plan = project.run("plan", "manifests")
    assert "Objects have changed outside of ocigen-iac" in plan.stdout
    assert f"# {CONTAINER} has been deleted" in plan.stdout
    r = project.run("apply", "manifests", "--auto-approve")
    assert r.exit_code == 0, r.output
    new = project.state_id(CONTAINER)
    assert new != old
    # services prefix container file paths with a hash (/mnt/data/<hash>-<name>): compare the names
    names = sorted(re.sub(r"^[0-9a-f]{8}-", "", f["path"].rsplit("/", 1)[-1])
                   for f in project.http.get(f"/containers/{new}/files").json()["data"])
    assert names == ["handbook.md", "prices.csv"]
    assert project.run("plan", "manifests", "--detailed-exitcode").exit_code == 0


def test_expired_container_is_recreated(applied: Project) -> None:
    import httpx

    project = applied
    old = project.state_id(CONTAINER)
    httpx.post(f"{project.server.url}/_admin/expire", json={"container_id": old}).raise_for_status()
    plan = project.run("plan", "manifests", "--json").json()
    reasons = {c["address"]: c["reasons"][0]["code"] for c in plan["resource_changes"]}
    assert reasons[CONTAINER] == "create_because_expired"
    assert project.run("apply", "manifests", "--auto-approve").exit_code == 0
    assert project.state_id(CONTAINER) != old


def test_saved_plan_goes_stale_after_another_apply(applied: Project) -> None:
    project = applied
    m = project.root / "manifests" / "knowledge-base.yaml"
    m.write_text(m.read_text().replace("team: support", "team: platform"))
    saved = project.run("plan", "manifests", "-out", "kb.plan")
    assert saved.exit_code == 0, saved.output
    assert (project.root / "kb.plan").stat().st_mode & 0o777 == 0o600
    other = project.run("apply", "manifests", "--auto-approve")  # someone else applies first
    assert other.exit_code == 0
    r = project.run("apply", "kb.plan")
    assert r.exit_code == 1
    assert "Saved plan is stale" in r.stderr
    assert "Run plan again" in r.stderr


def test_saved_plan_applies_when_nothing_changed_in_between(applied: Project) -> None:
    project = applied
    m = project.root / "manifests" / "knowledge-base.yaml"
    m.write_text(m.read_text().replace("team: support", "team: platform"))
    assert project.run("plan", "manifests", "-out", "kb.plan").exit_code == 0
    r = project.run("apply", "kb.plan")
    assert r.exit_code == 0, r.output
    assert "Apply complete! Resources: 0 added, 1 changed, 0 destroyed." in r.stdout


def test_saved_plan_refused_when_the_manifests_changed_and_nothing_is_applied(applied: Project) -> None:
    project = applied
    m = project.root / "manifests" / "knowledge-base.yaml"
    m.write_text(m.read_text().replace("team: support", "team: platform"))
    assert project.run("plan", "manifests", "-out", "kb.plan").exit_code == 0
    # after the review, someone edits the manifests again: the saved plan no longer describes them
    m.write_text(m.read_text().replace("team: platform", "team: research"))
    (project.root / "manifests" / "extra.yaml").write_text(
        "apiVersion: ocigen-iac/v1\nkind: File\nmetadata: {name: extra}\nspec: {path: docs/handbook.md}\n")
    def what_was_applied() -> dict[str, list[tuple[str, str]]]:  # ids and metadata, not activity times
        return {kind: sorted((o["id"], repr(o.get("metadata"))) for o in objs if isinstance(o, dict))
                for kind, objs in project.objects().items() if isinstance(objs, list)}

    before_state, before_objects = project.state(), what_was_applied()
    r = project.run("apply", "kb.plan")
    assert r.exit_code == 1, r.output
    assert "Saved plan is stale: manifest manifests/" in r.stderr and "Run plan again" in r.stderr
    assert project.state()["serial"] == before_state["serial"]
    assert what_was_applied() == before_objects  # neither the saved changes nor the new ones ran
    fresh = project.run("plan", "manifests", "-out", "kb.plan")
    assert fresh.exit_code == 0 and "file.extra will be created" in fresh.stdout
    assert "team" in fresh.stdout and "research" in fresh.stdout
    applied_now = project.run("apply", "kb.plan")
    assert applied_now.exit_code == 0, applied_now.output
    assert "Apply complete! Resources: 1 added, 1 changed, 0 destroyed." in applied_now.stdout
    assert project.run("plan", "manifests", "--detailed-exitcode").exit_code == 0


def test_saved_plan_refused_when_a_local_file_changed(applied: Project) -> None:
    project = applied
    doc = project.root / "manifests" / "docs" / "handbook.md"
    doc.write_text(doc.read_text() + "\nv2\n")
    assert project.run("plan", "manifests", "-out", "p.plan").exit_code == 0
    doc.write_text(doc.read_text() + "\nv3\n")
    r = project.run("apply", "p.plan")
    assert r.exit_code == 1
    assert "local file manifests/docs/handbook.md changed" in r.stderr


def test_second_concurrent_apply_fails_on_the_lock_and_names_the_holder(project: Project) -> None:
    project.server.set_faults(Faults(latency_ms=150))
    first = project.spawn("apply", "manifests", "--auto-approve")
    try:
        lock_info = project.root / ".ocigen" / "state" / "default.lock.json"
        for _ in range(200):
            if lock_info.exists():
                break
            time.sleep(0.05)
        assert lock_info.exists(), "first apply never took the lock"
        second = project.run("apply", "manifests", "--auto-approve")
        assert second.exit_code == 1
        assert "held by another run" in second.stderr
        assert f"(pid {first.pid})" in second.stderr
        assert "Operation: apply" in second.stderr
        assert "force-unlock" in second.stderr
    finally:
        project.server.set_faults(Faults())
        _out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert project.run("plan", "manifests", "--detailed-exitcode").exit_code == 0


def test_destroy_leaves_nothing_live(applied: Project) -> None:
    project = applied
    r = project.run("destroy", "manifests", "--auto-approve")
    assert r.exit_code == 0, r.output
    assert "Destroy complete! Resources: 18 destroyed." in r.stdout
    objects = project.objects()
    assert objects["files"] == []
    assert [s for s in objects["vector_stores"] if s.get("status") != "deleted"] == []
    assert objects["vector_store_files"] == []
    assert [c for c in objects["containers"] if c.get("status") != "deleted"] == []
    assert project.state()["resources"] == {}
    after = project.run("plan", "manifests", "--destroy").stdout.strip()
    assert after.endswith("No changes. No objects need to be destroyed.")


def test_prevent_destroy_makes_the_plan_fail_and_says_why(applied: Project) -> None:
    project = applied
    m = project.root / "manifests" / "knowledge-base.yaml"
    m.write_text(m.read_text().replace("prevent_destroy: false", "prevent_destroy: true"))
    r = project.run("plan", "manifests", "--destroy")
    assert r.exit_code == 1
    assert "prevent_destroy" in r.stderr and STORE in r.stderr


def test_ignore_changes_hides_an_attribute_from_the_diff(applied: Project) -> None:
    project = applied
    m = project.root / "manifests" / "knowledge-base.yaml"
    text = m.read_text().replace("team: support", "team: platform")
    text = text.replace("  prevent_destroy: false", "  prevent_destroy: false\n  ignore_changes: [metadata]")
    m.write_text(text)
    r = project.run("plan", "manifests", "--detailed-exitcode")
    assert r.exit_code == 0, r.output


def test_ingestion_failure_is_reported_recorded_and_retried(project: Project) -> None:
    project.server.set_faults(Faults(ingest_fail_rate=1.0))
    r = project.run("apply", "manifests", "--auto-approve")
    assert r.exit_code == 1
    assert "server_error" in r.stderr
    failed = [rs for rs in project.state()["resources"].values()
              if rs["kind"] == "vector_store_file" and rs.get("status") == "failed"]
    assert len(failed) == 7 and all(rs["last_error"]["code"] == "server_error" for rs in failed)
    project.server.set_faults(Faults())
    plan = project.run("plan", "manifests", "--json").json()
    assert {c["reasons"][0]["code"] for c in plan["resource_changes"]} == {"replace_because_ingestion_failed"}
    assert project.run("apply", "manifests", "--auto-approve").exit_code == 0
    assert project.run("plan", "manifests", "--detailed-exitcode").exit_code == 0


def test_a_transient_ingestion_failure_is_retried_with_each_files_own_attributes(project: Project) -> None:
    """Every first ingestion fails with server_error (`ingest_fail_first`), so apply detaches and
    re-attaches all 7 files: the handbook (no attributes), the faq files ({section: faq}) and the
    policies ({section: policy}). Each must come back with its own attributes, and "Apply
    complete!" must mean so: the retry once sent them all in one batch with the first file's."""
    project.server.set_faults(Faults(ingest_fail_first=True))
    project.server.reset_counters()
    r = project.run("apply", "manifests", "--auto-approve")
    assert r.exit_code == 0, r.output
    project.server.set_faults(Faults())
    # right the first time: verification found nothing to repair (no attributes updated afterwards)
    assert "Verification:" not in r.output
    assert project.server.counters()["requests"].get("POST /openai/v1/vector_stores/{id}/file_batches")
    assert not project.server.counters()["requests"].get("POST /openai/v1/vector_stores/{id}/files/{file_id}")
    declared = {rs["id"]: rs["attrs"]["attributes"] or None for rs in project.state()["resources"].values()
                if rs["kind"] == "vector_store_file"}
    live = {vsf["id"]: vsf.get("attributes") or None for vsf in project.objects()["vector_store_files"]}
    assert sorted(map(str, declared.values())) == sorted(map(str, [None, *[{"section": "faq"}] * 3,
                                                                   *[{"section": "policy"}] * 3]))
    assert live == declared
    after = project.run("plan", "manifests", "--detailed-exitcode")
    assert after.exit_code == 0, after.output


def test_verification_reads_back_attributes_and_repairs_them(applied: Project) -> None:
    """A file detached outside is attached again by apply; while apply's file batch is on its way
    (the emulator holds batch calls 1.5 s), someone attaches the file by hand with other
    attributes. Attaching is idempotent (the existing attachment is kept, attributes and all), so
    the batch "succeeds" with the wrong ones. Verification must read them back and repair them:
    "Apply complete!" means the store holds what is declared."""
    project = applied
    address = 'vector_store.support-kb.files[file.faq["billing.md"]]'
    store_id, file_id = project.state_id(STORE), project.state_id(address)
    assert project.http.delete(f"/vector_stores/{store_id}/files/{file_id}").status_code == 200
    project.server.set_faults(Faults(latency_ms=1500, routes=["file_batches"]))
    project.server.reset_counters()
    apply = project.spawn("apply", "manifests", "--auto-approve")
    batch = "POST /openai/v1/vector_stores/{id}/file_batches"
    deadline = time.monotonic() + 30
    while not project.server.counters()["arrived"].get(batch) and time.monotonic() < deadline:
        time.sleep(0.01)  # apply's batch has arrived and waits out its latency
    assert project.server.counters()["arrived"].get(batch), "apply sent no file batch"
    by_hand = project.http.post(f"/vector_stores/{store_id}/files",
                                json={"file_id": file_id, "attributes": {"section": "by-hand"}})
    assert by_hand.status_code == 200
    out, err = apply.communicate(timeout=120)
    project.server.set_faults(Faults())
    assert apply.returncode == 0, out + err
    assert "Verification: 1 declared object(s)" in out + err and "repairing" in out + err
    live = project.http.get(f"/vector_stores/{store_id}/files/{file_id}").json()
    assert live["attributes"] == {"section": "faq"}
    after = project.run("plan", "manifests", "--detailed-exitcode")
    assert after.exit_code == 0, after.output


def test_apply_without_a_terminal_refuses_rather_than_waits(project: Project) -> None:
    r = project.run("apply", "manifests")
    assert r.exit_code == 1
    assert "--auto-approve" in r.stderr
    assert project.objects()["files"] == []


def test_markdown_plan_has_counts_a_deletion_warning_and_folded_details(applied: Project) -> None:
    project = applied
    (project.root / "manifests" / "analyst-sandbox.yaml").unlink()
    doc = project.root / "manifests" / "docs" / "handbook.md"
    doc.write_text(doc.read_text() + "\nmore\n")
    md = project.run("plan", "manifests", "--format", "markdown").stdout  # the GitOps kit's comment
    assert "**Plan: 2 to add, 0 to change, 5 to destroy.**" in md
    assert "**Resource deletion will happen.**" in md and "`container.analyst-sandbox`" in md
    assert "<details><summary>Show Output</summary>" in md


def test_json_plan_schema(project: Project) -> None:
    data = project.run("plan", "manifests", "--json").json()
    assert data["format_version"] == "1.1"
    assert set(data) >= {"format_version", "tool_version", "mode", "env", "prior_state", "change_summary",
                         "has_changes", "resource_changes", "resource_drift", "digests"}
    change = data["resource_changes"][0]
    assert set(change) >= {"address", "kind", "action", "reasons", "before", "after", "attr_changes", "deps"}


def test_output_lists_the_ids_an_application_needs(applied: Project) -> None:
    project = applied
    env = project.run("output", "--format", "env").stdout
    assert f"OCIGEN_VECTOR_STORE_SUPPORT_KB_ID={project.state_id(STORE)}" in env.splitlines()
    data = project.run("output", "--json").json()
    assert data[STORE]["id"] == project.state_id(STORE)


def test_state_mv_and_rm_do_not_touch_live_objects(applied: Project) -> None:
    project = applied
    cid = project.state_id(CONTAINER)
    r = project.run("state", "rm", CONTAINER)
    assert r.exit_code == 0, r.output
    assert CONTAINER not in project.state()["resources"]
    assert cid in {c["id"] for c in project.objects()["containers"]}
    assert project.run("import", CONTAINER, cid).exit_code == 0
    assert project.state_id(CONTAINER) == cid


def test_graph_prints_dot_with_dependencies(project: Project) -> None:
    dot = project.run("graph", "manifests").stdout
    assert dot.startswith("digraph")
    assert f'"{STORE}.files[{HANDBOOK}]" -> "{HANDBOOK}"' in dot


def test_file_deleted_outside_is_uploaded_again_and_reattached_but_its_container_copy_is_kept(
        applied: Project) -> None:
    project = applied
    old = project.state_id(HANDBOOK)
    assert project.http.delete(f"/files/{old}").status_code == 200
    plan = project.run("plan", "manifests", "--json").json()
    actions = {c["address"]: (c["action"], c["reasons"][0]["code"]) for c in plan["resource_changes"]}
    assert actions == {
        HANDBOOK: ("create", "create_because_deleted_outside"),
        f"{STORE}.files[{HANDBOOK}]": ("create", "create_because_deleted_outside"),  # went with the file
    }  # the container holds its own copy, which did not change
    assert project.run("apply", "manifests", "--auto-approve").exit_code == 0
    assert project.state_id(HANDBOOK) in project.store_file_ids(project.state_id(STORE))
    assert project.run("plan", "manifests", "--detailed-exitcode").exit_code == 0


def test_a_store_replacement_fills_the_new_store_before_deleting_the_old(applied: Project) -> None:
    project = applied
    old = project.state_id(STORE)
    m = project.root / "manifests" / "knowledge-base.yaml"
    m.write_text(m.read_text().replace("  name: support-kb-${var.env}\n",
                                       "  name: support-kb-${var.env}\n  description: Support knowledge base\n"))
    plan = project.run("plan", "manifests", "--json").json()
    store = next(c for c in plan["resource_changes"] if c["address"] == STORE)
    assert (store["action"], store["reasons"][0]["code"]) == ("replace", "replace_because_cannot_update")
    r = project.run("apply", "manifests", "--auto-approve")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert out.index(f"{STORE}: Attaching 7 file(s) complete") < out.index(f"{STORE}: Destroying old {old}")
    new = project.state_id(STORE)
    assert new != old and len(project.store_file_ids(new)) == 7
    assert [s["id"] for s in project.objects()["vector_stores"]] == [new]
    assert project.run("plan", "manifests", "--detailed-exitcode").exit_code == 0
