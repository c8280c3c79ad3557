"""Shared pieces of the benchmarks: an emulator, a generated project, and the real CLI in a subprocess.

Everything measured is the real tool: `ocigen-iac` runs as a child process (`python -m ocigen_iac.cli`)
against an `EmulatorServer` that this process hosts on 127.0.0.1, so the child's wall time and peak
RSS (from `os.wait4`) are the tool's own, and the emulator's request counters are what it sent.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ocigen_iac.emulator import EmulatorConfig, EmulatorServer, Faults

REPO = Path(__file__).resolve().parents[1]
API_KEY = "bench-key"
KEY_ENV = "OCIGEN_BENCH_API_KEY"
PROJECT = "ocid1.generativeaiproject.oc1..bench"
COMPARTMENT = "ocid1.compartment.oc1..bench"
# the emulator collections (GET /_admin/objects) that hold what a plan lists; the rest is bookkeeping
LIVE_COLLECTIONS = ("files", "vector_stores", "vector_store_files", "containers", "container_files")
LATENCY_MS = 20.0
PARALLELISM = 8


# --- results ---------------------------------------------------------------------------------------
@dataclass
class Figure:
    """One measured figure beside its target. `ok` is None for informational figures."""

    group: str
    name: str
    target: str
    measured: str
    ok: bool | None = None
    deterministic: bool = False  # checked by the CI version too

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else ("PASS" if self.ok else "FAIL")


@dataclass
class Results:
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)  # markdown tables printed after the figures

    def add(self, group: str, name: str, target: str, measured: str, ok: bool | None = None,
            *, deterministic: bool = False) -> Figure:
        fig = Figure(group, name, target, measured, ok, deterministic)
        self.figures.append(fig)
        print(f"  {fig.verdict or 'info':4}  {name}: {measured}   (target: {target})", flush=True)
        return fig

    @property
    def failed(self) -> list[Figure]:
        return [f for f in self.figures if f.ok is False]


# --- emulator --------------------------------------------------------------------------------------
def start_emulator(data_dir: Path, **overrides: Any) -> EmulatorServer:
    cfg: dict[str, Any] = {"data_dir": data_dir, "api_keys": [API_KEY], "ingest_delay_s": 0.0}
    cfg.update(overrides)
    return EmulatorServer(EmulatorConfig(**cfg), host="127.0.0.1", port=0).start()


def set_latency(server: EmulatorServer, latency_ms: float) -> None:
    server.set_faults(Faults(latency_ms=latency_ms))


def counters(server: EmulatorServer) -> dict[str, Any]:
    return server.counters()


def requests_matching(snapshot: dict[str, Any], needle: str, method: str | None = None) -> int:
    """Sum of request counts whose "METHOD /route" key contains `needle` (and starts with `method`)."""
    total = 0
    for key, n in snapshot["requests"].items():
        if needle in key and (method is None or key.startswith(method + " ")):
            total += n
    return total


def seed_files(server: EmulatorServer, count: int, prefix: str, size: int = 64) -> list[str]:
    r = httpx.post(f"{server.url}/_admin/seed_files", json={"count": count, "prefix": prefix, "size": size},
                   timeout=600)
    r.raise_for_status()
    return r.json()["ids"]


# --- a project on disk -----------------------------------------------------------------------------
@dataclass
class Project:
    root: Path
    server: EmulatorServer
    auth_yaml: str = ""

    @classmethod
    def create(cls, root: Path, server: EmulatorServer, auth_yaml: str | None = None) -> Project:
        root.mkdir(parents=True, exist_ok=True)
        (root / "manifests").mkdir(exist_ok=True)
        auth = auth_yaml or f"auth: {{type: api_key, api_key_env: {KEY_ENV}}}"
        (root / "ocigen.yaml").write_text(
            f"region: us-chicago-1\nproject: {PROJECT}\ncompartment: {COMPARTMENT}\n{auth}\n"
            f"endpoints:\n  inference: {server.inference_base}\n  vector_stores: {server.management_base}\n"
            "vars: {env: bench}\n"
        )
        return cls(root, server, auth)

    def write_manifest(self, name: str, text: str) -> None:
        (self.root / "manifests" / name).write_text(text)

    def write_files(self, folder: str, count: int, *, size: int = 200, tag: str = "") -> Path:
        """`count` small, distinct text files under manifests/<folder>/ (f00000.md ...)."""
        d = self.root / "manifests" / folder
        d.mkdir(parents=True, exist_ok=True)
        width = max(5, len(str(count)))
        line = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor\n"
        body = (line * (size // len(line) + 1))[: max(0, size - 40)]
        for i in range(count):
            (d / f"f{i:0{width}d}.md").write_text(f"# document {tag}{i}\n{body}")
        return d

    def cli(self, *args: str, timeout: float = 3600.0) -> CliRun:
        """`ocigen-iac ARGS` in a child process; maxrss_kb is the child's own VmHWM."""
        return self.probe(*args, timeout=timeout)[0]

    def probe(self, *args: str, timeout: float = 3600.0) -> tuple[CliRun, dict[str, Any]]:
        """The CLI through benchmarks.probe: also returns what its hash caches read."""
        report = self.root / ".probe.json"
        report.unlink(missing_ok=True)
        run = run_cli(self.root, [str(report), *args], timeout=timeout, module="benchmarks.probe")
        data = json.loads(report.read_text()) if report.exists() else {}
        if "vm_hwm_kb" in data:
            run.maxrss_kb = int(data["vm_hwm_kb"])
        run.args = list(args)
        return run, data

    def state(self) -> dict[str, Any]:
        return json.loads((self.root / ".ocigen" / "state" / "default.json").read_text())


