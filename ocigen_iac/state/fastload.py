"""A fast-load copy of a large local snapshot, so a plan does not re-parse the same JSON every time.

Parsing a snapshot's JSON and sharing its values (`ValueSharer`) costs about 15 us a record: 0.9 s
for 60,000 records, paid by every plan and apply although the file rarely changes between them.
After such a read, the records are also written here with `marshal` (the standard library's format for
Python's own values). `marshal` keeps what the records share: an interned string is interned again,
and an object held twice is written once and read back as one object. Loading them back takes about a
quarter of the time, into the same memory.

The copy sits in the project's cache directory (`.ocigen/cache/state-<env>.fastload`, beside the
hash cache). It is used only when it was made from exactly the bytes of the current snapshot:
its header holds the snapshot's SHA-256, and each frame of records (`FRAME_RECORDS` at a time, so
neither reading nor writing holds all of them twice) its own SHA-256, checked before the frame
is loaded. It must also come from the same record layout and the same Python (`marshal`'s format
can change between versions). Anything else is a miss: the JSON is read as
before, and the copy is written again. The JSON snapshot stays the state; this file is derived from
it, like the hash cache. Deleting it is always safe. Every non-empty state gets one, however
small: a small one costs next to nothing, and every run then takes the same path.

Writing it is best-effort: a read-only directory or a full disk costs the next run the JSON parse,
nothing else. It is written whole to a temporary file and renamed, without fsync. After a power
loss it is either the old copy, the new one, or damaged; a damaged copy fails its own checksum.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import marshal
import os
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from ocigen_iac.state.model import STATE_FORMAT_VERSION, DepIds, ResourceState, State

FORMAT = 2  # bump when the payload's layout or the loaded records' representation changes
FRAME_RECORDS = 16_384
_MAGIC = b"ocigen-iac fastload\n"
_FIELDS = tuple(ResourceState.__dataclass_fields__)  # the order records are written in
_READ_CHUNK = 1 << 20
_FRAME_PREFIX = struct.Struct("<I32s")  # payload length, its SHA-256


def _header(snapshot_sha: bytes) -> bytes:
    """What a copy must match to be used: this layout, this Python, this snapshot."""
    layout = repr((FORMAT, STATE_FORMAT_VERSION, _FIELDS, sys.implementation.cache_tag, marshal.version))
    return _MAGIC + hashlib.sha256(layout.encode()).digest() + snapshot_sha


def snapshot_digest(fh: BinaryIO) -> bytes:
    """SHA-256 of an open file from where it is to its end, read in chunks (a large snapshot is
    not held in memory whole). The caller parses the same open file on a miss, so a snapshot
    replaced meanwhile cannot get a copy made from other bytes than the digest's."""
    sha = hashlib.sha256()
    while chunk := fh.read(_READ_CHUNK):
        sha.update(chunk)
    return sha.digest()


def read(path: Path, snapshot_sha: bytes) -> State | None:
    """The state the copy at `path` holds, if it was made from the snapshot with this digest."""
    header = _header(snapshot_sha)
    try:
        with path.open("rb") as fh:
            if fh.read(len(header)) != header:
                return None
            head = _frame(fh)
            if not isinstance(head, tuple) or len(head) != 2:
                return None
            state = State.from_dict(head[0])
            resources = state.resources
            for _ in range(head[1]):
                chunk = _frame(fh)
                if chunk is None:
                    return None
                addresses, records = chunk
                resources.update(zip(addresses, map(_record, records), strict=True))
            if fh.read(1):
                return None  # more than was written: not this copy
    except (OSError, ValueError, TypeError, KeyError, EOFError):
        return None  # not ours after all: the JSON is read instead
    return state


def load(path: Path, snapshot_sha: bytes, parse: Callable[[], State]) -> State:
    """The state of the snapshot with this digest: from its copy at `path`, else `parse()` it
    (reading the very bytes the digest was taken of) and write the copy for the next run."""
    state = read(path, snapshot_sha)
    if state is None:
        state = parse()
        write(path, snapshot_sha, state)
    return state


def _frame(fh: BinaryIO) -> Any:
    """One frame: its length, its SHA-256, its marshal bytes (checked before they are loaded)."""
    prefix = fh.read(_FRAME_PREFIX.size)
    if len(prefix) != _FRAME_PREFIX.size:
        return None
    length, digest = _FRAME_PREFIX.unpack(prefix)
    data = fh.read(length)
    if len(data) != length or hashlib.sha256(data).digest() != digest:
        return None
    return marshal.loads(data)


def _record(values: tuple[Any, ...]) -> ResourceState:
    rs = ResourceState(*values)
    if type(rs.dep_ids) is tuple:
        rs.dep_ids = DepIds(rs.dep_ids)
    return rs


def write(path: Path, snapshot_sha: bytes, state: State) -> None:
    """Best-effort: a copy that cannot be written only means the next run parses the JSON.
    Written a frame of `FRAME_RECORDS` records at a time, so neither side holds all of it twice.
    (`marshal` shares what repeats within a frame; interned strings are shared across frames too,
    being interned again on load, so the few small dicts of a frame are all that is repeated.)"""
    if not state.resources:  # an empty state parses at once; a copy of an older one is of no use
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        return
    items = iter(state.resources.items())
    frames = -(-len(state.resources) // FRAME_RECORDS)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write_all(fd, _header(snapshot_sha))
            head = dataclasses.replace(state, resources={}).to_dict()
            _write_frame(fd, (head, frames))
            for _ in range(frames):
                part = list(itertools.islice(items, FRAME_RECORDS))
                _write_frame(fd, ([a for a, _ in part], [tuple(_plain(getattr(rs, f)) for f in _FIELDS)
                                                         for _, rs in part]))
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except (OSError, ValueError):  # ValueError: a value marshal cannot write (no JSON type is one)
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _write_frame(fd: int, value: Any) -> None:
    data = marshal.dumps(value)
    _write_all(fd, _FRAME_PREFIX.pack(len(data), hashlib.sha256(data).digest()))
    _write_all(fd, data)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _plain(value: Any) -> Any:
    """DepIds is a tuple subclass; marshal writes exact built-in types only."""
    return tuple.__getitem__(value, slice(None)) if type(value) is DepIds else value
