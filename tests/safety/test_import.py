"""`import` cannot make one live store two addresses, and an imported store (created outside
the tool, without the ownership tag) gets the tag on its next apply, shown as an in-place update."""

from __future__ import annotations

from collections.abc import Callable

from tests.engine.harness import Project
from tests.safety.checks import apply_ok, assert_plan_clean, resources

OWNER_KEY = "ocigen-iac-owner"  # the default owner_tag_key
TWO_STORES = """\
apiVersion: ocigen-iac/v1
kind: VectorStore
metadata: {name: a}
spec:
  name: a-${var.env}
---
apiVersion: ocigen-iac/v1
kind: VectorStore
metadata: {name: b}
spec:
  name: b-${var.env}
"""
ONE_STORE = """\
apiVersion: ocigen-iac/v1
kind: VectorStore
metadata: {name: imported}
spec:
  name: imported-${var.env}
  metadata: {team: search}
"""


def test_import_of_an_id_already_tracked_at_another_address_fails_naming_that_address(
        make_project: Callable[..., Project]) -> None:
    project = make_project()
    (project.root / "manifests" / "stores.yaml").write_text(TWO_STORES)
    apply_ok(project, "--target", "vector_store.a")
    a_id = resources(project)["vector_store.a"]["id"]

    r = project.run("import", "vector_store.b", a_id)
    assert r.exit_code == 1, r.output
    assert "vector_store.a" in r.stderr, r.stderr
    assert "Traceback" not in r.output
    assert "vector_store.b" not in resources(project)


def test_an_imported_store_gets_the_ownership_tag_on_its_next_apply_as_an_in_place_update(
        make_project: Callable[..., Project]) -> None:
    project = make_project()
    (project.root / "manifests" / "store.yaml").write_text(ONE_STORE)
    mgmt = project.server.management_base
    created = project.http.post(f"{mgmt}/vector_stores", json={"name": "imported-test", "metadata": {"team": "search"}})
    created.raise_for_status()
    store_id = created.json()["id"]

    r = project.run("import", "vector_store.imported", store_id)
    assert r.exit_code == 0, r.output
    plan = project.run("plan", "manifests", "--json").json()
    assert [(c["address"], c["action"]) for c in plan["resource_changes"]] == [("vector_store.imported", "update")], \
        f"the missing ownership tag should show as an in-place update: {plan['resource_changes']}"
    text = project.run("plan", "manifests").stdout
    assert "# vector_store.imported will be updated in-place" in text

    apply_ok(project)
    live = project.http.get(f"{mgmt}/vector_stores/{store_id}").json()
    assert live["metadata"].get(OWNER_KEY), f"no ownership tag after apply: {live['metadata']}"
    assert live["metadata"]["team"] == "search"
    assert resources(project)["vector_store.imported"]["id"] == store_id
    assert_plan_clean(project)
