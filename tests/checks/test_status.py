"""`ocigen-iac status` and `output`'s usage_bytes, end to end against the emulator."""

from __future__ import annotations

import time

from tests.checks.conftest import STORE, assert_no_changes
from tests.engine.harness import Project

CONTAINER = "container.analyst-sandbox"
BROKEN = """---
apiVersion: ocigen-iac/v1
kind: File
metadata: {name: scan}
spec: {path: docs/scan.pdf}
"""


def test_status_reports_every_object_healthy_with_counts_usage_and_expiry(applied: Project) -> None:
    project = applied
    before = project.server.counters()["requests"]
    r = project.run("status", "--json")
    assert r.exit_code == 0, r.output
    data = r.json()
    assert data["healthy"] is True and data["counts"] == {"Healthy": 9}
    objects = {o["address"]: o for o in data["objects"]}
    store = objects[STORE]
    assert store["file_counts"] == {"completed": 7, "in_progress": 0, "failed": 0, "cancelled": 0, "total": 7}
    assert store["usage_bytes"] > 0 and store["expires_at"] and store["failures"] == []
    box = objects[CONTAINER]
    assert box["status"] and box["last_active_at"]
    assert box["expires_at"] == box["last_active_at"] + box["expires_after"]["minutes"] * 60
    assert objects["file.handbook"]["bytes"] == (project.root / "manifests/docs/handbook.md").stat().st_size

    # read-only and list endpoints only: no container retrieve, no listing of its files (activity)
    after = project.server.counters()["requests"]
    grew = {k.replace("/20231130", "").replace("/openai/v1", "") for k in after if after[k] != before.get(k, 0)}
    assert grew == {"GET /files", "GET /vector_stores", "GET /containers"}, grew

    text = project.run("status").stdout
    assert f"{STORE}  " in text and "7 file(s): 7 completed, 0 in progress, 0 failed, 0 cancelled" in text
    assert "Health: 9 object(s): 9 Healthy." in text
    assert_no_changes(project)


def test_status_names_a_file_the_ingester_rejected_and_its_error(applied: Project) -> None:
    project = applied
    (project.root / "manifests/docs/scan.pdf").write_bytes(b"this is not a PDF")
    kb = project.root / "manifests/knowledge-base.yaml"
    original = kb.read_text()
    kb.write_text(original.replace("    - handbook\n", "    - handbook\n    - scan\n") + BROKEN)
    r = project.run("apply", "manifests", "--auto-approve")
    assert r.exit_code == 1, r.output  # the attachment's ingestion failed

    data = project.run("status", "--json").json()
    store = next(o for o in data["objects"] if o["address"] == STORE)
    assert store["health"] == "Degraded" and data["healthy"] is False
    assert store["file_counts"]["failed"] == 1
    (failure,) = store["failures"]
    assert failure["file"] == "file.scan" and failure["filename"] == "scan.pdf"
    assert failure["file_id"] == project.state_id("file.scan")
    assert failure["last_error"] == {"code": "invalid_file", "message": "File 'scan.pdf' is not a valid PDF."}
    text = project.run("status").stdout
    assert f"failed: file.scan (scan.pdf, {failure['file_id']}): invalid_file: File 'scan.pdf' is not a valid PDF." \
        in text
    assert "1 Degraded" in text

    kb.write_text(original)  # take the document out again
    (project.root / "manifests/docs/scan.pdf").unlink()
    r = project.run("apply", "manifests", "--auto-approve")
    assert r.exit_code == 0, r.output
    assert_no_changes(project)
    assert project.run("status", "--json").json()["healthy"] is True


def test_status_shows_an_injected_ingestion_failure_with_server_error(applied: Project) -> None:
    from ocigen_iac.emulator import Faults

    project = applied
    project.server.set_faults(Faults(ingest_fail_rate=1.0))
    (project.root / "manifests/docs/faq/billing.md").write_text("# Billing FAQ\n\nInvoices arrive monthly.\n")
    assert project.run("apply", "manifests", "--auto-approve").exit_code == 1
    store = next(o for o in project.run("status", "--json").json()["objects"] if o["address"] == STORE)
    (failure,) = store["failures"]
    assert failure["file"] == 'file.faq["billing.md"]' and failure["last_error"]["code"] == "server_error"
    project.server.set_faults(Faults())
    (project.root / "manifests/docs/faq/billing.md").write_text(
        "# Billing FAQ\n\nWhich payment methods do you accept? Credit cards and bank transfer.\n"
        "Can I get a refund? Unused prepaid credit is refundable within 14 days.\n")
    assert project.run("apply", "manifests", "--auto-approve").exit_code == 0
    assert_no_changes(project)


