"""Pull-request comments rendered from a plan's JSON form (`plan --json`, or a file saved with `-out`).

The JSON plan is the public contract, so this module reads only dicts: it never imports the engine
and tolerates keys it does not know (`format_version` is semver; minor versions add fields). The
layout follows Atlantis and tfcmt: a header naming the environment, the summary line, a drift
note, a warning when anything is destroyed, then the per-resource output in a ```diff block
(folded when long) so GitHub and GitLab colour `+` and `-` lines. A hidden marker on the first
line lets `comment.py` update the one comment per environment instead of adding another.

Only attribute paths and short values are shown, never whole objects: plans hold no secrets, and
an attribute whose name looks secret is still masked.
"""

from __future__ import annotations

import html
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

FOLD_AFTER_LINES = 12  # Atlantis folds output longer than this
MAX_BODY_CHARS = 60_000  # GitHub rejects comments over 65,536 characters; leave room for the rest
MAX_LISTED = 10  # addresses named in the destroy warning

LABEL_NO_CHANGES = "no-changes"
LABEL_ADD_OR_UPDATE = "add-or-update"
LABEL_DESTROY = "destroy"
LABELS = (LABEL_NO_CHANGES, LABEL_ADD_OR_UPDATE, LABEL_DESTROY)

_MARKER_RE = re.compile(r"^<!-- ocigen-iac:plan env=([A-Za-z0-9_.-]+) -->$")
_SECRET_NAME_RE = re.compile(r"(?i)(secret|token|password|passwd|api[_-]?key|private[_-]?key|authorization|"
                             r"credential)")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")

# action -> (diff symbol, what happens). Symbols start the line so the diff highlighter colours them.
_ACTIONS: dict[str, tuple[str, str]] = {
    "create": ("+", "will be created"),
    "update": ("~", "will be updated in-place"),
    "delete": ("-", "will be destroyed"),
    "replace": ("+/-", "must be replaced"),  # create the replacement first, then destroy
    "replace-destroy-first": ("-/+", "must be replaced"),  # destroy first, then create
    "forget": (".", "will be removed from state (the object is kept)"),
    "adopt": (" ", "will be adopted into state (the object is kept as it is)"),
    "move": (" ", "has moved"),
}
# Reason codes without a detail, in words; "" where the header already says it.
_REASON_WORDS = {
    "create_because_new": "",
    "update_in_place": "",
    "delete_because_destroy_mode": "",
    "create_because_deleted_outside": "deleted outside ocigen-iac",
    "create_because_expired": "expired",
    "update_because_changed_outside": "changed outside ocigen-iac",
    "delete_because_no_resource_config": "no longer in the manifests",
}
_DESTROYING = frozenset({"delete", "replace", "replace-destroy-first"})
# Shown for a create, in this order: what a reviewer needs to recognise the object.
_SHOWN_ON_CREATE = ("filename", "purpose", "bytes", "name", "description", "metadata", "expires_after",
                    "memory_limit", "vector_store", "file", "attributes", "chunking_strategy", "source")


# --- the marker ---------------------------------------------------------------------------------

