"""One writer per repository at a time.

`fix --apply` and `lock` hold an advisory lock (flock) while they read, decide
and write, so two of them started at once run one after the other, and the
second sees what the first wrote. The lock file lives in aligner's cache
directory, named after the repository root, never in the user's tree; the
kernel drops it when the process ends, however it ends.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import time
from pathlib import Path
from typing import Iterator

from aligner.base.errors import InputError

WAIT = 300.0  # seconds; a fix or lock takes far less


@contextlib.contextmanager
def held(root: Path, wait: float = WAIT) -> Iterator[None]:
    import fcntl

    from aligner.know.httpcache import default_dir

    name = hashlib.sha256(os.path.realpath(root).encode("utf-8")).hexdigest()[:32]
    path = default_dir() / "locks" / f"{name}.lock"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:  # no writable cache: atomic renames still keep every file whole
        yield
        return
    try:
        stop, told = time.monotonic() + wait, False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= stop:
                    raise InputError(str(root), None, f"another aligner is still writing this repository after "
                                                      f"{wait:.0f} s; try again when it has finished") from None
                if not told:
                    print(f"note: waiting for another aligner writing {root}", file=sys.stderr)
                    told = True
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)
