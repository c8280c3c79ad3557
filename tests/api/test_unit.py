"""Pure-logic tests of the API client: no server (httpx.MockTransport + a fake clock)."""

from __future__ import annotations

import email.utils
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from ocigen_iac.api import (
    ApiError,
    AuthFailed,
    ClientOptions,
    GenAIClient,
    MalformedResponse,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    TransportFailed,
    models,
)
from ocigen_iac.api._transport import backoff_delay, parse_retry_after, redact_headers
from ocigen_iac.errors import OcigenError

from .helpers import INF, MGMT, FakeClock, mock_client, run, settings

KEY = "sk-unit-SECRET-1234567890"


def ok(body: dict, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def err(status: int, message: str = "nope", code: str = "bad", **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": message, "code": code}}, headers=headers)


# ---------------------------------------------------------------- backoff / Retry-After / redaction


def test_backoff_full_jitter_and_cap() -> None:
    assert backoff_delay(1, 0.5, 20, 0.999999) == pytest.approx(0.5, rel=1e-3)
    assert backoff_delay(3, 0.5, 20, 0.5) == pytest.approx(1.0)
    assert backoff_delay(10, 0.5, 20, 0.999999) == pytest.approx(20, rel=1e-3)
    assert backoff_delay(50, 0.5, 20, 0.0) == 0.0
    assert all(0 <= backoff_delay(n, 0.5, 20, r / 10) <= 20 for n in range(1, 30) for r in range(10))


def test_parse_retry_after() -> None:
    assert parse_retry_after({"retry-after-ms": "250"}) == pytest.approx(0.25)
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == pytest.approx(0.25)
    assert parse_retry_after({"Retry-After": "3"}) == 3.0
    assert parse_retry_after({"Retry-After": "1.5"}) == 1.5
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 7, usegmt=True)
    assert parse_retry_after({"Retry-After": date}, now) == pytest.approx(7, abs=1)
    past = email.utils.formatdate(now - 100, usegmt=True)
    assert parse_retry_after({"Retry-After": past}, now) == 0.0
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert parse_retry_after({"Retry-After": "-4"}) is None
    assert parse_retry_after({"retry-after-ms": "x", "Retry-After": "2"}) == 2.0
    assert parse_retry_after({}) is None


def test_redact_headers() -> None:
    out = redact_headers({"Authorization": f"Bearer {KEY}", "X-Api-Key": KEY, "OpenAI-Project": "p"})
    assert KEY not in json.dumps(out)
    assert out["Authorization"] == "Bearer ***"
    assert out["OpenAI-Project"] == "p"
    sig = redact_headers([("authorization", 'Signature keyId="a",signature="zzz"')])
    assert sig["authorization"] == "Signature ***"


# ---------------------------------------------------------------- endpoints and headers


def test_headers_per_endpoint() -> None:
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        if req.url.path.endswith("/vector_stores/vs_1"):
            return ok({"id": "vs_1", "object": "vector_store"})
        if "/vector_stores/" in req.url.path:
            return ok({"id": "file-1", "object": "vector_store.file"})
        return ok({"id": "file-1", "object": "file"})

    async def go() -> None:
        async with mock_client(handler, api_key=KEY) as c:
            await c.get_vector_store("vs_1")
            await c.get_file("file-1")
            await c.get_vector_store_file("vs_1", "file-1")

    run(go())
    mgmt, data, vsf = seen
    assert str(mgmt.url) == f"{MGMT}/vector_stores/vs_1"
    assert mgmt.headers["opc-compartment-id"] == "ocid1.compartment.oc1..c"
    assert mgmt.headers["CompartmentId"] == "ocid1.compartment.oc1..c"
    assert mgmt.headers["OpenAI-Beta"] == "assistants=v2"
    for r in seen:
        assert r.headers["OpenAI-Project"] == "ocid1.generativeaiproject.oc1..p"
        assert r.headers["User-Agent"].startswith("ocigen-iac/")
        assert r.headers["Authorization"] == f"Bearer {KEY}"
    assert str(data.url) == f"{INF}/files/file-1"
    assert "opc-compartment-id" not in data.headers and "OpenAI-Beta" not in data.headers
    assert str(vsf.url) == f"{INF}/vector_stores/vs_1/files/file-1"
    assert vsf.headers["OpenAI-Beta"] == "assistants=v2"
    assert "opc-compartment-id" not in vsf.headers


def test_legacy_compartment_header_optional_and_default_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return ok({"object": "list", "data": [], "has_more": False})

    async def go() -> None:
        async with mock_client(handler, send_legacy_compartment_header=False, inference_base="",
                               vector_store_base="", region="eu-frankfurt-2",
                               realm_domain="oraclecloud.eu") as c:
            assert c.inference_base == "https://inference.generativeai.eu-frankfurt-2.oci.oraclecloud.eu/openai/v1"
            assert c.vector_store_base == (
                "https://inference.generativeai.eu-frankfurt-2.oci.oraclecloud.eu/20231130/openai/v1")
            assert [v async for v in c.iter_vector_stores()] == []

    run(go())
    assert "CompartmentId" not in seen[0].headers
    assert seen[0].headers["opc-compartment-id"]


def test_api_key_from_env_and_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCI_GENAI_API_KEY", KEY)
    c = GenAIClient(settings(), ClientOptions())
    assert c.auth_description == "api_key from $OCI_GENAI_API_KEY"
    assert KEY not in repr(c) and KEY not in repr(c._auth)
    run(c.aclose())
    monkeypatch.delenv("OCI_GENAI_API_KEY")
    with pytest.raises(AuthFailed) as ei:
        GenAIClient(settings(), ClientOptions())
    assert "OCI_GENAI_API_KEY is not set" in str(ei.value)
    # --local runs against the emulator need no key
    run(GenAIClient(settings(local=True), ClientOptions()).aclose())


# ---------------------------------------------------------------- models / malformed responses


def test_models_tolerate_unknown_fields_and_values() -> None:
    vsf = models.VectorStoreFile.model_validate({
        "id": "file-1", "status": "quarantined", "last_error": {"code": "brand_new", "message": "m"},
        "surprise": {"x": 1}, "chunking_strategy": {"type": "other"},
    })
    assert vsf.status == "quarantined" and vsf.last_error and vsf.last_error.code == "brand_new"
    assert vsf.model_extra == {"surprise": {"x": 1}}
    for obj in ("vector_store.file_batch", "vector_store.files_batch"):
        b = models.FileBatch.model_validate({"id": "vsfb_1", "object": obj, "status": "whatever",
                                             "file_counts": {"completed": 2, "total": 2, "new": 1}})
        assert b.object in models.BATCH_OBJECT_NAMES and b.file_counts and b.file_counts.completed == 2
    c = models.Container.model_validate({"id": "cntr_1", "status": "hibernating"})
    assert c.status == "hibernating"


@pytest.mark.parametrize("body", [
    b'{"id": "file-1", "bytes": "lots"}',      # wrong type
    b'{"no_id": true}',                         # missing id
    b"<html>oops</html>",                       # not JSON
    b'["a"]',                                    # not an object
    b'{"error": {"message": "internal", "code": "x"}}',  # error body on a 200
    b"",                                        # empty
])
def test_malformed_responses_become_api_errors(body: bytes) -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    async def go() -> None:
        async with mock_client(handler) as c:
            await c.get_file("file-1")

    with pytest.raises(MalformedResponse) as ei:
        run(go())
    assert "malformed response" in str(ei.value)
    assert isinstance(ei.value, ApiError) and isinstance(ei.value, OcigenError)


def test_error_body_shapes() -> None:
    bodies = [
        (json.dumps({"error": {"message": "gone", "code": "file_not_found"}}), "file_not_found", "gone"),
        (json.dumps({"code": "NotAuthorizedOrNotFound", "message": "oci says no"}),
         "NotAuthorizedOrNotFound", "oci says no"),
        ("plain text failure", None, "plain text failure"),
    ]
    for raw, code, msg in bodies:
        def handler(req: httpx.Request, raw: str = raw) -> httpx.Response:
            return httpx.Response(400, content=raw.encode(), headers={"opc-request-id": "rid-1"})

        async def go() -> None:
            async with mock_client(handler) as c:
                await c.get_file("f")

        with pytest.raises(ApiError) as ei:
            run(go())
        e = ei.value
        assert (e.status, e.code, e.message, e.request_id) == (400, code, msg, "rid-1")
        assert e.method == "GET" and e.url == f"{INF}/files/f"
        assert "opc-request-id: rid-1" in str(e)


def test_not_found_and_management_hint() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        return err(404, "No such object", "not_found")

    async def go() -> None:
        async with mock_client(handler) as c:
            with pytest.raises(NotFound) as e1:
                await c.delete_file("file-x")
            assert "management endpoint" not in str(e1.value)
            with pytest.raises(NotFound) as e2:
                await c.get_vector_store("vs_x")
            assert f"is the vector-store management endpoint right? (currently {MGMT}" in str(e2.value)

    run(go())


def test_container_delete_empty_body_ok() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"")

    async def go() -> None:
        async with mock_client(handler) as c:
            await c.delete_container("cntr_1")
            await c.delete_container_file("cntr_1", "cfile_1")

    run(go())


