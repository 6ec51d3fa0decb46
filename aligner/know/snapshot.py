"""The offline snapshot of index metadata kept in rules/snapshot/.

One JSON file per index project, holding for each release since the
component's floor only what aligner needs: Requires-Python, the Requires-Dist
lines that name stack components (markers and extras kept), the platforms it
has wheels for, whether it has an sdist, and whether it was yanked. Written
sorted and without timestamps, so the same releases give the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from aligner.know.components import Catalog, catalog
from aligner.base.atomic import atomic_write
from aligner.base.errors import DataError

FORMAT = 1


def default_dir() -> Path:
    import aligner.rules

    return Path(aligner.rules.__file__).parent / "snapshot"


@dataclass(frozen=True)
class SnapRelease:
    project: str
    version: str
    requires_python: Optional[str]
    requires_dist: Optional[Tuple[str, ...]]  # None: the index had no metadata file for it
    platforms: Tuple[str, ...]  # platforms with a wheel
    sdist: bool
    yanked: bool
    pythons: Tuple[str, ...] = ()  # the Pythons its Linux wheels install on (cp312, cp39-abi3, py3); () unknown

    def installs_on(self, python: str) -> bool:
        """Whether pip can install it on this Python by its wheel tags; True when it has an sdist pip could
        build, or when its wheels are unknown (an older snapshot), since nothing then says it cannot."""
        if self.sdist or not self.pythons:
            return True
        major, minor = (int(x) for x in python.split(".")[:2])
        for tag in self.pythons:
            name, _, abi = tag.partition("-")
            digits = name[2:]
            if name in (f"py{major}", f"py{major}{minor}", f"cp{major}{minor}"):
                return True
            if abi == "abi3" and name.startswith("cp") and digits[:1] == str(major) \
                    and int(digits[1:] or 0) <= minor:
                return True
        return False

    def requirements(self, name: Optional[str] = None) -> List[Requirement]:
        from packaging.utils import canonicalize_name

        out = _parsed(self.requires_dist or ())
        return [r for r in out if name is None or canonicalize_name(r.name) == canonicalize_name(name)]


@lru_cache(maxsize=None)
def _parsed(lines: Tuple[str, ...]) -> Tuple[Requirement, ...]:
    """Requirement parsing is slow and the same releases are asked about again and again."""
    return tuple(Requirement(r) for r in lines)


def keep_requirements(lines: Optional[List[str]], cat: Catalog) -> Optional[List[str]]:
    if lines is None:
        return None
    kept = set()
    for line in lines:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if cat.relevant(req.name):
            kept.add(str(req))
    return sorted(kept)


def build_project(client, name: str, since: Optional[str], cat: Optional[Catalog] = None,
                  progress: Optional[Callable[[int, int], None]] = None) -> dict:
    """The snapshot record of one index project, from the live index."""
    cat = cat or catalog()
    project = client.project(name)
    floor = Version(since) if since else None
    versions = [v for v in project.versions() if not v.is_devrelease and (floor is None or v >= floor)]
    done = [0]

    def tick() -> None:
        done[0] += 1
        if progress:
            progress(done[0], len(versions))

    if progress:
        progress(0, len(versions))
    found = client.releases(project, versions, tick)
    releases = []
    for v in versions:
        r = found[str(v)]
        releases.append({
            "version": r.version,
            "requires-python": r.requires_python,
            "requires-dist": keep_requirements(r.requires_dist, cat),
            "platforms": r.platforms,
            "pythons": r.pythons,
            "sdist": any(not f.is_wheel for f in project.files_of(v)),
            "yanked": r.yanked,
        })
    return {"format": FORMAT, "project": name, "since": since, "releases": releases}


def dumps(record: dict) -> bytes:
    return (json.dumps(record, indent=1, sort_keys=True) + "\n").encode("utf-8")


def write_project(directory: Path, record: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{record['project']}.json"
    atomic_write(path, dumps(record))
    return path


class SnapshotError(DataError):
    """A snapshot file that cannot be read."""


class Snapshot:
    def __init__(self, projects: Dict[str, Dict[str, SnapRelease]]):
        self.projects = projects
        self._sorted: Dict[str, List[SnapRelease]] = {}

    @classmethod
    def load(cls, directory: Optional[Path] = None) -> "Snapshot":
        directory = Path(directory) if directory else default_dir()
        projects: Dict[str, Dict[str, SnapRelease]] = {}
        for path in sorted(directory.glob("*.json")):
            try:
                record = json.loads(path.read_text("utf-8"))
                if record.get("format") != FORMAT:
                    raise ValueError(f"format {record.get('format')!r}, expected {FORMAT}")
                projects[record["project"]] = {r["version"]: _release(record["project"], r) for r in record["releases"]}
            except (OSError, ValueError, KeyError, TypeError, InvalidVersion) as exc:
                raise SnapshotError(f"{path}: unreadable snapshot file ({exc}); run `aligner rules refresh`") from None
        return cls(projects)

    def releases(self, project: str) -> List[SnapRelease]:
        if project not in self._sorted:
            self._sorted[project] = sorted(self.projects.get(project, {}).values(), key=lambda r: Version(r.version))
        return list(self._sorted[project])

    def release(self, project: str, version: str) -> Optional[SnapRelease]:
        found = self.projects.get(project, {})
        if version in found:
            return found[version]
        want = Version(version)
        hit = next((r for v, r in found.items() if Version(v) == want), None)
        if hit is None and want.local:  # torch 2.10.0+cu130: a build of the release 2.10.0
            return self.release(project, want.public)
        return hit

    def add(self, record: dict) -> None:
        """Overlay a record fetched live (`--online`) on the committed data."""
        self.projects.setdefault(record["project"], {}).update(
            {r["version"]: _release(record["project"], r) for r in record["releases"]}
        )
        self._sorted.pop(record["project"], None)


def _release(project: str, r: dict) -> SnapRelease:
    Version(r["version"])
    dist = r.get("requires-dist")
    return SnapRelease(project, r["version"], r.get("requires-python"), tuple(dist) if dist is not None else None,
                       tuple(r.get("platforms", ())), bool(r.get("sdist")), bool(r.get("yanked")),
                       tuple(r.get("pythons", ())))


def rules_digest(leave_out=()) -> bytes:
    """A hash of everything aligner knows (rules/*.toml and the snapshot): part of every cache key.
    `leave_out`: file names that cannot change what the caller computes (the lock leaves out the rule
    pages, codes.toml)."""
    import hashlib

    import aligner.rules

    h = hashlib.sha256()
    root = Path(aligner.rules.__file__).parent
    for path in sorted(list(root.glob("*.toml")) + list(root.glob("snapshot/*.json"))):
        if path.name in leave_out:
            continue
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.digest()
