"""The reliability scenarios, parameterised so CI runs a small slice and the benchmark the full set.

* `faults_scenario`: apply examples + generated corpus under the issue's fault mix; converge in
  at most 3 applies; zero duplicates and orphans in the emulator's own listing.
* `crash_scenario`: kill -9 the apply/destroy process at seeded points chosen by watching the
  emulator's request counters (uploads, batches, batch polls, container files, deletes,
  replacements, right-after-create state writes, plain time offsets); after each kill the state
  parses and the next run converges with zero duplicates and orphans.
"""

from __future__ import annotations

import random
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocigen_iac.emulator import Faults
from tests.reliability.support import (
    ISSUE_FAULTS,
    CorpusShape,
    Ledger,
    RelProject,
    count_requests,
    edit_documents,
    generate_corpus,
    kill9,
    live_summary,
    start_emulator,
    wait_until,
)

MAX_APPLIES = 3


@dataclass
class Outcome:
    """What one scenario found. Every list must end up empty."""

    name: str
    runs_to_converge: list[int] = field(default_factory=list)
    apply_exits: list[int] = field(default_factory=list)  # fault runs: each apply's exit code
    duplicates: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # convergence / state-parse problems
    slow: list[str] = field(default_factory=list)  # converged, but not in one run (what the first run said)
    kills: list[str] = field(default_factory=list)  # "phase@threshold"

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.orphans or self.failures)


def converge(project: RelProject, command: str = "apply", max_runs: int = MAX_APPLIES) -> tuple[int, str]:
    """Run `command` until it succeeds and the next plan shows no changes. (runs, last output)."""
    last = ""
    for n in range(1, max_runs + 1):
        r = project.run(command, "manifests", "--auto-approve")
        last = r.output
        if n == 1:
            project.first_output = r.output
        if r.exit_code != 0:
            continue
        plan_args = ["plan", "manifests", "--detailed-exitcode"] + (["--destroy"] if command == "destroy" else [])
        p = project.run(*plan_args)
        if p.exit_code == 0:
            return n, last
        last = p.output
        if n == 1:
            project.first_output += "\n--- then plan said:\n" + p.output
    return -1, last


def check(project: RelProject, outcome: Outcome, label: str) -> None:
    dups, orphans = live_summary(project)
    outcome.duplicates += [f"{label}: {d}" for d in dups]
    outcome.orphans += [f"{label}: {o}" for o in orphans]


# --- faults -------------------------------------------------------------------------------------------

def faults_scenario(workdir: Path, seed: int, ledger: Ledger, shape: CorpusShape = CorpusShape(),
                    fault_mix: Faults = ISSUE_FAULTS) -> Outcome:
    outcome = Outcome("faults")
    server = start_emulator(workdir / "emu", seed=seed, faults=fault_mix)
    try:
        project = RelProject(workdir / "proj", server, ledger)
        generate_corpus(project.root, shape)
        runs = 0
        converged = False
        last = ""
        while runs < MAX_APPLIES and not converged:
            runs += 1
            r = project.run("apply", "manifests", "--auto-approve")
            last = r.output
            outcome.apply_exits.append(r.exit_code)
            if r.exit_code == 0:
                server.set_faults(Faults())
                after = project.run("plan", "manifests", "--detailed-exitcode")
                converged = after.exit_code == 0
                server.set_faults(fault_mix)
                if not converged:  # "Apply complete!" must mean equal, faults or not
                    outcome.failures.append(f"seed {seed}: apply {runs} exited 0 but the next plan has changes:\n"
                                            + after.output[-3000:])
        server.set_faults(Faults())
        project.record_faults()
        outcome.runs_to_converge.append(runs if converged else -1)
        if not converged:
            outcome.failures.append(f"seed {seed}: no convergence within {MAX_APPLIES} applies; last apply:\n"
                                    + last[-3000:])
        check(project, outcome, f"faults seed {seed}")
        ledger.scan_files(project.root)
    finally:
        server.stop()
    return outcome


# --- crashes --------------------------------------------------------------------------------------------

CRASH_SHAPE = CorpusShape(stores=2, files_per_store=12, containers=1, container_paths=2)
CRASH_FAULTS = Faults(latency_ms=25, jitter_ms=10)

