"""The fast-load copy of a large snapshot (state/fastload.py): read back, it is the state the JSON
gives, values shared alike; a copy of any other snapshot, or a damaged one, is never used."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ocigen_iac.state import LocalBackend, fastload
from ocigen_iac.state.model import DepIds, ResourceState
from tests.unit.test_state_snapshot import _state

RECORDS = 600  # x2 records


def _backend(tmp_path: Path) -> LocalBackend:
    return LocalBackend(tmp_path / "state", "dev", cache_dir=tmp_path / "cache")


def _no_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, reading the snapshot's JSON fails the test."""
    def refuse(self: LocalBackend, *args: object) -> None:
        raise AssertionError("the snapshot's JSON was parsed")
    monkeypatch.setattr(LocalBackend, "_parse_snapshot", refuse)


@pytest.mark.parametrize("frame", [fastload.FRAME_RECORDS, 100, 7])
def test_a_second_read_of_an_unchanged_snapshot_loads_the_copy_and_equals_the_json(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, frame: int) -> None:
    monkeypatch.setattr(fastload, "FRAME_RECORDS", frame)
    backend = _backend(tmp_path)
    written = _state(RECORDS)
    backend.write_snapshot(written)
    from_json = backend.read_snapshot()  # parses the JSON, writes the copy
    assert from_json is not None and backend.fastload_path is not None and backend.fastload_path.exists()
    _no_json(monkeypatch)
    fast = backend.read_snapshot()
    assert fast is not None
    assert fast.to_dict() == from_json.to_dict() == written.to_dict()
    assert list(fast.resources) == list(from_json.resources)
    attachment = fast.resources['vector_store.kb.files[file.docs["d10.md"]]']
    assert type(attachment.dep_ids) is DepIds and attachment.dep_ids["vector_store.kb"] == "vs_1"
    other = fast.resources['vector_store.kb.files[file.docs["d100.md"]]']  # the next record: the same frame
    # what the JSON path shares stays shared: interned ids and addresses, small dicts held once a frame
    assert sys.intern(attachment.parent_id or "") is attachment.parent_id
    assert attachment.attrs["attributes"] is other.attrs["attributes"]
    assert all(sys.intern(a) is a for a in list(fast.resources)[:10])
    assert [d.key for d in fast.deposed] == [d.key for d in from_json.deposed]
    assert fast.intents.keys() == from_json.intents.keys() and fast.released == from_json.released


def test_a_copy_of_an_older_snapshot_is_never_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = _backend(tmp_path)
    backend.write_snapshot(_state(RECORDS))
    assert backend.read_snapshot() is not None  # the copy of this snapshot
    changed = _state(RECORDS)
    del changed.resources['file.docs["d7.md"]']
    changed.resources['file.docs["d8.md"]'] = ResourceState("file", "file-replaced")
    changed.serial += 1
    backend.write_snapshot(changed)
    read = backend.read_snapshot()
    assert read is not None and read.to_dict() == changed.to_dict()
    _no_json(monkeypatch)  # and the copy now made is of the new snapshot
    again = backend.read_snapshot()
    assert again is not None and again.to_dict() == changed.to_dict()


@pytest.mark.parametrize("damage", ["flip a byte in the last frame", "flip a byte in a middle frame", "truncate",
                                    "garbage", "another layout or python", "empty", "a frame too many"])
def test_a_damaged_or_foreign_copy_is_ignored_and_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           damage: str) -> None:
    monkeypatch.setattr(fastload, "FRAME_RECORDS", 100)  # 12 frames
    backend = _backend(tmp_path)
    written = _state(RECORDS)
    backend.write_snapshot(written)
    backend.read_snapshot()
    path = backend.fastload_path
    assert path is not None
    data = bytearray(path.read_bytes())
    if damage == "flip a byte in the last frame":
        data[-100] ^= 0x01
    elif damage == "flip a byte in a middle frame":
        data[len(data) // 2] ^= 0x01
    elif damage == "a frame too many":
        data += data[-500:]
    elif damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "garbage":
        data = bytearray(b"\x00\xff" * 1000)
    elif damage == "another layout or python":
        data[len(b"ocigen-iac fastload\n")] ^= 0x01  # the header's hash of record layout, Python and marshal
    else:
        data = bytearray()
    path.write_bytes(bytes(data))
    read = backend.read_snapshot()
    assert read is not None and read.to_dict() == written.to_dict()
    assert path.read_bytes() != bytes(data)  # written again, from the JSON


def test_an_emptied_state_gets_no_copy_and_loses_the_old_one(tmp_path: Path) -> None:
    backend = _backend(tmp_path)
    backend.write_snapshot(_state(RECORDS))
    backend.read_snapshot()
    assert backend.fastload_path is not None and backend.fastload_path.exists()
    backend.write_snapshot(_state(0))
    read = backend.read_snapshot()
    assert read is not None and not read.resources
    assert not backend.fastload_path.exists()


def test_a_cache_that_cannot_be_written_costs_only_the_copy(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("a file where the cache directory would be")
    backend = _backend(tmp_path)
    written = _state(RECORDS)
    backend.write_snapshot(written)
    for _ in range(2):
        read = backend.read_snapshot()
        assert read is not None and read.to_dict() == written.to_dict()


def test_a_backend_without_a_cache_directory_writes_no_copy(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "state", "dev")
    backend.write_snapshot(_state(RECORDS))
    assert backend.read_snapshot() is not None
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["dev.json"]


def test_the_copy_is_private_to_its_owner(tmp_path: Path) -> None:
    backend = _backend(tmp_path)
    backend.write_snapshot(_state(RECORDS))
    backend.read_snapshot()
    assert backend.fastload_path is not None
    assert backend.fastload_path.stat().st_mode & 0o077 == 0


def test_a_copy_describes_the_bytes_it_was_parsed_from_even_if_the_file_is_replaced_meanwhile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A snapshot replaced between the digest and the parse must not get a copy under the old digest
    (a later restore of those old bytes, e.g. from the .backup, would load the wrong records)."""
    backend = _backend(tmp_path)
    old = _state(RECORDS)
    backend.write_snapshot(old)
    old_bytes = backend.snapshot_path.read_bytes()
    new = _state(RECORDS)
    new.resources.pop('file.docs["d3.md"]')
    new.serial += 1
    real_digest = fastload.snapshot_digest

    def digest_then_replace(fh: object) -> bytes:
        digest = real_digest(fh)  # type: ignore[arg-type]
        backend.write_snapshot(new)  # another run replaces the file right after the digest
        return digest
    monkeypatch.setattr(fastload, "snapshot_digest", digest_then_replace)
    read = backend.read_snapshot()
    assert read is not None and read.to_dict() == old.to_dict()  # the bytes the digest was taken of
    monkeypatch.undo()
    backend.snapshot_path.write_bytes(old_bytes)  # those bytes come back (a restore)
    restored = backend.read_snapshot()
    assert restored is not None and restored.to_dict() == old.to_dict()
