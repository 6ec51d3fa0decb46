"""Read an upstream pyproject.toml (Dynamo's is the model) into constraints per extra.

From a path, an https URL, or a release `NAME==VERSION` (ai-dynamo==1.6.1): its
Requires-Dist and Requires-Python, which its build wrote from its pyproject, as
recorded in the snapshot, so that it works offline. Bad TOML, a missing file, a
404, a redirect loop or an oversize body give one clear error; nothing partial
is ever used.
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

from aligner import _toml
from aligner.errors import InputError

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
        out, seen = list(self.dependencies), set()
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
    from aligner.snapshot import Snapshot

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


def load(source: str, allow_insecure: bool = False, session=None) -> Upstream:
    if is_release(source):
        return from_release(source)
    data = _read(source, allow_insecure, session)
    up = parse(source, data)
    if "://" in source:  # kept so that `aligner check` can work offline afterwards
        from aligner.httpcache import Entry, HttpCache

        HttpCache().put(Entry(source, data.decode("utf-8"), None, None, time.time(), "text/plain"))
    return up


def load_cached(source: str) -> Optional[Upstream]:
    """The upstream from a path or a release, or from the cache for a URL; never the network."""
    if "://" not in source:
        return load(source)
    from aligner.httpcache import HttpCache

    entry = HttpCache().get(source)
    return parse(source, entry.body.encode("utf-8")) if entry else None


def parse(source: str, data: bytes) -> Upstream:
    try:
        doc = _toml.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(source, None, "not valid UTF-8") from None
    except _toml.TOMLDecodeError as exc:
        raise InputError(source, getattr(exc, "lineno", None), f"invalid TOML: {exc}") from None
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


def _read(source: str, allow_insecure: bool, session) -> bytes:
    if "://" not in source:
        from aligner.paths import read_regular

        return read_regular(source, MAX_BYTES)
    import requests

    if source.startswith("http://") and not allow_insecure:
        raise InputError(source, None, "refusing a plain http:// upstream (use https, or --allow-insecure)")
    if not source.startswith(("https://", "http://")):
        raise InputError(source, None, "upstream URL must be https://")
    s = session or requests.Session()
    s.max_redirects = 5
    try:
        with s.get(source, timeout=(5, 30), stream=True) as r:
            for hop in r.history + [r]:
                if not hop.url.startswith("https://") and not (allow_insecure and hop.url.startswith("http://")):
                    raise InputError(source, None, f"redirected to a non-https URL {hop.url}")
            if r.status_code != 200:
                raise InputError(source, None, f"HTTP {r.status_code}")
            body = bytearray()
            for chunk in r.iter_content(64 * 1024):
                body += chunk
                if len(body) > MAX_BYTES:
                    raise InputError(source, None, f"body larger than {MAX_BYTES} bytes")
            return bytes(body)
    except requests.TooManyRedirects:
        raise InputError(source, None, "too many redirects (a redirect loop?)") from None
    except requests.RequestException as exc:
        raise InputError(source, None, f"cannot fetch: {type(exc).__name__}") from None

