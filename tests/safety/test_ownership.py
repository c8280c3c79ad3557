"""Ownership does not cross checkouts, and `plan` never writes state.

Two project directories (two checkouts) use one service with the same environment name. Without
an explicit `owner:`, what one checkout created is not the other's: the second plans its own
objects and offers nothing to destroy. With the same `owner:` in both, the second checkout's plan
*proposes* adopting the store; only apply records it. A store removed from state with `state rm`
is not silently tracked again."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

from tests.engine.harness import Project
from tests.safety.checks import (
    apply_ok,
    assert_converged,
    assert_plan_clean,
    assert_store_has_exactly,
    live_files,
    resources,
)

STORE = "vector_store.support-kb"
CONTAINER = "container.analyst-sandbox"

STORE_AND_CONTAINER = """\
apiVersion: ocigen-iac/v1
kind: VectorStore
metadata: {name: team-kb}
spec:
  name: team-kb-${var.env}
  metadata: {team: search}
---
apiVersion: ocigen-iac/v1
kind: Container
metadata: {name: sandbox}
spec: {memory_limit: 1g}
"""
TEAM_STORE = "vector_store.team-kb"


def fingerprint(path: Path) -> tuple[str, int] | None:
    """The state file's content hash and mtime, or None when it does not exist."""
    return (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) if path.exists() else None


def store_documents(project: Project) -> set[str]:
    return {rs["attrs"]["file"] for rs in resources(project).values()
            if rs["kind"] == "vector_store_file" and rs["attrs"].get("vector_store") == STORE}


def test_a_second_checkout_does_not_adopt_the_first_checkouts_store_and_its_plan_writes_no_state(
        make_project: Callable[..., Project]) -> None:
    a = make_project("a", example_manifests=True)
    b = make_project("b", example_manifests=True)
    apply_ok(a)
    a_store = resources(a)[STORE]["id"]
    a_files = {f["id"] for f in live_files(a.http)}
    documents = store_documents(a)

    plan = b.run("plan", "manifests", "--json")
    assert plan.exit_code == 0, plan.output
    data = plan.json()
    actions = {c["address"]: c["action"] for c in data["resource_changes"]}
    assert actions.get(STORE) == "create", f"B should plan its own store, not take A's: {actions.get(STORE)}"
    assert [c["address"] for c in data["resource_changes"] if c["action"] == "adopt" or c.get("importing")] == []
    assert fingerprint(b.state_file) is None, "B's plan created a state file"

    destroy = b.run("plan", "manifests", "--destroy")
    assert destroy.exit_code == 0, destroy.output
    assert destroy.stdout.strip().endswith("No changes. No objects need to be destroyed."), destroy.stdout
    assert fingerprint(b.state_file) is None, "B's plan --destroy created a state file"

    # B now has a state of its own; a plan must leave it byte for byte (and mtime) as it was.
    apply_ok(b, "--target", CONTAINER)
    before = fingerprint(b.state_file)
    again = b.run("plan", "manifests", "--json")
    assert again.exit_code == 0, again.output
    assert fingerprint(b.state_file) == before, "B's plan changed B's state file"
    assert a_store not in {rs["id"] for rs in resources(b).values()}

    apply_ok(b)
    assert resources(b)[STORE]["id"] != a_store
    assert_converged(b, {STORE: documents}, foreign_files=a_files)
    assert_store_has_exactly(a, STORE, documents)  # A's store is untouched ...
    assert_plan_clean(a)  # ... and still A's alone


def test_with_the_same_explicit_owner_the_second_checkouts_plan_proposes_adoption_and_apply_records_it(
        make_project: Callable[..., Project]) -> None:
    a = make_project("a", extra_config="owner: team-kb\n")
    b = make_project("b", extra_config="owner: team-kb\n")
    for checkout in (a, b):
        (checkout.root / "manifests" / "team.yaml").write_text(STORE_AND_CONTAINER)
    apply_ok(a)
    store_id = resources(a)[TEAM_STORE]["id"]

    apply_ok(b, "--target", "container.sandbox")  # B has a state of its own
    before = fingerprint(b.state_file)
    text = b.run("plan", "manifests")
    assert text.exit_code == 0, text.output
    assert re.search(rf"# {re.escape(TEAM_STORE)} will be adopted", text.stdout), text.stdout
    data = b.run("plan", "manifests", "--json").json()
    change = next(c for c in data["resource_changes"] if c["address"] == TEAM_STORE)
    assert change["action"] == "adopt" and change["id"] == store_id, change
    assert fingerprint(b.state_file) == before, "plan recorded the adoption; only apply may"

    apply_ok(b)
    assert resources(b)[TEAM_STORE]["id"] == store_id
    live_stores = [s for s in a.objects()["vector_stores"] if s.get("status") != "deleted"]
    assert [s["id"] for s in live_stores] == [store_id]  # adopted, not duplicated
    assert_plan_clean(b)
    assert_plan_clean(a)


def test_state_rm_of_a_store_is_not_silently_undone_by_the_next_plan(examples: Project) -> None:
    project = examples
    apply_ok(project)
    documents = store_documents(project)
    old_store = resources(project)[STORE]["id"]
    r = project.run("state", "rm", STORE)
    assert r.exit_code == 0, r.output
    before = fingerprint(project.state_file)

    text = project.run("plan", "manifests")
    data = project.run("plan", "manifests", "--json").json()
    assert fingerprint(project.state_file) == before, "plan wrote state (it re-tracked the removed store)"
    assert not any(c["address"] == STORE and c.get("importing", {}).get("id") == old_store
                   for c in data["resource_changes"]), "the removed store is adopted again"
    change = next((c for c in data["resource_changes"] if c["address"] == STORE), None)
    assert change is not None, "the plan says nothing about the store that was removed from state"
    assert change["action"] in ("create", "adopt"), change
    verb = "will be created" if change["action"] == "create" else "will be adopted"
    assert f"# {STORE} {verb}" in text.stdout

    apply_ok(project)
    if change["action"] == "create":
        assert resources(project)[STORE]["id"] != old_store
    assert_store_has_exactly(project, STORE, documents)
    assert_plan_clean(project)
