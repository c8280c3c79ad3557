"""Orchestration of one command: settings -> manifests -> lock -> state -> refresh -> plan -> apply.

The CLI stays thin: it parses flags, calls one function here, renders, and maps the outcome to
an exit code. Every function validates all input before any network call.

`run_plan` opens state read-only: a plan never writes state (adoptions are proposed, not made).
`run_apply` plans (or checks a saved plan against a fresh one), asks for approval *outside* the
event loop (so Ctrl-C at the prompt is a clean exit 130), then executes exactly the plan's
changes, verifies what it touched, repairs what is missing in bounded rounds, and saves state.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import json
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ocigen_iac.addresses import Address, AddressError
from ocigen_iac.engine.applier import ApplyResult, apply_plan
from ocigen_iac.engine.context import RunContext
from ocigen_iac.engine.expand import expand_instances
from ocigen_iac.engine.hashing import HashCache
from ocigen_iac.engine.live import LiveView
from ocigen_iac.engine.moves import manifest_moves, rename_map
from ocigen_iac.engine.observed import observed_values, record_observed
from ocigen_iac.engine.plan import Action, Plan
from ocigen_iac.engine.planner import PlanRequest, make_plan
from ocigen_iac.engine.refresh import refresh
from ocigen_iac.engine.report import Reporter
from ocigen_iac.engine.verify import touched_parents, verify_apply
from ocigen_iac.errors import Interrupted, PlanError, StateError
from ocigen_iac.manifest.desired import DesiredSet
from ocigen_iac.resources import registry
from ocigen_iac.settings import PROJECT_SCOPE, Settings
from ocigen_iac.state import SyncState, make_backend
from ocigen_iac.state.files import atomic_write, dump_json

LOCAL_API_KEY = "ocigen-local-emulator-key"  # the embedded emulator's key; not a secret
LOCAL_PROJECT = "ocid1.generativeaiproject.oc1..local"
LOCAL_COMPARTMENT = "ocid1.compartment.oc1..local"
REPAIR_ROUNDS = 2


@dataclass
class RunOptions:
    parallelism: int = 16
    rps: float | None = None
    lock_timeout_s: float = 0.0
    debug_log: Callable[[str], None] | None = None
    poll_timeout_s: float = 1800.0
    targets: list[str] = field(default_factory=list)
    excludes: list[str] = field(default_factory=list)
    replace: list[str] = field(default_factory=list)
    skip_checks: bool = False  # apply: do not run the declared checks of what it changed


def settings_digest(settings: Settings) -> str:
    return hashlib.sha256(json.dumps(settings.target_identity(), sort_keys=True).encode()).hexdigest()


def parse_addresses(texts: list[str], flag: str) -> list[Address]:
    out = []
    for t in texts:
        try:
            out.append(Address.parse(t))
        except AddressError as exc:
            raise PlanError(f"{flag} {t}: {exc}") from None
    return out


@contextlib.contextmanager
def fewer_gc_passes() -> Iterator[None]:
    """Run the cyclic garbage collector less often while a run builds its large object graph.

    A plan over tens of thousands of objects allocates millions of small dicts that all stay
    alive (state, desired instances, the live view); with the default thresholds the collector
    re-traverses them over and over. Reference counting still frees everything acyclic at once.
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
def locked_state(settings: Settings, operation: str, lock_timeout_s: float = 0.0, *,
                 readonly: bool = False) -> Iterator[SyncState]:
    backend = make_backend(settings)
    backend.lock(operation, lock_timeout_s)
    sync = SyncState(backend, settings.env)
    try:
        sync.open(readonly=readonly)
        yield sync
    finally:
        try:
            if not readonly:
                sync.checkpoint()
        finally:
            backend.unlock()
            sync.close()


@contextlib.asynccontextmanager
async def api_client(settings: Settings, opts: RunOptions, clock: Any = None) -> AsyncIterator[Any]:
    from ocigen_iac.api import ClientOptions, GenAIClient

    copts = ClientOptions(parallelism=opts.parallelism, rps=opts.rps, debug_log=opts.debug_log)
    api_key = LOCAL_API_KEY if settings.local else None
    async with GenAIClient(settings, copts, api_key=api_key, clock=clock) as client:
        yield client


def make_context(settings: Settings, sync: SyncState, opts: RunOptions, reporter: Reporter) -> RunContext:
    hashes = HashCache(settings.root / ".ocigen" / "cache" / "hashes.json")
    ctx = RunContext(settings=settings, state=sync, hashes=hashes, reporter=reporter,
                     poll_timeout_s=opts.poll_timeout_s)
    if settings.project:
        ctx.scope[PROJECT_SCOPE] = settings.project
    return ctx


