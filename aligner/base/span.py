"""Where a value stands in a file: the one location type of pins, variables, values and findings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Span:
    path: str
    line: int  # 1-based line of the first character
    column: int  # 1-based character column of the first character
    start: Optional[int] = None  # byte offsets [start, end) of the value; None when no one run of bytes holds it
    end: Optional[int] = None

    @property
    def exact(self) -> bool:
        """Whether new bytes can be written in place of the value."""
        return self.start is not None and self.end is not None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"
