"""Progress and event reporting: plain lines in CI, a live progress bar on a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Reporter:
    """Receives apply events. `quiet` drops per-resource lines (tests, JSON output)."""

    def __init__(self, out: TextIO | None = None, *, quiet: bool = False, color: bool = False) -> None:
        self.out = out or sys.stdout
        self.quiet = quiet
        self.color = color
        self.events: list[tuple[str, str]] = []
        self._started: dict[str, float] = {}

    def line(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.out, flush=True)

    def start(self, address: str, verb: str) -> None:
        self._started[address + verb] = time.monotonic()
        self.events.append((address, verb))
        self.line(f"{address}: {verb}...")

    def done(self, address: str, verb: str, detail: str = "") -> None:
        took = time.monotonic() - self._started.pop(address + verb, time.monotonic())
        suffix = f" [{detail}]" if detail else ""
        self.events.append((address, f"{verb} complete"))
        self.line(f"{address}: {verb} complete after {took:.0f}s{suffix}")

    def fail(self, address: str, message: str) -> None:
        self.events.append((address, "failed"))
        self.line(f"{address}: FAILED: {message}")

    def note(self, text: str) -> None:
        self.line(text)
