"""Model-based test: seeded random operation sequences (edits, applies, interrupts, targeted
applies and destroys, renames, state rm + import) with the safety invariants checked after every
command that exits 0. See tests/safety/model.py for the operations and invariants.

CI-sized by default; a long run: OCIGEN_MODEL_SEED=7 OCIGEN_MODEL_SEQUENCES=30 OCIGEN_MODEL_STEPS=25
pytest tests/safety/test_model.py -s, or `python -m tests.safety.model --help`."""

from __future__ import annotations

import os
from pathlib import Path

from tests.safety.model import run_model


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def test_random_operation_sequences_keep_live_equal_to_the_declaration(tmp_path: Path) -> None:
    seed = _int("OCIGEN_MODEL_SEED", 20261127)
    summary = run_model(seed, _int("OCIGEN_MODEL_SEQUENCES", 2), _int("OCIGEN_MODEL_STEPS", 8), workdir=tmp_path)
    print(summary.line())
    assert not summary.violations, summary.line() + "\n" + "\n\n".join(summary.violations)
