"""State persistence: journal replay after a crash, serial discipline, file modes, locks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ocigen_iac.errors import LockHeld
from ocigen_iac.state import Intent, LocalBackend, ResourceState, SyncState


def _sync(tmp_path: Path) -> SyncState:
    sync = SyncState(LocalBackend(tmp_path, "dev"), "dev")
    sync.open()
    return sync


def test_every_recorded_change_survives_a_crash_before_the_snapshot(tmp_path: Path) -> None:
    sync = _sync(tmp_path)
    sync.record_intent(Intent("file.a", "file", {"filename": "a.md"}))
    sync.put("file.a", ResourceState("file", "file-1", attrs={"sha256": "x"}))
    sync.clear_intent("file.a")
    sync.put("file.b", ResourceState("file", "file-2"))
    sync.wait_durable()  # what a run does before each create: every record so far is on disk
    # no checkpoint: the process "dies" here
    reopened = _sync(tmp_path)
    assert set(reopened.state.resources) == {"file.a", "file.b"}
    assert reopened.state.intents == {}
    assert reopened.recovered_records == 4
    assert reopened.state.serial == 1
    assert not (tmp_path / "dev.journal").exists()


def test_a_torn_last_journal_line_is_ignored(tmp_path: Path) -> None:
    sync = _sync(tmp_path)
    sync.put("file.a", ResourceState("file", "file-1"))
    sync.wait_durable()
    with open(tmp_path / "dev.journal", "ab") as fh:
        fh.write(b'{"op":"put","address":"file.b","reso')  # killed mid-write
    assert set(_sync(tmp_path).state.resources) == {"file.a"}


def test_serial_is_bumped_only_when_something_changed(tmp_path: Path) -> None:
    sync = _sync(tmp_path)
    sync.checkpoint()
    assert sync.state.serial == 0
    sync.put("file.a", ResourceState("file", "file-1"))
    sync.checkpoint()
    assert sync.state.serial == 1
    sync.checkpoint()
    again = _sync(tmp_path)
    again.checkpoint()
    assert again.state.serial == 1


def test_snapshot_is_private_and_keeps_one_backup(tmp_path: Path) -> None:
    sync = _sync(tmp_path)
    sync.put("file.a", ResourceState("file", "file-1"))
    sync.checkpoint()
    sync.put("file.b", ResourceState("file", "file-2"))
    sync.checkpoint()
    snap = tmp_path / "dev.json"
    assert snap.stat().st_mode & 0o777 == 0o600
    assert json.loads((tmp_path / "dev.json.backup").read_text())["serial"] == 1
    assert json.loads(snap.read_text())["serial"] == 2


def test_a_held_lock_names_its_holder(tmp_path: Path) -> None:
    first = LocalBackend(tmp_path, "dev")
    first.lock("apply")
    try:
        with pytest.raises(LockHeld) as err:
            LocalBackend(tmp_path, "dev").lock("plan")
        text = str(err.value)
        assert f"(pid {os.getpid()})" in text and "Operation: apply" in text and "force-unlock" in text
    finally:
        first.unlock()
    LocalBackend(tmp_path, "dev").lock("plan")  # free again


def test_a_killed_holder_never_blocks_the_next_run(tmp_path: Path) -> None:
    code = (
        "import sys,time; from pathlib import Path; from ocigen_iac.state import LocalBackend;"
        f"b = LocalBackend(Path({str(tmp_path)!r}), 'dev'); b.lock('apply'); "
        "print('locked', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(LockHeld):
            LocalBackend(tmp_path, "dev").lock("plan")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    deadline = time.monotonic() + 5
    while True:
        try:
            LocalBackend(tmp_path, "dev").lock("plan")
            break
        except LockHeld:
            assert time.monotonic() < deadline
            time.sleep(0.05)
