from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.gitops.fake_forge import FakeForge


@pytest.fixture
def forge() -> Iterator[FakeForge]:
    server = FakeForge().start()
    yield server
    server.stop()


@pytest.fixture
def paged_forge() -> Iterator[FakeForge]:
    """Two items a page, so that finding a comment means following pages."""
    server = FakeForge(page_size=2).start()
    yield server
    server.stop()
