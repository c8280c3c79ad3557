"""ocigen-iac against the same job done with the official `openai` SDK, side by side in one run.

    python -m benchmarks.vs_sdk [--docs N] [--latency MS ...] [--repeats R] [--markdown FILE]
    (also `python -m benchmarks.run --only vs-sdk`)

Both sides run as their own process (start-up included): `ocigen-iac` (the console script) and
benchmarks/sdk_sync.py (what a careful user writes with the SDK), each against a fresh emulator
of the same configuration, with the same injected latency, at parallelism / max concurrency 8.

  A  new store + all N documents: `ocigen-iac apply` of a File glob and a VectorStore, vs
     `vector_stores.create`, then per 500 documents the uploads (8 at a time), a wait until each
     is processed, and `file_batches.create_and_poll`.
     With `--lenient` the emulator makes new stores and files usable at once (as the issue's
     original measurement did), and the SDK side is `file_batches.upload_and_poll(max_concurrency=8)`.
  B  re-sync after editing E documents: `ocigen-iac apply`, vs the SDK script's `sync`.
  C  no-op check: `ocigen-iac plan --detailed-exitcode`, vs the `sync`'s list-and-compare phase.

Between A and B (at 0 ms, not timed) both sides are asked what the edit changes (`plan --json`,
the script's `check`), and after C both stores are compared with the documents: the two sides
must agree. Each figure is the median of R repeats; the side that goes first alternates.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import (
    COMPARTMENT,
    KEY_ENV,
    PARALLELISM,
    PROJECT,
    REPO,
    CliRun,
    Project,
    Results,
    ocigen_command,
    run_measured,
    set_latency,
    start_emulator,
    workdir,
)

SIDES = ("ocigen-iac", "sdk")
SCENARIOS = {"A": "new store + all documents", "B": "re-sync after editing", "C": "no-op check"}
SDK_SCRIPT = REPO / "benchmarks" / "sdk_sync.py"
TARGET_RATIO = 0.7  # ocigen-iac / SDK at the highest latency
HEADER = "apiVersion: ocigen-iac/v1\n"
# --lenient: the emulator's strict readiness off (a new store is ready and a new file processed at once)
LENIENT_EMULATOR = {"store_ready_delay_s": 0.0, "store_visibility_lag_s": 0.0, "file_process_delay_s": 0.0}


@dataclass
class VsSdkSizes:
    docs: int = 1000
    doc_bytes: int = 2000
    edits: int = 10
    latencies_ms: tuple[float, ...] = (20.0, 60.0)
    repeats: int = 3
    lenient: bool = False  # see LENIENT_EMULATOR
    ocigen_defaults: bool = False  # ocigen-iac at its own default parallelism (16, AIMD), not at 8


@dataclass
class Sample:
    wall_s: float
    requests: int
    routes: dict[str, int]
    cpu_s: float
    maxrss_kb: int


@dataclass
class SideRun:
    """One side's A, B and C on its own emulator, plus what it said the edit changes."""

    samples: dict[str, Sample] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)  # document names the side would re-upload
    final: set[tuple[str, int]] = field(default_factory=set)  # (filename, bytes) attached at the end


