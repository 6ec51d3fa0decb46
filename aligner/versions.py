"""What a pinned value is (version, range, commit, moving, empty) and its normal form."""

from __future__ import annotations

import re
from typing import Optional

from packaging.version import InvalidVersion, Version

_COMMIT = re.compile(r"[0-9a-f]{7,40}")
_DOTTED = re.compile(r"\d+(?:\.\d+)+")
_COMPACT_CUDA = re.compile(r"(\d{2})(\d)")

EXACT_OPS = ("==", "===")


def is_commit(text: str) -> bool:
    return bool(_COMMIT.fullmatch(text)) and (len(text) == 40 or not text.isdigit())


def strip_v(text: str) -> str:
    return text[1:] if text[:1] in ("v", "V") and text[1:2].isdigit() else text


def normalise(text: str, scheme: str = "pep440") -> Optional[str]:
    """The normal spelling of a version, or None when text is not one."""
    bare = strip_v(text.strip())
    if scheme == "cuda":
        m = _COMPACT_CUDA.fullmatch(bare)
        if m:
            return f"{m.group(1)}.{m.group(2)}"
    if scheme in ("cuda", "calver"):
        return bare if _DOTTED.fullmatch(bare) else None
    try:
        return str(Version(bare))
    except InvalidVersion:
        return None


def form(text: str, scheme: str = "pep440", op: Optional[str] = None) -> str:
    """version | range | commit | moving | empty."""
    if not text:
        return "empty"
    if op is not None and op not in EXACT_OPS:
        return "range"
    if is_commit(text):
        return "commit"
    return "version" if normalise(text, scheme) is not None else "moving"
