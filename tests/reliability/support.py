"""Shared pieces of the reliability suite: a project with a distinctive secret, a generated
corpus, the invariants (no duplicates, no orphans) read from the emulator's own listing, and a
ledger that scans every CLI run for tracebacks and secret leaks.

Used by the pytest files in this folder and by `python -m benchmarks.reliability`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from ocigen_iac.cli import app
from ocigen_iac.emulator import EmulatorConfig, EmulatorServer, Faults
from tests.engine.harness import KEY_ENV, Project, Result

# A key nobody would print by accident: if it shows up anywhere, it leaked.
SECRET_KEY = "sk-ocigen-RELIABILITY-9f27c04e1b5da3"
STATE_REL = Path(".ocigen") / "state"

# The fault mix of the issue: 10% 5xx, 5% 429 (short Retry-After), 2% lost creates, jitter, 5% ingest failures.
ISSUE_FAULTS = Faults(latency_ms=2, jitter_ms=8, rate_5xx=0.10, rate_429=0.05, retry_after_s=0.2,
                      rate_lost_create=0.02, ingest_fail_rate=0.05)

TRACEBACK_MARKERS = ("Traceback (most recent call last)", "internal error:")


def start_emulator(data_dir: Path, *, seed: int = 0, faults: Faults | None = None,
                   extra_keys: tuple[str, ...] = (), **overrides: Any) -> EmulatorServer:
    """An emulator on 127.0.0.1 that accepts SECRET_KEY (and `extra_keys`)."""
    cfg = EmulatorConfig(data_dir=data_dir, api_keys=[SECRET_KEY, *extra_keys], seed=seed,
                         ingest_delay_s=0.01, faults=faults or Faults(), **overrides)
    return EmulatorServer(cfg, host="127.0.0.1", port=0).start()


# --- the ledger ---------------------------------------------------------------------------------

@dataclass
class Ledger:
    """Everything the suite saw: runs, kills, and any traceback or secret leak in any output."""

    secrets: list[str] = field(default_factory=lambda: [SECRET_KEY])
    runs: int = 0
    kills: int = 0
    tracebacks: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)

    def scan(self, where: str, text: str) -> None:
        for marker in TRACEBACK_MARKERS:
            if marker in text:
                at = text.index(marker)
                self.tracebacks.append(f"{where}: {text[max(0, at - 200):at + 1500]}")
                break
        for secret in self.secrets:
            if secret and secret in text:
                self.leaks.append(f"{where}: contains a secret ({secret[:6]}…)")

    def scan_files(self, root: Path) -> None:
        """Grep every state, journal, backup, plan and cache file under `root` for secrets."""
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.suffix in (".md", ".txt", ".csv", ".yaml") or ".venv" in path.parts:
                continue
            with contextlib.suppress(OSError):
                data = path.read_bytes()
                for secret in self.secrets:
                    if secret.encode() in data:
                        self.leaks.append(f"{path}: contains a secret ({secret[:6]}…)")


# --- the project ----------------------------------------------------------------------------------

class RelProject(Project):
    """tests.engine.harness.Project with SECRET_KEY and every run recorded in a Ledger."""

    def __init__(self, root: Path, server: EmulatorServer, ledger: Ledger | None = None,
                 extra_config: str = "") -> None:
        super().__init__(root, server, extra_config)
        self.http.headers["Authorization"] = f"Bearer {SECRET_KEY}"
        self.ledger = ledger or Ledger()
        self.first_output = ""  # what the first run after a kill printed (for a slow convergence)

    def run(self, *args: str) -> Result:
        runner = CliRunner()
        cwd = os.getcwd()
        os.chdir(self.root)
        try:
            r = runner.invoke(app, list(args), env={KEY_ENV: SECRET_KEY})
        finally:
            os.chdir(cwd)
        out = Result(r.exit_code, r.stdout, r.stderr)
        if r.exception is not None and not isinstance(r.exception, SystemExit):
            import traceback

            out.stderr += "".join(traceback.format_exception(r.exception))
        self.ledger.runs += 1
        self.ledger.scan(f"run {' '.join(args)}", out.output)
        return out

    def spawn(self, *args: str, **kw: Any) -> subprocess.Popen:
        env = {**os.environ, KEY_ENV: SECRET_KEY, "PYTHONUNBUFFERED": "1"}
        env.pop("OCIGEN_TRACEBACK", None)
        self.ledger.runs += 1
        return subprocess.Popen([sys.executable, "-m", "ocigen_iac.cli", *args], cwd=self.root, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)

    # --- the service -------------------------------------------------------------------------
    def counters(self) -> dict[str, Any]:
        return httpx.get(f"{self.server.url}/_admin/counters", timeout=30).json()

    def reset_counters(self) -> None:
        httpx.post(f"{self.server.url}/_admin/counters/reset", timeout=30).raise_for_status()

    def set_faults(self, faults: Faults) -> None:
        self.server.set_faults(faults)

    def record_faults(self) -> None:
        """Add the emulator's injected-fault counters to the ledger, then reset them."""
        snap = self.counters()
        self.ledger.faults.update({k: v for k, v in snap["injected"].items() if v})
        self.reset_counters()

    # --- state -------------------------------------------------------------------------------
    @property
    def state_dir(self) -> Path:
        return self.root / STATE_REL

    def state_files_parse(self) -> dict[str, Any]:
        """The snapshot parses as JSON; every journal line but a torn last one parses too."""
        snapshot = self.state_dir / "default.json"
        data = json.loads(snapshot.read_text()) if snapshot.exists() else {"resources": {}, "intents": {}}
        journal = self.state_dir / "default.journal"
        if journal.exists():
            lines = journal.read_bytes().splitlines()
            for i, line in enumerate(lines):
                try:
                    json.loads(line)
                except ValueError:
                    assert i == len(lines) - 1, f"journal line {i + 1} of {len(lines)} is corrupt"
        return data


