"""Asynchronous ingestion (a background worker thread) and chunking.

An attachment is born `in_progress` with a `ready_at` time (now + ingest delay). The worker picks up
due attachments in batches, extracts text, chunks it, indexes the chunks for search and marks the
attachment `completed` or `failed` (last_error `unsupported_file`, `invalid_file` -- also when the
File was still `uploaded` at attach time -- or `server_error` when a fault was injected). An
attachment drawn for the `rate_attach_lost` fault vanishes from its store at the moment it completes
(its batches keep counting it as completed). Pending work lives in SQLite, so a restart resumes it.

Chunking: "tokens" are whitespace-separated words (an approximation of model tokens). A chunk holds
at most `max_chunk_size_tokens` words and consecutive chunks overlap by `chunk_overlap_tokens`
words; `auto` means 800/400. Chunk text is the words joined by single spaces.

The same thread runs the expiry sweeper every `sweep_interval_s`.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from . import model
from .background import BackgroundThread
from .search import index_terms

if TYPE_CHECKING:
    from .core import Emulator


TEXT_EXTENSIONS = frozenset(
    [
        ".txt",
        ".md",
        ".markdown",
        ".json",
        ".jsonl",
        ".csv",
        ".tsv",
        ".html",
        ".htm",
        ".xml",
        ".yaml",
        ".yml",
        ".py",
        ".js",
        ".ts",
        ".java",
        ".c",
        ".cc",
        ".cpp",
        ".h",
        ".hpp",
        ".cs",
        ".go",
        ".rb",
        ".php",
        ".sh",
        ".css",
        ".tex",
        ".rst",
        ".log",
        ".sql",
        ".ini",
        ".toml",
        ".rs",
        ".kt",
        ".swift",
    ]
)
BATCH = 64


class IngestError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def chunk_words(text: str, max_tokens: int, overlap: int) -> list[str]:
    words = text.split()
    if not words:
        return []
    step = max(1, max_tokens - overlap)
    out = []
    for start in range(0, len(words), step):
        out.append(" ".join(words[start : start + max_tokens]))
        if start + max_tokens >= len(words):
            break
    return out


def _pdf_text(data: bytes) -> str:
    parts = re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*T[jJ]", data)
    parts += [
        s
        for arr in re.findall(rb"\[(.*?)\]\s*TJ", data, flags=re.S)
        for s in re.findall(rb"\(((?:\\.|[^\\)])*)\)", arr)
    ]
    return " ".join(p.decode("latin-1") for p in parts)


def extract_text(filename: str, data: bytes) -> str:
    ext = PurePosixPath(filename).suffix.lower()
    if ext == ".pdf":
        if not data.startswith(b"%PDF"):
            raise IngestError("invalid_file", f"File '{filename}' is not a valid PDF.")
        text = _pdf_text(data)
        if not text.strip():
            raise IngestError("invalid_file", f"No extractable text in '{filename}'.")
        return text
    if ext and ext not in TEXT_EXTENSIONS:
        raise IngestError("unsupported_file", f"Unsupported file type '{ext.lstrip('.')}'.")
    try:
        codec = "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise IngestError("invalid_file", f"File '{filename}' could not be decoded as text: {exc.reason}.") from exc
    if "\x00" in text:
        raise IngestError("invalid_file", f"File '{filename}' contains binary data.")
    return text


class Worker(BackgroundThread):
    label = "ingest"
    error_wait_s = 0.1

    def __init__(self, emu: Emulator) -> None:
        super().__init__()
        self.emu = emu
        self._last_sweep = 0.0

    def tick(self) -> float | None:
        did = self.step()
        now = time.time()
        if now - self._last_sweep >= self.emu.config.sweep_interval_s:
            self._last_sweep = now
            model.sweep(self.emu)
        if did:
            return None
        nxt = self.emu.db.one("SELECT MIN(ready_at) m FROM vs_files WHERE status = 'in_progress'")
        if nxt is not None and nxt["m"] is not None:
            return min(max(nxt["m"] - time.time(), 0.002), 0.25)
        return 0.25

    def step(self) -> bool:
        """Process up to BATCH due attachments. Returns True when any were processed."""
        db = self.emu.db
        rows = db.all(
            "SELECT v.seq, v.vs_id, v.file_id, v.chunking, v.fail_injected, v.pending_error, v.lose_injected,"
            " f.filename, f.bytes"
            " FROM vs_files v LEFT JOIN files f ON f.id = v.file_id"
            " WHERE v.status = 'in_progress' AND v.ready_at <= ? ORDER BY v.ready_at LIMIT ?",
            [time.time(), BATCH],
        )
        if not rows:
            return False
        results = [(r["lose_injected"], *self._process(r)) for r in rows]
        lost = 0
        with db.tx() as c:
            for lose, seq, vs_id, file_id, status, error, usage, chunks in results:
                if lose and status == "completed":
                    cur = c.execute("DELETE FROM vs_files WHERE seq = ? AND status = 'in_progress'", [seq])
                    if cur.rowcount == 1:
                        c.execute("UPDATE batch_files SET lost = 1 WHERE vs_id = ? AND file_id = ?", [vs_id, file_id])
                        lost += 1
                    continue
                cur = c.execute(
                    "UPDATE vs_files SET status = ?, last_error = ?, usage_bytes = ?"
                    " WHERE seq = ? AND status = 'in_progress'",
                    [status, None if error is None else json.dumps(error), usage, seq],
                )
                if cur.rowcount != 1 or not chunks:
                    continue
                for idx, (text, terms) in enumerate(chunks):
                    cid = c.execute(
                        "INSERT INTO chunks(vs_id, file_id, idx, text, ntokens) VALUES (?, ?, ?, ?, ?)",
                        [vs_id, file_id, idx, text, sum(terms.values())],
                    ).lastrowid
                    c.executemany(
                        "INSERT INTO postings(vs_id, term, chunk_id, tf) VALUES (?, ?, ?, ?)",
                        [(vs_id, t, cid, n) for t, n in terms.items()],
                    )
        for _ in range(lost):
            self.emu.counters.inject("attach_lost")
        return True

    def _process(self, r: Any) -> tuple[Any, ...]:
        seq, vs_id, file_id = r["seq"], r["vs_id"], r["file_id"]
        if r["pending_error"]:
            return seq, vs_id, file_id, "failed", json.loads(r["pending_error"]), 0, None
        if r["fail_injected"]:
            err = {"code": "server_error", "message": "Injected ingestion failure (emulator fault)."}
            return seq, vs_id, file_id, "failed", err, 0, None
        if r["filename"] is None:
            err = {"code": "invalid_file", "message": f"File '{file_id}' no longer exists."}
            return seq, vs_id, file_id, "failed", err, 0, None
        try:
            data = self.emu.blob("files", file_id).read_bytes()
            text = extract_text(r["filename"], data)
        except IngestError as exc:
            return seq, vs_id, file_id, "failed", {"code": exc.code, "message": exc.message}, 0, None
        except OSError as exc:
            return seq, vs_id, file_id, "failed", {"code": "server_error", "message": str(exc)}, 0, None
        strategy = json.loads(r["chunking"])["static"]
        chunks = [
            (t, Counter(index_terms(t)))
            for t in chunk_words(text, strategy["max_chunk_size_tokens"], strategy["chunk_overlap_tokens"])
        ]
        return seq, vs_id, file_id, "completed", None, r["bytes"], chunks


__all__ = ["Worker", "chunk_words", "extract_text"]
