"""The one door every rule comes in by, and what a rule is given: the images, the knowledge, the upstream.

A rule is a function `(Context) -> Iterator[Finding]`, registered with `@rule("AL0nn")`; a code may
have several functions (they report in order). A rule with `after_rules=True` is given the other rules'
findings as well (AL015 says the edits no other finding carries); one with `after_suppression=True`,
the pragmas that suppressed nothing (AL100). Its page (what, why, example, fix) is in
rules/codes.toml; tests/unit/test_check_rules.py holds pages, registered rules and fixtures together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Literal, Optional

from aligner.decide.check.model import Finding, Fix, docs
from aligner.know.components import Catalog
from aligner.read.config import Config
from aligner.read.dockerfile import Pin
from aligner.relate.images import Image, where
from aligner.read.rewrite import render
from aligner.know.snapshot import SnapRelease, Snapshot
from aligner.know.versions import unsafe_move

LockState = Literal["missing", "stale"]
RULES: Dict[str, Callable[["Context"], Iterator[Finding]]] = {}
AFTER_RULES: Dict[str, Callable[["Context", list], Iterator[Finding]]] = {}
AFTER_SUPPRESSION: Dict[str, Callable[["Context", list], Iterator[Finding]]] = {}


@dataclass
class Context:
    cfg: Config
    cat: Catalog
    snap: Snapshot
    images: List[Image]
    upstream: Optional[object] = None  # aligner.read.upstream.Upstream
    lock_state: Optional[LockState] = None  # None: fresh, or no lock is configured
    severity: Dict[str, str] = field(default_factory=dict)
    planned: Optional[object] = None  # aligner.decide.check.hints.Planned: what fix would do, if known
    # (Dockerfile, the build arg taken, another build's different value) for the checked configured Dockerfiles
    disagree: List[tuple] = field(default_factory=list)

    def find(self, code: str, path: str, line: int, column: int, message: str, fix: Optional[Fix] = None,
             severity: Optional[str] = None) -> Finding:
        sev = self.severity.get(code) or severity or docs()[code]["severity"]
        return Finding(path, line, max(column, 1), code, sev, message, fix)

    def at(self, pin: Pin) -> str:
        return where(pin.path, pin.line, self.cfg.root)

    def at_line(self, path: str, line: int) -> str:
        return where(path, line, self.cfg.root)

    def release(self, component: str, version: str) -> Optional[SnapRelease]:
        comp = self.cat.components.get(component)
        if not comp or not comp.index:
            return None
        return self.snap.release(comp.index[0], version)


def rule(code: str, after_rules: bool = False, after_suppression: bool = False):
    """Register a rule function under its code."""
    def register(fn):
        table = AFTER_SUPPRESSION if after_suppression else AFTER_RULES if after_rules else RULES
        earlier = table.get(code)
        table[code] = fn if earlier is None else (lambda *a: (f for g in (earlier, fn) for f in g(*a)))
        return fn

    return register


def fix_to(pin: Pin, version: str, why: str) -> Optional[Fix]:
    """The fix that sets a pin to `version`, safe or not; None where no one span holds the value."""
    if pin.start is None or pin.form == "commit":
        return None
    unsafe = unsafe_move(pin.component, pin.version, version)
    text = f"set {pin.component} to {version} ({why})" + (f"; unsafe: {unsafe}" if unsafe else "")
    return Fix(text, unsafe is None, render(pin, version), pin.start, pin.end)


def distinct(pins: List[Pin]) -> List[Pin]:
    """One pin per value span (an ARG and the pip line using it are one pin)."""
    seen, out = set(), []
    for p in pins:
        key = (p.path, p.start, p.end, p.version)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def git_spans(files) -> set:
    """Value spans a `git clone`/`git checkout` uses: those releases are built from source."""
    return {(p.path, p.start, p.end) for f in files for p in f.pins if p.kind == "git" and p.start is not None}
