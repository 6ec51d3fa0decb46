"""Python as a variable: an image resolved with the Pythons it can have (aligner.relate.pythonvar), one at a
time, until one set of versions fits.

The Python decides which markers apply and which releases install at all (Requires-Python), so each
candidate is a resolution of its own rather than one more variable inside resolvelib. The order keeps what
the files write: first the Pythons every pinned release accepts (the image's own, then the smallest move:
fewest minors away, up first), so that a Python too old for the pinned vLLM moves rather than the vLLM; then
the others. An image whose own Python fits, nearly all of them, is resolved once.
"""

from __future__ import annotations

from dataclasses import replace
from typing import List, Optional

from packaging.specifiers import SpecifierSet

from aligner.decide.resolve import Current, Problem, Result, resolve
from aligner.know.components import Catalog
from aligner.know.snapshot import Snapshot
from aligner.know.versions import cuda_tuple as _tuple


def refusals(problem: Problem, python: str, snap: Snapshot, cat: Catalog) -> List[str]:
    """The image's pinned releases that do not take this Python (their Requires-Python, their wheels)."""
    out = []
    for comp, cur in sorted(problem.current.items()):
        c = cat.components.get(comp)
        rel = snap.release(c.index[0], cur.version) if c and c.index else None
        if rel and rel.requires_python and not SpecifierSet(rel.requires_python).contains(python, prereleases=True):
            out.append(f"{comp} {cur.version} ({cur.source}) requires Python {rel.requires_python}")
        elif rel and not rel.installs_on(python):
            out.append(f"{comp} {cur.version} ({cur.source}) has wheels only for {', '.join(rel.pythons)}")
    return out


def order(problem: Problem, snap: Snapshot, cat: Catalog) -> List[str]:
    own = problem.python.version
    mine = _tuple(own)
    wanted = problem.prefer.get("python")
    others = [v for v in problem.python_releases if _tuple(v)[:2] != mine[:2]]
    others.sort(key=lambda v: (v != wanted, abs(_tuple(v)[1] - mine[1]) if _tuple(v)[0] == mine[0] else 99,
                               _tuple(v) < mine))
    every = [own] + others
    fits = [v for v in every if not refusals(problem, v, snap, cat)]
    return fits + [v for v in every if v not in fits]


def resolve_image(problem: Problem, snap: Snapshot, cat: Catalog) -> Result:
    if problem.python is None or not problem.python_releases:
        return resolve(problem, snap, cat)
    own = problem.python.version
    first: Optional[Exception] = None
    for version in order(problem, snap, cat):
        moved = version != own
        attempt = replace(problem, python=Current(version, problem.python.source)) if moved else problem
        try:
            result = resolve(attempt, snap, cat)
        except Exception as exc:  # a Conflict: try the next Python
            if not hasattr(exc, "lines"):
                raise
            first = first or exc
            continue
        if moved and "python" in result.choices:
            refused = refusals(problem, own, snap, cat)
            result.choices["python"].moved_why = "; ".join(refused) if refused else (
                f"with Python {own} there is no aligned set: " + "; ".join(first.lines) if first else None)
        return result
    raise first
