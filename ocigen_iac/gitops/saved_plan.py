"""Fetch the plan that was reviewed for a merged commit, so apply-on-merge applies exactly that.

    python -m ocigen_iac.gitops.saved_plan --provider github --sha "$GITHUB_SHA" --env prod --out prod.plan
    python -m ocigen_iac.gitops.saved_plan --provider gitlab --sha "$CI_COMMIT_SHA" --env prod --out prod.plan

GitHub: the pull requests that contain the commit -> their head commits -> the newest successful
`pull_request` workflow run for one of them (or the commit itself) that kept the artifact
`ocigen-plan-ENV` -> the `.plan` file inside its zip. GitLab: the merge requests of the commit ->
the plan job's artifact from the newest successful pipeline of `refs/merge-requests/IID/head`.

Exit 0 saved to --out; 3 no saved plan (the caller may plan afresh, or fail); 1 error. Whatever is
fetched, `ocigen-iac apply FILE` checks it against the state, the manifests of the merged commit and
the live service before doing anything, so a stale or foreign plan is refused, never applied.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ocigen_iac.gitops.forge import Forge, ForgeError, RetryPolicy, github, gitlab, seg, token_from_env

NOT_FOUND = 3
MAX_RUNS = 10  # runs looked at per head commit
MAX_PLAN_BYTES = 64 * 1024 * 1024


class NoSavedPlan(Exception):
    pass


def _github_heads(forge: Forge, repo: str, sha: str) -> list[str]:
    """The commit itself, then the heads of the pull requests merged as (or containing) it."""
    pulls = forge.request("GET", f"repos/{repo}/commits/{seg(sha)}/pulls", params={"per_page": 30}).json()
    pulls = sorted(pulls, key=lambda p: p.get("merge_commit_sha") != sha)  # the one merged as this commit first
    heads = [sha]
    for pr in pulls:
        head = (pr.get("head") or {}).get("sha")
        if head and head not in heads:
            heads.append(head)
    return heads


def fetch_github(forge: Forge, repo: str, sha: str, artifact: str) -> tuple[bytes, str]:
    """The plan file's bytes and where they came from."""
    for head in _github_heads(forge, repo, sha):
        runs = forge.request("GET", f"repos/{repo}/actions/runs", params={
            "head_sha": head, "event": "pull_request", "status": "success", "per_page": MAX_RUNS}).json()
        for run in (runs.get("workflow_runs") or [])[:MAX_RUNS]:
            found = forge.request("GET", f"repos/{repo}/actions/runs/{run['id']}/artifacts",
                                  params={"name": artifact, "per_page": 10}).json()
            live = [a for a in found.get("artifacts") or [] if a.get("name") == artifact and not a.get("expired")]
            if not live:
                continue
            zipped = forge.download(f"repos/{repo}/actions/artifacts/{live[0]['id']}/zip", MAX_PLAN_BYTES)
            return _plan_from_zip(zipped, artifact), f"artifact {artifact!r} of run {run['id']} (commit {head[:12]})"
    raise NoSavedPlan(f"no successful pull_request run of {repo} for commit {sha[:12]} or its pull request "
                      f"kept an artifact named {artifact!r} (expired, never planned, or pushed without a PR)")


def _plan_from_zip(data: bytes, artifact: str) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            plans = [m for m in members if m.filename.endswith(".plan")] or members
            if len(plans) != 1:
                raise ForgeError(f"artifact {artifact!r} holds {len(plans)} candidate plan files "
                                 f"({', '.join(m.filename for m in plans[:5])}); expected one *.plan")
            if plans[0].file_size > MAX_PLAN_BYTES:
                raise ForgeError(f"artifact {artifact!r}: {plans[0].filename} is over {MAX_PLAN_BYTES} bytes")
            return archive.read(plans[0])
    except zipfile.BadZipFile:
        raise ForgeError(f"artifact {artifact!r} is not a zip archive") from None


