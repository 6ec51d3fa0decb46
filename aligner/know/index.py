"""A client for the package index: PEP 691 JSON pages (PEP 503 HTML as fallback)
and PEP 658 `.metadata` files, so that a release's Requires-Python and
Requires-Dist are read without downloading a wheel.

Requests go through aligner.know.fetch (timeouts, retries with backoff within a
deadline, a body cap, no change of scheme on redirect) and through the on-disk
cache: metadata files never change once published and are reused as they are;
project pages are revalidated with ETag/Last-Modified, and when the index
fails a cached page is used with a warning that says how old it is.
"""

from __future__ import annotations

import email.parser
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Callable, Dict, Iterable, List, Optional, Tuple
from urllib.parse import urljoin, urlsplit

from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename
from packaging.version import Version

from aligner.know import fetch, indexurl
from aligner.know.fetch import FetchError as IndexFetchError
from aligner.know.fetch import NotFound
from aligner.know.httpcache import Entry, HttpCache

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
PLATFORMS = ("linux/amd64", "linux/arm64")


@dataclass(frozen=True)
class DistFile:
    filename: str
    url: str
    version: Version
    requires_python: Optional[str]
    yanked: bool
    wheel_platforms: Tuple[str, ...]  # linux/amd64, linux/arm64 this wheel installs on; () for sdists
    is_wheel: bool
    wheel_pythons: Tuple[str, ...] = ()  # cp312, cp39-abi3, py3: the Pythons this wheel installs on


@dataclass
class Release:
    version: str
    requires_python: Optional[str]
    requires_dist: Optional[List[str]]  # None when no metadata file could be read
    platforms: List[str]
    yanked: bool
    pythons: List[str] = field(default_factory=list)  # of its Linux wheels (aligner.know.tags.wheel_pythons)


@dataclass
class Project:
    name: str
    files: List[DistFile] = field(default_factory=list)

    def versions(self) -> List[Version]:
        return sorted({f.version for f in self.files})

    def files_of(self, version: Version) -> List[DistFile]:
        return sorted((f for f in self.files if f.version == version), key=lambda f: f.filename)


def wheel_platforms(filename: str) -> Tuple[str, ...]:
    _, _, _, tags = parse_wheel_filename(filename)
    found = set()
    for tag in tags:
        plat = tag.platform
        if plat == "any":
            found.update(PLATFORMS)
        elif "linux" in plat and "x86_64" in plat:
            found.add("linux/amd64")
        elif "linux" in plat and "aarch64" in plat:
            found.add("linux/arm64")
    return tuple(sorted(found))


def wheel_pythons(filename: str) -> Tuple[str, ...]:
    """The Pythons a wheel installs on, by its tags: `cp312` (that CPython only), `cp39-abi3` (the stable
    ABI: CPython 3.9 and newer), `py3` (any Python 3)."""
    _, _, _, tags = parse_wheel_filename(filename)
    found = set()
    for tag in tags:
        if tag.abi == "abi3":
            found.add(f"{tag.interpreter}-abi3")
        elif tag.interpreter.startswith("cp") and tag.abi.endswith("t"):
            found.add(f"{tag.interpreter}t")  # free-threaded: not for the Python most images have
        else:
            found.add(tag.interpreter)
    return tuple(sorted(found, key=python_tag_order))


def python_tag_order(tag: str):
    """cp39 before cp310: tags in the order of their Pythons."""
    import re

    m = re.match(r"([a-z]+)(\d)(\d*)(.*)", tag)
    return (m.group(1), int(m.group(2)), int(m.group(3) or 0), m.group(4)) if m else (tag, 0, 0, "")


def _dist_file(project: str, filename: str, url: str, requires_python, yanked) -> Optional[DistFile]:
    pythons: Tuple[str, ...] = ()
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
            plats, is_wheel = wheel_platforms(filename), True
            pythons = wheel_pythons(filename)
        else:
            name, version = parse_sdist_filename(filename)
            plats, is_wheel = (), False
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError):
        return None
    return DistFile(filename, url, version, requires_python or None, bool(yanked), plats, is_wheel, pythons)


