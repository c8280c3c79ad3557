from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ocigen_iac.emulator import EmulatorServer
from tests.engine.harness import Project


@pytest.fixture
def project(tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> Project:
    server = make_emulator()
    return Project(tmp_path / "proj", server)


@pytest.fixture
def applied(project: Project) -> Project:
    r = project.run("apply", "manifests", "--auto-approve")
    assert r.exit_code == 0, r.output
    return project


@pytest.fixture
def owned(tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> Project:
    """A project whose ocigen.yaml names its owner (so its stores can be recognised after state loss)."""
    return Project(tmp_path / "proj", make_emulator(), extra_config="owner: team-kb\n")
