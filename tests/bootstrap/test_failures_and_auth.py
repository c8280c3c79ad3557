"""Failed files, credentials checked before any call, lost creates, lost state, and --local."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from ocigen_iac.emulator import EmulatorServer, Faults
from tests.api.iam_keys import IamFiles, new_key, write_iam_files

from .conftest import COMPARTMENT, Bootstrap

REPO = Path(__file__).resolve().parents[2]
CONNECTOR = "vector_store_connector.docs-sync"


def _requests(server: EmulatorServer) -> int:
    return httpx.get(f"{server.url}/_admin/counters", timeout=10).json()["total"]


def test_a_failed_file_fails_the_apply_until_it_is_tolerated(boot: Bootstrap) -> None:
    boot.doc("scan.txt").write_bytes(b"\x00\x01\x02 not text")
    r = boot.run("apply", "manifests", "--auto-approve")
    assert r.exit_code == 1, r.output
    assert "1 file(s) of the bucket were not ingested (tolerate_failed_files: 0): kb-docs/handbook/scan.txt" in r.stderr
    assert "3 created" in r.stderr and "Traceback" not in r.output
    assert boot.state()["resources"][CONNECTOR]  # the connector exists and is tracked
    plan = boot.run("plan", "manifests")
    assert f"# {CONNECTOR} will be updated in-place" in plan.stdout  # the next apply tries again
    assert "1 file(s) not ingested" in plan.stdout
    assert boot.run("apply", "manifests", "--auto-approve").exit_code == 1  # still failing: still not tolerated

    assert "has changed" not in plan.stdout  # its own syncs are not drift

    boot.edit("tolerate_failed_files: 0", "tolerate_failed_files: 1")
    boot.assert_no_changes()  # the last sync is good enough now: nothing to do

    boot.doc("more.md").write_text("More text.\n")
    r = boot.apply()
    assert "not ingested (tolerated): kb-docs/handbook/scan.txt" in r.output, r.output
    boot.assert_no_changes()


def test_no_usable_profile_is_a_validation_error_before_any_call(boot: Bootstrap) -> None:
    boot.write_config(profile="NOPE")
    before = _requests(boot.server)
    for command in (("validate", "manifests"), ("plan", "manifests")):
        r = boot.run(*command)
        assert r.exit_code == 1, r.output
        assert "profile [NOPE] is not in" in r.stderr and "Traceback" not in r.output
        assert "auth.type api_key signs these IAM calls with a config profile" in r.stderr
    assert _requests(boot.server) == before


def test_a_key_the_service_does_not_know_is_a_clear_auth_error(
        make_emulator: Callable[..., EmulatorServer], tmp_path: Path, iam: IamFiles) -> None:
    other = write_iam_files(tmp_path / "other", new_key())  # a profile whose key the service does not know
    srv = make_emulator(api_keys=["test-key"], signing_keys={iam.user_key_id: iam.public_pem})
    boot = Bootstrap(tmp_path / "proj", srv, other)
    r = boot.run("apply", "manifests", "--auto-approve")
    assert r.exit_code == 1
    assert "HTTP 401 NotAuthenticated" in r.output and "check auth in ocigen.yaml" in r.output
    assert "Traceback" not in r.output and "BEGIN" not in r.output  # no key material


def test_validate_does_not_import_oci(boot: Bootstrap) -> None:
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom ocigen_iac.cli import app\n"
            "r = CliRunner().invoke(app, ['validate', 'manifests'])\n"
            "print(r.exit_code, 'oci' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=boot.root, capture_output=True, text=True, check=True)
    assert out.stdout.split()[-2:] == ["0", "False"], out.stdout + out.stderr


def test_a_lost_create_is_retried_with_its_retry_token(
        make_emulator: Callable[..., EmulatorServer], tmp_path: Path, iam: IamFiles) -> None:
    """Every second project and connector create is stored but its response lost: the retry with the
    same opc-retry-token gets the stored object back, so one apply makes one of each."""
    faults = Faults(rate_lost_create=0.5, routes=["POST /20231130/generativeAiProjects",
                                                  "POST /20231130/vectorStoreConnectors"])
    srv = make_emulator(api_keys=["test-key"], signing_keys={iam.user_key_id: iam.public_pem}, faults=faults,
                        seed=3, control_plane_delay_s=0.05)
    boot = Bootstrap(tmp_path / "proj", srv, iam)
    boot.apply()
    assert httpx.get(f"{srv.url}/_admin/counters", timeout=10).json()["injected"]["lost_create"] >= 1
    projects = [p for p in boot.ai.list_generative_ai_projects(COMPARTMENT).data.items
                if p.lifecycle_state != "DELETED"]
    connectors = boot.ai.list_vector_store_connectors(COMPARTMENT).data.items
    assert [p.id for p in projects] == [boot.state_id("genai_project.agents")]
    assert [c.id for c in connectors] == [boot.state_id(CONNECTOR)]
    srv.set_faults(Faults())
    boot.assert_no_changes()


def test_lost_state_proposes_adopting_what_carries_the_ownership_tag(boot: Bootstrap) -> None:
    """The project and the connector are found by their ownership freeform tag. (The data-plane
    objects in the project are not: refresh takes the project scope from state only; see
    docs/control-plane.md.)"""
    boot.apply()
    ids = {a: boot.state_id(a) for a in ("genai_project.agents", CONNECTOR)}
    shutil.rmtree(boot.root / ".ocigen" / "state")
    plan = boot.run("plan", "manifests")
    assert f"# genai_project.agents will be adopted into state ({ids['genai_project.agents']} carries this " \
           "project's ownership tag)" in plan.stdout, plan.output
    assert f"# {CONNECTOR} will be adopted and must be replaced ({ids[CONNECTOR]} carries this project's " \
           "ownership tag" in plan.stdout


def test_the_bootstrap_example_with_local(tmp_path: Path) -> None:
    """examples/bootstrap against the embedded emulator, as its README section runs it."""
    root = tmp_path / "bootstrap"
    shutil.copytree(REPO / "examples" / "bootstrap", root, ignore=shutil.ignore_patterns(".ocigen"))
    cli = [sys.executable, "-m", "ocigen_iac.cli"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cli, *args], cwd=root, capture_output=True, text=True, timeout=300)

    r = run("apply", "manifests", "--local", "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Apply complete! Resources: 6 added" in r.stdout
    assert "3 created, 0 updated, 0 deleted, 0 failed, 0 unsupported" in r.stderr
    r = run("plan", "manifests", "--local")
    assert r.returncode == 0 and "No changes." in r.stdout, r.stdout + r.stderr
    r = run("apply", "manifests", "--local", "--auto-approve", "--destroy")
    assert r.returncode == 0 and "Destroy complete! Resources: 6 destroyed." in r.stdout, r.stdout + r.stderr


def test_status_shows_each_connectors_last_sync_and_what_was_not_ingested(boot: Bootstrap) -> None:
    boot.apply()
    data = boot.run("status", "--json").json()
    objects = {o["address"]: o for o in data["objects"]}
    assert data["healthy"] is True, data
    conn = objects[CONNECTOR]
    assert conn["last_sync"]["state"] == "SUCCEEDED" and conn["last_sync"]["stats"]["created"] == 3
    assert conn["summary"].startswith("last sync succeeded (manual, ") and conn["failed_files"] == 0
    assert objects["genai_project.agents"]["health"] == "Healthy"

    boot.doc("scan.txt").write_bytes(b"\x00\x01\x02 not text")
    assert boot.run("apply", "manifests", "--auto-approve").exit_code == 1
    conn = {o["address"]: o for o in boot.run("status", "--json").json()["objects"]}[CONNECTOR]
    assert conn["health"] == "Degraded" and conn["problems"] == ["not ingested: kb-docs/handbook/scan.txt"]
    assert "scan.txt" in boot.run("status").stdout