def edited_indices(sizes: VsSdkSizes) -> list[int]:
    step = max(1, sizes.docs // max(1, sizes.edits))
    return [i * step for i in range(min(sizes.edits, sizes.docs))]


def edit_documents(folder: Path, sizes: VsSdkSizes) -> set[str]:
    names = sorted(p.name for p in folder.iterdir())
    changed = set()
    for i in edited_indices(sizes):
        path = folder / names[i]
        path.write_text(path.read_text() + "edited: a new paragraph for the benchmark\n")
        changed.add(path.name)
    return changed


def attached_in_store(server: Any) -> set[tuple[str, int]]:
    """(filename, bytes) of every completed attachment, via the emulator's admin view."""
    objs = httpx.get(f"{server.url}/_admin/objects", timeout=600).json()
    files = {f["id"]: f for f in objs["files"]}
    out = set()
    for a in objs["vector_store_files"]:
        if a["status"] != "completed":
            raise RuntimeError(f"attachment {a['id']} is {a['status']}")
        f = files[a["id"]]
        out.add((f["filename"], f["bytes"]))
    if len(objs["files"]) != len(objs["vector_store_files"]):
        raise RuntimeError(f"{len(objs['files'])} files but {len(objs['vector_store_files'])} attachments: "
                           "a replaced file was left behind")
    return out


def expected_final(folder: Path) -> set[tuple[str, int]]:
    return {(p.name, p.stat().st_size) for p in folder.iterdir()}


class Side:
    """How one side runs each step. Subclasses give the commands."""

    name = ""

    def __init__(self, root: Path, server: Any, sizes: VsSdkSizes) -> None:
        self.root, self.server, self.sizes = root, server, sizes
        self.project = Project.create(root, server)
        self.docs = self.project.write_files("docs", sizes.docs, size=sizes.doc_bytes)

    def run(self, args: list[str], ok: tuple[int, ...] = (0,)) -> CliRun:
        return run_measured(self.root, args).check(*ok)

    def create(self) -> CliRun:
        raise NotImplementedError

    def sync(self) -> CliRun:
        raise NotImplementedError

    def check(self, expect_changes: bool) -> CliRun:
        raise NotImplementedError

    def changed(self) -> set[str]:
        """Document names the side would re-upload (asked at 0 ms, not timed)."""
        raise NotImplementedError


class OcigenSide(Side):
    name = "ocigen-iac"

    def __init__(self, root: Path, server: Any, sizes: VsSdkSizes) -> None:
        super().__init__(root, server, sizes)
        self.project.write_manifest("kb.yaml", (
            f"{HEADER}kind: File\nmetadata: {{name: docs}}\nspec: {{glob: 'docs/*.md'}}\n---\n"
            f"{HEADER}kind: VectorStore\nmetadata: {{name: kb}}\nspec:\n  name: kb\n  files: [docs]\n"))

    def _cli(self, *args: str) -> list[str]:
        pace = [] if self.sizes.ocigen_defaults else ["--parallelism", str(PARALLELISM)]
        return [*ocigen_command(), *args, *pace]

    def create(self) -> CliRun:
        return self.run(self._cli("apply", "manifests", "--auto-approve"))

    def sync(self) -> CliRun:
        return self.run(self._cli("apply", "manifests", "--auto-approve"))

    def check(self, expect_changes: bool) -> CliRun:
        return self.run(self._cli("plan", "manifests", "--detailed-exitcode"), ok=(2,) if expect_changes else (0,))

    def changed(self) -> set[str]:
        run = self.run(self._cli("plan", "manifests", "--json", "--detailed-exitcode"), ok=(2,))
        plan = json.loads(run.stdout)
        out = set()
        for rc in plan["resource_changes"]:
            if rc["kind"] == "file" and rc["action"] != "no-op":
                out.add((rc.get("after") or rc.get("before") or {})["filename"])
        return out


class SdkSide(Side):
    name = "sdk"

    def _script(self, command: str) -> list[str]:
        s = self.server
        return [sys.executable, str(SDK_SCRIPT), command, "--docs", str(self.docs),
                "--state", str(self.root / "sdk-state.json"), "--name", "kb",
                "--inference-base", s.inference_base, "--management-base", s.management_base,
                "--project", PROJECT, "--compartment", COMPARTMENT, "--api-key-env", KEY_ENV,
                "--concurrency", str(PARALLELISM), *(["--no-processing-wait"] if self.sizes.lenient else [])]

    def create(self) -> CliRun:
        return self.run(self._script("create"))

    def sync(self) -> CliRun:
        return self.run(self._script("sync"))

    def check(self, expect_changes: bool) -> CliRun:
        return self.run(self._script("check"), ok=(2,) if expect_changes else (0,))

    def changed(self) -> set[str]:
        return set(json.loads(self.run(self._script("check"), ok=(2,)).stdout)["upload"])


def measure(server: Any, latency_ms: float, step: Any) -> Sample:
    set_latency(server, latency_ms)
    server.reset_counters()
    try:
        run: CliRun = step()
    finally:
        set_latency(server, 0)
    c = server.counters()
    return Sample(run.wall_s, c["total"], dict(c["requests"]), run.cpu_s, run.maxrss_kb)


def run_side(kind: type[Side], work: Path, sizes: VsSdkSizes, latency_ms: float) -> SideRun:
    tag = f"{kind.name}-{latency_ms:.0f}ms"
    server = start_emulator(work / f"emu-{tag}", **(LENIENT_EMULATOR if sizes.lenient else {}))
    out = SideRun()
    try:
        side = kind(work / tag, server, sizes)
        out.samples["A"] = measure(server, latency_ms, side.create)
        edited = edit_documents(side.docs, sizes)
        out.changed = side.changed()
        if out.changed != edited:
            raise RuntimeError(f"{kind.name} would re-upload {sorted(out.changed)}, edited {sorted(edited)}")
        out.samples["B"] = measure(server, latency_ms, side.sync)
        out.samples["C"] = measure(server, latency_ms, lambda: side.check(expect_changes=False))
        out.final = attached_in_store(server)
        if out.final != expected_final(side.docs):
            raise RuntimeError(f"{kind.name}: the store does not hold exactly the documents after the sync")
    finally:
        server.stop()
        shutil.rmtree(work / f"emu-{tag}", ignore_errors=True)
        shutil.rmtree(work / tag, ignore_errors=True)
    return out


def _median_sample(samples: list[Sample]) -> Sample:
    by_wall = sorted(samples, key=lambda s: s.wall_s)
    return by_wall[len(by_wall) // 2]


def _requests(samples: list[Sample]) -> str:
    lo, hi = min(s.requests for s in samples), max(s.requests for s in samples)
    return str(lo) if lo == hi else f"{lo}-{hi}"


def _routes(sample: Sample) -> str:
    short = {k.replace("/20231130/openai/v1", "[mgmt]").replace("/openai/v1", ""): n for k, n in sample.routes.items()}
    return ", ".join(f"{k} x{n}" for k, n in sorted(short.items(), key=lambda kv: -kv[1]))


def compare(results: Results, work: Path, sizes: VsSdkSizes) -> dict[tuple[str, float], dict[str, list[Sample]]]:
    """Run both sides at every latency, `repeats` times; add one figure per scenario and latency."""
    group = "vs SDK"
    runs: dict[tuple[str, float], dict[str, list[Sample]]] = {}
    for r in range(sizes.repeats):
        for latency in sizes.latencies_ms:
            order = SIDES if r % 2 == 0 else SIDES[::-1]
            for side_name in order:
                kind = OcigenSide if side_name == "ocigen-iac" else SdkSide
                t0 = time.perf_counter()
                side_run = run_side(kind, work, sizes, latency)
                walls = ", ".join(f"{k} {s.wall_s:.2f} s ({s.cpu_s:.2f} s CPU)/{s.requests} req"
                                  for k, s in side_run.samples.items())
                print(f"  repeat {r + 1}/{sizes.repeats}, {latency:.0f} ms, {side_name}: {walls} "
                      f"({time.perf_counter() - t0:.0f} s with set-up)", flush=True)
                for scenario, sample in side_run.samples.items():
                    runs.setdefault((scenario, latency), {}).setdefault(side_name, []).append(sample)
    top = max(sizes.latencies_ms)
    rows = []
    for (scenario, latency), by_side in sorted(runs.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        ours, sdk = by_side["ocigen-iac"], by_side["sdk"]
        t_ours = statistics.median(s.wall_s for s in ours)
        t_sdk = statistics.median(s.wall_s for s in sdk)
        ratio = t_ours / t_sdk
        cpu_ours = statistics.median(s.cpu_s for s in ours)
        cpu_sdk = statistics.median(s.cpu_s for s in sdk)
        rows.append((scenario, latency, t_ours, t_sdk, ratio, _requests(ours), _requests(sdk), cpu_ours, cpu_sdk))
        judged = latency == top
        results.add(group, f"{scenario}. {SCENARIOS[scenario]} ({sizes.docs} docs"
                    f"{f', {sizes.edits} edited' if scenario == 'B' else ''}) at {latency:.0f} ms: "
                    f"ocigen-iac {t_ours:.2f} s / SDK {t_sdk:.2f} s (median of {len(ours)}; "
                    f"requests {_requests(ours)} vs {_requests(sdk)})",
                    f"<= {TARGET_RATIO}" if judged else "(informational)", f"{ratio:.2f}",
                    ratio <= TARGET_RATIO if judged else None)
        for name, samples in (("ocigen-iac", ours), ("sdk", sdk)):
            results.notes.append(f"{scenario} at {latency:.0f} ms, {name} requests: {_routes(_median_sample(samples))}")
    table = vs_table(rows, sizes)
    print("\n" + table, flush=True)
    results.tables.append(table)
    return runs


def vs_table(rows: list[tuple[Any, ...]], sizes: VsSdkSizes) -> str:
    lines = [f"{sizes.docs} documents of ~{sizes.doc_bytes / 1000:.0f} KB, {sizes.edits} edited for B; "
             + (f"ocigen-iac at its default parallelism (16, AIMD), the SDK at {PARALLELISM}"
                if sizes.ocigen_defaults else f"parallelism {PARALLELISM}")
             + f"; {'lenient' if sizes.lenient else 'strict'} emulator; median of {sizes.repeats}; "
             "wall time of the whole process; "
             "CPU = user + system time of that process (the emulator's is not counted)",
             "", "| Scenario | Latency | ocigen-iac s | SDK s | Ratio (ocigen-iac / SDK) | ocigen-iac requests "
             "| SDK requests | ocigen-iac CPU s | SDK CPU s |", "|---|---|---|---|---|---|---|---|---|"]
    for scenario, latency, t_ours, t_sdk, ratio, r_ours, r_sdk, c_ours, c_sdk in rows:
        lines.append(f"| {scenario}. {SCENARIOS[scenario]} | {latency:.0f} ms | {t_ours:.2f} | {t_sdk:.2f} "
                     f"| {ratio:.2f} | {r_ours} | {r_sdk} | {c_ours:.2f} | {c_sdk:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from benchmarks.run import machine, markdown

    ap = argparse.ArgumentParser(prog="python -m benchmarks.vs_sdk", description=__doc__.split("\n")[0])
    d = VsSdkSizes()
    ap.add_argument("--docs", type=int, default=d.docs)
    ap.add_argument("--doc-bytes", type=int, default=d.doc_bytes)
    ap.add_argument("--edits", type=int, default=d.edits)
    ap.add_argument("--latency", type=float, nargs="+", default=list(d.latencies_ms), help="injected ms")
    ap.add_argument("--repeats", type=int, default=d.repeats)
    ap.add_argument("--markdown", type=Path, help="write the results table to this file")
    ap.add_argument("--lenient", action="store_true",
                    help="new stores and files usable at once; the SDK side uses upload_and_poll")
    ap.add_argument("--ocigen-defaults", action="store_true",
                    help="run ocigen-iac at its default parallelism (16, AIMD) instead of 8; the SDK stays at 8")
    args = ap.parse_args(argv)
    sizes = VsSdkSizes(args.docs, args.doc_bytes, args.edits, tuple(args.latency), args.repeats, args.lenient,
                       args.ocigen_defaults)
    results = Results()
    work = workdir()
    print(f"ocigen-iac vs the openai SDK ({machine()})\nscratch: {work}", flush=True)
    t0 = time.perf_counter()
    try:
        compare(results, work, sizes)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = markdown(results, time.perf_counter() - t0)
    if args.markdown:
        args.markdown.write_text(text)
    failed = results.failed
    print(f"{len([f for f in results.figures if f.ok is not None]) - len(failed)} of "
          f"{len([f for f in results.figures if f.ok is not None])} targets met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