def declared_types(desired: DesiredSet) -> set[str]:
    types: set[str] = set()
    for res in desired.resources.values():
        kind = registry.document_kind(res.kind)
        if kind is not None:
            types.update(kind.produces)
    return types


def expand(ctx: RunContext, desired: DesiredSet) -> dict[str, str]:
    ctx.instances, file_digests = expand_instances(desired, ctx.hashes, ctx.settings.root, ctx.owner_tag,
                                                   ctx.settings.owner_tag_key, ctx.state.state.resources)
    ctx.hashes.release()
    return file_digests


async def refresh_and_plan(ctx: RunContext, desired: DesiredSet, mode: str, opts: RunOptions) -> Plan:
    """Expand the manifests, read the service and make the plan.

    Expansion runs first, not in a thread beside the listing: the plan is CPU-bound either way, and
    instances built while pages arrive interleave with them in memory (a 100k no-op plan peaked at
    188-196 MB that way, at 186 MB every time this way, in the same CPU time). What the overlap
    saved, hashing local files while pages were in flight, only counts with a cold hash cache."""
    moves = manifest_moves(desired.moves)
    renames = rename_map(ctx.state.state.resources, moves)
    file_digests = expand(ctx, desired)
    refreshed = await refresh(ctx, declared_types(desired), renames=renames)
    request = PlanRequest(
        instances=ctx.instances, state=ctx.state.state, live=ctx.live, adoptions=refreshed.adoptions, moves=moves,
        mode=mode, env=ctx.settings.env, targets=parse_addresses(opts.targets, "--target"),
        excludes=parse_addresses(opts.excludes, "--exclude"), force_replace=parse_addresses(opts.replace, "--replace"))
    plan = make_plan(request)
    plan.stale_intents = refreshed.stale_intents
    for kind in registry.resource_types():
        mine = [c for c in plan.changes if c.kind == kind.type]
        if mine:
            plan.warnings.extend(kind.plan_warnings(ctx, mine))
    plan.warnings.extend(w for w in [*refreshed.warnings, *ctx.notes] if w not in plan.warnings)
    plan.manifest_digests = dict(desired.manifest_digests)
    plan.file_digests = file_digests
    plan.settings_digest = settings_digest(ctx.settings)
    ctx.hashes.save()
    return plan


def run_plan(settings: Settings, desired: DesiredSet, opts: RunOptions, *, mode: str = "normal",
             reporter: Reporter | None = None, manifests_dir: str = "manifests") -> Plan:
    reporter = reporter or Reporter(quiet=True)
    with fewer_gc_passes(), local_emulator(settings) as settings, \
            locked_state(settings, "plan", opts.lock_timeout_s, readonly=True) as sync:
        ctx = make_context(settings, sync, opts, reporter)

        async def go() -> Plan:
            async with api_client(settings, opts, ctx.clock) as client:
                ctx.client = client
                ctx.set_scope(dict(ctx.scope))
                return await refresh_and_plan(ctx, desired, mode, opts)

        plan = asyncio.run(go())
        plan.manifests_dir = manifests_dir
        return plan


@dataclass
class ApplyOutcome:
    plan: Plan
    result: ApplyResult | None  # None when the user declined or there was nothing to do
    applied: bool = False
    stats: dict[str, Any] = field(default_factory=dict)


