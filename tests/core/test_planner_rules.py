"""The planner's rules as tables: instances + state + live -> changes (no server, no I/O).

`make_plan` is pure, so each rule is one small case built from plain data with the real kinds.
"""

from __future__ import annotations

from typing import Any

import pytest

from ocigen_iac.addresses import Address
from ocigen_iac.engine.live import LiveView
from ocigen_iac.engine.plan import Plan, ReasonCode
from ocigen_iac.engine.planner import PlanRequest, make_plan
from ocigen_iac.engine.refresh import Adoption
from ocigen_iac.errors import PlanError
from ocigen_iac.manifest.desired import Lifecycle, Location
from ocigen_iac.resources import Instance
from ocigen_iac.state.model import Deposed, ResourceState, State

A = Address.parse
FILE, STORE = A("file.a"), A("vector_store.kb")
ATT = STORE.child("files", FILE)
SHA1, SHA2 = "1" * 64, "2" * 64
OWN = {"key": "ocigen-iac-owner", "value": "team:dev:vector_store.kb"}


def file_inst(sha: str = SHA1, address: Address = FILE) -> Instance:
    return Instance(address, "file", {"filename": "a.md", "purpose": "assistants", "sha256": sha, "bytes": 10,
                                      "expires_after": None, "source": "docs/a.md"})


def store_inst(metadata: dict[str, str] | None = None, lifecycle: Lifecycle | None = None) -> Instance:
    return Instance(STORE, "vector_store", {"name": "kb", "description": None, "metadata": metadata or {},
                                            "expires_after": None, "ownership": OWN, "chunking_strategy": None},
                    lifecycle=lifecycle or Lifecycle(), location=Location("manifests/kb.yaml", 7, 1))


def att_inst(file: Address = FILE, attributes: dict[str, Any] | None = None) -> Instance:
    return Instance(STORE.child("files", file), "vector_store_file",
                    {"vector_store": str(STORE), "file": str(file), "attributes": attributes or {},
                     "chunking_strategy": None}, deps=(STORE, file), parent=STORE)


def declared(*instances: Instance) -> dict[Address, Instance]:
    return {i.address: i for i in instances}


def rs_file(fid: str, sha: str = SHA1) -> ResourceState:
    return ResourceState("file", fid, attrs=dict(file_inst(sha).attrs))


def rs_store(vid: str = "vs_1") -> ResourceState:
    return ResourceState("vector_store", vid, attrs=dict(store_inst().attrs), live={"owner_key": OWN["key"]})


def rs_att(fid: str, vid: str = "vs_1", file: Address = FILE) -> ResourceState:
    return ResourceState("vector_store_file", fid, attrs=dict(att_inst(file).attrs), parent_id=vid,
                         dep_ids={str(STORE): vid, str(file): fid}, status="completed")


def live_view(files: dict[str, dict[str, Any]] | None = None, stores: dict[str, dict[str, Any]] | None = None,
              attached: dict[str, dict[str, dict[str, Any]]] | None = None) -> LiveView:
    live = LiveView()
    live.put_all("file", None, files or {})
    live.put_all("vector_store", None, stores or {})
    for vid, objs in (attached or {}).items():
        live.put_all("vector_store_file", vid, objs)
    return live


def live_file(fid: str) -> dict[str, Any]:
    return {"id": fid, "filename": "a.md", "purpose": "assistants", "bytes": 10, "status": "processed"}


def live_store(vid: str = "vs_1", **metadata: str) -> dict[str, Any]:
    return {"id": vid, "name": "kb", "status": "completed", "metadata": {OWN["key"]: OWN["value"], **metadata}}


def live_att(fid: str, status: str = "completed") -> dict[str, Any]:
    return {"id": fid, "status": status, "attributes": {}, "last_error": None}


def plan(instances: dict[Address, Instance], state: State, live: LiveView, **kw: Any) -> Plan:
    return make_plan(PlanRequest(instances=instances, state=state, live=live, **kw))


def actions(p: Plan) -> dict[str, tuple[str, str | None]]:
    return {(f"{c.address}#{c.id}" if c.deposed else str(c.address)): (c.action.value, c.reason.value if c.reason
                                                                       else None) for c in p.changes}


