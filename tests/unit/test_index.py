"""The index client against a real HTTP index on 127.0.0.1, faults included."""

import json
import socket
import threading
from pathlib import Path

import pytest
from packaging.version import Version

from aligner.know import indexurl
from aligner.know.httpcache import HttpCache
from aligner.know.index import IndexClient, IndexFetchError, parse_project_page
from tests.support.pep691_server import Index, make_wheel

RECORDED = Path(__file__).parent.parent / "fixtures" / "index"
VLLM_META = (RECORDED / "vllm-0.10.2.METADATA").read_text()
SGLANG_META = (RECORDED / "sglang-0.5.5.post3.METADATA").read_text()


def client(index, tmp_path, **kw):
    kw.setdefault("backoff", 0.01)
    kw.setdefault("timeout", (2.0, 2.0))
    return IndexClient(index.url, cache=HttpCache(tmp_path / "cache"), **kw)


@pytest.fixture
def index():
    with Index() as idx:
        idx.add_file("vllm", "vllm-0.10.2-cp38-abi3-manylinux1_x86_64.whl", b"x" * 10, VLLM_META, "<3.14,>=3.9")
        idx.add_file("vllm", "vllm-0.10.2-cp38-abi3-manylinux2014_aarch64.whl", b"y" * 10, VLLM_META, "<3.14,>=3.9")
        idx.add_file("vllm", "vllm-0.10.2.tar.gz", b"z" * 10, None, "<3.14,>=3.9")
        idx.add_file("vllm", "vllm-0.9.0.tar.gz", b"z" * 10, None, ">=3.9")
        yield idx


def test_project_page_versions_and_platforms(index, tmp_path):
    project = client(index, tmp_path).project("vllm")
    assert [str(v) for v in project.versions()] == ["0.9.0", "0.10.2"]
    wheels = [f for f in project.files if f.is_wheel]
    assert sorted(p for f in wheels for p in f.wheel_platforms) == ["linux/amd64", "linux/arm64"]


def test_release_reads_pep658_metadata(index, tmp_path):
    c = client(index, tmp_path)
    rel = c.release(c.project("vllm"), Version("0.10.2"))
    assert rel.requires_python == "<3.14,>=3.9"
    assert 'flashinfer-python==0.3.0; extra == "flashinfer"' in rel.requires_dist
    assert "torch==2.8.0" in rel.requires_dist
    assert rel.platforms == ["linux/amd64", "linux/arm64"]


def test_sdist_only_release_has_unknown_requirements(index, tmp_path):
    c = client(index, tmp_path)
    rel = c.release(c.project("vllm"), Version("0.9.0"))
    assert rel.requires_dist is None and rel.platforms == [] and rel.requires_python == ">=3.9"


def test_metadata_read_from_the_wheel_by_ranges_when_no_metadata_file(tmp_path):
    wheel = make_wheel("sglang", "0.5.5.post3", SGLANG_META, padding=1_500_000)
    with Index() as idx:
        idx.add_file("sglang", "sglang-0.5.5.post3-py3-none-any.whl", wheel, None, ">=3.10")
        c = client(idx, tmp_path)
        rel = c.release(c.project("sglang"), Version("0.5.5.post3"))
        assert "torch==2.8.0" in rel.requires_dist and "flashinfer_python==0.5.2" in rel.requires_dist
        ranges = [h.get("Range") for h in idx.headers_seen["/files/sglang-0.5.5.post3-py3-none-any.whl"]]
        assert all(r and r.startswith("bytes=") for r in ranges)  # never the whole wheel
        assert len(ranges) <= 3
        # the second time, the cache answers
        before = sum(idx.hits.values())
        client(idx, tmp_path).release(c.project("sglang"), Version("0.5.5.post3"))
        assert sum(idx.hits.values()) == before + 1  # only the project page, revalidated


