from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ocigen_iac.emulator import EmulatorServer
from tests.engine.harness import Project

CHECK = "retrieval_check.support-kb-answers"
STORE = "vector_store.support-kb"


@pytest.fixture
def project(tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> Project:
    return Project(tmp_path / "proj", make_emulator())


@pytest.fixture
def applied(project: Project) -> Project:
    r = project.run("apply", "manifests", "--auto-approve")
    assert r.exit_code == 0, r.output
    assert f"Check passed: {CHECK}: 7 of 7 queries passed" in r.stdout
    assert_no_changes(project)
    return project


def assert_no_changes(project: Project) -> None:
    r = project.run("plan", "manifests", "--detailed-exitcode")
    assert r.exit_code == 0, r.output
    assert "No changes." in r.stdout


@pytest.fixture
def bare(tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> Project:
    """A project with an empty manifests/ folder."""
    return Project(tmp_path / "bare", make_emulator(), example_manifests=False)
