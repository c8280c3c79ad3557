"""Fixtures of the reliability suite: a seed (OCIGEN_RELIABILITY_SEED, default 7) and a ledger
that fails the test when any run printed a traceback or leaked a secret."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.reliability.support import Ledger


@pytest.fixture
def seed() -> int:
    return int(os.environ.get("OCIGEN_RELIABILITY_SEED", "7"))


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    book = Ledger()
    yield book
    assert not book.tracebacks, "a run printed a traceback:\n" + "\n\n".join(book.tracebacks[:3])
    assert not book.leaks, "a secret leaked:\n" + "\n".join(book.leaks[:10])
