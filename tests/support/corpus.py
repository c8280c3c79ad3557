"""The usual test corpus: a glob File of Markdown documents attached to a VectorStore `kb`."""

from __future__ import annotations

from pathlib import Path


def file_doc(name: str = "docs", glob: str = "docs/*.md", purpose: str | None = None) -> str:
    """A File manifest document over `glob` (relative to the manifests folder)."""
    extra = f", purpose: {purpose}" if purpose else ""
    return f"apiVersion: ocigen-iac/v1\nkind: File\nmetadata: {{name: {name}}}\nspec: {{glob: {glob}{extra}}}\n"


def kb_manifest(file: str = "docs", glob: str = "docs/*.md", *, purpose: str | None = None,
                store_spec: str = "name: kb-${var.env}") -> str:
    """File `file` (over `glob`) and VectorStore `kb` (`store_spec`, then `files: [file]`)."""
    return (file_doc(file, glob, purpose)
            + f"---\napiVersion: ocigen-iac/v1\nkind: VectorStore\nmetadata: {{name: kb}}\nspec:\n"
            f"  {store_spec}\n  files: [{file}]\n")


def write_docs(folder: Path, count: int) -> None:
    """docI.md for I in 0..count-1, each with its own title and body."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"doc{i}.md").write_text(f"# Document {i}\n\nBody of document {i}.\n")