def test_a_store_missing_on_the_service_is_reported_missing(applied: Project) -> None:
    project = applied
    store_id = project.state_id(STORE)
    assert project.http.delete(f"{project.server.management_base}/vector_stores/{store_id}").status_code == 200
    data = project.run("status", "--json").json()
    store = next(o for o in data["objects"] if o["address"] == STORE)
    assert store["health"] == "Missing" and store["summary"] == "not returned by GET /vector_stores"
    assert project.run("apply", "manifests", "--auto-approve").exit_code == 0
    assert_no_changes(project)


def test_output_json_carries_the_usage_recorded_at_apply(applied: Project) -> None:
    project = applied
    store_id = project.state_id(STORE)
    live = project.http.get(f"{project.server.management_base}/vector_stores/{store_id}").json()
    out = project.run("output", "--json").json()
    assert out[STORE]["usage_bytes"] == live["usage_bytes"] > 0

    handbook = project.root / "manifests/docs/handbook.md"
    handbook.write_text(handbook.read_text() + "\n" + "More escalation notes. " * 50 + "\n")
    assert project.run("apply", "manifests", "--auto-approve").exit_code == 0
    assert_no_changes(project)
    live = project.http.get(f"{project.server.management_base}/vector_stores/{store_id}").json()
    grown = project.run("output", "--json").json()[STORE]["usage_bytes"]
    assert grown == live["usage_bytes"] > out[STORE]["usage_bytes"]


def test_status_on_empty_state(project: Project) -> None:
    r = project.run("status")
    assert r.exit_code == 0
    assert "No objects: state is empty." in r.stdout


def test_refresh_only_records_the_usage_the_service_reports_now(applied: Project) -> None:
    project = applied
    store_id = project.state_id(STORE)
    recorded = project.run("output", "--json").json()[STORE]["usage_bytes"]
    # someone attaches a document by hand: the store's usage grows, nothing the tool manages changes
    up = project.http.post("/files", files={"file": ("extra.md", b"extra words " * 200)},
                           data={"purpose": "assistants"})
    up.raise_for_status()
    for _ in range(200):  # bounded: a new File is processed after a moment
        if project.http.get(f"/files/{up.json()['id']}").json().get("status") == "processed":
            break
        time.sleep(0.05)
    project.http.post(f"/vector_stores/{store_id}/files", json={"file_id": up.json()["id"]}).raise_for_status()
    for _ in range(200):  # bounded: wait for its ingestion
        live = project.http.get(f"{project.server.management_base}/vector_stores/{store_id}").json()
        if live["file_counts"]["completed"] == 8:
            break
        time.sleep(0.05)
    assert live["usage_bytes"] > recorded
    assert project.run("output", "--json").json()[STORE]["usage_bytes"] == recorded  # output reads state

    r = project.run("apply", "manifests", "--refresh-only", "--auto-approve")
    assert r.exit_code == 0, r.output
    assert project.run("output", "--json").json()[STORE]["usage_bytes"] == live["usage_bytes"]
    assert_no_changes(project)


def test_plan_says_how_many_bytes_it_will_upload(project: Project) -> None:
    m = project.root / "manifests"
    sent = [*(m / "docs").rglob("*.md"), m / "data/prices.csv"]
    expected = sum(p.stat().st_size for p in sent if not p.name.startswith("draft-"))
    plan = project.run("plan", "manifests", "--json").json()
    assert plan["upload_bytes"] == expected  # 7 documents + the price list; the container's handbook is a copy
    assert f"Uploads: {expected / 1024:.1f} KiB of local content." in project.run("plan", "manifests").stdout
