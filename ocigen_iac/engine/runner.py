"""Orchestration of one command: settings -> manifests -> lock -> state -> refresh -> plan -> apply.

The CLI stays thin: it parses flags, calls one function here, renders, and maps the outcome to
an exit code. Every function validates all input before any network call.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import json
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ocigen_iac.engine.applier import ApplyResult, apply_plan
from ocigen_iac.engine.context import RunContext
from ocigen_iac.engine.expand import expand_instances
from ocigen_iac.engine.hashing import HashCache
from ocigen_iac.engine.plan import Plan
from ocigen_iac.engine.planner import make_plan
from ocigen_iac.engine.refresh import refresh
from ocigen_iac.engine.report import Reporter
from ocigen_iac.errors import Interrupted, OcigenError, StateError
from ocigen_iac.manifest.desired import DesiredSet
from ocigen_iac.settings import Settings
from ocigen_iac.state import SyncState, make_backend
from ocigen_iac.state.files import atomic_write

LOCAL_API_KEY = "ocigen-local-emulator-key"  # the embedded emulator's key; not a secret
LOCAL_PROJECT = "ocid1.generativeaiproject.oc1..local"
LOCAL_COMPARTMENT = "ocid1.compartment.oc1..local"


class ConfigMissing(OcigenError):
    pass


@dataclass
class RunOptions:
    parallelism: int = 8
    rps: float | None = None
    lock_timeout_s: float = 0.0
    debug_log: Any = None  # callable(str) | None
    poll_timeout_s: float = 1800.0
    quiet: bool = False
    targets: list[str] = field(default_factory=list)
    replace: list[str] = field(default_factory=list)


def settings_digest(settings: Settings) -> str:
    material = {"env": settings.env, "project": settings.project, "compartment": settings.compartment,
                "inference": settings.inference_base if not settings.local else "local",
                "vector_store": settings.vector_store_base if not settings.local else "local",
                "vars": settings.vars}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


@contextlib.contextmanager
def fewer_gc_passes() -> Iterator[None]:
    """Run the cyclic garbage collector less often while a run builds its large object graph.

    A plan over tens of thousands of objects allocates millions of small dicts that all stay
    alive (state, desired instances, the live view); with the default thresholds the collector
    re-traverses them over and over (about a third of a 60k-object plan's CPU time). Reference
    counting still frees everything acyclic at once, so memory is unaffected in practice.
    """
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], 50_000), max(old[1], 20), max(old[2], 100))
    try:
        yield
    finally:
        gc.set_threshold(*old)


@contextlib.contextmanager
def local_emulator(settings: Settings) -> Iterator[Settings]:
    """--local: start the embedded emulator (persisted under .ocigen/local/) on 127.0.0.1."""
    if not settings.local:
        yield settings
        return
    from ocigen_iac.emulator import EmulatorConfig, EmulatorServer

    data_dir = settings.root / ".ocigen" / "local"
    server = EmulatorServer(EmulatorConfig(data_dir=data_dir, api_keys=[LOCAL_API_KEY]), host="127.0.0.1", port=0)
    server.start()
    try:
        yield replace(settings, inference_base=server.inference_base, vector_store_base=server.management_base,
                      project=settings.project or LOCAL_PROJECT, compartment=settings.compartment or LOCAL_COMPARTMENT)
    finally:
        server.stop()


@contextlib.contextmanager
def locked_state(settings: Settings, operation: str, lock_timeout_s: float = 0.0) -> Iterator[SyncState]:
    backend = make_backend(settings)
    backend.lock(operation, lock_timeout_s)
    sync = SyncState(backend, settings.env)
    try:
        sync.open()
        yield sync
    finally:
        try:
            sync.checkpoint()
        finally:
            backend.unlock()
            sync.close()


@contextlib.asynccontextmanager
async def api_client(settings: Settings, opts: RunOptions) -> AsyncIterator[Any]:
    from ocigen_iac.api import ClientOptions, GenAIClient

    if not settings.project:
        raise ConfigMissing(
            "no OCI Generative AI project is configured: every call needs the OpenAI-Project header. "
            "Set `project: ocid1.generativeaiproject...` in ocigen.yaml (or OCIGEN_PROJECT), "
            "or use --local to run against the embedded emulator."
        )
    copts = ClientOptions(parallelism=opts.parallelism, rps=opts.rps, debug_log=opts.debug_log)
    api_key = LOCAL_API_KEY if settings.local else None
    async with GenAIClient(settings, copts, api_key=api_key) as client:
        yield client


def _context(settings: Settings, sync: SyncState, opts: RunOptions, desired: DesiredSet | None,
             reporter: Reporter) -> RunContext:
    hashes = HashCache(settings.root / ".ocigen" / "cache" / "hashes.json")
    ctx = RunContext(settings=settings, state=sync, hashes=hashes, reporter=reporter,
                     poll_timeout_s=opts.poll_timeout_s)
    if desired is not None:
        ctx.desired = desired
    return ctx


def _expand(ctx: RunContext) -> None:
    ctx.instances, ctx.stats["file_digests"] = expand_instances(ctx.desired, ctx.hashes)


async def _refresh_and_plan(ctx: RunContext, mode: str, opts: RunOptions) -> Plan:
    # Hashing and expanding the manifests (CPU and disk) runs in a thread while refresh waits on
    # the network: on a large project the two overlap instead of adding up.
    expanding = asyncio.ensure_future(asyncio.to_thread(_expand, ctx))
    try:
        adopted = await refresh(ctx, instances_ready=expanding)
    finally:
        await asyncio.gather(expanding, return_exceptions=True)
    expanding.result()
    plan = make_plan(ctx, mode=mode, targets=opts.targets or None, force_replace=opts.replace or None)
    ctx.state.checkpoint()  # adoptions are facts: persist them (bumps serial only if any)
    plan.adoptions = adopted
    plan.lineage, plan.serial = ctx.state.state.lineage, ctx.state.state.serial
    plan.manifest_digests = dict(ctx.desired.manifest_digests)
    plan.file_digests = dict(ctx.stats.get("file_digests", {}))
    plan.settings_digest = settings_digest(ctx.settings)
    ctx.hashes.save()
    return plan


def run_plan(settings: Settings, desired: DesiredSet, opts: RunOptions, *, mode: str = "normal",
             reporter: Reporter | None = None) -> Plan:
    reporter = reporter or Reporter(quiet=True)
    with fewer_gc_passes(), local_emulator(settings) as settings, \
            locked_state(settings, "plan", opts.lock_timeout_s) as sync:
        ctx = _context(settings, sync, opts, desired, reporter)

        async def go() -> Plan:
            async with api_client(settings, opts) as client:
                ctx.client = client
                return await _refresh_and_plan(ctx, mode, opts)

        return asyncio.run(go())


@dataclass
class ApplyOutcome:
    plan: Plan
    result: ApplyResult | None  # None when the user declined or there was nothing to do
    applied: bool = False
    ctx_stats: dict[str, Any] = field(default_factory=dict)


def run_apply(settings: Settings, desired: DesiredSet, opts: RunOptions, *, mode: str = "normal",
              confirm: Any = None, saved_plan: dict[str, Any] | None = None,
              reporter: Reporter | None = None, on_plan: Any = None) -> ApplyOutcome:
    """Plan, check the saved plan if any, ask `confirm(plan)`, apply. State persists throughout."""
    reporter = reporter or Reporter()
    operation = "destroy" if mode == "destroy" else "apply"
    with fewer_gc_passes(), local_emulator(settings) as settings, \
            locked_state(settings, operation, opts.lock_timeout_s) as sync:
        if saved_plan is not None:
            check_saved_plan(saved_plan, sync, settings)
        ctx = _context(settings, sync, opts, desired, reporter)

        async def go() -> ApplyOutcome:
            async with api_client(settings, opts) as client:
                ctx.client = client
                plan = await _refresh_and_plan(ctx, mode, opts)
                if saved_plan is not None:
                    check_plan_matches(saved_plan, plan)
                if on_plan is not None:
                    on_plan(plan)
                if mode == "refresh-only":
                    _accept_drift(ctx)
                    return ApplyOutcome(plan, ApplyResult(), applied=True)
                if not plan.changes:
                    return ApplyOutcome(plan, None)
                if confirm is not None and not confirm(plan):
                    return ApplyOutcome(plan, None)
                cancel = asyncio.Event()
                _install_interrupt(cancel, reporter)
                result = await apply_plan(ctx, plan, parallelism=opts.parallelism, cancel=cancel)
                return ApplyOutcome(plan, result, applied=True, ctx_stats=ctx.stats)

        outcome = asyncio.run(go())
        if outcome.result is not None and outcome.result.cancelled:
            sync.checkpoint()
            raise Interrupted("Interrupted: in-flight operations finished and state was saved. "
                              "Run apply again to continue where it stopped.")
        return outcome


def _install_interrupt(cancel: asyncio.Event, reporter: Reporter) -> None:
    loop = asyncio.get_running_loop()

    def first() -> None:
        reporter.line("\nInterrupt received: finishing in-flight operations and saving state "
                      "(press Ctrl-C again to stop at once).")
        cancel.set()
        loop.remove_signal_handler(signal.SIGINT)
        loop.add_signal_handler(signal.SIGINT, second)

    def second() -> None:
        for task in asyncio.all_tasks(loop):
            task.cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, first)
        loop.add_signal_handler(signal.SIGTERM, first)


def _accept_drift(ctx: RunContext) -> None:
    """--refresh-only apply: record what live objects look like now, change nothing remotely."""
    from ocigen_iac.resources import KINDS

    for address, rs in list(ctx.state.state.resources.items()):
        kind = KINDS.get(rs.kind)
        live = kind.find_live(ctx, rs) if kind else None
        if kind is None:
            continue
        if live is None or kind.gone_reason(live):
            ctx.state.remove(address)
            continue
        snap = kind.snapshot(live)
        if "owner_key" in rs.live:
            snap["owner_key"] = rs.live["owner_key"]
        if snap != rs.live:
            rs.live = snap
            ctx.state.put(address, rs)


# --- saved plans ---------------------------------------------------------------------------

def save_plan(path: Path, plan: Plan, manifests_dir: str, opts: RunOptions) -> None:
    data = plan.to_dict()
    data["saved"] = {"manifests_dir": manifests_dir, "targets": opts.targets, "replace": opts.replace}
    atomic_write(path, (json.dumps(data, indent=1) + "\n").encode(), mode=0o600)


def load_saved_plan(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or "prior_state" not in data or "format_version" not in data:
            raise ValueError("not an ocigen-iac plan")
    except (OSError, ValueError) as exc:
        raise StateError(
            f"{path}: cannot read saved plan ({exc}); create one with `ocigen-iac plan -out {path}`"
        ) from exc
    if str(data["format_version"]).split(".")[0] != "1":
        raise StateError(f"{path}: plan format_version {data['format_version']} is not supported")
    return data


def check_saved_plan(saved: dict[str, Any], sync: SyncState, settings: Settings) -> None:
    prior = saved["prior_state"]
    state = sync.state
    if saved.get("env") != settings.env:
        raise StateError(f"Saved plan is for environment {saved.get('env')!r}, not {settings.env!r}.")
    if prior.get("lineage") not in (None, state.lineage):
        raise StateError("Saved plan does not match the given state: it was made against a different state "
                         f"(lineage {prior.get('lineage')}, current {state.lineage}). Run plan again.")
    if prior.get("serial") != state.serial:
        raise StateError(
            f"Saved plan is stale: the state was changed by another operation after the plan was created "
            f"(plan serial {prior.get('serial')}, state serial {state.serial}). Run plan again."
        )
    if saved.get("digests", {}).get("settings") not in (None, settings_digest(settings)):
        raise StateError("Saved plan is stale: ocigen.yaml settings (project, endpoints, vars) changed since the plan.")


def check_plan_matches(saved: dict[str, Any], plan: Plan) -> None:
    digests = saved.get("digests", {})
    changed = sorted(k for k in set(digests.get("manifests", {})) | set(plan.manifest_digests)
                     if digests.get("manifests", {}).get(k) != plan.manifest_digests.get(k))
    if changed:
        raise StateError(f"Saved plan is stale: manifest {changed[0]} changed since the plan was made. Run plan again.")
    changed = sorted(k for k in set(digests.get("files", {})) | set(plan.file_digests)
                     if digests.get("files", {}).get(k) != plan.file_digests.get(k))
    if changed:
        raise StateError(
            f"Saved plan is stale: local file {changed[0]} changed since the plan was made. Run plan again."
        )

    def actions(changes: list[dict[str, Any]]) -> list[tuple[str, str]]:
        return sorted((c["address"], c["action"]) for c in changes)

    now = actions([c.to_dict() for c in plan.changes])
    if actions(saved.get("resource_changes", [])) != now:
        raise StateError("Saved plan is stale: the live service changed since the plan was made, so applying it "
                         "would do something different. Run plan again.")


def stderr_debug(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
