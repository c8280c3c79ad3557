"""The full reliability run: `python -m benchmarks.reliability --seed N`.

Runs, against the emulator (all on 127.0.0.1):
  * faults   the example manifests + a generated corpus (212 files, 3 stores, 2 containers) under
             10% 5xx, 5% 429 (Retry-After 0.2 s), 2% lost creates, jitter, 5% ingestion failures,
             for `--fault-seeds` seeds; each must converge within 3 applies;
  * crashes  `--kills` kill -9 points (uploads, batches, batch polls, container files, store
             creates, right-after-create state writes, time offsets, replacements, destroys); after
             each, ONE apply must converge (the next plan says No changes);
  * model    the model-based test (tests/safety/model.py) for `--model-sequences` x `--model-steps`:
             random edits, renames (moved:), targeted applies and destroys, state mv/rm + import,
             SIGINT and kill -9 at random moments; after every apply that exits 0, live must equal
             the declaration, foreign objects untouched, no duplicates, no orphans;
  * the pytest reliability suites for concurrency, hostile input (slow fuzz included), hostile
             server and secrets (`pytest tests/reliability -m "slow or not slow"` minus faults and
             crashes, which run here).
Every CLI run's output and every state/plan file is scanned for tracebacks and secrets. The run
ends with a table; it exits 1 unless duplicates, orphans, tracebacks, leaks and failures are all 0.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.reliability.scenarios import crash_scenario, faults_scenario
from tests.reliability.support import CorpusShape, Ledger
from tests.safety.model import run_model

REPO = Path(__file__).resolve().parents[1]
PYTEST_FILES = ["test_concurrency.py", "test_hostile_input.py", "test_hostile_server.py", "test_secrets.py",
                "test_state_replay.py", "test_client_disconnect.py"]


def _pytest(seed: int) -> tuple[bool, str]:
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "slow or not slow",
            *[str(REPO / "tests" / "reliability" / f) for f in PYTEST_FILES]]
    env = {"OCIGEN_RELIABILITY_SEED": str(seed)}
    import os

    proc = subprocess.run(args, cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=1800)
    summary = (proc.stdout.strip().splitlines() or ["(no output)"])[-1]
    return proc.returncode == 0, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reliability", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=7, help="seed for fault RNGs and kill points (default 7)")
    parser.add_argument("--kills", type=int, default=50, help="kill -9 points (default 50)")
    parser.add_argument("--fault-seeds", type=int, default=5, help="fault runs over the corpus (default 5)")
    parser.add_argument("--model-sequences", type=int, default=8, help="model-based sequences (default 8)")
    parser.add_argument("--model-steps", type=int, default=20, help="steps per model sequence (default 20)")
    parser.add_argument("--skip-pytest", action="store_true", help="only the fault, crash and model scenarios")
    opts = parser.parse_args(argv)

    t0 = time.monotonic()
    ledger = Ledger()
    duplicates: list[str] = []
    orphans: list[str] = []
    failures: list[str] = []
    converge_runs: list[int] = []
    with tempfile.TemporaryDirectory(prefix="ocigen-reliability-") as tmp:
        work = Path(tmp)
        for i in range(opts.fault_seeds):
            seed = opts.seed * 1000 + i
            out = faults_scenario(work / f"faults-{i}", seed, ledger, CorpusShape())
            print(f"faults seed {seed}: converged in {out.runs_to_converge[0]} apply run(s) "
                  f"(exit codes {', '.join(map(str, out.apply_exits))}); "
                  f"{len(out.duplicates)} duplicates, {len(out.orphans)} orphans", flush=True)
            duplicates += out.duplicates
            orphans += out.orphans
            failures += out.failures
            converge_runs += out.runs_to_converge
        out = crash_scenario(work / "crashes", opts.seed, ledger, kills=opts.kills)
        landed = sum(1 for k in out.kills if "finished first" not in k)
        print(f"crashes: {len(out.kills)} kill -9 ({landed} mid-run), next run converged in "
              f"max {max(out.runs_to_converge, default=0)} run(s); {len(out.duplicates)} duplicates, "
              f"{len(out.orphans)} orphans", flush=True)
        duplicates += out.duplicates
        orphans += out.orphans
        failures += out.failures
        crash_runs = out.runs_to_converge
        failures += [f"not converged in one apply: {s[:1500]}" for s in out.slow]
        model = run_model(opts.seed, opts.model_sequences, opts.model_steps, workdir=work / "model")
        print(model.line(), flush=True)
        failures += model.violations
    suites = "skipped"
    if not opts.skip_pytest:
        ok, summary = _pytest(opts.seed)
        suites = summary
        if not ok:
            failures.append(f"pytest reliability suites: {summary}")
        print(f"pytest (concurrency, hostile input, hostile server, secrets): {summary}", flush=True)
    wall = time.monotonic() - t0

    faults = ", ".join(f"{k} {v}" for k, v in sorted(ledger.faults.items())) or "none"
    rows = [
        ("seed", str(opts.seed)),
        ("runs (CLI invocations, fault + crash scenarios)", str(ledger.runs)),
        ("faults injected (emulator counters)", f"{sum(ledger.faults.values())} ({faults}) + 5% ingestion failures"),
        ("fault runs converged within 3 applies", f"{sum(1 for n in converge_runs if 1 <= n <= 3)}/{len(converge_runs)}"
                                                  f" (runs needed: {converge_runs})"),
        ("kills (kill -9)", str(ledger.kills)),
        ("crash runs converged in ONE apply", f"{sum(1 for n in crash_runs if n == 1)}/{len(crash_runs)}"),
        ("model-based sequences / steps / interrupts / violations",
         f"{model.sequences} / {model.steps} / {model.interrupts} / {len(model.violations)}"),
        ("duplicates", str(len(duplicates))),
        ("orphans", str(len(orphans))),
        ("tracebacks", str(len(ledger.tracebacks))),
        ("secret leaks", str(len(ledger.leaks))),
        ("other failures", str(len(failures))),
        ("pytest suites", suites),
        ("wall time", f"{wall:.0f} s"),
    ]
    width = max(len(k) for k, _ in rows)
    print()
    print(f"| {'metric'.ljust(width)} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for k, v in rows:
        print(f"| {k.ljust(width)} | {v} |")
    for title, items in (("duplicates", duplicates), ("orphans", orphans), ("tracebacks", ledger.tracebacks),
                         ("leaks", ledger.leaks), ("failures", failures)):
        if items:
            print(f"\n{title}:")
            for item in items[:20]:
                print(f"  - {item[:3000]}")
    clean = not (duplicates or orphans or ledger.tracebacks or ledger.leaks or failures)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
