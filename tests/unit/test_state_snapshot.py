"""Reading large snapshots in chunks (state/snapshot.py) gives exactly what a whole-file read gives."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from ocigen_iac.errors import StateError
from ocigen_iac.state import LocalBackend, ResourceState
from ocigen_iac.state import snapshot as streaming
from ocigen_iac.state.model import Deposed, Intent, State, ValueSharer


def _state(records: int) -> State:
    state = State(env="dev", serial=7)
    for i in range(records):
        state.resources[f'file.docs["d{i}.md"]'] = ResourceState(
            "file", f"file-{i}", attrs={"filename": f"d{i}.md", "nested": {"a": [1, {"b": "}\n"}]}, "é": "ü"},
            live={"bytes": i}, created_at=1.5 + i)
        state.resources[f'vector_store.kb.files[file.docs["d{i}.md"]]'] = ResourceState(
            "vector_store_file", f"file-{i}", attrs={"attributes": {}, "file": f'file.docs["d{i}.md"]'},
            parent_id="vs_1", dep_ids={"vector_store.kb": "vs_1"}, status="completed")
    state.deposed.append(Deposed("file.old", ResourceState("file", "file-old")))
    state.intents["file.new"] = Intent("file.new", "file", {"attrs": {"filename": "new.md"}}, started_at=3.0)
    state.released["file-gone"] = "file.gone"
    return state


@pytest.mark.parametrize("chunk", [1 << 20, 4096, 700])
def test_a_snapshot_read_in_chunks_equals_the_state_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            chunk: int) -> None:
    monkeypatch.setattr(streaming, "CHUNK", chunk)
    backend = LocalBackend(tmp_path, "dev")
    written = _state(300)
    backend.write_snapshot(written)
    assert streaming.read_streaming(backend.snapshot_path) is not None  # the chunked path was taken
    read = backend.read_snapshot()
    assert read is not None
    assert read.to_dict() == written.to_dict()
    whole = State.from_dict(orjson.loads(backend.snapshot_path.read_bytes()))
    assert list(read.resources) == list(whole.resources)  # the file's order kept too


def test_a_snapshot_in_another_layout_is_still_read(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path, "dev")
    written = _state(5)
    backend.snapshot_path.write_text(json.dumps(written.to_dict()))  # one line, as an editor might save it
    assert streaming.read_streaming(backend.snapshot_path) is None
    read = backend.read_snapshot()
    assert read is not None and read.to_dict() == written.to_dict()


def test_a_format_1_snapshot_is_still_migrated(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path, "dev")
    data = {"format_version": 1, "lineage": "l", "serial": 1, "env": "dev",
            "resources": {"file.a": {"kind": "file", "id": "file-1", "deps": []},
                          "file.a#deposed-file-0": {"kind": "file", "id": "file-0"}}}
    backend.snapshot_path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
    read = backend.read_snapshot()
    assert read is not None
    assert set(read.resources) == {"file.a"} and [d.resource.id for d in read.deposed] == ["file-0"]


def test_a_truncated_snapshot_is_reported_not_half_read(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path, "dev")
    backend.write_snapshot(_state(50))
    text = backend.snapshot_path.read_bytes()
    backend.snapshot_path.write_bytes(text[: len(text) // 2])
    with pytest.raises(StateError, match="unreadable"):
        backend.read_snapshot()


def test_records_share_small_values_but_never_mix_values_that_only_compare_equal() -> None:
    share = ValueSharer()
    records = [share.record(orjson.loads(orjson.dumps(r))) for r in (
        {"kind": "k", "id": "x", "live": {"attributes": {}}, "attrs": {"n": 1, "m": {}}},
        {"kind": "k", "id": "x", "live": {"attributes": {}}, "attrs": {"n": True, "m": {"v": 1.0}}},
        {"kind": "k", "id": "y", "live": {"attributes": {"v": 1}}, "attrs": {"n": 1, "m": {"v": True}}},
    )]
    a, b, c = records
    assert a["live"] is b["live"] and a["id"] is b["id"]  # held once
    assert c["live"] == {"attributes": {"v": 1}} and c["live"] is not a["live"]
    assert type(b["attrs"]["n"]) is bool and type(c["attrs"]["m"]["v"]) is bool
    assert type(b["attrs"]["m"]["v"]) is float and b["attrs"]["m"] is not c["attrs"]["m"]


def test_a_loaded_records_dependency_ids_read_like_the_dict_that_was_saved() -> None:
    saved = {"vector_store.kb": "vs_1", 'file.docs["a.md"]': "file-1"}
    rs = ResourceState.loaded({"kind": "vector_store_file", "id": "file-1", "dep_ids": dict(saved)}, ValueSharer())
    deps = rs.dep_ids
    assert deps == saved and saved == deps and deps != {"vector_store.kb": "vs_1"}
    assert dict(deps) == {**deps} == saved and list(deps) == list(saved) and list(deps.items()) == list(saved.items())
    assert deps["vector_store.kb"] == "vs_1" and deps.get('file.docs["a.md"]') == "file-1" and deps.get("x") is None
    assert "vector_store.kb" in deps and "vs_1" not in deps and len(deps) == 2
    with pytest.raises(KeyError):
        deps["file.other"]
    assert rs.to_dict()["dep_ids"] == saved and type(rs.to_dict()["dep_ids"]) is dict
    assert rs == ResourceState("vector_store_file", "file-1", dep_ids=saved)
    assert repr(deps) == repr(saved)
