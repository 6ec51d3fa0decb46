"""One consistent set of versions per image, with a reason for each and for each conflict.

resolvelib (the resolver pip uses) does the backtracking; this module says
what the candidates and dependencies are: releases from the snapshot,
filtered by the image's Python, its platforms and yanked status, ordered by
preference (the Dockerfile's current pin, then the newest), and each
release's own Requires-Dist on other stack components, plus its
Requires-Python and the CUDA major version of torch wheels, as constraints
that carry where they came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Iterable, List, Optional, Tuple

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from aligner.know import ngc, torchbuilds, ucx
from aligner.know.components import Catalog
from aligner.know.markers import applies, environments
from aligner.know.snapshot import SnapRelease, Snapshot
from aligner.know.versions import cuda_tuple, runtime_cuda, runtime_major
from aligner.base.errors import AlignerError
from aligner.relate.problem import Constraint, Current, Problem  # noqa: F401  (the resolver's input)
from aligner.base.status import FINDINGS

SYNTHETIC = ("python", "cuda")  # components whose only candidate is the image's own value


@dataclass(frozen=True)
class Candidate:
    component: str
    version: Version
    extras: FrozenSet[str] = frozenset()
    release: Optional[SnapRelease] = field(default=None, compare=False, hash=False)

    def __str__(self) -> str:
        extras = f"[{','.join(sorted(self.extras))}]" if self.extras else ""
        return f"{self.component}{extras} {self.version}"


@dataclass
class Choice:
    component: str
    version: str
    constraints: List[Tuple[Constraint, Optional[Candidate]]]  # what bound it, and who asked
    # the newest candidate that passed every constraint on it and was not taken, and why not (a requirement
    # of that release the other choices break), or None when the choice is the newest that passed
    passed_over: Optional[str] = None
    passed_over_why: Optional[str] = None
    moved_why: Optional[str] = None  # Python: why the image's own could not stay (aligner.decide.pythons)


@dataclass
class Result:
    image: str
    choices: Dict[str, Choice]


class Conflict(AlignerError):
    """No aligned set for an image: a finding (exit 1), explained line by line."""

    status = FINDINGS

    def __init__(self, image: str, lines: List[str]):
        super().__init__("\n".join(lines), f"no aligned set of versions for image {image}")
        self.image = image
        self.lines = lines


class Provider:
    def __init__(self, problem: Problem, snap: Snapshot, cat: Catalog):
        self.p, self.snap, self.cat = problem, snap, cat
        self.envs = self._environments()
        self.project_component = {project: c.name for c in cat.components.values() for project in c.index}

    # -- environments for markers ---------------------------------------------------
    def _environments(self) -> List[dict]:
        return environments(self.p.platforms, self.p.python.version if self.p.python else None)

    def _applies(self, marker: Optional[Marker], extra: str = "") -> bool:
        return applies(marker, self.envs, (extra,))

    # -- resolvelib protocol ------------------------------------------------------------
    def identify(self, requirement_or_candidate) -> str:
        obj = requirement_or_candidate
        return obj.component + (f"[{','.join(sorted(obj.extras))}]" if obj.extras else "")

    def get_preference(self, identifier, resolutions, candidates, information, backtrack_causes=()):
        pinned = any(str(i.requirement.specifier).startswith("==") for i in information[identifier])
        # one candidate first (the image's own Python, a fixed CUDA): a clash with it is said as that
        fixed = self.only_value(identifier.split("[")[0])[0] if "[" not in identifier else False
        return (not fixed, not pinned, identifier)

    def narrow_requirement_selection(self, identifiers, resolutions, candidates, information, backtrack_causes):
        return identifiers

    def find_matches(self, identifier, requirements, incompatibilities):
        reqs = list(requirements[identifier])
        bad = {c.version for c in incompatibilities[identifier]}
        component, extras = reqs[0].component, reqs[0].extras
        return [Candidate(component, c.version, extras, c.release)
                for c in self.candidates(component, [r.specifier for r in reqs]) if c.version not in bad]

    def is_satisfied_by(self, requirement, candidate) -> bool:
        return requirement.specifier.contains(candidate.version, prereleases=True)

    def _ngc_requires(self, candidate: Candidate) -> List[Constraint]:
        """An NGC release brings its CUDA and its Python. Its torch is only preferred (Problem.current): an
        engine that requires another torch gets it from pip, over the container's."""
        row = ngc.row(candidate.component, _calver(candidate.version)) or {}
        who, out = f"{candidate.component} {_calver(candidate.version)} (rules/ngc.toml)", []
        if row.get("cuda") and self.p.cuda:
            out.append(Constraint("cuda", SpecifierSet(f"=={row['cuda']}"), frozenset(), who, f"CUDA {row['cuda']}"))
        if row.get("python") and self.p.python:
            out.append(Constraint("python", SpecifierSet(f"=={row['python']}"), frozenset(), who,
                                  f"Python {row['python']}"))
        return out

    def get_dependencies(self, candidate: Candidate) -> List[Constraint]:
        if candidate.component.startswith("ngc-"):
            return self._ngc_requires(candidate)
        if candidate.extras:  # `vllm[flashinfer] 0.10.2` is vllm 0.10.2 plus what the extras add
            base = Constraint(candidate.component, SpecifierSet(f"=={candidate.version}"), frozenset(),
                              f"{candidate}", f"{candidate.component}=={candidate.version}")
            return [base] + self._requires(candidate, candidate.extras)
        return self._requires(candidate, frozenset())

    # -- candidates -----------------------------------------------------------------------
    def releases(self, component: str) -> List[SnapRelease]:
        comp = self.cat.components[component]
        return self.snap.releases(comp.index[0]) if comp.index else []

    def only_value(self, component: str) -> Tuple[bool, Optional[Current]]:
        """(True, value) for a component whose one candidate is a value the image gives: its Python
        and CUDA, and a repo's own component (its pin is its release); (False, None) otherwise."""
        if component == "cuda" and self.p.cuda_releases:
            return False, None
        if component in SYNTHETIC:
            return True, self.p.python if component == "python" else self.p.cuda
        if self.cat.components[component].versions == "pinned":
            return True, self.p.current.get(component)
        return False, None

    def candidates(self, component: str, specifiers: Iterable[SpecifierSet]) -> List[Candidate]:
        specifiers = list(specifiers)
        fixed, cur = self.only_value(component)
        if fixed:
            if cur is None:
                return []
            v = Version(cur.version)
            return [Candidate(component, v)] if all(s.contains(v, prereleases=True) for s in specifiers) else []
        if component == "cuda":
            return self._cudas(specifiers)
        if component.startswith("ngc-"):
            return self._ngc(component, specifiers)
        if component == ucx.COMPONENT:
            return self._nearest(component, ucx.releases(), specifiers)
        current = self.p.current.get(component)
        allow_pre = any(s.prereleases for s in specifiers) or bool(current and Version(current.version).is_prerelease)
        exact = any(str(s).startswith("==") for s in specifiers)
        out = []
        known = self.releases(component)
        for rel in known:
            v = Version(rel.version)
            if not all(s.contains(v, prereleases=allow_pre) for s in specifiers):
                continue
            if self.rejection(rel, exact) is None:
                out.append(Candidate(component, v, frozenset(), rel))
        if current and not any(r.version == current.version for r in known):
            # a version the snapshot does not know (NGC's 2.8.0a0+5228986c39.nv25.6, a release newer than the
            # snapshot) stays a candidate of its own: only a constraint that excludes it moves it
            v = Version(current.version)
            if all(s.contains(v, prereleases=True) for s in specifiers):
                out.append(Candidate(component, v))
        upgrade = "*" in self.p.upgrade or component in self.p.upgrade
        wanted = self.p.prefer.get(component) or (current.version if current else None)
        keep = None if upgrade or wanted is None else Version(wanted)
        out.sort(key=lambda c: c.version, reverse=True)  # newest first ...
        if keep is None and not upgrade:
            # ... of those that keep the image's written pins: a component the files leave open (unpinned, or
            # set at build time) never moves a pin they do write
            out.sort(key=self._disturbs)
        out.sort(key=lambda c: c.version != keep)  # ... after the Dockerfile's own pin (stable sort)
        return out

    def _cudas(self, specifiers: List[SpecifierSet]) -> List[Candidate]:
        """The image's CUDA, then the releases its base tags are published at."""
        return self._nearest("cuda", self.p.cuda_releases, specifiers, self.p.cuda.version)

    def _nearest(self, component: str, releases, specifiers: List[SpecifierSet], own: Optional[str] = None):
        """The image's own release, then the smallest move first: fewest minor releases away, up before down,
        and of one minor its newest patch (the one still updated)."""
        own = own or self.p.current[component].version
        mine = cuda_tuple(own)
        wanted = self.p.prefer.get(component) or own
        out = []
        for text in dict.fromkeys((own, *releases)):
            v = Version(text)
            if all(s.contains(v, prereleases=True) for s in specifiers):
                out.append(Candidate(component, v))

        def move(c: Candidate):
            t = cuda_tuple(str(c.version))
            return (str(c.version) != wanted, abs(t[0] - mine[0]), abs(t[1] - mine[1]) if t[0] == mine[0] else t[1],
                    t[:2] < mine[:2], -(t[2] if len(t) > 2 else 0))
        return sorted(out, key=move)

    def _ngc(self, component: str, specifiers: List[SpecifierSet]) -> List[Candidate]:
        """NGC releases whose CUDA rules/ngc.toml knows: the image's own first, then the fewest months away,
        up before down."""
        own = self.p.current[component].version
        wanted = self.p.prefer.get(component) or own
        out = [Candidate(component, Version(r)) for r in dict.fromkeys([own, *ngc.releases(component)])
               if all(s.contains(Version(r), prereleases=True) for s in specifiers)]
        here = ngc.months(own)
        return sorted(out, key=lambda c: (str(c.version) != wanted and c.version != Version(wanted),
                                          abs(ngc.months(_calver(c.version)) - here),
                                          ngc.months(_calver(c.version)) < here))

    def _index_builds(self, candidate: Candidate) -> Constraint:
        """A torch from PyTorch's cuXYZ index fits a CUDA it has a build for, of that major and not newer
        (rules/torch_builds.toml); for a release the table does not know, the index's own major."""
        cuda, where = self.p.torch_index
        who = f"torch {candidate.version} from PyTorch's index ({where})"
        have = torchbuilds.builds(str(candidate.version), self.p.platforms)
        if not have:
            major = cuda.split(".")[0]
            return Constraint("cuda", SpecifierSet(f"=={major}.*"), frozenset(), who,
                              f"CUDA {major}.x (its cu{torchbuilds.tag(cuda)} build)")
        parts, majors = [f">={have[0]}", f"<{cuda_tuple(have[-1])[0] + 1}"], {}
        for b in have:
            majors.setdefault(cuda_tuple(b)[0], []).append(cuda_tuple(b)[1])
        for major in range(cuda_tuple(have[0])[0], cuda_tuple(have[-1])[0] + 1):
            below = min(majors[major]) if major in majors else None
            if below is None:
                parts.append(f"!={major}.*")
            else:
                parts += [f"!={major}.{m}.*" for m in range(below) if (major, m) >= cuda_tuple(have[0])[:2]]
        builds = ", ".join(f"cu{torchbuilds.tag(b)}" for b in have)
        return Constraint("cuda", SpecifierSet(",".join(parts)), frozenset(), who,
                          f"a CUDA it has a build for ({builds}; rules/torch_builds.toml)")

    def _disturbs(self, cand: Candidate) -> bool:
        """Whether a release requires another component at a version other than the one the image pins."""
        rel = cand.release
        if rel is None:
            return False
        own = self.p.cuda and cuda_tuple(self.p.cuda.version)
        for req in rel.requirements():
            if req.marker is not None and not self._applies(req.marker):
                continue
            major, minor = runtime_major(req), runtime_cuda(req)
            if own and major and (int(major) != own[0] or (
                    minor and self.p.cuda_compiles and cand.component == "torch" and cuda_tuple(minor) > own[:2])):
                return True  # its wheels want another CUDA than the image's
            comp = self.cat.by_pip(req.name)
            cur = self.p.current.get(comp) if comp and comp != cand.component else None
            if cur is not None and not req.specifier.contains(Version(cur.version), prereleases=True):
                return True
        return False

    def rejection(self, rel: SnapRelease, exact: bool = False) -> Optional[str]:
        """Why a release cannot go into this image, or None."""
        if rel.yanked and not exact:
            return f"{rel.project} {rel.version} was yanked"
        if rel.platforms:
            component = self.project_component.get(rel.project)
            needed = self.p.wheels.get(component, self.p.platforms) if component else self.p.platforms
            missing = [p for p in needed if p not in rel.platforms]
            if missing:
                return f"{rel.project} {rel.version} has no {', '.join(missing)} wheel"
        if self.p.python and not rel.installs_on(self.p.python.version):
            return (f"{rel.project} {rel.version} has no wheel for Python {self.p.python.version} (its wheels: "
                    f"{', '.join(rel.pythons)}) and no sdist")
        if self.p.python and rel.requires_python:
            if not SpecifierSet(rel.requires_python).contains(self.p.python.version, prereleases=True):
                return (f"{rel.project} {rel.version} requires Python {rel.requires_python}, "
                        f"the image has {self.p.python.version} ({self.p.python.source})")
        return None

    # -- dependencies -------------------------------------------------------------------------
    def _requires(self, candidate: Candidate, extras: FrozenSet[str]) -> List[Constraint]:
        rel = candidate.release
        if rel is None:
            return []
        who = f"{candidate.component} {candidate.version}"
        out: List[Constraint] = []
        for req in rel.requirements():
            if extras:
                if self._applies(req.marker) or not any(self._applies(req.marker, e) for e in extras):
                    continue
                src = f"{who} [{','.join(sorted(extras))}]"
            else:
                if not self._applies(req.marker):
                    continue
                src = who
            major = runtime_major(req)
            if major and self.p.cuda and candidate.component == "torch" and self.p.torch_index:
                continue  # PyPI's build says nothing of the one the image takes from PyTorch's index
            if major and self.p.cuda:
                out.append(Constraint("cuda", SpecifierSet(f"=={major}.*"), frozenset(), src,
                                      f"CUDA {major}.x (its wheels need {req})"))
                minor = runtime_cuda(req)
                if minor and self.p.cuda_compiles and candidate.component == "torch":
                    out.append(Constraint("cuda", SpecifierSet(f">={minor}"), frozenset(), src,
                                          f"CUDA >= {minor} (its wheels need {req.name}{req.specifier}, and "
                                          f"{self.p.cuda_compiles} compiles against it with the base's nvcc)"))
                continue
            comp = self.cat.by_pip(req.name)
            if comp is None or comp == candidate.component or not (self.cat.components[comp].index):
                continue
            out.append(Constraint(comp, req.specifier, frozenset(req.extras), src, _req_text(req)))
        if candidate.component == "torch" and not extras and self.p.torch_index and self.p.cuda:
            out.append(self._index_builds(candidate))
        floor = ucx.nixl_floor(str(candidate.version)) if candidate.component == "nixl" and not extras else None
        if floor and self.p.nixl_from_source and ucx.COMPONENT in self.p.current:
            out.append(Constraint(ucx.COMPONENT, SpecifierSet(floor["ucx"]), frozenset(), f"{who} (rules/ucx.toml)",
                                  f"UCX {floor['ucx']} ({floor['why']})"))
        if not extras and rel.requires_python and self.p.python:
            out.append(Constraint("python", SpecifierSet(rel.requires_python), frozenset(), who,
                                  f"Python {rel.requires_python}"))
        return out


