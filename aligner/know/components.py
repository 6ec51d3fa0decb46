"""The component catalog: rules/components.toml turned into matchers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Dict, List, Optional, Tuple

from packaging.utils import canonicalize_name

from aligner.base import _toml


@dataclass(frozen=True)
class Component:
    name: str
    scheme: str
    pip: Tuple[str, ...]
    repos: Tuple[str, ...]
    versions: str = "index"  # index | table:FILE.TABLE | image | git | pinned
    index: Tuple[str, ...] = ()  # index projects, the first is the component's own
    since: Optional[str] = None  # oldest release kept in the snapshot
    probe: Tuple[Tuple[str, object], ...] = ()
    tag_names: Tuple[str, ...] = ()  # other spellings in image tags (aibrix-v0.5.0)
    same_as: Optional[str] = None  # a component whose version this one must equal (flashinfer-cubin)
    role: Optional[str] = None  # "engine" (serves the model: vllm, sglang, tensorrt-llm), "kv-cache"

    @property
    def probe_dict(self) -> dict:
        return dict(self.probe)


@dataclass(frozen=True)
class Image:
    repository: str
    tag: "re.Pattern[str]"
    components: Tuple[str, ...]


@dataclass(frozen=True)
class NameMatch:
    component: str
    requirement: bool  # the value is a pip requirement, not a bare version


class Catalog:
    def __init__(self, data: dict):
        self.data = data
        names = data.get("names", {})
        self.components: Dict[str, Component] = {}
        self._pip: Dict[str, str] = {}
        self._repos: Dict[str, str] = {}
        aliases: Dict[str, str] = {}
        for name, entry in data["component"].items():
            comp = Component(
                name,
                entry.get("scheme", "pep440"),
                tuple(entry.get("pip", ())),
                tuple(entry.get("repos", ())),
                entry.get("versions", "index"),
                tuple(entry.get("index", ())),
                entry.get("since"),
                tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in entry.get("probe", {}).items()),
                tuple(entry.get("tag-names", ())),
                entry.get("same-version-as"),
                entry.get("role"),
            )
            self.components[name] = comp
            for dist in comp.pip:
                self._pip[canonicalize_name(dist)] = name
            for repo in comp.repos:
                self._repos[repo.lower()] = name
            for alias in entry.get("arg-aliases", ()):
                aliases[alias.upper()] = name
        self._aliases = aliases
        version_suffixes = [s.upper() for s in names.get("version-suffixes", ())]
        requirement_suffixes = [s.upper() for s in names.get("requirement-suffixes", ())]
        self._requirement_suffixes = frozenset(requirement_suffixes)
        self.keep = frozenset(canonicalize_name(n) for n in data.get("snapshot", {}).get("keep", ()))
        alt = "|".join(sorted(map(re.escape, aliases), key=len, reverse=True))
        suf = "|".join(sorted(map(re.escape, version_suffixes + requirement_suffixes), key=len, reverse=True))
        self._arg = re.compile(rf"({alt})_({suf})", re.IGNORECASE)
        self.images: Dict[str, Image] = {
            img["repository"].lower(): Image(img["repository"], re.compile(img["tag"]), tuple(img["components"]))
            for img in data.get("image", ())
        }

    def scheme(self, component: str) -> str:
        return self.components[component].scheme

    def by_variable(self, name: str) -> Optional[NameMatch]:
        m = self._arg.fullmatch(name)
        if not m:
            return None
        return NameMatch(self._aliases[m.group(1).upper()], m.group(2).upper() in self._requirement_suffixes)

    def is_requirement_variable(self, name: str) -> bool:
        """A *_PIP_WHEEL-style variable, whose value is a pip requirement."""
        match = self.by_variable(name) if name else None
        return bool(match and match.requirement)

    def by_pip(self, dist: str) -> Optional[str]:
        return self._pip.get(canonicalize_name(dist))

    def by_repo(self, repo: str) -> Optional[str]:
        return self._repos.get(repo.lower().removesuffix(".git"))

    def by_image(self, repository: str) -> Optional[Image]:
        return self.images.get(repository.lower())

    def by_dep_name(self, dep: str) -> Optional[str]:
        """A Renovate depName: a pip name, an image repository or a git repository."""
        image = self.by_image(dep)
        if image:
            return image.components[0]
        return self.by_repo(dep) or self.by_pip(dep) or (dep if dep in self.components else None)

    def with_role(self, *roles: str) -> Tuple[str, ...]:
        """The components of these roles, in the order rules/components.toml lists them."""
        return tuple(name for name, c in self.components.items() if c.role in roles)

    def names(self) -> List[str]:
        return sorted(self.components)

    def indexed(self) -> List[Component]:
        return [c for c in self.components.values() if c.versions == "index"]

    def relevant(self, dist: str) -> bool:
        """A Requires-Dist name the snapshot keeps."""
        return self.by_pip(dist) is not None or canonicalize_name(dist) in self.keep

    def resolve(self, name: str) -> Optional[str]:
        """A component from its own name, a pip name or an alias."""
        return name if name in self.components else self.by_pip(name)


    def extended(self, extra: Dict[str, dict]) -> "Catalog":
        """This catalog plus a repo's own components (`[tool.aligner.components]`)."""
        if not extra:
            return self
        data = dict(self.data, component={**self.data["component"], **extra})
        return Catalog(data)


@lru_cache(maxsize=1)
def builtin() -> Catalog:
    text = resources.files("aligner.rules").joinpath("components.toml").read_text("utf-8")
    return Catalog(_toml.loads(text))


_active: Optional[Catalog] = None


def use(cat: Optional[Catalog]) -> None:
    """Make `cat` (the built-in catalog plus a config's components) the one `catalog()` gives."""
    global _active
    _active = cat


def catalog() -> Catalog:
    return _active or builtin()
