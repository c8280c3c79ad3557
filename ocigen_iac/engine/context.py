"""RunContext: what one plan/apply run shares (settings, client, state writer, live view)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ocigen_iac.engine.hashing import HashCache
from ocigen_iac.engine.report import Reporter
from ocigen_iac.manifest.desired import DesiredSet
from ocigen_iac.resources.base import Instance, LiveView
from ocigen_iac.settings import Settings
from ocigen_iac.state.sync import SyncState

if TYPE_CHECKING:
    from ocigen_iac.api import GenAIClient


@dataclass
class RunContext:
    settings: Settings
    state: SyncState
    hashes: HashCache
    reporter: Reporter
    client: GenAIClient | None = None
    desired: DesiredSet = field(default_factory=DesiredSet)
    live: LiveView = field(default_factory=LiveView)
    instances: dict[str, Instance] = field(default_factory=dict)
    # address -> live id as of now; apply updates it as objects are created
    ids: dict[str, str] = field(default_factory=dict)
    poll_timeout_s: float = 1800.0
    stats: dict[str, Any] = field(default_factory=dict)

    def api(self) -> GenAIClient:
        if self.client is None:
            raise RuntimeError("this operation needs the API client")
        return self.client

    def owner_tag(self, address: str) -> str:
        """The ownership value stored in a vector store's metadata (env and address)."""
        return f"{self.settings.env}:{address}"[:512]

    def id_of(self, address: str) -> str:
        if address in self.ids:
            return self.ids[address]
        rs = self.state.state.resources.get(address)
        if rs is None:
            raise KeyError(f"{address} has no live id yet")
        return rs.id
