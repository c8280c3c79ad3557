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

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


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
    if "$" not in text:
        return text
    env = os.environ if environ is None else environ
    out: list[str] = []
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
            raise InterpolationError(
                f"unterminated interpolation {text[i : i + 20]!r}: missing '}}'",
                "close it: ${var.NAME} or ${env.NAME}; write $${ for a literal '${'",
                i,
            )
        expr = text[i + 2 : end].strip()
        namespace, _, name = expr.partition(".")
        if namespace not in ("var", "env") or not _NAME_RE.match(name):
            raise InterpolationError(
                f"invalid interpolation '${{{expr}}}'",
                "use ${var.NAME} (a variable from ocigen.yaml) or ${env.NAME} (an environment "
                "variable); write $${ for a literal '${'",
                i,
            )
        if namespace == "var":
            if name not in variables:
                known = ", ".join(sorted(variables)) or "none"
                hint = did_you_mean(name, set(variables))
                hint = (hint + " " if hint else "") + (
                    f"define it under `vars:` (or environments.<env>.vars) in ocigen.yaml; known variables: {known}"
                )
                raise InterpolationError(f"unknown variable 'var.{name}'", hint, i)
            out.append(variables[name])
        else:
            if name not in env:
                raise InterpolationError(
                    f"environment variable {name!r} is not set (used as '${{env.{name}}}')",
                    f"export {name}=... before running, or use a ${{var.}} from ocigen.yaml",
                    i,
                )
            out.append(env[name])
        i = end + 1
    return "".join(out)
