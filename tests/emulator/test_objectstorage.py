from __future__ import annotations

import httpx
import pytest

oci = pytest.importorskip("oci")
from oci.exceptions import ServiceError  # noqa: E402
from oci.object_storage import ObjectStorageClient  # noqa: E402
from oci.signer import Signer  # noqa: E402

from .test_auth import KEY_ID, PRIV, PUB  # noqa: E402


@pytest.fixture
def os_client(make_emulator):
    srv = make_emulator(api_keys=[], signing_keys={KEY_ID: PUB})
    signer = Signer(
        "ocid1.tenancy.oc1..t",
        "ocid1.user.oc1..u",
        "aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99",
        None,
        private_key_content=PRIV,
    )
    config = {
        "region": "us-chicago-1",
        "tenancy": "ocid1.tenancy.oc1..t",
        "user": "ocid1.user.oc1..u",
        "fingerprint": "aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99",
        "key_file": "unused.pem",
    }
    client = ObjectStorageClient(
        config, signer=signer, service_endpoint=srv.url, retry_strategy=oci.retry.NoneRetryStrategy()
    )
    return srv, client


def test_object_storage_with_real_sdk(os_client) -> None:
    _srv, c = os_client
    ns = c.get_namespace().data
    assert ns == "emulatorns"
    put = c.put_object(ns, "state", "env/dev.tfstate", b'{"serial": 1}', content_type="application/json")
    etag = put.headers["etag"]
    assert put.status == 200 and etag and put.headers["opc-request-id"]
    got = c.get_object(ns, "state", "env/dev.tfstate")
    assert got.data.content == b'{"serial": 1}' and got.headers["etag"] == etag
    head = c.head_object(ns, "state", "env/dev.tfstate")
    assert head.headers["etag"] == etag and int(head.headers["content-length"]) == 13

    # conditional create of a lock object
    lock = c.put_object(ns, "state", "env/dev.lock", b"holder", if_none_match="*")
    with pytest.raises(ServiceError) as exc:
        c.put_object(ns, "state", "env/dev.lock", b"other", if_none_match="*")
    assert exc.value.status == 412 and exc.value.code == "IfNoneMatchFailed"

    # conditional write with the etag read: the first wins, a stale etag fails and changes nothing
    put2 = c.put_object(ns, "state", "env/dev.tfstate", b'{"serial": 2}', if_match=etag)
    assert put2.headers["etag"] != etag
    with pytest.raises(ServiceError) as exc:
        c.put_object(ns, "state", "env/dev.tfstate", b'{"serial": 3}', if_match=etag)
    assert exc.value.status == 412 and exc.value.code == "IfMatchFailed"
    assert c.get_object(ns, "state", "env/dev.tfstate").data.content == b'{"serial": 2}'

    # conditional delete of the lock
    with pytest.raises(ServiceError) as exc:
        c.delete_object(ns, "state", "env/dev.lock", if_match="wrong")
    assert exc.value.status == 412
    assert c.delete_object(ns, "state", "env/dev.lock", if_match=lock.headers["etag"]).status == 204
    with pytest.raises(ServiceError) as exc:
        c.get_object(ns, "state", "env/dev.lock")
    assert exc.value.status == 404 and exc.value.code == "ObjectNotFound"
    with pytest.raises(ServiceError) as exc:
        c.get_object(ns, "nobucket", "x")
    assert exc.value.code == "BucketNotFound"

    listed = c.list_objects(ns, "state", prefix="env/").data
    assert [o.name for o in listed.objects] == ["env/dev.tfstate"]
    c.create_bucket(ns, oci.object_storage.models.CreateBucketDetails(name="made", compartment_id="c"))
    with pytest.raises(ServiceError) as exc:
        c.create_bucket(ns, oci.object_storage.models.CreateBucketDetails(name="made", compartment_id="c"))
    assert exc.value.status == 409
    assert c.get_bucket(ns, "made").data.name == "made"


def test_object_storage_rejects_unsigned(os_client) -> None:
    srv, _ = os_client
    r = httpx.get(f"{srv.url}/n/emulatorns/b/state/o/x")
    assert r.status_code == 401 and set(r.json()) == {"code", "message"}
    assert r.headers["opc-request-id"]