# ---------------------------------------------------------------- pagination


def _pager(items: list[dict], seen: list[httpx.Request], *, has_more_field: bool = True):
    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        limit = int(req.url.params["limit"])
        after = req.url.params.get("after")
        ids = [i["id"] for i in items]
        start = 0 if after is None else ids.index(after) + 1
        page = items[start:start + min(limit, 3)]  # server caps pages at 3
        body: dict = {"object": "list", "data": page}
        if has_more_field:
            body["has_more"] = start + len(page) < len(items)
        return ok(body)
    return handler


def test_pagination_all_lists_multiple_pages() -> None:
    items = [{"id": f"x-{i:03d}"} for i in range(8)]
    seen: list[httpx.Request] = []

    async def go() -> None:
        async with mock_client(_pager(items, seen)) as c:
            got = [f.id async for f in c.iter_files(purpose="assistants")]
            assert got == [i["id"] for i in items]
            assert seen[0].url.params["limit"] == "10000" and seen[0].url.params["purpose"] == "assistants"
            assert seen[1].url.params["after"] == "x-002"
            for it in (c.iter_vector_stores(), c.iter_vector_store_files("vs_1", status="completed"),
                       c.iter_file_batch_files("vs_1", "vsfb_1"), c.iter_containers(name="n"),
                       c.iter_container_files("cntr_1")):
                seen.clear()
                assert [x.id async for x in it] == [i["id"] for i in items]
                assert len(seen) == 3 and seen[0].url.params["limit"] == "100"

    run(go())


