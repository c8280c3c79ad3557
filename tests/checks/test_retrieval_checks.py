"""Retrieval checks end to end: the real CLI against the emulator over HTTP (BM25 search, so the
rankings are deterministic)."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from ocigen_iac.emulator import Faults
from tests.checks.conftest import CHECK, STORE, assert_no_changes
from tests.engine.harness import Project
from tests.support.corpus import kb_manifest

REFUNDS = "manifests/docs/policies/refunds.md"
REFUND_QUERY = "Can I get a refund for unused prepaid credit?"


def test_check_reports_each_query_with_ranks_results_and_suite_figures(applied: Project) -> None:
    r = applied.run("check", "manifests")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "  PASS  How do I reset my password?" in out
    assert 'expected account.md (file.faq["account.md"]): rank 1, score ' in out
    assert "returned: account.md (" in out  # the top results, filename and score
    # a query expecting two documents reports the rank of each
    block = out.split(f"PASS  {REFUND_QUERY}")[1].split("PASS")[0]
    assert 'expected refunds.md (file.policies["refunds.md"]): rank ' in block
    assert 'expected billing.md (file.faq["billing.md"]): rank ' in block
    assert "expected policies (any of 3 files): rank 1" in out
    assert f"Check passed: {CHECK}: 7 of 7 queries passed; recall@3 1.00 (min 1), MRR 1.00 (min 0.8)" in out
    assert "1 of 1 check(s) passed." in out
    assert_no_changes(applied)  # checking changes nothing


def test_replaced_content_fails_the_check_after_apply_and_names_what_came_back(applied: Project) -> None:
    project = applied
    (project.root / REFUNDS).write_text("# Office plants\n\nWater the ferns on Mondays and the cactus once a month.\n")
    r = project.run("apply", "manifests", "--auto-approve")
    assert r.exit_code == 1, r.output
    err = r.stderr
    assert f"FAIL  {REFUND_QUERY}" in err
    assert 'expected refunds.md (file.policies["refunds.md"]): not in the top 3' in err
    assert f"Check FAILED: {CHECK}: 6 of 7 queries passed" in err
    # the one line names the query, the expected document and what came back instead
    assert (f"{REFUND_QUERY!r}: expected refunds.md (file.policies[\"refunds.md\"]) within the top 3: "
            "not in the top 3; got billing.md (") in err
    assert "1 declared check(s) failed after apply (nothing was rolled back)." in err
    assert "State is saved" in err
    # nothing was rolled back: state has the new file, and the plan is clean
    new_id = project.state_id('file.policies["refunds.md"]')
    assert new_id in project.store_file_ids(project.state_id(STORE))
    assert_no_changes(project)

    again = project.run("check", "manifests", "--json")
    assert again.exit_code == 1
    data = again.json()
    assert data["passed"] is False
    query = next(q for q in data["checks"][0]["queries"] if q["query"] == REFUND_QUERY)
    refunds = next(e for e in query["expected"] if e["ref"] == 'policies["refunds.md"]')
    assert refunds == {"ref": 'policies["refunds.md"]', "document": 'refunds.md (file.policies["refunds.md"])',
                       "rank": None, "score": None, "retrieved": False, "reason": "not in the top 3"}
    assert [r["filename"] for r in query["results"]][:1] == ["billing.md"]
    assert all(r["file"] for r in query["results"])  # every result is a managed File, named by address


def test_skip_checks_applies_without_running_them(applied: Project) -> None:
    project = applied
    (project.root / REFUNDS).write_text("# Office plants\n\nWater the ferns on Mondays.\n")
    r = project.run("apply", "manifests", "--auto-approve", "--skip-checks")
    assert r.exit_code == 0, r.output
    assert "Check " not in r.output
    assert_no_changes(project)


def test_junit_report_parses_and_carries_every_query(applied: Project, tmp_path: Path) -> None:
    project = applied
    junit = tmp_path / "checks.xml"
    assert project.run("check", "manifests", "--junit", str(junit)).exit_code == 0
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites" and root.get("failures") == "0" and root.get("tests") == "9"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == CHECK
    names = [c.get("name") for c in suite.findall("testcase")]
    assert names[0] == "How do I reset my password?" and names[-2:] == ["recall@3 >= 1", "MRR >= 0.8"]
    assert suite.findall("testcase/failure") == []

    (project.root / REFUNDS).write_text("# Office plants\n\nWater the ferns on Mondays.\n")
    assert project.run("apply", "manifests", "--auto-approve", "--skip-checks").exit_code == 0
    assert_no_changes(project)
    r = project.run("check", "manifests", "--junit", str(junit))
    assert r.exit_code == 1
    root = ET.parse(junit).getroot()
    failures = root.findall("testsuite/testcase/failure")
    assert int(root.get("failures") or 0) == len(failures) >= 1
    refund = next(c for c in root.iter("testcase") if c.get("name") == REFUND_QUERY)
    failure = refund.find("failure")
    assert failure is not None
    assert "expected refunds.md" in (failure.get("message") or "") and "got billing.md" in failure.get("message", "")
    assert "not in the top 3" in (failure.text or "")


def test_apply_json_carries_the_check_results(project: Project) -> None:
    r = project.run("apply", "manifests", "--auto-approve", "--json")
    assert r.exit_code == 0, r.output
    (check,) = r.json()["result"]["checks"]
    assert check["name"] == CHECK and check["passed"] is True
    assert check["recall_at_k"] == 1.0 and check["top_k"] == 3 and len(check["queries"]) == 7
    assert_no_changes(project)


def test_a_chunking_change_fails_the_check(bare: Project) -> None:
    """Bigger chunks bury the answer: with 100-token chunks the end of keys.md is a chunk of its
    own that matches the query best; with 800 the whole long file is one chunk, and BM25 prefers a
    short file that has fewer of the words."""
    project = bare
    docs = project.root / "manifests" / "docs"
    docs.mkdir()
    filler = " ".join(f"filler{i}" for i in range(96))
    (docs / "keys.md").write_text(f"Rotate the access key {filler} every ninety days.\n")
    (docs / "other.md").write_text("Rotate the access key every week.\n")
    (docs / "plants.md").write_text("Unrelated: the office plants need water.\n")
    kb = kb_manifest(store_spec="chunking_strategy: {type: static, static: {max_chunk_size_tokens: 100,"
                              " chunk_overlap_tokens: 0}}") + """---
