"""SyncState: the one writer of state during a run (Terraform's SyncState).

Workers never touch `State` directly; they call `put`/`remove`/`record_intent`/`clear_intent`,
which update memory and append an fsynced journal record before returning. A crash therefore
loses nothing that was done: the next `open()` replays the journal onto the snapshot. At the end
of a run (`checkpoint`) the snapshot is rewritten atomically and the journal cleared. The serial
is bumped only when resources actually changed.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from ocigen_iac.state.backend import StateBackend
from ocigen_iac.state.model import Intent, ResourceState, State


class SyncState:
    def __init__(self, backend: StateBackend, env: str) -> None:
        self.backend = backend
        self.env = env
        self.state = State(env=env)
        self._mutex = threading.Lock()
        self._changed = False
        self._initial_intents: set[str] = set()
        self.recovered_records = 0

    def open(self) -> State:
        """Load snapshot + journal. A leftover journal (crash) is folded in and persisted."""
        snapshot = self.backend.read_snapshot()
        self.state = snapshot if snapshot is not None else State(env=self.env)
        records = self.backend.journal_read()
        if records:
            for record in records:
                self.state.apply_record(record)
            self.recovered_records = len(records)
            self.state.serial += 1
            self.backend.write_snapshot(self.state)
            self.backend.journal_clear()
        self._initial_intents = set(self.state.intents)
        self._changed = False
        return self.state

    def snapshot(self) -> State:
        with self._mutex:
            return copy.deepcopy(self.state)

    def _record(self, record: dict[str, Any]) -> None:
        self.backend.journal_append([record], self.state)

    def put(self, address: str, resource: ResourceState) -> None:
        with self._mutex:
            self.state.resources[address] = resource
            self._changed = True
            self._record({"op": "put", "address": address, "resource": resource.to_dict()})

    def remove(self, address: str) -> None:
        with self._mutex:
            if self.state.resources.pop(address, None) is None:
                return
            self._changed = True
            self._record({"op": "remove", "address": address})

    def move(self, source: str, target: str) -> None:
        with self._mutex:
            moved = self.state.resources.pop(source)
            self.state.resources[target] = moved
            self._changed = True
            self._record({"op": "move", "address": source, "to": target, "id": moved.id})

    def record_intent(self, intent: Intent) -> None:
        with self._mutex:
            self.state.intents[intent.address] = intent
            self._record({"op": "intent", "address": intent.address, "intent": intent.to_dict()})

    def clear_intent(self, address: str) -> None:
        with self._mutex:
            if self.state.intents.pop(address, None) is None:
                return
            self._record({"op": "clear_intent", "address": address})

    @property
    def changed(self) -> bool:
        return self._changed or set(self.state.intents) != self._initial_intents

    def checkpoint(self) -> None:
        """Write the snapshot (serial+1 if anything changed) and clear the journal."""
        with self._mutex:
            if not self.changed:
                self.backend.journal_clear()
                return
            self.state.serial += 1
            self.backend.write_snapshot(self.state)
            self.backend.journal_clear()
            self._changed = False
            self._initial_intents = set(self.state.intents)

    def close(self) -> None:
        self.backend.close()
