"""One run at a time per output folder: `<out>/.rolloutkit-report.lock`, holding the holder's pid.

The lock is an `flock` on that file, so the operating system releases it when the holder dies however it dies;
a lock file left by a killed run (its pid no longer holds the lock) is simply taken over. A second run while the
first is alive refuses at once with the holder's pid: waiting silently would stack up cron jobs behind a hung one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from rolloutkit.errors import RolloutkitError

LOCK_NAME = ".rolloutkit-report.lock"


@contextlib.contextmanager
def output_lock(out: Path) -> Iterator[dict | None]:
    """Hold the lock of `out` for the block; yields what a stale lock file said about its dead holder, or None.

    Raises `RolloutkitError` naming the holder when another live process holds it.
    """
    path = Path(out) / LOCK_NAME
    fd = _acquire(path)
    try:
        stale = _read(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                  "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}).encode(), 0)
        yield stale
    finally:
        # Unlink before closing: a run that opened the old file meanwhile sees it replaced and tries again.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(fd)


def _acquire(path: Path) -> int:
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd) or {}
            os.close(fd)
            raise RolloutkitError(
                f"{path.parent}: another report run (pid {holder.get('pid', '?')} on {holder.get('host', '?')}, "
                f"started {holder.get('started', '?')}) is writing into this folder; this run stops so the two "
                "never interleave. Run it again when that one has finished.") from None
        except BaseException:
            os.close(fd)
            raise
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        # The holder released and unlinked the file between our open and our flock: lock the new one instead.
        os.close(fd)


def _read(fd: int) -> dict | None:
    text = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
    if not text:
        return None
    try:
        found = json.loads(text)
    except json.JSONDecodeError:
        return {"pid": text[:20]}
    return found if isinstance(found, dict) else None
