"""Everything one run reads, read once: the config, each Dockerfile's bytes and parse, the upstream.

check, lock, fix, report and verify take their inputs from here, so one `fix --apply --report` opens
each Dockerfile once however many steps look at it. After `fix` writes a file, `replace` gives the
workspace its new bytes: what is checked afterwards is what was written, with no second read.
"""

from __future__ import annotations

import os
from typing import Dict, Optional

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
        """The Dockerfile read from its bytes, its pins naming `path` as given."""
        from aligner.know.components import catalog

        cat = cat or catalog()
        key = (path, id(cat))
        if key not in self._parsed:
            self._parsed[key] = read(path, self.raw(path), cat)
        return self._parsed[key]

    def replace(self, path: str, data: bytes) -> None:
        """The bytes a write just put at `path`; its parses are made again from them."""
        key = os.path.abspath(path)
        self._raw[key] = data
        self._parsed = {k: v for k, v in self._parsed.items() if os.path.abspath(k[0]) != key}
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
