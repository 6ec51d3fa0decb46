"""Writes to a user's files: wholly old or wholly new, even on Ctrl-C, with no temporary file left.

Each file is written to a temporary file in its own directory, fsynced, and
renamed over the target. Interrupts (SIGINT, SIGTERM) are held back while the
renames happen, so `write_together` changes all of its files or none of them,
and a temporary file is removed whatever stops the write.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Tuple

_HELD = {signal.SIGINT, signal.SIGTERM}


def atomic_write(path: Path, data: bytes, mode: Optional[int] = None) -> None:
    """One file, via a temporary file and a rename. It keeps its mode; a new one gets the umask's."""
    write_together([(Path(path), data)], mode)


def write_together(files: Iterable[Tuple[Path, bytes]], mode: Optional[int] = None) -> None:
    """Several files: every temporary file is written first, then all are renamed with interrupts held."""
    staged: List[Tuple[str, Path]] = []
    try:
        for path, data in files:
            staged.append((_stage(Path(path), data, mode), Path(path)))
        with _interrupts_held():
            for tmp, path in staged:
                os.replace(tmp, path)
            staged = []
    finally:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _stage(path: Path, data: bytes, mode: Optional[int]) -> str:
    if mode is None:
        try:
            mode = os.stat(path).st_mode & 0o7777
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask  # mkstemp alone would leave a new file owner-only
    with _interrupts_held():  # no interrupt between creating the file and owning its removal
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """SIGINT/SIGTERM wait until the block ends (then they act as usual); only the main thread gets them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
