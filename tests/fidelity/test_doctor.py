"""`ocigen-iac doctor`: a read-only check of the configured target, on every emulator variant, and
the failures it must explain (wrong key, management base on the inference host, missing headers,
an unreachable host), each with its fix."""

from __future__ import annotations

import os
import re
import shutil
import socket
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ocigen_iac.cli import app
from ocigen_iac.doctor import clock_check
from ocigen_iac.emulator import VARIANTS, EmulatorServer
from tests.engine.harness import REPO, Project
from tests.fidelity.support import CONTAINER_MANIFEST, apply_ok, objects, project_for, requests_by_route, reset_counters

OPTIONAL_APIS = {"containers API"}


def doctor(project: Project, *args: str) -> tuple[int, dict[str, Any]]:
    r = project.run("doctor", "--json", *args)
    assert "Traceback" not in r.output
    data = r.json()
    assert data["ok"] == (r.exit_code == 0), r.output
    return r.exit_code, data


def statuses(data: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in data["checks"]}


def check(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in data["checks"] if c["name"] == name)


def configure(checkout: Project, **lines: str | None) -> None:
    """Replace (or with None, drop) top-level keys of the checkout's ocigen.yaml."""
    path = checkout.root / "ocigen.yaml"
    text = path.read_text()
    for key, value in lines.items():
        if key == "vector_stores":
            text = re.sub(r"(?m)^  vector_stores: .*$", f"  vector_stores: {value}", text)
            continue
        text = re.sub(rf"(?m)^{key}: .*\n", "" if value is None else f"{key}: {value}\n", text)
    path.write_text(text)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_doctor_passes_on_every_variant_and_changes_nothing(
        variant: str, tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> None:
    served = variant != "no-containers"
    project = project_for(tmp_path, make_emulator, variant, containers=served)
    apply_ok(project)  # a store to search
    before = objects(project)
    serial = project.state()["serial"]
    reset_counters(project)

    code, data = doctor(project)
    assert code == 0, data
    expected = {c["name"]: "ok" for c in data["checks"]}
    if not served:
        expected["containers API"] = "warn"  # no manifests given: the service may still be fine
    assert statuses(data) == expected
    assert len(data["checks"]) == 12

    code, with_manifests = doctor(project, "manifests")
    assert code == 0 and statuses(with_manifests)["containers API"] == "ok"  # these manifests declare none

    # read-only: list calls with limit=1 and one search, nothing created, state untouched
    calls = requests_by_route(project)
    assert {k.split(" ", 1)[0] for k in calls} == {"GET", "POST"}, calls
    assert [k for k in calls if k.startswith("POST")] == ["POST /openai/v1/vector_stores/{id}/search"]
    assert objects(project)["files"] == before["files"]
    assert objects(project)["vector_stores"][0]["metadata"] == before["vector_stores"][0]["metadata"]
    assert project.state()["serial"] == serial


def test_doctor_fails_when_the_manifests_declare_containers_a_server_does_not_serve(
        tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> None:
    project = project_for(tmp_path, make_emulator, "no-containers")
    code, data = doctor(project, "manifests")
    assert code == 1
    containers = check(data, "containers API")
    assert containers["status"] == "fail" and "declare" in containers["detail"]
    assert {n for n, s in statuses(data).items() if s == "fail"} == {"containers API"}
    text = project.run("doctor", "manifests")
    assert text.exit_code == 1 and "containers API" in text.stdout and "How to fix:" in text.stdout


def test_doctor_names_the_management_endpoint_fix_when_stores_answer_404_on_the_inference_host(
        tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> None:
    project = project_for(tmp_path, make_emulator)
    configure(project, vector_stores=project.server.inference_base)  # API-key style, on the wrong base
    code, data = doctor(project)
    assert code == 1
    stores = check(data, "vector stores API")
    assert stores["status"] == "fail"
    assert stores["fix"] == ("vector-store management answered 404 on the inference host: set "
                             "endpoints.vector_stores to https://generativeai.us-chicago-1.oci.oraclecloud.com"
                             "/20231130/openai/v1")
    assert statuses(data)["files API"] == "ok"


def test_doctor_reports_a_rejected_key_on_both_hosts_without_showing_it(
        tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> None:
    project = project_for(tmp_path, make_emulator)
    runner = CliRunner()
    cwd = os.getcwd()
    os.chdir(project.root)
    try:
        r = runner.invoke(app, ["doctor"], env={"OCIGEN_TEST_API_KEY": "wrong-secret-key"}, catch_exceptions=False)
    finally:
        os.chdir(cwd)
    assert r.exit_code == 1, r.output
    assert "wrong-secret-key" not in r.output
    lines = {line.split("  ")[0]: line for line in r.stdout.splitlines()}
    for host in ("data plane", "vector-store management"):
        assert " fail " in lines[f"authentication ({host})"], r.stdout
    assert "How to fix:" in r.stdout and "key" in r.stdout.split("How to fix:")[1]


@pytest.mark.parametrize("header", ["project", "compartment"])
def test_doctor_says_which_header_is_missing(
        header: str, tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> None:
    project = project_for(tmp_path, make_emulator)
    configure(project, **{header: None})
    code, data = doctor(project)
    assert code == 1
    failed = {n for n, s in statuses(data).items() if s == "fail"}
    assert f"{header} header" in failed, data
    assert f"{header}:" in check(data, f"{header} header")["fix"]
    assert check(data, "authentication (vector-store management)")["status"] == "ok"


def test_doctor_reports_an_unreachable_host(tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> None:
    project = project_for(tmp_path, make_emulator)
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    text = (project.root / "ocigen.yaml").read_text()
    (project.root / "ocigen.yaml").write_text(text.replace(project.server.url, f"http://127.0.0.1:{port}"))
    code, data = doctor(project)
    assert code == 1
    auth = check(data, "authentication (data plane)")
    assert auth["status"] == "fail" and "cannot reach" in auth["detail"] and auth["fix"]


def test_doctor_works_with_local(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    shutil.copytree(REPO / "manifests", root / "manifests")
    (root / "manifests" / CONTAINER_MANIFEST).unlink()
    runner = CliRunner()
    cwd = os.getcwd()
    os.chdir(root)
    try:
        r = runner.invoke(app, ["doctor", "manifests", "--local"], catch_exceptions=False)
    finally:
        os.chdir(cwd)
    assert r.exit_code == 0, r.output
    assert "All checks passed" in r.stdout and "--local" in r.stdout
    assert not (root / ".ocigen" / "state").exists()  # no state was made


@pytest.mark.parametrize(("skew_s", "iam", "status"), [
    (2, True, "ok"), (90, False, "warn"), (-400, False, "warn"), (400, True, "fail"), (-400, True, "fail")])
def test_clock_skew_is_judged_by_what_the_auth_tolerates(skew_s: float, iam: bool, status: str) -> None:
    header = "Fri, 15 Jan 2027 08:00:00 GMT"
    server = parsedate_to_datetime(header).timestamp()
    assert clock_check((header, server + skew_s), iam).status == status


def test_clock_skew_without_a_date_is_skipped() -> None:
    assert clock_check(None, True).status == "skipped"
    assert clock_check(("yesterday", 0.0), True).status == "skipped"
