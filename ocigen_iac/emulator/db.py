"""SQLite persistence primitives: one WAL-mode connection guarded by a lock, the schema, and the
keyset-pagination helper every list endpoint uses.

Ordering is by `created_at` (whole seconds, so objects created in one second tie) and then by
`seq` (insertion order, an INTEGER PRIMARY KEY). Ties are broken by insertion order in BOTH
directions: `order=asc` is (created_at asc, seq asc) and `order=desc` is (created_at desc, seq
asc), so desc is not the reverse of asc, as on servers that sort by created_at alone. Cursors
(`after`/`before`) are object ids resolved to their (created_at, seq) key; a page is at most two
indexed range scans on an index ending in (created_at, seq): the rest of the cursor's second, then
the seconds beyond it. Nothing is filtered in Python.

`vs_counts` holds per-store, per-status counts and bytes, maintained by triggers on vs_files, so
file_counts/usage_bytes are O(1) however many files a store has. It is rebuilt at startup.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS files(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, filename TEXT NOT NULL,
  purpose TEXT NOT NULL, bytes INTEGER NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER,
  processed_at REAL NOT NULL DEFAULT 0, project TEXT);
CREATE INDEX IF NOT EXISTS files_order ON files(created_at, seq);
CREATE INDEX IF NOT EXISTS files_purpose_order ON files(purpose, created_at, seq);
CREATE INDEX IF NOT EXISTS files_expiry ON files(expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS vector_stores(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, name TEXT, description TEXT,
  created_at INTEGER NOT NULL, last_active_at INTEGER, expires_after TEXT, expires_at INTEGER,
  metadata TEXT, expired INTEGER NOT NULL DEFAULT 0, ready_at REAL NOT NULL DEFAULT 0,
  server_metadata TEXT, server_keys_dropped INTEGER NOT NULL DEFAULT 0, project TEXT);
CREATE INDEX IF NOT EXISTS vs_order ON vector_stores(created_at, seq);

CREATE TABLE IF NOT EXISTS vs_files(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, vs_id TEXT NOT NULL, file_id TEXT NOT NULL,
  created_at INTEGER NOT NULL, status TEXT NOT NULL, usage_bytes INTEGER NOT NULL DEFAULT 0,
  last_error TEXT, chunking TEXT NOT NULL, attributes TEXT, ready_at REAL,
  fail_injected INTEGER NOT NULL DEFAULT 0, pending_error TEXT, lose_injected INTEGER NOT NULL DEFAULT 0,
  UNIQUE(vs_id, file_id));
CREATE INDEX IF NOT EXISTS vsf_order ON vs_files(vs_id, created_at, seq);
CREATE INDEX IF NOT EXISTS vsf_status_order ON vs_files(vs_id, status, created_at, seq);
CREATE TABLE IF NOT EXISTS vs_counts(
  vs_id TEXT NOT NULL, status TEXT NOT NULL, n INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(vs_id, status));
CREATE TRIGGER IF NOT EXISTS vsf_count_ins AFTER INSERT ON vs_files BEGIN
  INSERT INTO vs_counts(vs_id, status, n, bytes) VALUES (NEW.vs_id, NEW.status, 1, NEW.usage_bytes)
  ON CONFLICT(vs_id, status) DO UPDATE SET n = n + 1, bytes = bytes + excluded.bytes;
END;
CREATE TRIGGER IF NOT EXISTS vsf_count_del AFTER DELETE ON vs_files BEGIN
  UPDATE vs_counts SET n = n - 1, bytes = bytes - OLD.usage_bytes WHERE vs_id = OLD.vs_id AND status = OLD.status;
END;
CREATE TRIGGER IF NOT EXISTS vsf_count_upd AFTER UPDATE OF status, usage_bytes, vs_id ON vs_files BEGIN
  UPDATE vs_counts SET n = n - 1, bytes = bytes - OLD.usage_bytes WHERE vs_id = OLD.vs_id AND status = OLD.status;
  INSERT INTO vs_counts(vs_id, status, n, bytes) VALUES (NEW.vs_id, NEW.status, 1, NEW.usage_bytes)
  ON CONFLICT(vs_id, status) DO UPDATE SET n = n + 1, bytes = bytes + excluded.bytes;
END;
CREATE INDEX IF NOT EXISTS vsf_file ON vs_files(file_id);
CREATE INDEX IF NOT EXISTS vsf_pending ON vs_files(ready_at) WHERE status = 'in_progress';

CREATE TABLE IF NOT EXISTS batches(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, vs_id TEXT NOT NULL,
  created_at INTEGER NOT NULL, cancelled INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS batch_files(
  batch_id TEXT NOT NULL, vs_id TEXT NOT NULL, file_id TEXT NOT NULL, lost INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(batch_id, file_id));
CREATE INDEX IF NOT EXISTS batch_files_file ON batch_files(vs_id, file_id);

CREATE TABLE IF NOT EXISTS chunks(
  id INTEGER PRIMARY KEY AUTOINCREMENT, vs_id TEXT NOT NULL, file_id TEXT NOT NULL, idx INTEGER NOT NULL,
  text TEXT NOT NULL, ntokens INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_file ON chunks(vs_id, file_id);
CREATE TABLE IF NOT EXISTS postings(
  vs_id TEXT NOT NULL, term TEXT NOT NULL, chunk_id INTEGER NOT NULL, tf INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS postings_term ON postings(vs_id, term);
CREATE INDEX IF NOT EXISTS postings_chunk ON postings(chunk_id);

CREATE TABLE IF NOT EXISTS containers(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, name TEXT NOT NULL,
  created_at INTEGER NOT NULL, last_active_at INTEGER NOT NULL, expires_minutes INTEGER NOT NULL,
  memory_limit TEXT NOT NULL, expired INTEGER NOT NULL DEFAULT 0, project TEXT);
CREATE INDEX IF NOT EXISTS containers_order ON containers(created_at, seq);
CREATE INDEX IF NOT EXISTS containers_name_order ON containers(name, created_at, seq);
CREATE TABLE IF NOT EXISTS container_files(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, container_id TEXT NOT NULL,
  filename TEXT NOT NULL, path TEXT NOT NULL, bytes INTEGER NOT NULL, created_at INTEGER NOT NULL,
  source TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS cfiles_order ON container_files(container_id, created_at, seq);

CREATE TABLE IF NOT EXISTS os_buckets(
  ns TEXT NOT NULL, name TEXT NOT NULL, compartment_id TEXT, created_at TEXT NOT NULL, etag TEXT NOT NULL,
  PRIMARY KEY(ns, name));
CREATE TABLE IF NOT EXISTS os_objects(
  ns TEXT NOT NULL, bucket TEXT NOT NULL, name TEXT NOT NULL, etag TEXT NOT NULL, size INTEGER NOT NULL,
  md5 TEXT NOT NULL, content_type TEXT, modified_at TEXT NOT NULL, blob TEXT NOT NULL,
  PRIMARY KEY(ns, bucket, name));
"""

