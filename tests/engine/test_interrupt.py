"""Ctrl-C during apply: in-flight calls finish, state is saved, exit 130, the next apply resumes."""

from __future__ import annotations

import json
import signal
import time

import httpx

from ocigen_iac.emulator import Faults
from tests.engine.harness import Project


def _creates(project: Project) -> int:
    counters = httpx.get(f"{project.server.url}/_admin/counters").json()
    routes = counters.get("requests") or counters.get("routes") or counters
    return sum(v for k, v in routes.items() if isinstance(v, int) and k.startswith("POST") and "/files" in k)


def test_ctrl_c_saves_state_exits_130_and_the_next_apply_converges(project: Project) -> None:
    project.server.set_faults(Faults(latency_ms=400))  # slow enough that a loaded machine still interrupts part-way
    proc = project.spawn("apply", "manifests", "--auto-approve", "--parallelism", "2")
    try:
        for _ in range(300):  # wait until uploads are under way
            if _creates(project) >= 2:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        project.server.set_faults(Faults())
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (out, err)
    assert "Interrupt received" in out
    assert "state was saved" in err
    state = json.loads((project.root / ".ocigen" / "state" / "default.json").read_text())
    done = {a for a, r in state["resources"].items() if r["kind"] == "file"}
    assert 0 < len(done) < 7  # stopped part-way, and what was done is recorded
    live_files = {f["id"] for f in project.objects()["files"]}
    assert {state["resources"][a]["id"] for a in done} <= live_files

    again = project.run("apply", "manifests", "--auto-approve")
    assert again.exit_code == 0, again.output
    assert project.run("plan", "manifests", "--detailed-exitcode").exit_code == 0
    assert len(project.objects()["files"]) == 7  # no duplicates
