"""SyncState: the one writer of state during a run (Terraform's SyncState).

Workers never touch `State` directly. Every mutation is a journal record: it is applied to
memory at once through `State.apply_record` (the same function that replays a crashed run's
journal, so the two cannot disagree) and handed to a writer thread that appends it to the
backend's journal with group commit: one fsync (or one upload) covers every record queued since
the last. Nothing blocks the event loop on disk or network I/O.

Durability: `await durable()` returns once every record so far is on disk. Creates await it
after recording their intent, before the request leaves; other records become durable within a
few milliseconds, and losing one is harmless because the intent, or the next refresh, covers it.
At the end of a run `checkpoint()` rewrites the snapshot atomically (serial + 1 only when
something changed) and clears the journal.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from ocigen_iac.state.backend import StateBackend
from ocigen_iac.state.model import Intent, ResourceState, State


def replay(state: State, records: list[dict[str, Any]]) -> State:
    """Fold journal records into `state` (the only replay function)."""
    for record in records:
        state.apply_record(record)
    return state


class SyncState:
    def __init__(self, backend: StateBackend, env: str) -> None:
        self.backend = backend
        self.env = env
        self.state = State(env=env)
        self._mutex = threading.Lock()  # guards `state` and the queue
        self._cond = threading.Condition(self._mutex)
        self._pending: list[dict[str, Any]] = []
        self._queued = 0  # records ever queued
        self._written = 0  # records known durable
        self._error: BaseException | None = None
        self._writer: threading.Thread | None = None
        self._closing = False
        self._waiters: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._changed = False
        self._initial_intents: set[str] = set()
        self.recovered_records = 0

    # --- loading -------------------------------------------------------------------------------
    def open(self, *, readonly: bool = False) -> State:
        """Load snapshot + journal. A leftover journal (crash) is folded in and persisted, unless
        `readonly` (plan): then it is folded in memory only."""
        snapshot = self.backend.read_snapshot()
        self.state = snapshot if snapshot is not None else State(env=self.env)
        records = self.backend.journal_read()
        if records:
            replay(self.state, records)
            self.recovered_records = len(records)
            self.state.serial += 1
            if readonly:
                return self.state
            self.backend.write_snapshot(self.state)
            self.backend.journal_clear()
        self._initial_intents = set(self.state.intents)
        self._changed = False
        return self.state

    # --- mutations -----------------------------------------------------------------------------
    def _record(self, record: dict[str, Any], *, changes_resources: bool = True) -> None:
        with self._mutex:
            self.state.apply_record(record)
            if changes_resources:
                self._changed = True
            self._pending.append(record)  # journaled even after an error: the local journal loses nothing
            self._queued += 1
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_loop, name="ocigen-state-writer", daemon=True)
                self._writer.start()
            self._cond.notify_all()
            if self._error is not None:
                raise self._error

    def put(self, address: str, resource: ResourceState) -> None:
        self._record({"op": "put", "address": address, "resource": resource.to_dict()})

    def remove(self, address: str) -> None:
        if address in self.state.resources:
            self._record({"op": "remove", "address": address})

    def move(self, source: str, target: str) -> None:
        moved = self.state.resources.get(source)
        self._record({"op": "move", "address": source, "to": target, "id": moved.id if moved else None})

    def depose(self, address: str) -> None:
        """Keep the current object at `address` as deposed (a replacement is about to be made)."""
        current = self.state.resources.get(address)
        if current is not None:
            self._record({"op": "depose", "address": address, "id": current.id})

    def remove_deposed(self, address: str, object_id: str) -> None:
        self._record({"op": "remove_deposed", "address": address, "id": object_id})

    def release(self, address: str, object_id: str) -> None:
        self._record({"op": "release", "address": address, "id": object_id})

    def record_intent(self, intent: Intent) -> None:
        self._record({"op": "intent", "address": intent.address, "intent": intent.to_dict()},
                     changes_resources=False)

    def clear_intent(self, address: str) -> None:
        if address in self.state.intents:
            self._record({"op": "clear_intent", "address": address}, changes_resources=False)

    # --- durability ----------------------------------------------------------------------------
    def _snapshot_dict(self) -> dict[str, Any]:
        with self._mutex:
            return self.state.to_dict()

    def _write_loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closing:
                    self._cond.wait()
                if not self._pending and self._closing:
                    return
                batch, self._pending = self._pending, []
                upto = self._queued
            try:
                self.backend.journal_append(batch, self._snapshot_dict)
            except BaseException as exc:  # surfaced on the next mutation / durable()
                with self._cond:
                    self._error = exc
            with self._cond:
                self._written = upto
                self._cond.notify_all()
                ready = [w for w in self._waiters if w[0] <= upto]
                self._waiters = [w for w in self._waiters if w[0] > upto]
            for _, loop, fut in ready:
                loop.call_soon_threadsafe(_resolve, fut)

    async def durable(self) -> None:
        """Wait until every record queued so far is durable (raises the writer's error, if any)."""
        with self._mutex:
            target = self._queued
            if self._written >= target:
                if self._error is not None:
                    raise self._error
                return
            loop = asyncio.get_running_loop()
            fut: asyncio.Future[None] = loop.create_future()
            self._waiters.append((target, loop, fut))
        await fut
        if self._error is not None:
            raise self._error

    def wait_durable(self, timeout_s: float = 600.0) -> None:
        with self._cond:
            target = self._queued
            self._cond.wait_for(lambda: self._written >= target, timeout=timeout_s)
            if self._error is not None:
                raise self._error

    @property
    def changed(self) -> bool:
        return self._changed or set(self.state.intents) != self._initial_intents

    def checkpoint(self) -> None:
        """Write the snapshot (serial+1 if anything changed) and clear the journal. Blocking:
        from async code call it through `asyncio.to_thread`."""
        self.wait_durable()
        with self._mutex:
            if not self.changed:
                self.backend.journal_clear()
                return
            self.state.serial += 1
            self.backend.write_snapshot(self.state)
            self.backend.journal_clear()
            self._changed = False
            self._initial_intents = set(self.state.intents)

    def replace_state(self, state: State) -> None:
        """`state push`: the given state becomes the snapshot as it is (serial included)."""
        self.wait_durable()
        with self._mutex:
            self.backend.write_snapshot(state)
            self.backend.journal_clear()
            self.state = state
            self._changed = False
            self._initial_intents = set(state.intents)

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._writer is not None:
            self._writer.join(timeout=600)
        self.backend.close()


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


SnapshotFn = Callable[[], dict[str, Any]]