def parse_project_page(project: str, url: str, body: str, content_type: str) -> Project:
    """A PEP 691 JSON or PEP 503 HTML project page; ValueError when it is neither."""
    out = Project(project)
    if JSON_TYPE in content_type or body.lstrip().startswith("{"):
        data = json.loads(body)
        if not isinstance(data, dict) or not isinstance(data.get("files"), list):
            raise ValueError("no 'files' list in the JSON page")
        for f in data["files"]:
            d = _dist_file(project, f["filename"], urljoin(url, f["url"]), f.get("requires-python"), f.get("yanked"))
            if d:
                out.files.append(d)
        return out
    parser = _Anchors()
    parser.feed(body)
    parser.close()
    if not parser.seen_html:
        raise ValueError("neither a JSON nor an HTML project page")
    for href, attrs, text in parser.anchors:
        link = urljoin(url, href).split("#", 1)[0]
        d = _dist_file(project, text.strip() or link.rsplit("/", 1)[-1], link,
                       attrs.get("data-requires-python"), "data-yanked" in attrs)
        if d:
            out.files.append(d)
    return out


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.anchors: List[Tuple[str, Dict[str, str], str]] = []
        self.seen_html = False
        self._open: Optional[Tuple[str, Dict[str, str]]] = None
        self._text: List[str] = []

    def handle_starttag(self, tag, attrs):
        self.seen_html = True
        if tag == "a":
            a = {k: (v or "") for k, v in attrs}
            self._open, self._text = (a.get("href", ""), a), []

    def handle_data(self, data):
        if self._open:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._open:
            self.anchors.append((self._open[0], self._open[1], "".join(self._text)))
            self._open = None


def parse_metadata(text: str) -> Tuple[Optional[str], List[str]]:
    msg = email.parser.Parser().parsestr(text, headersonly=True)
    if not msg.get("Metadata-Version") and not msg.get("Name"):
        raise ValueError("not a core metadata file")
    return msg.get("Requires-Python"), [r.strip() for r in msg.get_all("Requires-Dist") or []]


