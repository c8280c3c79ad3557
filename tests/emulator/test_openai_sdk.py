"""The official openai SDK, configured as OCI's docs configure it (a data-plane client and a
management client for vector-store CRUD), used the way OCI makes a user use it: wait for files to
be processed and for a new store to be ready before touching it from the data plane."""

from __future__ import annotations

import io
import re
import time

import pytest

openai = pytest.importorskip("openai")

PROJECT = "ocid1.generativeaiproject.oc1..sdk"
COMPARTMENT = "ocid1.compartment.oc1..sdk"


def _wait_ready(cp, dp, vs_id: str) -> None:
    """Poll the store to `completed` (as Oracle's sample does), then until the data plane sees it."""
    deadline = time.monotonic() + 15
    while cp.vector_stores.retrieve(vs_id).status != "completed":
        assert time.monotonic() < deadline, "store never became ready"
        time.sleep(0.05)
    while True:
        try:
            dp.vector_stores.files.list(vector_store_id=vs_id, limit=1)
            return
        except openai.NotFoundError:
            assert time.monotonic() < deadline, "store never became visible"
            time.sleep(0.05)


def test_full_scenario(emulator) -> None:
    dp = openai.OpenAI(base_url=emulator.inference_base, api_key="test-key", project=PROJECT, max_retries=0)
    cp = openai.OpenAI(
        base_url=emulator.management_base,
        api_key="test-key",
        project=PROJECT,
        max_retries=0,
        default_headers={"opc-compartment-id": COMPARTMENT},
    )
    hr = dp.files.create(file=("hr.md", io.BytesIO(b"Vacation policy: 25 days per year.")), purpose="assistants")
    it = dp.files.create(
        file=("it.md", io.BytesIO(b"Password policy: rotate every 90 days.")),
        purpose="assistants",
        expires_after={"anchor": "created_at", "seconds": 7200},
    )
    assert it.expires_at == it.created_at + 7200
    assert {f.id for f in dp.files.list()} >= {hr.id, it.id}
    for f in (hr, it):
        assert dp.files.wait_for_processing(f.id, poll_interval=0.05, max_wait_seconds=15).status == "processed"

    vs = cp.vector_stores.create(
        name="kb", metadata={"team": "support"}, expires_after={"anchor": "last_active_at", "days": 30}
    )
    assert vs.id.startswith("vs_emu_") and vs.metadata["team"] == "support" and vs.status == "in_progress"
    with pytest.raises(openai.NotFoundError):
        dp.vector_stores.files.list(vector_store_id=vs.id)
    _wait_ready(cp, dp, vs.id)
    batch = dp.vector_stores.file_batches.create(
        vector_store_id=vs.id,
        files=[{"file_id": hr.id, "attributes": {"dept": "hr"}}, {"file_id": it.id, "attributes": {"dept": "it"}}],
    )
    assert batch.object == "vector_store.files_batch"
    batch = dp.vector_stores.file_batches.poll(batch.id, vector_store_id=vs.id, poll_interval_ms=20)
    assert batch.file_counts.completed == 2
    listed = dp.vector_stores.file_batches.list_files(batch.id, vector_store_id=vs.id)
    assert {f.id for f in listed} == {hr.id, it.id}

    res = dp.vector_stores.search(vs.id, query="policy days", filters={"type": "eq", "key": "dept", "value": "it"})
    assert [r.file_id for r in res] == [it.id] and res.data[0].content[0].text.startswith("Password")

    vf = dp.vector_stores.files.update(hr.id, vector_store_id=vs.id, attributes={"dept": "people"})
    assert vf.attributes == {"dept": "people"}
    vs = cp.vector_stores.update(vs.id, name="kb2", metadata={**(vs.metadata or {}), "team": "ops"})
    assert vs.name == "kb2" and vs.metadata is not None and vs.metadata["team"] == "ops"
    assert vs.metadata["oci_embedding_model"] == "cohere.embed-v4.0"  # kept because it was sent back
    assert [s.id for s in cp.vector_stores.list(limit=20, order="desc")] == [vs.id]
    single = dp.vector_stores.files.create_and_poll(file_id=hr.id, vector_store_id=vs.id, poll_interval_ms=20)
    assert single.status == "completed"
    assert {f.id for f in dp.vector_stores.files.list(vector_store_id=vs.id, filter="completed")} == {hr.id, it.id}

    ct = dp.containers.create(
        name="sandbox", file_ids=[hr.id], memory_limit="4g", expires_after={"anchor": "last_active_at", "minutes": 30}
    )
    assert ct.status == "running" and ct.expires_after is not None and ct.expires_after.minutes == 20
    cf = dp.containers.files.create(ct.id, file=("data.csv", io.BytesIO(b"a,b\n1,2\n")))
    assert re.fullmatch(r"/mnt/data/[0-9a-f]{8}-data\.csv", cf.path)
    assert dp.containers.files.content.retrieve(cf.id, container_id=ct.id).read() == b"a,b\n1,2\n"
    assert len(list(dp.containers.files.list(ct.id))) == 2
    assert [c.id for c in dp.containers.list(name="sandbox")] == [ct.id]

    dp.containers.files.delete(cf.id, container_id=ct.id)
    dp.containers.delete(ct.id)
    assert dp.vector_stores.files.delete(it.id, vector_store_id=vs.id).deleted
    assert cp.vector_stores.delete(vs.id).deleted
    assert dp.files.delete(hr.id).deleted and dp.files.delete(it.id).deleted
    with pytest.raises(openai.NotFoundError):
        dp.files.retrieve(hr.id)


def test_sdk_sees_errors_and_retry_after(emulator) -> None:
    from ocigen_iac.emulator import Faults

    dp = openai.OpenAI(base_url=emulator.inference_base, api_key="test-key", project=PROJECT, max_retries=0)
    with pytest.raises(openai.BadRequestError) as exc:
        dp.vector_stores.search("vs_emu_x", query="q", max_num_results=99)
    assert exc.value.body["param"] == "max_num_results"  # type: ignore[index]
    emulator.set_faults(Faults(rate_429=1.0, retry_after_s=0))
    with pytest.raises(openai.RateLimitError):
        dp.files.list()
    bad = openai.OpenAI(base_url=emulator.inference_base, api_key="nope", project=PROJECT, max_retries=0)
    emulator.set_faults(Faults())
    with pytest.raises(openai.AuthenticationError):
        bad.files.list()
