"""Findings and rule documentation."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from typing import Dict, Optional

from aligner import _toml

SEVERITIES = ("info", "warning", "error")


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
    severity: str
    message: str
    fix: Optional[Fix] = None

    def key(self):
        return (self.path, self.line, self.column, self.code, self.message)

    def to_json(self) -> dict:
        out = asdict(self)
        out["name"] = docs()[self.code]["name"]
        return out


def rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@lru_cache(maxsize=1)
def docs() -> Dict[str, dict]:
    text = resources.files("aligner.rules").joinpath("codes.toml").read_text("utf-8")
    return _toml.loads(text)
