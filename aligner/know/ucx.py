"""UCX's releases and the UCX a NIXL release needs (rules/ucx.toml)."""

from __future__ import annotations

from typing import List, Optional

from packaging.specifiers import SpecifierSet

from aligner.know import facts

COMPONENT = "ucx"


def releases() -> List[str]:
    return [r["version"] for r in facts.table("ucx.release")]


def nixl_floor(nixl: str) -> Optional[dict]:
    """The rules/ucx.toml [[nixl]] row that applies to a NIXL release: {ucx, why, source}, or None."""
    for row in facts.table("ucx.nixl"):
        if SpecifierSet(row["nixl"]).contains(nixl, prereleases=True):
            return row
    return None


def built_from_source(pins, component: str = "nixl") -> bool:
    """Whether an image builds NIXL itself (a git checkout or an ARG its build reads) rather than pip-installing
    a wheel, which brings a UCX of its own."""
    mine = [p for p in pins if p.component == component]
    return bool(mine) and not any(p.kind == "pip" for p in mine)