def test_pagination_without_has_more_uses_full_pages() -> None:
    items = [{"id": f"x-{i}"} for i in range(5)]
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        after = req.url.params.get("after")
        start = 0 if after is None else [i["id"] for i in items].index(after) + 1
        return ok({"data": items[start:start + 100]})

    async def go() -> None:
        async with mock_client(handler) as c:
            assert len([x async for x in c.iter_containers()]) == 5

    run(go())
    assert len(seen) == 1


@pytest.mark.parametrize("pages", [
    # the cursor never advances
    lambda after: {"data": [{"id": "same"}], "has_more": True},
    # a cycle between two cursors
    lambda after: {"data": [{"id": "b" if after == "a" else "a"}], "has_more": True},
])
def test_pagination_never_loops_forever(pages) -> None:  # type: ignore[no-untyped-def]
    def handler(req: httpx.Request) -> httpx.Response:
        return ok(pages(req.url.params.get("after")))

    async def go() -> None:
        async with mock_client(handler) as c:
            async for _ in c.iter_files():
                pass

    with pytest.raises(MalformedResponse, match="does not advance"):
        run(go())


def test_page_views_list_the_same_objects_as_the_per_item_models() -> None:
    items = [{"id": f"file-{i}", "object": "vector_store.file", "status": "failed", "created_at": 1700000000 + i,
              "last_error": {"code": "server_error", "message": "boom", "extra": 1}, "attributes": {"k": "v"},
              "usage_bytes": 9} for i in range(8)]
    fields = ("id", "status", "last_error", "attributes", "created_at")
    seen: list[httpx.Request] = []

    async def go() -> None:
        async with mock_client(_pager(items, seen)) as c:
            per_item = [f.model_dump() async for f in c.iter_vector_store_files("vs_1", order="asc")]
            seen.clear()
            pages = [page async for page in c.iter_vector_store_file_pages("vs_1", fields, order="asc")]
            assert len(pages) == len(seen) == 3 and seen[1].url.params["after"] == "file-2"
            assert seen[0].url.params["order"] == "asc"
            listed = [item for page in pages for item in page]
            # the fields asked for, as the model reads them (a nested model becomes a plain dict)
            assert listed == [{k: d[k] for k in fields if k != "last_error"}
                              | {"last_error": {"code": "server_error", "message": "boom"}} for d in per_item]
            assert all(type(item["last_error"]) is dict for item in listed)
            files = [f async for page in c.iter_file_pages(("id", "bytes")) for f in page]
            assert files == [{"id": i["id"]} for i in items]  # a field the object lacks is not made up

    run(go())


