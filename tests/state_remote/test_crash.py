"""kill -9 during an apply with remote state: the next apply converges with no duplicates, on the
same machine (local journal) and from another machine (pushed intents + ownership tags)."""

from __future__ import annotations

import re
import shutil
import signal
from collections import Counter

from ocigen_iac.emulator import Faults

from .conftest import PREFIX, RemoteProject

LOCK = f"{PREFIX}/default.json.lock"


def _kill_mid_apply(project: RemoteProject, push_interval: str, *, until: object) -> int:
    project.server.set_faults(Faults(latency_ms=200, routes=["/openai/v1"]))
    proc = project.spawn("apply", "manifests", "--auto-approve", "--parallelism", "1", push_interval=push_interval)
    try:
        project.wait_for(until, timeout_s=30, what="the apply to get half way")  # type: ignore[arg-type]
        assert proc.poll() is None, "the apply finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        project.server.set_faults(Faults())
        if proc.poll() is None:  # pragma: no cover - only if an assertion fired first
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return proc.pid


def _converges_without_duplicates(project: RemoteProject, killed_pid: int) -> None:
    assert LOCK in project.remote_names()  # a remote lock outlives its holder ...
    blocked = project.run("apply", "manifests", "--auto-approve")
    assert blocked.exit_code == 1
    assert f"(pid {killed_pid})" in blocked.stderr
    assert "no longer running on this host" in blocked.stderr  # ... and says so
    lock_id = re.search(r"ID: (\S+)", blocked.stderr).group(1)  # type: ignore[union-attr]
    assert project.run("force-unlock", lock_id).exit_code == 0

    r = project.run("apply", "manifests", "--auto-approve")
    assert r.exit_code == 0, r.output
    live = project.objects()
    names = Counter(f["filename"] for f in live["files"])
    assert names == Counter({f"doc{i}.md": 1 for i in range(4)}), names
    assert len(live["vector_stores"]) == 1
    store = live["vector_stores"][0]["id"]
    attached = [v for v in live["vector_store_files"] if v["vector_store_id"] == store]
    assert sorted(v["id"] for v in attached) == sorted(f["id"] for f in live["files"])
    state = project.remote_state()
    assert state is not None and state["intents"] == {}
    assert {r["id"] for a, r in state["resources"].items() if a.startswith("file.")} == {f["id"] for f in live["files"]}
    assert project.run("plan", "manifests", "--detailed-exitcode").exit_code == 0
    assert LOCK not in project.remote_names()


def test_kill_9_mid_apply_then_the_next_apply_on_this_machine_converges(project: RemoteProject) -> None:
    pid = _kill_mid_apply(project, "5", until=lambda: len(project.objects()["files"]) >= 2)
    journal = project.root / ".ocigen" / "remote-journal" / "default.journal"
    assert journal.exists() and journal.read_text().count('"op":"put"') >= 1  # durable locally
    _converges_without_duplicates(project, pid)
    assert not journal.exists()


def test_kill_9_seen_from_another_machine_converges_from_the_pushed_state(project: RemoteProject) -> None:
    def pushed_and_half_done() -> bool:  # admin listing only: cheap, and never races the pushes
        live = project.objects()
        return f"{PREFIX}/default.json" in {o["name"] for o in live["objects"]} and len(live["files"]) >= 2

    pid = _kill_mid_apply(project, "0", until=pushed_and_half_done)
    # the remote snapshot was pushed during the run (push interval 0: after every call)
    state = project.remote_state()
    assert state is not None and state["resources"]
    shutil.rmtree(project.root / ".ocigen" / "remote-journal")  # another machine has no local journal
    _converges_without_duplicates(project, pid)
