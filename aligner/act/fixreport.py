"""What `aligner fix` shows: a unified diff, and a report (Markdown for a pull request, or JSON)."""

from __future__ import annotations

import difflib
import json
from typing import List

from aligner.decide.fix import NOT_PINNED, Plan
from aligner.base.paths import display


rel = display


def diff(p: Plan) -> str:
    out: List[str] = []
    for fp in p.changed():
        name = rel(fp.path)
        old = fp.old.decode("utf-8").splitlines(keepends=True)
        new = fp.new.decode("utf-8").splitlines(keepends=True)
        out += difflib.unified_diff(old, new, f"a/{name}", f"b/{name}", n=1)
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n\\ No newline at end of file\n"
    return "".join(out)


def colour(text: str) -> str:
    styles = {"+": "\x1b[32m", "-": "\x1b[31m", "@": "\x1b[36m"}
    lines = []
    for line in text.splitlines(keepends=True):
        style = "\x1b[1m" if line.startswith(("+++", "---")) else styles.get(line[:1])
        lines.append(f"{style}{line.rstrip(chr(10))}\x1b[0m\n" if style else line)
    return "".join(lines)


def edits_listing(p: Plan) -> str:
    lines = []
    for fp in p.files:
        for e in (e for e in fp.edits if not e.aux):
            mark = f"unsafe: {e.unsafe}" if e.unsafe else "safe"
            lines.append(f"{rel(fp.path)}:{e.pin.line}: {e.pin.component} {e.before} -> {e.after} [{mark}]")
        for e in fp.skipped:
            lines.append(f"{rel(fp.path)}:{e.pin.line}: {e.pin.component} {e.before} -> {e.after} "
                         f"[unsafe, not applied: {e.unsafe}; --unsafe-fixes applies it]")
        lines += [f"left: {x}" for x in dict.fromkeys(fp.left)]  # a file two images share says it once
    return "\n".join(lines) + ("\n" if lines else "")


def to_json(p: Plan, fixed: List[dict], left: List[dict], applied: bool = False) -> str:
    """`applied`: whether this run wrote its edits (--apply); a dry run's edits are all `applied: false`."""
    return json.dumps({
        "version": 1,
        "applied": applied,
        "lock": p.lock_note,
        "images": [{"name": name, "matrix": [dict(component=c, before=b, after=a, why=w) for c, b, a, w in rows]}
                   for name, rows in sorted(p.matrix.items())],
        "edits": [dict(path=rel(fp.path), line=e.pin.line, component=e.pin.component, before=e.before, after=e.after,
                       safe=e.unsafe is None, applied=applied, unsafe=e.unsafe) for fp in p.files for e in fp.edits
         if not e.aux]
        + [dict(path=rel(fp.path), line=e.pin.line, component=e.pin.component, before=e.before, after=e.after,
                safe=False, applied=False, unsafe=e.unsafe) for fp in p.files for e in fp.skipped],
        "findings_fixed": fixed,
        "findings_left": left,
        "diff": diff(p),
    }, indent=2) + "\n"


def to_markdown(p: Plan, fixed: List[dict], left: List[dict], applied: bool) -> str:
    md = ["## aligner fix", ""]
    if p.lock_note:
        md += [f"> {p.lock_note}", ""]
    changed = sum(1 for fp in p.files for e in fp.edits if not e.aux)
    md += [f"{changed} pin{'s' if changed != 1 else ''} {'changed' if applied else 'to change'} in "
           f"{len(p.changed())} file{'s' if len(p.changed()) != 1 else ''}.", ""]
    for name, rows in sorted(p.matrix.items()):
        md += [f"### {name}", "", "| component | before | after | why |", "|---|---|---|---|"]
        for comp, before, after, why in rows:
            moved = before != after and before != NOT_PINNED
            md.append(f"| {comp} | {_cell(before)} | {'**' + after + '**' if moved else after} | {_cell(why)} |")
        md.append("")
    skipped = [(fp, e) for fp in p.files for e in fp.skipped]
    left_notes = list(dict.fromkeys(x for fp in p.files for x in fp.left))
    if left_notes:
        md += ["### Left to you", ""] + [f"- {_cell(x)}" for x in left_notes] + [""]
    if skipped:
        md += ["### Not applied (unsafe)", ""]
        md += [f"- `{rel(fp.path)}:{e.pin.line}` {e.pin.component} {e.before} → {e.after}: {e.unsafe}; "
               "`aligner fix --apply --unsafe-fixes` applies it" for fp, e in skipped]
        md.append("")
    md += ["### Findings fixed", ""]
    md += [f"- `{f['path']}:{f['line']}` {f['code']}: {_cell(f['message'])}" for f in fixed] or ["- none"]
    md += ["", "### Findings left", ""]
    md += [f"- `{f['path']}:{f['line']}` {f['code']}: {_cell(f['message'])} ({f['why']})" for f in left] or ["- none"]
    text = diff(p)
    if text:
        md += ["", "<details><summary>Diff</summary>", "", "```diff", text.rstrip("\n"), "```", "", "</details>"]
    return "\n".join(md) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def classify(before: List[dict], after, p: Plan):
    """(fixed, left): the check findings this fix removes, and those it leaves, each with why.
    `after` is the findings once the fix is written, or None for a dry run: then a finding on a line
    the fix edits counts as fixed."""
    from aligner.decide.check.model import docs

    key = lambda f: (f["path"], f["line"], f["code"])
    if after is not None:
        gone = {key(f) for f in before} - {key(f) for f in after}
    else:
        edited = {(rel(fp.path), e.pin.line) for fp in p.files for e in fp.edits}
        gone = {key(f) for f in before if (f["path"], f["line"]) in edited and f["code"] != "AL012"}
    skipped = {(rel(fp.path), e.pin.line): e.unsafe for fp in p.files for e in fp.skipped}
    fixed = [f for f in before if key(f) in gone]
    left = []
    for f in before:
        if key(f) in gone:
            continue
        why = skipped.get((f["path"], f["line"]))
        kind, _, how = docs()[f["code"]]["fix"].partition(":")  # "none: ...", "safe: ..." (rules/codes.toml)
        said = "no automatic fix" if kind.strip().startswith("none") else "not fixed by this run"
        left.append(dict(f, why=f"unsafe fix not applied: {why}" if why else f"{said}: {how.strip() or kind}"))
    return fixed, left


# `aligner fix --report FILE.md|FILE.json`: (plan, fixed, left, applied) -> the report
FORMATS = {
    "md": to_markdown,
    "json": to_json,
}
