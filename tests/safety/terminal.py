"""The CLI on a pseudo-terminal, as a user at a terminal runs it: the pty is the controlling
terminal of a new session, so writing Ctrl-C (0x03) makes the line discipline send SIGINT to
the foreground process group, and prompts appear because stdin is a terminal."""

from __future__ import annotations

import fcntl
import os
import re
import select
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

from tests.engine.harness import API_KEY, KEY_ENV

CTRL_C = b"\x03"
# colour/cursor sequences (a Ctrl-C echo can cut one short, hence the optional final letter)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]?|\x1b\][^\x07]*\x07|\r")
PROGRESS = re.compile(r"[━╸╺]|^\S.*: .*(\.\.\.|complete after \d+s.*)$|^\^C$")


def messages(text: str) -> list[str]:
    """Non-empty lines that are not progress (bars, per-object events) or the echo of a Ctrl-C."""
    lines = (line.replace("^C", "").strip() for line in text.splitlines())
    return [line for line in lines if line and not PROGRESS.search(line)]


def _own_terminal() -> None:  # runs in the child between fork and exec
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class TerminalSession:
    def __init__(self, cwd: Path, *args: str, env: dict[str, str] | None = None) -> None:
        master, slave = os.openpty()
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", KEY_ENV: API_KEY, "TERM": "xterm", "COLUMNS": "160",
                    **(env or {})}
        for var in ("CI", "OCIGEN_ENV", "NO_COLOR"):
            full_env.pop(var, None)
        self.proc = subprocess.Popen([sys.executable, "-m", "ocigen_iac.cli", *args], cwd=cwd, env=full_env,
                                     stdin=slave, stdout=slave, stderr=slave, preexec_fn=_own_terminal)
        os.close(slave)
        self.master = master
        self.raw = b""

    @property
    def text(self) -> str:
        """Everything printed so far, without colour and cursor codes."""
        return ANSI.sub("", self.raw.decode(errors="replace"))

    def _read(self, timeout_s: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout_s)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not chunk:
            return False
        self.raw += chunk
        return True

    def read_until(self, pattern: str, timeout_s: float) -> str:
        """Read (bounded) until `pattern` (a regex) appears in the text; return the text."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if re.search(pattern, self.text):
                return self.text
            if not self._read(min(0.1, max(0.0, deadline - time.monotonic()))) and self.proc.poll() is not None:
                break
        if re.search(pattern, self.text):
            return self.text
        raise AssertionError(f"{pattern!r} did not appear within {timeout_s} s; output so far:\n{self.text[-3000:]}")

    def read_while_waiting_for(self, predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
        """Keep reading (a full terminal would block the CLI) until `predicate()` holds (bounded)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return
            if not self._read(0.02) and self.proc.poll() is not None:
                break
        if not predicate():
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}; output:\n{self.text[-3000:]}")

    def press(self, data: bytes) -> None:
        os.write(self.master, data)

    def wait(self, timeout_s: float) -> int:
        """Drain output until the process exits (bounded); kill it and fail if it does not."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            alive = self._read(0.1)
            if self.proc.poll() is not None and not alive:
                break
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
            raise AssertionError(f"the CLI did not exit within {timeout_s} s; output:\n{self.text[-3000:]}")
        while self._read(0.05):  # whatever is still buffered
            if not select.select([self.master], [], [], 0)[0]:
                break
        return self.proc.returncode

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        os.close(self.master)
