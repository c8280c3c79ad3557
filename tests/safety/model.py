"""Model-based testing of ocigen-iac: seeded random operation sequences against one project and
one emulator, with the safety invariants checked after every command that exits 0.

A `World` is the model: the documents on disk (a flat glob, a nested glob with repeated base
names, a single-path File, a data file), the stores with their attachments (attributes,
chunking), file batches and containers. Each step makes a few random edits to the world, renders
the manifests and runs one CLI operation: apply (in-process, or as a subprocess that gets SIGINT
or kill -9 at a random moment), `apply --target`, `destroy --target`, a rename (`state mv` or a
`moved:` block), or `state rm` + `import` of the same object.

Invariants (a violation ends its sequence; the next sequence starts from scratch):
  * after a full apply that exits 0: the next plan says "No changes."; every declared document
    is attached, completed, at its File's current id, in every store that declares it; each
    container holds exactly its declared files;
  * after every command that exits 0: live == state (every tracked object exists; every live
    object is tracked or foreign: no orphans, no duplicates); the foreign objects planted at the
    start (a File, a store and a container named like managed ones) are untouched;
  * after an interrupted apply, ONE further apply exits 0 (and the above holds);
  * a rename (`state mv` + renamed manifests) plans no changes; a `moved:` rename plans 0 to add,
    0 to destroy and keeps every File id; `state rm` + `import` of an object keeps its id.

Run it: `python -m tests.safety.model --seed 7 --sequences 20 --steps 25` (prints one summary
line; exit 1 on violations), or `run_model(...)` from a benchmark script.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from ocigen_iac.emulator import EmulatorConfig, EmulatorServer, Faults
from tests.engine.harness import Project, Result
from tests.safety.checks import NO_CHANGES, assert_store_has_exactly, container_file_name
from tests.safety.proc import spawn_cli

WORDS = ("refund", "invoice", "storage", "quota", "policy", "escalate", "backup", "region", "latency",
         "contract", "renewal", "account", "password", "audit", "retention", "upgrade", "billing")
CHUNKINGS: tuple[dict[str, Any] | None, ...] = (
    None,
    {"type": "static", "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}},
    {"type": "static", "static": {"max_chunk_size_tokens": 300, "chunk_overlap_tokens": 100}},
)
STORE_POOL = ("alpha", "beta")
CONTAINER_POOL = ("sandbox", "lab")
BATCH_POOL = ("bulk",)
ENV_VAR = "test"  # ${var.env} in the harness's ocigen.yaml
ALL_OPS = ("apply", "interrupt", "apply_target", "destroy_target", "rename", "rm_import")


class Violation(AssertionError):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Violation(message)


# --- the model ---------------------------------------------------------------------------------
@dataclass
class Attach:
    file: str  # logical File key: flat | nested | guide
    attributes: dict[str, str] = field(default_factory=dict)
    chunking: dict[str, Any] | None = None


@dataclass
class StoreModel:
    files: list[Attach]
    chunking: dict[str, Any] | None = None


@dataclass
class BatchModel:
    store: str
    files: list[str]
    attributes: dict[str, str]


@dataclass
class ContainerModel:
    files: list[str]  # logical File keys (guide, flat)
    paths: list[str]  # data files uploaded straight from disk


class World:
    """What the manifests declare, and the documents on disk."""

    def __init__(self, rng: random.Random, manifests: Path, nested: bool = True) -> None:
        self.rng = rng
        self.dir = manifests
        self.counter = 0
        self.flat: dict[str, str] = {}
        self.nested: dict[str, str] = {}
        self.use_nested = nested
        self.guide = self.text("guide")
        self.data = {"prices.csv": "sku,price\nA1,10\nB2,12\n"}
        self.names = {"flat": "flat", "nested": "nested", "guide": "guide"}
        self.moved: dict[str, str] = {}  # logical key -> previous name, rendered as a moved: block once
        for _ in range(8):
            self.add_flat()
        if nested:
            for rel in ("a/notes.md", "b/notes.md", "a/faq.md"):
                self.nested[rel] = self.text(rel)
        self.stores: dict[str, StoreModel] = {"alpha": StoreModel([Attach("flat"), Attach("guide")])}
        if nested:
            self.stores["alpha"].files.append(Attach("nested", {"section": "nested"}))
        self.batches: dict[str, BatchModel] = {}
        self.containers: dict[str, ContainerModel] = {"sandbox": ContainerModel(["guide"], ["prices.csv"])}
        self.dirty = True

    def text(self, title: str) -> str:
        self.counter += 1
        body = " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(8, 40)))
        return f"# {title}\n\n{body} (revision {self.counter})\n"

    def file_keys(self) -> list[str]:
        return ["flat", "guide"] + (["nested"] if self.use_nested else [])

    # -- edits (each leaves the world valid) ----------------------------------------------------
    def add_flat(self) -> str:
        name = f"f{self.counter}.md"
        self.flat[name] = self.text(name)
        return f"add flat/{name}"

    def edit_flat(self) -> str:
        name = self.rng.choice(sorted(self.flat))
        self.flat[name] += self.text("edit")
        return f"edit flat/{name}"

    def edit_many_flat(self) -> str:
        names = self.rng.sample(sorted(self.flat), max(1, len(self.flat) // 2))
        for name in names:
            self.flat[name] += self.text("revision")
        return f"edit {len(names)} flat documents"

    def delete_flat(self) -> str:
        if len(self.flat) <= 1:
            return self.add_flat()
        name = self.rng.choice(sorted(self.flat))
        del self.flat[name]
        return f"delete flat/{name}"

    def add_nested(self) -> str:
        if not self.use_nested:
            return self.add_flat()
        base = self.rng.choice(("notes.md", "faq.md", "howto.md"))
        folder = self.rng.choice(("a", "b", "c/d"))
        rel = f"{folder}/{base}"
        self.nested[rel] = self.text(rel)
        return f"add nested/{rel}"

    def edit_nested(self) -> str:
        if not self.use_nested:
            return self.edit_flat()
        rel = self.rng.choice(sorted(self.nested))
        self.nested[rel] += self.text("edit")
        return f"edit nested/{rel}"

    def delete_nested(self) -> str:
        if not self.use_nested or len(self.nested) <= 1:
            return self.add_nested()
        rel = self.rng.choice(sorted(self.nested))
        del self.nested[rel]
        return f"delete nested/{rel}"

    def edit_guide(self) -> str:
        self.guide += self.text("edit")
        return "edit guide.md"

    def edit_data(self) -> str:
        self.data["prices.csv"] += f"C{self.counter},{self.rng.randint(1, 99)}\n"
        self.counter += 1
        return "edit data/prices.csv"

    def change_attributes(self) -> str:
        attaches = [(s, a) for s, m in self.stores.items() for a in m.files]
        if not attaches:
            return self.add_store()
        store, att = self.rng.choice(attaches)
        att.attributes = {} if att.attributes and self.rng.random() < 0.3 else {"section": self.rng.choice(WORDS)}
        return f"attributes of {store}/{att.file} -> {att.attributes}"

    def change_chunking(self) -> str:
        if not self.stores:
            return self.add_store()
        store = self.rng.choice(sorted(self.stores))
        model = self.stores[store]
        if model.files and self.rng.random() < 0.5:
            att = self.rng.choice(model.files)
            att.chunking = self.rng.choice(CHUNKINGS)
            return f"chunking of {store}/{att.file} -> {att.chunking}"
        model.chunking = self.rng.choice(CHUNKINGS)
        return f"chunking of {store} -> {model.chunking}"

    def add_store(self) -> str:
        free = [s for s in STORE_POOL if s not in self.stores]
        if not free:
            return self.change_attributes()
        name = self.rng.choice(free)
        keys = self.rng.sample(self.file_keys(), self.rng.randint(1, len(self.file_keys())))
        self.stores[name] = StoreModel([Attach(k) for k in keys], self.rng.choice(CHUNKINGS))
        return f"add store {name} with {keys}"

    def remove_store(self) -> str:
        if not self.stores:
            return self.add_store()
        name = self.rng.choice(sorted(self.stores))
        del self.stores[name]
        for b in [b for b, m in self.batches.items() if m.store == name]:
            del self.batches[b]
        return f"remove store {name}"

    def add_batch(self) -> str:
        free = [b for b in BATCH_POOL if b not in self.batches]
        candidates = [(s, [k for k in self.file_keys() if k not in {a.file for a in m.files}])
                      for s, m in self.stores.items()]
        candidates = [(s, ks) for s, ks in candidates if ks]
        if not free or not candidates:
            return self.remove_batch() if self.batches else self.add_store()
        store, keys = self.rng.choice(candidates)
        self.batches[free[0]] = BatchModel(store, keys, {"source": "batch"})
        return f"add batch {free[0]} -> {store} {keys}"

    def remove_batch(self) -> str:
        if not self.batches:
            return self.add_batch()
        name = self.rng.choice(sorted(self.batches))
        del self.batches[name]
        return f"remove batch {name}"

    def add_container(self) -> str:
        free = [c for c in CONTAINER_POOL if c not in self.containers]
        if not free:
            return self.toggle_container_file()
        name = self.rng.choice(free)
        self.containers[name] = ContainerModel(self.rng.sample(["guide", "flat"], self.rng.randint(0, 2)),
                                               ["prices.csv"] if self.rng.random() < 0.5 else [])
        return f"add container {name}"

    def remove_container(self) -> str:
        if not self.containers:
            return self.add_container()
        name = self.rng.choice(sorted(self.containers))
        del self.containers[name]
        return f"remove container {name}"

    def toggle_container_file(self) -> str:
        if not self.containers:
            return self.add_container()
        name = self.rng.choice(sorted(self.containers))
        c = self.containers[name]
        key = self.rng.choice(["guide", "flat", "prices.csv"])
        target = c.paths if key == "prices.csv" else c.files
        if key in target:
            target.remove(key)
        else:
            target.append(key)
        return f"container {name}: toggle {key}"

    EDITS = ("add_flat", "edit_flat", "edit_many_flat", "delete_flat", "add_nested", "edit_nested", "delete_nested",
             "edit_guide", "edit_data", "change_attributes", "change_chunking", "add_store", "remove_store",
             "add_batch", "remove_batch", "add_container", "remove_container", "toggle_container_file")

    def random_edit(self) -> str:
        self.dirty = True
        return str(getattr(self, self.rng.choice(self.EDITS))())

    # -- rendering ------------------------------------------------------------------------------
    def members(self, key: str) -> list[str]:
        name = self.names[key]
        if key == "flat":
            return [f'file.{name}["{n}"]' for n in sorted(self.flat)]
        if key == "nested":
            return [f'file.{name}["{r}"]' for r in sorted(self.nested)]
        return [f"file.{name}"]

    def declared_documents(self) -> dict[str, set[str]]:
        out = {f"vector_store.{s}": {a for att in m.files for a in self.members(att.file)}
               for s, m in self.stores.items()}
        for b in self.batches.values():
            out[f"vector_store.{b.store}"] |= {a for k in b.files for a in self.members(k)}
        return out

    def declared_container_files(self) -> dict[str, list[str]]:
        """container address -> sorted base names of the files it should hold."""
        out: dict[str, list[str]] = {}
        for name, c in self.containers.items():
            names = [p for p in c.paths]
            for key in c.files:
                names += ["guide.md"] if key == "guide" else sorted(self.flat)
            out[f"container.{name}"] = sorted(names)
        return out

    def top_level_addresses(self) -> list[str]:
        files = [f"file.{self.names[k]}" for k in self.file_keys()] + [a for k in ("flat",) for a in self.members(k)]
        return files + [f"vector_store.{s}" for s in self.stores] + [f"container.{c}" for c in self.containers]

    def render(self) -> None:
        for sub in ("flat", "nested", "data"):
            shutil.rmtree(self.dir / sub, ignore_errors=True)
        for f in self.dir.glob("*.yaml"):
            f.unlink()
        for n, text in self.flat.items():
            _write(self.dir / "flat" / n, text)
        for rel, text in self.nested.items():
            _write(self.dir / "nested" / rel, text)
        for n, text in self.data.items():
            _write(self.dir / "data" / n, text)
        _write(self.dir / "guide.md", self.guide)
        docs: list[dict[str, Any]] = []
        specs = {"flat": {"glob": "flat/*.md"}, "nested": {"glob": "nested/**/*.md"}, "guide": {"path": "guide.md"}}
        for key in self.file_keys():
            doc: dict[str, Any] = {"apiVersion": "ocigen-iac/v1", "kind": "File",
                                   "metadata": {"name": self.names[key]}, "spec": specs[key]}
            if key in self.moved:
                doc["moved"] = [{"from": f"file.{self.moved[key]}"}]
            docs.append(doc)
        for s, m in sorted(self.stores.items()):
            spec: dict[str, Any] = {"name": f"{s}-${{var.env}}", "metadata": {"team": "model"}, "files": []}
            if m.chunking:
                spec["chunking_strategy"] = m.chunking
            for att in m.files:
                entry: dict[str, Any] = {"file": self.names[att.file]}
                if att.attributes:
                    entry["attributes"] = att.attributes
                if att.chunking:
                    entry["chunking_strategy"] = att.chunking
                spec["files"].append(entry)
            if not spec["files"]:
                del spec["files"]
            docs.append({"apiVersion": "ocigen-iac/v1", "kind": "VectorStore", "metadata": {"name": s}, "spec": spec})
        for b, bm in sorted(self.batches.items()):
            docs.append({"apiVersion": "ocigen-iac/v1", "kind": "VectorStoreFileBatch", "metadata": {"name": b},
                         "spec": {"vector_store": bm.store, "files": [self.names[k] for k in bm.files],
                                  "attributes": bm.attributes}})
        for c, cm in sorted(self.containers.items()):
            files: list[Any] = [self.names[k] for k in cm.files] + [{"path": f"data/{p}"} for p in cm.paths]
            spec = {"memory_limit": "1g"}
            if files:
                spec["files"] = files
            docs.append({"apiVersion": "ocigen-iac/v1", "kind": "Container", "metadata": {"name": c}, "spec": spec})
        (self.dir / "model.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# --- foreign objects ---------------------------------------------------------------------------
@dataclass
class Foreign:
    files: dict[str, tuple[str, int]]  # id -> (filename, bytes)
    store: str
    store_view: tuple[str, dict[str, Any], list[str]]  # name, metadata, attached file ids
    container: str
    container_view: tuple[str, list[str]]  # name, file paths

    def ids(self) -> set[str]:
        return set(self.files) | {self.store, self.container}


def plant_foreign(project: Project) -> Foreign:
    """Objects someone else made in the same project, named like the managed ones."""
    http = project.http
    mgmt = project.server.management_base
    files = {}
    for name, body in (("guide.md", b"# someone else's guide\n"), ("f1.md", b"# not ours\n")):
        r = http.post("/files", files={"file": (name, body)}, data={"purpose": "assistants"})
        r.raise_for_status()
        files[r.json()["id"]] = (name, len(body))
    store = http.post(f"{mgmt}/vector_stores", json={"name": f"alpha-{ENV_VAR}", "metadata": {"team": "other"}})
    store.raise_for_status()
    sid = store.json()["id"]
    first = next(iter(files))
    for _ in range(400):  # a new store and new files are not usable at once (bounded wait, as a user would)
        ready = all(http.get(f"/files/{f}").json().get("status") == "processed" for f in files)
        if ready and http.get(f"/vector_stores/{sid}/files").status_code == 200:
            break
        time.sleep(0.025)
    http.post(f"/vector_stores/{sid}/files", json={"file_id": first}).raise_for_status()
    container = http.post("/containers", json={"name": "sandbox"})
    container.raise_for_status()
    cid = container.json()["id"]
    http.post(f"/containers/{cid}/files", json={"file_id": first}).raise_for_status()
    foreign = Foreign(files, sid, ("", {}, []), cid, ("", []))
    foreign.store_view, foreign.container_view = _foreign_views(project, foreign)
    return foreign


def _foreign_views(project: Project, f: Foreign) -> tuple[tuple[str, dict[str, Any], list[str]], tuple[str, list[str]]]:
    objects = project.objects()
    store = next((s for s in objects["vector_stores"] if s["id"] == f.store), None)
    check(store is not None, f"the foreign store {f.store} was deleted")
    attached = sorted(v["id"] for v in objects["vector_store_files"] if v["vector_store_id"] == f.store)
    container = next((c for c in objects["containers"] if c["id"] == f.container), None)
    check(container is not None and container.get("status") != "expired",
          f"the foreign container {f.container} is gone")
    cfiles = sorted(c["path"] for c in objects["container_files"] if c["container_id"] == f.container)
    assert store is not None and container is not None
    return (store["name"], store.get("metadata") or {}, attached), (container["name"], cfiles)


# --- invariants --------------------------------------------------------------------------------
def state_resources(project: Project) -> dict[str, dict[str, Any]]:
    if not project.state_file.exists():
        return {}
    return project.state()["resources"]


def check_foreign_untouched(project: Project, foreign: Foreign) -> None:
    res = state_resources(project)
    tracked = {rs["id"] for rs in res.values()}
    check(not foreign.ids() & tracked, f"foreign objects are tracked in state: {sorted(foreign.ids() & tracked)}")
    live = {f["id"]: (f["filename"], f["bytes"]) for f in project.objects()["files"]}
    for fid, view in foreign.files.items():
        check(live.get(fid) == view, f"the foreign File {fid} {view} was deleted or changed")
    store_view, container_view = _foreign_views(project, foreign)
    check(store_view == foreign.store_view, f"the foreign store changed: {foreign.store_view} -> {store_view}")
    check(container_view == foreign.container_view,
          f"the foreign container changed: {foreign.container_view} -> {container_view}")


def check_live_equals_state(project: Project, foreign: Foreign) -> None:
    """Every tracked object exists; every live object is tracked or foreign (no orphans/duplicates)."""
    res = state_resources(project)
    objects = project.objects()
    by_kind: dict[str, set[tuple[str | None, str]]] = {}
    for rs in res.values():
        by_kind.setdefault(rs["kind"], set()).add((rs.get("parent_id"), rs["id"]))
    tracked_files = {i for _, i in by_kind.get("file", set())}
    tracked_stores = {i for _, i in by_kind.get("vector_store", set())}
    tracked_containers = {i for _, i in by_kind.get("container", set())}
    live_files = {f["id"] for f in objects["files"]}
    live_stores = {s["id"] for s in objects["vector_stores"] if s.get("status") != "expired"}
    live_containers = {c["id"] for c in objects["containers"] if c.get("status") != "expired"}
    live_attachments = {(v["vector_store_id"], v["id"]) for v in objects["vector_store_files"]}
    live_cfiles = {(c["container_id"], c["id"]) for c in objects["container_files"]}
    ours = foreign.ids()
    problems = []
    for label, live, tracked in (("File", live_files, tracked_files), ("store", live_stores, tracked_stores),
                                 ("container", live_containers, tracked_containers)):
        if live - tracked - ours:
            problems.append(f"{len(live - tracked - ours)} live {label}(s) neither tracked nor foreign "
                            f"(orphans or duplicates): {sorted(live - tracked - ours)[:3]}")
        if tracked - live:
            problems.append(f"state tracks {len(tracked - live)} {label}(s) that do not exist: "
                            f"{sorted(tracked - live)[:3]}")
    tracked_att = by_kind.get("vector_store_file", set())
    extra_att = {a for a in live_attachments if a[0] in tracked_stores} - tracked_att
    if extra_att:
        problems.append(f"{len(extra_att)} attachment(s) in managed stores not tracked: {sorted(extra_att)[:3]}")
    if tracked_att - live_attachments:
        problems.append(f"state tracks {len(tracked_att - live_attachments)} attachment(s) that do not exist "
                        f"(e.g. pointing at deleted Files): {sorted(tracked_att - live_attachments)[:3]}")
    tracked_cf = by_kind.get("container_file", set())
    extra_cf = {c for c in live_cfiles if c[0] in tracked_containers} - tracked_cf
    if extra_cf:
        problems.append(f"{len(extra_cf)} container file(s) in managed containers not tracked: {sorted(extra_cf)[:3]}")
    if tracked_cf - live_cfiles:
        problems.append(f"state tracks {len(tracked_cf - live_cfiles)} container file(s) that do not exist")
    check(not problems, "; ".join(problems))


def check_converged(project: Project, world: World, foreign: Foreign) -> None:
    """The full contract after a full apply that exited 0."""
    check_live_equals_state(project, foreign)
    check_foreign_untouched(project, foreign)
    res = state_resources(project)
    deposed = [d["address"] for d in (project.state().get("deposed", []) if project.state_file.exists() else [])]
    check(not deposed, f"replaced objects left in state: {deposed[:3]}")
    for store, docs in world.declared_documents().items():
        try:
            assert_store_has_exactly(project, store, docs)
        except AssertionError as exc:
            raise Violation(str(exc)) from None
    objects = project.objects()
    for address, names in world.declared_container_files().items():
        check(address in res, f"{address} is not in state")
        cid = res[address]["id"]
        live = sorted(container_file_name(c["path"]) for c in objects["container_files"] if c["container_id"] == cid)
        check(live == names, f"{address} holds {live}, declared {names}")
    plan = project.run("plan", "manifests", "--detailed-exitcode")
    check(plan.exit_code == 0 and NO_CHANGES in plan.stdout,
          f"the plan after a successful apply is not clean (exit {plan.exit_code}):\n{_tail(plan)}")
    world.dirty = False
    world.moved.clear()


def _tail(r: Result, n: int = 1500) -> str:
    return r.output[-n:]


# --- operations --------------------------------------------------------------------------------
@dataclass
class Summary:
    seed: int
    sequences: int = 0
    steps: int = 0
    interrupts: int = 0
    violations: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"model: seed={self.seed} sequences={self.sequences} steps={self.steps} "
                f"interrupts={self.interrupts} violations={len(self.violations)}")


class Sequence:
    def __init__(self, project: Project, world: World, foreign: Foreign, rng: random.Random, summary: Summary,
                 ops: tuple[str, ...]) -> None:
        self.p, self.w, self.f, self.rng, self.summary, self.ops = project, world, foreign, rng, summary, ops
        self.log: list[str] = []

    def cli(self, *args: str) -> Result:
        r = self.p.run(*args)
        self.log.append(f"$ ocigen-iac {' '.join(args)} -> {r.exit_code}")
        return r

    def must(self, r: Result, what: str) -> None:
        check(r.exit_code == 0, f"{what} exited {r.exit_code}:\n{_tail(r)}")

    def full_apply(self) -> None:
        self.w.render()
        self.must(self.cli("apply", "manifests", "--auto-approve"), "apply")
        check_converged(self.p, self.w, self.f)

    def converge_first(self) -> None:
        if self.w.dirty:
            self.full_apply()

    def pick_tracked(self, res: dict[str, dict[str, Any]]) -> str | None:
        """A tracked File, store or container: the kind first, so each is as likely as the others."""
        by_kind: dict[str, list[str]] = {}
        for a, rs in sorted(res.items()):
            if rs["kind"] in ("file", "vector_store", "container") and "#" not in a:
                by_kind.setdefault(rs["kind"], []).append(a)
        if not by_kind:
            return None
        return self.rng.choice(by_kind[self.rng.choice(sorted(by_kind))])

    # each op: one CLI operation and the invariants that follow it
    def op_apply(self) -> None:
        self.full_apply()

    def op_interrupt(self) -> None:
        if not self.w.dirty or self.rng.random() < 0.5:  # replacements: the riskiest thing to interrupt
            self.log.append(f"edit: {self.w.edit_many_flat()}")
            self.w.dirty = True
        self.w.render()
        planned = self.cli("plan", "manifests", "--json")
        self.must(planned, "plan")
        changes = len(planned.json()["resource_changes"])
        sig = self.rng.choice((signal.SIGINT, signal.SIGKILL))
        after = self.rng.randint(1, max(1, changes))  # a random moment inside the apply
        url = self.p.server.url
        httpx.post(f"{url}/_admin/counters/reset", timeout=10).raise_for_status()
        parallelism = self.rng.choice(("2", "8"))
        self.p.server.set_faults(Faults(latency_ms=25))
        run = spawn_cli(self.p.root, "apply", "manifests", "--auto-approve", "--parallelism", parallelism)
        try:
            deadline = time.monotonic() + 60
            while run.alive() and _mutations(url) < after and time.monotonic() < deadline:
                time.sleep(0.01)
            interrupted = run.alive()
            if interrupted:
                run.signal(sig)
            code, out, err = run.wait(120)
        finally:
            run.ensure_dead()
            self.p.server.set_faults(Faults())
        name = "SIGINT" if sig == signal.SIGINT else "kill -9"
        self.log.append(f"$ ocigen-iac apply --parallelism {parallelism} (subprocess, {name} after {after} "
                        f"mutating calls) -> {code}")
        if interrupted:
            self.summary.interrupts += 1
            expected = {130, 0} if sig == signal.SIGINT else {-signal.SIGKILL, 0}
            if "Apply complete!" in out:  # the signal came as the process was exiting: nothing was lost
                expected.add(-sig)
            check(code in expected, f"interrupted apply ({name}) exited {code}:\n{err[-1500:]}")
        else:
            check(code == 0, f"apply exited {code}:\n{err[-1500:]}")
        self.must(self.cli("apply", "manifests", "--auto-approve"), f"the one apply after {name}")
        check_converged(self.p, self.w, self.f)

    def op_apply_target(self) -> None:
        self.w.render()
        target = self.rng.choice(self.w.top_level_addresses())
        self.must(self.cli("apply", "manifests", "--auto-approve", "--target", target), f"apply --target {target}")
        plan = self.cli("plan", "manifests", "--detailed-exitcode", "--target", target)
        check(plan.exit_code == 0 and NO_CHANGES in plan.stdout,
              f"plan --target {target} after apply --target is not clean:\n{_tail(plan)}")
        check_live_equals_state(self.p, self.f)
        check_foreign_untouched(self.p, self.f)
        self.w.dirty = True

    def op_destroy_target(self) -> None:
        self.converge_first()
        res = state_resources(self.p)
        target = self.pick_tracked(res)
        if target is None:
            return self.op_apply()
        kind = res[target]["kind"]
        files_before = {a: rs["id"] for a, rs in res.items() if rs["kind"] == "file"}
        self.must(self.cli("destroy", "manifests", "--auto-approve", "--target", target), f"destroy --target {target}")
        after = state_resources(self.p)
        check(target not in after, f"{target} is still in state after destroy --target")
        if kind == "file":
            dangling = sorted(a for a, rs in after.items() if target in rs.get("deps", []))
            check(not dangling, f"records still depend on the destroyed {target}: {dangling[:3]}")
            files_before.pop(target)
        files_after = {a: rs["id"] for a, rs in after.items() if rs["kind"] == "file"}
        check(files_after == files_before, f"destroy --target {target} changed other Files: "
                                           f"{sorted(set(files_before.items()) ^ set(files_after.items()))[:3]}")
        check_live_equals_state(self.p, self.f)
        check_foreign_untouched(self.p, self.f)
        self.w.dirty = True

    def op_rename(self) -> None:
        self.converge_first()
        key = self.rng.choice(self.w.file_keys())
        old = self.w.names[key]
        new = f"{key}-v{self.w.counter}"
        self.w.counter += 1
        res = state_resources(self.p)
        ids_before = {a.replace(f"file.{old}", f"file.{new}", 1): rs["id"] for a, rs in res.items()
                      if rs["kind"] == "file" and (a == f"file.{old}" or a.startswith(f"file.{old}["))}
        self.w.names[key] = new
        if self.rng.random() < 0.5:
            self.must(self.cli("state", "mv", f"file.{old}", f"file.{new}"), f"state mv file.{old} file.{new}")
            self.w.render()
            plan = self.cli("plan", "manifests", "--detailed-exitcode")
            check(plan.exit_code == 0 and NO_CHANGES in plan.stdout,
                  f"after state mv file.{old} file.{new} and the same rename in the manifests the plan is not "
                  f"clean:\n{_tail(plan)}")
        else:
            self.w.moved[key] = old
            self.w.render()
            self.log.append(f"(manifest) moved: file.{old} -> file.{new}")
            plan = self.cli("plan", "manifests", "--json")
            self.must(plan, "plan with a moved: block")
            summary = plan.json()["change_summary"]
            check(summary["add"] == 0 and summary["destroy"] == 0,
                  f"a moved: rename of file.{old} plans {summary}, expected 0 to add and 0 to destroy")
            self.full_apply()
        res = state_resources(self.p)
        ids_after = {a: res[a]["id"] for a in ids_before if a in res}
        check(ids_after == ids_before,
              f"the rename of file.{old} re-created Files: {sorted(set(ids_before) - set(ids_after))[:3]}")

    def op_rm_import(self) -> None:
        self.converge_first()
        res = state_resources(self.p)
        address = self.pick_tracked(res)
        if address is None:
            return self.op_apply()
        oid = res[address]["id"]
        self.must(self.cli("state", "rm", address), f"state rm {address}")
        self.must(self.cli("import", address, oid), f"import {address} {oid}")
        self.full_apply()
        now = state_resources(self.p).get(address, {}).get("id")
        check(now == oid, f"{address} was re-created after state rm + import of {oid} (now {now})")

    def step(self) -> None:
        for _ in range(self.rng.randint(0, 3)):
            self.log.append(f"edit: {self.w.random_edit()}")
        op = self.rng.choice(self.ops)
        getattr(self, f"op_{op}")()


def _mutations(url: str) -> int:
    counters = httpx.get(f"{url}/_admin/counters", timeout=10).json()["requests"]
    return sum(n for k, n in counters.items() if k.startswith(("POST", "DELETE")))


def run_sequence(workdir: Path, seed: int, index: int, steps: int, summary: Summary,
                 ops: tuple[str, ...] = ALL_OPS, nested: bool = True) -> None:
    rng = random.Random(f"{seed}:{index}")
    base = workdir / f"seq{index}"
    server = EmulatorServer(EmulatorConfig(data_dir=base / "emulator", api_keys=["test-key"], ingest_delay_s=0.01),
                            host="127.0.0.1", port=0).start()
    try:
        project = Project(base / "proj", server, example_manifests=False)
        world = World(rng, project.root / "manifests", nested=nested)
        foreign = plant_foreign(project)
        seq = Sequence(project, world, foreign, rng, summary, ops)
        try:
            seq.full_apply()
            for _ in range(steps):
                summary.steps += 1
                seq.step()
            seq.full_apply()  # every sequence ends converged
        except Violation as exc:
            history = "\n    ".join(seq.log[-12:])
            summary.violations.append(f"seed={seed} sequence={index} step={summary.steps}: {exc}\n"
                                      f"  last operations:\n    {history}")
        summary.sequences += 1
    finally:
        server.stop()


def run_model(seed: int, sequences: int, steps: int, workdir: Path | None = None,
              ops: tuple[str, ...] = ALL_OPS, nested: bool = True,
              on_sequence: Callable[[Summary], None] | None = None) -> Summary:
    summary = Summary(seed)
    own = workdir is None
    root = Path(tempfile.mkdtemp(prefix="ocigen-model-")) if workdir is None else workdir
    try:
        for i in range(sequences):
            run_sequence(root, seed, i, steps, summary, ops, nested)
            if on_sequence is not None:
                on_sequence(summary)
    finally:
        if own:
            shutil.rmtree(root, ignore_errors=True)
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sequences", type=int, default=10)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--ops", default=",".join(ALL_OPS), help=f"comma-separated subset of {','.join(ALL_OPS)}")
    ap.add_argument("--no-nested", action="store_true", help="leave out the nested glob")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = ap.parse_args(argv)
    summary = run_model(args.seed, args.sequences, args.steps, ops=tuple(args.ops.split(",")),
                        nested=not args.no_nested)
    for v in summary.violations:
        print(v, file=sys.stderr)
    print(json.dumps({**summary.__dict__, "violations": len(summary.violations)}) if args.json else summary.line())
    return 1 if summary.violations else 0


if __name__ == "__main__":
    sys.exit(main())