def run_apply(settings: Settings, desired: DesiredSet, opts: RunOptions, *, mode: str = "normal",
              confirm: Callable[[Plan], bool] | None = None, saved_plan: Plan | None = None,
              reporter: Reporter | None = None, on_plan: Callable[[Plan], None] | None = None,
              manifests_dir: str = "manifests") -> ApplyOutcome:
    """Plan (or check a saved plan), ask `confirm(plan)`, apply, verify. State persists throughout."""
    reporter = reporter or Reporter()
    operation = "destroy" if mode == "destroy" else "apply"
    with fewer_gc_passes(), local_emulator(settings) as settings, \
            locked_state(settings, operation, opts.lock_timeout_s) as sync:
        if saved_plan is not None:
            check_saved_plan(saved_plan, sync, settings)
        ctx = make_context(settings, sync, opts, reporter)

        async def plan_phase() -> Plan:
            async with api_client(settings, opts, ctx.clock) as client:
                ctx.client = client
                ctx.set_scope(dict(ctx.scope))
                return await refresh_and_plan(ctx, desired, mode, opts)

        plan = asyncio.run(plan_phase())
        _debug(opts, f"plan made: {len(plan.changes)} change(s)")
        plan.manifests_dir = manifests_dir
        if saved_plan is not None:
            check_plan_matches(saved_plan, plan)
            plan = saved_plan  # what was reviewed is what runs
        if on_plan is not None:
            on_plan(plan)
        if mode == "refresh-only":
            asyncio.run(_accept_drift(ctx, plan, settings, opts))
            return ApplyOutcome(plan, ApplyResult(adopted=sum(c.action == Action.ADOPT for c in plan.changes)),
                                applied=True)
        if not plan.changes:
            return ApplyOutcome(plan, None)
        try:
            if confirm is not None and not confirm(plan):
                return ApplyOutcome(plan, None)
        except (KeyboardInterrupt, EOFError):
            raise Interrupted("\nInterrupted at the approval prompt: nothing was changed.") from None

        async def apply_phase() -> ApplyResult:
            async with api_client(settings, opts, ctx.clock) as client:
                ctx.client = client
                ctx.set_scope(dict(ctx.scope))
                cancel, abort = asyncio.Event(), asyncio.Event()
                _install_interrupt(cancel, abort, reporter, client)
                label = "destroy" if mode == "destroy" else "apply"
                result = await apply_plan(ctx, plan, parallelism=opts.parallelism, cancel=cancel, abort=abort,
                                          label=label)
                result.cancelled = result.cancelled or cancel.is_set()
                _debug(opts, "changes applied; verifying")
                if result.failures or result.cancelled or mode == "destroy":
                    return result
                from ocigen_iac.api import NotSent

                try:
                    repaired = await _verify_and_repair(ctx, desired, plan, opts, result, cancel, abort)
                    if not result.missing and not result.failures and not result.cancelled:
                        if repaired:  # the first reading predates the repair
                            await record_observed(ctx, touched_parents(plan))
                        if not opts.skip_checks:
                            result.checks = await run_declared_checks(ctx, desired, touched_parents(plan))
                except NotSent:  # Ctrl-C while verifying: what was applied is saved; verify next time
                    result.cancelled = True
                return result

        result = asyncio.run(apply_phase())
        _debug(opts, "apply finished; saving state")
        outcome = ApplyOutcome(plan, result, applied=True, stats=dict(ctx.stats))
        if result.cancelled:
            sync.checkpoint()
            raise Interrupted("Interrupted: in-flight operations were finished or stopped, and state was saved. "
                              "Run apply again to continue where it stopped.")  # exit 130
        return outcome


async def run_declared_checks(ctx: RunContext, desired: DesiredSet, touched: set[Address] | None) -> list[Any]:
    """Every document kind's declared checks (after an apply: about what it touched)."""
    results = []
    for kind in registry.document_kinds():
        resources = desired.of_kind(kind.kind)
        if resources:
            results.extend(await kind.run_checks(ctx, resources, touched))
    return results


async def _verify_and_repair(ctx: RunContext, desired: DesiredSet, plan: Plan, opts: RunOptions,
                             result: ApplyResult, cancel: asyncio.Event, abort: asyncio.Event) -> bool:
    """Verify, repairing in bounded rounds; True if a repair ran. The touched parents' observed
    values (file counts, usage) are read beside the first verification: one round trip, not two."""
    problems, _ = await asyncio.gather(verify_apply(ctx, plan, ctx.instances),
                                       record_observed(ctx, touched_parents(plan)))
    repaired = False
    for round_no in range(1, REPAIR_ROUNDS + 1):
        if not problems or cancel.is_set():
            break
        ctx.reporter.line(f"Verification: {len(problems)} declared object(s) missing, not ready or not as "
                          f"declared after apply; repairing (round {round_no} of {REPAIR_ROUNDS}).")
        ctx.live = LiveView()
        repair_opts = replace(opts, targets=sorted(problems), excludes=[], replace=[])
        repair = await refresh_and_plan(ctx, desired, "normal", repair_opts)
        if not repair.changes:
            break
        repaired = True
        again = await apply_plan(ctx, repair, parallelism=opts.parallelism, cancel=cancel, abort=abort)
        again.cancelled = again.cancelled or cancel.is_set()
        result.added += again.added
        result.changed += again.changed
        result.destroyed += again.destroyed
        result.adopted += again.adopted
        result.failures.update(again.failures)
        result.notes.extend(n for n in again.notes if n not in result.notes)
        result.repaired += len(repair.changes)
        result.cancelled = again.cancelled
        if again.failures or again.cancelled:
            return repaired
        problems = await verify_apply(ctx, plan, ctx.instances)
    result.missing = problems
    return repaired


