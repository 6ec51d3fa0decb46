"""An upstream URL behind a fault-injecting server on 127.0.0.1 (tests/support/pep691_server.py), through the CLI:
resets, delays past the timeout, 5xx, 429 with Retry-After, truncated and malformed bodies are retried
within a deadline; then a clear error, or the cached copy with its age. Plain http is refused unless
--allow-insecure, and so is a redirect that changes the scheme or a body over the cap."""

import time

import pytest
import requests

from aligner.know import fetch
from tests.support.pep691_server import Index

PATH = "/up/pyproject.toml"


@pytest.fixture
def served(served_upstream):
    return served_upstream


def test_plain_http_is_refused_unless_allowed(served, run_aligner):
    repo, server, url = served
    refused = run_aligner("lock", cwd=repo)
    assert refused.returncode == 2
    assert f"error: {url}: refusing a plain http:// upstream (use https, or --allow-insecure)" in refused.stderr
    assert PATH not in server.hits, "refused before any request"
    assert run_aligner("lock", "--allow-insecure", cwd=repo).returncode == 0


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/pyproject.toml"])
def test_a_redirect_to_another_scheme_is_refused(served, run_aligner, target):
    repo, server, url = served
    server.faults[PATH] = [f"redirect:{target}"] * 10
    result = run_aligner("lock", "--allow-insecure", cwd=repo)
    assert result.returncode == 2, result.stderr
    assert f"to {target}: refusing a change of scheme" in result.stderr and "Traceback" not in result.stderr


def test_an_https_url_redirected_to_http_is_refused_before_the_request():
    asked = []

    class Redirect:
        status_code, is_redirect = 302, True
        headers = {"Location": "http://127.0.0.1:9/pyproject.toml"}

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    class Redirects:
        def get(self, url, **kw):
            asked.append(url)
            return Redirect()

    with pytest.raises(fetch.FetchError, match="redirected from a https:// URL to http://127.0.0.1:9/"):
        fetch.get(Redirects(), "https://upstream.invalid/pyproject.toml")
    assert asked == ["https://upstream.invalid/pyproject.toml"]


def test_a_body_over_the_cap_is_refused(served, run_aligner):
    from aligner.read.upstream import MAX_BYTES

    repo, server, url = served
    server.blobs[PATH] = b"# padding\n" * (MAX_BYTES // 10 + 1)
    result = run_aligner("lock", "--allow-insecure", cwd=repo)
    assert result.returncode == 2 and f"body larger than {MAX_BYTES} bytes" in result.stderr, result.stderr


@pytest.mark.parametrize("fault", ["reset", "500", "503", "truncate", "badjson", "delay:3"])
def test_passing_faults_are_retried(served, run_aligner, monkeypatch, fault):
    repo, server, url = served
    monkeypatch.setenv("ALIGNER_HTTP_TIMEOUT", "1")  # so that delay:3 is a timeout
    server.faults[PATH] = [fault, fault]
    result = run_aligner("lock", "--allow-insecure", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert server.hits[PATH] == 3 and "warning" not in result.stderr


def test_429_waits_as_long_as_retry_after_says(served, run_aligner):
    repo, server, url = served
    server.faults[PATH] = ["429:2"]
    start = time.monotonic()
    result = run_aligner("lock", "--allow-insecure", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - start >= 2 and server.hits[PATH] == 2


def test_retry_after_as_an_http_date_and_capped():
    import email.utils

    soon = email.utils.formatdate(time.time() + 5, usegmt=True)
    assert 3 <= fetch.retry_after(soon) <= 5
    assert fetch.retry_after("86400") == 60.0 and fetch.retry_after("soon") == 0.0


def test_a_persistent_fault_is_a_clear_error_within_the_deadline(served, run_aligner):
    repo, server, url = served
    server.faults[PATH] = ["500"] * 10
    start = time.monotonic()
    result = run_aligner("lock", "--allow-insecure", cwd=repo)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"error: {url}: HTTP 500 after 4 attempts" in result.stderr
    assert time.monotonic() - start < 30  # backoff 0.5 + 1 + 2 s
    assert not (repo / "lock" / "aligner.lock").exists()


def test_a_malformed_upstream_is_retried_then_refused_with_its_reason(served, run_aligner):
    repo, server, url = served
    server.blobs[PATH] = b'[project]\nname = "a"\nname = "b"\n'
    result = run_aligner("lock", "--allow-insecure", cwd=repo)
    assert result.returncode == 2 and server.hits[PATH] == 4
    assert "malformed response (invalid TOML: Cannot overwrite a value (at line 3" in result.stderr


def test_with_a_cached_copy_the_command_goes_on_and_says_how_old_it_is(served, run_aligner):
    repo, server, url = served
    assert run_aligner("lock", "--allow-insecure", cwd=repo).returncode == 0
    server.faults[PATH] = ["reset"] * 10
    result = run_aligner("lock", "--check", "--allow-insecure", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert f"warning: {url}: connection failed or reset after 4 attempts; using the upstream cached" in result.stderr
    assert " s ago" in result.stderr


def test_a_deadline_bounds_all_attempts_together():
    with Index() as server:
        server.blobs["/slow"] = b"x"
        server.delay["/slow"] = 2.0
        policy = fetch.Policy(timeout=(1.0, 1.0), attempts=10, backoff=0.1, deadline=2.5)
        start = time.monotonic()
        with pytest.raises(fetch.FetchError, match="timed out after"):
            fetch.get(requests.Session(), f"http://127.0.0.1:{server.server.server_address[1]}/slow", policy=policy)
        assert time.monotonic() - start < 6


def test_answers_keep_headers_case_insensitive():
    with Index() as server:
        server.blobs["/blob"] = b"0123456789"
        a = fetch.get(requests.Session(), f"http://127.0.0.1:{server.server.server_address[1]}/blob",
                      {"Range": "bytes=-4"})
        assert a.status_code == 206 and a.content == b"6789"
        assert a.headers["content-range"] == a.headers["Content-Range"] == "bytes 6-9/10"
