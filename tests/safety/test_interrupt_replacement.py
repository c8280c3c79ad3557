"""An interrupted content replacement loses nothing: after Ctrl-C or kill -9 in the middle of
replacing 100 of 300 documents, ONE more apply leaves the store holding every declared document
at its current File id, nothing old left over, and the next plan clean."""

from __future__ import annotations

import re
import signal
from collections.abc import Callable
from typing import Any

import httpx

from ocigen_iac.emulator import Faults
from tests.engine.harness import Project
from tests.safety.checks import apply_ok, assert_converged
from tests.safety.conftest import RemoteCheckout
from tests.safety.corpus import declared, edit_docs, uploads, write_docs
from tests.safety.proc import interrupt, spawn_cli, wait_until

DOCS = 300
EDITED = 100
REMOTE_DOCS = 150


def run_interrupted_replacement(project: Any, sig: int, *, docs: int = DOCS, edited: int = EDITED,
                                unlock_after_kill: bool = False) -> None:
    """Apply `docs` documents, edit `edited` of them, interrupt the replacing apply once some
    replacements were uploaded, then ONE more apply must converge."""
    manifests = project.root / "manifests"
    apply_ok(project)
    edit_docs(manifests, edited)
    httpx.post(f"{project.server.url}/_admin/counters/reset", timeout=10).raise_for_status()
    project.server.set_faults(Faults(latency_ms=30))
    run = spawn_cli(project.root, "apply", "manifests", "--auto-approve", env=getattr(project, "cli_env", {}))
    try:
        wait_until(lambda: uploads(project.server.url) >= 12 or not run.alive(), 90, "replacement uploads")
        assert run.alive(), f"apply finished before it could be interrupted:\n{run.stdout()[-2000:]}"
        code, out, err = interrupt(run, sig)
    finally:
        run.ensure_dead()
        project.server.set_faults(Faults())
    if sig == signal.SIGINT:
        assert code == 130, (out[-2000:], err[-2000:])
    else:
        assert code == -signal.SIGKILL
    if unlock_after_kill:  # a remote lock outlives a killed holder: `init` shows it, force-unlock clears it
        shown = project.run("init")
        lock_id = re.search(r"\(ID (\S+)\)", shown.stdout)
        assert lock_id, shown.output
        assert project.run("force-unlock", lock_id.group(1)).exit_code == 0
    again = project.run("apply", "manifests", "--auto-approve")
    assert again.exit_code == 0, again.output[-4000:]
    assert_converged(project, declared(docs))


def test_ctrl_c_during_content_replacement_then_one_apply_leaves_every_document_attached(
        make_project: Callable[..., Project]) -> None:
    project = make_project()
    write_docs(project.root / "manifests", DOCS)
    run_interrupted_replacement(project, signal.SIGINT)


def test_kill_9_during_content_replacement_then_one_apply_leaves_every_document_attached(
        make_project: Callable[..., Project]) -> None:
    project = make_project()
    write_docs(project.root / "manifests", DOCS)
    run_interrupted_replacement(project, signal.SIGKILL)


def test_ctrl_c_during_content_replacement_with_remote_state_then_one_apply_converges(
        remote_checkout: Callable[..., RemoteCheckout]) -> None:
    # Same shape (File `docs`: docs/*.md, attached to store `kb`), half the size: every call is signed.
    project = remote_checkout(docs=REMOTE_DOCS)
    run_interrupted_replacement(project, signal.SIGINT, docs=REMOTE_DOCS, edited=REMOTE_DOCS // 3)


def test_kill_9_during_content_replacement_with_remote_state_then_one_apply_converges(
        remote_checkout: Callable[..., RemoteCheckout]) -> None:
    project = remote_checkout(docs=REMOTE_DOCS)
    run_interrupted_replacement(project, signal.SIGKILL, docs=REMOTE_DOCS, edited=REMOTE_DOCS // 3,
                                unlock_after_kill=True)
