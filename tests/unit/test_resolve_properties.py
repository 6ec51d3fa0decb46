"""Resolver properties over problems drawn from the real snapshot."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from aligner.know.components import catalog
from aligner.decide.resolve import Conflict, Constraint, Current, Problem, Provider, resolve
from aligner.know.snapshot import Snapshot

SNAP = Snapshot.load()
CAT = catalog()
VLLM = [r.version for r in SNAP.releases("vllm") if r.requires_dist]
NIXL = [r.version for r in SNAP.releases("nixl")]
TORCH = [r.version for r in SNAP.releases("torch")]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def root(comp, spec="", extras=(), source="upstream pyproject.toml, extra vllm"):
    return Constraint(comp, SpecifierSet(spec), frozenset(extras), source, f"{comp}{spec}")


@st.composite
def problems(draw):
    vllm = draw(st.sampled_from(VLLM))
    upstream = [root("vllm", f"=={vllm}", draw(st.sampled_from([(), ("flashinfer",)])))]
    if draw(st.booleans()):
        upstream.append(root("nixl", f"<={draw(st.sampled_from(NIXL))}"))
    docker = [root(c, source="Dockerfile:1") for c in ("vllm", "nixl", "torch")]
    current = {"torch": Current(draw(st.sampled_from(TORCH)), "Dockerfile:2"),
               "nixl": Current(draw(st.sampled_from(NIXL)), "Dockerfile:3")}
    platforms = draw(st.sampled_from([("linux/amd64",), ("linux/amd64", "linux/arm64")]))
    python = Current(draw(st.sampled_from(["3.10", "3.11", "3.12"])), "Dockerfile:4")
    cuda = Current(draw(st.sampled_from(["12.8.1", "12.9.1", "13.0.0"])), "Dockerfile:5")
    return upstream, docker, Problem("img", platforms, [], current, python, cuda)


def with_roots(p: Problem, roots) -> Problem:
    bound = {r.component for r in roots if str(r.specifier) or r.extras}
    kept = [r for r in roots if str(r.specifier) or r.extras or r.component not in bound]
    return Problem(p.image, p.platforms, kept, p.current, p.python, p.cuda, p.upgrade)


def attempt(p: Problem):
    try:
        return resolve(p, SNAP, CAT)
    except Conflict:
        return None


@SETTINGS
@given(problems())
def test_resolution_is_deterministic(drawn):
    upstream, docker, p = drawn
    p = with_roots(p, upstream + docker)
    a, b = attempt(p), attempt(p)
    assert (a is None) == (b is None)
    if a:
        assert {k: c.version for k, c in a.choices.items()} == {k: c.version for k, c in b.choices.items()}


@SETTINGS
@given(problems())
def test_every_locked_set_satisfies_every_edge(drawn):
    upstream, docker, p = drawn
    p = with_roots(p, upstream + docker)
    result = attempt(p)
    if result is None:
        return
    chosen = {k: Version(c.version) for k, c in result.choices.items()}
    for choice in result.choices.values():
        for c, _ in choice.constraints:
            assert c.specifier.contains(chosen[c.component], prereleases=True), (c.text, c.source)
    provider = Provider(p, SNAP, CAT)
    for comp, version in chosen.items():  # and every chosen release's own requirements, re-derived
        rel = provider.candidates(comp, [SpecifierSet(f"=={version}")])
        for cand in rel:
            for dep in provider.get_dependencies(cand):
                if dep.component in chosen:
                    assert dep.specifier.contains(chosen[dep.component], prereleases=True), (str(cand), dep.text)


@SETTINGS
@given(problems())
def test_removing_the_upstream_pins_never_makes_a_solvable_image_unsolvable(drawn):
    upstream, docker, p = drawn
    if attempt(with_roots(p, upstream + docker)) is not None:
        assert attempt(with_roots(p, docker)) is not None