def _calver(version: Version) -> str:
    """25.03 as rules/ngc.toml writes it (Version drops the zero: 25.3)."""
    major, minor = version.release[:2]
    return f"{major}.{minor:02d}"


def _req_text(req: Requirement) -> str:
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    return f"{req.name}{extras}{req.specifier}"


def resolve(problem: Problem, snap: Snapshot, cat: Catalog) -> Result:
    from resolvelib import BaseReporter, ResolutionImpossible, Resolver
    from resolvelib.resolvers import ResolutionTooDeep

    class Conflicts(BaseReporter):
        """Keeps the conflicts met while backtracking: the first is the root cause,
        the final one resolvelib raises is often only its consequence."""

        def __init__(self):
            self.seen: List = []

        def resolving_conflicts(self, causes):
            self.seen.append(list(causes))

    provider, reporter = Provider(problem, snap, cat), Conflicts()
    try:
        state = Resolver(provider, reporter).resolve(problem.roots, max_rounds=2000)
    except ResolutionImpossible as exc:
        causes = reporter.seen[0] if reporter.seen else exc.causes
        raise Conflict(problem.image, explain_conflict(provider, causes)) from None
    except ResolutionTooDeep:
        raise Conflict(problem.image, ["the resolver gave up after 2000 rounds of backtracking"]) from None
    choices: Dict[str, Choice] = {}
    for ident, cand in state.mapping.items():
        if cand.extras:
            continue
        info = [(i.requirement, i.parent) for i in state.criteria[ident].information
                if not (i.parent is not None and i.parent.extras and i.parent.component == ident)]
        for other, crit in state.criteria.items():  # constraints on `vllm[flashinfer]` bind vllm too
            if other != ident and other.split("[")[0] == ident:
                info += [(i.requirement, i.parent) for i in crit.information]
        choices[ident] = Choice(ident, _calver(cand.version) if ident.startswith("ngc-") else str(cand.version), info)
    chosen = {c: Version(ch.version) for c, ch in choices.items()}
    extras = {ident.split("[")[0]: cand.extras for ident, cand in state.mapping.items() if cand.extras}
    for choice in choices.values():
        if not provider.only_value(choice.component)[0] and choice.component not in SYNTHETIC + (ucx.COMPONENT,) \
                and not choice.component.startswith("ngc-"):
            _newer(provider, choice, chosen, extras.get(choice.component, frozenset()))
    return Result(problem.image, dict(sorted(choices.items())))


