"""A misbehaving server: plan and apply end with a clear error and exit 1, the state file stays
valid, and the run terminates in bounded time (every case runs as a real subprocess with a timeout)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ocigen_iac.state.model import State
from tests.engine.harness import COMPARTMENT, KEY_ENV, PROJECT, REPO
from tests.reliability.hostile_server import MODES, HostileServer
from tests.reliability.support import SECRET_KEY, TRACEBACK_MARKERS

TIMEOUT_S = 90.0
COMMANDS = ("plan", "apply")


@dataclass
class Finished:
    mode: str
    command: str
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    state_before: bytes
    state_after: bytes


def _project(root: Path, base: str) -> bytes:
    """A project whose endpoints are the hostile server, with a state holding one pending create."""
    shutil.copytree(REPO / "manifests", root / "manifests")
    (root / "ocigen.yaml").write_text(
        f"region: us-chicago-1\nproject: {PROJECT}\ncompartment: {COMPARTMENT}\n"
        f"auth: {{type: api_key, api_key_env: {KEY_ENV}}}\n"
        f"endpoints: {{inference: '{base}', vector_stores: '{base}'}}\nvars: {{env: test}}\n"
    )
    doc = (root / "manifests" / "docs" / "handbook.md").read_bytes()
    state = {
        "format_version": 1, "lineage": str(uuid.uuid4()), "serial": 4, "env": "default", "resources": {},
        "intents": {"file.handbook": {
            "address": "file.handbook", "kind": "file", "started_at": time.time() - 5,
            "fingerprint": {"filename": "handbook.md", "bytes": len(doc), "purpose": "assistants",
                            "sha256": hashlib.sha256(doc).hexdigest(), "attrs": {}}}},
    }
    path = root / ".ocigen" / "state" / "default.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(state))
    path.chmod(0o600)
    return path.read_bytes()


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[tuple[str, str], Finished]]:
    """Every mode x command, run concurrently as subprocesses, each with a hard timeout."""
    with HostileServer() as server:
        doc = (REPO / "manifests" / "docs" / "handbook.md").read_bytes()
        server.truncated_file = {"id": "file-trunc", "object": "file", "bytes": len(doc),
                                 "created_at": int(time.time()), "filename": "handbook.md",
                                 "purpose": "assistants", "status": "processed"}
        procs = {}
        befores = {}
        env = {**os.environ, KEY_ENV: SECRET_KEY, "PYTHONUNBUFFERED": "1"}
        env.pop("OCIGEN_TRACEBACK", None)
        for mode in MODES:
            for command in COMMANDS:
                root = tmp_path_factory.mktemp(f"{mode}-{command}")
                befores[mode, command] = _project(root, server.base(mode))
                args = [command, "manifests"] + (["--auto-approve"] if command == "apply" else [])
                procs[mode, command] = (time.monotonic(), root, subprocess.Popen(
                    [sys.executable, "-m", "ocigen_iac.cli", *args], cwd=root, env=env,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        results = {}
        for key, (t0, root, proc) in procs.items():
            remaining = max(1.0, TIMEOUT_S - (time.monotonic() - t0))
            try:
                out, err = proc.communicate(timeout=remaining)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
                err += f"\n[test] did not terminate within {TIMEOUT_S:.0f} s"
            results[key] = Finished(*key, proc.returncode, out, err, time.monotonic() - t0, befores[key],
                                    (root / ".ocigen" / "state" / "default.json").read_bytes())
        yield results


CASES = [(m, c) for m in MODES for c in COMMANDS]
# create_garbage lists nothing (a plan is fine); its creates answer garbage (apply must fail)
ERROR_CASES = [case for case in CASES if case != ("create_garbage", "plan")]


@pytest.mark.parametrize("mode,command", ERROR_CASES)
def test_hostile_server_gives_a_clear_error_and_exit_1(finished: dict, mode: str, command: str) -> None:
    r: Finished = finished[mode, command]
    assert r.seconds < TIMEOUT_S, r.stderr
    assert r.returncode == 1, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    assert "Error" in r.stderr or "failed" in r.stderr, r.stderr
    for marker in TRACEBACK_MARKERS:
        assert marker not in r.stdout + r.stderr, r.stderr
    assert SECRET_KEY not in r.stdout + r.stderr


@pytest.mark.parametrize("mode,command", CASES)
def test_hostile_server_leaves_the_state_file_valid(finished: dict, mode: str, command: str) -> None:
    r: Finished = finished[mode, command]
    if r.state_after != r.state_before:
        State.from_dict(json.loads(r.state_after))  # changed, so it must still be a valid state


def test_hostile_server_endless_cursor_is_called_a_loop(finished: dict) -> None:
    assert "does not advance" in finished["endless_cursor", "plan"].stderr


def test_hostile_server_malformed_json_is_named(finished: dict) -> None:
    assert "malformed" in finished["malformed_json", "plan"].stderr.lower()
