"""A generated corpus: N documents (glob File `docs`, manifests/docs/docI.md) attached to store `kb`."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support import corpus
from tests.support.corpus import kb_manifest

STORE = "vector_store.kb"
MANIFEST = kb_manifest()


def write_docs(manifests: Path, count: int) -> None:
    (manifests / "docs").mkdir(parents=True, exist_ok=True)
    (manifests / "kb.yaml").write_text(MANIFEST)
    corpus.write_docs(manifests / "docs", count)


def edit_docs(manifests: Path, count: int) -> None:
    for i in range(count):
        doc = manifests / "docs" / f"doc{i}.md"
        doc.write_text(doc.read_text() + f"\nRevised paragraph {i}.\n")


def declared(count: int) -> dict[str, set[str]]:
    return {STORE: {f'file.docs["doc{i}.md"]' for i in range(count)}}


def uploads(server_url: str) -> int:
    """File uploads the emulator has answered since its counters were last reset."""
    counters = httpx.get(f"{server_url}/_admin/counters", timeout=10).json()
    return int(counters["requests"].get("POST /openai/v1/files", 0))
