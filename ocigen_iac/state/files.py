"""Durable file primitives shared by state snapshots, journals, saved plans and caches."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import orjson


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600, backup: bool = False) -> None:
    """Write `data` to `path` atomically: temp file, fsync, rename, fsync the directory.

    With `backup`, the previous version is kept as `<path>.backup` (one generation).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)
    if backup and path.exists():
        os.replace(path, path.with_name(path.name + ".backup"))
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def dump_json(obj: Any) -> bytes:
    """Indented JSON (state and plan files are meant to be read by people, and diffed)."""
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


class Journal:
    """An append-only JSON-lines log, fsynced per append: the cheap way to persist every call.

    A torn last line (crash mid-write) is ignored on read.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def append(self, records: list[dict[str, Any]]) -> None:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        payload = b"".join(orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE) for r in records)
        os.write(self._fd, payload)
        os.fsync(self._fd)

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        records = []
        for line in self.path.read_bytes().splitlines():
            try:
                records.append(orjson.loads(line))
            except ValueError:
                break  # torn tail from a crash: everything before it is intact
        return records

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def clear(self) -> None:
        self.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        fsync_dir(self.path.parent)
