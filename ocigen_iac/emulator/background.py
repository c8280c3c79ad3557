"""The emulator's background threads (ingestion, control-plane lifecycle): a daemon thread that
calls `tick` until stopped, waiting in between; `wake` cuts a wait short when new work arrives."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("ocigen_iac.emulator")


class BackgroundThread:
    label = "background"  # the thread is "emulator-<label>"; errors log as "<label> worker error"
    error_wait_s = 0.5  # after an error: the error is logged and the thread carries on

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> float | None:
        """One round of work; returns how long to wait before the next (None: go again at once)."""
        raise NotImplementedError

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"emulator-{self.label}", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self.tick()
            except Exception:  # keep the thread alive whatever happens; the error is logged
                if self._stop.is_set():
                    return
                log.exception("%s worker error", self.label)
                wait = self.error_wait_s
            if wait is None:
                continue
            self._wake.wait(wait)
            self._wake.clear()
