"""One build of one Dockerfile, as a script, compose file or workflow runs it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

from aligner.read.dockerfile.traced import Traced


def unknown(name: str = "") -> Traced:
    """A value only known when the build runs (the environment's, a CI expression, a computed one)."""
    from aligner.read.dockerfile.traced import Piece

    return Traced([Piece("", -1, -1, name or None, synthetic=True, unknown=True)])


def in_context(context: str, name: str) -> str:
    """A Dockerfile named relative to its build context (compose's `dockerfile`, bake's), as a path."""
    return name if name.startswith("/") or context in ("", ".") else f"{context.rstrip('/')}/{name}"


@dataclass(frozen=True)
class BuildArg:
    name: str
    value: Traced  # its pieces carry the source file as origin; an unknown piece: set when the build runs
    line: int  # where `NAME=VALUE` is written in the source
    path: str = ""  # the source file
    column: int = 1  # of `NAME=VALUE`


@dataclass
class Invocation:
    path: str  # the source file
    line: int  # the line the build command (or service, or step) starts on
    kind: str  # "script", "compose", "workflow", "bake"
    dockerfile: Optional[str]  # as the source names it (-f, `dockerfile:`, `file:`); None: the context's Dockerfile
    context: Optional[str]  # the build context as written; None when the source gives none
    args: List[BuildArg] = field(default_factory=list)
    target: Optional[str] = None  # the stage built (--target)
    # the Dockerfile's path is only partly known (`${SOURCE_DIR}/Dockerfile.vllm`): `dockerfile` holds the part
    # after the last unknown piece, and the file is found by that name
    partial: bool = False
