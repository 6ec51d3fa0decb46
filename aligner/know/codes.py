"""The rule codes' pages (rules/codes.toml): what each rule finds, why it matters, its fix, its severity."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Dict, Literal, get_args

from aligner.base import _toml

Severity = Literal["info", "warning", "error"]
SEVERITIES = get_args(Severity)  # lowest first


def rank(severity: Severity) -> int:
    return SEVERITIES.index(severity)


@lru_cache(maxsize=1)
def pages() -> Dict[str, dict]:
    text = resources.files("aligner.rules").joinpath("codes.toml").read_text("utf-8")
    return _toml.loads(text)


def known(code_or_prefix: str) -> bool:
    """ALL, a code, or a prefix of one (AL0)."""
    c = code_or_prefix.upper()
    return c == "ALL" or any(code.startswith(c) for code in pages())


def text(code: str) -> str:
    p = pages()[code]
    return (f"{p['summary']}\n\nWhy: {p['why']}\n\nBad:\n{p['bad']}\n\nGood:\n{p['good']}\n\nFix: {p['fix']}"
            f"\n\nNot flagged: {p['not-flagged']}")


def markdown(code: str) -> str:
    p = pages()[code]
    return (f"**{code} {p['name']}**: {p['summary']}\n\n{p['why']}\n\nBad:\n```dockerfile\n{p['bad']}\n```\n\n"
            f"Good:\n```dockerfile\n{p['good']}\n```\n\nFix: {p['fix']}\n\nNot flagged: {p['not-flagged']}")


def table() -> str:
    """The rule table of the README, one row per page."""
    rows = ["| code | name | what it finds |", "|---|---|---|"]
    rows += [f"| {code} | {p['name']} | {p['finds']} |" for code, p in sorted(pages().items())]
    return "\n".join(rows) + "\n"
