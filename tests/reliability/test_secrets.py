"""Secrets: the API key and a private key's PEM never appear in stdout, stderr, --debug logs,
state, journal, backups or plan files; those files are mode 0600; TLS verification is on for
every endpoint (the emulator on loopback is plain http, so there is nothing to verify there)."""

from __future__ import annotations

import ssl
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocigen_iac.emulator import Faults
from tests.api.iam_keys import write_iam_files
from tests.reliability.support import ISSUE_FAULTS, SECRET_KEY, Ledger, RelProject, start_emulator

PRIVATE_FILES = ("default.json", "default.json.backup", "default.journal", "default.lock.json")


@pytest.fixture
def project(tmp_path: Path, ledger: Ledger) -> Iterator[RelProject]:
    server = start_emulator(tmp_path / "emu", seed=3)
    try:
        yield RelProject(tmp_path / "proj", server, ledger)
    finally:
        server.stop()


def _assert_private(path: Path) -> None:
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, f"{path} is {oct(stat.S_IMODE(path.stat().st_mode))}"


def test_api_key_never_appears_in_output_debug_logs_state_or_plans_even_under_faults(project: RelProject) -> None:
    project.set_faults(ISSUE_FAULTS)
    try:
        for _ in range(3):
            r = project.run("apply", "manifests", "--auto-approve", "--debug")
            assert "-> 200" in r.stderr  # the debug log really was on
            if r.exit_code == 0:
                break
        plan = project.run("plan", "manifests", "-out", "saved.plan", "--debug")
        assert plan.exit_code == 0
        project.run("plan", "manifests", "--json", "--debug")
        project.run("output", "--json")
        project.run("state", "list")
        project.run("state", "show", "vector_store.support-kb")
    finally:
        project.set_faults(Faults())
    project.ledger.scan_files(project.root)
    assert project.ledger.leaks == []
    assert project.ledger.runs >= 6
    _assert_private(project.root / "saved.plan")
    _assert_private(project.state_dir / "default.json")
    backup = project.state_dir / "default.json.backup"
    if backup.exists():
        _assert_private(backup)


def test_a_wrong_api_key_is_not_echoed_back(project: RelProject) -> None:
    import os

    from typer.testing import CliRunner

    from tests.engine.harness import KEY_ENV

    wrong = "sk-wrong-LEAKCHECK-31f5e2a9c8"
    project.ledger.secrets.append(wrong)

    from ocigen_iac.cli import app

    cwd = os.getcwd()
    os.chdir(project.root)
    try:
        r = CliRunner().invoke(app, ["plan", "manifests", "--debug"], env={KEY_ENV: wrong})
    finally:
        os.chdir(cwd)
    project.ledger.scan("plan with a wrong key", r.stdout + r.stderr)
    assert r.exit_code == 1
    assert "authentication failed" in r.stderr
    assert wrong not in r.stdout + r.stderr


def test_private_key_pem_never_appears_when_signing_requests(tmp_path: Path, ledger: Ledger) -> None:
    iam = write_iam_files(tmp_path / "oci")
    pem = (tmp_path / "oci" / "oci_api_key.pem").read_text()
    body_lines = [line for line in pem.splitlines() if line and "PRIVATE KEY" not in line]
    ledger.secrets += [*body_lines[1:4], "PRIVATE KEY-----"]
    server = start_emulator(tmp_path / "emu", signing_keys={iam.user_key_id: iam.public_pem},
                            faults=Faults(rate_5xx=0.1, rate_429=0.05, retry_after_s=0.2))
    try:
        project = RelProject(tmp_path / "proj", server, ledger)
        cfg = project.root / "ocigen.yaml"
        cfg.write_text(cfg.read_text().replace(
            "auth: {type: api_key, api_key_env: OCIGEN_TEST_API_KEY}",
            f"auth: {{type: user_principal, profile: DEFAULT, config_file: '{iam.config_file}'}}"))
        for _ in range(3):
            r = project.run("apply", "manifests", "--auto-approve", "--debug")
            if r.exit_code == 0:
                break
        assert r.exit_code == 0, r.output[-2000:]
        assert project.run("plan", "manifests", "-out", "p.plan", "--debug").exit_code == 0
        ledger.scan_files(project.root)
    finally:
        server.stop()
    assert ledger.leaks == []


def test_state_journal_and_lock_files_are_private_while_apply_runs(project: RelProject) -> None:
    import time

    project.set_faults(Faults(latency_ms=40))
    proc = project.spawn("apply", "manifests", "--auto-approve")
    seen: set[str] = set()
    try:
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            for name in PRIVATE_FILES:
                path = project.state_dir / name
                try:
                    mode = stat.S_IMODE(path.stat().st_mode)
                except FileNotFoundError:
                    continue
                assert mode == 0o600, f"{name} is {oct(mode)}"
                seen.add(name)
            time.sleep(0.01)
    finally:
        project.set_faults(Faults())
        out, err = proc.communicate(timeout=60)
    project.ledger.scan("apply watched for file modes", out + err)
    assert proc.returncode == 0, err
    assert {"default.journal", "default.lock.json"} <= seen


@pytest.mark.parametrize("endpoint", ["https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/openai/v1",
                                      "http://127.0.0.1:8080/openai/v1"])
def test_tls_verification_is_on_for_every_endpoint(endpoint: str) -> None:
    import asyncio

    from ocigen_iac.api import ClientOptions, GenAIClient
    from ocigen_iac.settings import AuthSettings, Settings

    settings = Settings(root=Path("."), env="default", region="us-chicago-1", project="p", compartment="c",
                        auth=AuthSettings(type="api_key", api_key_env="X"),
                        inference_base=endpoint, vector_store_base=endpoint)

    async def contexts() -> list[ssl.SSLContext]:
        async with GenAIClient(settings, ClientOptions(), api_key=SECRET_KEY) as client:
            http = client._t.http  # the one httpx client every request goes through
            pools = [http._transport] + [t for t in http._mounts.values() if t is not None]
            return [p._pool._ssl_context for p in pools]  # type: ignore[attr-defined]

    for ctx in asyncio.run(contexts()):
        assert ctx.verify_mode == ssl.CERT_REQUIRED
        assert ctx.check_hostname is True
