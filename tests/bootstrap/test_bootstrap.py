"""One apply bootstraps a project: the Project, then the File, Container and VectorStore in it, the
documents in a bucket, and the connector that syncs them into the store. Then in-place updates,
one changed document, a removed one, and destroy (project last). Every apply's next plan is
`No changes`."""

from __future__ import annotations

import re

from .conftest import BUCKET, COMPARTMENT, NAMESPACE, Bootstrap

PROJECT = "genai_project.agents"
CONNECTOR = "vector_store_connector.docs-sync"
STORE = "vector_store.handbook"


def _sync_note(output: str) -> str:
    m = re.search(rf"Note: {re.escape(CONNECTOR)}: file sync \S+ succeeded: (.*)", output)
    assert m, output
    return m.group(1)


def test_one_apply_creates_the_project_and_everything_in_it(boot: Bootstrap) -> None:
    r = boot.apply()
    assert "Resources: 9 added, 0 changed, 0 destroyed" in r.stdout, r.output
    assert _sync_note(r.output) == "3 created, 0 updated, 0 deleted, 0 failed, 0 unsupported"
    project = boot.state_id(PROJECT)
    live = boot.ai.get_generative_ai_project(project).data
    assert live.lifecycle_state == "ACTIVE" and live.compartment_id == COMPARTMENT
    assert live.display_name == "agents-test" and live.conversation_config.conversations_retention_in_hours == 72
    assert live.freeform_tags["team"] == "support" and live.freeform_tags["ocigen-iac-owner"].endswith(PROJECT)

    # every data-plane object was made in the managed project (the OpenAI-Project header came from it)
    projects = boot.admin()["projects"]
    for address in (STORE, "file.prices", "container.sandbox"):
        assert projects[boot.state_id(address)] == project, address

    assert set(boot.bucket()) == {"handbook/vacation.md", "handbook/expenses.md", "handbook/onboarding/first-day.txt"}
    store = boot.state_id(STORE)
    assert boot.store_documents(project, store) == {
        "handbook/vacation.md": "completed", "handbook/expenses.md": "completed",
        "handbook/onboarding/first-day.txt": "completed"}
    assert boot.search(project, store, "vacation days")[0] == "handbook/vacation.md"
    connector = boot.ai.get_vector_store_connector(boot.state_id(CONNECTOR)).data
    assert connector.vector_store_id == store and connector.lifecycle_state == "ACTIVE"
    assert connector.configuration.storage_config_list[0].namespace == NAMESPACE  # the tenancy's, asked once
    boot.assert_no_changes()


def test_schedule_change_is_an_in_place_update(boot: Bootstrap) -> None:
    boot.apply()
    cid = boot.state_id(CONNECTOR)
    boot.edit("schedule: {frequency: DAILY, interval: 1}", "schedule: {cron: '0 3 * * *', enabled: false}")
    plan = boot.run("plan", "manifests")
    assert f"# {CONNECTOR} will be updated in-place" in plan.stdout, plan.output
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in plan.stdout
    r = boot.apply()
    assert "Resources: 0 added, 1 changed, 0 destroyed" in r.stdout
    assert "file sync" not in r.output  # the content did not change: no sync
    live = boot.ai.get_vector_store_connector(cid).data
    assert boot.state_id(CONNECTOR) == cid
    assert (live.schedule_config.config_type, live.schedule_config.cron_expression,
            live.schedule_config.state) == ("CRON", "0 3 * * *", "DISABLED")
    boot.assert_no_changes()


def test_project_updates_in_place(boot: Bootstrap) -> None:
    boot.apply()
    pid = boot.state_id(PROJECT)
    boot.edit("responses_retention_in_hours: 24", "responses_retention_in_hours: 12")
    boot.edit("freeform_tags: {team: support}", "freeform_tags: {team: search}")
    r = boot.apply()
    assert "Resources: 0 added, 1 changed, 0 destroyed" in r.stdout, r.output
    live = boot.ai.get_generative_ai_project(pid).data
    assert live.conversation_config.responses_retention_in_hours == 12 and live.freeform_tags["team"] == "search"
    assert "ocigen-iac-owner" in live.freeform_tags  # the ownership tag survives the update
    boot.assert_no_changes()


def test_editing_one_document_uploads_one_object_and_the_sync_updates_one_file(boot: Bootstrap) -> None:
    boot.apply()
    before = boot.bucket()
    boot.doc("vacation.md").write_text("# Vacation\n\nEmployees now get thirty sabbatical days.\n")
    plan = boot.run("plan", "manifests")
    assert 'object_storage_objects.docs["vacation.md"] must be replaced (content changed' in plan.stdout, plan.output
    assert f"# {CONNECTOR} will be updated in-place" in plan.stdout
    r = boot.apply()
    assert _sync_note(r.output) == "0 created, 1 updated, 0 deleted, 0 failed, 0 unsupported"
    after = boot.bucket()
    changed = sorted(name for name in after if after[name]["etag"] != before[name]["etag"])
    assert changed == ["handbook/vacation.md"]  # one object sent; the others were not
    project, store = boot.state_id(PROJECT), boot.state_id(STORE)
    assert boot.search(project, store, "sabbatical") == ["handbook/vacation.md"]
    assert "handbook/vacation.md" in boot.store_documents(project, store)
    boot.assert_no_changes()


