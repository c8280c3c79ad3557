"""Finding the plan reviewed for a merged commit, against the fake GitHub / GitLab API."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from ocigen_iac.gitops.forge import RetryPolicy
from ocigen_iac.gitops.saved_plan import NOT_FOUND, run
from tests.gitops.fake_forge import TOKEN, FakeForge
from tests.gitops.test_markdown import UPDATE, plan

FAST = RetryPolicy(attempts=3, backoff_s=0.01, max_sleep_s=0.05, deadline_s=10)
MERGE, HEAD, OTHER = "1" * 40, "2" * 40, "3" * 40
PLAN_BYTES = (json.dumps(plan(UPDATE)) + "\n").encode()


@pytest.fixture(autouse=True)
def tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)


def github(forge: FakeForge, out: Path, sha: str = MERGE) -> int:
    return run(["--provider", "github", "--sha", sha, "--env", "prod", "--out", str(out), "--repo", "acme/kb",
                "--api-url", forge.url], retry=FAST)


def publish_github_plan(forge: FakeForge) -> None:
    s = forge.state
    s.commit_pulls[MERGE] = [{"number": 12, "merge_commit_sha": MERGE, "head": {"sha": HEAD}}]
    s.runs[HEAD] = [{"id": 702, "event": "pull_request", "conclusion": "success"},  # newest first
                    {"id": 701, "event": "pull_request", "conclusion": "success"}]
    s.artifacts[702] = [{"id": 9002, "name": "ocigen-plan-dev", "expired": False}]  # another env only
    s.artifacts[701] = [{"id": 9001, "name": "ocigen-plan-prod", "expired": False}]
    s.artifact_files[9001] = {"prod.plan": PLAN_BYTES}


def test_github_downloads_the_plan_of_the_merged_pull_request(forge: FakeForge, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    publish_github_plan(forge)
    out = tmp_path / "saved" / "prod.plan"
    assert github(forge, out) == 0
    assert out.read_bytes() == PLAN_BYTES
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "artifact 'ocigen-plan-prod' of run 701" in capsys.readouterr().out
    # the artifact storage (another origin in real life) got no token: it came from a redirect
    blob = [r for r in forge.requests if r.path.startswith("/blob/")]
    assert len(blob) == 1 and "Authorization" not in blob[0].headers


def test_github_without_a_reviewed_plan_says_so_with_exit_3(forge: FakeForge, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    publish_github_plan(forge)
    forge.state.artifacts[701][0]["expired"] = True
    out = tmp_path / "prod.plan"
    assert github(forge, out) == NOT_FOUND
    assert not out.exists()
    assert "No saved plan: no successful pull_request run of acme/kb for commit 111111111111" in capsys.readouterr().err
    assert github(forge, out, sha=OTHER) == NOT_FOUND  # a direct push: no pull request at all


def test_github_api_errors_are_errors_not_a_missing_plan(forge: FakeForge, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    forge.fail_next(10, 500)
    assert github(forge, tmp_path / "prod.plan") == 1
    assert "HTTP 500" in capsys.readouterr().err


def test_gitlab_reads_the_plan_job_artifact_of_the_merge_request(forge: FakeForge, tmp_path: Path) -> None:
    forge.state.commit_pulls[MERGE] = [{"iid": 3, "merge_commit_sha": OTHER}, {"iid": 7, "merge_commit_sha": MERGE}]
    forge.state.job_artifacts[("refs/merge-requests/7/head", "ocigen-iac-plan: [prod]", "ocigen-plans/prod.plan")] \
        = PLAN_BYTES  # a `parallel: matrix` job
    out = tmp_path / "prod.plan"
    code = run(["--provider", "gitlab", "--sha", MERGE, "--env", "prod", "--out", str(out), "--project", "42",
                "--api-url", f"{forge.url}/api/v4"], retry=FAST)
    assert code == 0 and out.read_bytes() == PLAN_BYTES
    raw = [r for r in forge.requests if "/raw/" in r.path]
    assert raw[0].path.startswith("/api/v4/projects/42/jobs/artifacts/refs%2Fmerge-requests%2F7%2Fhead/raw/")
    code = run(["--provider", "gitlab", "--sha", OTHER, "--env", "prod", "--out", str(out), "--project", "42",
                "--api-url", f"{forge.url}/api/v4"], retry=FAST)
    assert code == NOT_FOUND