async def _accept_drift(ctx: RunContext, plan: Plan, settings: Settings, opts: RunOptions) -> None:
    """--refresh-only apply: record what live objects look like now (and the proposed adoptions);
    change nothing on the service."""
    from ocigen_iac.engine.applier import apply_plan as run_changes

    adoptions = [c for c in plan.changes if c.action == Action.ADOPT]
    if adoptions:
        adopt_plan = replace(plan, changes=adoptions)
        await run_changes(ctx, adopt_plan, parallelism=opts.parallelism)
    for address, rs in list(ctx.state.state.resources.items()):
        kind = registry.resource_type(rs.kind)
        live = ctx.live.get(kind.type, rs.id, rs.parent_id if kind.parent_type else None)
        if live is None or kind.gone_reason(live):
            if kind.parent_type is None or ctx.live.listed(kind.type, rs.parent_id):
                ctx.state.remove(address)
            continue
        snap = {**kind.snapshot(live), **observed_values(kind, live)}
        if "owner_key" in rs.live:
            snap["owner_key"] = rs.live["owner_key"]
        if snap != rs.live:
            updated = type(rs).from_dict(rs.to_dict())
            updated.live = snap
            ctx.state.put(address, updated)


def _install_interrupt(cancel: asyncio.Event, abort: asyncio.Event, reporter: Reporter, client: Any) -> None:
    loop = asyncio.get_running_loop()

    def first() -> None:
        reporter.line("\nInterrupt received: finishing in-flight operations and saving state "
                      "(press Ctrl-C again to stop them at once).")
        cancel.set()
        if hasattr(client, "stop_new_requests"):
            client.stop_new_requests()  # what has not been sent yet is not sent
        loop.remove_signal_handler(signal.SIGINT)
        loop.add_signal_handler(signal.SIGINT, second)

    def second() -> None:
        abort.set()  # the closing line says what happened

    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, first)
        loop.add_signal_handler(signal.SIGTERM, first)


# --- saved plans ---------------------------------------------------------------------------

def save_plan(path: Path, plan: Plan) -> None:
    atomic_write(path, dump_json(plan.to_dict()), mode=0o600)


def load_saved_plan(path: Path) -> Plan:
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or "prior_state" not in data or "format_version" not in data:
            raise ValueError("not an ocigen-iac plan")
        if str(data["format_version"]).split(".")[0] != "1":
            raise StateError(f"{path}: plan format_version {data['format_version']} is not supported by this "
                             "ocigen-iac")
        return Plan.from_dict(data)
    except StateError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AddressError) as exc:
        raise StateError(
            f"{path}: cannot read saved plan ({exc}); create one with `ocigen-iac plan -out {path}`"
        ) from exc


def check_saved_plan(saved: Plan, sync: SyncState, settings: Settings) -> None:
    state = sync.state
    if saved.env != settings.env:
        raise StateError(f"Saved plan is for environment {saved.env!r}, not {settings.env!r}.")
    if state.serial == 0 and not state.resources and not state.deposed and not state.intents \
            and saved.serial == 0 and saved.lineage:
        state.lineage = saved.lineage  # a first plan of a new environment: its state begins with that plan
    if saved.lineage not in (None, state.lineage):
        raise StateError("Saved plan does not match the given state: it was made against a different state "
                         f"(lineage {saved.lineage}, current {state.lineage}). Run plan again.")
    if saved.serial != state.serial:
        raise StateError(
            f"Saved plan is stale: the state was changed by another operation after the plan was created "
            f"(plan serial {saved.serial}, state serial {state.serial}). Run plan again."
        )
    if saved.settings_digest not in ("", settings_digest(settings)):
        raise StateError("Saved plan is stale: ocigen.yaml settings (project, endpoints, owner, vars) changed "
                         "since the plan.")


def _signature(plan: Plan) -> dict[str, tuple[Any, ...]]:
    out = {}
    for c in plan.changes:
        key = f"{c.address}#{c.id}" if c.deposed else str(c.address)
        out[key] = (c.action.value, c.id, str(c.previous_address or ""), (c.importing or {}).get("id"))
    return out


def check_plan_matches(saved: Plan, fresh: Plan) -> None:
    """A saved plan runs only if planning now would do exactly the same (else it is stale, and we
    say which object differs)."""
    for label, old, new in (("manifest", saved.manifest_digests, fresh.manifest_digests),
                            ("local file", saved.file_digests, fresh.file_digests)):
        changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        if changed:
            raise StateError(f"Saved plan is stale: {label} {changed[0]} changed since the plan was made. "
                             "Run plan again.")
    a, b = _signature(saved), _signature(fresh)
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            was = f"the saved plan would {a[key][0]} it" if key in a else "the saved plan leaves it alone"
            now = f"now it needs {b[key][0]}" if key in b else "now it needs nothing"
            raise StateError(f"Saved plan is stale: the live service changed since the plan was made: "
                             f"{key.split('#')[0]}: {was}, but {now}. Run plan again.")


_DEBUG_T0 = time.monotonic()


def _debug(opts: RunOptions, line: str) -> None:
    if opts.debug_log is not None:
        opts.debug_log(line)


def stderr_debug(line: str) -> None:
    print(f"[{time.monotonic() - _DEBUG_T0:7.3f}s] {line}", file=sys.stderr, flush=True)
