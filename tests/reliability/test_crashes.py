"""Crashes: kill -9 the apply (or destroy) process at seeded points (uploads, file batches, batch
polls, container files, store creates, right after a create response before the state write,
time offsets, replacements, destroys). After each kill the state parses and the next run
converges with no duplicate and no orphan."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.scenarios import PHASE_ORDER, crash_scenario
from tests.reliability.support import Ledger


def _assert_clean(outcome, kills: int) -> None:  # type: ignore[no-untyped-def]
    assert len(outcome.kills) == kills
    assert outcome.ok, "\n".join(outcome.failures + outcome.duplicates + outcome.orphans)
    # after a crash, one apply converges (not "within 3"): the next plan is `No changes`
    assert all(n == 1 for n in outcome.runs_to_converge), "\n".join([str(outcome.runs_to_converge), *outcome.slow])


def test_kill_9_at_five_points_then_next_apply_converges_cleanly(tmp_path: Path, seed: int, ledger: Ledger) -> None:
    # upload, batch, batch-poll, container-file, state-write
    outcome = crash_scenario(tmp_path, seed, ledger, kills=5)
    _assert_clean(outcome, 5)
    assert ledger.kills == 5
    assert sum(1 for k in outcome.kills if "finished first" not in k) >= 3  # most kills landed mid-run


def test_kill_9_during_replacement_and_destroy_then_next_run_converges(
        tmp_path: Path, seed: int, ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.reliability.scenarios as scenarios

    monkeypatch.setattr(scenarios, "PHASE_ORDER", ["replace-upload", "replace-delete", "destroy"])
    outcome = crash_scenario(tmp_path, seed + 1, ledger, kills=3)
    _assert_clean(outcome, 3)


@pytest.mark.slow
def test_kill_9_at_fifty_seeded_points(tmp_path: Path, seed: int, ledger: Ledger) -> None:
    outcome = crash_scenario(tmp_path, seed, ledger, kills=50)
    _assert_clean(outcome, 50)
    assert {k.split("@")[0] for k in outcome.kills} == set(PHASE_ORDER)
