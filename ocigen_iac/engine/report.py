"""Progress and event reporting: plain lines in CI, live progress bars on a terminal.

`Reporter` prints one line per event (what CI logs want). `TerminalReporter` prints the same
lines above rich progress bars: one for the apply's steps, one per store being ingested, one for
bytes uploaded.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class Reporter:
    """Receives apply events. `quiet` drops per-resource lines (tests, JSON output)."""

    def __init__(self, out: TextIO | None = None, *, quiet: bool = False, color: bool = False) -> None:
        self.out = out or sys.stdout
        self.quiet = quiet
        self.color = color
        self.events: list[tuple[str, str]] = []
        self._started: dict[str, float] = {}

    # lifecycle hooks (no-ops for plain output)
    def begin(self, total: int, total_bytes: int = 0, label: str = "apply") -> None:
        pass

    def end(self) -> None:
        pass

    def uploaded(self, n: int) -> None:
        pass

    def ingestion(self, store: str, completed: int, total: int) -> None:
        pass

    def step_finished(self, n: int = 1) -> None:
        pass

    def line(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.out, flush=True)

    def start(self, address: str, verb: str) -> None:
        self._started[address + verb] = time.monotonic()
        self.events.append((address, verb))
        self.line(f"{address}: {verb}...")

    def done(self, address: str, verb: str, detail: str = "") -> None:
        started = self._started.pop(address + verb, None)
        suffix = f" [{detail}]" if detail else ""
        self.events.append((address, f"{verb} complete"))
        after = f" after {time.monotonic() - started:.0f}s" if started is not None else ""
        self.line(f"{address}: {verb} complete{after}{suffix}")

    def fail(self, address: str, message: str) -> None:
        self.events.append((address, "failed"))
        self.line(f"{address}: FAILED: {message}")



class TerminalReporter(Reporter):
    """The same events, printed above live progress bars (rich)."""

    def __init__(self, out: TextIO | None = None, *, color: bool = True) -> None:
        super().__init__(out, color=color)
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn

        self.console = Console(file=self.out, highlight=False, no_color=not color)
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  console=self.console, transient=True)
        self._bytes = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                               console=self.console, transient=True)
        self._steps: Any = None
        self._upload: Any = None
        self._stores: dict[str, Any] = {}
        self._live: Any = None

    def begin(self, total: int, total_bytes: int = 0, label: str = "apply") -> None:
        from rich.console import Group
        from rich.live import Live

        self._steps = self._progress.add_task(label, total=total)
        if total_bytes:
            self._upload = self._bytes.add_task("upload", total=total_bytes)
        self._live = Live(Group(self._progress, self._bytes), console=self.console, transient=True)
        self._live.start()

    def end(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def uploaded(self, n: int) -> None:
        if self._upload is not None:
            self._bytes.advance(self._upload, n)

    def ingestion(self, store: str, completed: int, total: int) -> None:
        task = self._stores.get(store)
        if task is None:
            task = self._stores[store] = self._progress.add_task(f"ingest {store}", total=total)
        self._progress.update(task, completed=completed, total=total)

    def step_finished(self, n: int = 1) -> None:
        if self._steps is not None and n:
            self._progress.advance(self._steps, n)

    def line(self, text: str) -> None:
        self.console.print(text, markup=False)
