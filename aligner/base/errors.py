"""One family of errors, each said one way: `error: WHERE: message`, a hint where one helps, exit 2.

    AlignerError            what the user is told instead of a traceback
      InputError            a user's file is wrong: names the file and line
      UsageError            a command-line option is wrong: names the option
      DataError             aligner's own data (rules/, the snapshot) is broken: names the file
      ToolError             a program or service aligner needs failed: names it (docker, uv, the index)
"""

from __future__ import annotations

from typing import Optional

from aligner.base.status import ERROR


class AlignerError(Exception):
    """Rendered by the command line as `error: {where}: {message}` and `hint: ...`, exit status `status`."""

    status = ERROR

    def __init__(self, message: str, where: Optional[str] = None, hint: Optional[str] = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message

    def render(self) -> str:
        """The lines the user sees, the same for every error."""
        return f"error: {self}" + (f"\nhint: {self.hint}" if self.hint else "")


class InputError(AlignerError):
    """Bad input in a user's file: printed as `path:line: message`."""

    def __init__(self, path: str, line: Optional[int], message: str, hint: Optional[str] = None):
        super().__init__(message, f"{path}:{line}" if line else path, hint)
        self.path = path
        self.line = line


class UsageError(AlignerError):
    """A command-line option with a value that cannot work: printed as `--option: message`."""

    def __init__(self, option: str, message: str, hint: Optional[str] = None):
        super().__init__(message, option, hint)
        self.option = option


class DataError(AlignerError):
    """aligner's own data is broken (a rules/ table, the snapshot): a bug of the release, not of the user."""


class ToolError(AlignerError):
    """A program or service that aligner needs is missing or failed: docker, uv, dot, the package index."""
