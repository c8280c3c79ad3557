"""Conditional snapshot writes (If-Match on the etag read), the backup object, the push cadence of
`journal_append`, the local journal's base markers, and auth for the state client."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import replace

import pytest

from ocigen_iac.errors import StateError
from ocigen_iac.settings import AuthSettings
from ocigen_iac.state import ResourceState, State, SyncState
from ocigen_iac.state.oci_backend import OciBackend

from .conftest import BUCKET, PREFIX, RemoteProject

KEY = f"{PREFIX}/default.json"


def _state(n: int, serial: int = 1, lineage: str = "L-1") -> State:
    s = State(lineage=lineage, serial=serial, env="default")
    for i in range(n):
        s.resources[f"file.f{i}"] = ResourceState(kind="file", id=f"file-{i}")
    return s


def test_write_with_a_stale_etag_fails_and_the_remote_is_unchanged(project: RemoteProject) -> None:
    project.backend().write_snapshot(_state(1))
    a, b = project.backend(), project.backend()
    assert a.read_snapshot() is not None and b.read_snapshot() is not None
    stale_etag = a._etag
    b.write_snapshot(_state(2, serial=2))  # b wins: the etag a read is gone
    before = project.backend()._get(KEY)
    assert before is not None
    with pytest.raises(StateError) as exc:
        a.write_snapshot(_state(5, serial=2))
    text = str(exc.value)
    assert f"remote state changed underneath this run (etag {stale_etag} != {before[1]})" in text
    assert "nothing was overwritten" in text and str(a.journal_path) in text
    after = project.backend()._get(KEY)
    assert after == before  # same bytes, same etag
    assert sorted(json.loads(after[0])["resources"]) == ["file.f0", "file.f1"]
    # what a meant to write is kept locally
    saved = [p for p in a.journal_path.parent.iterdir() if p.name.startswith("default.conflict-")]
    assert len(saved) == 1 and len(json.loads(saved[0].read_text())["resources"]) == 5
    # and later writes from a fail the same way instead of going through
    with pytest.raises(StateError):
        a.write_snapshot(_state(6, serial=3))
    assert project.backend()._get(KEY) == before


def test_creating_state_uses_if_none_match(project: RemoteProject) -> None:
    a, b = project.backend(), project.backend()
    assert a.read_snapshot() is None and b.read_snapshot() is None
    a.write_snapshot(_state(1, lineage="A"))
    with pytest.raises(StateError, match=r"etag <none> != "):
        b.write_snapshot(_state(1, lineage="B"))
    assert json.loads(project.backend()._get(KEY)[0])["lineage"] == "A"


def test_a_mid_run_conflict_raises_and_loses_no_record(project: RemoteProject) -> None:
    project.backend().write_snapshot(_state(1))
    backend = project.backend(push_interval_s=0)
    sync = SyncState(backend, "default")
    sync.open()
    project.backend().write_snapshot(_state(3, serial=9))  # someone else writes (a force-unlock...)
    remote_before = project.backend()._get(KEY)
    sync.put("file.new", ResourceState(kind="file", id="file-new"))
    with pytest.raises(StateError, match="remote state changed underneath this run"):
        sync.wait_durable()  # the writer met the conflict: the run hears of it at its next durability point
    with pytest.raises(StateError, match="remote state changed underneath this run"):
        sync.put("file.newer", ResourceState(kind="file", id="file-newer"))
    with contextlib.suppress(StateError):
        sync.wait_durable()
    with pytest.raises(StateError):
        sync.checkpoint()
    assert project.backend()._get(KEY) == remote_before
    journal = [json.loads(line) for line in backend.journal_path.read_text().splitlines()]
    assert [r.get("address") for r in journal if r["op"] == "put"] == ["file.new", "file.newer"]


def test_the_previous_version_is_kept_as_a_backup_object(project: RemoteProject) -> None:
    project.backend().write_snapshot(_state(1, serial=1))
    b = project.backend()
    b.read_snapshot()
    b.write_snapshot(_state(2, serial=2))
    b.write_snapshot(_state(3, serial=3))  # one backup per run: the version this run started from
    backup = project.backend()._get(KEY + ".backup")
    assert backup is not None and json.loads(backup[0])["serial"] == 1
    assert json.loads(project.backend()._get(KEY)[0])["serial"] == 3


def test_records_are_pushed_at_most_every_interval_and_always_at_checkpoint(project: RemoteProject) -> None:
    project.backend().write_snapshot(_state(0, serial=1))
    slow = project.backend(push_interval_s=3600)
    sync = SyncState(slow, "default")
    sync.open()
    sync.put("file.a", ResourceState(kind="file", id="file-a"))
    sync.put("file.b", ResourceState(kind="file", id="file-b"))
    sync.wait_durable()
    assert json.loads(project.backend()._get(KEY)[0])["resources"] == {}  # not yet remote ...
    assert slow.journal_path.exists()  # ... but durable locally
    sync.checkpoint()
    remote = json.loads(project.backend()._get(KEY)[0])
    assert sorted(remote["resources"]) == ["file.a", "file.b"] and remote["serial"] == 2
    assert not slow.journal_path.exists()
    slow.unlock()

    eager = project.backend(push_interval_s=0)
    sync = SyncState(eager, "default")
    sync.open()
    sync.put("file.c", ResourceState(kind="file", id="file-c"))
    sync.wait_durable()
    remote = json.loads(project.backend()._get(KEY)[0])
    assert "file.c" in remote["resources"]
    assert remote["serial"] == 3  # an in-progress push is newer than what the run started from
    sync.checkpoint()
    assert json.loads(project.backend()._get(KEY)[0])["serial"] == 3


def test_journal_clear_pushes_what_a_checkpoint_without_changes_did_not(project: RemoteProject) -> None:
    from ocigen_iac.state import Intent

    project.backend().write_snapshot(_state(1, serial=1))
    backend = project.backend(push_interval_s=0)
    sync = SyncState(backend, "default")
    sync.open()
    sync.record_intent(Intent(address="file.x", kind="file", fingerprint={"filename": "x"}))
    sync.wait_durable()
    assert "file.x" in json.loads(project.backend()._get(KEY)[0])["intents"]
    sync.clear_intent("file.x")  # nets out: SyncState sees no change and does not write a snapshot
    sync.checkpoint()
    assert json.loads(project.backend()._get(KEY)[0])["intents"] == {}


def test_a_crashed_runs_journal_is_replayed_only_onto_the_state_it_extends(project: RemoteProject, capsys) -> None:  # type: ignore[no-untyped-def]
    project.backend().write_snapshot(_state(1, serial=1))
    crashed = project.backend(push_interval_s=3600)
    sync = SyncState(crashed, "default")
    sync.open()
    sync.put("file.crash", ResourceState(kind="file", id="file-crash"))
    sync.wait_durable()
    crashed.close()  # killed: no checkpoint

    again = project.backend()
    again.lock("apply")
    sync2 = SyncState(again, "default")
    state = sync2.open()
    assert "file.crash" in state.resources and sync2.recovered_records == 1
    assert "file.crash" in json.loads(project.backend()._get(KEY)[0])["resources"]
    again.unlock()

    # another crash, but then the remote moves on elsewhere: the journal must not be replayed onto it
    crashed = project.backend(push_interval_s=3600)
    sync = SyncState(crashed, "default")
    sync.open()
    sync.put("file.lost", ResourceState(kind="file", id="file-lost"))
    crashed.close()
    project.backend().write_snapshot(_state(4, serial=7, lineage=state.lineage))
    later = project.backend()
    later.lock("apply")
    state = SyncState(later, "default").open()
    assert "file.lost" not in state.resources and state.serial == 7
    assert "does not extend the current remote state" in capsys.readouterr().err
    aside = [p for p in later.journal_path.parent.iterdir() if ".orphaned-" in p.name]
    assert len(aside) == 1 and "file.lost" in aside[0].read_text()
    later.unlock()


def test_api_key_auth_signs_state_requests_with_the_config_profile(project: RemoteProject) -> None:
    settings = project.settings()
    api_key_settings = replace(settings, auth=AuthSettings(type="api_key", api_key_env="NOPE",
                                                           profile="DEFAULT",
                                                           config_file=str(project.iam.config_file)))
    backend = OciBackend(api_key_settings)
    backend.write_snapshot(_state(1))
    assert json.loads(project.backend()._get(KEY)[0])["lineage"] == "L-1"
    bad = replace(settings, auth=AuthSettings(type="user_principal", profile="NOPE",
                                              config_file=str(project.iam.config_file)))
    with pytest.raises(Exception, match="profile NOPE"):
        OciBackend(bad).read_snapshot()


def test_object_storage_errors_are_state_errors_that_say_what_failed(project: RemoteProject) -> None:
    settings = project.settings()
    wrong_ns = replace(settings, state=replace(settings.state, namespace="otherns"))
    with pytest.raises(StateError, match=r"reading failed for oci://ocigen-state@otherns/.*404|NamespaceNotFound"):
        OciBackend(wrong_ns).lock("apply")


def test_push_interval_comes_from_the_environment(project: RemoteProject, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCIGEN_STATE_PUSH_INTERVAL", "0.5")
    assert project.backend().push_interval_s == 0.5
    monkeypatch.setenv("OCIGEN_STATE_PUSH_INTERVAL", "soon")
    with pytest.raises(StateError, match="not a number"):
        project.backend()
    monkeypatch.delenv("OCIGEN_STATE_PUSH_INTERVAL")
    assert project.backend().push_interval_s == 5.0
    assert os.environ.get("OCIGEN_STATE_PUSH_INTERVAL") is None
    assert BUCKET  # the bucket is created on first write by the emulator (as the tests rely on)
