"""The rules of `aligner check`, one small function each (their pages: rules/codes.toml)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from aligner import facts
from aligner import tags
from aligner import archs
from aligner.images import Image, where
from aligner.check.model import Finding, Fix, docs
from aligner.components import Catalog
from aligner.config import Config
from aligner.dockerfile import Pin
from aligner.markers import applies, environments
from aligner.rewrite import render
from aligner.snapshot import SnapRelease, Snapshot
from aligner.versions import unsafe_move, cuda_minor, cuda_tuple, exact_version, runtime_cuda, torch_cuda

RULES: Dict[str, Callable[["Context"], Iterator[Finding]]] = {}



@dataclass
class Context:
    cfg: Config
    cat: Catalog
    snap: Snapshot
    images: List[Image]
    upstream: Optional[object] = None  # aligner.upstream.Upstream
    lock_state: Optional[str] = None  # None fresh, "missing", "stale", "unknown"
    severity: Dict[str, str] = field(default_factory=dict)

    def find(self, code: str, path: str, line: int, column: int, message: str, fix: Optional[Fix] = None,
             severity: Optional[str] = None) -> Finding:
        sev = self.severity.get(code) or severity or docs()[code]["severity"]
        return Finding(path, line, max(column, 1), code, sev, message, fix)

    def at(self, pin: Pin) -> str:
        return where(pin.path, pin.line, self.cfg.root)

    def release(self, component: str, version: str) -> Optional[SnapRelease]:
        comp = self.cat.components.get(component)
        if not comp or not comp.index:
            return None
        return self.snap.release(comp.index[0], version)


def rule(code: str):
    """Register a rule function; a code may have several (they report in order)."""
    def register(fn):
        earlier = RULES.get(code)
        RULES[code] = fn if earlier is None else (lambda ctx: (f for g in (earlier, fn) for f in g(ctx)))
        return fn

    return register


def _fix_to(pin: Pin, version: str, why: str) -> Optional[Fix]:
    if pin.start is None or pin.form == "commit":
        return None
    unsafe = unsafe_move(pin.component, pin.version, version)
    text = f"set {pin.component} to {version} ({why})" + (f"; unsafe: {unsafe}" if unsafe else "")
    return Fix(text, unsafe is None, render(pin, version), pin.start, pin.end)


@rule("AL001")
def unpinned(ctx: Context) -> Iterator[Finding]:
    for img in ctx.images:
        # `pip install vllm` and a later `pip install vllm==0.10.2`: the image ends up pinned
        pinned_later = {(p.component, p.path): p.line for p in img.pins() if p.kind == "pip" and p.form == "version"}
        for pin in _distinct(img.pins()):  # one finding per value, not per use of it
            if pin.form not in ("empty", "moving"):
                continue
            if pin.kind == "pip" and pinned_later.get((pin.component, pin.path), 0) > pin.line:
                continue
            if pin.kind == "from":
                what = "FROM with no tag" if pin.form == "empty" else f"FROM :{pin.value} (a moving tag)"
            elif pin.kind == "git" and pin.form == "empty" and not pin.via:
                what = f"`git clone` of {pin.name} with no --branch and no checkout builds its default branch's head"
            elif pin.kind == "pip" and pin.form == "empty" and not pin.via:
                what = f"pip spec `{pin.name}` with no version"
            elif pin.form == "empty" and pin.kind in ("arg", "env") and ctx.cat.is_requirement_variable(pin.name):
                what = f"{pin.name} installs {pin.component} with no version"
            elif pin.form == "empty":
                what = f"{pin.via or pin.name} is empty"
            else:
                what = f"{pin.via or pin.name} is {pin.value!r}, a branch or moving ref"
            yield ctx.find("AL001", pin.path, pin.line, pin.column, f"{pin.component} is not pinned: {what}")


@rule("AL002")
def upstream_drift(ctx: Context) -> Iterator[Finding]:
    up = ctx.upstream
    if up is None:
        return
    for img in ctx.images:
        if not img.config or not img.config.extra:
            continue
        if img.config.extra not in up.extras:
            from aligner.errors import InputError

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
                src = up.location(img.config.extra)
                fix = _fix_to(pin, exact, f"{src} pins it") if exact else None
                yield ctx.find("AL002", pin.path, pin.line, pin.column,
                               f"{comp} {pin.version} is outside {req} ({src})", fix)


@rule("AL003")
def incompatible_pair(ctx: Context) -> Iterator[Finding]:
    for img in ctx.images:
        python = img.pythons[0].version if img.pythons else None
        envs = environments(img.platforms, python)
        built = _built_from_source(img)
        reported: set = set()
        for comp in sorted({p.component for p in img.pins()}):
            for owner in _distinct(img.exact(comp)):
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
                    for pin in _distinct(img.exact(other)):
                        if req.specifier.contains(pin.version, prereleases=True):
                            continue
                        said = (pin.path, pin.start, pin.end, str(req.specifier))
                        if said in reported:
                            continue  # vllm and sglang both pin flashinfer==0.5.3: one value, one finding
                        reported.add(said)
                        tag = f" [{','.join(extras)}]" if extras and req.marker and "extra" in str(req.marker) else ""
                        exact = exact_version(req.specifier)
                        who = f"{comp} {owner.version}{tag} ({ctx.at(owner)})"
                        fix = _fix_to(pin, exact, f"{who} requires it") if exact else None
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
            owners = _distinct(img.exact(comp.same_as))
            for pin in _distinct(img.exact(comp.name)):
                for owner in owners:
                    if Version(pin.version) != Version(owner.version):
                        fix = _fix_to(pin, owner.version, f"{comp.same_as} is {owner.version}")
                        yield ctx.find("AL003", pin.path, pin.line, pin.column,
                                       f"{comp.name} {pin.version} differs from {comp.same_as} {owner.version} "
                                       f"({ctx.at(owner)}): flashinfer refuses to start unless they are equal "
                                       "(rules/components.toml)", fix)


def _git_spans(files) -> set:
    """Value spans a `git clone`/`git checkout` uses: those releases are built from source."""
    return {(p.path, p.start, p.end) for f in files for p in f.pins if p.kind == "git" and p.start is not None}


def _built_from_source(img: Image) -> set:
    """Value spans of releases built from their git tag in a file that runs vLLM's use_existing_torch.py
    (it strips torch from the requirements, so the build takes the torch the image has)."""
    return _git_spans(f for f in img.files if f.existing_torch)


def _distinct(pins: List[Pin]) -> List[Pin]:
    """One pin per value span (an ARG and the pip line using it are one pin)."""
    seen, out = set(), []
    for p in pins:
        key = (p.path, p.start, p.end, p.version)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


@rule("AL004")
def python_mismatch(ctx: Context) -> Iterator[Finding]:
    for img in ctx.images:
        distinct = {}
        for v in img.pythons:
            distinct.setdefault(".".join(v.version.split(".")[:2]), v)
        if len(distinct) > 1:
            first, *rest = list(distinct.values())
            for v in rest:
                yield ctx.find("AL004", v.path, v.line, v.column,
                               f"Python {v.version} here, but {first.version} at {first.origin}: one image, two Pythons")
        if not img.pythons:
            continue
        py = img.pythons[0]
        for comp in sorted({p.component for p in img.pins()}):
            for pin in _distinct(img.exact(comp)):
                rel = ctx.release(comp, pin.version)
                if rel and rel.requires_python and not SpecifierSet(rel.requires_python).contains(py.version, True):
                    yield ctx.find("AL004", pin.path, pin.line, pin.column,
                                   f"{comp} {pin.version} requires Python {rel.requires_python}; "
                                   f"the image has {py.version} ({py.origin})")


def _torch_cuda(ctx: Context, img: Image):
    """(CUDA of the torch wheels, the pin it is read from, how) or None."""
    # a torch built from source (git) uses the image's own CUDA; a cu index or backend says its build
    # the torch pip installs: an ARG no install uses says nothing, and one a `git clone` uses is built
    # from pytorch/pytorch in the image, against the image's own CUDA
    source = _git_spans(img.files)
    torch_pins = [p for p in img.exact("torch") if p.kind == "pip" and (p.path, p.start, p.end) not in source]
    if img.exact("torch") and not torch_pins:
        return None
    for pin in torch_pins:
        if pin.cuda == "cpu":
            return None
        if pin.cuda:
            return pin.cuda, pin, f"torch {pin.version} from the cu{pin.cuda.replace('.', '')} index"
    candidates = [(p, p.version) for p in torch_pins]
    for engine in ("vllm", "sglang", "tensorrt-llm", "lmcache"):
        for pin in img.exact(engine):
            if pin.cuda and pin.cuda != "cpu":
                return pin.cuda, pin, f"{engine} {pin.version}'s torch from the cu{pin.cuda.replace('.', '')} index"
            rel = ctx.release(engine, pin.version)
            for req in rel.requirements("torch") if rel and rel.requires_dist else ():
                if req.marker is None and exact_version(req.specifier):
                    candidates.append((pin, exact_version(req.specifier)))
    for pin, version in candidates:
        local = torch_cuda(version)
        if local:
            return local, pin, f"torch {version}"
        rel = ctx.release("torch", version)
        python = img.pythons[0].version if img.pythons else None
        envs = environments(img.platforms, python)
        for req in rel.requirements() if rel and rel.requires_dist else ():
            if not applies(req.marker, envs):
                continue  # torch 2.8's runtime wheel is for x86_64 only: its aarch64 wheels carry no CUDA
            wheel = runtime_cuda(req)
            if wheel:
                via = "" if pin.component == "torch" else f" (as {pin.component} {pin.version} requires)"
                return wheel, pin, f"torch {version}{via}, whose wheels need {req.name}{req.specifier}"
    return None


@rule("AL005")
def cuda_mismatch(ctx: Context) -> Iterator[Finding]:
    for img in ctx.images:
        if not img.cudas:
            continue
        base = img.cudas[0]
        found = _torch_cuda(ctx, img)
        if found:
            wheel, pin, how = found
            b, w = cuda_tuple(base.version), cuda_tuple(wheel)
            if b[0] != w[0]:
                yield ctx.find("AL005", base.path, base.line, base.column,
                               f"the base image's CUDA {base.version} is major {b[0]}, but {how} (CUDA {wheel}, "
                               f"major {w[0]}; pinned at {ctx.at(pin)})")
            elif b[:2] != w[:2]:
                # torch's own extension builder accepts a minor skew ("Most likely this shouldn't be a
                # problem", torch/utils/cpp_extension.py): a notice, not a finding
                yield ctx.find("AL005", base.path, base.line, base.column,
                               f"the base image's CUDA {base.version} differs in minor from {how} (CUDA {wheel}): "
                               "works through minor-version compatibility, but extensions built in the image use "
                               f"{cuda_minor(base.version)}", severity="info")
        driver = img.config.driver if img.config else None
        if driver:
            need = facts.driver_floor(base.version)
            if need and Version(need[0]) > Version(driver):
                yield ctx.find("AL005", base.path, base.line, base.column,
                               f"CUDA {base.version} needs a Linux driver >= {need[0]} ({need[1]}), the target host "
                               f"has {driver}")


@rule("AL006")
def gpu_arch(ctx: Context) -> Iterator[Finding]:
    for img in ctx.images:
        cuda = img.cudas[0].version if img.cudas else None
        arch_row = facts.arch_row(cuda) if cuda else None
        targets_gpus = []
        for name in img.gpus:
            row = facts.gpu(name)
            if row:
                targets_gpus.append((name, row["compute"]))
        for df in img.files:
            roots = set()
            for var in df.variables:
                if var.value is None or var.unknown or not archs.ARCH_VARIABLES.fullmatch(var.name):
                    continue  # `${LIST/ 10.0/}`, `$(…)`: what the build computes is not read as arch names
                if (var.value_line, var.value) in roots:
                    continue  # `ENV TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST}`: one value, one finding
                roots.add((var.value_line, var.value))
                targets, bad = archs.parse(var.value)
                line = var.value_line or var.line
                col = _column_of(df.path, line, var.value)
                for raw in bad:
                    yield ctx.find("AL006", df.path, line, col, f"{var.name}: {raw!r} is not a CUDA architecture")
                for t in targets:
                    if archs.compilable(t, arch_row) is False:
                        hint = " (family-specific `f` targets need CUDA 12.9 or newer)" if t.suffix == "f" else ""
                        yield ctx.find("AL006", df.path, line, col,
                                       f"{var.name}: CUDA {cuda} cannot compile for {t.compute}{hint} "
                                       f"(rules/cuda.toml, CUDA {arch_row['cuda']})")
                for name, compute in targets_gpus:
                    if targets and not any(t.covers(archs.compute_tuple(compute)) for t in targets):
                        yield ctx.find("AL006", df.path, line, col,
                                       f"{var.name}={var.value!r} leaves out the target GPU {name} "
                                       f"(compute capability {compute}, rules/gpus.toml)")


def _column_of(path: str, line: int, value: str) -> int:
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8", "replace").split("\n")[line - 1]
    except (OSError, IndexError):
        return 1
    at = text.find(value) if value else -1
    return at + 1 if at >= 0 else 1


@rule("AL007")
def no_such_release(ctx: Context) -> Iterator[Finding]:
    for pin, code, message in _releases_not_in_snapshot(ctx):
        if code == "AL007":
            yield ctx.find(code, pin.path, pin.line, pin.column, message)


def _releases_not_in_snapshot(ctx: Context) -> Iterator[tuple]:
    """(pin, code, message) for each pinned release the snapshot lacks: AL007 within the range it
    covers, AL014 (not checked) outside it."""
    for img in ctx.images:
        for pin in _distinct([p for p in img.pins() if p.form == "version" and p.version]):
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
        for pin in _distinct([p for p in img.pins() if p.form == "version" and p.version and p.kind != "from"]):
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


@rule("AL009")
def pinned_differently(ctx: Context) -> Iterator[Finding]:
    first_in_repo: Dict[str, tuple] = {}
    for img in ctx.images:
        for comp in sorted({p.component for p in img.pins()}):
            if comp in ("python", "cuda") or comp.startswith("ngc-"):
                continue
            pins = _distinct(img.exact(comp))
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


@rule("AL010")
def tag_disagrees(ctx: Context) -> Iterator[Finding]:
    known = tags.names(ctx.cat)
    for img in ctx.images:
        engines = [c for c in tags.ENGINES if img.exact(c)]
        for df in img.files:
            for var in df.variables:
                if not var.value or not tags.is_tag_variable(var.name, ctx.cat):
                    continue
                for comp, version, _, _ in tags.claims(var.value, known, engines[0] if len(engines) == 1 else None):
                    pins = img.exact(comp)
                    if pins and all(Version(p.version) != Version(version) for p in pins):
                        yield ctx.find("AL010", df.path, var.line, _column_of(df.path, var.line, var.value),
                                       f"{var.name} says {comp} {version}, but the image pins {pins[0].version} "
                                       f"({ctx.at(pins[0])})")


@rule("AL011")
def arg_not_in_stage(ctx: Context) -> Iterator[Finding]:
    for img in ctx.images:
        for df in img.files:
            seen = set()
            for use in df.hidden_uses:
                if (use.name, use.stage) in seen:
                    continue  # one `ARG NAME` in the stage fixes every use: one finding, at the first
                seen.add((use.name, use.stage))
                yield ctx.find("AL011", df.path, use.line, 1,
                               f"{use.name} is declared before FROM (line {use.declared_line}) but not in stage "
                               f"{use.stage!r}: here it is empty; add `ARG {use.name}` to the stage")


@rule("AL013")
def set_at_build_time(ctx: Context) -> Iterator[Finding]:
    for img in ctx.images:
        for pin in _distinct([p for p in img.pins() if p.form in ("unset", "dynamic")]):
            made = (f"{pin.via} has no value in the file (a build arg)" if pin.form == "unset"
                    else f"{pin.value[:60]} is computed while the image builds")
            yield ctx.find("AL013", pin.path, pin.line, pin.column,
                           f"{pin.component} is set at build time: {made}; aligner checks only what the file pins")


@rule("AL014")
def not_checked(ctx: Context) -> Iterator[Finding]:
    for pin, code, message in _releases_not_in_snapshot(ctx):
        if code == "AL014":
            yield ctx.find(code, pin.path, pin.line, pin.column, message)
    for img in ctx.images:
        for df in img.files:
            for line, why in df.unread:
                yield ctx.find("AL014", df.path, line, 1, f"RUN script not read ({why}): its pins are not checked")


@rule("AL012")
def stale_lock(ctx: Context) -> Iterator[Finding]:
    if ctx.lock_state in ("missing", "stale"):
        path = os.path.relpath(ctx.cfg.lock_path())
        what = "is missing" if ctx.lock_state == "missing" else "no longer matches the Dockerfiles and the upstream"
        yield ctx.find("AL012", path, 1, 1, f"{Path(path).name} {what}; run `aligner lock`")
