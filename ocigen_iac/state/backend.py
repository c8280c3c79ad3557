"""The state backend protocol and the local-file backend.

A backend stores one snapshot per environment plus a journal of records written since that
snapshot, and owns the lock. `SyncState` (sync.py) is the only writer during a run.

Local layout under `state.path` (default `.ocigen/state/`):
    <env>.json          snapshot (mode 0600), atomically replaced; <env>.json.backup keeps one generation
    <env>.journal       records since the snapshot, one fsynced JSON line per mutating call
    <env>.lock          OS file lock (released by the kernel if the holder dies)
    <env>.lock.json     who holds it: id, holder, host, pid, operation, created

With a `cache_dir` (the CLI passes `.ocigen/cache/`), a non-empty snapshot also gets a fast-load
copy there, `state-<env>.fastload` (state/fastload.py): derived from the snapshot, safe to delete.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import orjson

from ocigen_iac.errors import StateError
from ocigen_iac.state import fastload
from ocigen_iac.state.files import Journal, atomic_write, dump_json
from ocigen_iac.state.lock import LocalLock, LockInfo
from ocigen_iac.state.model import State
from ocigen_iac.state.snapshot import read_streaming


class StateBackend(Protocol):
    description: str

    def lock(self, operation: str, timeout_s: float = 0.0) -> LockInfo: ...
    def unlock(self) -> None: ...
    def force_unlock(self, lock_id: str) -> LockInfo | None: ...
    def lock_info(self) -> LockInfo | None: ...
    def read_snapshot(self) -> State | None: ...
    def write_snapshot(self, state: State) -> None: ...
    def journal_append(self, records: list[dict[str, Any]], snapshot: Callable[[], dict[str, Any]]) -> None: ...
    def journal_read(self) -> list[dict[str, Any]]: ...
    def journal_clear(self) -> None: ...
    def close(self) -> None: ...


class LocalBackend:
    def __init__(self, directory: Path, env: str, stale_after_s: float = 3600.0,
                 cache_dir: Path | None = None) -> None:
        self.directory = directory
        self.env = env
        self.snapshot_path = directory / f"{env}.json"
        self.fastload_path = cache_dir / f"state-{env}.fastload" if cache_dir is not None else None
        self.description = str(self.snapshot_path)
        self._journal = Journal(directory / f"{env}.journal")
        self._lock = LocalLock(directory / f"{env}.lock", stale_after_s=stale_after_s)

    # lock
    def lock(self, operation: str, timeout_s: float = 0.0) -> LockInfo:
        return self._lock.acquire(operation, timeout_s)

    def unlock(self) -> None:
        self._lock.release()

    def force_unlock(self, lock_id: str) -> LockInfo | None:
        return self._lock.force_unlock(lock_id)

    def lock_info(self) -> LockInfo | None:
        return self._lock.info()

    # snapshot
    def read_snapshot(self) -> State | None:
        try:
            fh = self.snapshot_path.open("rb")
        except FileNotFoundError:
            return None
        with fh:  # one open file for the digest and the parse: they describe the same bytes
            if self.fastload_path is None:
                return self._parse_snapshot(fh)
            digest = fastload.snapshot_digest(fh)

            def parse() -> State:
                fh.seek(0)
                return self._parse_snapshot(fh)
            return fastload.load(self.fastload_path, digest, parse)

    def _parse_snapshot(self, fh: BinaryIO) -> State:
        streamed = read_streaming(fh)  # large snapshots, without holding them twice
        if streamed is not None:
            return streamed
        try:
            fh.seek(0)
            return State.from_dict(orjson.loads(fh.read()))
        except (ValueError, KeyError, TypeError) as exc:
            raise StateError(
                f"state file {self.snapshot_path} is unreadable ({exc}); "
                f"the previous version is in {self.snapshot_path}.backup"
            ) from exc

    def write_snapshot(self, state: State) -> None:
        atomic_write(self.snapshot_path, dump_json(state.to_dict()), backup=True)

    # journal
    def journal_append(self, records: list[dict[str, Any]], snapshot: Callable[[], dict[str, Any]]) -> None:
        """Make `records` durable. `snapshot()` (the state with them applied, as a dict) is for
        backends that push whole snapshots."""
        self._journal.append(records)

    def journal_read(self) -> list[dict[str, Any]]:
        return self._journal.read()

    def journal_clear(self) -> None:
        self._journal.clear()

    def close(self) -> None:
        self._journal.close()