apiVersion: ocigen-iac/v1
kind: RetrievalCheck
metadata: {name: keys}
spec:
  vector_store: kb
  top_k: 1
  queries:
    - query: rotate access key every ninety days
      expect: ['docs["keys.md"]']
"""
    manifest = project.root / "manifests" / "kb.yaml"
    manifest.write_text(kb)
    r = project.run("apply", "manifests", "--auto-approve")
    assert r.exit_code == 0, r.output
    assert "Check passed: retrieval_check.keys: 1 of 1 queries passed" in r.stdout
    assert_no_changes(project)

    manifest.write_text(kb.replace("max_chunk_size_tokens: 100", "max_chunk_size_tokens: 800"))
    r = project.run("apply", "manifests", "--auto-approve")
    assert r.exit_code == 1, r.output
    assert ("'rotate access key every ninety days': expected keys.md (file.docs[\"keys.md\"]) within the top 1: "
            "not in the top 1; got other.md (") in r.stderr
    assert_no_changes(project)


def test_a_check_never_searches_a_half_ingested_store(applied: Project) -> None:
    project = applied
    store_id = project.state_id(STORE)
    checks = project.root / "manifests" / "retrieval-checks.yaml"
    checks.write_text(checks.read_text().replace("  top_k: 3", "  top_k: 3\n  ingestion_timeout: 1s"))
    # one more file lands in the store outside the tool, and its ingestion does not finish
    project.server.set_faults(Faults(ingest_delay_s=3600))
    up = project.http.post("/files", files={"file": ("late.md", b"late news")}, data={"purpose": "assistants"})
    up.raise_for_status()
    late = up.json()["id"]
    for _ in range(100):  # bounded: the file must be processed before it can be attached
        if project.http.get(f"/files/{late}").json().get("status") == "processed":
            break
        time.sleep(0.05)
    project.http.post(f"/vector_stores/{store_id}/files", json={"file_id": late}).raise_for_status()
    before = project.server.counters()["requests"].get("POST /vector_stores/{id}/search", 0)

    r = project.run("check", "manifests")
    assert r.exit_code == 1
    assert f"{STORE}: waiting for ingestion before searching: 1 of 8 file(s) in progress" in r.stderr
    assert (f"Check FAILED: {CHECK}: not run: {STORE}: ingestion still in progress after 1s (1 of 8 file(s)); "
            "not searched") in r.stdout
    assert project.server.counters()["requests"].get("POST /vector_stores/{id}/search", 0) == before

    project.server.set_faults(Faults())
    assert project.http.delete(f"/vector_stores/{store_id}/files/{late}").status_code == 200
    assert project.run("check", "manifests").exit_code == 0
    assert_no_changes(project)


def test_check_before_any_apply_says_to_apply_first(project: Project) -> None:
    r = project.run("check", "manifests", "--json")
    assert r.exit_code == 1
    (check,) = json.loads(r.stdout)["checks"]
    assert check["passed"] is False
    assert check["summary"] == f"not run: {STORE} has no live object in state; run apply first"
