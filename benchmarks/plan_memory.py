"""Peak RSS of a no-op `ocigen-iac plan` against the number of live objects.

For each size L the project is F files (one glob) and K stores each attaching all of them, so
L = F + K x F + K live objects; it is built by `ocigen-iac apply` at 0 ms (the tool as a black
box, so the set-up does not depend on the engine's internals), then measured by no-op plans at
the benchmark latency through benchmarks/measure.py (the plan process's own peak RSS). The
per-object figure is the peak above the fixed footprint of a one-file plan, divided by L.
"""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path

import httpx

from benchmarks.common import (
    LATENCY_MS,
    LIVE_COLLECTIONS,
    PARALLELISM,
    Project,
    Results,
    loglog_slope,
    ocigen_command,
    run_measured,
    set_latency,
    start_emulator,
)

HEADER = "apiVersion: ocigen-iac/v1\n"
KB_PER_OBJECT = 1.5
MB_AT_100K = 200.0
STORES = 4


def _manifest(stores: int) -> str:
    docs = [f"{HEADER}kind: File\nmetadata: {{name: docs}}\nspec: {{glob: 'docs/*.md'}}\n"]
    docs += [f"{HEADER}kind: VectorStore\nmetadata: {{name: kb{k}}}\nspec:\n  name: kb{k}\n  files: [docs]\n"
             for k in range(stores)]
    return "---\n".join(docs)


def _plan() -> list[str]:
    return [*ocigen_command(), "plan", "manifests", "--detailed-exitcode", "--parallelism", str(PARALLELISM)]


def measure_size(work: Path, files: int, stores: int, repeats: int) -> dict[str, float]:
    """Build F files x K stores with `apply`, then `repeats` no-op plans: the peak RSS of the worst,
    the wall and CPU of the fastest."""
    tag = f"planmem-{files}x{stores}"
    server = start_emulator(work / f"emu-{tag}")
    try:
        project = Project.create(work / tag, server)
        project.write_files("docs", files, size=200)
        project.write_manifest("kb.yaml", _manifest(stores))
        t0 = time.perf_counter()
        run_measured(project.root, [*ocigen_command(), "apply", "manifests", "--auto-approve",
                                    "--parallelism", str(PARALLELISM)]).check()
        setup_s = time.perf_counter() - t0
        objs = httpx.get(f"{server.url}/_admin/objects", timeout=600).json()
        # the objects a plan lists (not the emulator's bookkeeping maps: `projects` holds one entry
        # per file and store, `store_server_keys` one per store)
        live = sum(len(objs.get(k) or ()) for k in LIVE_COLLECTIONS)
        del objs
        set_latency(server, LATENCY_MS)
        runs, requests = [], 0
        for _ in range(repeats):
            server.reset_counters()
            run = run_measured(project.root, _plan()).check(0)
            if "No changes." not in run.stdout:
                raise RuntimeError(f"the plan of {live} live objects is not a no-op:\n{run.stdout[-2000:]}")
            runs.append(run)
            requests = max(requests, server.counters()["total"])
        set_latency(server, 0)
        fastest = min(runs, key=lambda r: r.wall_s)
        # the peak of the worst plan: the first after an apply also writes the state's fast-load copy
        return {"live": live, "files": files, "rss_mb": max(r.maxrss_kb for r in runs) / 1024,
                "rss_all_mb": [r.maxrss_kb / 1024 for r in runs], "wall_s": fastest.wall_s,
                "cpu_s": fastest.cpu_s, "requests": requests, "setup_s": setup_s}
    finally:
        server.stop()
        shutil.rmtree(work / f"emu-{tag}", ignore_errors=True)
        shutil.rmtree(work / tag, ignore_errors=True)


def plan_memory(results: Results, work: Path, live_sizes: list[int], *, stores: int = STORES,
                repeats: int = 2) -> list[dict[str, float]]:
    group = "Plan memory"
    base = measure_size(work, 1, 1, repeats)["rss_mb"]
    results.add(group, "peak RSS of a no-op plan of 1 file in 1 store (the fixed footprint)", "(informational)",
                f"{base:.0f} MB")
    rows = []
    for target in live_sizes:
        files = max(1, math.ceil((target - stores) / (stores + 1)))  # at least `target` live objects
        row = measure_size(work, files, stores, repeats)
        rows.append(row)
        live = int(row["live"])
        per_kb = (row["rss_mb"] - base) * 1024 / live
        results.add(group, f"no-op plan, {live} live objects ({files} files x {stores} stores): peak RSS above the "
                    f"{base:.0f} MB footprint, per live object", f"<= {KB_PER_OBJECT} kB",
                    f"{per_kb:.2f} kB (peak {row['rss_mb']:.0f} MB, the worst of "
                    f"{'/'.join(f'{m:.0f}' for m in row['rss_all_mb'])} MB; "
                    f"{row['rss_mb'] * 1024 / live:.2f} kB per object "
                    f"in all; {row['wall_s']:.2f} s, {row['cpu_s']:.2f} s CPU, {row['requests']:.0f} "
                    f"requests; set-up apply {row['setup_s']:.0f} s)", per_kb <= KB_PER_OBJECT)
        if live >= 100_000:
            limit = MB_AT_100K * live / 100_000
            results.add(group, f"peak RSS of the no-op plan at {live} live objects", f"<= {limit:.0f} MB",
                        f"{row['rss_mb']:.0f} MB", row["rss_mb"] <= limit)
    if len(rows) >= 2:
        exp = loglog_slope([r["live"] for r in rows], [max(r["rss_mb"] - base, 1.0) for r in rows])
        sizes = ", ".join(str(int(r["live"])) for r in rows)
        results.add(group, f"growth exponent of peak RSS above the footprint ({sizes} live objects)",
                    "about 1 (<= 1.2)", f"{exp:.2f}", exp <= 1.2)
    return rows
