from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ocigen_iac.emulator import EmulatorServer
from tests.engine.harness import Project


@pytest.fixture
def project(tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> Project:
    """The example manifests wired to an emulator (ocigen.yaml without environments)."""
    return Project(tmp_path / "proj", make_emulator())
