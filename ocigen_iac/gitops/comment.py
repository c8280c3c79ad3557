"""Post a plan on a pull/merge request: one comment per environment, updated on every push.

    python -m ocigen_iac.gitops.comment --plan plan.json --provider github   # GITHUB_TOKEN
    python -m ocigen_iac.gitops.comment --plan plan.json --provider gitlab   # GITLAB_TOKEN

The comment is found by the hidden marker on its first line (`<!-- ocigen-iac:plan env=prod -->`)
and edited in place; only when there is none is a new one posted. The plan's label (no-changes,
add-or-update, destroy) is set and the other two removed. Repository, number and API URL default
to what GitHub Actions and GitLab CI provide. Exit 0 done, 1 error (message on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ocigen_iac.gitops.forge import ForgeError, RetryPolicy, TransientError, github, gitlab, token_from_env
from ocigen_iac.gitops.markdown import (
    LABELS,
    load_plan,
    marker_env,
    plan_label,
    render_failure,
    render_markdown,
    safe_env,
)
from ocigen_iac.gitops.review import GitHubPullRequest, GitLabMergeRequest, Review

CREATE_ATTEMPTS = 3


class UsageError(Exception):
    pass


@dataclass
class Outcome:
    action: str  # created | updated | unchanged
    comment_id: int


def upsert_comment(review: Review, env: str, body: str, *, retry_wait_s: float = 2.0) -> Outcome:
    """Edit this environment's comment, or post it. A POST that failed in transit is not simply
    repeated: the comments are listed again first, so a lost response never makes a duplicate."""
    wanted = safe_env(env)
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        ours = [c for c in review.comments() if marker_env(c.body) == wanted]
        if ours:
            target = ours[-1]  # the newest, should an older tool version have left two
            if target.body == body:
                return Outcome("unchanged", target.id)
            review.update(target.id, body)
            return Outcome("updated", target.id)
        try:
            return Outcome("created", review.create(body).id)
        except TransientError:
            if attempt == CREATE_ATTEMPTS:
                raise
            time.sleep(retry_wait_s * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def set_plan_label(review: Review, label: str, prefix: str = "") -> str:
    full = f"{prefix}{label}"
    review.set_label(full, [f"{prefix}{other}" for other in LABELS if other != label])
    return full


# --- defaults from the CI environment ----------------------------------------------------------

def _github_pr_number() -> int | None:
    event_path = os.environ.get("GITHUB_EVENT_PATH")
    if event_path and Path(event_path).is_file():
        try:
            event = json.loads(Path(event_path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            event = {}
        number = (event.get("pull_request") or {}).get("number") or event.get("number")
        if isinstance(number, int):
            return number
    ref = os.environ.get("GITHUB_REF", "")  # refs/pull/12/merge
    parts = ref.split("/")
    if len(parts) >= 3 and parts[1] == "pull" and parts[2].isdigit():
        return int(parts[2])
    return None


def _github_run_url() -> str | None:
    server, repo, run = (os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    return f"{server}/{repo}/actions/runs/{run}" if server and repo and run else None


def _int(value: str | None, what: str, flag: str) -> int:
    if value is None or not str(value).strip().isdigit():
        raise UsageError(f"no {what} number: pass {flag} N" + (f" (got {value!r})" if value else ""))
    return int(str(value).strip())


def open_review(args: argparse.Namespace, retry: RetryPolicy | None = None) -> Review:
    if args.provider == "github":
        repo = args.repo or os.environ.get("GITHUB_REPOSITORY")
        if not repo or "/" not in repo:
            raise UsageError("no repository: pass --repo OWNER/NAME (GitHub Actions sets $GITHUB_REPOSITORY)")
        number = _int(args.pr or (str(n) if (n := _github_pr_number()) else None), "pull request", "--pr")
        token_env = args.token_env or "GITHUB_TOKEN"
        api = args.api_url or os.environ.get("GITHUB_API_URL") or "https://api.github.com"
        return GitHubPullRequest(github(api, token_from_env(token_env), token_env=token_env, retry=retry),
                                 repo, number)
    project = args.project or os.environ.get("CI_PROJECT_ID")
    if not project:
        raise UsageError("no project: pass --project ID_OR_PATH (GitLab CI sets $CI_PROJECT_ID)")
    iid = _int(args.mr or os.environ.get("CI_MERGE_REQUEST_IID"), "merge request", "--mr")
    token_env = args.token_env or "GITLAB_TOKEN"
    api = args.api_url or os.environ.get("CI_API_V4_URL") or "https://gitlab.com/api/v4"
    return GitLabMergeRequest(gitlab(api, token_from_env(token_env), token_env=token_env, retry=retry),
                              project, iid)


# --- the command -------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ocigen_iac.gitops.comment",
                                description="Create or update the plan comment of one environment on a pull "
                                            "request (GitHub) or merge request (GitLab), and set its label.")
    p.add_argument("--provider", required=True, choices=("github", "gitlab"))
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--plan", type=Path, help="JSON plan from `ocigen-iac plan --json` (or a saved -out file)")
    source.add_argument("--error-log", type=Path, help="plan failed: post the end of this log instead (needs --env)")
    p.add_argument("--env", help="environment name for the marker (default: the plan's env)")
    p.add_argument("--repo", help="GitHub OWNER/NAME (default $GITHUB_REPOSITORY)")
    p.add_argument("--pr", help="GitHub pull request number (default: from the event)")
    p.add_argument("--project", help="GitLab project id or path (default $CI_PROJECT_ID)")
    p.add_argument("--mr", help="GitLab merge request IID (default $CI_MERGE_REQUEST_IID)")
    p.add_argument("--api-url", help="API base URL (default $GITHUB_API_URL / $CI_API_V4_URL, else the public one)")
    p.add_argument("--token-env", help="environment variable holding the token (default GITHUB_TOKEN / GITLAB_TOKEN)")
    p.add_argument("--title", default="ocigen-iac plan", help="header text before the environment name")
    p.add_argument("--run-url", help="link to the CI run in the footer (default: from the CI environment)")
    p.add_argument("--label-prefix", default="", help="prefix for the labels, e.g. 'prod/' or '{env}/' when one "
                                                      "pull request plans several environments")
    p.add_argument("--no-label", action="store_true", help="leave the labels alone")
    p.add_argument("--body-out", type=Path, help="also write the comment body to this file (e.g. a job summary)")
    return p


def run(argv: Sequence[str] | None = None, *, retry: RetryPolicy | None = None) -> int:
    args = build_parser().parse_args(argv)
    run_url = args.run_url or (_github_run_url() if args.provider == "github" else os.environ.get("CI_JOB_URL"))
    try:
        if args.plan is not None:
            plan = load_plan(args.plan)
            env = args.env or str(plan.get("env") or "default")
            body = render_markdown({**plan, "env": env}, title=args.title, run_url=run_url)
            label: str | None = plan_label(plan)
        else:
            if not args.env:
                raise UsageError("--error-log needs --env NAME (the environment whose plan failed)")
            env = args.env
            try:
                log = args.error_log.read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                raise UsageError(f"{args.error_log}: cannot read the log ({exc.strerror or exc})") from None
            body = render_failure(env, log, title=args.title, run_url=run_url)
            label = None  # a failed plan says nothing about what would change
        if args.body_out is not None:
            args.body_out.write_text(body, encoding="utf-8")
        review = open_review(args, retry)
        try:
            outcome = upsert_comment(review, env, body, retry_wait_s=2 * (retry or RetryPolicy()).backoff_s)
            note = ""
            if label is not None and not args.no_label:
                prefix = args.label_prefix.replace("{env}", env)
                note = f"; label {set_plan_label(review, label, prefix)!r}"
        finally:
            review.close()
    except (UsageError, ValueError, ForgeError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(f"{outcome.action.capitalize()} the plan comment for environment {env!r} on {review.where} "
          f"(comment {outcome.comment_id}){note}.")
    return 0


def main() -> None:
    raise SystemExit(run())


if __name__ == "__main__":
    main()