# phase -> (command, counter to watch, upper bound for the threshold)
PHASES: dict[str, tuple[str, str, int]] = {
    "upload": ("apply", "POST /files", 30),
    "batch": ("apply", "POST /vector_stores/{id}/file_batches", 4),
    "batch-poll": ("apply", "GET /vector_stores/{id}/file_batches/{batch_id}", 3),
    "container-file": ("apply", "POST /containers/{id}/files", 4),
    "store-create": ("apply", "POST /vector_stores", 3),
    "state-write": ("apply", "POST /files", 30),  # the instant after a create response, before state
    "time": ("apply", "", 0),
    "replace-upload": ("apply", "POST /files", 3),
    "replace-delete": ("apply", "DELETE /files/{id}", 3),
    "destroy": ("destroy", "DELETE", 40),
}
PHASE_ORDER = ["upload", "batch", "batch-poll", "container-file", "state-write", "time", "store-create",
               "replace-upload", "replace-delete", "destroy"]


def _any_deletes(snapshot: dict[str, Any]) -> int:
    return sum(n for key, n in snapshot["requests"].items() if key.startswith("DELETE "))


def crash_scenario(workdir: Path, seed: int, ledger: Ledger, kills: int = 50,
                   shape: CorpusShape = CRASH_SHAPE) -> Outcome:
    """`kills` kill -9 points cycling through PHASE_ORDER, thresholds drawn from Random(seed)."""
    outcome = Outcome("crashes")
    rng = random.Random(seed)
    server = start_emulator(workdir / "emu", seed=seed)
    revision = 0
    try:
        project = RelProject(workdir / "proj", server, ledger)
        generate_corpus(project.root, shape)
        doc_names = sorted(p.name for p in (project.root / "manifests" / "corpus").rglob("*.md"))
        applied = False
        for k in range(kills):
            phase = PHASE_ORDER[k % len(PHASE_ORDER)]
            command, counter, upper = PHASES[phase]
            # the starting point each phase needs
            if phase.startswith("replace") or phase == "destroy":
                if not applied:
                    n, out = converge(project)
                    if n < 0:
                        outcome.failures.append(f"kill {k} ({phase}): setup apply did not converge: {out[-800:]}")
                        continue
                    applied = True
                if phase.startswith("replace"):
                    revision += 1
                    edit_documents(project.root, rng.sample(doc_names, 4), revision)
            elif applied:
                d = project.run("destroy", "manifests", "--auto-approve")
                if d.exit_code != 0:
                    outcome.failures.append(f"kill {k} ({phase}): setup destroy failed: {d.output[-800:]}")
                applied = False
            threshold = rng.randint(1, upper) if upper else 0
            delay = rng.uniform(0.0, 1.5) if phase == "time" else 0.0
            label = f"{phase}@{threshold if upper else f'{delay:.2f}s'}"
            project.reset_counters()
            server.set_faults(CRASH_FAULTS)
            proc = project.spawn(command, "manifests", "--auto-approve", "--parallelism", "2")

            def reached(counter: str = counter, threshold: int = threshold,
                        proc: subprocess.Popen = proc) -> bool:
                if proc.poll() is not None:
                    return True
                snap = project.counters()
                if counter == "DELETE":
                    return _any_deletes(snap) >= threshold
                if not counter:
                    return snap["total"] >= 1
                return count_requests(snap, counter) >= threshold

            hit = wait_until(reached, timeout_s=60, interval_s=0.003)
            if phase == "time" and hit:
                time.sleep(delay)
            out, err = kill9(proc)
            server.set_faults(Faults())
            ledger.kills += 1
            ledger.scan(f"killed {command} ({label})", out + err)
            outcome.kills.append(label if proc.returncode == -9 else f"{label} (finished first)")
            try:
                project.state_files_parse()
            except (ValueError, AssertionError) as exc:
                outcome.failures.append(f"kill {k} ({label}): state does not parse: {exc}")
                continue
            finish = "destroy" if command == "destroy" else "apply"
            n, out = converge(project, finish)
            outcome.runs_to_converge.append(n)
            if n < 0:
                outcome.failures.append(f"kill {k} ({label}): {finish} did not converge: {out[-1500:]}")
            elif n > 1:
                outcome.slow.append(f"kill {k} ({label}): the first {finish} after the kill did not converge: "
                                    f"{project.first_output[-1500:]}")
            applied = finish == "apply" and n > 0
            check(project, outcome, f"kill {k} ({label})")
            if command == "destroy":
                state = project.state()
                if state["resources"]:
                    outcome.failures.append(f"kill {k} ({label}): state not empty after destroy")
        ledger.scan_files(project.root)
    finally:
        server.stop()
    return outcome
