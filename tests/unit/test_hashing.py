"""The content-hash cache: an unchanged tree is not read again."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ocigen_iac.engine.hashing import HashCache


def test_second_pass_reads_no_bytes_and_a_change_is_noticed(tmp_path: Path) -> None:
    files = []
    for i in range(100):
        p = tmp_path / f"f{i}.txt"
        p.write_bytes(os.urandom(2048))
        files.append(p)
    cache_file = tmp_path / "cache.json"
    first = HashCache(cache_file)
    digests = first.digest_many(files)
    assert first.bytes_read == 100 * 2048
    assert digests[files[0]][0] == hashlib.sha256(files[0].read_bytes()).hexdigest()
    first.save()

    second = HashCache(cache_file)
    assert second.digest_many(files) == digests
    assert second.bytes_read == 0

    files[3].write_bytes(b"changed")
    third = HashCache(cache_file)
    assert third.digest(files[3]) == (hashlib.sha256(b"changed").hexdigest(), 7)
    assert third.bytes_read == 7
