"""`ocigen-iac init` in a folder without ocigen.yaml: write a small project that validates, plans
against the embedded emulator (`--local`) and has a CI workflow. Never overwrites a file."""

from __future__ import annotations

import re
from pathlib import Path

from ocigen_iac.errors import OcigenError

CONFIG = """\
# ocigen-iac project configuration. Flags (--env, --var ...) and OCIGEN_* environment variables
# override it; `ocigen-iac validate` checks it offline.
owner: {owner}   # this project's name in ownership tags: no other project may use it (e.g. team/repo)
region: us-chicago-1
# project: ocid1.generativeaiproject.oc1..xxx   # sent as the OpenAI-Project header
# compartment: ocid1.compartment.oc1..xxx       # opc-compartment-id on vector-store management calls
auth:
  type: api_key                   # or user_principal | session | instance_principal | resource_principal
  api_key_env: OCI_GENAI_API_KEY  # the environment variable that holds the key; keys never live in files
state:
  backend: local                  # `oci` keeps state in Object Storage, with locking, for teams
  path: .ocigen/state
vars:
  env: dev                        # ${{var.env}} in manifests; each environment sets its own
environments:
  dev:  {{vars: {{env: dev}}}}
  prod: {{vars: {{env: prod}}}}
default_environment: dev          # what a run without --env uses
"""

MANIFEST = """\
# An example: a document uploaded as a File, and a vector store that indexes it.
# Paths are relative to this file. Try: ocigen-iac plan --local (the embedded emulator, no account).
apiVersion: ocigen-iac/v1
kind: File
metadata:
  name: welcome
spec:
  path: docs/welcome.md
---
apiVersion: ocigen-iac/v1
kind: VectorStore
metadata:
  name: knowledge-base
spec:
  name: knowledge-base-${var.env}
  metadata: {team: docs}
  files:
    - welcome
"""

DOCUMENT = """\
# Welcome

This document is uploaded as a File and indexed by the `knowledge-base` vector store.
Edit it and run `ocigen-iac plan`: the file is replaced, and the store never lacks it.
"""

GITIGNORE = """\
# ocigen-iac: state, the local emulator's data and the hash cache
.ocigen/
"""

WORKFLOW = """\
# ocigen-iac: check the manifests and show the plan of every pull request in the job summary.
# For plan comments, labels and applying exactly the reviewed plan on merge, use the GitOps kit
# (gitops/ and docs/gitops.md in the ocigen-iac repository).
name: ocigen-iac plan

on:
  pull_request:
    paths: ["manifests/**", "ocigen.yaml"]

permissions:
  contents: read

jobs:
  plan:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    env:
      OCI_GENAI_API_KEY: ${{ secrets.OCI_GENAI_API_KEY }}
    steps:
      - uses: actions/checkout@v5
      - uses: actions/setup-python@v6
        with:
          python-version: "3.12"
      - run: pip install ocigen-iac
      - run: ocigen-iac validate manifests
      - name: Plan
        run: |
          set +e
          ocigen-iac plan manifests --env dev --detailed-exitcode -out dev.plan --format markdown > plan.md
          rc=$?
          set -e
          cat plan.md >> "$GITHUB_STEP_SUMMARY"
          [ "$rc" = 0 ] || [ "$rc" = 2 ]
"""


class ScaffoldRefused(OcigenError):
    pass


def owner_name(folder: Path) -> str:
    """A default `owner:` from the folder's name, in the characters an owner may hold."""
    name = re.sub(r"[^A-Za-z0-9_.@/-]+", "-", folder.name).strip("-.@/") or "my-project"
    return name[:128] if re.match(r"[A-Za-z0-9_]", name) else f"p-{name}"[:128]


def scaffold(root: Path) -> list[str]:
    """Write the example project under `root`; the paths written (relative). Refuses, writing
    nothing, when a file it would write exists or manifests/ already holds manifests."""
    root = root.resolve()
    files = {
        "ocigen.yaml": CONFIG.format(owner=owner_name(root)),
        "manifests/knowledge-base.yaml": MANIFEST,
        "manifests/docs/welcome.md": DOCUMENT,
        ".github/workflows/ocigen-iac-plan.yml": WORKFLOW,
    }
    existing = [name for name in files if (root / name).exists()]
    manifests = root / "manifests"
    if manifests.is_dir() and any(manifests.rglob("*.y*ml")):
        existing.append("manifests/ (it already holds manifests: an example there would be planned with them)")
    if existing:
        raise ScaffoldRefused(
            "init writes a new project only where it overwrites nothing, and these exist: " + ", ".join(existing)
            + ". Move them away, or write ocigen.yaml yourself (then `init` checks the state backend).")
    written = []
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as f:  # "x": never overwrite, even in a race
            f.write(text)
        written.append(name)
    ignore = root / ".gitignore"
    if not ignore.exists():
        ignore.write_text(GITIGNORE, encoding="utf-8")
        written.append(".gitignore")
    elif ".ocigen/" not in ignore.read_text(encoding="utf-8", errors="replace").split():
        with ignore.open("a", encoding="utf-8") as f:  # appended to, never rewritten
            f.write(("\n" if not ignore.read_text(encoding="utf-8", errors="replace").endswith("\n") else "")
                    + GITIGNORE)
        written.append(".gitignore (added .ocigen/)")
    return written
