"""Every reason the lock gives is true of the problem it was resolved from.

Problems are drawn from the real snapshot; each reason's claim (a constraint pinned it, the Dockerfile's
pin was kept, it is the newest release that passed, a newer one did not fit) is checked against the
constraints and the snapshot directly, not through the resolver's own candidate list.
"""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from aligner.decide.lock import explain
from aligner.decide.resolve import Conflict, Constraint, Current, Problem, resolve
from aligner.know.components import catalog
from aligner.know.snapshot import Snapshot
from aligner.relate.problem import ImageInput

SNAP = Snapshot.load()
CAT = catalog()
VLLM = [r.version for r in SNAP.releases("vllm") if r.requires_dist and not Version(r.version).is_prerelease]
NIXL = [r.version for r in SNAP.releases("nixl")]
TORCH = [r.version for r in SNAP.releases("torch") if not Version(r.version).is_prerelease]
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


def root(comp, spec="", extras=(), source="upstream pyproject.toml, extra vllm"):
    return Constraint(comp, SpecifierSet(spec), frozenset(extras), source, f"{comp}{spec}")


@st.composite
def problems(draw):
    vllm = draw(st.sampled_from(VLLM))
    op = draw(st.sampled_from(["==", ">=", "<="]))
    roots = [root("vllm", f"{op}{vllm}", draw(st.sampled_from([(), ("flashinfer",)])))]
    if draw(st.booleans()):
        roots.append(root("nixl", f"<={draw(st.sampled_from(NIXL))}"))
    roots += [root(c, source="Dockerfile:1") for c in ("vllm", "nixl", "torch") if not any(r.component == c for r in roots)]
    current = {"torch": Current(draw(st.sampled_from(TORCH)), "Dockerfile:2")}
    if draw(st.booleans()):
        current["nixl"] = Current(draw(st.sampled_from(NIXL)), "Dockerfile:3")
    if draw(st.booleans()):
        current["vllm"] = Current(draw(st.sampled_from(VLLM)), "Dockerfile:4")
    prefer = {"torch": draw(st.sampled_from(TORCH))} if draw(st.booleans()) else {}
    platforms = draw(st.sampled_from([("linux/amd64",), ("linux/amd64", "linux/arm64")]))
    python = Current(draw(st.sampled_from(["3.10", "3.11", "3.12"])), "Dockerfile:5")
    cuda = Current(draw(st.sampled_from(["12.8.1", "12.9.1", "13.0.0"])), "Dockerfile:6")
    return Problem("img", platforms, roots, current, python, cuda, prefer=prefer)


def passes(release, constraints, problem) -> bool:
    """Whether a snapshot release meets every constraint and could be installed in the image, as pip sees it."""
    v = Version(release.version)
    pre = any(c.specifier.prereleases for c in constraints)
    if not all(c.specifier.contains(v, prereleases=pre) for c in constraints) or release.yanked:
        return False
    if release.requires_python and not SpecifierSet(release.requires_python).contains(problem.python.version):
        return False
    return not release.platforms or all(p in release.platforms for p in problem.platforms)


def check_reason(choice, problem, chosen):
    said = explain(choice, ImageInput(None, None, [], problem))
    mine = Version(choice.version)
    constraints = [c for c, _ in choice.constraints]
    current = problem.current.get(choice.component)
    if said.kind == "image":
        own = problem.python if choice.component == "python" else problem.cuda
        assert own.version == choice.version and own.source in said.text
        return said.kind
    if said.kind == "pinned":
        c, _ = said.constraint
        assert str(c.specifier).startswith("==") and c.specifier.contains(mine, prereleases=True)
        assert c in constraints and c.text in said.text and c.source in said.text
        return said.kind
    assert not any(str(c.specifier).startswith("==") for c in constraints), said.text  # an exact pin always names itself
    if said.kind == "lock":
        assert problem.prefer[choice.component] == choice.version
        return said.kind
    if said.kind == "kept":
        assert current.version == choice.version and current.source in said.text
        return said.kind
    releases = SNAP.releases(CAT.components[choice.component].index[0])
    newer = [r for r in releases if Version(r.version) > mine and passes(r, constraints, problem)]
    if said.kind == "newest":
        assert not newer, (said.text, [r.version for r in newer])
        if "nothing constrains it" in said.text:
            assert not any(str(c.specifier) for c in constraints)
        return said.kind
    assert said.kind == "fits", said
    top = max(newer, key=lambda r: Version(r.version))
    assert top.version in said.text
    if "requires" in said.text:  # the requirement named is one the other choices break
        broken = [r for r in top.requirements() if CAT.by_pip(r.name) in chosen
                  and not r.specifier.contains(chosen[CAT.by_pip(r.name)], prereleases=True)]
        assert broken and any(f"{r.name}" in said.text for r in broken), said.text
    return said.kind


KINDS = set()


@SETTINGS
@given(problems())
def test_every_reason_is_true_of_its_constraints(problem):
    try:
        result = resolve(problem, SNAP, CAT)
    except Conflict:
        return
    chosen = {k: Version(c.version) for k, c in result.choices.items()}
    for choice in result.choices.values():
        KINDS.add(check_reason(choice, problem, chosen))


def test_the_drawn_problems_reach_every_kind_of_reason():
    """Run after the property above (file order): it must have met each claim it checks, or it proved little."""
    assert {"image", "pinned", "kept", "newest"} <= KINDS, KINDS


def test_an_upstream_release_pins_its_own_component():
    """`upstream = "vllm==0.11.0"`: the image installs vllm 0.11.0, and the lock says the upstream decided it."""
    from aligner.read.upstream import from_release

    up = from_release("vllm==0.11.0", SNAP)
    own = [r for r in up.requirements("flashinfer") if r.name == "vllm"]
    assert [str(r.specifier) for r in own] == ["==0.11.0"]
    assert up.where(own[0], "flashinfer") == "upstream vllm==0.11.0"
