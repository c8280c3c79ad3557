"""Ctrl-C as a user at a terminal presses it: during apply, twice (stop at once), and at the
approval prompt. Either way: one clear line, no traceback, exit 130, and state that lets the next
apply converge in one run."""

from __future__ import annotations

import re
from collections.abc import Callable

from ocigen_iac.emulator import Faults
from tests.engine.harness import Project
from tests.safety.checks import apply_ok, assert_converged
from tests.safety.corpus import declared, uploads, write_docs
from tests.safety.terminal import CTRL_C, TerminalSession, messages

DOCS = 60
NOISE = ("Traceback", "CancelledError", "KeyboardInterrupt", "Aborted!")


def test_second_ctrl_c_during_apply_stops_with_one_clear_line_no_traceback_exit_130_and_state_saved(
        make_project: Callable[..., Project]) -> None:
    project = make_project()
    write_docs(project.root / "manifests", DOCS)
    project.server.set_faults(Faults(latency_ms=150))
    session = TerminalSession(project.root, "apply", "manifests", "--auto-approve")
    try:
        session.read_while_waiting_for(lambda: uploads(project.server.url) >= 4, 60, "uploads under way")
        session.press(CTRL_C)
        session.read_until(r"Interrupt received", 30)
        seen = len(session.text)
        session.press(CTRL_C)  # uploads are still in flight (150 ms each): stop at once
        code = session.wait(60)
    finally:
        session.close()
        project.server.set_faults(Faults())
    text = session.text
    assert code == 130, f"exit {code}:\n{text[-3000:]}"
    noise = [n for n in NOISE if n in text]
    assert not noise, f"the second Ctrl-C printed {noise}:\n{text[-3000:]}"
    after = messages(text[seen:])
    assert len(after) == 1 and re.search(r"(?i)interrupt|stop", after[0]), \
        f"expected one clear line after the second Ctrl-C, got {after}"

    again = project.run("apply", "manifests", "--auto-approve")  # ONE apply converges
    assert again.exit_code == 0, again.output[-3000:]
    assert_converged(project, declared(DOCS))


def test_ctrl_c_at_the_approval_prompt_exits_130_with_a_clear_line_and_changes_nothing(
        make_project: Callable[..., Project]) -> None:
    project = make_project()
    write_docs(project.root / "manifests", 3)
    session = TerminalSession(project.root, "apply", "manifests")
    try:
        session.read_until(r"Enter a value:", 60)
        seen = len(session.text)
        session.press(CTRL_C)
        code = session.wait(15)
    finally:
        session.close()
    text = session.text
    assert code == 130, f"exit {code}:\n{text[-2000:]}"
    noise = [n for n in NOISE if n in text]
    assert not noise, f"Ctrl-C at the prompt printed {noise}:\n{text[-2000:]}"
    after = messages(text[seen:])
    assert len(after) == 1, f"expected one clear line after Ctrl-C at the prompt, got {after}"
    assert project.objects()["files"] == []
    apply_ok(project)
    assert_converged(project, declared(3))
