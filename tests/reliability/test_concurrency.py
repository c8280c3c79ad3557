"""Concurrency: two applies at once (one wins, the other exits 1 naming the holder); an old lock
is reported with its age; the lock of a killed holder does not block; `force-unlock` clears a
lock whose holder is gone and refuses one whose holder is alive."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocigen_iac.emulator import Faults
from tests.reliability.support import Ledger, RelProject, kill9, start_emulator, wait_until


@pytest.fixture
def project(tmp_path: Path, ledger: Ledger) -> Iterator[RelProject]:
    server = start_emulator(tmp_path / "emu")
    try:
        yield RelProject(tmp_path / "proj", server, ledger)
    finally:
        server.stop()


def _lock_info(project: RelProject) -> Path:
    return project.state_dir / "default.lock.json"


def test_two_applies_at_once_one_wins_and_the_other_names_the_holder(project: RelProject) -> None:
    project.set_faults(Faults(latency_ms=60))
    try:
        a = project.spawn("apply", "manifests", "--auto-approve")
        b = project.spawn("apply", "manifests", "--auto-approve")
        (out_a, err_a), (out_b, err_b) = a.communicate(timeout=120), b.communicate(timeout=120)
    finally:
        project.set_faults(Faults())
    for text in (out_a + err_a, out_b + err_b):
        project.ledger.scan("concurrent apply", text)
    codes = sorted([a.returncode, b.returncode])
    assert codes == [0, 1], (a.returncode, err_a[-800:], b.returncode, err_b[-800:])
    winner, loser_err = (a, err_b) if a.returncode == 0 else (b, err_a)
    assert "held by another run" in loser_err
    assert f"(pid {winner.pid})" in loser_err
    assert "Operation: apply" in loser_err and "ago)" in loser_err
    assert "force-unlock" in loser_err
    assert project.run("plan", "manifests", "--detailed-exitcode").exit_code == 0


def _hold_lock(project: RelProject) -> subprocess.Popen:
    """Another process holding the OS lock (filelock), like a run that is still going."""
    code = ("import sys, time, filelock; l = filelock.FileLock(sys.argv[1]); l.acquire(); "
            "print('held', flush=True); time.sleep(120)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(project.state_dir / "default.lock")],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_lock_held_for_hours_is_reported_with_its_age_and_called_possibly_stale(project: RelProject) -> None:
    project.state_dir.mkdir(parents=True)
    holder = _hold_lock(project)
    try:
        info = {"id": "lock-old-1", "holder": "ci", "host": "runner-7", "pid": holder.pid, "operation": "apply",
                "created": time.time() - 2 * 3600 - 5 * 60}
        _lock_info(project).write_text(json.dumps(info))
        r = project.run("apply", "manifests", "--auto-approve")
        assert r.exit_code == 1
        assert "held by another run" in r.stderr
        assert f"ci@runner-7 (pid {holder.pid})" in r.stderr
        assert "(2h05m ago)" in r.stderr
        assert "it may be stale" in r.stderr
        assert "ocigen-iac force-unlock lock-old-1" in r.stderr
        # its holder is alive: force-unlock refuses and says why
        refused = project.run("force-unlock", "lock-old-1")
        assert refused.exit_code == 1
        assert "held by a live process" in refused.stderr
        assert project.objects()["files"] == []
    finally:
        kill9(holder)
    # the holder is gone: the stale info no longer blocks, and force-unlock clears it
    ok = project.run("force-unlock", "lock-old-1")
    assert ok.exit_code == 0, ok.output
    assert "successfully unlocked" in ok.stdout and "ci@runner-7" in ok.stdout
    assert not _lock_info(project).exists()
    assert project.run("apply", "manifests", "--auto-approve").exit_code == 0


def test_force_unlock_with_the_wrong_id_changes_nothing(project: RelProject) -> None:
    project.state_dir.mkdir(parents=True)
    _lock_info(project).write_text(json.dumps({"id": "right-id", "pid": 1, "operation": "apply",
                                               "created": time.time()}))
    r = project.run("force-unlock", "wrong-id")
    assert r.exit_code == 1
    assert "does not match the current lock (ID right-id)" in r.stderr
    assert _lock_info(project).exists()


def test_the_lock_of_a_killed_apply_does_not_block_the_next_run(project: RelProject) -> None:
    project.set_faults(Faults(latency_ms=60))
    proc = project.spawn("apply", "manifests", "--auto-approve")
    try:
        assert wait_until(_lock_info(project).exists, timeout_s=30)
        assert wait_until(lambda: project.counters()["total"] >= 3, timeout_s=30)
    finally:
        kill9(proc)
        project.set_faults(Faults())
    assert json.loads(_lock_info(project).read_text())["pid"] == proc.pid  # left behind by the dead holder
    r = project.run("apply", "manifests", "--auto-approve")
    assert r.exit_code == 0, r.output
    assert project.run("plan", "manifests", "--detailed-exitcode").exit_code == 0


def test_losing_the_race_names_the_live_holder_not_a_dead_predecessor(project: RelProject) -> None:
    """The winner writes its details just after taking the OS lock; a dead run's details may still
    be there. The blocked run waits briefly for the live holder's details and names it."""
    project.state_dir.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    info_path = _lock_info(project)
    info_path.write_text(json.dumps({"id": "dead-run", "pid": dead.pid, "operation": "apply",
                                     "created": time.time() - 60}))
    code = ("import json, os, socket, sys, time, filelock; l = filelock.FileLock(sys.argv[1]); l.acquire(); "
            "print('held', flush=True); time.sleep(0.4); "
            "open(sys.argv[2], 'w').write(json.dumps({'id': 'live-run', 'pid': os.getpid(), "
            "'host': socket.gethostname(), 'operation': 'apply', 'created': time.time()})); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(project.state_dir / "default.lock"), str(info_path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        r = project.run("plan", "manifests")
    finally:
        kill9(holder)
    assert r.exit_code == 1
    assert f"(pid {holder.pid})" in r.stderr and "live-run" in r.stderr, r.stderr
