"""Through the CLI: plans load a large state from its fast-load copy, and a copy never hides a change
to the state file (state rm, an apply)."""

from __future__ import annotations

import pytest

from ocigen_iac.state import LocalBackend
from tests.engine.harness import Project

CONTAINER = "container.analyst-sandbox"


def _refuse_json(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: LocalBackend, *args: object) -> None:
        raise AssertionError("the snapshot's JSON was parsed")
    monkeypatch.setattr(LocalBackend, "_parse_snapshot", refuse)


def test_a_plan_loads_the_copy_and_a_changed_state_file_is_read_again(
        applied: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project = applied
    copy = project.root / ".ocigen" / "cache" / "state-default.fastload"

    first = project.run("plan", "manifests", "--detailed-exitcode")
    assert first.exit_code == 0 and "No changes." in first.stdout, first.output
    assert copy.exists()

    with monkeypatch.context() as m:
        _refuse_json(m)
        second = project.run("plan", "manifests", "--detailed-exitcode")
    assert second.exit_code == 0 and "No changes." in second.stdout, second.output

    assert project.run("state", "rm", CONTAINER).exit_code == 0  # rewrites the state file
    after_rm = project.run("plan", "manifests", "--json")
    assert after_rm.exit_code == 0, after_rm.output
    changed = {c["address"] for c in after_rm.json()["resource_changes"] if c["action"] != "no-op"}
    assert CONTAINER in changed  # from the new state file, not the copy made before `state rm`

    assert project.run("apply", "manifests", "--auto-approve").exit_code == 0
    with monkeypatch.context() as m:
        final = project.run("plan", "manifests", "--detailed-exitcode")  # after the apply: JSON again
        assert final.exit_code == 0 and "No changes." in final.stdout, final.output
        _refuse_json(m)
        again = project.run("plan", "manifests", "--detailed-exitcode")  # and the new copy
    assert again.exit_code == 0 and "No changes." in again.stdout, again.output