@pytest.mark.parametrize("bad, problem", [
    ({"status": "completed"}, "0.id: Field required"),
    ({"id": "f", "created_at": "yesterday"}, "0.created_at"),
    ({"id": "f", "last_error": "boom"}, "0.last_error"),
    ("not an object", "0: Input should be a valid dictionary"),
])
def test_a_page_view_refuses_what_the_model_refuses(bad: object, problem: str) -> None:
    from ocigen_iac.api.models import listing_view, parse_page

    with pytest.raises(MalformedResponse):
        models.parse(models.VectorStoreFile, bad)  # the per-item path refuses it too
    view = listing_view(models.VectorStoreFile, ("id", "status", "last_error", "created_at"))
    with pytest.raises(MalformedResponse, match="list_vector_store_files") as ei:
        parse_page(view, [bad], what="list_vector_store_files")
    assert problem in str(ei.value)  # where in the page, and what is wrong


# ---------------------------------------------------------------- retries


def _sequence(responses: list, log: list[httpx.Request]):
    it = iter(responses)

    def handler(req: httpx.Request) -> httpx.Response:
        log.append(req)
        r = next(it)
        if isinstance(r, type) and issubclass(r, Exception):
            raise r("simulated", request=req)
        return r
    return handler


def test_429_honours_retry_after_as_lower_bound() -> None:
    log: list[httpx.Request] = []
    clock = FakeClock(rand=0.0)  # jitter would choose 0 s; Retry-After must win
    handler = _sequence([err(429, **{"Retry-After": "3"}), err(503, **{"retry-after-ms": "1500"}),
                         ok({"id": "file-1"})], log)

    async def go() -> None:
        async with mock_client(handler, clock=clock) as c:
            assert (await c.get_file("file-1")).id == "file-1"
            assert c.stats["retries"] == 2 and c.stats["attempts"] == 3
            assert c.stats["requests"] == {"GET /files/{id}": 1}

    run(go())
    assert clock.sleeps == [3.0, 1.5]


def test_retry_after_http_date() -> None:
    clock = FakeClock(rand=0.0)
    date = email.utils.formatdate(clock.wall + 4, usegmt=True)
    handler = _sequence([err(429, **{"Retry-After": date}), ok({"id": "f"})], [])

    async def go() -> None:
        async with mock_client(handler, clock=clock) as c:
            await c.get_file("f")

    run(go())
    assert clock.sleeps[0] == pytest.approx(4, abs=1)


