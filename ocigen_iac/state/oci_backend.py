"""Remote state on OCI Object Storage (Terraform's `oci` backend, adapted to a per-call journal).

This module owns `OciBackend` (the `StateBackend` protocol over the `oci` SDK's
`ObjectStorageClient`) and `migrate_local_state` (`ocigen-iac init --migrate-state`).

Objects in `state.bucket` of `state.namespace`, with key = `<state.prefix>/<env>.json`:

    <key>           the snapshot (State JSON). Every write is conditional: `If-Match: <etag>` of the
                    version this process last read or wrote, or `If-None-Match: *` when there was
                    none. A 412 means someone else wrote it: StateError, nothing is overwritten.
    <key>.backup    the remote snapshot as it was when this process first read it, written just
                    before this process first replaces it (one generation per run). Enabling
                    object versioning on the bucket keeps every generation as well.
    <key>.lock      the lock: created with `If-None-Match: *`, holding LockInfo JSON (id, holder,
                    host, pid, operation, created); released with `If-Match: <its etag>`.
                    A lock older than `state.stale_lock_after` is reported as possibly stale in
                    the LockHeld message, never broken: `ocigen-iac force-unlock ID` removes it.

Frequent writes. `journal_append` (after every mutating API call) appends the records to a LOCAL
journal, fsynced, under `<root>/.ocigen/remote-journal/<env>.journal`, and pushes the whole
snapshot to Object Storage when the last push is older than the push interval
(`OCIGEN_STATE_PUSH_INTERVAL` seconds, default 5; 0 = every call). `write_snapshot` (end of a run,
SyncState.checkpoint, which runs in a `finally`) and `journal_clear` always push what is not yet
remote. Pushes made mid-run carry serial+1, so a plan saved before the run is seen as stale.

The local journal is tied to the remote version it extends: it begins with a marker
`{"op": "_base", "sha256": <sha256 of the remote snapshot bytes, or "absent">}`, and a marker for
the new content is appended before each push. `journal_read` replays only the records after the
last marker matching the remote snapshot it just read. A journal whose markers match nothing (the
remote moved on: another machine ran, or the config points elsewhere) is never replayed onto a
state it does not extend: it is moved aside (`<env>.journal.orphaned-<time>`) with a warning.

Crash behaviour. Interrupted (Ctrl-C, error): the checkpoint pushes the final state before the
lock is released. kill -9 on the same machine: the remote snapshot is at most one push interval
behind, the local journal holds the rest and is replayed by the next run on this machine (after
`force-unlock`, since the remote lock outlives its holder; the LockHeld message says when the
holder pid is gone from this host). kill -9 seen from another machine: it sees the last pushed
snapshot; the intents in it and the vector stores' ownership tags let refresh adopt what was
created instead of duplicating it; objects created in the last push interval whose intent was not
pushed yet are not known there (set the interval to 0 for CI runners that may be killed).

Auth is `settings.auth` (user principal, session token, instance principal, resource principal),
through the signer builder of `ocigen_iac.api._auth`. With `auth.type: api_key` (a Generative AI
key, which Object Storage does not accept) the state is accessed with the user-principal profile
`auth.profile` of `auth.config_file`. `state.endpoint` overrides the service endpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ocigen_iac.errors import LockHeld, StateError
from ocigen_iac.settings import AuthSettings, Settings
from ocigen_iac.state import fastload
from ocigen_iac.state.files import Journal, atomic_write, dump_json
from ocigen_iac.state.lock import LockInfo, lock_held_error
from ocigen_iac.state.model import State
from ocigen_iac.state.sync import replay

if TYPE_CHECKING:
    from ocigen_iac.state.backend import StateBackend

ABSENT = "absent"  # the sha256 marker of "no remote snapshot"
PUSH_INTERVAL_ENV = "OCIGEN_STATE_PUSH_INTERVAL"
DEFAULT_PUSH_INTERVAL_S = 5.0
MAX_LOCK_BACKOFF_S = 5.0


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _warn(message: str) -> None:
    print(f"Warning: {message}", file=sys.stderr, flush=True)


def push_interval_from_env(default: float = DEFAULT_PUSH_INTERVAL_S) -> float:
    raw = os.environ.get(PUSH_INTERVAL_ENV, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise StateError(f"${PUSH_INTERVAL_ENV}={raw!r} is not a number of seconds") from None
    if value < 0:
        raise StateError(f"${PUSH_INTERVAL_ENV} must be >= 0 (seconds)")
    return value


class OciBackend:
    """State snapshot, lock and local journal for one environment, in an Object Storage bucket."""

    def __init__(self, settings: Settings, *, push_interval_s: float | None = None, client: Any = None) -> None:
        st = settings.state
        if not st.namespace or not st.bucket:
            raise StateError("state.backend 'oci' needs state.namespace and state.bucket in ocigen.yaml")
        self.settings = settings
        self.env = settings.env
        self.namespace: str = st.namespace
        self.bucket: str = st.bucket
        prefix = (st.prefix or "").strip("/")
        self.key = f"{prefix}/{self.env}.json" if prefix else f"{self.env}.json"
        self.lock_key = self.key + ".lock"
        self.backup_key = self.key + ".backup"
        self.description = f"oci://{self.bucket}@{self.namespace}/{self.key}"
        self.stale_after_s = st.stale_lock_after_s
        self.push_interval_s = push_interval_from_env() if push_interval_s is None else push_interval_s
        self.journal_path = settings.root / ".ocigen" / "remote-journal" / f"{self.env}.journal"
        # the downloaded snapshot's fast-load copy, keyed by its SHA-256 like a local one (fastload.py)
        self.fastload_path = settings.root / ".ocigen" / "cache" / f"remote-state-{self.env}.fastload"
        self._journal = Journal(self.journal_path)
        self._client = client
        # what this process knows of the remote snapshot
        self._read_done = False
        self._etag: str | None = None
        self._remote_sha = ABSENT
        self._remote_bytes: bytes | None = None
        self._backed_up = False
        # local journal / pushes
        self._journal_started = False  # a `_base` marker has been written since the last reset
        self._journal_owned = False  # this process read or wrote the local journal (may reset it)
        self._dirty: Callable[[], dict[str, Any]] | None = None  # snapshot of records not pushed yet
        self._last_push = time.monotonic()
        self._conflict: StateError | None = None
        # lock
        self._held: LockInfo | None = None
        self._lock_etag: str | None = None

    # -- the SDK client ---------------------------------------------------------------------
    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def _make_client(self) -> Any:
        import oci  # lazily: only remote-state users pay for the import

        from ocigen_iac.api._auth import IamAuth

        auth = self.settings.auth
        if not auth.is_iam:  # API keys are for Generative AI only: sign with the config profile
            auth = AuthSettings(type="user_principal", profile=auth.profile, config_file=auth.config_file)
        signer = IamAuth(auth)._build_signer()  # raises AuthFailed naming the profile / principal
        retry = oci.retry.RetryStrategyBuilder(
            max_attempts=4,
            total_elapsed_time_seconds=60,
            service_error_retry_config={429: [], 409: ["IncorrectState", "LockConflict"]},
            service_error_retry_on_any_5xx=True,
        ).get_retry_strategy()
        kwargs: dict[str, Any] = {"signer": signer, "retry_strategy": retry, "timeout": (10, 60)}
        if self.settings.state.endpoint:
            kwargs["service_endpoint"] = self.settings.state.endpoint.rstrip("/")
        config: dict[str, Any] = {}
        if auth.type in ("user_principal", "session"):  # the SDK validates these fields for a key signer
            config = dict(oci.config.from_file(os.path.expanduser(auth.config_file), auth.profile))
        config["region"] = self.settings.region
        return oci.object_storage.ObjectStorageClient(config, **kwargs)

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Call the SDK; turn errors other than 404/412 into a StateError that says what failed."""
        import oci

        try:
            return fn(*args, **kwargs)
        except oci.exceptions.ServiceError as exc:
            if exc.status in (404, 412):
                raise
            hint = ""
            if exc.status in (401, 403):
                hint = " (check auth in ocigen.yaml and the bucket's IAM policy: the state needs to read, " \
                       "write and delete objects in it)"
            raise StateError(
                f"{what} failed for {self.description}: {exc.status} {exc.code}: {exc.message}{hint}"
            ) from None
        except (oci.exceptions.RequestException, oci.exceptions.ConnectTimeout, OSError) as exc:
            raise StateError(f"{what} failed for {self.description}: {type(exc).__name__}: {exc}") from None

    def _get(self, name: str) -> tuple[bytes, str] | None:
        """(bytes, etag) of an object, or None if it does not exist."""
        import oci
        from oci._vendor.requests.exceptions import RequestException as BodyError

        for attempt in range(3):  # a body cut off mid-read (a write replaced the object) is read again
            try:
                resp = self._call("reading", self.client.get_object, self.namespace, self.bucket, name)
            except oci.exceptions.ServiceError as exc:
                if exc.status == 404:
                    return None
                raise StateError(f"reading {name} failed: {exc.status} {exc.code}: {exc.message}") from None
            try:
                return resp.data.content, resp.headers.get("etag", "")
            except BodyError as exc:
                if attempt == 2:
                    raise StateError(f"reading {name} from {self.description} failed: {exc}") from None
                time.sleep(0.1 * (attempt + 1))
        return None  # pragma: no cover - the loop returns or raises

    # -- lock ---------------------------------------------------------------------------------
    def _read_lock(self) -> tuple[LockInfo | None, str] | None:
        got = self._get(self.lock_key)
        if got is None:
            return None
        data, etag = got
        try:
            return LockInfo.from_dict(json.loads(data)), etag
        except (ValueError, TypeError):
            return None, etag

    def _held_error(self, info: LockInfo | None) -> LockHeld:
        err = lock_held_error(info, self.description, self.stale_after_s)
        try:
            dead = info is not None and info.host == socket.gethostname() and not _pid_alive(int(info.pid))
        except (TypeError, ValueError):
            dead = False
        if info is not None and dead:
            return LockHeld(
                f"{err}\n  Note: the holder (pid {info.pid}) is no longer running on this host: the run was "
                "killed. A remote lock outlives its holder; check no other run is active, then force-unlock."
            )
        return err

    def lock(self, operation: str, timeout_s: float = 0.0) -> LockInfo:
        """Create `<key>.lock` with If-None-Match: *; with `timeout_s` > 0 retry with backoff."""
        import oci

        info = LockInfo(operation=operation)
        body = dump_json({**info.to_dict(), "path": self.key})
        deadline = time.monotonic() + max(0.0, timeout_s)
        delay = 0.2
        vanished_retries = 0
        for _attempt in range(100_000):  # bounded by the deadline in practice
            try:
                resp = self._call("creating the lock", self.client.put_object, self.namespace, self.bucket,
                                  self.lock_key, body, if_none_match="*", content_type="application/json")
                self._held, self._lock_etag = info, resp.headers.get("etag")
                return info
            except oci.exceptions.ServiceError as exc:
                if exc.status != 412:
                    raise StateError(f"creating the lock for {self.description} failed: "
                                     f"{exc.status} {exc.code}: {exc.message}") from None
            current = self._read_lock()
            if current is None:  # released between our PUT and GET: try again at once (a few times)
                vanished_retries += 1
                if vanished_retries <= 3:
                    continue
                holder: LockInfo | None = None
            else:
                holder, etag = current
                if holder is not None and holder.id == info.id:  # our own PUT landed; its reply was lost
                    self._held, self._lock_etag = info, etag
                    return info
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._held_error(holder)
            time.sleep(min(delay, remaining))
            delay = min(delay * 1.6, MAX_LOCK_BACKOFF_S)
        raise self._held_error(None)  # pragma: no cover - unreachable in practice

    def unlock(self) -> None:
        import oci

        if self._held is None:
            return
        held, etag = self._held, self._lock_etag
        self._held = self._lock_etag = None
        try:
            self._call("releasing the lock", self.client.delete_object, self.namespace, self.bucket,
                       self.lock_key, if_match=etag)
        except oci.exceptions.ServiceError as exc:
            if exc.status == 404:
                _warn(f"the state lock {held.id} on {self.description} was already gone (force-unlocked?)")
            else:  # 412: someone replaced it after a force-unlock; it is theirs now
                _warn(f"the state lock on {self.description} is no longer ours (lock {held.id} was replaced); "
                      "left it in place")

    def force_unlock(self, lock_id: str) -> LockInfo | None:
        import oci

        current = self._read_lock()
        if current is None:
            raise StateError(f"there is no lock on {self.description}; nothing to unlock")
        info, etag = current
        if info is None:
            raise StateError(f"the lock object {self.lock_key} is unreadable; inspect it and delete it with "
                             f"`oci os object delete -ns {self.namespace} -bn {self.bucket} --name {self.lock_key}`")
        if info.id != lock_id:
            raise StateError(
                f"lock ID {lock_id!r} does not match the current lock (ID {info.id}); nothing was changed"
            )
        try:
            self._call("removing the lock", self.client.delete_object, self.namespace, self.bucket,
                       self.lock_key, if_match=etag)
        except oci.exceptions.ServiceError as exc:
            if exc.status == 404:
                return info
            raise StateError("the lock changed while it was being removed; nothing was changed: "
                             "run `ocigen-iac force-unlock` again with the current ID") from None
        return info

    def lock_info(self) -> LockInfo | None:
        current = self._read_lock()
        return current[0] if current else None

    # -- snapshot -----------------------------------------------------------------------------
    def read_snapshot(self) -> State | None:
        got = self._get(self.key)
        self._read_done = True
        if got is None:
            self._etag, self._remote_sha, self._remote_bytes = None, ABSENT, None
            return None
        data, etag = got
        self._etag, self._remote_sha, self._remote_bytes = etag, _sha(data), data
        return fastload.load(self.fastload_path, bytes.fromhex(self._remote_sha), lambda: self._parse(data))

    def _parse(self, data: bytes) -> State:
        try:
            return State.from_dict(json.loads(data))
        except (ValueError, KeyError, TypeError) as exc:
            raise StateError(
                f"remote state {self.description} is unreadable ({exc}); "
                f"the previous version is in {self.backup_key} (or in the bucket's object versions)"
            ) from exc

    def write_snapshot(self, state: State) -> None:
        self._push(state.to_dict(), in_progress=False)

    def _push(self, data: dict[str, Any], *, in_progress: bool) -> None:
        if self._conflict is not None:
            raise self._conflict
        if not self._read_done:
            self.read_snapshot()
        if in_progress:  # mid-run: newer than what the run started from (saved plans go stale)
            data = {**data, "serial": int(data["serial"]) + 1}
        payload = dump_json(data)
        sha = _sha(payload)
        if sha != self._remote_sha:
            if self._journal_started:  # the records so far are included in the version with this hash
                self._journal.append([{"op": "_base", "sha256": sha}])
            self._put_state(payload, sha)
        self._dirty = None
        self._last_push = time.monotonic()
        if self._journal_owned:  # the remote now holds everything journaled: restart on the new base
            self._journal.clear()
            self._journal_started = False

    def _put_state(self, payload: bytes, sha: str) -> None:
        import oci

        if not self._backed_up and self._remote_bytes is not None:
            self._call("writing the backup", self.client.put_object, self.namespace, self.bucket, self.backup_key,
                       self._remote_bytes, content_type="application/json")
            self._backed_up = True
        condition = {"if_match": self._etag} if self._etag else {"if_none_match": "*"}
        try:
            resp = self._call("writing state", self.client.put_object, self.namespace, self.bucket, self.key,
                              payload, content_type="application/json", **condition)
            etag = resp.headers.get("etag", "")
        except oci.exceptions.ServiceError as exc:
            if exc.status == 404:
                raise StateError(f"writing state to {self.description} failed: {exc.code}: {exc.message} "
                                 "(does the bucket exist?)") from None
            current = self._get(self.key)
            if current is not None and _sha(current[0]) == sha:  # our write landed; a retry saw it
                etag = current[1]
            else:
                self._conflict = self._conflict_error(current[1] if current else None, payload)
                raise self._conflict from None
        self._etag, self._remote_sha, self._remote_bytes = etag, sha, payload

    def _conflict_error(self, remote_etag: str | None, payload: bytes) -> StateError:
        saved = self.journal_path.with_name(f"{self.env}.conflict-{time.strftime('%Y%m%dT%H%M%S')}.json")
        atomic_write(saved, payload)
        return StateError(
            f"remote state changed underneath this run (etag {self._etag or '<none>'} != "
            f"{remote_etag or '<deleted>'}); nothing was overwritten; your changes are in {self.journal_path} "
            f"and the full state this run meant to write is in {saved}.\n"
            f"Someone wrote {self.description} while this run held the lock (a force-unlock?). Compare "
            f"`ocigen-iac state pull` with {saved.name}, then `ocigen-iac state push` the right one."
        )

    # -- journal ------------------------------------------------------------------------------
    def journal_append(self, records: list[dict[str, Any]], snapshot: Callable[[], dict[str, Any]]) -> None:
        """Make `records` durable locally now; push the snapshot when the push interval has passed."""
        if not self._read_done:
            self.read_snapshot()
        if not self._journal_started:
            records = [{"op": "_base", "sha256": self._remote_sha}, *records]
            self._journal_started = self._journal_owned = True
        self._journal.append(records)
        self._dirty = snapshot
        if self._conflict is not None:
            raise self._conflict
        if time.monotonic() - self._last_push >= self.push_interval_s:
            self._push(snapshot(), in_progress=True)

    def journal_read(self) -> list[dict[str, Any]]:
        """Records of a crashed run on this machine that extend the remote snapshot just read."""
        if not self._read_done:
            self.read_snapshot()
        self._journal_owned = True
        lines = self._journal.read()
        if not lines:
            return []
        start = None
        for i, line in enumerate(lines):
            if line.get("op") == "_base" and line.get("sha256") == self._remote_sha:
                start = i + 1
        records = [r for r in lines if r.get("op") != "_base"]
        if start is None:
            if not records:
                return []
            if self._held is not None:
                aside = self.journal_path.with_name(
                    f"{self.journal_path.name}.orphaned-{time.strftime('%Y%m%dT%H%M%S')}")
                self._journal.close()
                os.replace(self.journal_path, aside)
                where = f"moved it to {aside}"
            else:
                where = f"left it at {self.journal_path}"
            _warn(f"a local journal of {len(records)} record(s) from an interrupted run does not extend the "
                  f"current remote state {self.description} (it changed since); it was not replayed and {where}. "
                  "The next apply adopts what that run created (intents, ownership tags).")
            return []
        return [r for r in lines[start:] if r.get("op") != "_base"]

    def journal_clear(self) -> None:
        """End of a run: push anything not yet remote, then drop the local journal."""
        if self._dirty is not None:
            self._push(self._dirty(), in_progress=False)
        self._journal.clear()
        self._journal_started = False

    def close(self) -> None:
        self._journal.close()