class IndexClient:
    def __init__(
        self,
        index_url: Optional[str] = None,
        cache: Optional[HttpCache] = None,
        session=None,
        timeout: Optional[Tuple[float, float]] = None,  # default: fetch's (ALIGNER_HTTP_TIMEOUT)
        attempts: int = 4,
        backoff: float = 0.5,
        deadline: float = 120.0,
        workers: int = 8,
        max_age: float = 600.0,
        offline: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.index_url, self.index_source = indexurl.resolve(index_url)
        if urlsplit(self.index_url).scheme not in ("http", "https"):
            raise IndexFetchError(f"index URL {self.index_url} ({self.index_source}) is not http(s)")
        self.cache = cache or HttpCache()
        self._session = session
        self._local = threading.local()
        self.policy = fetch.Policy(timeout or fetch.Policy().timeout, attempts, backoff, deadline, sleep=sleep)
        self.workers, self.max_age, self.offline = workers, max_age, offline or fetch.OFFLINE
        self.warnings: List[str] = []

    # -- HTTP ------------------------------------------------------------------
    def session(self):
        if self._session is not None:
            return self._session
        s = getattr(self._local, "session", None)
        if s is None:
            import requests

            s = self._local.session = requests.Session()
            s.headers["User-Agent"] = "aligner (https://peps.python.org/pep-0691/ client)"
        return s

    def fetch(self, url: str, immutable: bool = False, validate: Callable[[Entry], None] = lambda e: None) -> Entry:
        """The body of url, from the cache when it is fresh; retried and revalidated."""
        entry = self.cache.get(url)
        if entry and (immutable or entry.age() < self.max_age):
            return entry
        if self.offline:
            if entry:
                self.warnings.append(f"{url}: offline mode, using data cached {fetch.age_text(entry.age())} ago")
                return entry
            raise IndexFetchError(f"{url}: not in the cache, and offline mode forbids the network")
        try:
            fresh = self._fetch(url, entry, validate)
        except NotFound:
            raise
        except IndexFetchError as exc:
            if entry is None:
                raise
            self.warnings.append(f"{exc}; using data cached {fetch.age_text(entry.age())} ago")
            return entry
        self.cache.put(fresh)
        return fresh

    def _fetch(self, url: str, entry: Optional[Entry], validate) -> Entry:
        headers = {"Accept": ACCEPT}
        if entry and entry.etag:
            headers["If-None-Match"] = entry.etag
        if entry and entry.last_modified:
            headers["If-Modified-Since"] = entry.last_modified

        def check(r) -> None:
            if r.status_code == 304:
                if entry is None:
                    raise ValueError("304 without a cached copy")
                return
            fresh = Entry(url, r.content.decode("utf-8"), r.headers.get("ETag"), r.headers.get("Last-Modified"),
                          time.time(), r.headers.get("Content-Type", ""))
            validate(fresh)
            r.extra["entry"] = fresh

        r = self.request(url, headers, check)
        if r.status_code == 304:
            return Entry(url, entry.body, entry.etag, entry.last_modified, time.time(), entry.content_type)
        return r.extra["entry"]

    def request(self, url: str, headers: Dict[str, str], check: Callable = lambda r: None) -> fetch.Answer:
        """GET url with retries and backoff; `check` raises ValueError for a malformed answer."""
        if self.offline:
            raise IndexFetchError(f"{url}: not in the cache, and offline mode forbids the network")
        return fetch.get(self.session(), url, headers, check, self.policy)

    # -- index -----------------------------------------------------------------------
    def project(self, name: str) -> Project:
        url = indexurl.project_url(self.index_url, name)

        def check(e: Entry) -> None:
            parse_project_page(name, url, e.body, e.content_type)

        entry = self.fetch(url, validate=check)
        return parse_project_page(name, url, entry.body, entry.content_type)

    def metadata(self, f: DistFile) -> Optional[Tuple[Optional[str], List[str]]]:
        """(Requires-Python, Requires-Dist) of a wheel, or None when it has none to read.

        The PEP 658 `.metadata` file when the index serves one; else METADATA read
        out of the wheel's zip with range requests, as pip's lazy wheel does.
        """
        def check(e: Entry) -> None:
            parse_metadata(e.body)

        try:
            return parse_metadata(self.fetch(f.url + ".metadata", immutable=True, validate=check).body)
        except NotFound:
            pass
        key = f.url + "#dist-info-METADATA"
        cached = self.cache.get(key)
        if cached is None:
            if self.offline:
                raise IndexFetchError(f"{f.url}: metadata not in the cache, and offline mode forbids the network")
            from aligner.know.lazywheel import read_metadata

            try:
                text = read_metadata(self, f.url)
            except NotFound:
                return None
            parse_metadata(text)
            cached = Entry(key, text, None, None, time.time(), "text/plain")
            self.cache.put(cached)
        return parse_metadata(cached.body)

    def release(self, project: Project, version: Version) -> Release:
        files = project.files_of(version)
        wheels = [f for f in files if f.is_wheel]
        platforms = sorted({p for f in wheels for p in f.wheel_platforms})
        chosen = []
        for plat in PLATFORMS:  # one wheel per platform: torch's differ by platform
            f = next((w for w in wheels if plat in w.wheel_platforms), None)
            if f and f not in chosen:
                chosen.append(f)
        requires_python = next((f.requires_python for f in files if f.requires_python), None)
        requires_dist: Optional[List[str]] = None
        for f in chosen:
            meta = self.metadata(f)
            if meta:
                requires_python = meta[0] or requires_python
                requires_dist = sorted(set(requires_dist or []) | set(meta[1]))
        pythons = sorted({p for f in wheels if f.wheel_platforms for p in f.wheel_pythons}, key=python_tag_order)
        return Release(str(version), requires_python, requires_dist, platforms, all(f.yanked for f in files), pythons)

    def releases(self, project: Project, versions: Iterable[Version],
                 progress: Optional[Callable[[], None]] = None) -> Dict[str, Release]:
        """Metadata of many releases, fetched concurrently (bounded by `workers`)."""
        def one(v: Version) -> Release:
            try:
                return self.release(project, v)
            finally:
                if progress:
                    progress()

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return {r.version: r for r in pool.map(one, list(versions))}

