"""A generated file (the lock, the version page) held against the bytes aligner would write now."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Optional

MAX_BYTES = 16 << 20


def on_disk(path: Path) -> Optional[bytes]:
    from aligner.base.paths import read_regular

    return read_regular(path, MAX_BYTES) if path.exists() else None


def diff(old: bytes, new: bytes, name: str) -> str:
    """A unified diff of the file on disk against what would be written, one line of context."""
    lines = difflib.unified_diff(old.decode("utf-8", "replace").splitlines(), new.decode().splitlines(),
                                 f"{name} (on disk)", f"{name} (now)", lineterm="", n=1)
    return "\n".join(lines) + "\n"


def write(path: Path, new: bytes) -> bool:
    """Write atomically when the bytes differ; whether anything was written."""
    from aligner.base.atomic import atomic_write

    if on_disk(path) == new:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, new)
    return True
