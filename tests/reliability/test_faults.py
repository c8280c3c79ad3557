"""Faults: the example manifests plus a generated corpus (>= 200 files, 3 stores, 2 containers)
under 10% 5xx, 5% 429 with Retry-After, 2% lost creates, jitter and 5% ingestion failures
converge within 3 applies, with no duplicate and no orphan in the emulator's own listing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.scenarios import faults_scenario
from tests.reliability.support import CorpusShape, Ledger, check_invariants


def test_corpus_under_the_issue_fault_mix_converges_without_duplicates_or_orphans(
        tmp_path: Path, seed: int, ledger: Ledger) -> None:
    outcome = faults_scenario(tmp_path, seed, ledger, CorpusShape())
    assert outcome.ok, (outcome.failures, outcome.duplicates, outcome.orphans)
    assert 1 <= outcome.runs_to_converge[0] <= 3
    # the faults really happened (read from the emulator's own counters)
    assert ledger.faults["5xx"] > 0 and ledger.faults["429"] > 0 and ledger.faults["lost_create"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("extra", range(1, 6))
def test_corpus_converges_under_faults_for_more_seeds(tmp_path: Path, seed: int, ledger: Ledger, extra: int) -> None:
    outcome = faults_scenario(tmp_path, seed * 100 + extra, ledger, CorpusShape())
    assert outcome.ok, (outcome.failures, outcome.duplicates, outcome.orphans)


def test_invariant_check_sees_a_duplicate_and_an_orphan() -> None:
    """The checker itself can fail: two live files with one filename+size, one untracked."""
    objects = {
        "files": [{"id": "f1", "filename": "a.md", "bytes": 3}, {"id": "f2", "filename": "a.md", "bytes": 3}],
        "vector_stores": [{"id": "vs1", "metadata": {"ocigen-iac-owner": "t:x"}},
                          {"id": "vs2", "metadata": {"ocigen-iac-owner": "t:x"}, "status": "deleted"}],
        "vector_store_files": [], "containers": [], "container_files": [],
    }
    dups, orphans = check_invariants(objects, tracked={"f1", "vs1"})
    assert dups == ["file ('a.md', 3): f1 and f2"]
    assert orphans == ["file f2 (a.md)"]