def _newer(provider: Provider, choice: Choice, chosen: Dict[str, Version], extras: FrozenSet[str]) -> None:
    """Record the newest candidate above the choice that every constraint on it allowed, and the requirement
    of that release which the other choices break (the resolver tried the image's own pin first, or found
    this one would not fit)."""
    mine = Version(choice.version)
    newer = [c for c in provider.candidates(choice.component, [c.specifier for c, _ in choice.constraints])
             if c.version > mine]
    if not newer:
        return
    top = max(newer, key=lambda c: c.version)
    choice.passed_over = str(top.version)
    for dep in provider.get_dependencies(Candidate(top.component, top.version, extras, top.release)):
        have = chosen.get(dep.component)
        if dep.component != choice.component and have is not None \
                and not dep.specifier.contains(have, prereleases=True):
            choice.passed_over_why = f"{dep.source} requires {dep.text}, and the image takes {dep.component} {have}"
            return


def explain_conflict(provider: Provider, causes) -> List[str]:
    """The chain of constraints that cannot hold together, each with where it comes from: of the constraints
    on one component that together leave it no candidate, only a smallest set that still does."""
    causes = _smallest(provider, list(causes))
    lines, seen = [], set()
    for cause in causes:
        req, parent = cause.requirement, cause.parent
        verb = "requires" if req.verb == "pins" else req.verb
        meta = "" if "rules/" in req.source else " (index metadata)"
        line = f"{req.source} {verb} {req.text}" if parent is None else f"{req.source} requires {req.text}{meta}"
        if line not in seen:
            seen.add(line)
            lines.append(line)
    comps = sorted({c.requirement.component for c in causes})
    for comp in comps:
        specs = [c.requirement.specifier for c in causes if c.requirement.component == comp]
        lines += _why_none(provider, comp, specs)
    return lines


