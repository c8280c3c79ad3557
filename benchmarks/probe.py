"""Run the real `ocigen-iac` CLI and report what its hash caches read.

Usage: python -m benchmarks.probe REPORT.json ARGS...   (same ARGS as `ocigen-iac`)

The process is the ordinary CLI (`ocigen_iac.cli.main`); the only addition is a wrapper that
remembers every `HashCache` the run creates, so that at exit REPORT.json holds
{"bytes_read", "files_hashed", "oci_imported", "vm_hwm_kb"}. Benchmarks use it to check that a
second plan over an unchanged tree reads no file content, and for the process's own peak RSS
(VmHWM; `wait4`'s ru_maxrss would also count the parent's image between fork and exec).
"""

from __future__ import annotations

import atexit
import json
import sys
from pathlib import Path
from typing import Any


def vm_hwm_kb() -> int:
    """Peak resident set size of this process, in kB (Linux /proc; ru_maxrss elsewhere)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def main() -> None:
    report = Path(sys.argv[1])
    sys.argv = ["ocigen-iac", *sys.argv[2:]]
    from ocigen_iac.engine import hashing

    caches: list[hashing.HashCache] = []
    original_init = hashing.HashCache.__init__

    def recording_init(self: hashing.HashCache, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        caches.append(self)

    hashing.HashCache.__init__ = recording_init  # type: ignore[method-assign]

    def write() -> None:
        report.write_text(json.dumps({
            "bytes_read": sum(c.bytes_read for c in caches),
            "files_hashed": sum(c.files_hashed for c in caches),
            "caches": len(caches),
            "oci_imported": "oci" in sys.modules,
            "vm_hwm_kb": vm_hwm_kb(),
        }))

    atexit.register(write)
    from ocigen_iac.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