def applied_state() -> tuple[State, LiveView]:
    state = State(resources={str(FILE): rs_file("f1"), str(STORE): rs_store(), str(ATT): rs_att("f1")})
    live = live_view({"f1": live_file("f1")}, {"vs_1": live_store()}, {"vs_1": {"f1": live_att("f1")}})
    return state, live


def test_nothing_tracked_means_everything_is_created() -> None:
    p = plan(declared(file_inst(), store_inst(), att_inst()), State(), live_view())
    assert actions(p) == {"file.a": ("create", "create_because_new"),
                          "vector_store.kb": ("create", "create_because_new"),
                          str(ATT): ("create", "create_because_new")}
    assert p.counts()["add"] == 3


def test_state_equal_to_live_and_manifests_is_no_changes() -> None:
    state, live = applied_state()
    p = plan(declared(file_inst(), store_inst(), att_inst()), state, live)
    assert p.changes == [] and p.unchanged == 3


def test_a_content_change_replaces_the_file_and_re_points_its_attachment_create_before_destroy() -> None:
    state, live = applied_state()
    p = plan(declared(file_inst(SHA2), store_inst(), att_inst()), state, live)
    assert actions(p) == {"file.a": ("replace", "replace_because_content_changed"),
                          str(ATT): ("replace", "replace_because_dependency_replaced")}


def test_an_attachment_still_using_an_old_file_id_is_re_pointed_and_the_deposed_file_deleted_after() -> None:
    # an apply was interrupted after the new File was uploaded, before its attachment moved
    state, live = applied_state()
    state.resources[str(FILE)] = rs_file("f2", SHA2)
    state.deposed.append(Deposed(str(FILE), rs_file("f1")))
    live.put("file", None, live_file("f2"))
    p = plan(declared(file_inst(SHA2), store_inst(), att_inst()), state, live)
    assert actions(p) == {str(ATT): ("replace", "replace_because_dependency_replaced"),
                          "file.a#f1": ("delete", "delete_because_deposed")}
    assert "it still uses f1, but file.a is now f2" in p.changes[0].reasons[0].detail


def test_a_deposed_file_something_still_uses_is_kept_when_that_user_is_excluded() -> None:
    state, live = applied_state()
    state.resources[str(FILE)] = rs_file("f2", SHA2)
    state.deposed.append(Deposed(str(FILE), rs_file("f1")))
    live.put("file", None, live_file("f2"))
    p = plan(declared(file_inst(SHA2), store_inst(), att_inst()), state, live, excludes=[ATT])
    assert actions(p) == {}
    assert any("is kept for now" in w and str(ATT) in w for w in p.warnings)


def test_destroying_a_targeted_file_takes_its_attachment_and_nothing_it_depends_on() -> None:
    state, live = applied_state()
    p = plan(declared(file_inst(), store_inst(), att_inst()), state, live, mode="destroy", targets=[FILE])
    assert actions(p) == {"file.a": ("delete", "delete_because_destroy_mode"),
                          str(ATT): ("delete", "delete_because_dependency_deleted")}


def test_targeting_an_attachment_brings_what_it_needs_but_not_its_siblings() -> None:
    other = A("file.b")
    p = plan(declared(file_inst(), file_inst(address=other), store_inst(), att_inst(), att_inst(other)),
             State(), live_view(), targets=[ATT])
    assert set(actions(p)) == {"file.a", "vector_store.kb", str(ATT)}
    assert p.warnings[0].startswith("Resource targeting is in effect")


def test_a_moved_entry_moves_the_file_and_its_attachment_without_re_making_either() -> None:
    state, live = applied_state()
    new = A("file.renamed")
    p = plan(declared(file_inst(address=new), store_inst(), att_inst(new)), state, live, moves=[(FILE, new)])
    assert actions(p) == {"file.renamed": ("move", "move_because_moved_in_manifests"),
                          str(STORE.child("files", new)): ("move", "move_because_moved_in_manifests")}
    assert {str(c.previous_address) for c in p.changes} == {"file.a", str(ATT)}
    assert p.counts() == {"add": 0, "change": 0, "destroy": 0, "import": 0, "move": 2}


