"""The CLI as a subprocess whose output goes to files (a long plan would fill a pipe and stall
the process before it reaches the moment a test wants to interrupt)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.engine.harness import API_KEY, KEY_ENV


class Running:
    def __init__(self, cwd: Path, args: tuple[str, ...], env: dict[str, str], log_dir: Path) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        n = len(list(log_dir.glob("*.out")))
        self.out_path = log_dir / f"{n:03d}.out"
        self.err_path = log_dir / f"{n:03d}.err"
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
        full_env.pop("OCIGEN_ENV", None)
        with self.out_path.open("w") as out, self.err_path.open("w") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "ocigen_iac.cli", *args], cwd=cwd, env=full_env,
                                         stdout=out, stderr=err, stdin=subprocess.DEVNULL, text=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout_s: float = 120) -> tuple[int, str, str]:
        try:
            code = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
            raise AssertionError(f"the CLI did not exit within {timeout_s} s:\n{self.stderr()[-2000:]}") from None
        return code, self.stdout(), self.stderr()

    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def ensure_dead(self) -> None:
        if self.alive():
            self.proc.kill()
            self.proc.wait(timeout=30)


def spawn_cli(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Running:
    return Running(cwd, args, {KEY_ENV: API_KEY, **(env or {})}, cwd / ".test-logs")


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str, step_s: float = 0.02) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def interrupt(run: Running, sig: int, timeout_s: float = 120) -> tuple[int, str, str]:
    """Deliver SIGINT or SIGKILL and wait for the exit."""
    run.signal(sig)
    if sig == signal.SIGKILL:
        return run.wait(30)
    return run.wait(timeout_s)