def test_absurd_retry_after_fails_clearly() -> None:
    log: list[httpx.Request] = []
    handler = _sequence([err(429, "slow down", "rate_limited", **{"Retry-After": "3600"})], log)

    async def go() -> None:
        async with mock_client(handler) as c:
            await c.get_file("f")

    with pytest.raises(RateLimited) as ei:
        run(go())
    assert "asked to wait 3600 s" in str(ei.value) and len(log) == 1


def test_backoff_sequence_max_attempts_and_deadline() -> None:
    log: list[httpx.Request] = []
    clock = FakeClock(rand=0.999999)
    handler = _sequence([err(500)] * 10, log)
    opts = ClientOptions(max_attempts=5, backoff_base_s=0.5, backoff_cap_s=2.0)

    async def go() -> None:
        async with mock_client(handler, clock=clock, opts=opts) as c:
            await c.get_file("f")

    with pytest.raises(ApiError) as ei:
        run(go())
    assert ei.value.status == 500 and "gave up after 5 attempts" in str(ei.value)
    assert [round(s, 3) for s in clock.sleeps] == [0.5, 1.0, 2.0, 2.0]
    assert len(log) == 5

    log.clear()
    clock = FakeClock(rand=0.999999)
    handler = _sequence([err(500)] * 10, log)
    opts = ClientOptions(max_attempts=50, backoff_base_s=1, backoff_cap_s=100, deadline_s=10)
    with pytest.raises(ApiError, match="deadline"):
        run(go())
    assert sum(clock.sleeps) <= 10 and len(log) == 4  # waits 1, 2, 4; the next (8) would pass 10 s


def test_network_errors_retried_for_idempotent_calls() -> None:
    log: list[httpx.Request] = []
    clock = FakeClock()
    handler = _sequence([httpx.ConnectError, httpx.ReadTimeout, httpx.RemoteProtocolError,
                         ok({"id": "vs_1"})], log)

    async def go() -> None:
        async with mock_client(handler, clock=clock) as c:
            await c.delete_vector_store("vs_1")
            assert c.stats["retry_reasons"] == {"ConnectError": 1, "ReadTimeout": 1, "RemoteProtocolError": 1}

    run(go())
    assert len(log) == 4


def test_network_errors_exhausted_raise_transport_failed() -> None:
    handler = _sequence([httpx.ConnectError] * 3, [])

    async def go() -> None:
        async with mock_client(handler, opts=ClientOptions(max_attempts=3)) as c:
            await c.get_file("f")

    with pytest.raises(TransportFailed, match="gave up after 3 attempts"):
        run(go())


@pytest.mark.parametrize("failure", [err(500), err(502), err(504), httpx.ReadTimeout, httpx.ReadError,
                                     httpx.RemoteProtocolError, httpx.WriteError])
