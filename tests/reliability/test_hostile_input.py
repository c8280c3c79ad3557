"""Hostile input through the real CLI (in-process): hypothesis mutates manifests and ocigen.yaml.
Whatever comes in, `validate` and `plan` never show a traceback; when the input is invalid both
exit 1 with a message located at file:line, and no request ever reaches the service."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.engine.harness import REPO
from tests.reliability.support import TRACEBACK_MARKERS, Ledger, RelProject, start_emulator

KB = (REPO / "manifests" / "knowledge-base.yaml").read_text()
SANDBOX = (REPO / "manifests" / "analyst-sandbox.yaml").read_text()
LOCATED = re.compile(r"(manifests/[\w./-]+\.ya?ml|ocigen\.yaml):\d+")

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
    st.sampled_from(["../outside.md", "/etc/passwd", "${var.nope}", "${env.HOME}", "${", "docs/*.md",
                     "handbook", "support-kb", "file.handbook", "64g", "0", "-1", "ｆｕｌｌ", "\x00", "~",
                     "https://example.com", "http://10.0.0.1/openai/v1", "aGVsbG8=", "!!python/object:os.system"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10) | st.sampled_from(
        ["path", "glob", "file", "files", "name", "metadata", "type", "days", "minutes", "anchor"]), inner, max_size=3),
), max_leaves=8)


def _replace_value(text: str, line_no: int, value: object) -> str:
    """Put `value` (as YAML flow) after the first ':' of one line, keeping the key."""
    lines = text.splitlines() or [""]
    i = line_no % len(lines)
    key, sep, _ = lines[i].partition(":")
    flow = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).strip()
    flow = flow.removesuffix("...").strip().replace("\n", " ")
    lines[i] = f"{key}: {flow}" if sep else flow
    return "\n".join(lines) + "\n"


mutations = st.one_of(
    st.tuples(st.just("replace"), st.integers(0, 200), values),
    st.tuples(st.just("delete"), st.integers(0, 200), st.none()),
    st.tuples(st.just("duplicate"), st.integers(0, 200), st.none()),
    st.tuples(st.just("insert"), st.integers(0, 200), st.text(max_size=30)),
    st.tuples(st.just("truncate"), st.integers(1, 2000), st.none()),
    st.tuples(st.just("indent"), st.integers(0, 200), st.integers(1, 5)),
)


def mutate(text: str, steps: list[tuple[str, int, object]]) -> str:
    for op, at, arg in steps:
        lines = text.splitlines() or [""]
        i = at % len(lines)
        if op == "replace":
            text = _replace_value("\n".join(lines), i, arg)
            continue
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "insert":
            lines.insert(i, str(arg))
        elif op == "truncate":
            text = text[: at % max(1, len(text))]
            continue
        elif op == "indent":
            lines[i] = " " * int(arg) + lines[i]  # type: ignore[call-overload]
        text = "\n".join(lines) + "\n"
    return text


@pytest.fixture(scope="module")
def fuzz_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelProject]:
    root = tmp_path_factory.mktemp("fuzz")
    server = start_emulator(root / "emu")
    try:
        yield RelProject(root / "proj", server, Ledger())
    finally:
        server.stop()


def _check_rejected_offline(project: RelProject, what: str) -> None:
    """validate; when it refuses, plan must refuse too, both located, with zero API calls."""
    project.reset_counters()
    v = project.run("validate", "manifests")
    for marker in TRACEBACK_MARKERS:
        assert marker not in v.output, f"{what}\n{v.output}"
    assert v.exit_code in (0, 1), f"{what}\n{v.output}"
    if v.exit_code == 0:
        return
    assert LOCATED.search(v.stderr), f"validate message is not located at file:line for {what}:\n{v.stderr}"
    p = project.run("plan", "manifests")
    for marker in TRACEBACK_MARKERS:
        assert marker not in p.output, f"{what}\n{p.output}"
    assert p.exit_code == 1, f"{what}\n{p.output}"
    assert LOCATED.search(p.stderr), f"plan message is not located at file:line for {what}:\n{p.stderr}"
    assert project.counters()["total"] == 0, f"invalid input reached the API: {what}"
    assert not project.ledger.leaks


FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FUZZ
@given(steps=st.lists(mutations, min_size=1, max_size=3), which=st.sampled_from(["kb", "sandbox"]))
def test_mutated_manifest_never_crashes_and_invalid_never_reaches_the_api(
        fuzz_project: RelProject, steps: list, which: str) -> None:
    manifests = fuzz_project.root / "manifests"
    (manifests / "knowledge-base.yaml").write_text(KB)
    (manifests / "analyst-sandbox.yaml").write_text(SANDBOX)
    target = manifests / ("knowledge-base.yaml" if which == "kb" else "analyst-sandbox.yaml")
    target.write_text(mutate(target.read_text(), steps))
    _check_rejected_offline(fuzz_project, f"{target.name} mutated by {steps!r}")


@FUZZ
@given(steps=st.lists(mutations, min_size=1, max_size=3))
def test_mutated_ocigen_yaml_never_crashes_and_invalid_never_reaches_the_api(
        fuzz_project: RelProject, steps: list) -> None:
    manifests = fuzz_project.root / "manifests"
    (manifests / "knowledge-base.yaml").write_text(KB)
    (manifests / "analyst-sandbox.yaml").write_text(SANDBOX)
    config = fuzz_project.root / "ocigen.yaml"
    original = getattr(fuzz_project, "_original_config", None) or config.read_text()
    fuzz_project._original_config = original  # type: ignore[attr-defined]
    try:
        config.write_text(mutate(original, steps))
        _check_rejected_offline(fuzz_project, f"ocigen.yaml mutated by {steps!r}")
    finally:
        config.write_text(original)


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(steps=st.lists(mutations, min_size=1, max_size=5), which=st.sampled_from(["kb", "sandbox"]))
def test_many_mutated_manifests_never_crash(fuzz_project: RelProject, steps: list, which: str) -> None:
    test_mutated_manifest_never_crashes_and_invalid_never_reaches_the_api.hypothesis.inner_test(  # type: ignore[attr-defined]
        fuzz_project, steps, which)


@pytest.mark.parametrize("spec,expected", [
    ("path: ../../outside.md", "leaves the project root"),  # relative to manifests/
    ("path: /etc/hostname", "absolute path '/etc/hostname' is not allowed"),
    ("path: docs/escape.md", "points outside the project root"),  # a symlink pointing outside
    ("glob: ../../*", "leaves the project root"),
])
def test_path_escapes_are_refused_without_an_api_call(fuzz_project: RelProject, spec: str, expected: str) -> None:
    manifests = fuzz_project.root / "manifests"
    (manifests / "knowledge-base.yaml").write_text(KB)
    (manifests / "analyst-sandbox.yaml").write_text(SANDBOX)
    outside = fuzz_project.root.parent / "outside.md"
    outside.write_text("secret-ish\n")
    link = manifests / "docs" / "escape.md"
    if not link.is_symlink():
        link.symlink_to(outside)
    bad = manifests / "escape.yaml"
    bad.write_text(f"apiVersion: ocigen-iac/v1\nkind: File\nmetadata: {{name: escape}}\nspec:\n  {spec}\n")
    try:
        fuzz_project.reset_counters()
        for command in ("validate", "plan"):
            r = fuzz_project.run(command, "manifests")
            assert r.exit_code == 1, r.output
            assert "manifests/escape.yaml:5" in r.stderr, r.stderr
            assert expected in r.stderr, r.stderr
        assert fuzz_project.counters()["total"] == 0
    finally:
        bad.unlink()
        link.unlink()
