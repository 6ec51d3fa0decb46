"""Inline suppressions: `# aligner: ignore=AL003,AL007` on the line above or the same
line, `# aligner: ignore` for every code there, `# aligner: ignore-file[=CODES]`.
A suppression that suppresses nothing becomes an AL100 finding."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Set, Tuple

from aligner.decide.check.model import Finding

_PRAGMA = re.compile(r"#\s*aligner:\s*(ignore-file|ignore)\b(?:\s*=\s*([A-Za-z0-9 ,]+))?")


@dataclass
class Pragma:
    line: int
    column: int
    codes: Optional[Set[str]]  # None: every code
    whole_file: bool
    used: Set[str] = field(default_factory=set)


def pragmas(text: str) -> List[Pragma]:
    out = []
    for n, line in enumerate(text.split("\n"), 1):
        m = _PRAGMA.search(line)
        if not m:
            continue
        codes = {c.strip().upper() for c in m.group(2).split(",") if c.strip()} if m.group(2) else None
        out.append(Pragma(n, m.start() + 1, codes, m.group(1) == "ignore-file"))
    return out


def apply(findings: Iterable[Finding], by_file: Dict[str, List[Pragma]]) -> Tuple[List[Finding], List[tuple]]:
    """(kept findings, unused pragmas as (path, pragma, why)); a pragma that names only AL100 is never unused."""
    kept = []
    for f in findings:
        hit = None
        for p in by_file.get(f.path, []):
            if (p.whole_file or f.line in (p.line, p.line + 1)) and (p.codes is None or f.code in p.codes):
                hit = p
                break
        if hit:
            hit.used.add(f.code)
        else:
            kept.append(f)
    unused = []
    for path, prags in by_file.items():
        prags = [p for p in prags if not (p.codes and p.codes == {"AL100"})]
        for p in prags:
            if p.codes is None:
                if not p.used:
                    unused.append((path, p, "suppresses nothing"))
            else:
                for code in sorted(p.codes - p.used):
                    unused.append((path, p, f"{code} suppresses nothing here"))
    return kept, unused


def silenced(findings: Iterable[Finding], by_file: Dict[str, List[Pragma]]) -> List[Finding]:
    """Findings about the pragmas themselves (AL100) without those a pragma naming their code suppresses."""
    remaining = []
    for f in findings:
        hit = next((p for p in by_file.get(f.path, []) if p.codes and f.code in p.codes
                    and (p.whole_file or f.line in (p.line, p.line + 1))), None)
        if hit:
            hit.used.add(f.code)
        else:
            remaining.append(f)
    return remaining