@dataclass
class CliRun:
    args: list[str]
    returncode: int
    wall_s: float
    maxrss_kb: int
    stdout: str
    stderr: str
    cpu_s: float = 0.0  # user + system CPU of the child (from wait4)

    def check(self, *ok_codes: int) -> CliRun:
        if self.returncode not in (ok_codes or (0,)):
            raise RuntimeError(f"ocigen-iac {' '.join(self.args)} exited {self.returncode}:\n"
                               f"{self.stdout[-3000:]}\n{self.stderr[-3000:]}")
        return self


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCIGEN_")}
    env.update({KEY_ENV: API_KEY, "NO_COLOR": "1", "PYTHONPATH": str(REPO)})
    env.update(extra or {})
    return env


def run_cli(cwd: Path, args: list[str], *, timeout: float = 3600.0, env: dict[str, str] | None = None,
            python_flags: list[str] | None = None, module: str = "ocigen_iac.cli") -> CliRun:
    """Run `python -m MODULE ARGS` in `cwd`; wall time and peak RSS (kB) from wait4."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, *(python_flags or []), "-m", module, *args], cwd=cwd,
                                env=child_env(env), stdout=out, stderr=err)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.002)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return CliRun(args, proc.returncode, wall, int(usage.ru_maxrss), out.read().decode(errors="replace"),
                      err.read().decode(errors="replace"), usage.ru_utime + usage.ru_stime)


MEASURE = REPO / "benchmarks" / "measure.py"


def ocigen_command() -> list[str]:
    """The installed `ocigen-iac` console script (what a user runs), else `python -m ocigen_iac.cli`."""
    script = Path(sys.executable).with_name("ocigen-iac")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ocigen_iac.cli"]


def run_measured(cwd: Path, cmd: list[str], *, timeout: float = 3600.0,
                 env: dict[str, str] | None = None) -> CliRun:
    """Run any command through benchmarks/measure.py: wall time including start-up, and the
    command's own peak RSS (kB) and CPU time, measured by a small launcher (see its docstring)."""
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        report = Path(tmp) / "measure.json"
        proc = subprocess.Popen([sys.executable, str(MEASURE), str(report), *cmd], cwd=cwd, env=child_env(env),
                                stdout=out, stderr=err, start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
            raise RuntimeError(f"{' '.join(cmd)} did not finish within {timeout:.0f} s") from None
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
        if not report.exists():
            raise RuntimeError(f"measure.py failed for {' '.join(cmd)}:\n{stderr[-3000:]}")
        data = json.loads(report.read_text())
    return CliRun(cmd, int(data["returncode"]), float(data["wall_s"]), int(data["maxrss_kb"]), stdout, stderr,
                  float(data["cpu_s"]))


# --- maths -----------------------------------------------------------------------------------------
def loglog_slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log(y) against log(x): the growth exponent."""
    lx = [math.log(x) for x in xs]
    ly = [math.log(max(y, 1e-9)) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    num = sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True))
    den = sum((a - mx) ** 2 for a in lx)
    return num / den if den else float("nan")


def workdir(keep: bool = False) -> Path:
    base = Path(tempfile.mkdtemp(prefix="ocigen-bench-"))
    return base


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
