"""`aligner explain COMPONENT[==VERSION]`: the constraints that decide a version."""

from __future__ import annotations

import sys
from typing import Optional

from packaging.version import InvalidVersion, Version

from aligner.know.components import catalog
from aligner.decide.resolve import Provider
from aligner.know.snapshot import Snapshot


def explain(outcome, name: str, version: Optional[str], image: Optional[str]) -> int:
    cat = catalog()
    comp = cat.resolve(name) or name
    images = [li for li in outcome.locked if image in (None, li.input.config.name)]
    if image and not images:
        print(f"error: no locked image named {image!r}", file=sys.stderr)
        return 2
    if version:
        try:
            wanted = Version(version)
        except InvalidVersion:
            print(f"error: {version!r} is not a version", file=sys.stderr)
            return 2
    shown = 0
    for li in images:
        choice = li.result.choices.get(comp)
        if choice is None:
            continue
        shown += 1
        print(f"{li.input.config.name}: {comp} {choice.version}")
        print(f"  because {li.why[comp]}")
        if comp in li.changes:
            print(f"  which moves a pin: {li.changes[comp]}")
        print("  constraints on it:")
        for c, parent in sorted(choice.constraints, key=lambda cp: (cp[1] is not None, cp[0].source, cp[0].text)):
            origin = f"{c.source} (index metadata)" if parent else c.source
            print(f"    {c.text or comp:40} from {origin}")
        if version:
            print(_would(li, comp, wanted, choice))
    if not shown:
        print(f"error: no locked image has {comp!r}", file=sys.stderr)
        return 2
    return 0


def _would(li, comp: str, wanted: Version, choice) -> str:
    cat = catalog()
    broken = [f"{c.text} ({c.source}{' index metadata' if p else ''})" for c, p in choice.constraints
              if str(c.specifier) and not c.specifier.contains(wanted, prereleases=True)]
    reasons = []
    component = cat.components.get(comp)
    if component and component.index:
        provider = Provider(li.input.problem, Snapshot.load(), cat)
        rel = provider.snap.release(component.index[0], str(wanted))
        if rel is None:
            reasons.append(f"{comp} {wanted} is not a release on the index (snapshot)")
        else:
            why = provider.rejection(rel, exact=True)
            if why:
                reasons.append(why)
    reasons += [f"it does not satisfy {b}" for b in broken]
    if not reasons:
        return (f"  {comp} {wanted} satisfies every constraint here; the lock takes {choice.version}: "
                f"{li.why[comp]}")
    return f"  {comp} {wanted} would not be chosen:\n" + "\n".join(f"    - {r}" for r in reasons)
