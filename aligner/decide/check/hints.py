"""check's fix hints are fix's edits: one plan, two views of it.

For a file of a configured image, the hint on a finding is the edit `aligner fix` makes at that pin (same
value, same safety), or none when fix leaves the pin alone (it moves another pin instead, or cannot write
this one). Each edit that no finding carries is said as AL015 (the pin differs from the lock), except an
image tag rebuilt from versions that move: the findings on those versions carry their own edits. A file of
no configured image, or a run without the upstream at hand, keeps each rule's own hint: fix does not
touch such a file, so nothing can contradict it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Dict, Iterable, List, Optional

from aligner.decide.check.model import Finding, Fix
from aligner.base.errors import InputError


@dataclass
class Planned:
    """What fix would do, keyed as check locates findings."""

    files: set = field(default_factory=set)  # absolute paths of the files fix brings to the lock
    fixes: Dict[tuple, Fix] = field(default_factory=dict)  # (abspath, line, column) -> the edit there
    edits: List[tuple] = field(default_factory=list)  # (abspath, line, column, message) of each edit
    notes: List[str] = field(default_factory=list)


def as_fix(edit) -> Fix:
    """One edit of aligner.decide.fix as a finding's fix."""
    if edit.pin.component == "image-tag":
        text = f"rebuild {edit.pin.name} as {edit.after} ({edit.why})"
    else:
        text = f"set {edit.pin.component} to {edit.after} ({edit.why})"
    if edit.unsafe:
        text += f"; unsafe: {edit.unsafe}"
    return Fix(text, edit.unsafe is None, edit.text, edit.pin.start, edit.pin.end)


def plan(ws, cat, snap) -> Optional[Planned]:
    """The edits fix would make (safe, and unsafe ones held back), or None when the plan cannot be made
    (no configured image). A conflict plans no edit: fix makes none either."""
    from aligner.decide import fix

    cfg = ws.cfg
    if not cfg.images:
        return None
    out = Planned({os.path.abspath(p) for p in cfg.image_dockerfiles()})
    try:
        outcome, _, note = fix.target(ws, cat, snap)
        if outcome.conflicts:
            names = ", ".join(c.image for c in outcome.conflicts)
            out.notes.append(f"no aligned set of versions for image {names} (`aligner lock` says why): "
                             "no fix is offered in its files")
            return out
        made = fix.plan(ws, outcome, cat, False, note)
    except InputError as exc:
        return Planned(notes=[f"fix hints are each rule's own: {exc.render()}"])
    places: Dict[tuple, set] = {}  # (file, start, end) -> every (line, column) a pin of that value stands at
    for path in cfg.image_dockerfiles():
        for p in ws.parsed(path, cat).pins:  # a build script's pins are in the parse of the Dockerfile it builds
            places.setdefault((os.path.abspath(p.path), p.start, p.end), set()).add((p.line, p.column))
    out.files |= {os.path.abspath(s) for s in ws.build_scripts()}
    for fp in made.files:
        key = os.path.abspath(fp.path)
        for e in fp.edits + fp.skipped:
            if e.aux:
                continue  # a digest dropped with its tag: the tag's edit says it
            hint = as_fix(e)
            where = set(places.get((key, e.pin.start, e.pin.end), ()))
            where.add((e.pin.line, e.pin.column))
            for line, column in where:
                out.fixes[(key, line, column)] = hint
            if e.pin.component != "image-tag":  # a tag rebuilt from moved versions is part of their edits
                out.edits.append((key, e.pin.line, e.pin.column,
                                  f"{e.pin.component} {e.before} differs from the lock's {e.after} ({e.why})"))
    return out


def carried(findings: Iterable[Finding], planned: Planned) -> List[Finding]:
    """The findings, each in a planned file carrying the edit fix makes at its pin (or no fix)."""
    out = []
    for f in findings:
        key = os.path.abspath(f.path)
        if key in planned.files:
            f = replace(f, fix=planned.fixes.get((key, f.line, f.column)))
        out.append(f)
    return out
