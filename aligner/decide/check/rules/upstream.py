"""The repository against its upstream and its lock: drift from the upstream's pins (AL002), a stale lock (AL012),
a pin that differs from the lock for no reason another rule gives (AL015)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator, List

from aligner.decide.check.model import Finding
from aligner.decide.check.registry import Context, fix_to, rule
from aligner.know.versions import exact_version


@rule("AL002")
def upstream_drift(ctx: Context) -> Iterator[Finding]:
    up = ctx.upstream
    if up is None:
        return
    for img in ctx.images:
        if not img.config:
            continue
        if img.config.extra and img.config.extra not in up.extras:
            from aligner.base.errors import InputError

            raise InputError(up.source, None, f"no extra {img.config.extra!r} (image {img.name}); extras: "
                                              f"{', '.join(up.extras) or 'none'}")
        for req in up.requirements(img.config.extra):
            comp = ctx.cat.by_pip(req.name)
            if comp is None or not str(req.specifier):
                continue
            exact = exact_version(req.specifier)
            for pin in img.exact(comp):
                if req.specifier.contains(pin.version, prereleases=True):
                    continue
                src = up.where(req, img.config.extra)
                fix = fix_to(pin, exact, f"{src} pins it") if exact else None
                yield ctx.find("AL002", pin.path, pin.line, pin.column,
                               f"{comp} {pin.version} is outside {req} ({src})", fix)


@rule("AL012")
def stale_lock(ctx: Context) -> Iterator[Finding]:
    if ctx.lock_state in ("missing", "stale"):
        path = os.path.relpath(ctx.cfg.lock_path())
        what = "is missing" if ctx.lock_state == "missing" else "no longer matches the Dockerfiles and the upstream"
        yield ctx.find("AL012", path, 1, 1, f"{Path(path).name} {what}; run `aligner lock`")


@rule("AL015", after_rules=True)
def differs_from_lock(ctx: Context, found: List[Finding]) -> Iterator[Finding]:
    """Each edit fix would make that no other finding carries: after `lock --upgrade-package`, or where
    the lock moved a pin for a chain of requirements no one rule sees."""
    if ctx.planned is None:
        return
    have = {(os.path.abspath(f.path), f.line, f.column) for f in found}
    shown = {os.path.abspath(df.path): df.path for img in ctx.images for df in img.files}
    # a value a build script passes is in the plan's files too, named as check names them
    shown.update({os.path.abspath(p): os.path.relpath(p) for img in ctx.images for df in img.files
                  for p in {pin.path for pin in df.pins} if os.path.abspath(p) not in shown})
    for key, line, column, message in ctx.planned.edits:
        if (key, line, column) not in have and key in shown:
            have.add((key, line, column))
            yield ctx.find("AL015", shown[key], line, column, message)
