"""Read an upstream pyproject.toml (Dynamo's is the model) into constraints per extra.

From a path, an https URL, or a release `NAME==VERSION` (ai-dynamo==1.6.1): its
Requires-Dist and Requires-Python, which its build wrote from its pyproject, as
recorded in the snapshot, so that it works offline. A URL is fetched through
aligner.know.fetch (retries within a deadline, a body cap, https only unless
--allow-insecure) and kept in the cache; when the network fails, or with
--offline, the cached copy is used with a warning saying how old it is. Bad
TOML, a missing file, a 404, a redirect loop or an oversize body give one clear
error; nothing partial is ever used.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from aligner.base import _toml
from aligner.base.errors import InputError

MAX_BYTES = 4 * 1024 * 1024
_RELEASE = re.compile(r"([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)==([0-9][0-9A-Za-z.+!-]*)")
_EXTRA = re.compile(r"""^extra\s*==\s*(['"])([^'"]+)\1$""")


@dataclass
class Upstream:
    source: str
    sha256: str
    name: Optional[str]
    version: Optional[str]
    requires_python: Optional[str]
    dependencies: List[Requirement]
    extras: Dict[str, List[Requirement]] = field(default_factory=dict)

    def requirements(self, extra: Optional[str]) -> List[Requirement]:
        """Core dependencies plus those of `extra`, with the project's own extras-of-extras expanded."""
        if extra is not None and extra not in self.extras:
            raise KeyError(extra)
        own = self.own()
        out, seen = ([own] if own else []) + list(self.dependencies), set()
        todo = [extra] if extra else []
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            if name not in self.extras:
                raise InputError(self.source, None, f"extra {extra!r} refers to {self.name}[{name}], which is no extra "
                                                    f"(extras: {', '.join(self.extras) or 'none'})")
            for req in self.extras[name]:
                if self.name and canonicalize_name(req.name) == canonicalize_name(self.name):
                    todo += sorted(req.extras)  # `ai-dynamo[vllm]` inside another extra
                else:
                    out.append(req)
        return out

    def own(self) -> Optional[Requirement]:
        """An upstream that is a release (`vllm==0.11.0`) pins that release itself: an image following it
        installs that version, not only what it requires."""
        return Requirement(f"{self.name}=={self.version}") if is_release(self.source) and self.name else None

    def where(self, req: Requirement, extra: Optional[str]) -> str:
        """Where the upstream says `req`: the release itself for its own pin, else its metadata/file."""
        return f"upstream {self.source}" if req == self.own() else self.location(extra)

    def location(self, extra: Optional[str]) -> str:
        if is_release(self.source):
            where = f"{self.name} {self.version} metadata"
        else:
            where = Path(self.source).name if "://" not in self.source else self.source
        return f"upstream {where}" + (f", extra {extra}" if extra else "")


def is_release(source: str) -> bool:
    """`NAME==VERSION`: a release's metadata, not a file or a URL."""
    return "://" not in source and bool(_RELEASE.fullmatch(source))


def from_release(source: str, snap=None) -> Upstream:
    """The upstream a release's metadata in the snapshot says: the dependencies its pyproject declared,
    extras from their `extra == "X"` markers."""
    from aligner.know.snapshot import Snapshot

    name, version = _RELEASE.fullmatch(source).groups()
    rel = (snap or Snapshot.load()).release(name, version)
    if rel is None or rel.requires_dist is None:
        raise InputError(source, None, f"{name} {version} is not in the snapshot (rules/snapshot/{name}.json): "
                                       f"run `aligner rules refresh --project {name}`, or give a pyproject path or URL")
    core, extras = [], {}
    for req in rel.requirements():
        req = Requirement(str(req))  # a copy: the snapshot's parsed requirements are shared
        m = _EXTRA.match(str(req.marker)) if req.marker is not None else None
        if req.marker is not None and "extra" in str(req.marker) and not m:
            raise InputError(source, None, f"cannot tell the extra of {req} (an extra with other conditions)")
        if m:
            req.marker = None
            extras.setdefault(m.group(2), []).append(req)
        else:
            core.append(req)
    record = {"requires-dist": list(rel.requires_dist), "requires-python": rel.requires_python}
    digest = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
    return Upstream(source, digest, name, rel.version, rel.requires_python, core, dict(sorted(extras.items())))


def load(source: str, allow_insecure: bool = False, session=None, policy=None, warn=None) -> Upstream:
    if is_release(source):
        return from_release(source)
    if "://" not in source:
        from aligner.base.paths import read_regular

        return parse(source, read_regular(source, MAX_BYTES))
    return _load_url(source, allow_insecure, session, policy, warn or _warn)


def _warn(message: str) -> None:
    import sys

    print(f"warning: {message}", file=sys.stderr)


def _load_url(source: str, allow_insecure: bool, session, policy, warn) -> Upstream:
    from aligner.know import fetch
    from aligner.know.httpcache import Entry, HttpCache

    scheme = source.split("://", 1)[0].lower()
    if scheme == "http" and not allow_insecure:
        raise InputError(source, None, "refusing a plain http:// upstream (use https, or --allow-insecure)")
    if scheme not in ("https", "http"):
        raise InputError(source, None, "upstream URL must be https://")
    cache = HttpCache()
    cached = cache.get(source)
    try:
        answer = _fetch(source, session, policy)
    except fetch.FetchError as exc:
        if cached is None:
            why = "not in the cache, and --offline forbids the network" if isinstance(exc, fetch.Offline) else exc
            raise InputError(source, None, str(why).replace(f"{source}: ", "")) from None
        age = fetch.age_text(cached.age())
        warn(f"--offline: using the upstream {source} cached {age} ago" if isinstance(exc, fetch.Offline)
             else f"{exc}; using the upstream cached {age} ago")
        return parse(source, cached.body.encode("utf-8"))
    cache.put(Entry(source, answer.content.decode("utf-8"), None, None, time.time(), "text/plain"))
    return answer.extra["upstream"]


def _fetch(source: str, session, policy):
    """The upstream's answer, parsed; an answer that is no pyproject is retried like a fault, then refused."""
    from aligner.know import fetch

    def check(answer) -> None:
        try:
            answer.extra["upstream"] = parse(source, answer.content)
        except InputError as exc:
            raise ValueError(exc.message) from None

    policy = policy or fetch.Policy(max_bytes=MAX_BYTES)
    return fetch.get(session, source, {"Accept": "text/plain, */*"}, check, policy)


def load_cached(source: str) -> Optional[Upstream]:
    """The upstream from a path or a release, or from the cache for a URL; never the network."""
    if "://" not in source:
        return load(source)
    from aligner.know.httpcache import HttpCache

    entry = HttpCache().get(source)
    return parse(source, entry.body.encode("utf-8")) if entry else None


def parse(source: str, data: bytes) -> Upstream:
    try:
        doc = _toml.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(source, None, "not valid UTF-8") from None
    except _toml.TOMLDecodeError as exc:
        raise InputError(source, _toml.line_of(exc), f"invalid TOML: {exc}") from None
    project = doc.get("project")
    if not isinstance(project, dict):
        raise InputError(source, None, "no [project] table: not a PEP 621 pyproject.toml")
    extras_raw = project.get("optional-dependencies", {})
    if not isinstance(extras_raw, dict):
        raise InputError(source, None, "[project.optional-dependencies] must be a table")
    return Upstream(
        source=source,
        sha256=hashlib.sha256(data).hexdigest(),
        name=project.get("name"),
        version=project.get("version"),
        requires_python=project.get("requires-python"),
        dependencies=_requirements(source, "dependencies", project.get("dependencies", [])),
        extras={k: _requirements(source, f"optional-dependencies.{k}", v) for k, v in sorted(extras_raw.items())},
    )


def _requirements(source: str, key: str, lines) -> List[Requirement]:
    if not isinstance(lines, list):
        raise InputError(source, None, f"[project] {key} must be a list")
    out = []
    for line in lines:
        try:
            out.append(Requirement(line))
        except (InvalidRequirement, TypeError) as exc:
            raise InputError(source, None, f"[project] {key}: bad requirement {line!r}: {exc}") from None
    return out

