"""Image tags that spell versions (v0.10.2-nixl-0.7.1) against the pins (AL010)."""

from __future__ import annotations

from typing import Iterator

from packaging.version import Version

from aligner.know import tags
from aligner.decide.check.model import Finding
from aligner.decide.check.registry import Context, rule


@rule("AL010")
def tag_disagrees(ctx: Context) -> Iterator[Finding]:
    known = tags.names(ctx.cat)
    for img in ctx.images:
        engines = [c for c in ctx.cat.with_role("engine") if img.exact(c)]
        for df in img.files:
            for var in df.variables:
                if not var.value or not tags.is_tag_variable(var.name, ctx.cat):
                    continue
                for comp, version, _, _ in tags.claims(var.value, known, engines[0] if len(engines) == 1 else None):
                    pins = img.exact(comp)
                    if pins and all(Version(p.version) != Version(version) for p in pins):
                        yield ctx.find("AL010", df.path, var.line, var.span.column if var.span and var.span.line == var.line else 1,
                                       f"{var.name} says {comp} {version}, but the image pins {pins[0].version} "
                                       f"({ctx.at(pins[0])})")
