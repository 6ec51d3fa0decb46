"""What `aligner fix` shows: a unified diff, and a report (Markdown for a pull request, or JSON)."""

from __future__ import annotations

import difflib
import json
from typing import List

from aligner.decide.fix import NOT_PINNED, Plan
from aligner.base.paths import display


rel = display


def diff(p: Plan) -> str:
    """The Dockerfiles' diff, then the lock's: everything the fix writes."""
    out: List[str] = []
    for fp in p.changed():
        name = rel(fp.path)
        out += _unified(fp.old, fp.new, f"a/{name}", f"b/{name}")
    if p.lock_changes():
        old = f"a/{p.lock_path}" if p.lock_old is not None else "/dev/null"
        out += _unified(p.lock_old or b"", p.lock_new, old, f"b/{p.lock_path}")
    return "".join(out)


def _unified(old: bytes, new: bytes, a: str, b: str) -> List[str]:
    out = list(difflib.unified_diff(old.decode("utf-8").splitlines(keepends=True),
                                    new.decode("utf-8").splitlines(keepends=True), a, b, n=1))
    if out and not out[-1].endswith("\n"):
        out[-1] += "\n\\ No newline at end of file\n"
    return out


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


def rows(p: Plan, image: str) -> List[dict]:
    """The lock of one image against its Dockerfiles, one row per component: `pinned` (the Dockerfiles
    write it) and `change`: "edit" (fix writes it), "held back" (an unsafe edit left out), "left" (it
    differs, and no one span holds it: yours to set) or None (the same)."""
    import os

    files = {os.path.abspath(f) for f in p.image_files.get(image, [])}
    edited = {}
    for fp in p.files:
        if os.path.abspath(fp.path) in files:
            for e in fp.edits:
                if not e.aux and e.pin.component != "image-tag":
                    edited.setdefault(e.pin.component, "edit")
            for e in fp.skipped:
                if e.pin.component != "image-tag":
                    edited.setdefault(e.pin.component, "held back")
    out = []
    for comp, before, after, why in p.matrix.get(image, []):
        pinned = before != NOT_PINNED
        change = edited.get(comp) or ("left" if pinned and before != after else None)
        out.append(dict(component=comp, before=before, after=after, why=why, pinned=pinned, change=change))
    return sorted(out, key=lambda r: (not r["pinned"], r["change"] is None))  # stable: by name within each


def summary(p: Plan, applied: bool) -> dict:
    edits, held = p.applied(), p.held()
    return {"edits": len(edits) + len(held), "applied" if applied else "to_apply": len(edits), "held_back": len(held),
            "files": len(p.changed()), "left": len(p.left()),
            "lock": ("rewritten" if applied else "to rewrite") if p.lock_changes() else "unchanged"}


def _edit_rows(p: Plan, applied: bool) -> List[dict]:
    out = []
    for fp in p.files:
        for e in fp.edits:
            if not e.aux:
                out.append(dict(path=rel(fp.path), line=e.pin.line, component=_what(e), before=e.before, after=e.after,
                                safe=e.unsafe is None, applied=applied, held_back=False, unsafe=e.unsafe,
                                start=e.pin.start, end=e.pin.end, text=e.text,
                                image_tag=e.pin.component == "image-tag"))
        for e in fp.skipped:
            out.append(dict(path=rel(fp.path), line=e.pin.line, component=_what(e), before=e.before, after=e.after,
                            safe=False, applied=False, held_back=True, unsafe=e.unsafe,
                            start=e.pin.start, end=e.pin.end, text=e.text,
                            image_tag=e.pin.component == "image-tag"))
    return out


def _what(e) -> str:
    return e.pin.name if e.pin.component == "image-tag" else e.pin.component


def to_json(p: Plan, fixed: List[dict], left: List[dict], applied: bool = False) -> str:
    """`applied`: whether this run wrote its edits (--apply); a dry run's edits are all `applied: false`."""
    return json.dumps({
        "version": 1,
        "applied": applied,
        "lock": p.lock_note,
        "summary": summary(p, applied),
        "images": [{"name": name, "matrix": rows(p, name)} for name in sorted(p.matrix)],
        "edits": _edit_rows(p, applied),
        "left_to_you": p.left(),
        "conflicts": [{"image": image, "lines": lines} for image, lines in p.conflicts],
        "findings_fixed": fixed,
        "findings_left": left,
        "diff": diff(p),
    }, indent=2) + "\n"