def test_create_with_unknown_outcome_is_never_retried(failure, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log: list[httpx.Request] = []
    src = tmp_path / "a.txt"
    src.write_text("hello")

    creates = {
        "create_vector_store": lambda c: c.create_vector_store({"name": "x"}),
        "create_container": lambda c: c.create_container({"name": "x"}),
        "create_file_batch": lambda c: c.create_file_batch("vs_1", ["file-1"]),
        "create_container_file": lambda c: c.create_container_file("cntr_1", file_id="file-1"),
        "create_file": lambda c: c.create_file(src, purpose="assistants", filename="a.txt"),
    }
    for op, call in creates.items():
        log.clear()
        handler = _sequence([failure, ok({"id": "should-not-happen"})], log)

        async def go(call=call, handler=handler) -> None:  # type: ignore[no-untyped-def]
            async with mock_client(handler) as c:
                await call(c)

        with pytest.raises(OutcomeUnknown) as ei:
            run(go())
        assert ei.value.operation == op and len(log) == 1, op
        assert "look it up" in str(ei.value)


@pytest.mark.parametrize("failure", [err(429, **{"retry-after-ms": "10"}), err(408), err(409),
                                     httpx.ConnectError, httpx.ConnectTimeout])
def test_create_retried_when_certainly_not_applied(failure) -> None:  # type: ignore[no-untyped-def]
    log: list[httpx.Request] = []
    handler = _sequence([failure, ok({"id": "cntr_1", "object": "container"})], log)

    async def go() -> None:
        async with mock_client(handler) as c:
            assert (await c.create_container({"name": "x"})).id == "cntr_1"

    run(go())
    assert len(log) == 2


def test_idempotent_posts_retry_on_5xx() -> None:
    log: list[httpx.Request] = []
    handler = _sequence([err(500), httpx.ReadError, ok({"id": "file-1", "object": "vector_store.file"}),
                         err(503), ok({"id": "vs_1"})], log)

    async def go() -> None:
        async with mock_client(handler) as c:
            await c.attach_file("vs_1", "file-1", attributes={"a": 1})
            await c.update_vector_store("vs_1", {"name": "n"})

    run(go())
    assert len(log) == 5
    assert json.loads(log[0].content) == {"file_id": "file-1", "attributes": {"a": 1}}


def test_x_should_retry_false_stops() -> None:
    log: list[httpx.Request] = []
    handler = _sequence([err(503, **{"x-should-retry": "false"})], log)

    async def go() -> None:
        async with mock_client(handler) as c:
            await c.get_file("f")

    with pytest.raises(ApiError):
        run(go())
    assert len(log) == 1


def test_rps_limit_spaces_attempts() -> None:
    clock = FakeClock()

    def handler(req: httpx.Request) -> httpx.Response:
        return ok({"id": "f"})

    async def go() -> None:
        async with mock_client(handler, clock=clock, opts=ClientOptions(rps=4)) as c:
            for _ in range(5):
                await c.get_file("f")

    run(go())
    assert sum(clock.sleeps) == pytest.approx(1.0)  # 5 requests at 4/s: 4 gaps of 0.25 s


# ---------------------------------------------------------------- auth errors and redaction


def test_auth_failure_message_names_kind_and_never_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCI_GENAI_API_KEY", KEY)
    lines: list[str] = []

    def handler(req: httpx.Request) -> httpx.Response:
        # a careless server echoing the credential back
        return err(401, f"Incorrect API key provided: {KEY}", "invalid_api_key")

    async def go() -> None:
        async with mock_client(handler, api_key=None, opts=ClientOptions(debug_log=lines.append)) as c:
            await c.get_file("f")

    with pytest.raises(AuthFailed) as ei:
        run(go())
    text = str(ei.value) + repr(ei.value) + "\n".join(lines)
    assert "authentication failed using api_key from $OCI_GENAI_API_KEY" in str(ei.value)
    assert KEY not in text
    assert lines and "GET http://svc.test/openai/v1/files/f -> 401" in lines[0]


def test_debug_log_contents() -> None:
    lines: list[str] = []
    handler = _sequence([err(500), ok({"id": "f"})], [])

    async def go() -> None:
        async with mock_client(handler, api_key=KEY, opts=ClientOptions(debug_log=lines.append)) as c:
            await c.get_file("f")

    run(go())
    assert "-> 500 in" in lines[0] and "(attempt 1/6)" in lines[0]
    assert "retry 1/5 in" in lines[1]
    assert "-> 200 in" in lines[2] and "(attempt 2/6)" in lines[2]
    assert all(KEY not in line for line in lines)


# ---------------------------------------------------------------- import hygiene


def test_importing_api_does_not_import_oci() -> None:
    code = (
        "import sys, ocigen_iac.api, ocigen_iac.api.models\n"
        "bad = sorted(m for m in sys.modules if m == 'oci' or m.startswith(('oci.', 'oci_genai_auth')))\n"
        "assert not bad, bad\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)
