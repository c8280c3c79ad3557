"""`load_desired`: a manifest directory -> DesiredSet, or ValidationFailed with every problem.

Owns discovery (every `*.yaml`/`*.yml` below the directory, recursively, sorted; hidden files
and directories skipped; `ocigen.yaml` itself skipped), manifest digests (sha256 of each file's
bytes) and collecting Diagnostics from every stage so they are reported together, sorted by
file and line. Never touches the network.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from ocigen_iac.errors import Diagnostic, ValidationFailed
from ocigen_iac.manifest.desired import DesiredSet
from ocigen_iac.manifest.parse import NameOnly, ParsedDoc, parse_document
from ocigen_iac.manifest.paths import Confinement
from ocigen_iac.manifest.resolve import resolve
from ocigen_iac.manifest.yaml_positions import decode_utf8, load_documents
from ocigen_iac.settings import Settings

MANIFEST_SUFFIXES = (".yaml", ".yml")
CONFIG_NAMES = ("ocigen.yaml", "ocigen.yml")


def discover(directory: Path) -> list[Path]:
    """Manifest files below `directory` (or `directory` itself if it is a file), sorted."""
    if directory.is_file():
        return [directory]
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or not name.endswith(MANIFEST_SUFFIXES) or name in CONFIG_NAMES:
                continue
            found.append(Path(dirpath) / name)
    return sorted(found, key=lambda p: p.relative_to(directory).as_posix())


def load_desired(settings: Settings, manifests_dir: Path, *, environ: Mapping[str, str] | None = None) -> DesiredSet:
    """Load, validate and resolve every manifest below `manifests_dir`.

    Raises ValidationFailed carrying every Diagnostic (sorted by file, line, column).
    `environ` replaces os.environ for `${env.NAME}` (tests).
    """
    root = Path(settings.root).resolve()
    conf = Confinement(root, settings.allow_paths_outside_root)
    # a relative directory is relative to the working directory, like any path argument
    directory = Path(manifests_dir).expanduser().resolve()
    shown_dir = conf.display(directory)
    if not directory.exists():
        raise ValidationFailed(
            [
                Diagnostic(
                    shown_dir,
                    0,
                    0,
                    f"manifest directory {shown_dir!r} does not exist",
                    "pass the directory that holds your *.yaml manifests",
                )
            ]
        )
    files = discover(directory)
    if not files:
        raise ValidationFailed(
            [
                Diagnostic(
                    shown_dir,
                    0,
                    0,
                    f"no manifests found in {shown_dir!r} (no *.yaml or *.yml files)",
                    "add manifest files (apiVersion: ocigen-iac/v1), or pass the right directory",
                )
            ]
        )

    # `${var.env}` is the selected environment's name unless ocigen.yaml defines it.
    variables = {"env": settings.env, **settings.vars}
    problems: list[Diagnostic] = []
    parsed: list[ParsedDoc] = []
    broken: list[NameOnly] = []
    digests: dict[str, str] = {}
    for path in files:
        shown = conf.display(Path(os.path.abspath(path)))
        try:
            raw = path.read_bytes()
        except OSError as exc:
            problems.append(Diagnostic(shown, 0, 0, f"cannot read the file: {exc.strerror or exc}"))
            continue
        digests[shown] = hashlib.sha256(raw).hexdigest()
        text, errs = decode_utf8(raw, shown)
        problems.extend(errs)
        if text is None:
            continue
        docs, errs = load_documents(text, shown)
        problems.extend(errs)
        for doc in docs:
            if doc.data is None:  # an empty document (e.g. a trailing '---')
                continue
            result, errs = parse_document(doc, path.parent, variables, environ)
            problems.extend(errs)
            if isinstance(result, ParsedDoc):
                parsed.append(result)
            elif isinstance(result, NameOnly):
                broken.append(result)
    if not parsed and not problems:
        problems.append(
            Diagnostic(
                shown_dir,
                0,
                0,
                f"no manifests found in {shown_dir!r} (the YAML files are empty)",
                "add documents with apiVersion: ocigen-iac/v1",
            )
        )
    desired, errs = resolve(parsed, broken, conf, settings.owner_tag_key, settings)
    problems.extend(errs)
    if problems:
        unique = list(dict.fromkeys(problems))
        unique.sort(key=lambda d: (d.file, d.line, d.column))
        raise ValidationFailed(unique)
    desired.manifest_digests = digests
    return desired


def document_counts(desired: DesiredSet) -> dict[str, int]:
    """Documents per kind (a glob File is one document however many files it matches)."""
    counts: dict[str, int] = {}
    for kind, _ in dict.fromkeys((r.kind, r.name) for r in desired.resources.values()):
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def summarize(desired: DesiredSet, objects: Mapping[str, int] | None = None) -> str:
    """What `validate` prints: documents (what the files hold) and, given the declared objects by
    resource type, how many objects they declare (what plan counts)."""
    from ocigen_iac.resources import registry

    n_files = len(desired.manifest_digests)
    parts = [kind.summarize(resources) for kind in registry.document_kinds()
             if (resources := desired.of_kind(kind.kind))]
    files = f"{n_files} manifest file{'s' if n_files != 1 else ''}"
    if not parts:
        return f"Found {files} and no documents."
    n_docs = sum(document_counts(desired).values())
    docs = f"{n_docs} document{'s' if n_docs != 1 else ''}"
    if objects is None:
        return f"Found {files}: {docs}: " + ", ".join(parts) + "."
    total = sum(objects.values())
    lines = [f"Found {files}: {docs} declare {total} object{'s' if total != 1 else ''} (plan counts objects).",
             "  documents: " + ", ".join(parts),
             "  objects:   " + ", ".join(f"{n} {t}" for t, n in objects.items())]
    return "\n".join(lines)
