"""Everything one run reads, read once: the config, each Dockerfile's bytes and parse, the upstream.

check, lock, fix, report and verify take their inputs from here, so one `fix --apply --report` opens
each Dockerfile once however many steps look at it. After `fix` writes a file, `replace` gives the
workspace its new bytes: what is checked afterwards is what was written, with no second read.
"""

from __future__ import annotations

import os
from typing import Dict, List, Optional

from aligner.read.config import Config
from aligner.read.dockerfile import Dockerfile, read
from aligner.read.dockerfile.reader import read_bytes

_UNSET = object()


class Workspace:
    def __init__(self, cfg: Config, allow_insecure: bool = False):
        self.cfg = cfg
        self.allow_insecure = allow_insecure
        self._raw: Dict[str, bytes] = {}  # by absolute path
        self._parsed: Dict[tuple, Dockerfile] = {}  # by (path as given, catalog)
        self._upstream = _UNSET
        self.memo: Dict[tuple, object] = {}  # results computed from the files as they are (the lock's target)

    def raw(self, path: str) -> bytes:
        """A Dockerfile's bytes; an unreadable one raises InputError (every time it is asked for)."""
        key = os.path.abspath(path)
        if key not in self._raw:
            self._raw[key] = read_bytes(path)
        return self._raw[key]

    def parsed(self, path: str, cat=None) -> Dockerfile:
        """The Dockerfile read from its bytes, its pins naming `path` as given, with the build arguments the
        scripts that build it pass (a pin they make names the script)."""
        from aligner.know.components import catalog

        cat = cat or catalog()
        key = (path, id(cat))
        if key not in self._parsed:
            given = self.build_args(path)
            self._parsed[key] = read(path, self.raw(path), cat, given.args, given.sources)
        return self._parsed[key]

    def build_args(self, path: str):
        """What the builds of the Dockerfile at `path` pass it (aligner.read.buildargs.link.Given): the
        sources its configured image names, else every script of the repository that builds it."""
        from aligner.read.buildargs import link

        key = ("build-args", os.path.abspath(path))
        if key not in self.memo:
            sources, named = self.build_sources(path)
            self.memo[key] = link.given(os.path.abspath(path), sources, self.raw, self.cfg.root, named) if sources \
                else link.Given()
        return self.memo[key]

    def build_scripts(self) -> List[str]:
        """The scripts whose build arguments some configured Dockerfile takes: what the lock is computed
        from besides the Dockerfiles, config and upstream."""
        found = {s for d in self.cfg.image_dockerfiles() for s in self.build_args(str(d)).sources}
        return sorted(found)

    def build_errors(self) -> list:
        """The build scripts the config names that could not be read (InputError), each once."""
        seen = {}
        for d in self.cfg.image_dockerfiles():
            for e in self.build_args(str(d)).errors:
                seen.setdefault((e.path, e.line, e.message), e)
        return list(seen.values())

    def build_sources(self, path: str):
        """(the scripts that may build the Dockerfile at `path`, relative to where aligner runs; whether the
        config names them): those its configured images name, or, when none names any, every script of the
        repository."""
        from aligner.read.buildargs import link

        mine = os.path.abspath(path)
        images = [ic for ic in self.cfg.images.values()
                  if any(os.path.abspath(self.cfg.root / d) == mine for d in ic.dockerfiles)]
        if not images:
            return [], False
        named = any(ic.build_args is not None for ic in images)
        if named:
            rel = [s for ic in images if ic.build_args is not None for s in ic.build_args]
        else:
            if "scripts" not in self.memo:
                self.memo["scripts"] = link.scripts(self.cfg.root)
            rel = self.memo["scripts"]
        return [os.path.relpath(self.cfg.root / s) for s in dict.fromkeys(rel)], named

    def replace(self, path: str, data: bytes) -> None:
        """The bytes a write just put at `path`; its parses are made again from them."""
        key = os.path.abspath(path)
        self._raw[key] = data
        self._parsed = {}  # a build script's bytes are in the parses of the Dockerfiles it builds
        self.memo.clear()  # computed from the old bytes

    def with_bytes(self, changes: Dict[str, bytes]) -> "Workspace":
        """A workspace as this one would be once `changes` (path -> bytes) are written: what a dry run
        shows of the lock, with nothing written."""
        other = Workspace(self.cfg, self.allow_insecure)
        other._raw, other._upstream = dict(self._raw), self._upstream
        other._parsed = dict(self._parsed)
        for path, data in changes.items():
            other.replace(path, data)
        return other

    def upstream(self):
        """The upstream of the config (fetched if it is a URL and not cached), or None."""
        if self._upstream is _UNSET:
            from aligner.read import upstream

            src = self.cfg.upstream_source()
            self._upstream = upstream.load(src, self.allow_insecure) if self.cfg.upstream else None
        return self._upstream

    def upstream_cached(self) -> Optional[object]:
        """The upstream without the network: None when a URL is not cached yet."""
        if self._upstream is not _UNSET:
            return self._upstream
        from aligner.read import upstream

        src = self.cfg.upstream_source()
        found = upstream.load_cached(src) if src else None
        if found is not None:
            self._upstream = found  # this run's upstream from now on: read once
        return found