def test_removed_document_leaves_the_bucket_and_the_store(boot: Bootstrap) -> None:
    boot.apply()
    boot.doc("expenses.md").unlink()
    r = boot.apply()
    assert _sync_note(r.output) == "0 created, 0 updated, 1 deleted, 0 failed, 0 unsupported"
    assert "handbook/expenses.md" not in boot.bucket()
    project, store = boot.state_id(PROJECT), boot.state_id(STORE)
    assert sorted(boot.store_documents(project, store)) == ["handbook/onboarding/first-day.txt", "handbook/vacation.md"]
    assert boot.search(project, store, "reimbursed") == []
    boot.assert_no_changes()


def test_a_sync_that_cannot_wait_for_a_removed_objects_delete_is_synced_by_the_next_apply(boot: Bootstrap) -> None:
    """A targeted apply of the connector leaves the removed object's delete out: the sync cannot wait
    for it. The apply says so, and the next plan proposes the sync that removes the file."""
    boot.apply()
    boot.doc("expenses.md").unlink()
    r = boot.apply("--target", CONNECTOR)
    assert "were still in the bucket" in r.output and "the next apply syncs again" in r.output, r.output
    assert "handbook/expenses.md" in boot.bucket()
    plan = boot.run("plan", "manifests")
    assert "partial: removed objects were still in the bucket" in plan.stdout, plan.output
    assert 'object_storage_objects.docs["expenses.md"] will be destroyed' in plan.stdout
    r = boot.apply()
    assert _sync_note(r.output).endswith("1 deleted, 0 failed, 0 unsupported")
    assert "handbook/expenses.md" not in boot.store_documents(boot.state_id(PROJECT), boot.state_id(STORE))
    boot.assert_no_changes()


def test_destroy_removes_everything_and_the_project_last(boot: Bootstrap) -> None:
    boot.apply()
    pid, cid = boot.state_id(PROJECT), boot.state_id(CONNECTOR)
    r = boot.run("apply", "manifests", "--auto-approve", "--destroy")
    assert r.exit_code == 0, r.output
    assert "Destroy complete! Resources: 9 destroyed." in r.stdout
    lines = r.stdout.splitlines()
    project_start = lines.index(f"{PROJECT}: Destroying...")
    done = [i for i, line in enumerate(lines) if "Destroying complete" in line and not line.startswith(PROJECT)]
    # everything else was gone before the project went (the container's file goes with the container)
    assert len(done) == 7 and max(done) < project_start
    assert boot.ai.get_generative_ai_project(pid).data.lifecycle_state == "DELETED"
    assert boot.ai.get_vector_store_connector(cid).data.lifecycle_state == "DELETED"
    assert boot.bucket() == {}
    admin = boot.admin()
    assert admin["vector_stores"] == [] or all(s.get("status") == "expired" for s in admin["vector_stores"])
    assert boot.state()["resources"] == {}
    r = boot.run("plan", "manifests", "--destroy")
    assert "No changes." in r.stdout, r.output


def test_a_sync_outside_the_tool_shows_as_drift_not_as_a_change(boot: Bootstrap) -> None:
    from oci.generative_ai import models as m

    boot.apply()
    run = boot.ai.create_vector_store_connector_file_sync(
        m.CreateVectorStoreConnectorFileSyncDetails(vector_store_connector_id=boot.state_id(CONNECTOR))).data
    from tests.emulator.helpers import wait_for

    wait_for(lambda: boot.ai.get_vector_store_connector_file_sync(run.id).data.lifecycle_state == "SUCCEEDED",
             timeout=15, interval=0.05)
    plan = boot.run("plan", "manifests")
    assert "No changes." in plan.stdout, plan.output
    assert f"# {CONNECTOR} has changed" in plan.stdout
    assert '~ last_sync = null -> {"content": null, "ended": ' in plan.stdout, plan.stdout  # the first one
    assert f'"id": "{run.id}"' in plan.stdout and '"trigger": "MANUAL"' in plan.stdout
    boot.run("apply", "manifests", "--refresh-only", "--auto-approve")  # accepted: recorded as the baseline
    plan = boot.run("plan", "manifests")
    assert "has changed" not in plan.stdout and "No changes." in plan.stdout, plan.output


def test_bucket_content_namespace_and_names(boot: Bootstrap) -> None:
    boot.apply()
    got = boot.os.get_object(NAMESPACE, BUCKET, "handbook/onboarding/first-day.txt").data.content
    assert got == boot.doc("onboarding/first-day.txt").read_bytes()
    assert boot.state_id('object_storage_objects.docs["onboarding/first-day.txt"]') == \
        f"{NAMESPACE}/{BUCKET}/handbook/onboarding/first-day.txt"
