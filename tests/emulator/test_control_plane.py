"""The native control plane (/20231130: projects, vector store connectors, file syncs) driven by the
real `oci` SDK client over HTTP, signed with an OCI API key, against the emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import requests

oci = pytest.importorskip("oci")
from oci.exceptions import ServiceError  # noqa: E402
from oci.generative_ai import GenerativeAiClient, GenerativeAiClientCompositeOperations  # noqa: E402
from oci.generative_ai import models as m  # noqa: E402
from oci.object_storage import ObjectStorageClient  # noqa: E402
from oci.signer import Signer  # noqa: E402

from ocigen_iac.emulator import EmulatorServer, Faults  # noqa: E402

from .helpers import client, make_store, mgmt, visible, wait_for  # noqa: E402
from .test_auth import KEY_ID, PRIV, PRIV2, PUB  # noqa: E402

TENANCY, USER, FP = KEY_ID.split("/")
COMP = "ocid1.compartment.oc1..test"
OTHER_COMP = "ocid1.compartment.oc1..other"
NS = "emulatorns"
CONFIG = {"region": "us-chicago-1", "tenancy": TENANCY, "user": USER, "fingerprint": FP, "key_file": "unused.pem"}
NO_RETRY = oci.retry.NoneRetryStrategy()


class Cp:
    """The emulator plus the three clients a user would hold: GenerativeAi, ObjectStorage, OpenAI-style."""

    def __init__(self, srv: EmulatorServer, private_key: str = PRIV) -> None:
        self.srv = srv
        signer = Signer(TENANCY, USER, FP, None, private_key_content=private_key)
        self.ai = GenerativeAiClient(CONFIG, signer=signer, service_endpoint=srv.url, retry_strategy=NO_RETRY)
        self.os = ObjectStorageClient(CONFIG, signer=signer, service_endpoint=srv.url, retry_strategy=NO_RETRY)
        self.dp = client(srv)
        self.mg = mgmt(srv)

    def store(self, name: str) -> dict[str, Any]:
        """A store made on the management prefix, once the data plane can see it."""
        vs = make_store(self.mg, name=name)
        visible(self.dp, vs["id"])
        return vs

    def wait(self, get: Callable[[], Any], *states: str, timeout: float = 15.0) -> Any:
        """Poll get().data until its lifecycle_state is one of `states` (bounded)."""
        return wait_for(lambda: (d := get().data).lifecycle_state in states and d, timeout=timeout, interval=0.02)

    def put(self, bucket: str, name: str, data: bytes) -> None:
        self.os.put_object(NS, bucket, name, data)

    def connector(self, vs_id: str, bucket: str, prefixes: list[str] | None = None) -> Any:
        details = m.CreateVectorStoreConnectorDetails(
            compartment_id=COMP,
            vector_store_id=vs_id,
            display_name="docs-sync",
            description="docs bucket into the kb store",
            schedule_config=m.ScheduleIntervalConfig(state="DISABLED", frequency="DAILY", interval=1),
            configuration=m.OciObjectStorageConfiguration(
                storage_config_list=[m.ObjectStorageConfig(namespace=NS, bucket_name=bucket, prefix_list=prefixes)]
            ),
            freeform_tags={"team": "search"},
        )
        created = self.ai.create_vector_store_connector(details)
        assert created.data.lifecycle_state == "CREATING" and created.headers["opc-work-request-id"]
        return self.wait(lambda: self.ai.get_vector_store_connector(created.data.id), "ACTIVE")

    def sync(self, connector_id: str) -> Any:
        run = self.ai.create_vector_store_connector_file_sync(
            m.CreateVectorStoreConnectorFileSyncDetails(vector_store_connector_id=connector_id)
        )
        assert run.data.lifecycle_state == "ACCEPTED" and run.data.trigger_type == "MANUAL"
        return self.wait(lambda: self.ai.get_vector_store_connector_file_sync(run.data.id), "SUCCEEDED", "FAILED")

    def store_files(self, vs_id: str) -> dict[str, dict[str, Any]]:
        """filename -> vector store file (with its File), for every file attached to the store."""
        out = {}
        for vsf in self.dp.get(f"/vector_stores/{vs_id}/files", params={"limit": 100}).json()["data"]:
            out[self.dp.get(f"/files/{vsf['id']}").json()["filename"]] = vsf
        return out

    def search(self, vs_id: str, query: str) -> list[str]:
        r = self.dp.post(f"/vector_stores/{vs_id}/search", json={"query": query})
        assert r.status_code == 200, r.text
        return [hit["filename"] for hit in r.json()["data"]]


@pytest.fixture
def cp(make_emulator: Callable[..., EmulatorServer]) -> Cp:
    return Cp(make_emulator(signing_keys={KEY_ID: PUB}))


def _stat(stats: Any, key: str) -> int:
    return getattr(stats, key).total_files_synced


# -- projects ------------------------------------------------------------------------------------
def test_project_create_get_list_update_delete(cp: Cp) -> None:
    details = m.CreateGenerativeAiProjectDetails(
        compartment_id=COMP,
        display_name="agents-dev",
        description="dev project",
        conversation_config=m.ConversationConfig(responses_retention_in_hours=24, conversations_retention_in_hours=48),
        freeform_tags={"env": "dev"},
    )
    created = cp.ai.create_generative_ai_project(details)
    p = created.data
    assert p.lifecycle_state == "CREATING" and p.id.startswith("ocid1.generativeaiproject.")
    assert created.headers["opc-work-request-id"] and created.headers["etag"] and created.headers["opc-request-id"]
    active = cp.wait(lambda: cp.ai.get_generative_ai_project(p.id), "ACTIVE")
    assert active.display_name == "agents-dev" and active.compartment_id == COMP
    assert active.conversation_config.responses_retention_in_hours == 24
    assert active.freeform_tags == {"env": "dev"} and active.time_created is not None

    listed = cp.ai.list_generative_ai_projects(COMP, display_name="agents-dev").data.items
    assert [x.id for x in listed] == [p.id] and listed[0].lifecycle_state == "ACTIVE"
    assert cp.ai.list_generative_ai_projects(OTHER_COMP).data.items == []

    upd = cp.ai.update_generative_ai_project(
        p.id,
        m.UpdateGenerativeAiProjectDetails(
            description="renamed",
            display_name="agents-dev-2",
            short_term_memory_optimization_config=m.ShortTermMemoryOptimizationConfig(is_enabled=True),
        ),
    )
    assert upd.data.lifecycle_state == "UPDATING" and upd.data.display_name == "agents-dev-2"
    after = cp.wait(lambda: cp.ai.get_generative_ai_project(p.id), "ACTIVE")
    assert after.description == "renamed" and after.short_term_memory_optimization_config.is_enabled is True
    assert after.conversation_config.conversations_retention_in_hours == 48  # untouched fields survive

    deleted = cp.ai.delete_generative_ai_project(p.id)
    assert deleted.status == 202 and deleted.headers["opc-work-request-id"]
    gone = cp.wait(lambda: cp.ai.get_generative_ai_project(p.id), "DELETED")  # still readable once DELETED
    assert gone.id == p.id
    assert cp.ai.list_generative_ai_projects(COMP, lifecycle_state="ACTIVE").data.items == []
    with pytest.raises(ServiceError) as e:
        cp.ai.update_generative_ai_project(p.id, m.UpdateGenerativeAiProjectDetails(description="x"))
    assert e.value.status == 404 and e.value.code == "NotAuthorizedOrNotFound"


def test_project_errors_are_oci_shaped(make_emulator: Callable[..., EmulatorServer]) -> None:
    cp = Cp(make_emulator(signing_keys={KEY_ID: PUB}, control_plane_delay_s=60))
    with pytest.raises(ServiceError) as e:
        cp.ai.get_generative_ai_project("ocid1.generativeaiproject.oc1..missing")
    assert e.value.status == 404 and e.value.code == "NotAuthorizedOrNotFound"
    assert e.value.request_id  # opc-request-id on errors too
    with pytest.raises(ServiceError) as e:
        cp.ai.create_generative_ai_project(m.CreateGenerativeAiProjectDetails(display_name="no-compartment"))
    assert e.value.status == 400 and e.value.code == "InvalidParameter" and "compartmentId" in e.value.message
    p = cp.ai.create_generative_ai_project(m.CreateGenerativeAiProjectDetails(compartment_id=COMP)).data
    assert p.display_name.startswith("generativeaiproject")  # generated, as OCI does
    with pytest.raises(ServiceError) as e:  # still CREATING for a minute
        cp.ai.update_generative_ai_project(p.id, m.UpdateGenerativeAiProjectDetails(description="x"))
    assert e.value.status == 409 and e.value.code == "IncorrectState" and "CREATING" in e.value.message


def test_project_retry_token_makes_create_idempotent(cp: Cp) -> None:
    details = m.CreateGenerativeAiProjectDetails(compartment_id=COMP, display_name="once")
    a = cp.ai.create_generative_ai_project(details, opc_retry_token="tok-1")
    b = cp.ai.create_generative_ai_project(details, opc_retry_token="tok-1")
    assert a.data.id == b.data.id and a.headers["opc-work-request-id"] == b.headers["opc-work-request-id"]
    assert len(cp.ai.list_generative_ai_projects(COMP).data.items) == 1
    with pytest.raises(ServiceError) as e:
        other = m.CreateGenerativeAiProjectDetails(compartment_id=COMP, display_name="twice")
        cp.ai.create_generative_ai_project(other, opc_retry_token="tok-1")
    assert e.value.status == 409 and e.value.code == "InvalidatedRetryToken"


def test_lost_create_retried_by_the_sdk_makes_one_project(make_emulator: Callable[..., EmulatorServer]) -> None:
    """The create is stored but its response lost (500 or a dropped connection); the SDK retries with
    the same opc-retry-token and gets the stored project back instead of a second one."""
    faults = Faults(rate_lost_create=0.5, routes=["POST /20231130/generativeAiProjects"])
    srv = make_emulator(signing_keys={KEY_ID: PUB}, faults=faults, seed=1)
    cp = Cp(srv)
    retry = oci.retry.RetryStrategyBuilder(
        max_attempts=12, retry_base_sleep_time_seconds=0.01, retry_max_wait_between_calls_seconds=0.05,
        backoff_type=oci.retry.BACKOFF_FULL_JITTER_VALUE,
    ).get_retry_strategy()
    for name in ("p1", "p2", "p3"):
        cp.ai.create_generative_ai_project(
            m.CreateGenerativeAiProjectDetails(compartment_id=COMP, display_name=name), retry_strategy=retry)
    assert srv.counters()["injected"]["lost_create"] >= 1
    names = sorted(x.display_name for x in cp.ai.list_generative_ai_projects(COMP).data.items)
    assert names == ["p1", "p2", "p3"]


def test_project_list_pages_with_opc_next_page(cp: Cp) -> None:
    create = cp.ai.create_generative_ai_project
    ids = [create(m.CreateGenerativeAiProjectDetails(compartment_id=COMP, display_name=n)).data.id for n in "bca"]
    first = cp.ai.list_generative_ai_projects(COMP, limit=2)
    assert len(first.data.items) == 2 and first.has_next_page
    everything = oci.pagination.list_call_get_all_results(cp.ai.list_generative_ai_projects, COMP, limit=1).data
    assert [x.id for x in everything] == list(reversed(ids))  # default: timeCreated, newest first
    by_name = oci.pagination.list_call_get_all_results(
        cp.ai.list_generative_ai_projects, COMP, limit=2, sort_by="displayName"
    ).data
    assert [x.display_name for x in by_name] == ["a", "b", "c"]
    with pytest.raises(ServiceError) as e:
        cp.ai.list_generative_ai_projects(COMP, page="not-a-token")
    assert e.value.status == 400 and e.value.code == "InvalidParameter"


def test_composite_waiters_follow_work_requests(cp: Cp) -> None:
    composite = GenerativeAiClientCompositeOperations(cp.ai)
    done = composite.create_generative_ai_project_and_wait_for_state(
        m.CreateGenerativeAiProjectDetails(compartment_id=COMP, display_name="waited"),
        wait_for_states=["SUCCEEDED", "FAILED"],
        waiter_kwargs={"max_wait_seconds": 20, "max_interval_seconds": 1},
    )
    wr = done.data
    assert wr.status == "SUCCEEDED" and wr.percent_complete == 100.0
    (res,) = wr.resources
    assert res.action_type == "CREATED" and res.entity_type == "GenerativeAiProject"
    assert cp.ai.get_generative_ai_project(res.identifier).data.lifecycle_state == "ACTIVE"


def test_wrong_signature_is_401(make_emulator: Callable[..., EmulatorServer]) -> None:
    srv = make_emulator(signing_keys={KEY_ID: PUB})
    impostor = Cp(srv, private_key=PRIV2)  # same keyId, another private key
    with pytest.raises(ServiceError) as e:
        impostor.ai.list_generative_ai_projects(COMP)
    assert e.value.status == 401 and e.value.code == "NotAuthenticated"
    r = httpx.get(f"{srv.url}/20231130/generativeAiProjects", params={"compartmentId": COMP},
                  headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and set(r.json()) == {"code", "message"}


def test_projects_survive_a_restart(make_emulator: Callable[..., EmulatorServer], tmp_path: Any) -> None:
    data_dir = tmp_path / "persist"
    srv = make_emulator(signing_keys={KEY_ID: PUB}, data_dir=data_dir)
    cp = Cp(srv)
    pid = cp.ai.create_generative_ai_project(m.CreateGenerativeAiProjectDetails(compartment_id=COMP)).data.id
    srv.stop()
    again = Cp(make_emulator(signing_keys={KEY_ID: PUB}, data_dir=data_dir))
    assert again.wait(lambda: again.ai.get_generative_ai_project(pid), "ACTIVE").id == pid


# -- connectors and file syncs -------------------------------------------------------------------
def test_connector_sync_ingests_updates_and_removes_objects(cp: Cp) -> None:
    vs = cp.store("kb")
    cp.put("docs", "kb/vacation.md", b"# Vacation\n\nEmployees get twenty vacation days per year.")
    cp.put("docs", "kb/expenses.txt", b"Expenses are reimbursed within thirty days of submission.")
    cp.put("docs", "kb/onboarding.md", b"Onboarding starts with a laptop and a badge.")
    cp.put("docs", "other/ignored.md", b"outside the prefix")
    conn = cp.connector(vs["id"], "docs", prefixes=["kb/"])
    assert conn.configuration.storage_config_list[0].bucket_name == "docs"
    assert conn.schedule_config.frequency == "DAILY" and conn.schedule_config.time_start is not None
    assert conn.vector_store_id == vs["id"] and conn.tenant_id == TENANCY

    first = cp.sync(conn.id)
    assert first.lifecycle_state == "SUCCEEDED", first.lifecycle_details
    assert _stat(first.stats, "created") == 3 and first.stats.created.sync_stats_by_file_type == {"md": 2, "txt": 1}
    assert _stat(first.stats, "failed") == 0 and first.time_ended is not None
    files = cp.store_files(vs["id"])
    assert sorted(files) == ["kb/expenses.txt", "kb/onboarding.md", "kb/vacation.md"]
    assert {f["status"] for f in files.values()} == {"completed"}
    assert cp.search(vs["id"], "vacation days")[0] == "kb/vacation.md"
    logs = cp.ai.list_vector_store_connector_file_sync_ingestion_logs(first.id).data.items
    assert [(x.file_path, x.status) for x in logs] == [
        ("docs/kb/expenses.txt", "COMPLETED"), ("docs/kb/onboarding.md", "COMPLETED"),
        ("docs/kb/vacation.md", "COMPLETED"),
    ]
    assert all(x.total_chunks_created >= 1 and x.file_id in {f["id"] for f in files.values()} for x in logs)

    cp.put("docs", "kb/vacation.md", b"# Vacation\n\nEmployees now get thirty sabbatical days per year.")
    cp.os.delete_object(NS, "docs", "kb/onboarding.md")
    cp.put("docs", "kb/report.docx", b"PK\x03\x04 not really a docx")
    cp.put("docs", "kb/expenses.txt", b"Expenses are reimbursed within thirty days of submission.")  # same bytes
    second = cp.sync(conn.id)
    s = second.stats
    assert second.lifecycle_state == "SUCCEEDED"
    assert (_stat(s, "created"), _stat(s, "updated"), _stat(s, "deleted"), _stat(s, "unsupported")) == (0, 1, 1, 1)
    assert _stat(s, "metadata_updated") == 1 and s.unsupported.sync_stats_by_file_type == {"docx": 1}
    assert "docs/kb/report.docx" in second.lifecycle_details
    logs = cp.ai.list_vector_store_connector_file_sync_ingestion_logs(second.id).data.items
    assert [(x.file_path, x.status) for x in logs] == [("docs/kb/report.docx", "FAILED"), ("docs/kb/vacation.md",
                                                                                            "COMPLETED")]
    failed_only = cp.ai.list_vector_store_connector_file_sync_ingestion_logs(second.id, lifecycle_state="FAILED")
    assert [x.file_path for x in failed_only.data.items] == ["docs/kb/report.docx"]

    files = cp.store_files(vs["id"])
    assert sorted(files) == ["kb/expenses.txt", "kb/report.docx", "kb/vacation.md"]
    assert files["kb/report.docx"]["status"] == "failed"
    assert files["kb/report.docx"]["last_error"]["code"] == "unsupported_file"
    assert cp.search(vs["id"], "sabbatical") == ["kb/vacation.md"]
    assert cp.search(vs["id"], "twenty vacation") == ["kb/vacation.md"]  # "vacation" still matches, once
    assert cp.search(vs["id"], "badge laptop") == []  # the deleted object is gone

    overall = cp.ai.list_vector_store_connector_ingestion_logs(conn.id).data.items
    assert {x.file_path: x.status for x in overall} == {
        "docs/kb/expenses.txt": "COMPLETED", "docs/kb/report.docx": "FAILED", "docs/kb/vacation.md": "COMPLETED"}
    assert {x.vector_store_connector_file_sync_id for x in overall} == {first.id, second.id}
    stats = cp.ai.get_vector_store_connector_stats(conn.id).data
    assert (_stat(stats, "created"), _stat(stats, "updated"), _stat(stats, "deleted")) == (3, 1, 1)

    third = cp.sync(conn.id)  # nothing changed
    assert _stat(third.stats, "ignored") == 3 and _stat(third.stats, "created") + _stat(third.stats, "updated") == 0
    runs = cp.ai.list_vector_store_connector_file_syncs(COMP, vector_store_connector_id=conn.id).data.items
    assert [r.id for r in runs] == [third.id, second.id, first.id]


def test_binary_text_object_is_a_failed_file(cp: Cp) -> None:
    vs = cp.store("kb")
    cp.put("raw", "notes.txt", b"\x00\x01\x02binary")
    cp.put("raw", "ok.md", b"fine text")
    run = cp.sync(cp.connector(vs["id"], "raw").id)
    assert (_stat(run.stats, "created"), _stat(run.stats, "failed"), _stat(run.stats, "unsupported")) == (1, 1, 0)
    statuses = {x.file_path: x.status for x in
                cp.ai.list_vector_store_connector_file_sync_ingestion_logs(run.id).data.items}
    assert statuses == {"raw/notes.txt": "FAILED", "raw/ok.md": "COMPLETED"}


def test_sync_restores_a_file_deleted_behind_its_back(cp: Cp) -> None:
    vs = cp.store("kb")
    cp.put("docs", "a.md", b"alpha document")
    cp.put("docs", "b.md", b"bravo document")
    conn = cp.connector(vs["id"], "docs")
    cp.sync(conn.id)
    assert cp.dp.delete(f"/files/{cp.store_files(vs['id'])['a.md']['id']}").status_code == 200
    run = cp.sync(conn.id)
    assert (_stat(run.stats, "created"), _stat(run.stats, "ignored")) == (1, 1)
    assert sorted(cp.store_files(vs["id"])) == ["a.md", "b.md"] and cp.search(vs["id"], "alpha") == ["a.md"]


def test_oci_sdk_with_an_api_key_signer(make_emulator: Callable[..., EmulatorServer]) -> None:
    """Under --local the emulator takes an API key: the SDK accepts any requests auth as a signer."""
    srv = make_emulator()  # api_keys=["test-key"], no signing keys

    class BearerSigner(requests.auth.AuthBase):
        without_content_headers = property(lambda self: self)

        def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
            r.headers["Authorization"] = "Bearer test-key"
            return r

    # the SDK validates the config's key fields unless the signer is one of its own: placeholders do
    ai = GenerativeAiClient(CONFIG, signer=BearerSigner(), service_endpoint=srv.url, retry_strategy=NO_RETRY)
    p = ai.create_generative_ai_project(m.CreateGenerativeAiProjectDetails(compartment_id=COMP)).data
    assert ai.get_generative_ai_project(p.id).data.compartment_id == COMP


def test_connector_update_changes_what_the_next_sync_reads(cp: Cp) -> None:
    vs = cp.store("kb")
    cp.put("a", "one.md", b"alpha document")
    cp.put("b", "two.md", b"bravo document")
    conn = cp.connector(vs["id"], "a")
    cp.sync(conn.id)
    upd = cp.ai.update_vector_store_connector(conn.id, m.UpdateVectorStoreConnectorDetails(
        display_name="b-sync",
        configuration=m.OciObjectStorageConfiguration(
            storage_config_list=[m.ObjectStorageConfig(namespace=NS, bucket_name="b")]),
    ))
    assert upd.data.lifecycle_state == "UPDATING" and upd.headers["opc-work-request-id"]
    assert cp.wait(lambda: cp.ai.get_vector_store_connector(conn.id), "ACTIVE").display_name == "b-sync"
    run = cp.sync(conn.id)
    assert (_stat(run.stats, "created"), _stat(run.stats, "deleted")) == (1, 1)
    assert sorted(cp.store_files(vs["id"])) == ["two.md"]
    listed = cp.ai.list_vector_store_connectors(COMP, vector_store_id=vs["id"]).data.items
    assert [c.display_name for c in listed] == ["b-sync"]


def test_connector_and_sync_errors(make_emulator: Callable[..., EmulatorServer]) -> None:
    cp = Cp(make_emulator(signing_keys={KEY_ID: PUB}))
    with pytest.raises(ServiceError) as e:
        cp.connector("vs_emu_missing", "docs")
    assert e.value.status == 404 and "vs_emu_missing" in e.value.message
    vs = cp.store("kb")
    with pytest.raises(ServiceError) as e:
        cp.ai.create_vector_store_connector(m.CreateVectorStoreConnectorDetails(
            compartment_id=COMP, vector_store_id=vs["id"], display_name="x",
            configuration=m.OciObjectStorageConfiguration(storage_config_list=[])))
    assert e.value.status == 400 and "storageConfigList" in e.value.message

    conn = cp.connector(vs["id"], "no-such-bucket")
    run = cp.sync(conn.id)
    assert run.lifecycle_state == "FAILED" and "no-such-bucket" in run.lifecycle_details
    with pytest.raises(ServiceError) as e:
        cp.ai.cancel_vector_store_connector_file_sync(run.id)
    assert e.value.status == 409 and e.value.code == "IncorrectState"

    cp.ai.delete_vector_store_connector(conn.id)
    assert cp.wait(lambda: cp.ai.get_vector_store_connector(conn.id), "DELETED").id == conn.id
    with pytest.raises(ServiceError) as e:
        cp.ai.create_vector_store_connector_file_sync(
            m.CreateVectorStoreConnectorFileSyncDetails(vector_store_connector_id=conn.id))
    assert e.value.status == 404


def test_cancel_a_sync_and_one_sync_at_a_time(make_emulator: Callable[..., EmulatorServer]) -> None:
    srv = make_emulator(signing_keys={KEY_ID: PUB}, ingest_delay_s=600)  # ingestion never finishes by itself
    cp = Cp(srv)
    vs = cp.store("kb")
    cp.put("docs", "a.md", b"alpha")
    conn = cp.connector(vs["id"], "docs")
    run = cp.ai.create_vector_store_connector_file_sync(
        m.CreateVectorStoreConnectorFileSyncDetails(vector_store_connector_id=conn.id, display_name="manual")).data
    busy = cp.wait(lambda: cp.ai.get_vector_store_connector_file_sync(run.id), "IN_PROGRESS")
    assert _stat(busy.stats, "in_progress") == 1
    with pytest.raises(ServiceError) as e:
        cp.ai.create_vector_store_connector_file_sync(
            m.CreateVectorStoreConnectorFileSyncDetails(vector_store_connector_id=conn.id))
    assert e.value.status == 409 and e.value.code == "IncorrectState"
    with pytest.raises(ServiceError) as e:
        cp.ai.delete_vector_store_connector(conn.id)
    assert e.value.status == 409 and run.id in e.value.message

    cancel = cp.ai.cancel_vector_store_connector_file_sync(run.id)
    assert cancel.status == 202 and cancel.headers["opc-work-request-id"]
    done = cp.wait(lambda: cp.ai.get_vector_store_connector_file_sync(run.id), "CANCELED")
    assert done.display_name == "manual"
    assert [x.status for x in cp.ai.list_vector_store_connector_file_sync_ingestion_logs(run.id).data.items] == [
        "CANCELLED"]
    assert cp.store_files(vs["id"]) == {}

    srv.set_faults(Faults(ingest_delay_s=0.01))
    again = cp.sync(conn.id)  # a canceled run forgets what it had started: the next one ingests it
    assert again.lifecycle_state == "SUCCEEDED" and _stat(again.stats, "created") == 1
    assert sorted(cp.store_files(vs["id"])) == ["a.md"]


def test_a_sync_in_progress_finishes_after_a_restart(
    make_emulator: Callable[..., EmulatorServer], tmp_path: Any
) -> None:
    data_dir = tmp_path / "persist"
    srv = make_emulator(signing_keys={KEY_ID: PUB}, data_dir=data_dir, ingest_delay_s=2.0)
    cp = Cp(srv)
    vs = cp.store("kb")
    cp.put("docs", "a.md", b"alpha document")
    conn = cp.connector(vs["id"], "docs")
    run = cp.ai.create_vector_store_connector_file_sync(
        m.CreateVectorStoreConnectorFileSyncDetails(vector_store_connector_id=conn.id)).data
    cp.wait(lambda: cp.ai.get_vector_store_connector_file_sync(run.id), "IN_PROGRESS")
    srv.stop()
    again = Cp(make_emulator(signing_keys={KEY_ID: PUB}, data_dir=data_dir))
    done = again.wait(lambda: again.ai.get_vector_store_connector_file_sync(run.id), "SUCCEEDED", "FAILED")
    assert done.lifecycle_state == "SUCCEEDED" and _stat(done.stats, "created") == 1
    assert again.search(vs["id"], "alpha") == ["a.md"]
