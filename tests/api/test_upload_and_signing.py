"""Streaming multipart bodies and OCI request signing, checked without a server."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ocigen_iac.api import AuthFailed, ClientOptions, UploadChanged
from ocigen_iac.api._upload import MultipartFile
from ocigen_iac.settings import AuthSettings

from .helpers import mock_client, run
from .iam_keys import write_iam_files


def _parts(body: bytes, boundary: str) -> list[tuple[bytes, bytes]]:
    """(Content-Disposition header, data) per part, parsed by python-multipart (the emulator's parser)."""
    from python_multipart.multipart import MultipartParser

    parts: list[tuple[bytes, bytes]] = []
    cur: dict[str, bytes] = {}
    hname = bytearray()
    hval = bytearray()

    def on_part_begin() -> None:
        cur.clear()
        cur["data"] = b""

    def on_header_field(data: bytes, start: int, end: int) -> None:
        hname.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        hval.extend(data[start:end])

    def on_header_end() -> None:
        cur[hname.decode().lower()] = bytes(hval)
        hname.clear()
        hval.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        cur["data"] += data[start:end]

    def on_part_end() -> None:
        parts.append((cur["content-disposition"], cur["data"]))

    p = MultipartParser(boundary, {"on_part_begin": on_part_begin, "on_header_field": on_header_field,
                                   "on_header_value": on_header_value, "on_header_end": on_header_end,
                                   "on_part_data": on_part_data, "on_part_end": on_part_end})
    for i in range(0, len(body), 7777):  # feed in odd-sized chunks
        p.write(body[i:i + 7777])
    p.finalize()
    return parts


def test_multipart_body_is_well_formed_and_sized(tmp_path: Path) -> None:
    src = tmp_path / "data.bin"
    payload = bytes(range(256)) * 5000  # 1.28 MB, crosses chunk boundaries
    src.write_bytes(payload)
    seen: list[int] = []
    up = MultipartFile(src, filename='we"ird\nname.bin', fields=[("purpose", "assistants")],
                       chunk_size=64 * 1024, progress=seen.append)

    async def collect() -> bytes:
        return b"".join([c async for c in up.stream()])

    body = run(collect())
    assert len(body) == up.length
    assert b"".join(up.iter_sync()) == body
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert up.sha256_b64_sync() == digest
    parts = _parts(body, up.boundary)
    assert parts[0] == (b'form-data; name="purpose"', b"assistants")
    assert parts[1][0] == b'form-data; name="file"; filename="we%22ird%0Aname.bin"'
    assert parts[1][1] == payload and len(parts) == 2
    assert seen[-1] == len(payload) and seen == sorted(seen)
    assert b'filename="we%22ird%0Aname.bin"' in body


def test_upload_of_changed_file_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text("one")
    up = MultipartFile(src, filename="a.txt")
    src.write_text("two plus")

    async def collect() -> bytes:
        return b"".join([c async for c in up.stream()])

    with pytest.raises(UploadChanged):
        run(collect())


def _verify_signature(req: httpx.Request, public_pem: str, key_id: str, body: bytes | None) -> None:
    authz = req.headers["authorization"]
    params = dict(re.findall(r'(\w+)="([^"]*)"', authz))
    assert params["keyId"] == key_id
    signed = params["headers"].split()
    lines = []
    for h in signed:
        if h == "(request-target)":
            lines.append(f"(request-target): {req.method.lower()} {req.url.raw_path.decode()}")
        else:
            lines.append(f"{h}: {req.headers[h]}")
    key = load_pem_public_key(public_pem.encode())
    key.verify(base64.b64decode(params["signature"]), "\n".join(lines).encode(),  # type: ignore[union-attr]
               padding.PKCS1v15(), hashes.SHA256())  # type: ignore[call-arg]
    if body is not None:
        assert {"x-content-sha256", "content-length", "content-type"} <= set(signed)
        assert req.headers["x-content-sha256"] == base64.b64encode(hashlib.sha256(body).digest()).decode()
        assert int(req.headers["content-length"]) == len(body)


@pytest.mark.parametrize("kind,profile", [("user_principal", "DEFAULT"), ("session", "SESSION")])
def test_iam_signing_covers_streamed_upload_without_buffering(
        tmp_path: Path, kind: str, profile: str) -> None:
    iam = write_iam_files(tmp_path / "oci")
    src = tmp_path / "doc.txt"
    src.write_bytes(b"x" * 300_000)
    captured: list[tuple[httpx.Request, bytes]] = []

    def handler(req: httpx.Request) -> httpx.Response:
        body = req.read()
        captured.append((req, body))
        return httpx.Response(200, json={"id": "file-1", "object": "file"})

    async def go() -> None:
        async with mock_client(handler, api_key=None, auth=AuthSettings(
                type=kind, profile=profile, config_file=str(iam.config_file))) as c:  # type: ignore[arg-type]
            await c.create_file(src, purpose="assistants", filename="doc.txt")
            await c.get_file("file-1")
            await c.create_vector_store({"name": "n"})
            await c.cancel_file_batch("vs_1", "vsfb_1")  # a POST with an empty body
            assert c.auth_description.startswith(f"{kind} profile {profile}")

    run(go())
    key_id = iam.user_key_id if kind == "user_principal" else iam.session_key_id
    up_req, up_body = captured[0]
    assert up_req.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert "transfer-encoding" not in up_req.headers
    _verify_signature(up_req, iam.public_pem, key_id, up_body)
    _verify_signature(captured[1][0], iam.public_pem, key_id, None)
    _verify_signature(captured[2][0], iam.public_pem, key_id, captured[2][1])
    _verify_signature(captured[3][0], iam.public_pem, key_id, b"")
    assert "Bearer" not in "".join(r.headers["authorization"] for r, _ in captured)


def test_iam_missing_profile_is_a_readable_auth_error(tmp_path: Path) -> None:
    iam = write_iam_files(tmp_path / "oci")

    def handler(req: httpx.Request) -> httpx.Response:  # pragma: no cover - never reached
        return httpx.Response(200, json={})

    async def go(profile: str, cfg: str) -> None:
        async with mock_client(handler, api_key=None, auth=AuthSettings(
                type="user_principal", profile=profile, config_file=cfg)) as c:
            await c.get_file("f")

    with pytest.raises(AuthFailed) as ei:
        run(go("NOPE", str(iam.config_file)))
    assert "user_principal profile NOPE" in str(ei.value)
    with pytest.raises(AuthFailed, match="cannot load credentials"):
        run(go("DEFAULT", str(tmp_path / "missing-config")))


def test_iam_401_reloads_credentials_once(tmp_path: Path) -> None:
    iam = write_iam_files(tmp_path / "oci")
    n = {"calls": 0}

    def handler(req: httpx.Request) -> httpx.Response:
        n["calls"] += 1
        return httpx.Response(401, json={"code": "NotAuthenticated", "message": "bad signature"})

    async def go() -> None:
        async with mock_client(handler, api_key=None, opts=ClientOptions(), auth=AuthSettings(
                type="session", profile="SESSION", config_file=str(iam.config_file))) as c:
            await c.get_file("f")

    with pytest.raises(AuthFailed) as ei:
        run(go())
    assert n["calls"] == 2
    assert "authentication failed using session profile SESSION" in str(ei.value)
    assert iam.token not in str(ei.value)
