"""Performance benchmarks: `python -m benchmarks.run [--quick] [--only NAME ...] [--markdown FILE]`.

Runs every scenario against the emulator on 127.0.0.1 with 20 ms injected latency per request
(vs-sdk: 20 and 60 ms; set-up runs at 0 ms) and parallelism 8, prints each figure beside its target with PASS/FAIL,
and exits 1 if any figure fails. `--markdown FILE` writes the results table (with the machine
description) for docs/performance.md. `--quick` shrinks every size (a smoke test, not the targets).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
from pathlib import Path

from benchmarks import plan_memory, scenarios, vs_sdk
from benchmarks.common import LATENCY_MS, PARALLELISM, Results, workdir

SCENARIOS = ("startup", "noop", "hash", "apply", "memory", "growth", "vs-sdk", "plan-memory")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f", {int(line.split()[1]) / 2**20:.0f} GiB RAM"
    except OSError:
        pass
    return (f"nproc {os.cpu_count()}, {cpu}{mem}, Python {platform.python_version()} "
            f"({platform.python_implementation()}), {platform.system()} {platform.release()}")


def markdown(results: Results, elapsed_s: float) -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    lines = [f"Machine: {machine()}; load average at the end of the run: {load}", "",
             f"Emulator latency {LATENCY_MS:.0f} ms per request, parallelism {PARALLELISM}; "
             f"benchmark run took {elapsed_s / 60:.1f} min.", "",
             "| Group | Figure | Target | Measured | Result |", "|---|---|---|---|---|"]
    for f in results.figures:
        lines.append(f"| {f.group} | {f.name} | {f.target} | {f.measured} | {f.verdict or 'info'} |")
    for table in results.tables:
        lines += ["", table.rstrip("\n")]
    if results.notes:
        lines += ["", *(f"- {n}" for n in results.notes)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="+", choices=SCENARIOS, help="run only these scenarios")
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test; wall targets not meaningful)")
    ap.add_argument("--markdown", type=Path, help="write the results table to this file")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    ap.add_argument("--live-objects", type=int, nargs="+", default=[10_000, 50_000, 100_000],
                    help="plan-memory sizes (live objects)")
    ap.add_argument("--repeats", type=int, default=3, help="vs-sdk repeats (median reported)")
    args = ap.parse_args(argv)
    chosen = args.only or list(SCENARIOS)
    q = args.quick
    results = Results()
    work = workdir()
    t0 = time.perf_counter()
    print(f"ocigen-iac benchmarks ({machine()})\nscratch: {work}", flush=True)
    try:
        if "startup" in chosen:
            print("\n== start-up", flush=True)
            scenarios.startup(results, work)
        if "noop" in chosen:
            print("\n== no-op plan", flush=True)
            sizes = scenarios.NoopSizes(files=500, stores=2) if q else scenarios.NoopSizes()
            scenarios.noop_plan(results, work, sizes)
            shutil.rmtree(work / "emu-noop", ignore_errors=True)
        if "hash" in chosen:
            print("\n== hashing", flush=True)
            scenarios.hash_throughput(results, work, small_files=500 if q else 10_000, big_files=4 if q else 16,
                                      big_mib=8 if q else 64)
        if "apply" in chosen:
            print("\n== apply", flush=True)
            scenarios.apply_new_files(results, work, files=100 if q else 1000)
        if "memory" in chosen:
            print("\n== memory", flush=True)
            scenarios.upload_memory(results, work, size=(64 << 20) if q else (1 << 30))
        if "growth" in chosen:
            print("\n== growth", flush=True)
            scenarios.growth(results, work, [100, 1000, 5000] if q else [1000, 10_000, 50_000])
        if "vs-sdk" in chosen:
            print("\n== vs the openai SDK", flush=True)
            sizes = vs_sdk.VsSdkSizes(docs=100, repeats=1) if q else vs_sdk.VsSdkSizes(repeats=args.repeats)
            vs_sdk.compare(results, work, sizes)
        if "plan-memory" in chosen:
            print("\n== plan memory", flush=True)
            plan_memory.plan_memory(results, work, [1000, 5000] if q else args.live_objects)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - t0
    print("\n" + markdown(results, elapsed))
    if args.markdown:
        args.markdown.write_text(markdown(results, elapsed))
    failed = results.failed
    judged = [f for f in results.figures if f.ok is not None]
    print(f"{len(judged) - len(failed)} of {len(judged)} targets met"
          + (f"; FAILED: {'; '.join(f.name for f in failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
