"""`state pull` / `state push` through the oci backend (lineage and serial refusals, --force), and
`init --migrate-state` (local -> remote)."""

from __future__ import annotations

import json
from pathlib import Path

from ocigen_iac.state import LocalBackend, ResourceState, State

from .conftest import PREFIX, RemoteProject

KEY = f"{PREFIX}/default.json"


def _state(lineage: str, serial: int, n: int = 2) -> State:
    s = State(lineage=lineage, serial=serial, env="default")
    for i in range(n):
        s.resources[f"file.f{i}"] = ResourceState(kind="file", id=f"file-{lineage}-{i}")
    return s


def _write(path: Path, state: State) -> Path:
    path.write_text(json.dumps(state.to_dict()))
    return path


def test_pull_prints_the_remote_state_and_push_refuses_other_lineage_or_older_serial(project: RemoteProject) -> None:
    project.backend().write_snapshot(_state("L-remote", 5))
    pulled = project.run("state", "pull")
    assert pulled.exit_code == 0, pulled.output
    data = json.loads(pulled.stdout)
    assert data["lineage"] == "L-remote" and data["serial"] == 5 and len(data["resources"]) == 2

    other = project.run("state", "push", str(_write(project.root / "other.json", _state("L-other", 9))))
    assert other.exit_code == 1 and "lineage L-other differs" in other.stderr
    older = project.run("state", "push", str(_write(project.root / "older.json", _state("L-remote", 4))))
    assert older.exit_code == 1 and "serial 4 is older" in older.stderr
    remote = json.loads(project.backend()._get(KEY)[0])
    assert remote["lineage"] == "L-remote" and remote["serial"] == 5  # unchanged by the refusals

    newer = project.run("state", "push", str(_write(project.root / "newer.json", _state("L-remote", 6, n=3))))
    assert newer.exit_code == 0, newer.output
    assert json.loads(project.backend()._get(KEY)[0])["serial"] == 6

    forced = project.run("state", "push", "--force", str(project.root / "other.json"))
    assert forced.exit_code == 0, forced.output
    remote = json.loads(project.backend()._get(KEY)[0])
    assert remote["lineage"] == "L-other" and remote["serial"] == 9
    backup = json.loads(project.backend()._get(KEY + ".backup")[0])
    assert backup["lineage"] == "L-remote" and backup["serial"] == 6  # the replaced version is kept
    assert f"{KEY}.lock" not in project.remote_names()


def test_push_waits_for_the_lock_with_lock_timeout_and_fails_without(project: RemoteProject) -> None:
    project.backend().write_snapshot(_state("L", 1))
    holder = project.backend()
    info = holder.lock("apply")
    path = _write(project.root / "s.json", _state("L", 2))
    r = project.run("state", "push", str(path))
    assert r.exit_code == 1 and f"ID: {info.id}" in r.stderr
    holder.unlock()
    assert project.run("state", "push", "--lock-timeout", "5s", str(path)).exit_code == 0
    assert json.loads(project.backend()._get(KEY)[0])["serial"] == 2


def test_init_migrate_state_copies_local_state_to_the_remote(project: RemoteProject) -> None:
    local_dir = project.root / ".ocigen" / "state"
    local = LocalBackend(local_dir, "default")
    local.write_snapshot(_state("L-local", 3))
    local.close()

    status = project.run("init")
    assert status.exit_code == 0 and "No state yet." in status.stdout and "oci://" in status.stdout

    r = project.run("init", "--migrate-state")
    assert r.exit_code == 0, r.output
    assert "Migrated 2 resource(s)" in r.stdout
    remote = json.loads(project.backend()._get(KEY)[0])
    assert remote["lineage"] == "L-local" and remote["serial"] == 3 and len(remote["resources"]) == 2
    assert (local_dir / "default.json").exists()  # left in place as a copy

    again = project.run("init", "--migrate-state")
    assert again.exit_code == 0 and "nothing to do" in again.stdout

    status = project.run("init")
    assert "lineage L-local, serial 3, 2 resource(s)" in status.stdout
    assert project.run("state", "list").stdout.split() == ["file.f0", "file.f1"]


def test_init_migrate_state_refuses_another_lineage_unless_forced(project: RemoteProject) -> None:
    project.backend().write_snapshot(_state("L-remote", 8, n=1))
    local = LocalBackend(project.root / ".ocigen" / "state", "default")
    local.write_snapshot(_state("L-local", 2))
    local.close()

    r = project.run("init", "--migrate-state")
    assert r.exit_code == 1
    assert "another lineage (L-remote, serial 8, 1 resources)" in r.stderr and "nothing was written" in r.stderr
    assert json.loads(project.backend()._get(KEY)[0])["lineage"] == "L-remote"

    forced = project.run("init", "--migrate-state", "--force")
    assert forced.exit_code == 0, forced.output
    assert json.loads(project.backend()._get(KEY)[0])["lineage"] == "L-local"
    assert json.loads(project.backend()._get(KEY + ".backup")[0])["lineage"] == "L-remote"


def test_init_migrate_state_includes_a_crashed_local_runs_journal(project: RemoteProject) -> None:
    local = LocalBackend(project.root / ".ocigen" / "state", "default")
    local.write_snapshot(_state("L-local", 2, n=1))
    extra = ResourceState(kind="file", id="file-journaled")
    local.journal_append([{"op": "put", "address": "file.journaled", "resource": extra.to_dict()}], State())
    local.close()
    r = project.run("init", "--migrate-state")
    assert r.exit_code == 0, r.output
    remote = json.loads(project.backend()._get(KEY)[0])
    assert sorted(remote["resources"]) == ["file.f0", "file.journaled"] and remote["serial"] == 3


def test_init_migrate_state_needs_the_oci_backend_and_some_local_state(project: RemoteProject) -> None:
    r = project.run("init", "--migrate-state")
    assert r.exit_code == 1 and "no local state" in r.stderr
    project.write_config(backend="local")
    r = project.run("init", "--migrate-state")
    assert r.exit_code == 1 and "is not 'oci'" in r.stderr
