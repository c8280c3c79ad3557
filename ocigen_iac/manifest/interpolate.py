"""`${var.NAME}` / `${env.NAME}` interpolation inside string values.

Owns the interpolation syntax and its errors, nothing else:
  ${var.NAME}   a variable of the selected environment (ocigen.yaml `vars`, then
                `environments.NAME.vars`); `${var.env}` defaults to the selected environment's
                name ("default" when none is selected) unless a `vars:` block defines `env`
  ${env.NAME}   a process environment variable; unset is an error (an empty value is allowed)
  $${           a literal `${`
Anything else after `${` (another namespace, a missing `}`, an empty name) is an error.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping

NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


class InterpolationError(ValueError):
    def __init__(self, message: str, hint: str = "", offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.offset = offset  # character offset of the problem inside the string


def did_you_mean(word: str, candidates: list[str] | tuple[str, ...] | set[str]) -> str:
    """' (did you mean 'x'?)'-style hint text, or ''."""
    close = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def interpolate(text: str, variables: Mapping[str, str], environ: Mapping[str, str] | None = None) -> str:
    """Expand every `${...}` in `text`; raise InterpolationError on the first bad one."""
    out, problems = interpolate_all(text, variables, environ)
    if problems:
        raise problems[0]
    return out


def interpolate_all(text: str, variables: Mapping[str, str], environ: Mapping[str, str] | None = None
                    ) -> tuple[str, list[InterpolationError]]:
    """Expand every `${...}` in `text`; every bad one is reported (and left as written)."""
    if "$" not in text:
        return text, []
    env = os.environ if environ is None else environ
    out: list[str] = []
    problems: list[InterpolationError] = []
    i = 0
    n = len(text)
    while i < n:
        if text.startswith("$${", i):
            out.append("${")
            i += 3
            continue
        if not text.startswith("${", i):
            out.append(text[i])
            i += 1
            continue
        end = text.find("}", i + 2)
        if end < 0:
            problems.append(InterpolationError(
                f"unterminated interpolation {text[i : i + 20]!r}: missing '}}'",
                "close it: ${var.NAME} or ${env.NAME}; write $${ for a literal '${'",
                i,
            ))
            out.append(text[i:])
            break
        value = _expand(text[i + 2 : end].strip(), variables, env, i, problems)
        out.append(text[i : end + 1] if value is None else value)
        i = end + 1
    return "".join(out), problems


def _expand(expr: str, variables: Mapping[str, str], env: Mapping[str, str], offset: int,
            problems: list[InterpolationError]) -> str | None:
    namespace, _, name = expr.partition(".")
    if namespace not in ("var", "env") or not NAME_RE.match(name):
        problems.append(InterpolationError(
            f"invalid interpolation '${{{expr}}}'",
            "use ${var.NAME} (a variable from ocigen.yaml or --var) or ${env.NAME} (an environment "
            "variable); write $${ for a literal '${'",
            offset,
        ))
        return None
    if namespace == "var":
        if name not in variables:
            known = ", ".join(sorted(variables)) or "none"
            hint = did_you_mean(name, set(variables))
            hint = (hint + " " if hint else "") + (
                f"define it under `vars:` (or environments.<env>.vars) in ocigen.yaml, or pass --var {name}=VALUE; "
                f"known variables: {known}"
            )
            problems.append(InterpolationError(f"unknown variable 'var.{name}'", hint, offset))
            return None
        return variables[name]
    if name not in env:
        problems.append(InterpolationError(
            f"environment variable {name!r} is not set (used as '${{env.{name}}}')",
            f"export {name}=... before running, or use a ${{var.}} from ocigen.yaml",
            offset,
        ))
        return None
    return env[name]
