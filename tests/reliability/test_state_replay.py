"""Journal replay is idempotent: a crash between writing the snapshot and clearing the journal
(the last two steps of every checkpoint) replays records the snapshot already contains."""

from __future__ import annotations

from pathlib import Path

from ocigen_iac.state.backend import LocalBackend
from ocigen_iac.state.model import ResourceState
from ocigen_iac.state.sync import SyncState


def test_replaying_a_replacement_journal_onto_a_snapshot_that_has_it_keeps_both_objects(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "state", "default")
    sync = SyncState(backend, "default")
    sync.open()
    sync.put("file.doc", ResourceState("file", "file-old"))
    sync.checkpoint()
    # a create-before-destroy replacement: old object deposed, new one at the address
    sync.depose("file.doc")
    sync.put("file.doc", ResourceState("file", "file-new"))
    sync.wait_durable()
    # crash inside checkpoint(): the snapshot is written, the journal is not cleared yet
    backend.write_snapshot(sync.state)
    sync.close()

    reopened = SyncState(LocalBackend(tmp_path / "state", "default"), "default")
    state = reopened.open()
    assert {a: r.id for a, r in state.resources.items()} == {"file.doc": "file-new"}
    assert [(d.address, d.resource.id) for d in state.deposed] == [("file.doc", "file-old")]  # once, not twice
    reopened.close()


def test_replaying_a_journal_onto_its_own_start_still_moves(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "state", "default")
    sync = SyncState(backend, "default")
    sync.open()
    sync.put("file.doc", ResourceState("file", "file-old"))
    sync.checkpoint()
    sync.depose("file.doc")
    sync.put("file.doc", ResourceState("file", "file-new"))
    sync.close()  # crash: only the journal has the replacement

    state = SyncState(LocalBackend(tmp_path / "state", "default"), "default").open()
    assert {a: r.id for a, r in state.resources.items()} == {"file.doc": "file-new"}
    assert [(d.address, d.resource.id) for d in state.deposed] == [("file.doc", "file-old")]
