"""State: model, backends (local file; OCI Object Storage), locks and the single writer."""

from __future__ import annotations

from ocigen_iac.settings import Settings
from ocigen_iac.state.backend import LocalBackend, StateBackend
from ocigen_iac.state.lock import LockInfo
from ocigen_iac.state.model import Intent, ResourceState, State
from ocigen_iac.state.sync import SyncState

__all__ = [
    "Intent",
    "LocalBackend",
    "LockInfo",
    "ResourceState",
    "State",
    "StateBackend",
    "SyncState",
    "make_backend",
]


def make_backend(settings: Settings) -> StateBackend:
    """The backend `ocigen.yaml` asks for, for the selected environment."""
    if settings.state.backend == "oci":
        from ocigen_iac.state.oci_backend import OciBackend  # imports `oci` lazily

        return OciBackend(settings)
    if settings.local:  # the embedded emulator's objects get their own state, beside its data
        local = settings.root / ".ocigen" / "local"
        return LocalBackend(local / "state", settings.env, settings.state.stale_lock_after_s,
                            cache_dir=local / "cache")
    return LocalBackend(settings.state.path, settings.env, settings.state.stale_lock_after_s,
                        cache_dir=settings.root / ".ocigen" / "cache")
