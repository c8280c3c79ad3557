"""Pure logic: ranks, recall@k, MRR, the failure line, and the JUnit file (no server)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ocigen_iac.addresses import Address
from ocigen_iac.engine.render.checks import junit_xml
from ocigen_iac.resources import CheckCase, CheckResult
from ocigen_iac.resources.retrieval_eval import Expectation, Known, Query, evaluate, failure_message, suite_metrics

A, B, C = Address("file", "a"), Address("file", "b"), Address("file", "c")
KNOWN = Known({"file.a": "id-a", "file.b": "id-b", "file.c": "id-c"}, {"file.a": "a.md", "file.b": "b.md",
                                                                        "file.c": "c.md"})


def results(*pairs: tuple[str, float]) -> list[dict]:
    return [{"file_id": fid, "filename": fid.replace("id-", "") + ".md", "score": s} for fid, s in pairs]


def q(*expect: Expectation, top_k: int = 3, min_score: float | None = None) -> Query:
    return Query("what?", expect, top_k, min_score)


def test_rank_is_the_first_result_from_the_document_and_chunks_of_others_count() -> None:
    o = evaluate(q(Expectation("b", (B,))), results(("id-a", 0.9), ("id-a", 0.8), ("id-b", 0.5)), KNOWN)
    assert o.passed and o.found[0].rank == 3 and o.found[0].score == 0.5
    assert o.reciprocal_rank == pytest.approx(1 / 3) and o.recall == 1.0


def test_min_score_and_missing_documents_fail_and_count_against_recall() -> None:
    low = evaluate(q(Expectation("b", (B,)), min_score=0.6), results(("id-b", 0.5)), KNOWN)
    assert not low.passed and low.found[0].reason == "rank 1, but score 0.500 < min_score 0.6"
    assert low.recall == 0.0 and low.reciprocal_rank == 0.0
    half = evaluate(q(Expectation("a", (A,)), Expectation("c", (C,))), results(("id-b", 0.9), ("id-a", 0.7)), KNOWN)
    assert not half.passed and half.recall == 0.5 and half.reciprocal_rank == 0.5
    assert failure_message(half) == ("'what?': expected c.md (file.c) within the top 3: not in the top 3; "
                                     "got b.md (0.900), a.md (0.700)")
    recall, mrr = suite_metrics([low, half])
    assert (recall, mrr) == (0.25, 0.25)


def test_any_member_of_a_glob_satisfies_it_and_unmanaged_results_are_marked() -> None:
    o = evaluate(q(Expectation("docs", (A, C))), results(("id-x", 0.9), ("id-c", 0.4)), KNOWN)
    assert o.passed and o.found[0].rank == 2 and o.found[0].label == "docs (any of 2 files)"
    assert o.hits[0].file is None
    none = evaluate(q(Expectation("a", (A,))), results(("id-x", 0.9)), KNOWN)
    assert "x.md [unmanaged id-x] (0.900)" in failure_message(none)


def test_junit_xml_parses_and_counts_failures() -> None:
    ok = CheckResult("retrieval_check.a", True, "fine", cases=[CheckCase("q1 <&>", True, lines=["rank 1"])])
    bad = CheckResult("retrieval_check.b", False, "broken", cases=[
        CheckCase("q2", False, "expected x.md, got y.md", ["expected x.md: not in the top 3"], 0.25),
        CheckCase("MRR >= 0.8", True)])
    root = ET.fromstring(junit_xml([ok, bad]))
    assert (root.get("tests"), root.get("failures")) == ("3", "1")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["retrieval_check.a", "retrieval_check.b"]
    assert suites[0].find("testcase").get("name") == "q1 <&>"  # escaped on the way out, intact on the way in
    failure = suites[1].find("testcase/failure")
    assert failure.get("message") == "expected x.md, got y.md" and failure.text == "expected x.md: not in the top 3"
    assert suites[1].find("testcase").get("time") == "0.250"