def test_html_page_fallback(tmp_path):
    body = ('<html><body><a href="../files/nixl-0.7.0-py3-none-manylinux_2_28_x86_64.whl#sha256=00" '
            'data-requires-python="&gt;=3.9">nixl-0.7.0-py3-none-manylinux_2_28_x86_64.whl</a></body></html>')
    project = parse_project_page("nixl", "http://127.0.0.1/simple/nixl/", body, "text/html")
    (f,) = project.files
    assert (str(f.version), f.requires_python, f.wheel_platforms) == ("0.7.0", ">=3.9", ("linux/amd64",))
    assert f.url == "http://127.0.0.1/simple/files/nixl-0.7.0-py3-none-manylinux_2_28_x86_64.whl"


@pytest.mark.parametrize("fault", ["500", "reset", "truncate", "badjson", "delay:3"])
def test_passing_faults_are_retried(index, tmp_path, fault):
    index.faults["/simple/vllm/"] = [fault, fault]
    c = client(index, tmp_path, timeout=(1.0, 1.0))
    assert [str(v) for v in c.project("vllm").versions()] == ["0.9.0", "0.10.2"]
    assert index.hits["/simple/vllm/"] == 3


def test_429_waits_as_long_as_retry_after_says(index, tmp_path):
    index.faults["/simple/vllm/"] = ["429:2"]
    slept = []
    c = client(index, tmp_path, sleep=slept.append)
    c.project("vllm")
    assert slept and slept[0] >= 2


def test_persistent_fault_is_a_clear_error(index, tmp_path):
    index.faults["/simple/vllm/"] = ["500"] * 10
    with pytest.raises(IndexFetchError, match=r"/simple/vllm/: HTTP 500 after 4 attempts"):
        client(index, tmp_path).project("vllm")


def test_stale_cache_is_used_with_a_warning_when_the_index_fails(index, tmp_path):
    client(index, tmp_path).project("vllm")
    index.faults["/simple/vllm/"] = ["500"] * 10
    c = client(index, tmp_path, max_age=0)
    assert [str(v) for v in c.project("vllm").versions()] == ["0.9.0", "0.10.2"]
    assert c.warnings and "using data cached" in c.warnings[0]


def test_revalidation_with_etag(index, tmp_path):
    client(index, tmp_path).project("vllm")
    c = client(index, tmp_path, max_age=0)
    c.project("vllm")
    second = index.headers_seen["/simple/vllm/"][1]
    assert second.get("If-None-Match", "").startswith('"')
    assert second.get("If-Modified-Since") == "Mon, 24 Nov 2025 10:00:00 GMT"


def test_fresh_cache_makes_no_request_and_metadata_is_never_refetched(index, tmp_path):
    c = client(index, tmp_path)
    c.release(c.project("vllm"), Version("0.10.2"))
    hits = dict(index.hits)
    c2 = client(index, tmp_path, max_age=0)
    c2.release(c2.project("vllm"), Version("0.10.2"))
    meta = "/files/vllm-0.10.2-cp38-abi3-manylinux1_x86_64.whl.metadata"
    assert index.hits[meta] == hits[meta] == 1
    c3 = client(index, tmp_path)  # within max_age: no request at all
    c3.project("vllm")
    assert index.hits["/simple/vllm/"] == 2


def test_corrupt_cache_entry_is_discarded_and_refetched(index, tmp_path):
    client(index, tmp_path).project("vllm")
    for path in (tmp_path / "cache").rglob("*.json"):
        path.write_text("{ truncated")
    assert [str(v) for v in client(index, tmp_path).project("vllm").versions()] == ["0.9.0", "0.10.2"]
    for path in (tmp_path / "cache").rglob("*.json"):
        json.loads(path.read_text())


class Together:
    """A server hold that lets no request through until `n` of them are open at the same moment.

    Requests wait (each in its own handler thread) until the n-th arrives, which releases them all;
    from then on nobody waits. A client that never has n requests open together cannot open the gate:
    the first request gives up after `timeout` seconds, the gate is marked `gave_up` and stays shut
    (later requests pass without waiting, so the test fails fast on `reached`, not on a hang)."""

    def __init__(self, n: int, timeout: float):
        self.n, self.timeout = n, timeout
        self.waiting = 0
        self.most_waiting = 0
        self.reached = False
        self.gave_up = False
        self.cond = threading.Condition()

    def __call__(self, path: str) -> None:
        if not path.endswith(".metadata"):
            return
        with self.cond:
            if self.reached or self.gave_up:
                return
            self.waiting += 1
            self.most_waiting = max(self.most_waiting, self.waiting)
            if self.waiting >= self.n:
                self.reached = True
                self.cond.notify_all()
            elif not self.cond.wait_for(lambda: self.reached or self.gave_up, timeout=self.timeout):
                self.gave_up = True
                self.cond.notify_all()
            self.waiting -= 1


