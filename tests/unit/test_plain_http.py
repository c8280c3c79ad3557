"""Credentials never go over plain http to a remote host; loopback (the emulator) is fine."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocigen_iac.config import load_settings
from ocigen_iac.errors import ValidationFailed


@pytest.mark.parametrize("url", ["http://example.com/openai/v1", "http://10.0.0.5:8080/openai/v1"])
def test_plain_http_to_a_remote_endpoint_is_refused_with_its_location(tmp_path: Path, url: str) -> None:
    (tmp_path / "ocigen.yaml").write_text(f"region: us-chicago-1\nendpoints:\n  vector_stores: {url}\n")
    with pytest.raises(ValidationFailed) as err:
        load_settings(tmp_path)
    d = err.value.diagnostics[0]
    assert (d.file, d.line) == ("ocigen.yaml", 3)
    assert "plain http to a remote host" in d.message and "https://" in d.hint


@pytest.mark.parametrize("url", ["http://127.0.0.1:8088/openai/v1", "http://localhost:8088/openai/v1",
                                 "http://[::1]:8088/openai/v1", "https://example.com/openai/v1"])
def test_https_and_loopback_http_are_accepted(tmp_path: Path, url: str) -> None:
    (tmp_path / "ocigen.yaml").write_text(f"endpoints:\n  inference: {url}\n")
    assert load_settings(tmp_path).inference_base == url
