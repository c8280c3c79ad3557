"""A pull request (GitHub) or merge request (GitLab) as the comment upsert sees it:
its comments, editing one, adding one, and switching the plan label."""

from __future__ import annotations

from typing import Protocol

from ocigen_iac.gitops.forge import Comment, Forge, seg

# tfcmt's colours: green, blue, red
LABEL_COLORS = {"no-changes": "0e8a16", "add-or-update": "1d76db", "destroy": "d93f0b"}


class Review(Protocol):
    where: str  # "pull request owner/repo#12", for messages

    def comments(self) -> list[Comment]: ...

    def update(self, comment_id: int, body: str) -> None: ...

    def create(self, body: str) -> Comment: ...

    def set_label(self, label: str, remove: list[str]) -> None: ...

    def close(self) -> None: ...


class GitHubPullRequest:
    def __init__(self, forge: Forge, repo: str, number: int) -> None:
        self.forge, self.repo, self.number = forge, repo, number
        self.where = f"pull request {repo}#{number}"
        self._issue = f"repos/{repo}/issues/{number}"  # a PR's conversation comments are issue comments

    def close(self) -> None:
        self.forge.close()

    def comments(self) -> list[Comment]:
        return [Comment(int(c["id"]), str(c.get("body") or "")) for c in self.forge.paged(f"{self._issue}/comments")]

    def update(self, comment_id: int, body: str) -> None:
        self.forge.request("PATCH", f"repos/{self.repo}/issues/comments/{comment_id}", json={"body": body})

    def create(self, body: str) -> Comment:
        data = self.forge.request("POST", f"{self._issue}/comments", json={"body": body}).json()
        return Comment(int(data["id"]), str(data.get("body") or body))

    def set_label(self, label: str, remove: list[str]) -> None:
        current = {str(item["name"]) for item in self.forge.paged(f"{self._issue}/labels")}
        for name in remove:
            if name in current:
                self.forge.request("DELETE", f"{self._issue}/labels/{seg(name)}", ok_missing=True)
        if label not in current:
            self._ensure_repo_label(label)
            self.forge.request("POST", f"{self._issue}/labels", json={"labels": [label]})

    def _ensure_repo_label(self, label: str) -> None:
        """Create the repository label with its colour once; it may exist already (then it is kept)."""
        if self.forge.request("GET", f"repos/{self.repo}/labels/{seg(label)}", ok_missing=True).status_code != 404:
            return
        color = LABEL_COLORS.get(label.rsplit("/", 1)[-1], "ededed")
        self.forge.request("POST", f"repos/{self.repo}/labels",
                           json={"name": label, "color": color, "description": "ocigen-iac plan result"})


class GitLabMergeRequest:
    def __init__(self, forge: Forge, project: str, iid: int) -> None:
        self.forge, self.project, self.iid = forge, project, iid
        self.where = f"merge request {project}!{iid}"
        self._mr = f"projects/{seg(project)}/merge_requests/{iid}"

    def close(self) -> None:
        self.forge.close()

    def comments(self) -> list[Comment]:
        notes = self.forge.paged(f"{self._mr}/notes", {"sort": "asc", "order_by": "created_at"})
        return [Comment(int(n["id"]), str(n.get("body") or "")) for n in notes if not n.get("system")]

    def update(self, comment_id: int, body: str) -> None:
        self.forge.request("PUT", f"{self._mr}/notes/{comment_id}", json={"body": body})

    def create(self, body: str) -> Comment:
        data = self.forge.request("POST", f"{self._mr}/notes", json={"body": body}).json()
        return Comment(int(data["id"]), str(data.get("body") or body))

    def set_label(self, label: str, remove: list[str]) -> None:
        current = set(self.forge.request("GET", self._mr).json().get("labels") or [])
        dropping = [name for name in remove if name in current]
        if label in current and not dropping:
            return
        # GitLab creates a project label that does not exist yet
        self.forge.request("PUT", self._mr, json={"add_labels": label, "remove_labels": ",".join(dropping)})
