"""What one run shares: settings, the API client, the state writer, the live view, the clock.

`RunContext` is handed to every kind's verbs. `ExpandContext` is the smaller view expansion
needs (content digests and the instances expanded so far).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocigen_iac.addresses import Address
from ocigen_iac.clock import DEFAULT_CLOCK, Clock
from ocigen_iac.engine.hashing import HashCache
from ocigen_iac.engine.live import LiveView
from ocigen_iac.engine.report import Reporter
from ocigen_iac.errors import PlanError
from ocigen_iac.resources import Instance
from ocigen_iac.settings import Settings
from ocigen_iac.state.sync import SyncState


@dataclass
class ExpandContext:
    root: Path
    digests: dict[str, tuple[str, int]]  # str(absolute path) -> (sha256, size)
    instances: dict[Address, Instance]  # expanded so far (documents are expanded in resolve order)
    owner_tag: Callable[[Address], str]
    owner_tag_key: str = "ocigen-iac-owner"


@dataclass
class RunContext:
    settings: Settings
    state: SyncState
    hashes: HashCache
    reporter: Reporter
    client: Any = None  # the API client the kinds call (GenAIClient, or a test's in-memory one)
    clock: Clock = DEFAULT_CLOCK
    live: LiveView = field(default_factory=LiveView)
    instances: dict[Address, Instance] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)  # address -> live id made or adopted this run
    poll_timeout_s: float = 1800.0
    stats: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what kinds want the user told (trusted checks ...)
    extras: dict[str, Any] = field(default_factory=dict)  # per-kind scratch space for one run
    scope: dict[str, str] = field(default_factory=dict)  # what every call carries (e.g. the project)

    def set_scope(self, values: dict[str, str]) -> None:
        """Values a managed object supplies to every later call (a Project's OCID for the
        OpenAI-Project header); the client is told when it can take them."""
        values = {k: v for k, v in values.items() if v}
        if not values:
            return
        self.scope.update(values)
        if self.client is not None and hasattr(self.client, "set_scope"):
            self.client.set_scope(**values)

    def api(self) -> Any:
        if self.client is None:
            raise RuntimeError("this operation needs the API client")
        return self.client

    @property
    def owner(self) -> str:
        """The identity that ownership tags carry: `owner:` from ocigen.yaml, else this state's
        lineage (unique, but lost with the state: hence the warning when it matters)."""
        return self.settings.owner or f"lineage-{self.state.state.lineage}"

    def owner_tag(self, address: Address | str) -> str:
        return f"{self.owner}:{self.settings.env}:{address}"[:512]

    def id_of(self, address: Address | str) -> str:
        key = str(address)
        if key in self.ids:
            return self.ids[key]
        rs = self.state.state.resources.get(key)
        if rs is None:
            raise PlanError(f"{key} has no live object yet (it must be created first)")
        return rs.id

    async def create_once(self, kind: Any, change: Any, send: Any, relist: Any, parent_id: str | None = None) -> Any:
        """Create under a durable intent, adopting instead of duplicating after a lost response
        (engine/adoption.py: the one lost-create helper every kind uses)."""
        from ocigen_iac.engine.adoption import create_once

        return await create_once(self, kind, change, send, relist, parent_id)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


ApplyContext = RunContext
