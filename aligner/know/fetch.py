"""One HTTP GET, done with care; the index client and the upstream loader both go through it.

Every request has a timeout. Passing faults (resets, timeouts, truncated bodies,
5xx, 429, and answers that `check` finds malformed) are retried with exponential
backoff, honouring Retry-After, within a total deadline. The body is read up to a
cap. Redirects are followed by hand so that one to another scheme (https to http,
or to anything but http(s)) is refused before it is requested. With `--offline`
(OFFLINE set by the CLI) no socket is opened at all.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Mapping, Optional, Tuple
from urllib.parse import urljoin, urlsplit
from aligner.base.errors import ToolError

OFFLINE = False  # the CLI's --offline: refuse before any socket is opened
MAX_REDIRECTS = 5


class FetchError(ToolError):
    """No usable answer; the message says what happened."""


class NotFound(FetchError):
    pass


class Offline(FetchError):
    pass


def _timeout() -> Tuple[float, float]:
    """(connect, read) seconds; ALIGNER_HTTP_TIMEOUT sets both, as UV_HTTP_TIMEOUT does for uv."""
    import os

    try:
        seconds = float(os.environ.get("ALIGNER_HTTP_TIMEOUT", ""))
    except ValueError:
        return (5.0, 30.0)
    return (min(5.0, seconds), seconds) if seconds > 0 else (5.0, 30.0)


@dataclass
class Policy:
    timeout: Tuple[float, float] = field(default_factory=_timeout)  # connect, read
    attempts: int = 4
    backoff: float = 0.5  # seconds before the second attempt; doubled each time
    deadline: float = 120.0  # for all attempts together
    max_bytes: int = 64 * 1024 * 1024
    sleep: Callable[[float], None] = time.sleep


@dataclass
class Answer:
    url: str  # after redirects
    status_code: int
    headers: Mapping[str, str]
    content: bytes
    extra: dict = field(default_factory=dict)  # what `check` derived from it, kept for the caller


def get(session, url: str, headers: Optional[Dict[str, str]] = None, check: Callable[[Answer], None] = lambda a: None,
        policy: Optional[Policy] = None) -> Answer:
    """GET url with retries; `check` raises ValueError for a malformed answer (retried like a fault).

    404 is NotFound, another 4xx a FetchError at once; a final 2xx/3xx-free answer is returned.
    `session` None: a new requests session."""
    if OFFLINE:  # before importing requests: urllib3 opens a socket at import to probe for IPv6
        raise Offline(f"{url}: --offline forbids the network")
    import requests

    session = session or requests.Session()
    policy = policy or Policy()
    stop = time.monotonic() + policy.deadline
    problem, wait, attempt = "no attempt made", 0.0, 0
    for attempt in range(1, policy.attempts + 1):
        if attempt > 1:
            policy.sleep(min(wait, max(0.0, stop - time.monotonic())))
        if time.monotonic() >= stop:
            break
        wait = policy.backoff * (2 ** (attempt - 1))
        try:
            answer = _follow(session, url, headers or {}, policy)
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as exc:
            problem = _fault_name(exc)  # resets, timeouts, truncated bodies: passing faults
            continue
        except requests.RequestException as exc:
            raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None
        code = answer.status_code
        if code == 404:
            raise NotFound(f"{url}: not found (404)")
        if code == 429 or code >= 500:
            problem = f"HTTP {code}"
            wait = max(wait, retry_after(answer.headers.get("Retry-After")))
            continue
        if code >= 400:
            raise FetchError(f"{url}: HTTP {code}")
        try:
            check(answer)
        except (ValueError, UnicodeDecodeError) as exc:  # truncated or malformed: may be a passing fault
            problem = f"malformed response ({exc})"
            continue
        return answer
    raise FetchError(f"{url}: {problem} after {attempt} attempt{'s' if attempt != 1 else ''}")


def _follow(session, url: str, headers: Dict[str, str], policy: Policy) -> Answer:
    first = urlsplit(url).scheme
    for _ in range(MAX_REDIRECTS + 1):
        scheme = urlsplit(url).scheme
        if scheme not in ("http", "https") or (first == "https" and scheme != "https"):
            raise FetchError(f"redirected from a {first}:// URL to {url}: refusing a change of scheme")
        with session.get(url, headers=headers, timeout=policy.timeout, stream=True, allow_redirects=False) as r:
            if r.is_redirect and r.headers.get("Location"):
                url = urljoin(url, r.headers["Location"])
                continue
            body = bytearray()
            for chunk in r.iter_content(64 * 1024):
                body += chunk
                if len(body) > policy.max_bytes:
                    raise FetchError(f"{url}: body larger than {policy.max_bytes} bytes")
            return Answer(url, r.status_code, r.headers, bytes(body))  # requests' headers: case-insensitive
    raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects (a redirect loop?)")


def _fault_name(exc: Exception) -> str:
    import requests

    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "connection broken mid-body (truncated)"
    return "connection failed or reset"


def retry_after(value: Optional[str]) -> float:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), capped at a minute."""
    if not value:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return 0.0
    return min(60.0, max(0.0, seconds))


def age_text(seconds: float) -> str:
    """How old cached data is, in words a user reads at a glance."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"
