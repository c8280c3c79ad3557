"""The error model every layer shares.

    OcigenError                 anything the CLI turns into a clean message and an exit code
    ├── ValidationFailed        bad manifests or ocigen.yaml; carries every Diagnostic at once
    ├── StateError              state cannot be read/written, wrong lineage, stale saved plan
    │   └── LockHeld            another run holds the state lock (names the holder)
    ├── PlanError               the plan cannot be made (prevent_destroy, unknown --target ...)
    └── ApiError                (ocigen_iac.api) the service said no; see api/_exceptions.py

The CLI prints `str(error)` and exits with `error.exit_code`; it never shows a traceback for an
OcigenError. Messages say what is wrong and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class OcigenError(Exception):
    exit_code: int = 1


@dataclass(frozen=True)
class Diagnostic:
    """One located problem in user input."""

    file: str  # path as the user would type it (relative to the project root when possible)
    line: int  # 1-based; 0 when unknown
    column: int  # 1-based; 0 when unknown
    message: str  # what is wrong
    hint: str = ""  # how to fix it ("did you mean 'purpose'?")

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        text = f"{where}: error: {self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


@dataclass
class ValidationFailed(OcigenError):
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __str__(self) -> str:
        n = len(self.diagnostics)
        lines = [str(d) for d in self.diagnostics]
        lines.append(f"{n} error{'s' if n != 1 else ''} found; nothing was changed.")
        return "\n".join(lines)


class StateError(OcigenError):
    pass


class LockHeld(StateError):
    pass


class PlanError(OcigenError):
    pass


class Interrupted(OcigenError):
    exit_code = 130