def safe_env(env: str) -> str:
    """The environment name as it may appear in the marker (ocigen.yaml names already fit)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", env or "") or "default"


def marker(env: str) -> str:
    return f"<!-- ocigen-iac:plan env={safe_env(env)} -->"


def marker_env(body: str) -> str | None:
    """The environment a comment body belongs to, if its first line is our marker."""
    first = (body or "").lstrip("\ufeff").split("\n", 1)[0].strip()
    m = _MARKER_RE.match(first)
    return m.group(1) if m else None


# --- reading the plan ---------------------------------------------------------------------------

def _changes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in plan.get("resource_changes") or [] if isinstance(c, dict) and c.get("action") != "no-op"]


def _deposed_ids(change: dict[str, Any]) -> list[str]:
    """`deposed` (an old object left over from a replacement) as a list of ids; "" when unknown."""
    raw = change.get("deposed")
    if not raw:
        return []
    items = raw if isinstance(raw, list) else [raw]
    ids = []
    for item in items:
        if isinstance(item, dict):
            ids.append(str(item.get("id") or item.get("key") or ""))
        elif isinstance(item, str):
            ids.append(item)
        else:
            ids.append("")
    return ids


def counts(plan: dict[str, Any]) -> dict[str, int]:
    """`change_summary`, completed from the changes for any key it lacks (older or newer plans)."""
    n = {"import": 0, "add": 0, "change": 0, "destroy": 0, "move": 0, "forget": 0}
    for c in _changes(plan):
        action = c.get("action")
        if action == "create":
            n["add"] += 1
        elif action == "update":
            n["change"] += 1
        elif action == "delete":
            n["destroy"] += 1
        elif action in ("replace", "replace-destroy-first"):
            n["add"] += 1
            n["destroy"] += 1
        elif action == "forget":
            n["forget"] += 1
        elif action == "adopt":
            n["import"] += 1
        elif action == "move":
            n["move"] += 1
    summary = plan.get("change_summary")
    if isinstance(summary, dict):
        for key, value in summary.items():
            if isinstance(value, int) and not isinstance(value, bool):
                n[key] = value
    return n


def destroyed_addresses(plan: dict[str, Any]) -> list[str]:
    """Addresses whose live object this plan deletes: deletions, replacements, deposed objects."""
    out = []
    for c in _changes(plan):
        if c.get("action") in _DESTROYING or _deposed_ids(c):
            out.append(str(c.get("address", "?")))
    return out


def has_changes(plan: dict[str, Any]) -> bool:
    value = plan.get("has_changes")
    if isinstance(value, bool):
        return value
    return bool(_changes(plan))


def plan_label(plan: dict[str, Any]) -> str:
    """The pull-request label for this plan (tfcmt's): destroy, add-or-update or no-changes."""
    if counts(plan).get("destroy", 0) > 0 or destroyed_addresses(plan):
        return LABEL_DESTROY
    if has_changes(plan):
        return LABEL_ADD_OR_UPDATE
    return LABEL_NO_CHANGES


def summary_line(plan: dict[str, Any]) -> str:
    """Terraform's words: `Plan: 2 to add, 1 to change, 1 to destroy.` or `No changes. ...`."""
    n = counts(plan)
    mode = plan.get("mode", "normal")
    if not _changes(plan) and not any(n.values()):
        if mode == "destroy":
            return "No changes. No objects need to be destroyed."
        if mode == "refresh-only":
            drifted = len(plan.get("resource_drift") or []) + len(plan.get("adoptions") or [])
            if drifted:
                return f"Refresh: {drifted} object(s) changed outside ocigen-iac will be recorded in state."
            return "No changes. Your infrastructure still matches the configuration."
        return "No changes. Your infrastructure matches the configuration."
    parts = [f"{n['import']} to import"] if n.get("import") else []
    parts += [f"{n.get('add', 0)} to add", f"{n.get('change', 0)} to change", f"{n.get('destroy', 0)} to destroy"]
    parts += [f"{n[k]} to {k}" for k in ("move", "forget") if n.get(k)]
    return "Plan: " + ", ".join(parts) + "."


# --- formatting ---------------------------------------------------------------------------------

def _value(path: str, value: Any) -> str:
    if _SECRET_NAME_RE.search(path.rsplit(".", 1)[-1]):
        return "(sensitive value)"
    if isinstance(value, str) and _SHA256_RE.match(value):
        return json.dumps(value[:12] + "…", ensure_ascii=False)  # a digest: the prefix is enough to tell two apart
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 64 else value[:61] + "…", ensure_ascii=False)
    if value is None:
        return "null"
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return text if len(text) <= 120 else text[:119] + "…"


def _code(text: str) -> str:
    """An inline code span that survives backticks in the text (CommonMark's rule)."""
    ticks = max((len(run) for run in re.findall(r"`+", text)), default=0) + 1
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{'`' * ticks}{pad}{text}{pad}{'`' * ticks}"


def _prose(text: str) -> str:
    """Free text outside code: no HTML (so no fake marker, no hidden content), one line."""
    return html.escape(" ".join(str(text).split()), quote=False)


def _reason(change: dict[str, Any]) -> str:
    texts = []
    for r in change.get("reasons") or []:
        if isinstance(r, dict):
            code = str(r.get("code", ""))
            texts.append(r.get("detail") or _REASON_WORDS.get(code, code.replace("_", " ")))
    return "; ".join(t for t in texts if t)


def _attr_lines(change: dict[str, Any], *, replacing: bool) -> list[str]:
    lines = []
    for a in change.get("attr_changes") or []:
        if not isinstance(a, dict):
            continue
        path = str(a.get("path", "?"))
        note = "  # forces replacement" if replacing and a.get("forces_replacement") else ""
        before, after = a.get("before"), a.get("after")
        if before is None:
            lines.append(f"+     {path} = {_value(path, after)}{note}")
        elif after is None:
            lines.append(f"-     {path} = {_value(path, before)}{note}")
        else:
            lines.append(f"~     {path} = {_value(path, before)} -> {_value(path, after)}{note}")
    return lines


