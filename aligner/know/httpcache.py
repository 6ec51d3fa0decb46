"""An on-disk HTTP cache keyed by URL: atomic writes, ETag/Last-Modified revalidation.

One JSON file per URL under the user cache directory. A corrupt or foreign
entry is discarded and fetched again, never a crash. Writers in several
processes race safely: each entry is written to a temporary file in the same
directory and renamed into place (aligner.base.atomic).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from aligner.base.atomic import atomic_write


def default_dir() -> Path:
    if os.environ.get("ALIGNER_CACHE_DIR"):
        return Path(os.environ["ALIGNER_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "aligner"


@dataclass
class Entry:
    url: str
    body: str
    etag: Optional[str]
    last_modified: Optional[str]
    stored: float  # when the body was last confirmed fresh
    content_type: str = ""

    def age(self) -> float:
        return max(0.0, time.time() - self.stored)


class HttpCache:
    def __init__(self, root: Optional[Path] = None):
        self.root = Path(root) if root else default_dir() / "http"

    def _path(self, url: str) -> Path:
        digest = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return self.root / digest[:2] / f"{digest}.json"

    def get(self, url: str) -> Optional[Entry]:
        path = self._path(url)
        try:
            raw = json.loads(path.read_text("utf-8"))
            entry = Entry(raw["url"], raw["body"], raw.get("etag"), raw.get("last_modified"), float(raw["stored"]),
                          raw.get("content_type", ""))
            if entry.url != url or not isinstance(entry.body, str):
                raise ValueError("entry for another URL")
            return entry
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            try:  # corrupt: drop it, the caller fetches again
                path.unlink()
            except OSError:
                pass
            return None

    def put(self, entry: Entry) -> None:
        path = self._path(entry.url)
        data = json.dumps(entry.__dict__, sort_keys=True).encode("utf-8")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, data)
        except OSError:
            pass  # a cache that cannot be written is only slower

