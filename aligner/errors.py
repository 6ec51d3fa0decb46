"""Errors that name the user's file and line instead of raising a traceback."""

from __future__ import annotations

from typing import Optional


class InputError(Exception):
    """Bad input: printed as `path:line: message`, exit status 2."""

    def __init__(self, path: str, line: Optional[int], message: str):
        super().__init__(message)
        self.path = path
        self.line = line
        self.message = message

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"