def to_markdown(p: Plan, fixed: List[dict], left: List[dict], applied: bool) -> str:
    md = ["## aligner fix", ""]
    if p.lock_note:
        md += [f"> {p.lock_note}", ""]
    n = summary(p, applied)
    done = n["applied"] if applied else n["to_apply"]
    said = [f"{done} {'applied' if applied else 'to apply'}"] + ([f"{n['held_back']} held back as unsafe"]
                                                                  if n["held_back"] else [])
    where = len({r["path"] for r in _edit_rows(p, applied)})
    md.append(f"{n['edits']} edit{'s' if n['edits'] != 1 else ''} in {where} file{'s' if where != 1 else ''}: "
              f"{', '.join(said)}."
              + {"rewritten": " The lock is rewritten (in the diff).", "to rewrite": " The lock is to be rewritten "
                 "(in the diff).", "unchanged": ""}[n["lock"]])
    md.append("")
    edits = _edit_rows(p, applied)
    if edits:
        md += ["| where | component | before | after | |", "|---|---|---|---|---|"]
        for e in edits:
            held = e["unsafe"] if (e["unsafe"] or "").startswith("held back") else f"held back: {e['unsafe']}"
            state = held if e["held_back"] else ("applied" if applied else "to apply") + (
                f" (unsafe: {e['unsafe']})" if e["unsafe"] else "")
            md.append(f"| `{e['path']}:{e['line']}` | {e['component']} | {_cell(e['before'])} | {_cell(e['after'])} | "
                      f"{_cell(state)} |")
        md.append("")
    for name in sorted(p.matrix):
        table = rows(p, name)
        pinned = [r for r in table if r["pinned"]]
        decided = [r for r in table if not r["pinned"]]
        md += [f"### {name}", "", "| component | Dockerfiles | lock | why |", "|---|---|---|---|"]
        for r in pinned:
            mark = {"edit": "**{}**", "held back": "**{}** (held back)", "left": "**{}** (left to you)"}.get(
                r["change"], "{}")
            md.append(f"| {r['component']} | {_cell(r['before'])} | {mark.format(_cell(r['after']))} | {_cell(r['why'])} |")
        md.append("")
        if decided:
            md += ["Decided by the lock, not pinned in the Dockerfiles:", "", "| component | lock | why |",
                   "|---|---|---|"]
            md += [f"| {r['component']} | {_cell(r['after'])} | {_cell(r['why'])} |" for r in decided]
            md.append("")
    for image, lines in p.conflicts:
        md += [f"### No aligned set of versions for image {image}", "", "Nothing is changed: these constraints "
               "cannot all hold.", ""] + [f"- {_cell(x)}" for x in lines] + [""]
    left_notes = p.left()
    if left_notes:
        md += ["### Left to you", ""] + [f"- {_cell(x)}" for x in left_notes] + [""]
    md += ["### Findings fixed" if applied else "### Findings it fixes once applied", ""]
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
    `after` is the findings once the fix is written, or None for a dry run: then a finding whose fix is
    an edit to apply, or that has no fix and sits on a line the fix edits, counts as fixed, and so does
    the stale-lock finding when the lock is to be rewritten."""
    from aligner.decide.check.model import docs

    key = lambda f: (f["path"], f["line"], f["code"])
    span = lambda f: (f["path"], f["fix"]["start"], f["fix"]["end"]) if f.get("fix") else None
    if after is not None:
        gone = {key(f) for f in before} - {key(f) for f in after}
    else:
        applied = {(rel(fp.path), e.pin.start, e.pin.end) for fp in p.files for e in fp.edits}
        lines = {(rel(fp.path), e.pin.line) for fp in p.files for e in fp.edits}
        gone = {key(f) for f in before if span(f) in applied or (not f.get("fix") and (f["path"], f["line"]) in lines)
                or (f["code"] == "AL012" and p.lock_changes())}
    held = {(rel(fp.path), e.pin.start, e.pin.end): e.unsafe for fp in p.files for e in fp.skipped}
    fixed = [f for f in before if key(f) in gone]
    left = []
    for f in before:
        if key(f) in gone:
            continue
        why = held.get(span(f))
        kind, _, how = docs()[f["code"]]["fix"].partition(":")  # "none: ...", "safe: ..." (rules/codes.toml)
        if why:
            why = f"unsafe fix not applied: {why}"
        elif kind.strip().startswith("none"):
            why = f"no automatic fix: {how.strip() or kind}"
        elif not f.get("fix") and f["code"] != "AL012":  # check shows fix's edits: none is at this pin
            why = "no edit at this pin: the lock settles it through other pins" + (
                ", and those edits are held back as unsafe" if p.held() else "")
        else:
            why = f"not fixed by this run: {how.strip() or kind}"
        left.append(dict(f, why=why))
    return fixed, left


# `aligner fix --report FILE.md|FILE.json`: (plan, fixed, left, applied) -> the report
FORMATS = {
    "md": to_markdown,
    "json": to_json,
}
