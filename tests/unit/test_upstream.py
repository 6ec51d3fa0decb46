"""Reading an upstream pyproject: extras, extras-of-extras, and clear errors."""

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from aligner.read import upstream
from aligner.base.errors import InputError

DYNAMO = Path(__file__).parent.parent / "fixtures" / "repos" / "dynamo" / "upstream" / "pyproject.toml"


def test_reads_extras_and_expands_extras_of_extras():
    up = upstream.load(str(DYNAMO))
    assert up.name == "ai-dynamo" and up.requires_python == ">=3.9,<3.13"
    names = lambda reqs: sorted(str(r) for r in reqs)
    vllm = names(up.requirements("vllm"))
    assert "vllm[flashinfer]==0.10.2" in vllm and "nixl<=0.7.0" in vllm
    everything = names(up.requirements("all"))
    assert set(vllm) | set(names(up.requirements("trtllm"))) == set(everything)
    with pytest.raises(KeyError):
        up.requirements("nope")


@pytest.mark.parametrize("text,message", [
    ("[project\nname = 'x'\n", "invalid TOML"),
    ("[tool.x]\na = 1\n", "no [project] table"),
    ("[project]\ndependencies = ['vllm ==> 1']\n", "bad requirement"),
    ("[project]\noptional-dependencies = 3\n", "must be a table"),
])
def test_bad_files(tmp_path, text, message):
    p = tmp_path / "pyproject.toml"
    p.write_text(text)
    with pytest.raises(InputError, match=re.escape(message)) as err:
        upstream.load(str(p))
    assert err.value.path == str(p)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        upstream.load(str(tmp_path / "pyproject.toml"))


class _Server:
    def __init__(self, routes):
        routes_ = routes

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                code, headers, body = routes_(self.path)
                self.send_response(code)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    body = DYNAMO.read_bytes()

    def routes(path):
        if path == "/ok":
            return 200, {}, body
        if path == "/loop":
            return 302, {"Location": "/loop"}, b""
        if path == "/big":
            return 200, {}, b"#" * (upstream.MAX_BYTES + 10)
        return 404, {}, b"no"

    s = _Server(routes)
    yield s
    s.close()


def test_url_reads_with_allow_insecure_and_refuses_plain_http_otherwise(server):
    with pytest.raises(InputError, match="refusing a plain http"):
        upstream.load(server.url + "/ok")
    assert upstream.load(server.url + "/ok", allow_insecure=True).name == "ai-dynamo"


@pytest.mark.parametrize("path,message", [("/missing", r"not found \(404\)"), ("/loop", "redirect loop"),
                                          ("/big", "larger than")])
def test_url_faults(server, path, message):
    with pytest.raises(InputError, match=message):
        upstream.load(server.url + path, allow_insecure=True)


def snapshot_release(project, version=None):
    import json

    from aligner.know.snapshot import default_dir
    from packaging.version import Version

    releases = json.loads((default_dir() / f"{project}.json").read_text())["releases"]
    if version is None:
        return max((r for r in releases if not Version(r["version"]).is_prerelease), key=lambda r: Version(r["version"]))
    return next(r for r in releases if r["version"] == version)


def test_a_release_as_upstream_reads_its_metadata_from_the_snapshot():
    rel = snapshot_release("ai-dynamo")
    up = upstream.load(f"ai-dynamo=={rel['version']}")
    assert (up.name, up.version, up.requires_python) == ("ai-dynamo", rel["version"], rel["requires-python"])
    # what the metadata says, read here by splitting each line at its `; extra == "X"` marker
    want = {}
    for line in rel["requires-dist"]:
        m = re.fullmatch(r'(.*?); extra == "([^"]+)"', line)
        want.setdefault(m.group(2) if m else None, set()).add(m.group(1) if m else line)
    assert sorted(up.extras) == sorted(k for k in want if k)
    for extra in up.extras:
        got = {str(r) for r in up.requirements(extra)}
        own = f"ai-dynamo=={rel['version']}"  # the release pins itself: an image following it installs it
        assert got == want[extra] | want.get(None, set()) | {own}, extra
    assert "ai-dynamo" in up.location("vllm") and rel["version"] in up.location("vllm")


def test_a_release_missing_from_the_snapshot_is_a_clear_error():
    with pytest.raises(InputError, match=r"ai-dynamo 0\.0\.1 is not in the snapshot.*rules refresh --project ai-dynamo"):
        upstream.load("ai-dynamo==0.0.1")
    assert not upstream.is_release("upstream/pyproject.toml") and not upstream.is_release("https://x/p.toml")


def test_this_repo_follows_the_newest_dynamo_release_with_one_image_per_extra():
    from aligner.read import config

    cfg = config.load(Path(__file__).resolve().parent.parent.parent / "pyproject.toml")
    rel = snapshot_release("ai-dynamo")
    assert cfg.upstream == f"ai-dynamo=={rel['version']}"
    extras = {m.group(1) for line in rel["requires-dist"] for m in [re.search(r'extra == "([^"]+)"', line)] if m}
    assert sorted(i.extra for i in cfg.images.values()) == sorted(extras)
    assert all(set(i.platforms) == {"linux/amd64", "linux/arm64"} and set(i.gpus) == {"H100", "GB10"}
               for i in cfg.images.values())
