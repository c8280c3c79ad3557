"""Look at the service from a second thread while a command runs (a bounded number of looks)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def looking(look: Callable[[], object], *, looks: int = 2000, pause_s: float = 0.0) -> Iterator[None]:
    """Call `look` on a thread until it returns something true, the block ends, or `looks` calls
    (pausing `pause_s` between them) are done; the block's end waits for the thread (30 s at most)."""
    stop = threading.Event()

    def run() -> None:
        for _ in range(looks):
            if stop.is_set() or look():
                return
            if pause_s:
                time.sleep(pause_s)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
