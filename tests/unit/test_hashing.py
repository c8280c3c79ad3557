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


def test_a_released_cache_keeps_what_it_hashed_and_answers_from_its_file_again(tmp_path: Path) -> None:
    files = []
    for i in range(20):
        p = tmp_path / f"f{i}.txt"
        p.write_bytes(os.urandom(512))
        files.append(p)
    cache_file = tmp_path / "cache.json"
    cache = HashCache(cache_file)
    digests = cache.digest_many(files)
    cache.release()  # saves the new entries, then holds none
    assert cache_file.exists()
    read_before = cache.bytes_read
    assert cache.digest_many(files) == digests and cache.digest(files[0]) == digests[files[0]]
    assert cache.bytes_read == read_before  # answered from the file: nothing read again
    files[1].write_bytes(b"changed")
    cache.release()
    assert cache.digest(files[1])[0] == hashlib.sha256(b"changed").hexdigest()
    cache.save()
    assert HashCache(cache_file).digest_many(files)[files[1]][0] == hashlib.sha256(b"changed").hexdigest()
    again = HashCache(cache_file)
    again.digest_many(files)
    assert again.bytes_read == 0  # every entry survived the releases