def test_concurrency_is_bounded_and_parallel(tmp_path):
    with Index() as idx:
        for n in range(12):
            name = f"vllm-0.{n}.0-py3-none-any.whl"
            idx.add_file("vllm", name, b"w", VLLM_META.replace("0.10.2", f"0.{n}.0"))
            idx.delay[f"/files/{name}.metadata"] = 0.3  # each stays open a while: a 5th worker would overlap
        gate = Together(4, timeout=10)
        idx.hold = gate
        # the read timeout outlasts the gate's, so no client retry muddles what the gate saw
        c = client(idx, tmp_path, workers=4, timeout=(2.0, 30.0))
        project = c.project("vllm")
        found = c.releases(project, project.versions())
        assert len(found) == 12
        # parallel: 4 metadata requests were open at once (nothing passed the gate before that)
        assert gate.reached, "the client never had 4 metadata requests open together"
        assert gate.most_waiting == 4
        assert idx.max_in_flight == 4  # bounded: never a 5th
        assert all(idx.hits[f"/files/vllm-0.{n}.0-py3-none-any.whl.metadata"] == 1 for n in range(12))


def test_offline_never_opens_a_socket(index, tmp_path, monkeypatch):
    c = client(index, tmp_path)
    c.release(c.project("vllm"), Version("0.10.2"))

    def no_socket(*a, **k):
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket, "socket", no_socket)
    monkeypatch.setattr(socket, "create_connection", no_socket)
    off = client(index, tmp_path, offline=True, max_age=0)
    rel = off.release(off.project("vllm"), Version("0.10.2"))
    assert "torch==2.8.0" in rel.requires_dist
    with pytest.raises(IndexFetchError, match="offline mode"):
        off.project("sglang")


def test_index_url_from_environment_and_pip_config(tmp_path, monkeypatch):
    for var in ("PIP_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX_URL", "PIP_CONFIG_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "none"))
    monkeypatch.setattr(indexurl, "pip_config_files", lambda: [tmp_path / "cfg" / "pip" / "pip.conf"])
    from pip._internal.models.index import PyPI

    assert indexurl.resolve() == (PyPI.simple_url, "pip's default")
    conf = tmp_path / "cfg" / "pip" / "pip.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("[global]\nindex-url = http://127.0.0.1:9/simple\n")
    assert indexurl.resolve()[0] == "http://127.0.0.1:9/simple"
    monkeypatch.setenv("UV_DEFAULT_INDEX", "http://127.0.0.1:8/simple")
    assert indexurl.resolve() == ("http://127.0.0.1:8/simple", "UV_DEFAULT_INDEX")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:7/simple")
    assert indexurl.resolve() == ("http://127.0.0.1:7/simple", "PIP_INDEX_URL")
    assert indexurl.resolve("http://127.0.0.1:6/simple") == ("http://127.0.0.1:6/simple", "--index-url")


def test_non_http_index_is_refused(tmp_path):
    with pytest.raises(IndexFetchError, match="not http"):
        IndexClient("file:///somewhere/simple", cache=HttpCache(tmp_path))


def test_two_processes_filling_one_cache(index, tmp_path):
    import subprocess
    import sys

    code = ("import sys; from aligner.know.index import IndexClient; from aligner.know.httpcache import HttpCache; "
            "from packaging.version import Version; c = IndexClient(sys.argv[1], cache=HttpCache(sys.argv[2]), max_age=0); "
            "[c.release(c.project('vllm'), Version('0.10.2')) for _ in range(20)]")
    procs = [subprocess.Popen([sys.executable, "-c", code, index.url, str(tmp_path / "cache")]) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    entries = list((tmp_path / "cache").rglob("*.json"))
    assert entries and all(json.loads(p.read_text())["url"] for p in entries)
    assert not [p for p in (tmp_path / "cache").rglob("*.tmp")]
