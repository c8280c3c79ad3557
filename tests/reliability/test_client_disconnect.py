"""A client killed mid-request (the crash suite does this 50 times) is a dropped request for the
emulator: no 'unhandled error' traceback in its log, and it keeps serving."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import httpx
import pytest

from tests.engine.harness import PROJECT
from tests.reliability.support import SECRET_KEY, start_emulator, wait_until


def test_client_that_disconnects_mid_body_is_not_an_unhandled_error(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    server = start_emulator(tmp_path / "emu")
    try:
        caplog.set_level(logging.ERROR)
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        head = (f"POST /openai/v1/containers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {SECRET_KEY}\r\n"
                f"OpenAI-Project: {PROJECT}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n")
        sock.sendall(head.encode() + b'{"name": "half')
        sock.close()  # gone before the body is complete
        assert wait_until(lambda: httpx.get(f"{server.url}/_admin/counters").json()["total"] >= 1, timeout_s=10)
        r = httpx.get(f"{server.inference_base}/containers",
                      headers={"Authorization": f"Bearer {SECRET_KEY}", "OpenAI-Project": PROJECT})
        assert r.status_code == 200
        assert r.json()["data"] == []  # the half-sent create did not happen
    finally:
        server.stop()
    assert not [rec for rec in caplog.records if "unhandled error" in rec.getMessage()]
