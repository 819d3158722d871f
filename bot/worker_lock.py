"""A delivery worker's name, held by one live process at a time on this machine.

A worker's name stays the same across restarts, so that a restarted process takes back at once the
rows it had claimed before it died. Two live processes with the same name (the same shard started
twice on one host) would take back each other's rows and could send them twice: the second one
gets a name of its own instead, and leaves the first one's rows alone.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)


def hold_worker_name(name: str, lock_dir: Path) -> tuple[str, IO[bytes]]:
    """`name`, or `name-<pid>` when another live process holds it; keep the returned file open while running
    (the operating system releases the lock when the process ends, however it ends)."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    handle = open(lock_dir / f"{name}.lock", "ab")  # noqa: SIM115 - held for the life of the process
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return name, handle
    except BlockingIOError:
        handle.close()
        unique = f"{name}-{os.getpid()}"
        log.warning("another process on this machine delivers as %s; this one delivers as %s. Give each "
                    "process its own DELIVERY_SHARD to split the work", name, unique)
        return hold_worker_name(unique, lock_dir)
