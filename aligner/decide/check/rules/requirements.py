"""Pins against each other: a release's own requirements (AL003), versions that must be equal (AL003), one component pinned twice (AL009)."""

from __future__ import annotations

from typing import Dict, Iterator, Optional

from packaging.version import Version

from aligner.decide.check.model import Finding
from aligner.decide.check.registry import Context, distinct, fix_to, git_spans, rule
from aligner.relate.images import Image
from aligner.know.markers import applies, environments
from aligner.know.versions import exact_version


@rule("AL003")
def incompatible_pair(ctx: Context) -> Iterator[Finding]:
    for img in ctx.images:
        python = img.python().version if img.python() else None
        envs = environments(img.platforms, python)
        built = _built_from_source(img)
        reported: set = set()
        for comp in sorted({p.component for p in img.pins()}):
            for owner in distinct(img.exact(comp)):
                rel = ctx.release(comp, owner.version)
                if rel is None or rel.requires_dist is None:
                    continue
                # built from its git tag after use_existing_torch.py: the build keeps the image's torch
                keeps_torch = (owner.path, owner.start, owner.end) in built
                extras = sorted({e for p in img.pins() if p.component == comp for e in p.extras})
                for req in rel.requirements():
                    other = ctx.cat.by_pip(req.name)
                    if other is None or other == comp or not applies(req.marker, envs, ("", *extras)):
                        continue
                    if keeps_torch and other == "torch":
                        continue
                    for pin in distinct(img.exact(other)):
                        if req.specifier.contains(pin.version, prereleases=True):
                            continue
                        said = (pin.path, pin.start, pin.end, str(req.specifier))
                        if said in reported:
                            continue  # vllm and sglang both pin flashinfer==0.5.3: one value, one finding
                        reported.add(said)
                        tag = f" [{','.join(extras)}]" if extras and req.marker and "extra" in str(req.marker) else ""
                        exact = exact_version(req.specifier)
                        who = f"{comp} {owner.version}{tag} ({ctx.at(owner)})"
                        fix = fix_to(pin, exact, f"{who} requires it") if exact else None
                        yield ctx.find("AL003", pin.path, pin.line, pin.column,
                                       f"{other} {pin.version} does not satisfy {who}: it requires "
                                       f"{req.name}{req.specifier} (index metadata)", fix)


@rule("AL003")
def same_version(ctx: Context) -> Iterator[Finding]:
    """flashinfer-cubin and flashinfer-jit-cache must be flashinfer-python's own version."""
    for img in ctx.images:
        for comp in ctx.cat.components.values():
            if not comp.same_as:
                continue
            owners = distinct(img.exact(comp.same_as))
            for pin in distinct(img.exact(comp.name)):
                for owner in owners:
                    if Version(pin.version) != Version(owner.version):
                        fix = fix_to(pin, owner.version, f"{comp.same_as} is {owner.version}")
                        yield ctx.find("AL003", pin.path, pin.line, pin.column,
                                       f"{comp.name} {pin.version} differs from {comp.same_as} {owner.version} "
                                       f"({ctx.at(owner)}): flashinfer refuses to start unless they are equal "
                                       "(rules/components.toml)", fix)


def _built_from_source(img: Image) -> set:
    """Value spans of releases built from their git tag in a file that runs vLLM's use_existing_torch.py
    (it strips torch from the requirements, so the build takes the torch the image has)."""
    return git_spans(f for f in img.files if f.existing_torch)


@rule("AL009")
def pinned_differently(ctx: Context) -> Iterator[Finding]:
    first_in_repo: Dict[str, tuple] = {}
    for img in ctx.images:
        for comp in sorted({p.component for p in img.pins()}):
            if comp in ("python", "cuda") or comp.startswith("ngc-"):
                continue
            pins = distinct(img.exact(comp))
            if not pins:
                continue
            head = pins[0]
            for pin in pins[1:]:
                if Version(pin.version).public != Version(head.version).public:  # +cu128torch2.7 is a build
                    yield ctx.find("AL009", pin.path, pin.line, pin.column,
                                   f"{comp} {pin.version} here, but {head.version} at {ctx.at(head)} in the same image")
            seen = first_in_repo.setdefault(comp, (img, head))
            if seen[0] is not img and Version(seen[1].version) != Version(head.version) \
                    and not _upstream_differs(ctx, comp, seen[0], img):
                yield ctx.find("AL009", head.path, head.line, head.column,
                               f"{comp} {head.version} here, but {seen[1].version} in image {seen[0].name} "
                               f"({ctx.at(seen[1])})", severity="warning")


@rule("AL009")
def passed_differently(ctx: Context) -> Iterator[Finding]:
    """Two builds of one Dockerfile passing a version differently (build.sh and a workflow): whichever runs
    decides what the image holds."""
    for dockerfile, taken, other in ctx.disagree:
        match = ctx.cat.by_variable(other.name)
        if match is None:
            continue
        yield ctx.find("AL009", other.path, other.line, other.column,
                       f"{other.name}={other.value.text} is passed here to {dockerfile}, but "
                       f"{taken.value.text} at {ctx.at_line(taken.path, taken.line)} (the value aligner takes)",
                       severity="warning")


def _upstream_differs(ctx: Context, comp: str, a, b) -> bool:
    """Whether the upstream itself pins `comp` differently for the extras of images a and b (Dynamo pins
    one NIXL for vllm and another for sglang): then two images differing is no drift."""
    up = ctx.upstream
    if up is None or not (a.config and a.config.extra and b.config and b.config.extra):
        return False

    def pinned(img) -> Optional[str]:
        if img.config.extra not in up.extras:
            return None
        found = [exact_version(r.specifier) for r in up.requirements(img.config.extra) if ctx.cat.by_pip(r.name) == comp]
        return found[0] if found else None

    pa, pb = pinned(a), pinned(b)
    return pa is not None and pb is not None and Version(pa) != Version(pb)
