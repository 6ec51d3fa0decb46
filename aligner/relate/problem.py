"""What an image asks of the resolver: its pins, its upstream extra, its Python and CUDA."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from aligner.know import facts, ucx
from aligner.relate import cudavar, images, pythonvar
from aligner.know.components import Catalog
from aligner.read.config import ImageConfig
from aligner.read.dockerfile import Pin
from aligner.base.errors import InputError
from aligner.base.paths import located
from aligner.read.upstream import Upstream


@dataclass(frozen=True)
class Constraint:
    component: str
    specifier: SpecifierSet
    extras: FrozenSet[str]
    source: str  # where it comes from: "upstream pyproject.toml, extra vllm", "vllm 0.10.2 metadata", ...
    text: str  # as written: 'vllm[flashinfer]==0.10.2'
    verb: str = "pins"  # how its source says it: a Dockerfile "pins", a GPU or an arch list "needs"

    def __str__(self) -> str:
        return self.text


@dataclass
class Current:
    version: str
    source: str  # "Dockerfile.dynamo-vllm:16"


@dataclass
class Problem:
    image: str
    platforms: Sequence[str]
    roots: List[Constraint]
    current: Dict[str, Current]
    python: Optional[Current] = None
    cuda: Optional[Current] = None
    upgrade: FrozenSet[str] = frozenset()  # components to move to their newest; "*" for all
    prefer: Dict[str, str] = field(default_factory=dict)  # versions to try first (an existing lock's)
    prefer_why: Dict[str, str] = field(default_factory=dict)  # the reasons that lock gave for them
    # the platforms on which a component is installed from a wheel; absent: all of the image's. A component
    # the image builds from source (git) has none: its missing wheels constrain nothing
    wheels: Dict[str, Tuple[str, ...]] = field(default_factory=dict)
    # CUDA releases the image can move to besides its own (aligner.relate.cudavar); () when it cannot move
    cuda_releases: Tuple[str, ...] = ()
    # where the image compiles CUDA code with its base's nvcc ("Dockerfile:2 TORCH_CUDA_ARCH_LIST"): then
    # the toolkit may not be older than the CUDA of the torch it builds against
    cuda_compiles: Optional[str] = None
    # CPython minors the image's Python can move to besides its own (aligner.relate.pythonvar)
    python_releases: Tuple[str, ...] = ()
    nixl_from_source: bool = False  # the image builds NIXL against its own UCX (aligner.know.ucx)
    torch_index: Optional[Tuple[str, str]] = None  # (CUDA, where): torch from PyTorch's cuXYZ index, not PyPI


@dataclass
class ImageInput:
    config: ImageConfig
    root: Path
    pins: List[Pin]
    problem: Problem


def where(pin: Pin, root: Path) -> str:
    return located(pin.path, pin.line, root)


def wheel_platforms(pins: List[Pin], platforms) -> Dict[str, tuple]:
    """Per pinned component, the platforms on which pip installs it: those of the pip lines that name it
    (a line inside a TARGETARCH branch runs on that branch's only). A component the image pins but no pip
    line installs (a `git clone` builds it, an ARG handed to a build script) needs no wheel anywhere."""
    out: Dict[str, set] = {}
    for pin in pins:
        if pin.kind in ("arg", "env", "git", "pip") and pin.component not in ("python", "cuda"):
            out.setdefault(pin.component, set())
        if pin.kind == "pip":
            out[pin.component].update(pin.platforms or platforms)
    return {c: tuple(p for p in platforms if p in found) for c, found in out.items()}


def _current(value, root: Path) -> Optional[Current]:
    """The image's Python or CUDA (aligner.relate.images decides which) as the resolver takes it."""
    if value is None:
        return None
    if value.pin is not None:
        return Current(value.version, where(value.pin, root))
    if value.container is None:  # the distribution's python3 (aligner.relate.images)
        return Current(value.version, value.origin)
    c = value.container
    return Current(value.version, f"{where(c, root)}, {c.component} {c.version} in rules/ngc.toml")


def build(image: ImageConfig, ws, upstream: Optional[Upstream], cat: Catalog, upgrade=frozenset()) -> ImageInput:
    """What one image asks of the resolver, from its Dockerfiles as the workspace `ws` read them."""
    root = ws.cfg.root
    files = [ws.parsed(str(root / rel), cat) for rel in image.dockerfiles]
    img = images.of(image, files, root)
    pins = img.pins()
    current: Dict[str, Current] = {}
    roots: List[Constraint] = []
    python, cuda = _current(img.python(), root), _current(img.cuda(), root)
    for pin in pins:
        src = where(pin, root)
        if pin.component.startswith("ngc-") and pin.version:
            ngc = facts.ngc_row(pin.component, pin.version)
            if ngc and ngc.get("torch"):  # the torch the container bundles, unless a pin replaces it
                bundled = Current(ngc["torch"], f"{src}, {pin.component} {pin.version} bundles it (rules/ngc.toml)")
                current.setdefault("torch", bundled)
                roots.append(Constraint("torch", SpecifierSet(), frozenset(), src, "torch"))
            if ngc and pin.form == "version" and pin.kind == "from":  # a release the lock may move
                current[pin.component] = Current(pin.version, src)
                roots.append(Constraint(pin.component, SpecifierSet(), frozenset(), src, pin.component))
        comp = cat.components.get(pin.component)
        if comp is None or not (comp.index or comp.versions == "pinned"
                                or (comp.name == ucx.COMPONENT and pin.form == "version" and pin.version)):
            continue  # UCX only as a release: a branch (v1.19.x) is AL001's, and the lock names no branch
        if pin.form == "version" and pin.version:
            current[pin.component] = Current(pin.version, src)
        elif pin.form == "range" and pin.kind == "pip":
            try:
                spec = SpecifierSet(f"{pin.op}{pin.value}" if pin.op else pin.value)
            except InvalidSpecifier:
                continue  # `vllm=` or `==$(curl x)`: no range pip would read either; it fails in the build
            roots.append(Constraint(pin.component, spec, frozenset(), src, f"{pin.name}{spec}"))
        roots.append(Constraint(pin.component, SpecifierSet(), frozenset(), src, pin.component))
    if upstream is not None:
        try:
            reqs = upstream.requirements(image.extra)
        except KeyError:
            raise InputError(upstream.source, None, f"no extra {image.extra!r} (image {image.name}); extras: "
                                                    f"{', '.join(upstream.extras) or 'none'}") from None
        for req in reqs:
            comp = cat.by_pip(req.name)
            if comp is None or not cat.components[comp].index:
                continue
            extras = frozenset(e for e in req.extras if not e.startswith("cu"))  # nixl[cu12] picks a build
            roots.append(Constraint(comp, req.specifier, extras, upstream.where(req, image.extra), str(req)))
        if upstream.requires_python and python:
            roots.append(Constraint("python", SpecifierSet(upstream.requires_python), frozenset(),
                                    upstream.location(None), f"Python {upstream.requires_python}"))
    cuda_var = cudavar.variable(img, root, ws.cfg.path.name if ws.cfg.path else "aligner.toml") if cuda else None
    for need in cuda_var.needs if cuda_var else ():
        roots.append(Constraint("cuda", need.specifier, frozenset(), need.source, need.text, need.verb))
    # a torch from PyTorch's cu128 index (or --torch-backend=cu128): the resolver asks its builds there of CUDA
    indexed = next((p for p in pins if cuda and p.component == "torch" and p.kind == "pip"
                    and p.cuda not in (None, "cpu") and not p.conditional), None)
    for name, cur in (("python", python), ("cuda", cuda)):  # the lock records the image's own, for verify
        if cur is not None:
            roots.append(Constraint(name, SpecifierSet(), frozenset(), cur.source, name))
    # a bare "lock this component" root is noise once something else constrains it
    bound = {c.component for c in roots if str(c.specifier) or c.extras}
    unique, bare = [], set()
    for c in roots:
        if str(c.specifier) or c.extras:
            if c not in unique:
                unique.append(c)
        elif c.component not in bound and c.component not in bare:
            bare.add(c.component)
            unique.append(c)
    # the image's Python and CUDA first: a clash with them is said as that, not as the releases it rules out
    unique.sort(key=lambda c: c.component not in ("python", "cuda"))
    problem = Problem(image.name, image.platforms, unique, current, python, cuda, frozenset(upgrade),
                      wheels=wheel_platforms(pins, image.platforms))
    if cuda_var is not None:
        problem.cuda_releases, problem.cuda_compiles = cuda_var.releases, cuda_var.compiles
    problem.python_releases = pythonvar.releases(img)
    if indexed is not None:
        problem.torch_index = (indexed.cuda, where(indexed, root))
    problem.nixl_from_source = ucx.built_from_source(pins)
    return ImageInput(image, root, pins, problem)
