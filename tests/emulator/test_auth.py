from __future__ import annotations

import email.utils
import time
from collections.abc import Generator
from typing import Any

import httpx
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

oci = pytest.importorskip("oci")
from oci.auth.signers import SecurityTokenSigner  # noqa: E402
from oci.signer import Signer  # noqa: E402

KEY_ID = "ocid1.tenancy.oc1..t/ocid1.user.oc1..u/aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99"
TOKEN = "session-token-abc"


def _key() -> tuple[str, str]:
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    priv = k.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    pub = (
        k.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return priv, pub


PRIV, PUB = _key()
PRIV2, PUB2 = _key()


class OciAuth(httpx.Auth):
    """Signs with an oci signer via a requests.PreparedRequest, the way oci-genai-auth does."""

    requires_request_body = True

    def __init__(self, signer: Any, tamper: bool = False, date: str | None = None) -> None:
        self.signer, self.tamper, self.date = signer, tamper, date

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("authorization",)}
        if self.date:
            headers["date"] = self.date
        prepared = requests.Request(request.method, str(request.url), headers=headers, data=request.content).prepare()
        self.signer.do_request_sign(prepared)
        for k, v in prepared.headers.items():
            request.headers[k] = v
        if self.tamper:
            request.stream = httpx.ByteStream(request.content.replace(b"kb", b"KB"))
            request._content = request.content.replace(b"kb", b"KB")
        yield request


@pytest.fixture
def signed_emulator(make_emulator):
    return make_emulator(api_keys=[], signing_keys={KEY_ID: PUB, f"ST${TOKEN}": PUB2})


def _user_signer(priv: str = PRIV) -> Signer:
    return Signer(
        "ocid1.tenancy.oc1..t",
        "ocid1.user.oc1..u",
        "aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99",
        None,
        private_key_content=priv,
    )


def _client(srv, auth: httpx.Auth, base: str | None = None) -> httpx.Client:
    return httpx.Client(
        base_url=base or srv.inference_base,
        auth=auth,
        timeout=30,
        headers={"OpenAI-Project": "p", "opc-compartment-id": "c"},
    )


def test_valid_signatures(signed_emulator) -> None:
    with _client(signed_emulator, OciAuth(_user_signer()), signed_emulator.management_base) as cp:
        r = cp.post("/vector_stores", json={"name": "kb"})
        assert r.status_code == 200, r.text
        assert cp.get("/vector_stores", params={"limit": 5}).status_code == 200
    with _client(signed_emulator, OciAuth(_user_signer())) as c:
        r = c.post("/files", files={"file": ("a.txt", b"hello signed world")}, data={"purpose": "assistants"})
        assert r.status_code == 200, r.text
        assert c.delete(f"/files/{r.json()['id']}").status_code == 200
    st = SecurityTokenSigner(TOKEN, serialization.load_pem_private_key(PRIV2.encode(), None))
    with _client(signed_emulator, OciAuth(st), signed_emulator.management_base) as cp:
        assert cp.post("/vector_stores", json={"name": "st"}).status_code == 200
    with _client(signed_emulator, OciAuth(st)) as c:
        assert c.get("/files").status_code == 200


def test_rejections(signed_emulator) -> None:
    with _client(signed_emulator, OciAuth(_user_signer(), tamper=True), signed_emulator.management_base) as c:
        r = c.post("/vector_stores", json={"name": "kb"})
        assert r.status_code == 401 and "x-content-sha256" in r.json()["error"]["message"]
    with _client(signed_emulator, OciAuth(_user_signer(PRIV2))) as c:
        r = c.get("/files")
        assert r.status_code == 401 and "does not verify for keyId" in r.json()["error"]["message"]
    stale = email.utils.formatdate(time.time() - 3600, usegmt=True)
    with _client(signed_emulator, OciAuth(_user_signer(), date=stale)) as c:
        r = c.get("/files")
        assert r.status_code == 401 and "clock" in r.json()["error"]["message"]
    other = Signer("t", "u", "ff", None, private_key_content=PRIV)
    with _client(signed_emulator, OciAuth(other)) as c:
        r = c.get("/files")
        assert r.status_code == 401 and "Unknown keyId" in r.json()["error"]["message"]
    with httpx.Client(base_url=signed_emulator.inference_base, headers={"OpenAI-Project": "p"}) as c:
        assert c.get("/files").status_code == 401
        assert c.get("/files", headers={"Authorization": "Bearer whatever"}).status_code == 401


def test_tampered_streamed_upload_is_deleted(signed_emulator) -> None:
    auth = OciAuth(_user_signer())
    with _client(signed_emulator, auth) as c:
        req = c.build_request(
            "POST", "/files", files={"file": ("a.txt", b"kb content")}, data={"purpose": "assistants"}
        )
        req.read()
        flow = auth.auth_flow(req)
        signed = next(flow)
        body = signed.content.replace(b"kb content", b"KB content")
        signed.stream = httpx.ByteStream(body)
        signed._content = body
        r = c.send(signed, auth=None)  # type: ignore[arg-type]
        assert r.status_code == 401
    objs = httpx.get(f"{signed_emulator.url}/_admin/objects").json()
    assert objs["files"] == []
    assert not list((signed_emulator.config.data_dir / "blobs" / "tmp").iterdir())
    assert not list((signed_emulator.config.data_dir / "blobs" / "files").iterdir())


def test_api_key(emulator) -> None:
    h = {"OpenAI-Project": "p"}
    assert (
        httpx.get(f"{emulator.inference_base}/files", headers={**h, "Authorization": "Bearer test-key"}).status_code
        == 200
    )
    r = httpx.get(f"{emulator.inference_base}/files", headers={**h, "Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    assert httpx.get(f"{emulator.inference_base}/files", headers=h).status_code == 401