def fetch_gitlab(forge: Forge, project: str, sha: str, env: str, job: str, path: str) -> tuple[bytes, str]:
    mrs: list[Any] = forge.request("GET", f"projects/{seg(project)}/repository/commits/{seg(sha)}/merge_requests"
                                   ).json()
    mrs = sorted(mrs, key=lambda m: sha not in (m.get("merge_commit_sha"), m.get("squash_commit_sha")))
    jobs = (job, f"{job}: [{env}]")  # the plain job, or one instance of a `parallel: matrix` over envs
    for mr in mrs[:MAX_RUNS]:
        for ref in (f"refs/merge-requests/{mr['iid']}/head", f"refs/merge-requests/{mr['iid']}/merge"):
            for name in jobs:
                response = forge.request("GET", f"projects/{seg(project)}/jobs/artifacts/{seg(ref)}/raw/{path}",
                                         params={"job": name}, ok_missing=True)
                if response.status_code != 404:
                    if len(response.content) > MAX_PLAN_BYTES:
                        raise ForgeError(f"{path} from {ref} is over {MAX_PLAN_BYTES} bytes")
                    return response.content, f"{path} of job {name!r} on {ref}"
    raise NoSavedPlan(f"no merge request of {project} for commit {sha[:12]} has a successful {job!r} job "
                      f"that kept {path} (expired, never planned, or pushed without a merge request)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ocigen_iac.gitops.saved_plan",
                                description="Download the plan reviewed for a merged commit.")
    p.add_argument("--provider", required=True, choices=("github", "gitlab"))
    p.add_argument("--sha", help="the merged commit (default $GITHUB_SHA / $CI_COMMIT_SHA)")
    p.add_argument("--env", required=True, help="environment whose plan to fetch")
    p.add_argument("--out", type=Path, required=True, help="where to write the plan file")
    p.add_argument("--repo", help="GitHub OWNER/NAME (default $GITHUB_REPOSITORY)")
    p.add_argument("--artifact", help="GitHub artifact name (default ocigen-plan-ENV)")
    p.add_argument("--project", help="GitLab project id or path (default $CI_PROJECT_ID)")
    p.add_argument("--job", default="ocigen-iac-plan", help="GitLab plan job name")
    p.add_argument("--path", help="GitLab artifact path of the plan (default ocigen-plans/ENV.plan)")
    p.add_argument("--api-url", help="API base URL (default $GITHUB_API_URL / $CI_API_V4_URL)")
    p.add_argument("--token-env", help="environment variable holding the token (default GITHUB_TOKEN / GITLAB_TOKEN)")
    return p


def run(argv: Sequence[str] | None = None, *, retry: RetryPolicy | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.provider == "github":
            sha = args.sha or os.environ.get("GITHUB_SHA")
            repo = args.repo or os.environ.get("GITHUB_REPOSITORY")
            if not sha or not repo:
                raise ForgeError("pass --sha and --repo (GitHub Actions sets $GITHUB_SHA and $GITHUB_REPOSITORY)")
            token_env = args.token_env or "GITHUB_TOKEN"
            api = args.api_url or os.environ.get("GITHUB_API_URL") or "https://api.github.com"
            with github(api, token_from_env(token_env), token_env=token_env, retry=retry) as forge:
                data, origin = fetch_github(forge, repo, sha, args.artifact or f"ocigen-plan-{args.env}")
        else:
            sha = args.sha or os.environ.get("CI_COMMIT_SHA")
            project = args.project or os.environ.get("CI_PROJECT_ID")
            if not sha or not project:
                raise ForgeError("pass --sha and --project (GitLab CI sets $CI_COMMIT_SHA and $CI_PROJECT_ID)")
            token_env = args.token_env or "GITLAB_TOKEN"
            api = args.api_url or os.environ.get("CI_API_V4_URL") or "https://gitlab.com/api/v4"
            with gitlab(api, token_from_env(token_env), token_env=token_env, retry=retry) as forge:
                path = args.path or f"ocigen-plans/{args.env}.plan"
                data, origin = fetch_gitlab(forge, project, sha, args.env, args.job, path)
    except NoSavedPlan as exc:
        print(f"No saved plan: {exc}", file=sys.stderr)
        return NOT_FOUND
    except ForgeError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    os.chmod(args.out, 0o600)
    print(f"Saved plan for environment {args.env!r}: {origin} -> {args.out}")
    return 0


def main() -> None:
    raise SystemExit(run())


if __name__ == "__main__":
    main()
