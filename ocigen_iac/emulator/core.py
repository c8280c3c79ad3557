"""The emulator's process-wide state: config, database, blob directory, clock, ids, fault injector,
counters and the background worker. The ASGI app and EmulatorServer both sit on one `Emulator`."""

from __future__ import annotations

import contextlib
import os
import secrets
import time
import uuid
from pathlib import Path

from .config import EmulatorConfig, Faults
from .db import Database
from .faults import Counters, FaultInjector

_ID_PREFIX = {
    "file": "file-emu-",
    "vs": "vs_emu_",
    "batch": "vsfb_emu_",
    "container": "cntr_emu_",
    "cfile": "cfile_emu_",
}


class Emulator:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.blob_root = config.data_dir / "blobs"
        for sub in ("files", "cfiles", "objects", "tmp"):
            (self.blob_root / sub).mkdir(parents=True, exist_ok=True)
        self.db = Database(config.data_dir / "emulator.sqlite3")
        self.faults = FaultInjector(config.faults, config.seed)
        self.counters = Counters()
        from .ingest import Worker  # local import: ingest imports model which imports core types

        self.worker = Worker(self)
        from .cp_lifecycle import ControlPlane

        self.control_plane = ControlPlane(self)

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        self.worker.start()
        self.control_plane.start()

    def stop(self) -> None:
        self.control_plane.stop()
        self.worker.stop()
        self.db.close()

    # -- helpers -------------------------------------------------------------------------------
    @staticmethod
    def now() -> int:
        return int(time.time())

    @staticmethod
    def new_id(kind: str) -> str:
        if kind == "file":
            return _ID_PREFIX[kind] + str(uuid.uuid4())
        return _ID_PREFIX[kind] + secrets.token_hex(12)

    def blob(self, kind: str, ident: str) -> Path:
        return self.blob_root / kind / ident

    def tmp_path(self) -> Path:
        return self.blob_root / "tmp" / secrets.token_hex(16)

    @staticmethod
    def unlink(path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)

    def ingest_delay(self) -> float:
        override = self.faults.faults.ingest_delay_s
        return self.config.ingest_delay_s if override is None else float(override)

    def set_faults(self, faults: Faults) -> None:
        self.faults.set(faults)
        self.config.faults = faults
        self.worker.wake()
