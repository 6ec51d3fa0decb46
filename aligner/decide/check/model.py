"""Findings: where, which rule, how bad, what to do."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

from aligner.base.span import Span
from aligner.know.codes import SEVERITIES, Severity, rank
from aligner.know.codes import pages as docs

__all__ = ["Finding", "Fix", "SEVERITIES", "Severity", "docs", "rank"]


@dataclass(frozen=True)
class Fix:
    description: str
    safe: bool
    replacement: Optional[str] = None  # the new value bytes for [start, end) of the pin
    start: Optional[int] = None
    end: Optional[int] = None


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    column: int
    code: str
    severity: Severity
    message: str
    fix: Optional[Fix] = None

    @property
    def span(self) -> Span:
        return Span(self.path, self.line, self.column)

    def key(self):
        return (self.path, self.line, self.column, self.code, self.message)

    def to_json(self) -> dict:
        out = asdict(self)
        out["name"] = docs()[self.code]["name"]
        return out
