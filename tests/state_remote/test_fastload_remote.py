"""A remote snapshot gets a fast-load copy too, keyed by the SHA-256 of the bytes downloaded: an
unchanged remote state is not parsed again, a changed one always is."""

from __future__ import annotations

from typing import Any

import pytest

from ocigen_iac.state import ResourceState, State
from ocigen_iac.state import oci_backend as oci_backend_module

from .conftest import RemoteProject


def _state(serial: int, n: int) -> State:
    s = State(lineage="L", serial=serial, env="default")
    for i in range(n):
        s.resources[f'file.docs["d{i}.md"]'] = ResourceState(kind="file", id=f"file-{i}", attrs={"attributes": {}},
                                                             live={"bytes": i})
    return s


def test_an_unchanged_remote_state_loads_from_its_copy_and_a_changed_one_is_parsed(
        project: RemoteProject, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _state(1, 1_200)
    project.backend().write_snapshot(first)
    read = project.backend().read_snapshot()
    assert read is not None and read.to_dict()["resources"] == first.to_dict()["resources"]
    assert (project.root / ".ocigen" / "cache" / "remote-state-default.fastload").exists()

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the remote snapshot's JSON was parsed")
    with monkeypatch.context() as m:
        m.setattr(oci_backend_module.json, "loads", refuse)
        again = project.backend().read_snapshot()
    assert again is not None and again.to_dict() == read.to_dict()

    second = _state(2, 1_201)
    project.backend().write_snapshot(second)
    changed = project.backend().read_snapshot()
    assert changed is not None and len(changed.resources) == 1_201 and changed.serial == second.serial
