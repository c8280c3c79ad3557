"""Content hashes of local files, cached by (path, size, mtime_ns, inode).

A plan over an unchanged tree reads no file content: the cache answers from `stat` alone.
`bytes_read` counts what was actually read (benchmarks assert it is 0 on a second plan).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ocigen_iac.state.files import atomic_write

CHUNK = 1 << 20


def sha256_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb", buffering=0) as fh:
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        while n := fh.readinto(buf):
            digest.update(view[:n])
            size += n
    return digest.hexdigest(), size


class HashCache:
    def __init__(self, cache_file: Path | None) -> None:
        self.cache_file = cache_file
        self._entries: dict[str, list] = {}
        self._lock = threading.Lock()
        self._dirty = False
        self.bytes_read = 0
        self.files_hashed = 0
        if cache_file is not None and cache_file.exists():
            try:
                data = json.loads(cache_file.read_text())
                if isinstance(data, dict):
                    self._entries = data
            except (OSError, ValueError):
                self._entries = {}

    def digest(self, path: Path) -> tuple[str, int]:
        """(sha256 hex, size) of `path`, from the cache when its stat key is unchanged."""
        st = os.stat(path)
        key = str(path)
        stamp = [st.st_size, st.st_mtime_ns, st.st_ino]
        cached = self._entries.get(key)
        if cached is not None and cached[:3] == stamp:
            return cached[3], st.st_size
        hexdigest, size = sha256_file(path)
        with self._lock:
            self.bytes_read += size
            self.files_hashed += 1
            self._entries[key] = [*stamp, hexdigest]
            self._dirty = True
        return hexdigest, size

    def cached(self, path: Path) -> tuple[str, int] | None:
        """(sha256 hex, size) from the cache when `path`'s stat key is unchanged, else None."""
        cached = self._entries.get(str(path))
        if cached is None:
            return None
        st = os.stat(path)
        if cached[:3] == [st.st_size, st.st_mtime_ns, st.st_ino]:
            return cached[3], st.st_size
        return None

    def digest_many(self, paths: list[Path], workers: int = 4) -> dict[Path, tuple[str, int]]:
        """Digests of many files: cache hits answered from `stat` here, misses hashed on threads
        (hashlib releases the GIL on large buffers, so big files hash in parallel)."""
        out: dict[Path, tuple[str, int]] = {}
        misses: list[Path] = []
        for p in paths:
            hit = self.cached(p)
            if hit is None:
                misses.append(p)
            else:
                out[p] = hit
        if len(misses) < 8:
            out.update((p, self.digest(p)) for p in misses)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                out.update(zip(misses, pool.map(self.digest, misses), strict=True))
        return {p: out[p] for p in paths}

    def save(self) -> None:
        if self.cache_file is None or not self._dirty:
            return
        atomic_write(self.cache_file, json.dumps(self._entries, separators=(",", ":")).encode())
        self._dirty = False
