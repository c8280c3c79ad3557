"""The plan comment upsert against a fake GitHub / GitLab API on 127.0.0.1 (real HTTP)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ocigen_iac.gitops.comment import run
from ocigen_iac.gitops.forge import RetryPolicy
from ocigen_iac.gitops.markdown import marker
from tests.gitops.fake_forge import TOKEN, FakeForge
from tests.gitops.test_markdown import CREATE, DELETE, UPDATE, plan

FAST = RetryPolicy(attempts=4, backoff_s=0.01, max_sleep_s=0.05, deadline_s=10)
CI_VARS = ("GITHUB_REPOSITORY", "GITHUB_API_URL", "GITHUB_EVENT_PATH", "GITHUB_REF", "GITHUB_SERVER_URL",
           "GITHUB_RUN_ID", "CI_PROJECT_ID", "CI_MERGE_REQUEST_IID", "CI_API_V4_URL", "CI_JOB_URL")


@pytest.fixture(autouse=True)
def tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CI_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)


def write(tmp_path: Path, data: dict[str, Any], name: str = "plan.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def github(forge: FakeForge, plan_file: Path, *extra: str) -> int:
    return run(["--provider", "github", "--plan", str(plan_file), "--repo", "acme/kb", "--pr", "12",
                "--api-url", forge.url, *extra], retry=FAST)


def gitlab(forge: FakeForge, plan_file: Path, *extra: str) -> int:
    return run(["--provider", "gitlab", "--plan", str(plan_file), "--project", "42", "--mr", "7",
                "--api-url", f"{forge.url}/api/v4", *extra], retry=FAST)


def test_github_second_run_updates_the_comment_and_switches_the_label(
        forge: FakeForge, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    forge.state.comments.append({"id": 1, "body": "LGTM, but let's see the plan"})
    assert github(forge, write(tmp_path, plan(CREATE, DELETE))) == 0
    assert len(forge.state.comments) == 2
    first = forge.state.comments[1]
    assert first["body"].startswith(marker("prod") + "\n")
    assert "Plan: 1 to add, 0 to change, 1 to destroy." in first["body"]
    assert forge.state.labels == ["destroy"]
    assert forge.state.repo_labels == {"destroy": "d93f0b"}

    assert github(forge, write(tmp_path, plan(UPDATE))) == 0  # the author fixed the PR
    assert len(forge.state.comments) == 2  # updated, not duplicated
    assert forge.state.comments[1]["id"] == first["id"]
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in forge.state.comments[1]["body"]
    assert forge.state.comments[0]["body"] == "LGTM, but let's see the plan"  # others' comments untouched
    assert forge.state.labels == ["add-or-update"]
    assert [r.method for r in forge.calls() if "/comments" in r.path] == ["GET", "POST", "GET", "PATCH"]
    out = capsys.readouterr().out
    assert "Created the plan comment for environment 'prod' on pull request acme/kb#12" in out
    assert "Updated the plan comment" in out and "label 'add-or-update'" in out
    # the token went in the header, never into a URL
    api_calls = [r for r in forge.calls() if r.path.startswith("/repos")]
    assert all(r.headers.get("Authorization") == f"Bearer {TOKEN}" for r in api_calls)
    assert all(TOKEN not in r.path + json.dumps(r.query) for r in forge.calls())


def test_one_comment_per_environment(forge: FakeForge, tmp_path: Path) -> None:
    assert github(forge, write(tmp_path, plan(CREATE, env="dev")), "--label-prefix", "dev/") == 0
    assert github(forge, write(tmp_path, plan(DELETE, env="prod")), "--label-prefix", "{env}/") == 0
    assert github(forge, write(tmp_path, plan(env="dev")), "--label-prefix", "dev/") == 0
    bodies = [c["body"] for c in forge.state.comments]
    assert len(bodies) == 2
    assert bodies[0].startswith(marker("dev")) and "No changes." in bodies[0]
    assert bodies[1].startswith(marker("prod")) and "1 to destroy" in bodies[1]
    assert sorted(forge.state.labels) == ["dev/no-changes", "prod/destroy"]


def test_an_identical_plan_is_not_rewritten(forge: FakeForge, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, plan(UPDATE))
    assert github(forge, path) == 0
    assert github(forge, path) == 0
    assert not forge.calls("PATCH")
    assert "Unchanged the plan comment" in capsys.readouterr().out
    assert len(forge.calls("POST")) == 3  # the comment, the repository label, the issue label; once


def test_the_marker_is_found_past_the_first_page(paged_forge: FakeForge, tmp_path: Path) -> None:
    forge = paged_forge
    forge.state.comments.extend({"id": i, "body": f"chatter {i}"} for i in range(1, 6))
    assert github(forge, write(tmp_path, plan(UPDATE))) == 0
    forge.state.comments.extend({"id": i, "body": f"more {i}"} for i in range(10, 14))
    assert github(forge, write(tmp_path, plan(CREATE))) == 0
    assert sum(c["body"].startswith(marker("prod")) for c in forge.state.comments) == 1
    assert max(int(r.query.get("page", 1)) for r in forge.calls("GET") if r.path.endswith("/comments")) == 5


def test_server_errors_are_retried_a_bounded_number_of_times(forge: FakeForge, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    forge.fail_next(2, 503)
    assert github(forge, write(tmp_path, plan(UPDATE))) == 0
    assert len(forge.state.comments) == 1

    forge.fail_next(50, 502)
    before = len(forge.requests)
    assert github(forge, write(tmp_path, plan(CREATE))) == 1
    assert len(forge.requests) - before == FAST.attempts  # then it gives up
    err = capsys.readouterr().err
    assert "Error: GitHub API GET /repos/acme/kb/issues/12/comments: HTTP 502" in err
    assert "after 4 attempt(s)" in err and "Traceback" not in err


def test_a_lost_post_response_does_not_duplicate_the_comment(forge: FakeForge, tmp_path: Path) -> None:
    forge.lose_next_post_response()  # the comment is created, but the client sees a 502
    assert github(forge, write(tmp_path, plan(UPDATE)), "--no-label") == 0
    assert len(forge.state.comments) == 1
    assert [r.method for r in forge.calls()] == ["GET", "POST", "GET"]  # listed again and found it


def test_a_rejected_token_is_a_clear_error_that_never_shows_the_token(forge: FakeForge, tmp_path: Path) -> None:
    path = write(tmp_path, plan(UPDATE))
    env = {"PATH": "/usr/bin:/bin", "GITHUB_TOKEN": "ghp_WRONG-secret-value"}
    r = subprocess.run([sys.executable, "-m", "ocigen_iac.gitops.comment", "--provider", "github", "--plan",
                        str(path), "--repo", "acme/kb", "--pr", "12", "--api-url", forge.url],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 1
    assert "HTTP 401: Bad credentials — the token in $GITHUB_TOKEN was rejected" in r.stderr
    assert "ghp_WRONG" not in r.stdout + r.stderr and "Traceback" not in r.stderr

    r = subprocess.run([sys.executable, "-m", "ocigen_iac.gitops.comment", "--provider", "github", "--plan",
                        str(path), "--repo", "acme/kb", "--pr", "12", "--api-url", forge.url],
                       capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, timeout=60)
    assert r.returncode == 1 and "$GITHUB_TOKEN is not set" in r.stderr
    assert not forge.state.comments


def test_missing_pull_request_number_is_a_usage_error(forge: FakeForge, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["--provider", "github", "--plan", str(write(tmp_path, plan())), "--repo", "acme/kb",
                "--api-url", forge.url], retry=FAST)
    assert code == 1
    assert "no pull request number: pass --pr N" in capsys.readouterr().err
    assert not forge.requests


def test_the_pull_request_comes_from_the_github_event(forge: FakeForge, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 31}}))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/kb")
    monkeypatch.setenv("GITHUB_API_URL", forge.url)
    for k, v in {"GITHUB_SERVER_URL": "https://github.example", "GITHUB_RUN_ID": "99"}.items():
        monkeypatch.setenv(k, v)
    assert run(["--provider", "github", "--plan", str(write(tmp_path, plan()))], retry=FAST) == 0
    assert forge.calls("POST")[0].path == "/repos/acme/kb/issues/31/comments"
    assert "[plan run](https://github.example/acme/kb/actions/runs/99)" in forge.state.comments[0]["body"]


def test_a_failed_plan_replaces_the_comment_and_leaves_labels_alone(forge: FakeForge, tmp_path: Path) -> None:
    assert github(forge, write(tmp_path, plan(DELETE))) == 0
    log = tmp_path / "plan.log"
    log.write_text("Error: manifests/kb.yaml:4: spec.files[0]: no such resource 'file.nope'\n")
    code = run(["--provider", "github", "--error-log", str(log), "--env", "prod", "--repo", "acme/kb", "--pr",
                "12", "--api-url", forge.url], retry=FAST)
    assert code == 0
    assert len(forge.state.comments) == 1
    assert "**Plan failed.**" in forge.state.comments[0]["body"]
    assert "no such resource 'file.nope'" in forge.state.comments[0]["body"]
    assert forge.state.labels == ["destroy"]


def test_gitlab_note_is_updated_and_labels_switched(forge: FakeForge, tmp_path: Path) -> None:
    forge.state.comments.append({"id": 5, "body": "added 1 commit", "system": True})
    forge.state.labels = ["backend", "no-changes"]
    assert gitlab(forge, write(tmp_path, plan(DELETE))) == 0
    assert gitlab(forge, write(tmp_path, plan(CREATE))) == 0
    notes = [c for c in forge.state.comments if not c.get("system")]
    assert len(notes) == 1 and notes[0]["body"].startswith(marker("prod"))
    assert "Plan: 1 to add" in notes[0]["body"]
    assert forge.state.labels == ["backend", "add-or-update"]
    assert [r.method for r in forge.calls() if "/notes" in r.path] == ["GET", "POST", "GET", "PUT"]
    assert all(r.headers.get("PRIVATE-TOKEN") == TOKEN for r in forge.calls())
    puts = [r.body for r in forge.calls("PUT") if r.path.endswith("/merge_requests/7")]
    assert puts == [{"add_labels": "destroy", "remove_labels": "no-changes"},
                    {"add_labels": "add-or-update", "remove_labels": "destroy"}]


def test_gitlab_defaults_come_from_gitlab_ci(forge: FakeForge, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI_PROJECT_ID", "42")
    monkeypatch.setenv("CI_MERGE_REQUEST_IID", "7")
    monkeypatch.setenv("CI_API_V4_URL", f"{forge.url}/api/v4")
    monkeypatch.setenv("CI_JOB_URL", "https://gitlab.example/acme/kb/-/jobs/5")
    assert run(["--provider", "gitlab", "--plan", str(write(tmp_path, plan()))], retry=FAST) == 0
    assert forge.calls("POST")[0].path == "/api/v4/projects/42/merge_requests/7/notes"
    assert "[plan run](https://gitlab.example/acme/kb/-/jobs/5)" in forge.state.comments[0]["body"]
    assert forge.state.labels == ["no-changes"]
