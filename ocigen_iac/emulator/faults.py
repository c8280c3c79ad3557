"""Fault injection and request counters.

`FaultInjector` owns the seeded RNG (random.Random(seed), one per emulator). Every faultable request
draws its decision once, in arrival order, under a lock: the same seed and request sequence give the
same faults. `Counters` counts requests per "METHOD route-template" and the faults injected.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .config import Faults

MANAGEMENT_PREFIX = "/20231130/openai/v1"
DATA_PREFIX = "/openai/v1"
API_PREFIXES = (MANAGEMENT_PREFIX, DATA_PREFIX)
INJECTED_KINDS = ("429", "5xx", "drop", "lost_create", "attach_lost", "page_short", "page_empty_cursor")


@dataclass
class Decision:
    latency_s: float = 0.0
    action: str | None = None  # "429" | "5xx" | "drop"
    lost: str | None = None  # "500" | "drop": applied only after a successful create


def _strip_prefix(path: str) -> str:
    for p in API_PREFIXES:
        if path.startswith(p):
            return path[len(p) :] or "/"
    return path


def route_matches(routes: list[str], method: str, path: str) -> bool:
    if not routes:
        return True
    short = _strip_prefix(path)
    for entry in routes:
        if " " in entry:
            m, _, prefix = entry.partition(" ")
            if m.upper() == method.upper() and (path.startswith(prefix) or short.startswith(prefix)):
                return True
        elif entry in path:
            return True
    return False


class FaultInjector:
    def __init__(self, faults: Faults, seed: int) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.faults = faults
        self._ingested: set[tuple[str, str]] = set()  # (store, file) attached once: ingest_fail_first

    def set(self, faults: Faults) -> None:
        with self._lock:
            self.faults = faults

    def decide(self, method: str, path: str, is_create: bool) -> Decision:
        f = self.faults
        d = Decision()
        if not f.active() or not route_matches(f.routes, method, path):
            return d
        with self._lock:
            rng = self._rng
            d.latency_s = f.latency_ms / 1000.0
            if f.jitter_ms:
                d.latency_s += rng.uniform(0, f.jitter_ms) / 1000.0
            if f.rate_drop and rng.random() < f.rate_drop:
                d.action = "drop"
            elif f.rate_429 and rng.random() < f.rate_429:
                d.action = "429"
            elif f.rate_5xx and rng.random() < f.rate_5xx:
                d.action = "5xx"
            elif is_create and f.rate_lost_create and rng.random() < f.rate_lost_create:
                d.lost = "500" if rng.random() < 0.5 else "drop"
        return d

    def ingest_fails(self, vs_id: str, file_id: str) -> bool:
        if self.faults.ingest_fail_first:
            with self._lock:
                first = (vs_id, file_id) not in self._ingested
                self._ingested.add((vs_id, file_id))
            if first:
                return True
        return self._draw(self.faults.ingest_fail_rate)

    def attach_lost(self) -> bool:
        return self._draw(self.faults.rate_attach_lost)

    def _draw(self, rate: float) -> bool:
        if not rate:  # no draw at all: seeded sequences stay as they were without this fault
            return False
        with self._lock:
            return self._rng.random() < rate

    def page_anomaly(self, method: str, path: str) -> str | None:
        f = self.faults
        if f.page_anomaly is None or not route_matches(f.routes, method, path):
            return None
        return f.page_anomaly


class Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with getattr(self, "_lock", threading.Lock()):
            self.requests: Counter[str] = Counter()  # answered (or dropped), by "METHOD /route"
            self.arrived: Counter[str] = Counter()  # reached the app: also those not answered yet
            self.status: Counter[str] = Counter()
            self.injected: Counter[str] = Counter()
            self.total = 0

    def record(self, key: str, status: int | None) -> None:
        with self._lock:
            self.total += 1
            self.requests[key] += 1
            self.status["dropped" if status is None else str(status)] += 1

    def arrive(self, key: str) -> None:
        with self._lock:
            self.arrived[key] += 1

    def inject(self, kind: str) -> None:
        with self._lock:
            self.injected[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self.total,
                "requests": dict(sorted(self.requests.items())),
                "arrived": dict(sorted(self.arrived.items())),
                "status": dict(sorted(self.status.items())),
                "injected": {k: self.injected.get(k, 0) for k in INJECTED_KINDS},
            }
