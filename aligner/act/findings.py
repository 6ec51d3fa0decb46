"""Findings as text, concise, json, sarif (2.1.0), github annotations, junit."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Dict, List
from xml.sax.saxutils import escape, quoteattr

from aligner import __version__
from aligner.know.codes import markdown as page_markdown, text as page_text
from aligner.decide.check.model import Finding, docs
from aligner.base.paths import display

JSON_VERSION = 1
SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def summary(findings: List[Finding], unread: int = 0) -> str:
    """The last line; `unread` files that could not be read are never summed up as "No findings"."""
    tail = f"; {unread} file{'s' if unread != 1 else ''} could not be read (see the errors)" if unread else ""
    if not findings:
        return f"No findings in the files read{tail}." if unread else "No findings."
    c = Counter(f.severity for f in findings)
    parts = [f"{c[s]} {s}{'s' if c[s] != 1 else ''}" for s in ("error", "warning", "info") if c[s]]
    return f"Found {len(findings)} finding{'s' if len(findings) != 1 else ''} ({', '.join(parts)}){tail}."


def concise(outcome) -> str:
    lines = [f"{f.path}:{f.line}:{f.column}: {f.code} [{f.severity}] {f.message}" for f in outcome.findings]
    return "\n".join(lines + [summary(outcome.findings, len(outcome.errors))]) + "\n"


def to_json(outcome) -> str:
    c = Counter(f.severity for f in outcome.findings)
    return json.dumps({
        "version": JSON_VERSION,
        "findings": [f.to_json() for f in outcome.findings],
        "errors": [{"path": e.path, "line": e.line, "message": e.message} for e in outcome.errors],
        "summary": {"files": outcome.files, "errors": c["error"], "warnings": c["warning"], "infos": c["info"]},
    }, indent=2) + "\n"


def sarif(outcome) -> str:
    pages = docs()
    codes = sorted(pages)
    rules = [{
        "id": code,
        "name": pages[code]["name"],
        "shortDescription": {"text": pages[code]["summary"]},
        "fullDescription": {"text": pages[code]["why"]},
        "help": {"text": page_text(code), "markdown": page_markdown(code)},
        "defaultConfiguration": {"level": SARIF_LEVEL[pages[code]["severity"]]},
    } for code in codes]
    results = []
    for f in outcome.findings:
        result = {
            "ruleId": f.code,
            "ruleIndex": codes.index(f.code),
            "level": SARIF_LEVEL[f.severity],
            "message": {"text": f.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": _uri(f.path)},
                "region": {"startLine": f.line, "startColumn": f.column},
            }}],
        }
        results.append(result)
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "aligner", "version": __version__, "semanticVersion": __version__,
                                "rules": rules}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(doc, indent=2) + "\n"


def _uri(path: str) -> str:
    return display(path).replace(os.sep, "/")


def _gh(value: str, prop: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if prop else value


def github(outcome) -> str:
    kinds = {"error": "error", "warning": "warning", "info": "notice"}
    lines = [f"::{kinds[f.severity]} file={_gh(_uri(f.path), True)},line={f.line},col={f.column},"
             f"title={_gh(f.code + ' ' + docs()[f.code]['name'], True)}::{_gh(f.message)}" for f in outcome.findings]
    lines += [f"::error file={_gh(_uri(e.path), True)}{f',line={e.line}' if e.line else ''}::{_gh(e.message)}"
              for e in outcome.errors]
    return "\n".join(lines) + ("\n" if lines else "")


def junit(outcome) -> str:
    by_file: Dict[str, List[Finding]] = {}
    for f in outcome.findings:
        by_file.setdefault(f.path, []).append(f)
    cases = []
    for path, items in sorted(by_file.items()):
        failures = "".join(
            f"<failure type={quoteattr(f.code)} message={quoteattr(f.message)}>"
            f"{escape(f'{f.path}:{f.line}:{f.column} {f.code} [{f.severity}] {f.message}')}</failure>" for f in items)
        cases.append(f'  <testcase classname="aligner" name={quoteattr(_uri(path))}>{failures}</testcase>')
    for e in outcome.errors:
        cases.append(f'  <testcase classname="aligner" name={quoteattr(_uri(e.path))}>'
                     f"<error message={quoteattr(e.message)}>{escape(str(e))}</error></testcase>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuites><testsuite name="aligner" tests="{max(len(cases), 1)}" '
            f'failures="{len(by_file)}" errors="{len(outcome.errors)}">\n'
            + ("\n".join(cases) or '  <testcase classname="aligner" name="check"/>') + "\n</testsuite></testsuites>\n")


def text(outcome, color: bool = False) -> str:
    import io

    from rich.console import Console
    from rich.text import Text

    buf = io.StringIO()
    console = Console(file=buf, highlight=False, force_terminal=color, color_system="auto" if color else None,
                      soft_wrap=True)
    styles = {"error": "bold red", "warning": "yellow", "info": "cyan"}
    lines_of: Dict[str, List[str]] = {}
    for f in outcome.findings:
        if f.path not in lines_of:
            try:
                with open(f.path, "rb") as fh:
                    lines_of[f.path] = fh.read().decode("utf-8", "replace").splitlines()
            except OSError:
                lines_of[f.path] = []
        src = lines_of[f.path]
        console.print(f"[bold]{f.path}:{f.line}:{f.column}[/bold]: [{styles[f.severity]}]{f.code}[/] "
                      f"[dim]({docs()[f.code]['name']})[/dim] {_esc(f.message)}")
        if 0 < f.line <= len(src):
            code_line = src[f.line - 1].rstrip("\r")
            console.print(Text.assemble("  ", (f"{f.line:>4} |", "dim"), " ", code_line))  # no markup: `\` stays
            console.print(f"  [dim]     |[/dim] {' ' * (f.column - 1)}[{styles[f.severity]}]^[/]")
        if f.fix:
            console.print(f"  [dim]fix ({'safe' if f.fix.safe else 'unsafe'}): {_esc(f.fix.description)}[/dim]")
    console.print(summary(outcome.findings, len(outcome.errors)))
    return buf.getvalue()


def _esc(s: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(s)


@dataclass(frozen=True)
class Format:
    render: Callable[..., str]  # (outcome, color) -> the report
    carries_errors: bool  # the report holds the read errors itself; else they go to standard error


FORMATS: Dict[str, Format] = {
    "text": Format(text, False),
    "concise": Format(lambda outcome, color=False: concise(outcome), False),
    "json": Format(lambda outcome, color=False: to_json(outcome), True),
    "sarif": Format(lambda outcome, color=False: sarif(outcome), True),
    "github": Format(lambda outcome, color=False: github(outcome), True),
    "junit": Format(lambda outcome, color=False: junit(outcome), True),
}