def migrate_local_state(settings: Settings, *, force: bool = False, lock_timeout_s: float = 0.0) -> str:
    """Copy the local backend's state (`state.path`) to the configured oci backend.

    Writes only if the remote has no state, or has the same lineage and an older serial. A remote
    state of another lineage is refused unless `force` (its previous version goes to the backup).
    Both states are locked meanwhile. The local files are left in place.
    """
    from ocigen_iac.state.backend import LocalBackend

    if settings.state.backend != "oci":
        raise StateError("state.backend is not 'oci' in ocigen.yaml: configure the remote backend "
                         "(state: {backend: oci, namespace, bucket, prefix}) first, then migrate")
    local: StateBackend = LocalBackend(settings.state.path, settings.env, settings.state.stale_lock_after_s)
    remote = OciBackend(settings)
    local.lock("init -migrate-state", lock_timeout_s)
    try:
        state = local.read_snapshot()
        records = local.journal_read()
        if state is None and not records:
            raise StateError(f"no local state for environment {settings.env!r} in {settings.state.path}; "
                             "nothing to migrate")
        if state is None:
            state = State(env=settings.env)
        replay(state, records)  # a crashed local run's journal is part of the local state
        if records:
            state.serial += 1
        state.env = settings.env
        remote.lock("init -migrate-state", lock_timeout_s)
        try:
            current = remote.read_snapshot()
            if current is not None:
                if current.lineage != state.lineage and not force:
                    raise StateError(
                        f"the remote state {remote.description} already exists with another lineage "
                        f"({current.lineage}, serial {current.serial}, {len(current.resources)} resources) than "
                        f"the local state ({state.lineage}, serial {state.serial}); nothing was written. Use "
                        "--force to replace it (its current version is kept as the backup object)."
                    )
                if current.lineage == state.lineage and current.serial >= state.serial and not force:
                    return (f"The remote state {remote.description} already has this state (lineage "
                            f"{state.lineage}, serial {current.serial} >= local {state.serial}); nothing to do.")
            remote.write_snapshot(state)
        finally:
            remote.unlock()
            remote.close()
    finally:
        local.unlock()
        local.close()
    return (f"Migrated {len(state.resources)} resource(s) (lineage {state.lineage}, serial {state.serial}) "
            f"from {settings.state.path} to {remote.description}.\nThe local state files were left in place "
            f"as a copy; ocigen-iac now reads and writes {remote.description}.")


__all__ = ["OciBackend", "migrate_local_state", "push_interval_from_env"]