def change_lines(change: dict[str, Any]) -> list[str]:
    """One resource's lines for the ```diff block, each starting with its symbol."""
    address = str(change.get("address", "?"))
    action = str(change.get("action", "?"))
    symbol, verb = _ACTIONS.get(action, ("!", f"will be changed ({action})"))
    ident = change.get("id")
    id_note = f"  [id={ident}]" if ident and action != "create" else ""
    reason = _reason(change)
    deposed = _deposed_ids(change)
    lines: list[str] = []
    if action == "move":
        previous = change.get("previous_address") or "?"
        lines.append(f"# {previous} has moved to {address}" + (f" ({reason})" if reason else ""))
        lines.append(f"  {address}{id_note}")
        lines.extend(_attr_lines(change, replacing=False))
    elif action == "delete" and deposed:
        pass  # the deposed block below says it
    else:
        lines.append(f"# {address} {verb}" + (f" ({reason})" if reason else ""))
        lines.append(f"{symbol} {address}{id_note}")
        after = change.get("after") if isinstance(change.get("after"), dict) else {}
        if action == "create":
            for key in _SHOWN_ON_CREATE:
                value = after.get(key)
                if value not in (None, {}, [], ""):
                    lines.append(f"+     {key} = {_value(key, value)}")
        elif action != "delete":
            lines.extend(_attr_lines(change, replacing=action in ("replace", "replace-destroy-first")))
    for old in deposed:
        what = f"deposed object {old}" if old else "deposed object"
        lines.append(f"# {address} ({what}) will be destroyed (left over from a replacement)")
        lines.append(f"- {address}  [deposed" + (f" id={old}]" if old else "]"))
    lines.append("")
    return lines


def drift_lines(drift: dict[str, Any]) -> list[str]:
    address = str(drift.get("address", "?"))
    status = str(drift.get("status", "changed"))
    verb = {"deleted": "has been deleted", "expired": "has expired"}.get(status, "has changed")
    lines = [f"# {address} {verb} outside ocigen-iac"]
    if status in ("deleted", "expired"):
        lines.append(f"- {address}")
    for a in drift.get("attr_changes") or []:
        if isinstance(a, dict):
            path = str(a.get("path", "?"))
            lines.append(f"~     {path} = {_value(path, a.get('before'))} -> {_value(path, a.get('after'))}")
    return lines


def _fenced(lines: list[str], summary: str, budget: int) -> list[str]:
    """A ```diff block, folded in <details> when longer than FOLD_AFTER_LINES, cut to `budget` chars."""
    while lines and not lines[-1]:
        lines = lines[:-1]
    kept, used = [], 0
    for i, line in enumerate(lines):
        if used + len(line) + 1 > budget:
            kept.append(f"# … {len(lines) - i} more line(s) not shown: the full plan is in the saved plan file")
            break
        kept.append(line)
        used += len(line) + 1
    longest = max((len(run) for line in kept for run in re.findall(r"`{3,}", line)), default=2)
    fence = "`" * max(3, longest + 1)
    block = [f"{fence}diff", *kept, fence]
    if len(kept) > FOLD_AFTER_LINES:
        return [f"<details><summary>{summary}</summary>", "", *block, "", "</details>"]
    return block


# --- the comment --------------------------------------------------------------------------------

