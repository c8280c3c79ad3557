"""The ocigen.yaml example in docs/remote-state.md parses and selects the oci backend per environment."""

from __future__ import annotations

import re
from pathlib import Path

from ocigen_iac.config import load_settings
from ocigen_iac.state.oci_backend import OciBackend

DOC = Path(__file__).resolve().parents[2] / "docs" / "remote-state.md"


def test_the_documented_configuration_loads(tmp_path: Path) -> None:
    block = re.search(r"```yaml\n# ocigen.yaml\n(.*?)```", DOC.read_text(), re.S)
    assert block is not None
    (tmp_path / "ocigen.yaml").write_text(block.group(1))
    dev = OciBackend(load_settings(tmp_path, "dev", environ={}), push_interval_s=5)
    prod = OciBackend(load_settings(tmp_path, "prod", environ={}), push_interval_s=5)
    assert dev.description == "oci://ocigen-state@axaxnpcrorw5/teams/search/dev.json"
    assert prod.key == "teams/search-prod/prod.json" and prod.lock_key == prod.key + ".lock"
    assert dev.stale_after_s == 3600
    assert dev.journal_path == tmp_path / ".ocigen" / "remote-journal" / "dev.journal"
