"""Run one command and report its wall time, peak RSS and CPU time as JSON.

Usage: python benchmarks/measure.py REPORT.json CMD ARGS...

The benchmark process hosts the emulator, so a child forked from it would inherit a large memory
image in its peak-RSS figure (Linux keeps the high-water mark across fork and exec). This small
launcher forks the command from a fresh, small interpreter instead: `ru_maxrss` from `wait4` is
then the command's own peak (or this launcher's ~10 MB, whichever is larger). The wall time runs
from just before the fork to the reaped exit, so it includes the command's whole start-up.
Output and exit code are the command's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main() -> int:
    report, cmd = sys.argv[1], sys.argv[2:]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    code = proc.returncode = os.waitstatus_to_exitcode(status)
    with open(report, "w") as fh:
        json.dump({"wall_s": wall, "maxrss_kb": usage.ru_maxrss, "cpu_s": usage.ru_utime + usage.ru_stime,
                   "returncode": code}, fh)
    return code if code >= 0 else 1


if __name__ == "__main__":
    sys.exit(main())