def render_markdown(plan: dict[str, Any], *, title: str = "ocigen-iac plan", run_url: str | None = None) -> str:
    """The comment for one environment's plan (a dict in the `plan --json` form)."""
    env = str(plan.get("env") or "default")
    mode = str(plan.get("mode") or "normal")
    mode_note = f" ({_prose(mode)})" if mode != "normal" else ""
    out = [marker(env), f"### {_prose(title)} for {_code(env)}{mode_note}", "", f"**{summary_line(plan)}**", ""]

    drift = [d for d in plan.get("resource_drift") or [] if isinstance(d, dict)]
    if drift:
        out += ["**Note: Objects have changed outside of ocigen-iac**", ""]
        body: list[str] = []
        for d in drift:
            body += drift_lines(d)
        out += [*_fenced(body, "Show drift", MAX_BODY_CHARS // 4), ""]

    destroyed = destroyed_addresses(plan)
    if destroyed:
        named = ", ".join(_code(a) for a in destroyed[:MAX_LISTED])
        more = f" and {len(destroyed) - MAX_LISTED} more" if len(destroyed) > MAX_LISTED else ""
        out += ["> [!WARNING]",
                "> **Resource deletion will happen.** This plan destroys or replaces "
                f"{len(destroyed)} object(s): {named}{more}. Check the plan carefully before merging.", ""]

    for w in plan.get("warnings") or []:
        out += [f"> **Warning:** {_prose(w)}", ""]
    adoptions = [str(a) for a in plan.get("adoptions") or []]
    if adoptions:
        out += ["Adopted objects left behind by an interrupted run (no duplicates were created): "
                + ", ".join(_code(a) for a in adoptions[:MAX_LISTED])
                + (f" and {len(adoptions) - MAX_LISTED} more" if len(adoptions) > MAX_LISTED else ""), ""]

    body = []
    for c in _changes(plan):
        body += change_lines(c)
    if body:
        budget = MAX_BODY_CHARS - sum(len(line) + 1 for line in out)
        out += [*_fenced(body, "Show Output", budget), ""]

    footer = [f"ocigen-iac {_prose(plan.get('tool_version', '?'))}"]
    if run_url:
        footer.append(f"[plan run]({run_url})")
    out.append("<sub>" + " · ".join(footer) + "</sub>")
    return "\n".join(out) + "\n"


def render_failure(env: str, log: str, *, title: str = "ocigen-iac plan", run_url: str | None = None,
                   max_lines: int = 60) -> str:
    """The comment when plan itself failed (exit 1): the end of its error output, same marker."""
    lines = [line.rstrip() for line in log.strip().splitlines()][-max_lines:] or ["(no error output)"]
    lines = [line if len(line) <= 500 else line[:499] + "…" for line in lines]
    longest = max((len(run) for line in lines for run in re.findall(r"`{3,}", line)), default=2)
    fence = "`" * max(3, longest + 1)
    out = [marker(env), f"### {_prose(title)} for {_code(env)}", "",
           "**Plan failed.** Nothing was changed. The end of the error output:", "",
           f"{fence}text", *lines, fence, ""]
    if run_url:
        out.append(f"<sub>[plan run]({run_url})</sub>")
    return "\n".join(out) + "\n"


def load_plan(path: Path) -> dict[str, Any]:
    """A JSON plan from `plan --json` (or a saved `-out` file); ValueError with what to do otherwise."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the plan ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}: not JSON ({exc.msg}); write it with "
                         "`ocigen-iac plan --json > FILE`") from None
    if not isinstance(data, dict) or "format_version" not in data:
        raise ValueError(f"{path}: not an ocigen-iac JSON plan (no format_version); write it with "
                         "`ocigen-iac plan --json > FILE`")
    if str(data["format_version"]).split(".")[0] != "1":
        raise ValueError(f"{path}: plan format_version {data['format_version']} is not supported "
                         "(this renderer reads 1.x); upgrade ocigen-iac")
    return data


def diagnostics_text(path: Path) -> str:
    """The problems of a failed `ocigen-iac plan --json` (JSON diagnostics on stdout) as the lines
    the command prints without --json, for CI logs and failure comments."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return ""
    if not isinstance(data, dict) or not isinstance(data.get("diagnostics"), list):
        return ""
    lines = []
    for d in data["diagnostics"]:
        if not isinstance(d, dict):
            continue
        where = str(d.get("file") or "")
        if d.get("line"):
            where += f":{d['line']}" + (f":{d['column']}" if d.get("column") else "")
        lines.append(f"{where}: error: {d.get('message', '')}" if where else f"Error: {d.get('message', '')}")
        if d.get("hint"):
            lines.append(f"    hint: {d['hint']}")
    return "\n".join(lines)


def main(argv: Iterable[str] | None = None) -> int:
    """`python -m ocigen_iac.gitops.markdown PLAN.json`: print the comment (e.g. for a job summary)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m ocigen_iac.gitops.markdown",
                                     description="Render a JSON plan as a pull-request comment.")
    parser.add_argument("plan", type=Path, help="plan written by `ocigen-iac plan --json` or `-out`")
    parser.add_argument("--title", default="ocigen-iac plan", help="header text before the environment name")
    parser.add_argument("--run-url", default=None, help="link to the CI run, shown in the footer")
    parser.add_argument("--label", action="store_true", help="print only the label (no-changes, "
                        "add-or-update, destroy)")
    parser.add_argument("--errors", action="store_true", help="PLAN is the output of a failed `plan --json`: "
                        "print its diagnostics as text (nothing when it holds none)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.errors:
        text = diagnostics_text(args.plan)
        if text:
            print(text)
        return 0
    try:
        plan = load_plan(args.plan)
    except ValueError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(plan_label(plan) if args.label else render_markdown(plan, title=args.title, run_url=args.run_url),
          end="\n" if args.label else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