# --- the corpus -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CorpusShape:
    stores: int = 3
    files_per_store: int = 70
    containers: int = 2
    container_paths: int = 3


def _doc(store: int, i: int, revision: int = 0) -> str:
    words = " ".join(f"term{(store * 7919 + i * 31 + k) % 997}" for k in range(40 + (i * 13) % 200))
    return f"# Corpus {store} document {i} (rev {revision})\n\n{words}\n"


def generate_corpus(project_root: Path, shape: CorpusShape = CorpusShape()) -> int:
    """Write a corpus under manifests/corpus/ (manifests + documents). Returns the number of files.

    Store 0 lists its glob in `files`, store 1 gets its files through a VectorStoreFileBatch,
    store 2 lists them with attributes. Each container gets one managed File and local paths.
    Every filename is unique (the duplicate check keys files on filename + size).
    """
    base = project_root / "manifests" / "corpus"
    docs: list[str] = []
    count = 0
    for s in range(shape.stores):
        d = base / f"kb{s}"
        d.mkdir(parents=True, exist_ok=True)
        for i in range(shape.files_per_store):
            (d / f"kb{s}-doc-{i:03d}.md").write_text(_doc(s, i))
            count += 1
        docs.append(f"""apiVersion: ocigen-iac/v1
kind: File
metadata: {{name: corpus-kb{s}}}
spec:
  glob: kb{s}/*.md
---
apiVersion: ocigen-iac/v1
kind: VectorStore
metadata: {{name: corpus-kb{s}}}
spec:
  name: corpus-kb{s}-${{var.env}}
  metadata: {{corpus: "kb{s}"}}
""")
        if s == 0:
            docs[-1] += "  files: [corpus-kb0]\n"
        elif s == 1:
            docs[-1] += """---
apiVersion: ocigen-iac/v1
kind: VectorStoreFileBatch
metadata: {name: corpus-kb1}
spec:
  vector_store: corpus-kb1
  files: [corpus-kb1]
  attributes: {source: batch}
"""
        else:
            docs[-1] += f"  files:\n    - file: corpus-kb{s}\n      attributes: {{store: {s}}}\n"
    for c in range(shape.containers):
        d = base / f"box{c}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"box{c}-readme.md").write_text(f"# Sandbox {c}\n\nManaged file copied into the container.\n")
        count += 1
        paths = []
        for j in range(shape.container_paths):
            rows = "".join(f"{k},{k * (j + 1)}\n" for k in range(20 + j))
            (d / f"box{c}-data-{j}.csv").write_text("id,value\n" + rows)
            paths.append(f"    - {{path: box{c}/box{c}-data-{j}.csv}}\n")
        docs.append(f"""apiVersion: ocigen-iac/v1
kind: File
metadata: {{name: box{c}-readme}}
spec:
  path: box{c}/box{c}-readme.md
---
apiVersion: ocigen-iac/v1
kind: Container
metadata: {{name: corpus-box{c}}}
spec:
  memory_limit: 1g
  expires_after: {{anchor: last_active_at, minutes: 120}}
  files:
    - box{c}-readme
""" + "".join(paths))
    base.mkdir(parents=True, exist_ok=True)
    (base / "corpus.yaml").write_text("---\n".join(docs))
    return count


