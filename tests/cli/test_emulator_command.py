"""`ocigen-iac emulator`: says where it listens, and --variant changes how it behaves."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest


def start(tmp_path: Path, *flags: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "ocigen_iac.cli", "emulator", "--port", "0",
                             "--data", str(tmp_path / "emu"), "--api-key", "k", *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    if not sel.select(timeout=30):  # the banner is the first line, printed once the socket listens
        proc.kill()
        pytest.fail("the emulator printed nothing within 30 s")
    line = proc.stdout.readline()
    match = re.match(r"Emulator listening on (http://127\.0\.0\.1:\d+)  data plane: \1/openai/v1  "
                     r"management: \1/20231130/openai/v1$", line.strip())
    assert match, line
    return proc, match.group(1)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.mark.parametrize(("flags", "status"), [((), 404), (("--variant", "missing-400"), 400)])
def test_the_banner_and_the_variant(tmp_path: Path, flags: tuple[str, ...], status: int) -> None:
    proc, url = start(tmp_path, *flags)
    try:
        headers = {"Authorization": "Bearer k", "OpenAI-Project": "ocid1.generativeaiproject.oc1..p"}
        r = httpx.get(f"{url}/openai/v1/files/file-nope", headers=headers, timeout=10)
        assert r.status_code == status
    finally:
        stop(proc)


def test_an_unknown_variant_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "ocigen_iac.cli", "emulator", "--variant", "missing400"],
                       capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert r.returncode == 1
    assert "did you mean 'missing-400'?" in r.stderr and "default, file-ids-batches" in r.stderr