# Columns added after the first release: a database written by an older emulator gets them (with
# their defaults) at open, and loses the seq-only indexes the (created_at, seq) ones replaced.
MIGRATIONS = {
    "files": {"processed_at": "REAL NOT NULL DEFAULT 0", "project": "TEXT"},
    "vector_stores": {
        "ready_at": "REAL NOT NULL DEFAULT 0",
        "server_metadata": "TEXT",
        "server_keys_dropped": "INTEGER NOT NULL DEFAULT 0",
        "project": "TEXT",
    },
    "containers": {"project": "TEXT"},
    "vs_files": {"pending_error": "TEXT", "lose_injected": "INTEGER NOT NULL DEFAULT 0"},
    "batch_files": {"lost": "INTEGER NOT NULL DEFAULT 0"},
}
OLD_INDEXES = ("files_purpose_seq", "vsf_seq", "vsf_status_seq", "containers_name_seq", "cfiles_seq")


class Database:
    """A single sqlite3 connection shared by the event loop and the ingest worker, guarded by an RLock.
    Every statement runs under the lock; `tx()` wraps several in one IMMEDIATE transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self._depth = 0
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=OFF")
        self.conn.execute("PRAGMA cache_size=-65536")
        self._migrate()
        self.conn.executescript(SCHEMA)
        with self.tx() as c:
            c.execute("DELETE FROM vs_counts")
            c.execute(
                "INSERT INTO vs_counts(vs_id, status, n, bytes) SELECT vs_id, status, COUNT(*), SUM(usage_bytes)"
                " FROM vs_files GROUP BY vs_id, status"
            )

    def _migrate(self) -> None:
        for table, cols in MIGRATIONS.items():
            have = {r["name"] for r in self.conn.execute(f"PRAGMA table_info({table})")}
            if not have:  # a new database: SCHEMA creates the table whole
                continue
            for col, decl in cols.items():
                if col not in have:
                    self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {col} {decl}")
        for name in OLD_INDEXES:
            self.conn.execute(f"DROP INDEX IF EXISTS {name}")

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
            finally:
                self._depth = 0

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self.lock:
            return self.conn.execute(sql, params).fetchone()

    def run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self.lock:
            return self.conn.execute(sql, params)

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    def page(
        self,
        *,
        table: str,
        where: str,
        params: Sequence[Any],
        key_where: str,
        order: str,
        limit: int,
        after: str | None,
        before: str | None,
        key_params: Sequence[Any] = (),
        cols: str = "*",
        prefix: str = "",
    ) -> tuple[list[sqlite3.Row], bool]:
        """Keyset pagination in list order (see the module docstring).

        `key_where` locates the cursor row by id (e.g. "id = ?"); the cursor id is appended to
        `key_params`. Returns (rows in list order, has_more in the direction of travel).
        Raises LookupError(param) when a cursor id is unknown.
        """
        p = prefix
        desc = order == "desc"
        cond = [where] if where else []
        args: list[Any] = list(params)

        def key(name: str, cursor: str) -> tuple[int, int]:
            row = self.one(f"SELECT {p}created_at AS ca, {p}seq AS seq FROM {table} WHERE {key_where}",
                           [*key_params, cursor])
            if row is None:
                raise LookupError(name)
            return row["ca"], row["seq"]

        start = key("after", after) if after is not None else None
        stop = key("before", before) if before is not None else None
        if stop is not None and start is None:  # walk back from `before`, nearest first, then flip
            rows = self._walk(table, cols, p, cond, args, desc=desc, forward=False, start=stop, n=limit + 1)
            has_more = len(rows) > limit
            rows = rows[:limit]
            rows.reverse()
            return rows, has_more
        if stop is not None:  # both cursors: only rows that come before `before` in list order
            cond.append(f"({p}created_at {'>' if desc else '<'} ? OR ({p}created_at = ? AND {p}seq < ?))")
            args += [stop[0], stop[0], stop[1]]
        rows = self._walk(table, cols, p, cond, args, desc=desc, forward=True, start=start, n=limit + 1)
        return rows[:limit], len(rows) > limit

    def _walk(
        self,
        table: str,
        cols: str,
        p: str,
        cond: list[str],
        args: list[Any],
        *,
        desc: bool,
        forward: bool,
        start: tuple[int, int] | None,
        n: int,
    ) -> list[sqlite3.Row]:
        """Up to n rows strictly beyond `start` (or from the first) in the direction of travel.
        Forward in list order: created_at asc|desc, then seq asc. Backward: the exact reverse."""
        newer_first = desc == forward  # created_at descending in the direction of travel
        ca_dir = "DESC" if newer_first else "ASC"
        seq_dir = "ASC" if forward else "DESC"

        def query(extra: list[str], extra_args: list[Any], limit: int) -> list[sqlite3.Row]:
            parts = cond + extra
            sql = (
                f"SELECT {cols} FROM {table} {'WHERE ' + ' AND '.join(parts) if parts else ''} "
                f"ORDER BY {p}created_at {ca_dir}, {p}seq {seq_dir} LIMIT ?"
            )
            return self.all(sql, [*args, *extra_args, limit])

        if start is None:
            return query([], [], n)
        ca, seq = start
        rows = query([f"{p}created_at = ?", f"{p}seq {'>' if forward else '<'} ?"], [ca, seq], n)
        if len(rows) < n:
            rows += query([f"{p}created_at {'<' if newer_first else '>'} ?"], [ca], n - len(rows))
        return rows
