"""Pragmas that suppress nothing (AL100): given after every other rule has run and been suppressed."""

from __future__ import annotations

from typing import Iterator, List

from aligner.decide.check.model import Finding
from aligner.decide.check.registry import Context, rule


@rule("AL100", after_suppression=True)
def unused_suppression(ctx: Context, unused: List[tuple]) -> Iterator[Finding]:
    for path, pragma, why in unused:
        yield ctx.find("AL100", path, pragma.line, pragma.column, f"unused suppression: {why}")
