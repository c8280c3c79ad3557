"""Files an interrupted run uploaded may still be processing when the next run attaches them."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from ocigen_iac.emulator import EmulatorServer
from tests.engine.harness import Project


def _uploads(server: EmulatorServer) -> int:
    counters = httpx.get(f"{server.url}/_admin/counters").json()
    routes = counters.get("requests") or counters.get("routes") or counters
    return sum(v for k, v in routes.items() if isinstance(v, int) and k.startswith("POST") and k.endswith("/files"))


def test_the_run_after_a_kill_waits_for_the_files_the_killed_run_uploaded(
        tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> None:
    server = make_emulator(file_process_delay_s=4.0)  # slow processing: the kill lands before it ends
    project = Project(tmp_path / "proj", server)
    proc = project.spawn("apply", "manifests", "--auto-approve")
    try:
        for _ in range(500):  # bounded: until the seven uploads went out
            if _uploads(server) >= 7:
                break
            time.sleep(0.02)
        time.sleep(0.3)  # the uploads are recorded; attaching waits for processing
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    again = project.run("apply", "manifests", "--auto-approve")
    assert again.exit_code == 0, again.output  # one apply, not "attach failed: still being processed"
    assert "still being processed" not in again.output
    assert project.run("plan", "manifests", "--detailed-exitcode").exit_code == 0
    assert len(project.objects()["files"]) == 7
