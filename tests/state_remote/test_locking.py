"""Locking on Object Storage: `<key>.lock` created with If-None-Match: *, released with If-Match,
--lock-timeout waits, stale locks are reported (never broken), force-unlock needs the right ID."""

from __future__ import annotations

import json
import re
import threading
import time

from ocigen_iac.emulator import Faults
from ocigen_iac.errors import LockHeld, StateError
from ocigen_iac.state.lock import LockInfo

from .conftest import BUCKET, PREFIX, RemoteProject

LOCK = f"{PREFIX}/default.json.lock"


def test_second_apply_fails_naming_the_holder_and_waits_with_lock_timeout(project: RemoteProject) -> None:
    # API calls are slow (not Object Storage), so the first apply holds the lock for a while
    project.server.set_faults(Faults(latency_ms=250, routes=["/openai/v1"]))
    first = project.spawn("apply", "manifests", "--auto-approve", "--parallelism", "1")
    third = None
    try:
        project.wait_for(lambda: LOCK in project.remote_names(), what="the first apply to take the lock")
        held = json.loads(project.backend()._get(LOCK)[0])
        assert held["pid"] == first.pid and held["operation"] == "apply"

        second = project.run("apply", "manifests", "--auto-approve")
        assert second.exit_code == 1
        assert "held by another run" in second.stderr
        assert f"(pid {first.pid})" in second.stderr and "Operation: apply" in second.stderr
        assert f"oci://{BUCKET}@emulatorns/{PREFIX}/default.json" in second.stderr
        assert f"force-unlock {held['id']}" in second.stderr

        third = project.spawn("apply", "manifests", "--auto-approve", "--lock-timeout", "60s")
        time.sleep(0.3)
        assert first.poll() is None, "the first apply ended before the waiting one was started"
    finally:
        project.server.set_faults(Faults())
        out, err = first.communicate(timeout=60)
        first_done = time.monotonic()
    assert first.returncode == 0, err
    assert "Apply complete! Resources: 9 added" in out
    assert third is not None
    out3, err3 = third.communicate(timeout=60)
    assert third.returncode == 0, err3
    assert time.monotonic() >= first_done
    assert "No changes" in out3  # it ran after the first one, on the state the first one wrote
    assert LOCK not in project.remote_names()
    assert len(project.objects()["files"]) == 4


def test_lock_timeout_retries_until_the_holder_releases(project: RemoteProject) -> None:
    holder = project.backend()
    holder.lock("apply")
    waiter = project.backend()
    with_timeout: dict[str, object] = {}

    def acquire() -> None:
        started = time.monotonic()
        try:
            with_timeout["info"] = waiter.lock("plan", timeout_s=20)
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            with_timeout["error"] = exc
        with_timeout["waited"] = time.monotonic() - started

    t = threading.Thread(target=acquire)
    t.start()
    time.sleep(0.8)
    assert t.is_alive(), "the waiter should still be retrying"
    holder.unlock()
    t.join(timeout=20)
    assert "error" not in with_timeout, with_timeout
    assert isinstance(with_timeout["info"], LockInfo)
    assert 0.8 <= float(with_timeout["waited"]) < 10  # type: ignore[arg-type]
    assert waiter.lock_info() is not None and waiter.lock_info().operation == "plan"  # type: ignore[union-attr]
    waiter.unlock()
    assert project.backend().lock_info() is None


def test_lock_without_timeout_fails_at_once_and_leaves_the_lock(project: RemoteProject) -> None:
    holder = project.backend()
    info = holder.lock("state rm")
    started = time.monotonic()
    try:
        project.backend().lock("apply")
    except LockHeld as exc:
        text = str(exc)
    else:  # pragma: no cover
        raise AssertionError("the second lock succeeded")
    assert time.monotonic() - started < 2
    assert f"ID: {info.id}" in text and "Operation: state rm" in text
    assert holder.lock_info().id == info.id  # type: ignore[union-attr]
    holder.unlock()


def test_stale_lock_is_reported_with_its_age_and_never_broken(project: RemoteProject) -> None:
    project.write_config("stale_lock_after: 30m\n")
    old = LockInfo(operation="apply", holder="ci", host="runner-7", pid=4242, created=time.time() - 7260)
    project.backend().client.put_object("emulatorns", BUCKET, LOCK, json.dumps(old.to_dict()).encode(),
                                        if_none_match="*")
    r = project.run("apply", "manifests", "--auto-approve")
    assert r.exit_code == 1
    assert "Holder: ci@runner-7 (pid 4242)" in r.stderr
    assert re.search(r"\(2h0[01]m ago\)", r.stderr), r.stderr
    assert "older than 30m: it may be stale" in r.stderr
    assert f"ocigen-iac force-unlock {old.id}" in r.stderr
    assert project.backend().lock_info().id == old.id  # type: ignore[union-attr]  # still there
    assert project.objects()["files"] == []  # nothing was applied

    wrong = project.run("force-unlock", "not-the-id")
    assert wrong.exit_code == 1 and f"does not match the current lock (ID {old.id})" in wrong.stderr
    assert LOCK in project.remote_names()

    ok = project.run("force-unlock", old.id)
    assert ok.exit_code == 0, ok.output
    assert "successfully unlocked" in ok.stdout and "held by ci@runner-7 for apply" in ok.stdout
    assert LOCK not in project.remote_names()
    again = project.run("force-unlock", old.id)
    assert again.exit_code == 1 and "no lock" in again.stderr

    r = project.run("apply", "manifests", "--auto-approve")
    assert r.exit_code == 0, r.output


def test_unlock_leaves_a_lock_that_is_no_longer_ours(project: RemoteProject, capsys) -> None:  # type: ignore[no-untyped-def]
    first = project.backend()
    info = first.lock("apply")
    assert project.backend().force_unlock(info.id).id == info.id  # type: ignore[union-attr]
    second = project.backend()
    other = second.lock("apply")
    first.unlock()  # If-Match on our etag: must not delete the new holder's lock
    assert "no longer ours" in capsys.readouterr().err
    assert second.lock_info().id == other.id  # type: ignore[union-attr]
    second.unlock()
    assert second.lock_info() is None


def test_force_unlock_refuses_an_unreadable_lock_object(project: RemoteProject) -> None:
    project.backend().client.put_object("emulatorns", BUCKET, LOCK, b"garbage")
    try:
        project.backend().force_unlock("x")
    except StateError as exc:
        assert "unreadable" in str(exc) and "oci os object delete" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("force_unlock accepted an unreadable lock")
