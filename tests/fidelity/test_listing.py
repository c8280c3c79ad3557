"""Listing a big store correctly (issue #12, items 8 and 9): hundreds of attachments share one
`created_at` second, and cursors can misbehave. A no-op plan must see every attachment with
about one request per page, and a listing that comes up short must stop the plan, never turn
into creates or deletes."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from ocigen_iac.emulator import EmulatorConfig, EmulatorServer, Faults
from tests.engine.harness import Project
from tests.fidelity.support import (
    NO_CHANGES,
    apply_ok,
    bulk_project,
    objects,
    quiet,
    requests_by_route,
    reset_counters,
    set_faults,
)

COUNT = 260  # > 250, attached by one batch: they share one created_at second
PAGE = 100  # the client's page size for store files
LIST_ROUTE = "GET /openai/v1/vector_stores/{id}/files"
ONE_ROUTE = "GET /openai/v1/vector_stores/{id}/files/{file_id}"
STORE_PAGES = ["GET /vector_stores/"]  # the per-store list routes, not the store list itself


@pytest.fixture(scope="module")
def bulk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    tmp = tmp_path_factory.mktemp("bulk")
    server = EmulatorServer(EmulatorConfig.for_variant(
        "default", data_dir=tmp / "emulator", api_keys=["test-key"], ingest_delay_s=0.0, **quiet()),
        host="127.0.0.1", port=0).start()
    try:
        project = bulk_project(tmp, server, COUNT)
        apply_ok(project)
        attached = [a for a in objects(project)["vector_store_files"] if a["status"] == "completed"]
        assert len(attached) == COUNT
        yield project
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def no_faults(bulk: Project) -> Iterator[None]:
    set_faults(bulk, Faults())
    yield
    set_faults(bulk, Faults())


def plan_requests(project: Project) -> tuple[dict, dict[str, int]]:
    """The JSON plan, and the requests it cost per route."""
    reset_counters(project)
    r = project.run("plan", "manifests", "--json")
    assert r.exit_code == 0, r.output[-3000:]
    return r.json(), requests_by_route(project)


def assert_noop_plan_paged(project: Project, page: int) -> None:
    plan, served = plan_requests(project)
    attaching = [c["address"] for c in plan["resource_changes"] if c["kind"] == "vector_store_file"]
    assert not attaching, f"the plan re-attaches {len(attaching)} of {COUNT} attached files"
    one_by_one = served.get(ONE_ROUTE, 0)
    assert one_by_one == 0, f"{one_by_one} attachments the listing missed were read one by one"
    floor = math.ceil(COUNT / page)
    listed = served.get(LIST_ROUTE, 0)
    assert floor <= listed <= floor + 2, f"{listed} list requests for {COUNT} attachments (floor {floor})"
    assert not plan["has_changes"], [(c["address"], c["action"]) for c in plan["resource_changes"]]


def test_a_store_with_hundreds_of_same_second_attachments_plans_no_changes_near_the_page_floor(
        bulk: Project) -> None:
    seconds = {a["created_at"] for a in objects(bulk)["vector_store_files"]}
    assert len(seconds) == 1, "the attachments should share one second"
    # Round trips like a real network's: the ascending and descending chains are in flight together.
    set_faults(bulk, Faults(latency_ms=50, routes=STORE_PAGES))
    assert_noop_plan_paged(bulk, PAGE)
    r = bulk.run("plan", "manifests", "--detailed-exitcode")
    assert r.exit_code == 0 and NO_CHANGES in r.stdout, r.output[-3000:]


def test_short_pages_with_has_more_are_followed_to_the_end(bulk: Project) -> None:
    set_faults(bulk, Faults(page_anomaly="short", routes=STORE_PAGES))
    assert_noop_plan_paged(bulk, PAGE // 2)  # every half page asked for, none skipped


def test_a_cursor_that_returns_nothing_while_objects_remain_stops_the_plan(bulk: Project) -> None:
    before = objects(bulk)
    serial = bulk.state()["serial"]
    set_faults(bulk, Faults(page_anomaly="empty_cursor", routes=STORE_PAGES))
    for command in (("plan", "manifests"), ("apply", "manifests", "--auto-approve")):
        r = bulk.run(*command)
        assert r.exit_code == 1, f"{command[0]} should fail:\n{r.output[-3000:]}"
        assert str(COUNT) in r.output and "pagination" in r.output, r.output[-3000:]
        assert "to add" not in r.output and "to destroy" not in r.output
        assert "Traceback" not in r.output
    after = objects(bulk)
    assert [a["id"] for a in after["vector_store_files"]] == [a["id"] for a in before["vector_store_files"]]
    assert len(after["files"]) == len(before["files"])
    assert bulk.state()["serial"] == serial
    set_faults(bulk, Faults())
    r = bulk.run("plan", "manifests", "--detailed-exitcode")
    assert r.exit_code == 0 and NO_CHANGES in r.stdout, r.output[-3000:]
