"""Image tags that encode versions, AIBrix style: `v0.10.2-aibrix-v0.5.0-nixl-0.7.1-20251123`.

A `name-version` pair names a component (by ARG alias, component name or tag
name in rules/components.toml); a leading version is the image's engine.
Returned with the character range of each version inside the tag, so that a
tag can be checked against the pins and rebuilt from the lock.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

from aligner.know.components import Catalog
from aligner.know.versions import normalise



def names(cat: Catalog) -> Dict[str, str]:
    out = {alias.lower().replace("_", ""): comp for alias, comp in cat._aliases.items()}
    for comp in cat.components.values():
        out[comp.name.replace("-", "")] = comp.name
        for extra in comp.tag_names:
            out[extra] = comp.name
    return out


def claims(tag: str, known: Dict[str, str], engine: Optional[str]) -> List[Tuple[str, str, int, int]]:
    """(component, version, start, end) for each version the tag states; [] when it names none."""
    tokens = [(m.group(0), m.start(), m.end()) for m in re.finditer(r"[^-]+", tag)]
    out = []
    for i, (tok, _, _) in enumerate(tokens[:-1]):
        key = tok.lower().replace("_", "")
        nxt, start, end = tokens[i + 1]
        if key in known and normalise(nxt):
            out.append((known[key], normalise(nxt), start, end))
    if not out:
        return []  # 12.8.1-devel-ubuntu24.04 states nothing about the stack
    first, start, end = tokens[0]
    if engine and normalise(first) and first[:1] in "vV0123456789" and "." in first:
        out.insert(0, (engine, normalise(first), start, end))
    return out


def is_tag_variable(name: str, cat: Catalog) -> bool:
    return name.upper().endswith("TAG") and cat.by_variable(name) is None
