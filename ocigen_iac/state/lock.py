"""State locks: who holds the state, since when, doing what.

`LockInfo` is shared by every backend. `LocalLock` takes an OS file lock (flock, via filelock), so
a killed process never blocks the next run: the kernel releases the lock with the process. The
holder's details sit beside it in `<env>.lock.json` for the message a blocked run prints.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import filelock

from ocigen_iac.errors import LockHeld, StateError
from ocigen_iac.state.files import atomic_write, dump_json


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


@dataclass
class LockInfo:
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    holder: str = field(default_factory=_user)
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    operation: str = ""
    created: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> LockInfo:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    def describe(self, stale_after_s: float | None = None) -> str:
        age = max(0.0, time.time() - self.created)
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.created))
        text = (
            f"ID: {self.id}\n  Holder: {self.holder}@{self.host} (pid {self.pid})\n"
            f"  Operation: {self.operation}\n  Since: {when} ({format_age(age)} ago)"
        )
        if stale_after_s is not None and age > stale_after_s:
            text += f"\n  This lock is older than {format_age(stale_after_s)}: it may be stale."
        return text


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, TypeError, ValueError, OverflowError):
        return True
    return True


def format_age(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


def lock_held_error(info: LockInfo | None, where: str, stale_after_s: float) -> LockHeld:
    details = info.describe(stale_after_s) if info else "  (holder unknown)"
    lock_id = info.id if info else "ID"
    return LockHeld(
        f"Error acquiring the state lock for {where}: it is held by another run.\n  {details}\n"
        f"Wait for that run to finish (or use --lock-timeout). If you are sure no run is active, "
        f"release it with: ocigen-iac force-unlock {lock_id}"
    )


class LocalLock:
    def __init__(self, path: Path, stale_after_s: float = 3600.0) -> None:
        self.path = path
        self.info_path = path.with_name(path.name + ".json")
        self.stale_after_s = stale_after_s
        self._lock = filelock.FileLock(str(path), mode=0o600)
        self._held: LockInfo | None = None

    def info(self) -> LockInfo | None:
        try:
            return LockInfo.from_dict(json.loads(self.info_path.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def acquire(self, operation: str, timeout_s: float = 0.0) -> LockInfo:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=max(0.0, timeout_s), poll_interval=0.1)
        except filelock.Timeout:
            raise lock_held_error(self._holder_info(), str(self.path.parent), self.stale_after_s) from None
        info = LockInfo(operation=operation)
        atomic_write(self.info_path, dump_json(info.to_dict()))
        self._held = info
        return info

    def _holder_info(self, wait_s: float = 1.0) -> LockInfo | None:
        """The holder's details. The holder writes them just after taking the OS lock, so a run that
        lost the race may see none yet, or a dead predecessor's: wait briefly for a live holder's."""
        deadline = time.monotonic() + wait_s
        while True:
            info = self.info()
            if info is not None and (info.host != socket.gethostname() or _alive(info.pid)):
                return info
            if time.monotonic() >= deadline:
                return info
            time.sleep(0.05)

    def release(self) -> None:
        if self._held is None:
            return
        current = self.info()
        if current is not None and current.id == self._held.id:
            with contextlib.suppress(FileNotFoundError):
                self.info_path.unlink()
        self._held = None
        self._lock.release()

    def force_unlock(self, lock_id: str) -> LockInfo | None:
        info = self.info()
        if info is not None and info.id != lock_id:
            raise StateError(
                f"lock ID {lock_id!r} does not match the current lock (ID {info.id}); nothing was changed"
            )
        probe = filelock.FileLock(str(self.path))
        try:
            probe.acquire(timeout=0)
        except filelock.Timeout:
            who = info.describe() if info else "an unknown process"
            raise StateError(
                f"the lock is held by a live process on this machine:\n  {who}\n"
                "A local lock is released by the operating system when its holder exits; stop that "
                "process instead of unlocking."
            ) from None
        try:
            with contextlib.suppress(FileNotFoundError):
                self.info_path.unlink()
        finally:
            probe.release()
        return info
