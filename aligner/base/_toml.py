"""tomllib on Python >= 3.11, tomli before; a file nested too deeply is a decode error, not a crash."""

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

TOMLDecodeError = tomllib.TOMLDecodeError


def loads(text: str) -> dict:
    try:
        return tomllib.loads(text)
    except RecursionError:  # `x = [[[[...` thousands deep: the parser recurses once per level
        raise TOMLDecodeError("arrays or tables nested too deeply") from None


def line_of(exc: Exception):
    """The line a decode error points at: its `lineno` (Python 3.14+), else the "(at line N" of its message."""
    import re

    if getattr(exc, "lineno", None):
        return exc.lineno
    m = re.search(r"\(at line (\d+)", str(exc))
    return int(m.group(1)) if m else None