def _smallest(provider: Provider, causes: list) -> list:
    """Causes less each constraint without which the others on its component still leave no candidate (the
    B200's CUDA >= 12.8 goes when the GB10's >= 13.0 and the driver's < 12.9 clash on their own)."""
    def none_left(component, kept) -> bool:
        specs = [c.requirement.specifier for c in kept if c.requirement.component == component]
        return not provider.candidates(component, specs)

    kept = list(causes)
    for comp in sorted({c.requirement.component for c in causes}):
        if not none_left(comp, kept):
            continue  # what rules it out is not these specifiers (a backtrack through other components)
        for cause in [c for c in kept if c.requirement.component == comp]:
            rest = [c for c in kept if c is not cause]
            if any(c.requirement.component == comp for c in rest) and none_left(comp, rest):
                kept = rest
    return kept


def _why_none(provider: Provider, component: str, specs: List[SpecifierSet]) -> List[str]:
    fixed, cur = provider.only_value(component)
    if fixed and component in SYNTHETIC:
        return [f"the image's {component} is {cur.version} ({cur.source})"] if cur else []
    if fixed:
        return [f"{cur.source} pins {component} {cur.version}, the only version of a repo's own component"] if cur else []
    if component.startswith("ngc-"):
        return [f"of the {component} releases whose CUDA rules/ngc.toml knows ({', '.join(ngc.releases(component))}),"
                " none meets them all"]
    if component == "cuda":
        tried = sorted((str(c.version) for c in provider._cudas([])), key=cuda_tuple)
        span = ", ".join(tried) if len(tried) <= 6 else f"{tried[0]} to {tried[-1]}, {len(tried)} releases"
        return [f"the image's CUDA is {provider.p.cuda.version} ({provider.p.cuda.source}); of the releases its "
                f"base tags are published at ({span}), none meets them all"]
    out = []
    matching = [r for r in provider.releases(component)
                if all(s.contains(Version(r.version), prereleases=True) for s in specs)]
    if not matching:
        joint = ", ".join(str(s) for s in specs if str(s))
        out.append(f"no {component} release satisfies {joint or 'them'} together")
    for rel in matching[-3:]:
        why = provider.rejection(rel, exact=True)
        if why:
            out.append(why)
    return out

