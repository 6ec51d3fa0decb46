"""The UCX an image builds NIXL against, against what that NIXL needs (AL016)."""

from __future__ import annotations

from typing import Iterator

from packaging.specifiers import SpecifierSet

from aligner.decide.check.model import Finding
from aligner.decide.check.registry import Context, distinct, rule
from aligner.know import ucx


@rule("AL016")
def ucx_too_old(ctx: Context) -> Iterator[Finding]:
    for img in ctx.images:
        if not ucx.built_from_source(img.pins()):
            continue  # a NIXL wheel brings its own UCX
        for nixl in distinct(img.exact("nixl")):
            floor = ucx.nixl_floor(nixl.version)
            if floor is None:
                continue
            for pin in distinct(img.exact(ucx.COMPONENT)):
                if not SpecifierSet(floor["ucx"]).contains(pin.version, prereleases=True):
                    yield ctx.find("AL016", pin.path, pin.line, pin.column,
                                   f"UCX {pin.version} is older than NIXL {nixl.version} (built here, {ctx.at(nixl)}) "
                                   f"needs: UCX {floor['ucx']}; {floor['why']} (rules/ucx.toml)")