def test_a_proposed_adoption_is_an_adopt_change_and_the_plan_writes_nothing() -> None:
    state = State()
    adopted = rs_store()
    p = plan(declared(store_inst()), state, live_view(stores={"vs_1": live_store()}),
             adoptions={STORE: Adoption(STORE, adopted, ReasonCode.ADOPT_OWNED, "vs_1 carries this project's tag")})
    assert actions(p) == {"vector_store.kb": ("adopt", "adopt_by_ownership_tag")}
    assert p.changes[0].importing == adopted.to_dict() and p.counts()["import"] == 1
    assert state.resources == {}


def test_an_adoption_of_an_object_tracked_under_an_undeclared_address_is_a_move_not_adopt_and_destroy() -> None:
    # a VectorStoreFileBatch attached file.a to the store; the batch document went and the store
    # now lists file.a itself: one object (store vs_1, file f1), two addresses
    state, live = applied_state()
    batch_att = A("vector_store_file_batch.bulk").child("files", FILE)
    state.resources[str(batch_att)] = state.resources.pop(str(ATT))
    adopted = rs_att("f1")
    p = plan(declared(file_inst(), store_inst(), att_inst()), state, live,
             adoptions={ATT: Adoption(ATT, adopted, ReasonCode.ADOPT_EXISTING, "f1 is already there")})
    assert actions(p) == {str(ATT): ("move", "move_because_same_object")}  # nothing destroyed
    assert str(p.changes[0].previous_address) == str(batch_att) and p.changes[0].importing is None
    assert str(batch_att) in state.resources  # planning never touches state


def test_metadata_keys_the_service_added_are_not_a_difference() -> None:
    state, live = applied_state()
    live.put("vector_store", None, live_store(oci_embedding_model="cohere.embed-v4.0", oci_index_id="x"))
    assert plan(declared(file_inst(), store_inst(), att_inst()), state, live).changes == []


def test_a_metadata_change_updates_the_store_in_place() -> None:
    state, live = applied_state()
    p = plan(declared(file_inst(), store_inst({"team": "support"}), att_inst()), state, live)
    assert actions(p) == {"vector_store.kb": ("update", "update_in_place")}
    assert [(a.path, a.after) for a in p.changes[0].attr_changes] == [("metadata.team", "support")]


def test_a_failed_ingestion_is_detached_and_attached_again() -> None:
    state, live = applied_state()
    live.put("vector_store_file", "vs_1", live_att("f1", status="failed"))
    p = plan(declared(file_inst(), store_inst(), att_inst()), state, live)
    assert actions(p) == {str(ATT): ("replace-destroy-first", "replace_because_ingestion_failed")}


def test_an_object_gone_from_the_service_is_created_again_and_noted_as_drift() -> None:
    state, live = applied_state()
    live.discard("file", None, "f1")
    p = plan(declared(file_inst(), store_inst(), att_inst()), state, live)
    assert actions(p)["file.a"] == ("create", "create_because_deleted_outside")
    assert actions(p)[str(ATT)] == ("replace", "replace_because_dependency_replaced")
    assert [(str(d.address), d.status) for d in p.drift] == [("file.a", "deleted")]


def test_prevent_destroy_names_the_documents_own_location() -> None:
    state, live = applied_state()
    where = r"vector_store.kb has lifecycle.prevent_destroy set \(at manifests/kb.yaml:7:1\)"
    with pytest.raises(PlanError, match=where):
        plan(declared(file_inst(), store_inst(lifecycle=Lifecycle(prevent_destroy=True)), att_inst()), state, live,
             mode="destroy")


def test_refresh_only_plans_no_changes_but_keeps_the_drift() -> None:
    state, live = applied_state()
    live.put("vector_store", None, {**live_store(), "name": "renamed-outside"})
    state.resources[str(STORE)].live["name"] = "kb"
    p = plan(declared(file_inst(), store_inst(), att_inst()), state, live, mode="refresh-only")
    assert p.changes == [] and [d.status for d in p.drift] == ["changed"]
