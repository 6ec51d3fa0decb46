"""Pinned releases against the index snapshot: no such release (AL007), no wheel for a platform (AL008), outside what aligner knows (AL014)."""

from __future__ import annotations

import re
from typing import Dict, Iterator, List

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from aligner.know import facts
from aligner.decide.check.model import Finding
from aligner.decide.check.registry import Context, distinct, rule
from aligner.know.snapshot import SnapRelease


@rule("AL007")
def no_such_release(ctx: Context) -> Iterator[Finding]:
    for pin, code, message in _releases_not_in_snapshot(ctx):
        if code == "AL007":
            yield ctx.find(code, pin.path, pin.line, pin.column, message)


def _releases_not_in_snapshot(ctx: Context) -> Iterator[tuple]:
    """(pin, code, message) for each pinned release the snapshot lacks: AL007 within the range it
    covers, AL014 (not checked) outside it."""
    for img in ctx.images:
        for pin in distinct([p for p in img.pins() if p.form == "version" and p.version]):
            comp = ctx.cat.components.get(pin.component)
            if not comp or not comp.index or pin.kind == "from":
                continue
            # `nixl-cu12==0.7.0` is looked up as nixl-cu12, not as the component's first project (nixl)
            own = canonicalize_name(pin.name) if pin.kind == "pip" else None
            project = own if own in comp.index else comp.index[0]
            releases = ctx.snap.releases(project)
            if not releases or ctx.snap.release(project, pin.version):
                continue
            label = pin.component if project == comp.index[0] else project
            try:
                v = Version(pin.version)
            except InvalidVersion:
                continue
            ngc = re.search(r"nv(\d\d)\.(\d\d?)$", v.local or "")
            if ngc and pin.component == "torch":  # NGC PyTorch's own build: check it against rules/ngc.toml
                release = f"{ngc.group(1)}.{int(ngc.group(2)):02d}"
                row = facts.ngc_row("ngc-pytorch", release)
                if row and row.get("torch") and Version(row["torch"]).public != v.public:
                    yield pin, "AL007", (f"torch {pin.version} is not the torch of NGC PyTorch {release}, which has "
                                         f"{row['torch']} (rules/ngc.toml)")
                continue
            if v.local and (v.is_prerelease or v.is_devrelease):
                continue  # a build of its own (a nightly +cu128): no index has it
            oldest, newest = releases[0].version, releases[-1].version
            if (comp.since and v < Version(comp.since)) or v > Version(newest):
                hint = "; run `aligner rules refresh` if it was just released" if v > Version(newest) else ""
                yield pin, "AL014", f"{label} {pin.version} not checked: aligner knows {label} {oldest} to {newest}{hint}"
            else:
                yield pin, "AL007", (f"{label} {pin.version} is not a release on the index "
                                     f"(nearby: {', '.join(_nearby(releases, v))})")


def _nearby(releases: List[SnapRelease], v: Version) -> List[str]:
    below = [r.version for r in releases if Version(r.version) < v][-1:]
    above = [r.version for r in releases if Version(r.version) > v][:1]
    return below + above


@rule("AL008")
def no_wheel(ctx: Context) -> Iterator[Finding]:
    for img in ctx.images:
        # a value that a `git clone` / `git checkout` uses is built from source: no wheel needed
        built = {(p.path, p.line, p.column) for p in img.pins() if p.kind == "git"}
        # only what pip installs needs a wheel: an ARG handed to a build script may be built from source;
        # a pip line inside a TARGETARCH branch runs on that branch's platforms only
        installs: Dict[tuple, set] = {}
        for p in img.pins():
            if p.kind == "pip" and p.form == "version" and p.version:
                installs.setdefault((p.path, p.line, p.column), set()).update(p.platforms or img.platforms)
        for pin in distinct([p for p in img.pins() if p.form == "version" and p.version and p.kind != "from"]):
            where = (pin.path, pin.line, pin.column)
            if where in built or where not in installs:
                continue
            rel = ctx.release(pin.component, pin.version)
            if rel is None or not rel.platforms:
                continue  # sdist-only: may build anywhere
            missing = [p for p in img.platforms if p in installs[where] and p not in rel.platforms]
            if missing:
                yield ctx.find("AL008", pin.path, pin.line, pin.column,
                               f"{pin.component} {pin.version} has no {', '.join(missing)} wheel (image platforms: "
                               f"{', '.join(img.platforms)})")


@rule("AL014")
def not_checked(ctx: Context) -> Iterator[Finding]:
    for pin, code, message in _releases_not_in_snapshot(ctx):
        if code == "AL014":
            yield ctx.find(code, pin.path, pin.line, pin.column, message)
    for img in ctx.images:
        for df in img.files:
            for line, why in df.unread:
                yield ctx.find("AL014", df.path, line, 1, f"RUN script not read ({why}): its pins are not checked")
