"""What the fidelity tests share: a project wired to an emulator variant, and looks at the service.

Everything here goes through surfaces every version of ocigen-iac has: the CLI (in-process, Typer's
runner) and the emulator's HTTP routes (`/_admin/objects`, `/_admin/counters`, `/_admin/faults`,
`/_admin/expire`). No client or engine internals, so these tests also judge an older client.

`quiet(...)` switches off the strictness a test is *not* about (a new store's readiness delay, a
new file's processing delay), so each test fails for its own reason on a client that lacks the fix.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ocigen_iac.emulator import EmulatorServer, Faults
from tests.engine.harness import Project, Result
from tests.support.corpus import file_doc

NO_CHANGES = "No changes."
STORE = "vector_store.support-kb"
HANDBOOK = "file.handbook"
CONTAINER = "container.analyst-sandbox"
CONTAINER_MANIFEST = "analyst-sandbox.yaml"


def quiet(**overrides: Any) -> dict[str, Any]:
    """Emulator overrides with the readiness delays off (unless the test sets them)."""
    return {"store_ready_delay_s": 0.0, "store_visibility_lag_s": 0.0, "file_process_delay_s": 0.0, **overrides}


def project_for(tmp_path: Path, make_emulator: Callable[..., EmulatorServer], variant: str = "default", *,
                containers: bool = True, name: str = "proj", **overrides: Any) -> Project:
    """The example manifests (without the Container document when `containers=False`) on a variant."""
    server = make_emulator(variant, **overrides)
    project = Project(tmp_path / name, server)
    if not containers:
        (project.root / "manifests" / CONTAINER_MANIFEST).unlink()
    return project


def write_files(folder: Path, count: int, prefix: str = "doc") -> None:
    """`count` small, distinct text files."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"{prefix}-{i:04d}.md").write_text(f"# {prefix} {i}\n\nDocument number {i} about topic {i % 17}.\n")


def bulk_project(tmp_path: Path, server: EmulatorServer, count: int) -> Project:
    """One vector store holding `count` files attached by one file-batch document."""
    project = Project(tmp_path / "bulk", server)
    shutil.rmtree(project.root / "manifests")
    write_files(project.root / "manifests" / "docs", count)
    (project.root / "manifests" / "bulk.yaml").write_text(
        file_doc() + """---
apiVersion: ocigen-iac/v1
kind: VectorStore
metadata: {name: bulk}
spec: {name: bulk-kb}
---
apiVersion: ocigen-iac/v1
kind: VectorStoreFileBatch
metadata: {name: docs}
spec:
  vector_store: bulk
  files: [docs]
  attributes: {section: bulk}
""")
    return project


# --- the CLI ----------------------------------------------------------------------------------
def apply_ok(project: Project, *extra: str) -> Result:
    r = project.run("apply", "manifests", "--auto-approve", *extra)
    assert r.exit_code == 0, f"apply exited {r.exit_code}:\n{r.output[-3000:]}"
    return r


def assert_no_changes(project: Project) -> Result:
    r = project.run("plan", "manifests", "--detailed-exitcode")
    assert r.exit_code == 0 and NO_CHANGES in r.stdout, (
        f"the plan after apply should say {NO_CHANGES!r}; it exited {r.exit_code}:\n{r.output[-3000:]}")
    return r


# --- the service --------------------------------------------------------------------------------
def admin(project: Project, path: str) -> Any:
    r = httpx.get(f"{project.server.url}/_admin/{path}", timeout=30)
    r.raise_for_status()
    return r.json()


def objects(project: Project) -> dict[str, Any]:
    return admin(project, "objects")


def requests_by_route(project: Project) -> dict[str, int]:
    """Requests the emulator served per "METHOD route-template" since the last reset."""
    return dict(admin(project, "counters")["requests"])


def reset_counters(project: Project) -> None:
    httpx.post(f"{project.server.url}/_admin/counters/reset", timeout=30).raise_for_status()


def set_faults(project: Project, faults: Faults) -> None:
    project.server.set_faults(faults)


def expire(project: Project, **which: str) -> None:
    """Delete a file / expire a store or container behind the tool's back (/_admin/expire)."""
    httpx.post(f"{project.server.url}/_admin/expire", json=which, timeout=30).raise_for_status()


def state_ids(project: Project, kind: str) -> dict[str, str]:
    return {a: r["id"] for a, r in project.state()["resources"].items() if r["kind"] == kind}
