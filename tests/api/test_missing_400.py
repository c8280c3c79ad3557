"""Servers that answer 400 for a missing object (`missing_is_400`): the client reads such a 400 on
a call to one object as NotFound, and only there; other 400s stay errors."""

from __future__ import annotations

from typing import Any

import pytest

from ocigen_iac.api import ApiError, ClientOptions, GenAIClient, NotFound

from .conftest import API_KEY, emu_settings
from .helpers import run

FAST = ClientOptions(max_attempts=2, backoff_base_s=0.01, backoff_cap_s=0.05)


def test_a_400_saying_an_object_does_not_exist_is_not_found_on_object_calls_only(start_emulator: Any) -> None:
    server = start_emulator(missing_is_400=True)

    async def go() -> None:
        async with GenAIClient(emu_settings(server), FAST, api_key=API_KEY) as c:
            for call in (c.get_file("file-missing"), c.delete_file("file-missing"),
                         c.get_vector_store("vs_missing"), c.detach_file("vs_missing", "file-missing"),
                         c.update_vector_store("vs_missing", {"name": "x"})):
                with pytest.raises(NotFound) as ei:
                    await call
                assert ei.value.status == 400
            # a create naming a missing file is a bad request, not a missing object being addressed
            with pytest.raises(ApiError) as bad:
                await c.create_vector_store({"name": "kb", "file_ids": ["file-missing"]})
            assert bad.value.status == 400 and not isinstance(bad.value, NotFound)

    run(go())