def edit_documents(project_root: Path, names: list[str], revision: int) -> None:
    """Change the content of some corpus documents (forces create-before-destroy replacements)."""
    for name in names:
        path = next((project_root / "manifests").rglob(name))
        path.write_text(path.read_text() + f"\nrevision {revision}\n")


# --- the invariants -------------------------------------------------------------------------------

GONE = ("deleted", "expired")


def state_ids(project_root: Path) -> set[str]:
    """Every live id any state snapshot or journal under the project mentions (ids, parents, deposed)."""
    ids: set[str] = set()
    state_dir = project_root / STATE_REL
    for snap in state_dir.glob("*.json"):
        if snap.name.endswith(".lock.json"):
            continue
        data = json.loads(snap.read_text())
        for rs in data.get("resources", {}).values():
            ids.add(rs["id"])
    return ids


def check_invariants(objects: dict[str, list[dict[str, Any]]], tracked: set[str], owner_key: str = "ocigen-iac-owner",
                     foreign: set[str] | None = None) -> tuple[list[str], list[str]]:
    """(duplicates, orphans) in the emulator's own listing.

    Duplicate: two live objects for one address: files with the same filename + bytes, stores with
    the same ownership tag, containers with the same name, two files at one path in a container.
    Orphan: a live object the tool created (all of them, minus `foreign`) that no state tracks.
    """
    foreign = foreign or set()
    dups: list[str] = []
    orphans: list[str] = []
    files = [f for f in objects["files"] if f["id"] not in foreign]
    stores = [s for s in objects["vector_stores"] if s.get("status") not in GONE and s["id"] not in foreign]
    containers = [c for c in objects["containers"] if c.get("status") not in GONE and c["id"] not in foreign]
    live_containers = {c["id"] for c in containers}
    cfiles = [f for f in objects["container_files"] if f.get("container_id") in live_containers]
    live_stores = {s["id"] for s in stores}
    attachments = [a for a in objects["vector_store_files"] if a.get("vector_store_id") in live_stores]

    def dup(what: str, keyed: list[tuple[Any, str]]) -> None:
        seen: dict[Any, str] = {}
        for key, oid in keyed:
            if key in seen:
                dups.append(f"{what} {key}: {seen[key]} and {oid}")
            else:
                seen[key] = oid

    dup("file", [((f.get("filename"), f.get("bytes")), f["id"]) for f in files])
    dup("vector_store", [((s.get("metadata") or {}).get(owner_key), s["id"]) for s in stores
                         if (s.get("metadata") or {}).get(owner_key)])
    dup("container", [(c.get("name"), c["id"]) for c in containers])
    dup("container_file", [((f.get("container_id"), f.get("path")), f["id"]) for f in cfiles])

    for what, items in (("file", files), ("vector_store", stores), ("container", containers),
                        ("container_file", cfiles)):
        orphans += [f"{what} {o['id']} ({o.get('filename') or o.get('name') or o.get('path')})"
                    for o in items if o["id"] not in tracked]
    # an attachment is an orphan when its file is not tracked (attachments are keyed by file id)
    orphans += [f"vector_store_file {a['vector_store_id']}/{a['id']}" for a in attachments if a["id"] not in tracked]
    return dups, orphans


def live_summary(project: RelProject) -> tuple[list[str], list[str]]:
    return check_invariants(project.objects(), state_ids(project.root))


# --- process control --------------------------------------------------------------------------

def wait_until(predicate: Callable[[], bool], timeout_s: float, interval_s: float = 0.01) -> bool:
    """Poll `predicate` until true or `timeout_s` passes (bounded in time and count)."""
    deadline = time.monotonic() + timeout_s
    for _ in range(int(timeout_s / interval_s) + 2):
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval_s)
    return predicate()


def kill9(proc: subprocess.Popen) -> tuple[str, str]:
    """SIGKILL the process (if still running) and collect its output."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=30)
    return out, err


def count_requests(snapshot: dict[str, Any], method_route: str) -> int:
    """Requests counted for 'METHOD /route/template' (API prefixes such as /openai/v1 ignored)."""
    total = 0
    for key, n in snapshot["requests"].items():
        method, _, path = key.partition(" ")
        for prefix in ("/20231130/openai/v1", "/openai/v1"):
            if path.startswith(prefix):
                path = path[len(prefix):]
                break
        if f"{method} {path}" == method_route:
            total += n
    return total


@contextlib.contextmanager
def faults(project: RelProject, f: Faults) -> Iterator[None]:
    project.set_faults(f)
    try:
        yield
    finally:
        project.set_faults(Faults())
